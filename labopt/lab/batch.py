"""A batch in the lab: its manifest, the plates of every run and every result, as one state.

The day's work on a batch is a sequence of runs::

    batch = LabBatch.start(manifest, PlateSpec(96))         # run 1: the first-stage pools
    batch, report = batch.apply(results_table)               # the run's results come back
    batch.decoding.statuses_frame()                          # cleared, positive, pending
    batch = batch.schedule_next()                            # run 2: the retest list, plated

Every result is kept in a log keyed by (run, pool). Applying the same results again changes
nothing (idempotent): a table already applied is recognised by its fingerprint, and a result
already recorded for its run and pool is not added twice. A different result for a (run,
pool) that already has one is a correction, refused unless ``corrections=True``, and then
kept in the log with the old one (the newer counts). A pool's current result is its latest
run's. A failed apply leaves the batch as it was.

On disk a batch is a folder (:meth:`save`, :meth:`load`): ``manifest.csv``, ``plates.csv``
(every run), ``results_log.csv`` (every result applied), ``batch.json`` (plate settings,
field-pooling delay, runs), and the derived tables ``pools.csv``, ``statuses.csv``,
``retest.csv`` (the next run's manifest), ``recollect.csv`` (field pooling),
``first_stage.csv`` (for ``labopt estimate``) and ``results_template.csv`` (a blank sheet for
the next run).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from labopt.errors import InputError
from labopt.lab.decode import REPEAT, Decoding, decode
from labopt.lab.field import DEFAULT_RECOLLECTION_HOURS, recollection_list
from labopt.lab.manifest import Manifest, read_manifest
from labopt.lab.plates import PlateSpec, layout_plates, plates_html, pool_districts
from labopt.lab.results import NONE, OUTCOMES, ResultRows, ingest_results, results_template
from labopt.lab.tables import (
    LabInputError,
    Problems,
    clean_text,
    csv_writer,
    read_table,
    text_writer,
    write_folder,
)
from labopt.lab.words import say
from labopt.numbers import date_text, shown
from labopt.scenario.errors import Problem

LOG_COLUMNS = ("run", "pool_id", "result", "ct", "source", "recorded_at", "seq", "upload")
FILES = {
    "manifest": "manifest.csv",
    "plates": "plates.csv",
    "log": "results_log.csv",
    "meta": "batch.json",
}
# every table a batch folder may hold (what :meth:`LabBatch.tables` writes)
BATCH_TABLES = (
    "manifest.csv",
    "plates.csv",
    "results_log.csv",
    "pools.csv",
    "statuses.csv",
    "retest.csv",
    "first_stage.csv",
    "results_template.csv",
    "recollect.csv",
)


@dataclass(frozen=True)
class ApplyReport:
    """What one apply changed: results added, corrected and already present, plus notes."""

    added: int
    corrected: int
    unchanged: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "corrected": self.corrected,
            "unchanged": self.unchanged,
            "notes": self.notes,
        }


@dataclass(frozen=True, eq=False)
class LabBatch:
    """One batch's state (immutable: every operation returns a new batch).

    Attributes
    ----------
    manifest : Manifest
    spec : PlateSpec
        Plate format and controls for every run.
    plates : pandas.DataFrame
        Every run's wells (:func:`labopt.lab.plates.layout_plates` rows).
    log : pandas.DataFrame
        Every result applied: run, pool (index), outcome, ct, source, recorded_at, seq.
    recollection_hours : float
        Field pooling: hours from a positive field tube to its people's new swabs at the lab.
    lab, date : str
        The lab that runs the batch and the day (yyyy-mm-dd) it starts, shown on its plate
        maps ("" when not given).
    """

    manifest: Manifest
    spec: PlateSpec
    plates: pd.DataFrame
    log: pd.DataFrame
    recollection_hours: float = DEFAULT_RECOLLECTION_HOURS
    lab: str = ""
    date: str = ""

    # ------------------------------------------------------------------ construction
    @classmethod
    def start(
        cls,
        manifest: Manifest,
        spec: PlateSpec = PlateSpec(),
        recollection_hours: float = DEFAULT_RECOLLECTION_HOURS,
        *,
        lab: str = "",
        date: str = "",
    ) -> LabBatch:
        """A new batch with run 1 (the first-stage pools) laid out on plates; ``lab`` and
        ``date`` (yyyy-mm-dd) are shown on its plate maps."""
        if not np.isfinite(recollection_hours) or recollection_hours < 0:
            raise InputError(
                f"recollection_hours: must be a number of hours ≥ 0, got "
                f"{shown(recollection_hours)}",
                "recollection_hours",
            )
        empty = pd.DataFrame(
            {
                "run": pd.Series(dtype=np.int64),
                "pool": pd.Series(dtype=np.int64),
                "outcome": pd.Series(dtype=np.int8),
                "ct": pd.Series(dtype=float),
                "source": pd.Series(dtype=object),
                "recorded_at": pd.Series(dtype=object),
                "seq": pd.Series(dtype=np.int64),
                "upload": pd.Series(dtype=object),
            }
        )
        first = decode(manifest, np.zeros(manifest.n_pools, dtype=np.int8))
        plates = layout_plates(manifest, first.to_run, spec, run=1)
        if date:
            try:
                date = dt.date.fromisoformat(str(date)).isoformat()
            except ValueError:
                raise InputError(f"date: a date yyyy-mm-dd, got {date!r}", "date") from None
        return cls(manifest, spec, plates, empty, float(recollection_hours), str(lab), date)

    # ------------------------------------------------------------------ state
    @property
    def runs(self) -> int:
        """Runs laid out so far."""
        return int(self.plates["run"].max()) if len(self.plates) else 0

    def current_plates(self) -> pd.DataFrame:
        """The latest run's wells."""
        return self.plates[self.plates["run"] == self.runs]

    @cached_property
    def _state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = self.manifest
        outcome = np.zeros(m.n_pools, dtype=np.int8)
        ct = np.full(m.n_pools, np.nan)
        reactions = np.zeros(m.n_pools, dtype=np.int64)
        if len(self.log):
            log = self.log.sort_values(["pool", "run", "seq"])
            last = log.drop_duplicates("pool", keep="last")
            outcome[last["pool"].to_numpy()] = last["outcome"].to_numpy()
            ct[last["pool"].to_numpy()] = last["ct"].to_numpy()
            per_run = log.drop_duplicates(["pool", "run"])
            reactions = np.bincount(per_run["pool"].to_numpy(), minlength=m.n_pools)
        return outcome, ct, reactions

    @property
    def outcome(self) -> np.ndarray:
        """Current result per pool (NONE, NEGATIVE, POSITIVE, INVALID)."""
        return self._state[0]

    @property
    def reactions(self) -> np.ndarray:
        """Reactions run per pool so far (one per run with a result; corrections excluded)."""
        return self._state[2]

    @cached_property
    def decoding(self) -> Decoding:
        return decode(self.manifest, self._state[0], self._state[1])

    @property
    def reactions_used(self) -> int:
        """Reactions with a result so far, repeats included (controls excluded)."""
        return int(self.reactions.sum())

    # ------------------------------------------------------------------ results
    def apply(
        self,
        table: pd.DataFrame | ResultRows,
        source: str = "results",
        corrections: bool = False,
        recorded_at: str | None = None,
    ) -> tuple[LabBatch, ApplyReport]:
        """The batch with one table of results added.

        Parameters
        ----------
        table : pandas.DataFrame or ResultRows
            Per well or per pool (see :mod:`labopt.lab.results`).
        source : str
            Named in errors and kept in the log (e.g. the file name).
        corrections : bool
            Allow a result that differs from the one already recorded for the same run and
            pool (the old one stays in the log).
        recorded_at : str, optional
            Timestamp kept in the log (default: now, UTC, ISO 8601).

        Returns
        -------
        (LabBatch, ApplyReport)

        Raises
        ------
        LabInputError
            Any bad row, an unrequested correction, or results the design did not call for;
            the batch is unchanged.
        """
        digest = _digest(table)
        if len(self.log) and (self.log["upload"] == digest).any():
            first = self.log.loc[self.log["upload"] == digest, "source"].iloc[0]
            n = len(table)
            return self, ApplyReport(
                0, 0, n, [f"the same results were already applied (from {first}); nothing changed"]
            )
        rows = (
            table
            if isinstance(table, ResultRows)
            else ingest_results(table, self.manifest, self.plates, source)
        )
        m = self.manifest
        when = recorded_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        new = pd.DataFrame(
            {
                "run": rows.run,
                "pool": rows.pool,
                "outcome": rows.outcome,
                "ct": rows.ct,
                "row": rows.row,
            }
        )
        log = self.log
        if len(log):
            latest = log.sort_values("seq").drop_duplicates(["run", "pool"], keep="last")
            merged = new.merge(
                latest[["run", "pool", "outcome", "ct"]],
                on=["run", "pool"],
                how="left",
                suffixes=("", "_old"),
                indicator=True,
            )
        else:
            merged = new.assign(outcome_old=np.nan, ct_old=np.nan, _merge="left_only")
        seen = (merged["_merge"] == "both").to_numpy()
        same = (
            seen
            & (merged["outcome"].to_numpy() == merged["outcome_old"].to_numpy())
            & (
                (merged["ct"].to_numpy() == merged["ct_old"].to_numpy())
                | (np.isnan(merged["ct"].to_numpy()) & np.isnan(merged["ct_old"].to_numpy()))
            )
        )
        changed = seen & ~same
        if changed.any() and not corrections:
            problems = Problems(rows.source)
            for i in np.flatnonzero(changed)[:30]:
                r = merged.iloc[i]
                old = _describe(int(r["outcome_old"]), r["ct_old"])
                problems.add(
                    f"pool {m.pool_id[int(r['pool'])]} already has the result {old} "
                    f"for run {int(r['run'])}; this table says "
                    f"{_describe(int(r['outcome']), r['ct'])}. To correct a result, "
                    f"apply it as a correction (`--correct`; `correct: true` in the "
                    f"service); both stay in the log",
                    int(r["row"]),
                    "result",
                )
            raise LabInputError(problems.items, rows.source)
        add = merged[~same]
        start = int(log["seq"].max()) + 1 if len(log) else 0
        entries = pd.DataFrame(
            {
                "run": add["run"].to_numpy(np.int64),
                "pool": add["pool"].to_numpy(np.int64),
                "outcome": add["outcome"].to_numpy(np.int8),
                "ct": add["ct"].to_numpy(float),
                "source": rows.source,
                "recorded_at": when,
                "seq": np.arange(start, start + len(add), dtype=np.int64),
                "upload": digest,
            }
        )
        new_log = pd.concat([log, entries], ignore_index=True) if len(log) else entries
        out = replace(self, log=new_log)
        _ = out.decoding  # raises if the design is violated
        report = ApplyReport(
            added=int((~seen).sum()),
            corrected=int(changed.sum()),
            unchanged=int(same.sum()),
            notes=list(rows.notes),
        )
        return out, report

    @cached_property
    def awaiting(self) -> np.ndarray:
        """Pools (indices) on the latest run's plates still waiting for their result from that
        run: still due, and no result recorded for that run yet."""
        cur = self.current_plates()
        pools = self.manifest.pool_index.get_indexer(
            cur.loc[cur["content"] == "reaction", "pool_id"]
        )
        done = self.log.loc[self.log["run"] == self.runs, "pool"].to_numpy()
        due = np.isin(pools, self.decoding.to_run)
        return np.sort(pools[due & ~np.isin(pools, done)])

    @property
    def run_complete(self) -> bool:
        """Every reaction of the latest run that is still needed has its result."""
        return self.awaiting.size == 0

    def schedule_next(self) -> LabBatch:
        """The batch with the next run (the decoding's ``to_run`` list) laid out on plates.

        A run is complete when every reaction on its plates that is still needed has a
        result (results may come plate by plate, in several uploads; a well that gave no
        reading is reported as invalid, and is repeated). Until then, and when nothing is
        left to run, nothing changes, so calling it twice is harmless.
        """
        if not self.run_complete:
            return self
        dec = self.decoding
        if dec.to_run.size == 0:
            return self
        layout = layout_plates(self.manifest, dec.to_run, self.spec, run=self.runs + 1)
        return replace(self, plates=pd.concat([self.plates, layout], ignore_index=True))

    # ------------------------------------------------------------------ tables
    def pools_frame(self) -> pd.DataFrame:
        """Every pool with its state: the manifest's columns plus ``due``, ``result``,
        ``ct``, ``reactions``, ``last_run`` (latest run with the pool on a plate)."""
        m = self.manifest
        out = m.pools_frame()
        outcome, ct, reactions = self._state
        out["due"] = self.decoding.due
        out["result"] = np.asarray(OUTCOMES, dtype=object)[outcome]
        out["ct"] = ct
        out["reactions"] = reactions
        sched = self.plates[self.plates["content"] == "reaction"]
        last = np.zeros(m.n_pools, dtype=np.int64)
        np.maximum.at(
            last,
            m.pool_index.get_indexer(sched["pool_id"]),
            sched["run"].to_numpy().astype(np.int64),
        )
        out["last_run"] = last
        return out

    def log_frame(self) -> pd.DataFrame:
        log = self.log
        return pd.DataFrame(
            {
                "run": log["run"].to_numpy(),
                "pool_id": self.manifest.pool_id[log["pool"]],
                "result": np.asarray(OUTCOMES, dtype=object)[log["outcome"].to_numpy()],
                "ct": log["ct"].to_numpy(),
                "source": log["source"].to_numpy(),
                "recorded_at": log["recorded_at"].to_numpy(),
                "seq": log["seq"].to_numpy(),
                "upload": log["upload"].to_numpy(),
            }
        )

    def summary(self) -> dict:
        """Counts: samples positive, negative and pending; reactions used so far; and the run
        to do now (``reactions_next_run``, ``repeats_next_run``, ``plates_next_run``): the
        latest run's reactions still waiting for results, or when there are none, the pools
        the next run will hold."""
        dec = self.decoding
        counts = dict(dec.counts)
        if self.awaiting.size:
            waiting = np.isin(dec.to_run, self.awaiting)
            counts["reactions_next_run"] = int(self.awaiting.size)
            counts["repeats_next_run"] = int((dec.reason[waiting] == REPEAT).sum())
        return {
            "algorithm": self.manifest.design.algorithm,
            "config": self.manifest.design.config,
            "mode": "field" if self.manifest.field else "lab",
            "batch": self.manifest.batch,
            "runs": self.runs,
            "reactions_used": self.reactions_used,
            "plates_next_run": int(self.pending_plates()["plate"].nunique()),
            **counts,
        }

    def pending_plates(self) -> pd.DataFrame:
        """The latest run's plates (every well, controls included) that hold a reaction still
        waiting for its result; none when the run is complete."""
        cur = self.current_plates()
        waiting = cur["pool_id"].isin(self.manifest.pool_id[self.awaiting]) & (
            cur["content"] == "reaction"
        )
        return cur[cur["plate"].isin(cur.loc[waiting, "plate"])]

    def heading(self, lang: str = "en") -> str:
        """The lab and date a plate map shows ("" when the batch has neither)."""
        date = date_text(self.date, lang) if self.date else ""
        if self.lab and date:
            return say("where", lang, lab=self.lab, date=date)
        return say("lab", lang, lab=self.lab) if self.lab else date

    def map_options(self, lang: str = "en") -> dict:
        """What every plate map of the batch shows beside its wells: language, lab and date,
        each pool's district."""
        districts = pool_districts(self.manifest)
        return {"lang": lang, "heading": self.heading(lang), "districts": districts}

    def plate_map_html(self, lang: str = "en") -> str:
        """A printable plate map of the run waiting for results (or a page saying that
        nothing is left to run), in ``lang``."""
        layout = self.pending_plates()
        m = self.manifest
        title = (
            say(
                "plate_map",
                lang,
                batch=m.batch or say("unnamed", lang),
                design=str(m.design),
                run=self.runs,
            )
            if len(layout)
            else say("nothing", lang)
        )
        return plates_html(layout, self.spec, title, m.batch, **self.map_options(lang))

    # ------------------------------------------------------------------ files
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every CSV of the batch folder by file name."""
        dec = self.decoding
        out = {
            "manifest.csv": self.manifest.to_frame(),
            "plates.csv": self.plates,
            "results_log.csv": self.log_frame(),
            "pools.csv": self.pools_frame(),
            "statuses.csv": dec.statuses_frame(),
            "retest.csv": dec.retest_manifest(),
            "first_stage.csv": dec.first_stage_frame(),
            "results_template.csv": results_template(self.pending_plates()),
        }
        if self.manifest.field:
            out["recollect.csv"] = recollection_list(dec, self.recollection_hours)
        return out

    def meta(self) -> dict:
        return {
            "format": 1,
            "plate": self.spec.to_dict(),
            "recollection_hours": self.recollection_hours,
            "lab": self.lab,
            "date": self.date,
            "runs": self.runs,
            **self.summary(),
        }

    def save(
        self,
        folder: str | os.PathLike,
        extra: dict | None = None,
        *,
        force: bool = False,
        adopt: Iterable[str] = (),
        what: str = "--out",
        reads: Iterable[str | os.PathLike] = (),
    ) -> list[Path]:
        """Write the batch folder; it changes only when every file is written, and only
        labopt's files in it change (``force``, ``adopt``, ``what``, ``reads``: see
        :func:`labopt.files.write_output_folder`)."""
        files = {name: csv_writer(df) for name, df in self.tables().items()}
        files[FILES["meta"]] = text_writer(json.dumps(self.meta(), indent=2, ensure_ascii=False))
        files.update(extra or {})
        return write_folder(
            folder, files, force=force, adopt=adopt, what=what, kind="batch", reads=reads
        )

    @classmethod
    def load(cls, folder: str | os.PathLike) -> LabBatch:
        """A batch folder written by :meth:`save` (or ``labopt batch make``)."""
        folder = Path(folder)
        if not (folder / FILES["manifest"]).is_file():
            raise LabInputError(
                [
                    Problem(
                        str(folder),
                        "not a batch folder: manifest.csv is "
                        "missing (make one with 'labopt batch "
                        "make')",
                    )
                ]
            )
        manifest = read_manifest(folder / FILES["manifest"])
        meta_path = folder / FILES["meta"]
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            spec = PlateSpec(**meta["plate"])
            hours = float(meta.get("recollection_hours", DEFAULT_RECOLLECTION_HOURS))
            lab, date = str(meta.get("lab") or ""), str(meta.get("date") or "")
            if date:
                dt.date.fromisoformat(date)  # a text that is no date is refused below
        except FileNotFoundError:
            raise LabInputError([Problem(str(meta_path), "file not found")]) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise LabInputError(
                [Problem(str(meta_path), f"unreadable batch settings ({exc})")]
            ) from None
        plates = _read_plates(folder / FILES["plates"], manifest)
        log = _read_log(folder / FILES["log"], manifest)
        batch = cls(manifest, spec, plates, log, hours, lab, date)
        _ = batch.decoding  # raises if the design is violated
        return batch


def _digest(table) -> str:
    """Fingerprint of a results table: the same upload twice is recognised even without run
    numbers, whatever the order of its rows and columns and whether blank columns are there."""
    if isinstance(table, ResultRows):
        rows = np.column_stack(
            [
                table.pool.astype(float),
                table.run.astype(float),
                table.outcome.astype(float),
                table.ct.astype(float),
            ]
        )
        data = rows[np.lexsort(rows.T[::-1])].tobytes()
    else:
        df = table.copy()
        df.columns = [str(c).strip().lower() for c in df.columns]
        df = pd.DataFrame({c: clean_text(df[c]) for c in sorted(df.columns)})
        df = df[[c for c in df.columns if (df[c] != "").any()]]
        hashes = np.sort(pd.util.hash_pandas_object(df, index=False).to_numpy())
        data = hashes.tobytes() + "|".join(df.columns).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def _describe(outcome: int, ct: float) -> str:
    word = OUTCOMES[outcome] if outcome != NONE else "none"
    return f"'{word}'" + ("" if ct != ct else f" (Ct {ct:g})")


PLATE_COLUMNS = (
    "run",
    "plate",
    "well",
    "row",
    "column",
    "content",
    "pool_id",
    "stage",
    "kind",
    "samples",
)


def _read_plates(path: Path, manifest: Manifest) -> pd.DataFrame:
    return plates_from_frame(read_table(path, PLATE_COLUMNS), manifest, str(path))


def plates_from_frame(df: pd.DataFrame, manifest: Manifest, source: str) -> pd.DataFrame:
    """A stored plate layout (``plates.csv`` rows, as text or typed) checked against the
    manifest, with the layout's column types."""
    df = df[list(PLATE_COLUMNS)].copy()
    for c in ("run", "column", "stage", "samples"):
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype(np.int64)
    for c in ("plate", "well", "row", "content", "pool_id", "kind"):
        df[c] = clean_text(df[c])
    unknown = (df["content"] == "reaction") & (manifest.pool_index.get_indexer(df["pool_id"]) < 0)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise LabInputError(
            [
                Problem(
                    source,
                    "pool not in the batch's manifest",
                    row=i + 2,
                    column="pool_id",
                    value=df["pool_id"].iloc[i],
                )
            ]
        )
    return df.reset_index(drop=True)


