"""PCR results of a run, per well or per pool: positive, negative or invalid, optional Ct.

A results table has a ``result`` column and either

- ``plate`` and ``well`` (as in ``plates.csv``; control wells may be included), or
- ``pool_id`` (optionally with ``run``; without it a result belongs to the latest run that
  had the pool on a plate), or
- ``sample_id``, for individual tests: the result of the sample's own test (its last pool),

and optionally ``ct`` (cycle threshold, a number in (0, 60]; blank when none). Results are
``positive``, ``negative`` or ``invalid``; ``pos``/``neg``/``inv``, ``+``/``-``,
``detected``/``not detected``, ``failed`` and the Vietnamese ``dương tính``/``âm tính``/
``không hợp lệ`` are accepted too (any case).

**Controls.** A positive control must test positive and a negative control or extraction
blank negative. When a plate's control fails (or is invalid), every reaction on that plate in
the same table is treated as invalid and will be repeated; the notes say so.

Every problem (unknown pool, plate or well, a well without a reaction, a pool that was not on
that run's plates, a duplicate pool or well, a bad result or Ct) is reported with its row,
and nothing of the table is used.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from labopt.cells import write_csv
from labopt.lab.tables import (
    Problems,
    clean_text,
    duplicated_rows,
    parse_numbers,
    read_table,
    sheet_rows,
)
from labopt.notes import Note

NONE, NEGATIVE, POSITIVE, INVALID = 0, 1, 2, 3
OUTCOMES = ("", "negative", "positive", "invalid")
CT_MAX = 60.0

_ALIASES = {
    "positive": POSITIVE,
    "pos": POSITIVE,
    "+": POSITIVE,
    "p": POSITIVE,
    "detected": POSITIVE,
    "duong tinh": POSITIVE,
    "duong": POSITIVE,
    "negative": NEGATIVE,
    "neg": NEGATIVE,
    "-": NEGATIVE,
    "n": NEGATIVE,
    "not detected": NEGATIVE,
    "am tinh": NEGATIVE,
    "am": NEGATIVE,
    "invalid": INVALID,
    "inv": INVALID,
    "failed": INVALID,
    "fail": INVALID,
    "error": INVALID,
    "khong hop le": INVALID,
}
_EXPECTED_CONTROL = {
    "positive_control": POSITIVE,
    "negative_control": NEGATIVE,
    "extraction_blank": NEGATIVE,
}


def _fold(text: str) -> str:
    """Lower case without diacritics ('Dương tính' -> 'duong tinh')."""
    text = unicodedata.normalize("NFKD", text.strip().lower().replace("đ", "d"))
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


def parse_outcomes(values: pd.Series, problems: Problems, column: str = "result") -> np.ndarray:
    """Outcome codes from result words; one problem per unreadable row."""
    uniq, inv = np.unique(clean_text(values).astype(str), return_inverse=True)
    codes = np.array([_ALIASES.get(_fold(u), -1) for u in uniq], dtype=np.int8)
    out = codes[inv.ravel()] if uniq.size else np.zeros(0, dtype=np.int8)
    problems.add_rows(
        out < 0,
        sheet_rows(len(values)),
        values.to_numpy(),
        column,
        "not a result; allowed: positive, negative, invalid",
    )
    return out


@dataclass(frozen=True)
class ResultRows:
    """Validated pool results of one table, in table order.

    Attributes
    ----------
    pool : numpy.ndarray of int     pool index in the manifest
    run : numpy.ndarray of int      run the reaction belongs to
    outcome : numpy.ndarray of int  NEGATIVE, POSITIVE or INVALID
    ct : numpy.ndarray of float     cycles (NaN: not given)
    row : numpy.ndarray of int      spreadsheet row in the source table
    notes : list of str             failed controls and what they invalidated
    """

    pool: np.ndarray
    run: np.ndarray
    outcome: np.ndarray
    ct: np.ndarray
    row: np.ndarray
    source: str = "results"
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.pool.size)


RESULT_COLUMNS = (["result", "pool_id|well|sample_id"], ["plate", "ct", "run"])


def read_results(path: str | os.PathLike, data: bytes | None = None) -> pd.DataFrame:
    """A results CSV (or XLSX workbook) as text columns (see the module docstring for the
    columns). ``data``: the file's bytes, for an upload."""
    return read_table(path, *RESULT_COLUMNS, data=data)


