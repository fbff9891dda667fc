"""The units' daily inputs: every submission kept, exactly one current per unit and date.

The database enforces the "one current" rule (a partial unique index). A submission locks its
scenario's row first (``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL; SQLite has one writer at
a time), so submissions to one scenario are written one after the other: the current row is
always the last one committed, and a deletion or replacement of the scenario cannot interleave.
A transaction that still meets a conflict (a deadlock, a serialization failure, a busy SQLite
file) is rolled back and tried again.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException, status
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from labopt.scenario import Scenario
from labopt.scenario.updates import DistrictDay, split_reports
from labopt_api.jobs import current_reports
from labopt_api.models import DistrictDayRecord, ScenarioRecord, now

ATTEMPTS = 8
RETRY_STATES = {"40001", "40P01", "23505", "55P03"}  # serialization, deadlock, unique, lock
T = TypeVar("T")


def retryable(exc: DBAPIError) -> bool:
    """A conflict with a concurrent transaction, which a new attempt resolves."""
    state = getattr(exc.orig, "sqlstate", None)
    if state in RETRY_STATES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


def with_retries(db: Session, attempt: Callable[[], T]) -> T:
    """Run ``attempt`` (which commits) again after a transient conflict, at most ATTEMPTS
    times; 409 after that."""
    for i in range(ATTEMPTS):
        try:
            return attempt()
        except (IntegrityError, OperationalError, DBAPIError) as exc:
            db.rollback()
            if not retryable(exc):
                raise
            time.sleep(random.uniform(0, 0.01 * 2**i))
    raise HTTPException(
        status.HTTP_409_CONFLICT,
        detail="the unit's input kept changing while this one was being written; send it again",
    )


def lock_scenario(db: Session, scenario_id: str) -> ScenarioRecord | None:
    """The scenario's row, locked until the commit against other writers of the scenario
    (foreign keys pointing to it are still allowed)."""
    return db.execute(
        select(ScenarioRecord)
        .where(ScenarioRecord.id == scenario_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def add_submission(
    db: Session, scenario_id: str, district: str, date: dt.date, payload: dict, key_id: int | None
) -> DistrictDayRecord:
    """The new current row of a unit and date; the earlier one stays in the history. Call with
    the scenario locked; the caller commits."""
    db.execute(
        update(DistrictDayRecord)
        .where(
            DistrictDayRecord.scenario_id == scenario_id,
            DistrictDayRecord.district == district,
            DistrictDayRecord.date == date,
            DistrictDayRecord.current.is_(True),
        )
        .values(current=False)
    )
    row = DistrictDayRecord(
        scenario_id=scenario_id,
        district=district,
        date=date,
        payload=payload,
        current=True,
        submitted_by=key_id,
        submitted_at=now(),
    )
    db.add(row)
    db.flush()
    return row


def current_row(
    db: Session, scenario_id: str, district: str, date: dt.date
) -> DistrictDayRecord | None:
    return db.execute(
        select(DistrictDayRecord).where(
            DistrictDayRecord.scenario_id == scenario_id,
            DistrictDayRecord.district == district,
            DistrictDayRecord.date == date,
            DistrictDayRecord.current.is_(True),
        )
    ).scalar_one_or_none()


def submissions(db: Session, scenario_id: str) -> int:
    return db.execute(
        select(func.count())
        .select_from(DistrictDayRecord)
        .where(DistrictDayRecord.scenario_id == scenario_id)
    ).scalar_one()


def not_applied(db: Session, scn: Scenario, scenario_id: str) -> list[tuple[DistrictDay, str]]:
    """Current inputs that do not fit ``scn`` (e.g. days before a later start date), with the
    reason: they stay in the history and the plan leaves them out."""
    return split_reports(scn, current_reports(db, scenario_id))[1]


def archive(db: Session, scenario_id: str) -> list[dict]:
    """Every submission of the scenario, oldest first, as kept in the audit trail when the
    scenario is deleted with force."""
    rows = db.execute(
        select(DistrictDayRecord)
        .where(DistrictDayRecord.scenario_id == scenario_id)
        .order_by(DistrictDayRecord.id)
    ).scalars()
    return [
        {
            "district": r.district,
            "date": r.date.isoformat(),
            "payload": r.payload,
            "current": r.current,
            "submitted_by": r.submitted_by,
            "submitted_at": r.submitted_at.isoformat(),
        }
        for r in rows
    ]
