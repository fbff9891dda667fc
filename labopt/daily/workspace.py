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

    def records(self) -> Records:
        return Records(**{kind: current(self.history(kind), kind) for kind in RECORDS})

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
            before = current(old, kind)
            covered = pd.MultiIndex.from_frame(rows[scope].drop_duplicates())
            replaced = int(pd.MultiIndex.from_frame(before[scope]).isin(covered).sum())
            new = rows.assign(**{UPLOAD: upload, RECORDED_AT: stamp})
            histories[kind] = new if old.empty else pd.concat([old, new], ignore_index=True)
            _write_records(self.path / "records", histories)
        return Upload(rows, upload, replaced)


def _write_records(folder: Path, histories: dict[str, pd.DataFrame]) -> None:
    files = {f"{kind}.csv": _csv_writer(df) for kind, df in histories.items()}
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
