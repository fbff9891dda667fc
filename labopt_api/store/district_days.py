"""The units' daily inputs: every submission kept, exactly one current per unit and date.

The database enforces the "one current" rule (a partial unique index). A submission locks its
scenario's row first (:func:`labopt_api.store.scenarios.lock`), so submissions to one scenario
are written one after the other: the current row is always the last one committed, and a
deletion or replacement of the scenario cannot interleave. A transaction that still meets a
conflict (a deadlock, a serialization failure, a busy SQLite file) is rolled back and tried
again.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from labopt.scenario import Scenario, scenario_from_data
from labopt.scenario.updates import DistrictDay, planning_scenario, split_reports
from labopt_api.models import DistrictDayRecord, ScenarioRecord, now
from labopt_api.security import Principal
from labopt_api.store import Busy, audit, scenarios
from labopt_api.stored_text import usable_id

ATTEMPTS = 8
RETRY_STATES = {"40001", "40P01", "23505", "55P03"}  # serialization, deadlock, unique, lock
T = TypeVar("T")
Submission = tuple[str, dt.date, dict[str, Any]]  # unit code, date, payload


def retryable(exc: DBAPIError) -> bool:
    """A conflict with a concurrent transaction, which a new attempt resolves. SQLite reads
    outside a transaction until the first write, so a writer that decided from what it read
    may meet the row a concurrent writer committed meanwhile in a unique index."""
    state = getattr(exc.orig, "sqlstate", None)
    if state in RETRY_STATES:
        return True
    if isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(exc.orig):
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


def with_retries(
    db: Session,
    attempt: Callable[[], T],
    busy: str = "the unit's input kept changing while this one was being written",
) -> T:
    """Run ``attempt`` (which commits) again after a transient conflict, at most ATTEMPTS
    times; Busy (``busy``) after that."""
    for i in range(ATTEMPTS):
        try:
            return attempt()
        except DBAPIError as exc:  # IntegrityError and OperationalError included
            db.rollback()
            if not retryable(exc):
                raise
            time.sleep(random.uniform(0, 0.01 * 2**i))
    raise Busy(f"{busy}; send it again")


def _current(scenario_id: str, district: str, date: dt.date):
    return (
        DistrictDayRecord.scenario_id == scenario_id,
        DistrictDayRecord.district == district,
        DistrictDayRecord.date == date,
        DistrictDayRecord.current.is_(True),
    )


def _add(
    db: Session, scenario_id: str, district: str, date: dt.date, payload: dict, key_id: int | None
) -> DistrictDayRecord:
    """Retire the current row of a unit and date (it stays in the history) and insert the new
    current one. Call with the scenario locked; the caller commits."""
    db.execute(
        update(DistrictDayRecord)
        .where(*_current(scenario_id, district, date))
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


def submit(
    db: Session,
    scenario_id: str,
    who: Principal,
    build: Callable[[Scenario], Iterable[Submission]],
    **detail: Any,
) -> list[DistrictDayRecord]:
    """Store new current inputs, each audited (with ``detail``), all in one transaction.

    ``build`` makes the submissions from the scenario as it is under its lock (not as first
    read), and raises InputError to refuse them; retried after a conflict, Busy if it keeps
    meeting one, NotFound when the scenario is gone."""

    def attempt() -> list[DistrictDayRecord]:
        locked = scenarios.lock(db, scenario_id)
        scn = scenario_from_data(locked.data, source=f"scenario {scenario_id}")
        rows = []
        for district, date, payload in build(scn):
            row = _add(db, scenario_id, district, date, payload, who.key_id)
            audit.record(
                db,
                who,
                "district_day.submit",
                "district_day",
                f"{scenario_id}/{district}/{date}",
                submission=row.id,
                **detail,
            )
            rows.append(row)
        db.commit()
        return rows

    return with_retries(db, attempt)


def current_row(
    db: Session, scenario_id: str, district: str, date: dt.date
) -> DistrictDayRecord | None:
    return db.execute(
        select(DistrictDayRecord).where(*_current(scenario_id, district, date))
    ).scalar_one_or_none()


def reports_on(db: Session, scenario_id: str, date: dt.date) -> list[tuple[str, dict[str, Any]]]:
    """The current report of every unit for ``date``: (unit code, payload), by code."""
    rows = db.execute(
        select(DistrictDayRecord)
        .where(
            DistrictDayRecord.scenario_id == scenario_id,
            DistrictDayRecord.date == date,
            DistrictDayRecord.current.is_(True),
        )
        .order_by(DistrictDayRecord.district)
    ).scalars()
    return [(r.district, dict(r.payload)) for r in rows]


def history(db: Session, scenario_id: str, district: str, date: dt.date) -> list[DistrictDayRecord]:
    """Every submission of a unit and date, newest first (none for a code that cannot be
    stored)."""
    if not usable_id(district, DistrictDayRecord.district):
        return []
    return list(
        db.execute(
            select(DistrictDayRecord)
            .where(
                DistrictDayRecord.scenario_id == scenario_id,
                DistrictDayRecord.district == district,
                DistrictDayRecord.date == date,
            )
            .order_by(DistrictDayRecord.id.desc())
        ).scalars()
    )


def submissions(db: Session, scenario_id: str) -> int:
    """Submissions kept for the scenario, current or not."""
    return db.execute(
        select(func.count())
        .select_from(DistrictDayRecord)
        .where(DistrictDayRecord.scenario_id == scenario_id)
    ).scalar_one()


def current_reports(db: Session, scenario_id: str) -> list[DistrictDay]:
    """The current input of every unit and date, in the order submitted."""
    rows = db.execute(
        select(DistrictDayRecord)
        .where(DistrictDayRecord.scenario_id == scenario_id, DistrictDayRecord.current.is_(True))
        .order_by(DistrictDayRecord.id)
    ).scalars()
    return [
        DistrictDay(
            r.district,
            r.date,
            r.payload.get("epidemic_level"),
            r.payload.get("prevalence", {}),
            r.payload.get("samples", {}),
        )
        for r in rows
    ]


def not_applied(db: Session, scn: Scenario, scenario_id: str) -> list[tuple[DistrictDay, str]]:
    """Current inputs that do not fit ``scn`` (e.g. days before a later start date), with the
    reason: they stay in the history and the plan leaves them out."""
    return split_reports(scn, current_reports(db, scenario_id))[1]


def build_scenario(
    db: Session,
    record: ScenarioRecord,
    start: dt.date | None = None,
    days: int | None = None,
) -> Scenario:
    """The stored scenario with the units' current inputs that fit it, cut to the planning
    window (``days`` from ``start``; default: its whole horizon)."""
    return planning_scenario(
        record.data, current_reports(db, record.id), start, days, f"scenario {record.id}"
    )


def archive(db: Session, scenario_id: str) -> list[dict[str, Any]]:
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
