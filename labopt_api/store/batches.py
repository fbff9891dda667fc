"""Lab batches in the database: who may see which, read, list, create, delete; rebuild a
batch's state from its rows and write what changed.

A batch is stored as its record (design, plate settings, the manifest as a gzip CSV: it never
changes), one row per run (that run's plate layout) and one row per result recorded. Result
rows are only ever added: a correction is a new row for the same run and pool, so the history
of every result, with who sent it and when, is the table itself.

Every change is one transaction that also raises the batch's ``version`` from the value it was
read at. Two uploads at once cannot both build on the same state: the second finds the version
moved, rolls back and starts again from the new state (where an identical upload then changes
nothing). A server killed before the commit leaves nothing of the upload behind.
"""

from __future__ import annotations

import datetime as dt
import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar, cast

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, false, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labopt.cells import write_csv
from labopt.lab.batch import LabBatch, log_from_frame, plates_from_frame
from labopt.lab.manifest import Manifest, read_manifest
from labopt.lab.plates import PlateSpec
from labopt.lab.results import OUTCOMES
from labopt_api.db import rows_changed
from labopt_api.failpoints import failpoint
from labopt_api.models import ApiKey, LabBatchRecord, LabResultRecord, LabRunRecord, now
from labopt_api.security import Principal
from labopt_api.store import NotFound, audit
from labopt_api.stored_text import usable_id

ATTEMPTS = 5  # tries of a change that keeps meeting concurrent changes
Report = TypeVar("Report")  # what a change says about itself


class Conflict(Exception):
    """The batch changed while this change was being prepared."""


class Gone(Exception):
    """The batch was deleted while this change was being prepared."""


# ---------------------------------------------------------------------- access
def may_use_lab(who: Principal, province: str, lab: str) -> bool:
    """Coordinators of the province use every lab's batches; a lab key its own."""
    return who.coordinates(province) or lab in who.lab_ids(province)


def visible(who: Principal) -> ColumnElement[bool]:
    """The SQL condition for the batches ``who`` may see (the rule of may_use_lab)."""
    if who.is_admin() or (who.role == "coordinator" and "*" in who.scopes):
        return true()
    if who.role == "coordinator":
        return LabBatchRecord.province_code.in_(who.scopes)
    if who.role == "lab":
        pairs = [s.split("/", 1) for s in who.scopes if "/" in s]
        return or_(
            false(),
            *(
                and_(LabBatchRecord.province_code == province, LabBatchRecord.lab == lab)
                for province, lab in pairs
            ),
        )
    return false()


# ---------------------------------------------------------------------- rows
def get(db: Session, batch_id: str) -> LabBatchRecord:
    """The batch; NotFound when there is none."""
    record = db.get(LabBatchRecord, batch_id) if usable_id(batch_id, LabBatchRecord.id) else None
    if record is None:
        raise NotFound(f"no batch {batch_id!r}")
    return record


def find(db: Session, batch_ids: list[str]) -> list[LabBatchRecord | None]:
    """Each named batch, or None where there is none (an id that cannot be one is none)."""
    return [
        db.get(LabBatchRecord, i) if usable_id(i, LabBatchRecord.id) else None for i in batch_ids
    ]


def listing(
    who: Principal,
    scenario_id: str | None = None,
    lab: str | None = None,
    date: dt.date | None = None,
) -> Select:
    """The batches ``who`` may see matching every filter given, newest first."""
    q = (
        select(LabBatchRecord)
        .where(visible(who))
        .order_by(LabBatchRecord.created_at.desc(), LabBatchRecord.id)
    )
    for column, value in (
        (LabBatchRecord.scenario_id, scenario_id),
        (LabBatchRecord.lab, lab),
        (LabBatchRecord.date, date),
    ):
        if value is not None:
            q = q.where(column == value)
    return q


def collected_on(
    db: Session, who: Principal, scenario_id: str, date: dt.date
) -> list[LabBatchRecord]:
    """The batches of the scenario collected on ``date`` that ``who`` may see, by label."""
    return list(
        db.execute(
            select(LabBatchRecord)
            .where(
                LabBatchRecord.scenario_id == scenario_id,
                LabBatchRecord.date == date,
                visible(who),
            )
            .order_by(LabBatchRecord.label)
        ).scalars()
    )