def _read_log(path: Path, manifest: Manifest) -> pd.DataFrame:
    df = read_table(
        path, ["run", "pool_id", "result", "ct", "seq"], ["source", "recorded_at", "upload"]
    )
    return log_from_frame(df, manifest, str(path))


def log_from_frame(df: pd.DataFrame, manifest: Manifest, source: str) -> pd.DataFrame:
    """A stored results log (``results_log.csv`` rows: run, pool_id, result, ct, seq and
    optionally source, recorded_at, upload) as the batch's internal log."""
    problems = Problems(source)
    pool = manifest.pool_index.get_indexer(df["pool_id"])
    problems.add_rows(
        pool < 0,
        np.arange(2, len(df) + 2),
        df["pool_id"].to_numpy(),
        "pool_id",
        "pool not in the batch's manifest",
    )
    codes = {name: i for i, name in enumerate(OUTCOMES) if name}
    outcome = df["result"].map(codes)
    problems.add_rows(
        outcome.isna().to_numpy(),
        np.arange(2, len(df) + 2),
        df["result"].to_numpy(),
        "result",
        "expected positive, negative or invalid",
    )
    problems.raise_if_any()
    blank = pd.Series("", index=df.index, dtype=object)
    return pd.DataFrame(
        {
            "run": pd.to_numeric(df["run"]).astype(np.int64).to_numpy(),
            "pool": pool.astype(np.int64),
            "outcome": outcome.to_numpy(np.int8),
            "ct": pd.to_numeric(df["ct"], errors="coerce").to_numpy(float),
            "source": df.get("source", blank).to_numpy(dtype=object),
            "recorded_at": df.get("recorded_at", blank).to_numpy(dtype=object),
            "seq": pd.to_numeric(df["seq"]).astype(np.int64).to_numpy(),
            "upload": df.get("upload", blank).to_numpy(dtype=object),
        }
    )