def ingest_results(
    table: pd.DataFrame, manifest, plates: pd.DataFrame, source: str = "results"
) -> ResultRows:
    """Check a results table against the batch's manifest and plates.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns as in the module docstring (text or numbers).
    manifest : Manifest
    plates : pandas.DataFrame
        Every run's layout so far (``layout_plates`` rows of all runs): what was run where.
    source : str
        Named in errors (the file name).

    Returns
    -------
    ResultRows

    Raises
    ------
    LabInputError
        With every problem found (row, column, value, what is allowed).
    """
    problems = Problems(source)
    df = table.copy()
    df.columns = [str(c).strip().lower() for c in df.columns]
    for c in df.columns:
        df[c] = clean_text(df[c])
    cols = set(df.columns)
    if "result" not in cols or not (
        {"pool_id"} <= cols or {"plate", "well"} <= cols or {"sample_id"} <= cols
    ):
        problems.add(
            f"expected columns 'result' and either 'pool_id', 'plate' and 'well', or "
            f"'sample_id' (optional: 'ct', 'run'); the table has "
            f"{', '.join(map(repr, df.columns)) or 'no columns'}"
        )
        problems.raise_if_any()
    if not ({"plate", "well"} <= cols or "pool_id" in cols):
        df["pool_id"] = _individual_tests(df["sample_id"], manifest, problems)
    n = len(df)
    rows = sheet_rows(n)
    if n == 0:
        problems.add("no results in the table")
        problems.raise_if_any()
    outcome = parse_outcomes(df["result"], problems)
    ct = (
        parse_numbers(
            df["ct"],
            problems,
            "ct",
            low=0.0,
            high=CT_MAX,
            blank_ok=True,
            low_open=True,
            what="a Ct value (cycles)",
        )
        if "ct" in df.columns
        else np.full(n, np.nan)
    )
    by_well = {"plate", "well"} <= set(df.columns)
    if by_well:
        df["well"] = df["well"].str.upper()
    notes: list[str] = []
    if by_well:
        pool, run, is_control, content, plate_of, known = _by_well(df, plates, manifest, problems)
        duplicated_rows(df[["plate", "well"]], problems, "plate/well", "well")
    else:
        pool, run, known = _by_pool(df, plates, manifest, problems)
        is_control = np.zeros(n, dtype=bool)
    keep = ~is_control
    checked = keep & known
    key = pd.DataFrame(
        {"run": run[checked], "pool_id": manifest.pool_id[pool[checked]]},
        index=np.flatnonzero(checked),
    )
    _duplicate_pools(key, rows, problems)
    problems.raise_if_any()
    if by_well:
        failed = _failed_plates(outcome, is_control, content, plate_of, rows)
        if failed:
            hit = np.isin(plate_of, list(failed)) & ~is_control
            outcome = np.where(hit, INVALID, outcome).astype(np.int8)
            for plate, why in failed.items():
                k = int((plate_of[~is_control] == plate).sum())
                notes.append(Note("labopt.lab.words:TEXT", "failed_plate", plate=plate, k=k, **why))
    return ResultRows(
        pool=pool[keep],
        run=run[keep],
        outcome=outcome[keep],
        ct=ct[keep],
        row=rows[keep],
        source=source,
        notes=notes,
    )


def _duplicate_pools(key: pd.DataFrame, rows: np.ndarray, problems: Problems) -> None:
    dup = key.duplicated(keep=False).to_numpy()
    seen: dict = {}
    for i, (r, pid) in zip(key.index[dup], key[dup].itertuples(index=False), strict=False):
        if (r, pid) in seen:
            problems.add(
                f"pool {pid} has two results for run {r} (also on row "
                f"{seen[(r, pid)]}); give one result per pool and run",
                int(rows[i]),
                "pool_id",
                pid,
            )
        else:
            seen[(r, pid)] = int(rows[i])


def _by_well(df, plates, manifest, problems):
    n = len(df)
    rows = sheet_rows(n)
    wells = plates.assign(key=plates["plate"].astype(str) + "|" + plates["well"].astype(str))
    index = pd.Index(wells["key"])
    key = df["plate"] + "|" + df["well"]
    at = index.get_indexer(key)
    known_plates = set(plates["plate"].astype(str))
    unknown_plate = ~df["plate"].isin(known_plates).to_numpy()
    shown = sorted(known_plates)
    allowed = ", ".join(shown[:6]) + (", ..." if len(shown) > 6 else "")
    problems.add_rows(
        unknown_plate,
        rows,
        df["plate"].to_numpy(),
        "plate",
        f"unknown plate; plates of this batch: {allowed or 'none yet'}",
    )
    problems.add_rows(
        (at < 0) & ~unknown_plate,
        rows,
        df["well"].to_numpy(),
        "well",
        "no reaction or control in this well on this plate (see plates.csv)",
    )
    safe = np.maximum(at, 0)
    content = wells["content"].to_numpy()[safe]
    is_control = (at >= 0) & (content != "reaction")
    pool_ids = wells["pool_id"].to_numpy()[safe]
    pool = manifest.pool_index.get_indexer(np.where(is_control | (at < 0), "", pool_ids))
    if "pool_id" in df.columns:
        given = df["pool_id"].to_numpy()
        clash = (at >= 0) & ~is_control & (given != "") & (given != pool_ids)
        for i in np.flatnonzero(clash)[:30]:
            problems.add(
                f"well {df['well'].iloc[i]} of plate {df['plate'].iloc[i]} holds "
                f"pool {pool_ids[i]}, not {given[i]}",
                int(rows[i]),
                "pool_id",
                given[i],
            )
    run = wells["run"].to_numpy()[safe].astype(np.int64)
    plate_of = df["plate"].to_numpy()
    return np.maximum(pool, 0), run, is_control, content, plate_of, at >= 0