def label_user(db: Session, scenario_id: str, label: str) -> str | None:
    """The id of the scenario's batch with this label, if any (labels are unique in one)."""
    row = db.execute(
        select(LabBatchRecord.id).where(
            LabBatchRecord.scenario_id == scenario_id, LabBatchRecord.label == label
        )
    ).first()
    return None if row is None else row[0]


def add(db: Session, record: LabBatchRecord, run: LabRunRecord) -> bool:
    """Store a new batch and its first run (from :func:`new_record`); commits. False when
    its label was taken meanwhile (nothing stored)."""
    try:
        db.add(record)
        db.flush()
        run.batch_id = record.id
        db.add(run)
        db.commit()
    except IntegrityError:  # the same label, created at the same moment
        db.rollback()
        return False
    return True


def result_count(db: Session, batch_id: str) -> int:
    return db.execute(
        select(func.count())
        .select_from(LabResultRecord)
        .where(LabResultRecord.batch_id == batch_id)
    ).scalar_one()


def delete(db: Session, record: LabBatchRecord, who: Principal) -> bool:
    """Delete a batch without results, audited; commits. False (nothing deleted) when results
    were recorded meanwhile."""
    audit.record(
        db,
        who,
        "batch.delete",
        "batch",
        record.id,
        scenario_id=record.scenario_id,
        lab=record.lab,
        label=record.label,
        samples=record.samples,
    )
    db.delete(record)
    try:
        db.commit()
    except IntegrityError:  # results recorded since they were counted
        db.rollback()
        return False
    return True


def key_labels(db: Session, key_ids: list[int]) -> dict[int, str]:
    """The labels of these keys, by id (to show who sent results)."""
    rows = db.execute(select(ApiKey.id, ApiKey.label).where(ApiKey.id.in_(key_ids))).all()
    return {row.id: row.label for row in rows}


# ---------------------------------------------------------------------- state
class ManifestCache:
    """Manifests rebuilt recently, by batch id (they never change; rebuilding one of 80,000
    samples takes a good part of a second)."""

    def __init__(self, size: int = 32):
        self._items: OrderedDict[str, Manifest] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, record: LabBatchRecord) -> Manifest:
        with self._lock:
            m = self._items.get(record.id)
            if m is not None:
                self._items.move_to_end(record.id)
                return m
        m = unpack_manifest(record)
        with self._lock:
            self._items[record.id] = m
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return m


def pack_manifest(manifest: Manifest) -> bytes:
    text = cast(str, write_csv(manifest.to_frame()))  # without a path: the CSV text
    return gzip.compress(text.encode(), compresslevel=6)


def unpack_manifest(record: LabBatchRecord) -> Manifest:
    """The stored manifest, checked against its design as a file would be."""
    return read_manifest(
        f"batch {record.label} manifest.csv", data=gzip.decompress(record.manifest)
    )


def layout_rows(plates: pd.DataFrame) -> tuple[list[str], list[list]]:
    """A plate layout as JSON-ready columns and rows (plain Python values)."""
    return list(plates.columns), plates.astype(object).to_numpy().tolist()


def load_batch(
    db: Session, record: LabBatchRecord, manifests: ManifestCache
) -> tuple[LabBatch, pd.DataFrame]:
    """The batch's current state, and its stored result rows (seq, submitted_by,
    recorded_at) for the history."""
    manifest = manifests.get(record)
    runs = (
        db.execute(
            select(LabRunRecord)
            .where(LabRunRecord.batch_id == record.id)
            .order_by(LabRunRecord.run)
        )
        .scalars()
        .all()
    )
    frames = [pd.DataFrame(r.rows, columns=r.columns) for r in runs]
    plates = plates_from_frame(
        pd.concat(frames, ignore_index=True), manifest, f"batch {record.label} plates"
    )
    cols = (
        LabResultRecord.run,
        LabResultRecord.pool_id,
        LabResultRecord.result,
        LabResultRecord.ct,
        LabResultRecord.seq,
        LabResultRecord.source,
        LabResultRecord.recorded_at,
        LabResultRecord.upload,
        LabResultRecord.submitted_by,
    )
    rows = db.execute(
        select(*cols).where(LabResultRecord.batch_id == record.id).order_by(LabResultRecord.seq)
    ).all()
    stored = pd.DataFrame(rows, columns=[c.key for c in cols])
    stored["recorded_at"] = [_iso(t) for t in stored["recorded_at"]]
    log = log_from_frame(stored, manifest, f"batch {record.label} results")
    started = record.created_at.date().isoformat() if record.created_at else ""
    batch = LabBatch(
        manifest,
        PlateSpec(**record.plate),
        plates,
        log,
        record.recollection_hours,
        lab=record.lab,
        date=started,
    )
    return batch, stored[["seq", "submitted_by"]]


