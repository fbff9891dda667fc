"""A province workspace on disk: the static province, the dated records and the plans.

Each part is a labopt output folder of its own (written whole or not at all, see
labopt.files): ``province/`` a scenario folder, ``records/`` the records (every upload kept),
``plans/YYYY-MM-DD/`` a morning's plan. The workspace's first date is the province scenario's
start date: its labs' reagent stock and its backlog are the state at the start of that day.

The static province is versioned: :meth:`Workspace.replace_province` keeps the one it replaces
as ``province-versions/N/`` (N its version) and applies from the next plan on.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from filelock import FileLock

from labopt.cells import restore_frame, write_csv
from labopt.daily.province import (
    first_records,
    routes_changed,
    static_part,
    unfit,
)
from labopt.daily.records import (
    RECORDED_AT,
    RECORDS,
    SCOPE,
    UPLOAD,
    Records,
    check_records,
    current,
)
from labopt.errors import InputError
from labopt.files import read_marker, write_output_file, write_output_folder
from labopt.scenario.io import load_scenario, save_folder
from labopt.scenario.model import Scenario

INFO = "workspace.json"
WITHDRAWN = "withdrawn.csv"  # in records/: unit- or lab-days withdrawn, which upload, when
WITHDRAWN_COLUMNS = ["kind", "date", "scope", UPLOAD, RECORDED_AT]
VERSIONS = "province-versions"  # the static provinces replaced, one folder per version
NOT_APPLIED_COLUMNS = ["kind", "date", "scope", "why"]
LOCK = ".records.lock"
KIND = "workspace"


@dataclass(frozen=True)
class Upload:
    """One upload recorded: its rows, its number, and how many current rows it replaced (the
    earlier records of the lab-days or unit-days it covers)."""

    rows: pd.DataFrame
    number: int
    replaced: int


class Workspace:
    """An open workspace: its folder, the static province and the record history."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        info = self.path / INFO
        if not info.is_file() or read_marker(self.path) is None:
            raise InputError(
                f"workspace: {self.path} is not a labopt workspace (no {INFO}); make one with "
                f"`labopt day init {self.path} --from SCENARIO`",
                "workspace",
            )
        self.province: Scenario = load_scenario(self.path / "province")
        self.first: dt.date = self.province.province.start_date
        self.info: dict = json.loads(info.read_text(encoding="utf-8"))
        self.version: int = int(self.info.get("province_version", 1))

    # ------------------------------------------------------------------ records
    def history(self, kind: str) -> pd.DataFrame:
        """Every upload of ``kind`` (with upload and recorded_at)."""
        table = RECORDS[kind]
        f = self.path / "records" / f"{kind}.csv"
        cols = [*table.column_names, UPLOAD, RECORDED_AT]
        if not f.is_file():
            return pd.DataFrame(columns=cols)
        text = {c.name: str for c in table.columns if c.kind in ("str", "date")}
        try:
            df = pd.read_csv(
                f, dtype={**text, RECORDED_AT: str}, keep_default_na=False, na_values={}
            )
            df = restore_frame(df)
            for c in table.columns:
                if c.kind in ("int", "float"):
                    df[c.name] = pd.to_numeric(df[c.name].replace("", np.nan), errors="raise")
            df[UPLOAD] = pd.to_numeric(df[UPLOAD], errors="raise")
            return df[cols]
        except (ValueError, KeyError, pd.errors.ParserError) as exc:
            raise InputError(
                f"workspace: {f} is not as labopt wrote it ({exc}); restore it from a backup "
                f"(labopt never edits a record, it only adds uploads)",
                "workspace",
            ) from None

    def withdrawn(self) -> pd.DataFrame:
        """The unit- or lab-days withdrawn (WITHDRAWN_COLUMNS)."""
        f = self.path / "records" / WITHDRAWN
        if not f.is_file():
            return pd.DataFrame(columns=WITHDRAWN_COLUMNS)
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        return df.assign(**{UPLOAD: pd.to_numeric(df[UPLOAD])})[WITHDRAWN_COLUMNS]

    def _current(self, kind: str, withdrawn: pd.DataFrame) -> pd.DataFrame:
        return current(self.history(kind), kind, _withdrawn_of(withdrawn, kind))

    def records(self) -> Records:
        """The current records that fit the province (records of a unit, lab or stream that a
        replaced province no longer has stay in the history and are left out)."""
        w = self.withdrawn()
        out = {}
        for kind in RECORDS:
            rows = self._current(kind, w)
            out[kind] = rows[(unfit(self.province, kind, rows) == "").to_numpy()].reset_index(
                drop=True
            )
        return Records(**out)

    def not_applied(self) -> pd.DataFrame:
        """The current records left out because the province no longer has their unit, lab
        or stream (NOT_APPLIED_COLUMNS; scope: the unit or lab)."""
        w = self.withdrawn()
        parts = []
        for kind in RECORDS:
            rows = self._current(kind, w)
            why = unfit(self.province, kind, rows)
            bad = rows[(why != "").to_numpy()]
            if len(bad):
                scope = SCOPE[kind][1]
                parts.append(
                    pd.DataFrame(
                        {
                            "kind": kind,
                            "date": bad["date"].astype(str),
                            "scope": bad[scope].astype(str),
                            "why": why[why != ""].to_numpy(),
                        }
                    )
                )
        if not parts:
            return pd.DataFrame(columns=NOT_APPLIED_COLUMNS)
        return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)

    def replace_province(
        self, scn: Scenario, reads: tuple[str | os.PathLike, ...] = ()
    ) -> pd.DataFrame:
        """Make ``scn``'s static part the province from the next plan on (a lab opened, a
        unit's travel changed); the one it replaces is kept as ``province-versions/N/``. Its
        start date must be the workspace's first date and the state there (labs' reagent
        stock, backlog) must not change, since every day after it was carried from it; its
        dated tables are not taken (they are records: ``labopt day record``). Returns the
        current records the new province leaves out (:meth:`not_applied`)."""
        old = self.version
        here = self.path.resolve()
        for given in reads:
            src = Path(given).resolve()
            if src == here or here in src.parents or src in here.parents:
                raise InputError(
                    f"--from: {given} {'holds' if src in here.parents else 'lies inside'} the "
                    f"workspace {self.path}, which this command writes; copy the scenario to a "
                    f"folder outside the workspace first",
                    "--from",
                )
        with FileLock(self.path / LOCK):
            records = self.records()
            problems = _state_changes(self.province, scn, self.first, records)
            moved = routes_changed(self.province, scn, records)
            if moved:
                problems.append(
                    "shipments already recorded would change: "
                    + "; ".join(moved)
                    + " (keep the route and its lead time, unused from now on; to close a "
                    "lab, record its availability as 0)"
                )
            if problems:
                raise InputError("province: " + "; ".join(problems), "province")
            save_folder(
                self.province,
                self.path / VERSIONS / str(old),
                what=f"{VERSIONS}/{old}",
                reads=reads,
            )
            save_folder(
                static_part(scn), self.path / "province", what="workspace province", reads=reads
            )
            info = self.info | {
                "province_version": old + 1,
                "province_replaced_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
            text = json.dumps(info, ensure_ascii=False, indent=1)
            write_output_file(
                self.path / INFO,
                lambda p: p.write_text(text, encoding="utf-8"),
                force=True,
                what=INFO,
                reads=reads,
            )
            self.province, self.info, self.version = static_part(scn), info, old + 1
        return self.not_applied()

    def withdraw(self, kind: str, date: dt.date, code: str, now: dt.datetime | None = None) -> int:
        """Withdraw the current upload of a unit's or lab's day (recorded for the wrong date):
        the day then has no record; the upload stays in the history. The rows withdrawn."""
        if kind not in RECORDS:
            raise InputError(f"kind: one of {', '.join(RECORDS)}; got {kind!r}", "kind")
        scope = list(SCOPE[kind])
        stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        with FileLock(self.path / LOCK):
            histories = {k: self.history(k) for k in RECORDS}
            w = self.withdrawn()
            h = histories[kind]
            group = h[(h[scope[0]] == date.isoformat()) & (h[scope[1]] == code)]
            if group.empty:
                raise InputError(f"no {kind} record of {code} for {date} to withdraw", "date")
            upload = int(group[UPLOAD].max())
            if (date.isoformat(), code, upload) in _withdrawn_of(w, kind):
                raise InputError(f"the {kind} record of {code} for {date} is withdrawn already")
            row = {"kind": kind, "date": date.isoformat(), "scope": code, UPLOAD: upload}
            w = pd.concat([w, pd.DataFrame([row | {RECORDED_AT: stamp}])], ignore_index=True)
            _write_records(self.path / "records", histories, w)
        return int((group[UPLOAD] == upload).sum())

    def record(
        self,
        kind: str,
        raw: pd.DataFrame,
        source: str,
        date: dt.date | None = None,
        now: dt.datetime | None = None,
    ) -> Upload:
        """Check one upload and add it to the history (all rows or none)."""
        rows = check_records(kind, raw, source, self.province, self.first, date)
        stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        scope = list(SCOPE[kind])
        # one upload at a time: each reads every history and writes them back whole
        with FileLock(self.path / LOCK):
            histories = {k: self.history(k) for k in RECORDS}
            old = histories[kind]
            upload = int(old[UPLOAD].max()) + 1 if len(old) else 1
            before = current(old, kind, _withdrawn_of(self.withdrawn(), kind))
            covered = pd.MultiIndex.from_frame(rows[scope].drop_duplicates())
            replaced = int(pd.MultiIndex.from_frame(before[scope]).isin(covered).sum())
            new = rows.assign(**{UPLOAD: upload, RECORDED_AT: stamp})
            histories[kind] = new if old.empty else pd.concat([old, new], ignore_index=True)
            _write_records(self.path / "records", histories, self.withdrawn())
        return Upload(rows, upload, replaced)


def _state_changes(old: Scenario, new: Scenario, first: dt.date, records: Records) -> list[str]:
    """What a new province would change of the state at the workspace's first date."""
    out = []
    if new.province.start_date != first:
        out.append(
            f"its start date is {new.province.start_date}, the workspace's first date is "
            f"{first}; the state is carried from that date, so they must be the same (set "
            f"start_date = {first} in its scenario.toml, or start a new workspace from "
            f"{new.province.start_date} with `labopt day init`)"
        )
    stock = {lab.id: lab.reagent_stock for lab in old.labs}
    for lab in new.labs:
        if lab.id in stock and lab.reagent_stock != stock[lab.id]:
            out.append(
                f"lab {lab.id}'s reagent_stock is {lab.reagent_stock:,}, the workspace's is "
                f"{stock[lab.id]:,} at its first date {first}; a count on the shelf is a "
                f"record (`labopt day record WS reagent` with a counted column)"
            )
    held = dict(zip(old.stores["id"], old.stores["reagent_stock"], strict=True))
    for store, n in zip(new.stores["id"], new.stores["reagent_stock"], strict=True):
        if store in held and int(n) != int(held[store]):
            out.append(
                f"store {store}'s reagent_stock is {int(n):,}, the workspace's is "
                f"{int(held[store]):,} at its first date {first}"
            )
    # the kits at the first date carry every day after it, like the reagent stock
    kept = {d.code for d in new.districts} | set(new.stores["id"])
    kits_old, kits_new = (
        {str(h): int(k) for h, k in zip(t["holder"], t["kits"], strict=True) if h in kept}
        for t in (old.kits, new.kits)
    )
    changed = sorted(h for h in kits_old.keys() & kits_new.keys() if kits_old[h] != kits_new[h])
    if changed:
        out.append(
            f"its kits table gives other kits at the first date {first} to "
            f"{', '.join(changed)}; a count of kits is a record (`labopt day record WS "
            f"kit_counts`)"
        )
    named = (
        set(records.kit_shipments["source"])
        | set(records.kit_shipments["target"])
        | set(records.kit_arrivals["holder"])
        | set(records.kit_counts["holder"])
    )
    dropped = sorted((kits_old.keys() - kits_new.keys()) & named)
    if dropped:
        out.append(
            f"its kits table leaves out {', '.join(dropped)}, which kit records name; keep "
            f"their rows (a holder's kits carry every day after the first date)"
        )
    # units in both keep their backlog; a unit added had nothing waiting at the first date
    key = ["district", "stream", "age_days"]
    units = {d.code for d in new.districts}
    a, b = (
        t[t["district"].isin(units)].sort_values(key).reset_index(drop=True)[[*key, "samples"]]
        for t in (old.backlog, new.backlog)
    )
    if not a.astype(str).equals(b.astype(str)):
        out.append(
            f"its backlog differs from the workspace's (samples waiting at the start of "
            f"{first}); keep backlog.csv as it is in the workspace's province/ (a unit added "
            f"has none)"
        )
    return out


def _withdrawn_of(withdrawn: pd.DataFrame, kind: str) -> set[tuple[str, str, int]]:
    w = withdrawn[withdrawn["kind"] == kind]
    return set(zip(w["date"], w["scope"], w[UPLOAD].astype(int), strict=True))


def _write_records(
    folder: Path, histories: dict[str, pd.DataFrame], withdrawn: pd.DataFrame | None = None
) -> None:
    files = {f"{kind}.csv": _csv_writer(df) for kind, df in histories.items()}
    if withdrawn is not None and len(withdrawn):
        files[WITHDRAWN] = _csv_writer(withdrawn)
    write_output_folder(folder, files, kind="records", what="workspace records")


def _csv_writer(df: pd.DataFrame):
    return lambda path: write_csv(df, path)


def create(
    path: str | os.PathLike,
    scn: Scenario,
    *,
    force: bool = False,
    reads: tuple[str | os.PathLike, ...] = (),
    now: dt.datetime | None = None,
) -> Workspace:
    """A new workspace for the province of ``scn``: its static part in ``province/``, its
    demand and deliveries as the first records (dated from its start date); the labs' stock
    and the backlog are the state at its start date."""
    if (Path(path) / INFO).exists():
        raise InputError(
            f"workspace: {path} is a workspace already; its records would be lost. Plan from "
            f"it with `labopt day plan`, or start a new one in another folder",
            "workspace",
        )
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    histories = {
        kind: df.assign(**{UPLOAD: 1, RECORDED_AT: stamp})
        if len(df)
        else pd.DataFrame(columns=[*RECORDS[kind].column_names, UPLOAD, RECORDED_AT])
        for kind, df in first_records(scn).items()
    }
    info = {
        "written_by": "labopt",
        "province": scn.province.name,
        "first_date": scn.province.start_date.isoformat(),
        "created_at": stamp,
    }

    def write_info(p: Path) -> None:
        p.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")

    write_output_folder(
        path,
        {
            INFO: write_info,
            "province": lambda p: save_folder(static_part(scn), p, what="workspace province"),
            "records": lambda p: _write_records(p, histories),
        },
        force=force,
        kind=KIND,
        what="workspace",
        reads=reads,
    )
    return Workspace(path)