def _by_pool(df, plates, manifest, problems):
    n = len(df)
    rows = sheet_rows(n)
    ids = df["pool_id"].to_numpy()
    pool = manifest.pool_index.get_indexer(ids)
    unknown = pool < 0
    example = ", ".join(manifest.pool_id[:2].tolist())
    problems.add_rows(
        unknown, rows, ids, "pool_id", f"unknown pool id; this batch's pools look like {example}"
    )
    sched = plates[plates["content"] == "reaction"]
    s_pool = manifest.pool_index.get_indexer(sched["pool_id"])
    s_run = sched["run"].to_numpy().astype(np.int64)
    latest = np.zeros(manifest.n_pools, dtype=np.int64)
    np.maximum.at(latest, s_pool, s_run)
    safe = np.maximum(pool, 0)
    if "run" in df.columns:
        run_num = parse_numbers(
            df["run"],
            problems,
            "run",
            low=1,
            high=1e9,
            blank_ok=True,
            what="a run number",
            whole=True,
        )
        run = np.where(np.isnan(run_num), latest[safe], np.nan_to_num(run_num)).astype(np.int64)
        scheduled = pd.MultiIndex.from_arrays([s_run, s_pool])
        ok = scheduled.get_indexer(pd.MultiIndex.from_arrays([run, safe])) >= 0
        bad_run = ~unknown & ~np.isnan(run_num) & ~ok & (latest[safe] > 0)
        for i in np.flatnonzero(bad_run)[:30]:
            problems.add(
                f"pool {ids[i]} was not on the plates of run {run[i]} (latest run "
                f"with it: {latest[safe[i]]})",
                int(rows[i]),
                "run",
                df["run"].iloc[i],
            )
    else:
        run = latest[safe]
    never = ~unknown & (latest[safe] == 0)
    for i in np.flatnonzero(never)[:30]:
        problems.add(
            f"pool {ids[i]} was not run: it is on no plate of this batch (the design "
            f"tests it only after its parent pool or grid lines test positive)",
            int(rows[i]),
            "pool_id",
            ids[i],
        )
    return safe, run, ~unknown


def _individual_tests(sample_ids: pd.Series, manifest, problems: Problems) -> np.ndarray:
    """Pool ids of the samples' own (individual) tests; unknown sample ids are problems."""
    at = manifest.sample_index.get_indexer(sample_ids.to_numpy())
    problems.add_rows(
        at < 0,
        sheet_rows(len(at)),
        sample_ids.to_numpy(),
        "sample_id",
        "unknown sample id: not in this batch's manifest",
    )
    problems.raise_if_any()
    return manifest.pool_id[manifest.leaf[at]]


def _failed_plates(outcome, is_control, content, plate_of, rows) -> dict[str, dict]:
    """Each plate whose control failed: the control, what it tested and its row."""
    failed: dict[str, dict] = {}
    for i in np.flatnonzero(is_control):
        want = _EXPECTED_CONTROL[content[i]]
        if outcome[i] != want and plate_of[i] not in failed:
            got = OUTCOMES[outcome[i]] if outcome[i] >= 0 else "unreadable"
            failed[plate_of[i]] = {"control": str(content[i]), "got": got, "row": int(rows[i])}
    return failed


def results_template(layout: pd.DataFrame) -> pd.DataFrame:
    """A blank results sheet for one run: run, plate, well, content, pool_id, result, ct."""
    out = layout[["run", "plate", "well", "content", "pool_id"]].copy()
    out["result"] = ""
    out["ct"] = ""
    return out


def write_results_template(layout: pd.DataFrame, path: str | os.PathLike) -> Path:
    path = Path(path)
    write_csv(results_template(layout), path)
    return path