def _iso(t: dt.datetime) -> str:
    t = t if t.tzinfo else t.replace(tzinfo=dt.UTC)  # SQLite keeps no zone
    return t.isoformat(timespec="seconds")


def new_record(batch: LabBatch, **fields) -> tuple[LabBatchRecord, LabRunRecord]:
    """The record of a batch just started (run 1 laid out, no results)."""
    m = batch.manifest
    record = LabBatchRecord(
        algorithm=m.design.algorithm,
        config=m.design.config,
        mode="field" if m.field else "lab",
        plate=batch.spec.to_dict(),
        recollection_hours=batch.recollection_hours,
        samples=m.n_samples,
        manifest=pack_manifest(m),
        runs=batch.runs,
        summary=batch.summary(),
        version=1,
        **fields,
    )
    columns, rows = layout_rows(batch.plates)
    return record, LabRunRecord(batch_id=record.id, run=1, columns=columns, rows=rows)


def save_changes(
    db: Session,
    record: LabBatchRecord,
    before: LabBatch,
    after: LabBatch,
    who: int | None,
    when: dt.datetime,
) -> bool:
    """Write what ``after`` adds to ``before`` (new results, new runs) and commit; False when
    there is nothing to write. Raises Conflict when the batch changed meanwhile."""
    old_seq = int(before.log["seq"].max()) if len(before.log) else -1
    new_log = after.log[after.log["seq"] > old_seq]
    new_runs = after.plates[after.plates["run"] > before.runs]
    if new_log.empty and new_runs.empty:
        return False
    moved = db.execute(
        update(LabBatchRecord)
        .where(LabBatchRecord.id == record.id, LabBatchRecord.version == record.version)
        .values(
            version=record.version + 1, runs=after.runs, summary=after.summary(), updated_at=when
        )
    )
    if rows_changed(moved) != 1:
        db.rollback()
        raise Conflict
    m = after.manifest
    outcomes = np.asarray(OUTCOMES, dtype=object)
    if len(new_log):
        ct = new_log["ct"].to_numpy(float)
        db.execute(
            insert(LabResultRecord),
            [
                {
                    "batch_id": record.id,
                    "seq": int(s),
                    "run": int(r),
                    "pool_id": str(p),
                    "result": str(o),
                    "ct": None if c != c else float(c),
                    "source": str(src)[:200],
                    "upload": str(u),
                    "recorded_at": when,
                    "submitted_by": who,
                }
                for s, r, p, o, c, src, u in zip(
                    new_log["seq"],
                    new_log["run"],
                    m.pool_id[new_log["pool"].to_numpy()],
                    outcomes[new_log["outcome"].to_numpy()],
                    ct,
                    new_log["source"],
                    new_log["upload"],
                    strict=False,
                )
            ],
        )
    for run, layout in new_runs.groupby("run", sort=True):
        columns, rows = layout_rows(layout)
        db.add(
            LabRunRecord(
                batch_id=record.id, run=int(run), columns=columns, rows=rows, created_at=when
            )
        )
    failpoint("lab.save.before_commit")
    try:
        db.commit()
    except IntegrityError:  # a concurrent change took the same run or seq
        db.rollback()
        raise Conflict from None
    return True


def change_batch(
    db: Session,
    batch_id: str,
    manifests: ManifestCache,
    change: Callable[[LabBatch, str], tuple[LabBatch, Report]],
    who: int | None,
) -> tuple[LabBatchRecord, LabBatch, Report, bool]:
    """Apply ``change`` ((state, time as ISO 8601) -> (new state, report)) to the stored batch
    and save it,
    starting again from the new state when another change got in first.

    Returns the record, the new state, the change's report, and whether anything was written.
    """
    for _ in range(ATTEMPTS):
        record = db.get(LabBatchRecord, batch_id, populate_existing=True)
        if record is None:
            raise Gone(batch_id)
        before, _stored = load_batch(db, record, manifests)
        when = now()
        after, report = change(before, _iso(when))
        try:
            wrote = save_changes(db, record, before, after, who, when)
        except Conflict:
            continue
        if wrote:
            db.refresh(record)
        return record, after, report, wrote
    raise Conflict
