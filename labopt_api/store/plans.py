"""Plan jobs and their tables in the database: queue one, read, list, cancel.

The background work on a job (claiming it, progress, its result) is
:class:`labopt_api.jobs.PlanWorkers`'.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    false,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, defer

from labopt_api.db import rows_changed
from labopt_api.models import PlanJob, PlanTable, now
from labopt_api.security import Principal
from labopt_api.store import NotFound
from labopt_api.stored_text import usable_id

QUEUE_LOCK = 0x6C61_626F_7074  # PostgreSQL advisory lock of the plan queue ("labopt")


def enqueue(
    db: Session, values: dict[str, Any], limit: int, then: Callable[[], object] | None = None
) -> bool:
    """Queue a plan job (a queued PlanJob's column values) if fewer than ``limit`` are queued;
    False if the queue is full. Atomic under concurrent requests from any server process:

    - PostgreSQL: a transaction-level advisory lock serialises enqueuers; the count below then
      sees every enqueuer that went before (READ COMMITTED takes a snapshot per statement);
    - SQLite: the count is inside the INSERT statement, which holds the database's write lock
      from its start (writers are serialised, and it is the transaction's first statement).
    Ends the session's current transaction first and commits its own; ``then`` adds to that
    transaction once the job is in (its audit event).
    """
    db.commit()
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock(QUEUE_LOCK)))
    waiting = (
        select(func.count())
        .select_from(PlanJob)
        .where(PlanJob.status == "queued")
        .scalar_subquery()
    )
    table = cast(Table, PlanJob.__table__)
    row = select(*(literal(v, table.c[k].type) for k, v in values.items())).where(waiting < limit)
    # RETURNING tells whether a row went in (SQLAlchemy reports no row count for an INSERT ...
    # SELECT on psycopg)
    added = (
        db.execute(insert(table).from_select(list(values), row).returning(table.c.id)).first()
        is not None
    )
    if added and then is not None:
        then()
    db.commit()
    return added


def get(db: Session, plan_id: str) -> PlanJob:
    """The plan job; NotFound when there is none."""
    job = db.get(PlanJob, plan_id) if usable_id(plan_id, PlanJob.id) else None
    if job is None:
        raise NotFound(f"no plan {plan_id!r}")
    return job


def readable(who: Principal) -> ColumnElement[bool]:
    """The SQL condition for the plans ``who`` may list: coordinators their provinces', a lab
    its province's (its own rows of them), a unit its province's daily plans (its own
    dispatch rows of them)."""
    if who.is_admin() or (who.role == "coordinator" and "*" in who.scopes):
        return true()
    if who.role == "coordinator":
        return PlanJob.province_code.in_(who.scopes)
    provinces = sorted({s.split("/")[0] for s in who.scopes})
    if who.role == "lab":
        return PlanJob.province_code.in_(provinces)
    if who.role == "district":  # a unit reads its dispatch sheet of its province's daily plans
        return PlanJob.province_code.in_(provinces) & PlanJob.daily.is_(True)
    return false()


def listing(who: Principal, scenario_id: str | None = None) -> Select:
    """The plans ``who`` may see (of one scenario, if given), newest first, without their
    summaries."""
    q = (
        select(PlanJob)
        .options(defer(PlanJob.summary))
        .where(readable(who))
        .order_by(PlanJob.created_at.desc(), PlanJob.id)
    )
    if scenario_id is not None:
        q = q.where(PlanJob.scenario_id == scenario_id)
    return q


def cancel(db: Session, job: PlanJob, who: Principal) -> bool:
    """Mark a queued or running plan cancelled; commits. False when it had finished."""
    res = db.execute(
        update(PlanJob)
        .where(PlanJob.id == job.id, PlanJob.status.in_(("queued", "running")))
        .values(
            status="cancelled",
            message="cancelled",
            finished_at=now(),
            error=f"cancelled by key {who.key_id}",
        )
    )
    db.commit()
    db.refresh(job)
    return rows_changed(res) == 1


def table_names(db: Session, plan_id: str) -> list[str]:
    """The names of a plan's stored tables, sorted (none until it is done)."""
    return sorted(db.execute(select(PlanTable.name).where(PlanTable.plan_id == plan_id)).scalars())


def table(db: Session, plan_id: str, name: str) -> PlanTable:
    """A done plan's table."""
    return db.execute(
        select(PlanTable).where(PlanTable.plan_id == plan_id, PlanTable.name == name)
    ).scalar_one()


def planned_days(
    db: Session, scenario_id: str, dates: list[dt.date]
) -> dict[dt.date, tuple[list, list]]:
    """For each date of ``dates`` with a finished daily plan from it, the ``planned`` table
    (columns, rows) of the last one requested."""
    if not dates:
        return {}
    found = db.execute(
        select(PlanJob.start_date, PlanTable.columns, PlanTable.rows)
        .join(PlanTable, PlanTable.plan_id == PlanJob.id)
        .where(
            PlanJob.scenario_id == scenario_id,
            PlanJob.daily.is_(True),
            PlanJob.status == "done",
            PlanJob.start_date.in_(dates),
            PlanTable.name == "planned",
        )
        .order_by(PlanJob.created_at, PlanJob.id)
    ).all()
    return {start: (columns, rows) for start, columns, rows in found}
