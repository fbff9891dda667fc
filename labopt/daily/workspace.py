"""A province workspace on disk: the static province, the dated records and the plans.

Each part is a labopt output folder of its own (written whole or not at all, see
labopt.files): ``province/`` a scenario folder, ``records/`` the records (every upload kept),
``plans/YYYY-MM-DD/`` a morning's plan. The workspace's first date is the province scenario's
start date: its labs' reagent stock and its backlog are the state at the start of that day.
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
from labopt.daily.province import check_carried, first_records, static_part
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
from labopt.files import read_marker, write_output_folder
from labopt.scenario.io import load_scenario, save_folder
from labopt.scenario.model import Scenario

INFO = "workspace.json"
WITHDRAWN = "withdrawn.csv"  # in records/: unit- or lab-days withdrawn, which upload, when
WITHDRAWN_COLUMNS = ["kind", "date", "scope", UPLOAD, RECORDED_AT]
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

    def records(self) -> Records:
        w = self.withdrawn()
        return Records(
            **{kind: current(self.history(kind), kind, _withdrawn_of(w, kind)) for kind in RECORDS}
        )

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
    and the backlog are the state at its start date. Scenarios with reagent shipments or
    collection kits are refused (not carried from day to day yet)."""
    if (Path(path) / INFO).exists():
        raise InputError(
            f"workspace: {path} is a workspace already; its records would be lost. Plan from "
            f"it with `labopt day plan`, or start a new one in another folder",
            "workspace",
        )
    check_carried(scn)
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
