"""Background planning: a queue kept in the database, worked by threads of this process.

A job is claimed atomically (queued -> running), reports progress and a heartbeat while it
runs, and is marked done together with its tables in one transaction, so a half-written plan
is never served. A job whose heartbeat stops (its server died) is marked failed with the
reason, at the next start or by any running server; queued jobs survive restarts.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import traceback
import uuid

import numpy as np
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from labopt.scenario import scenario_from_data
from labopt.scenario.updates import DistrictDay, apply_district_days, plan_window
from labopt.schedule import plan_scenario
from labopt.schedule.output import tables as plan_tables
from labopt_api.db import Database
from labopt_api.models import DistrictDayRecord, PlanJob, PlanTable, ScenarioRecord, now
from labopt_api.settings import ServiceSettings

log = logging.getLogger("labopt.jobs")
STEPS = ("loading the scenario", "designs and capacities", "solving the allocation",
         "rounding to whole samples", "tables and shortfall report", "independent check",
         "saving")
DIED = "the server stopped while this plan was running; submit it again"
QUEUE_LOCK = 0x6C61_626F_7074      # PostgreSQL advisory lock of the plan queue ("labopt")


def enqueue(db: Session, values: dict, limit: int) -> bool:
    """Queue a plan job (a queued PlanJob's column values) if fewer than ``limit`` are queued;
    False if the queue is full. Atomic under concurrent requests from any server process:

    - PostgreSQL: a transaction-level advisory lock serialises enqueuers; the count below then
      sees every enqueuer that went before (READ COMMITTED takes a snapshot per statement);
    - SQLite: the count is inside the INSERT statement, which holds the database's write lock
      from its start (writers are serialised, and it is the transaction's first statement).
    Ends the session's current transaction first and commits its own.
    """
    db.commit()
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock(QUEUE_LOCK)))
    waiting = (select(func.count()).select_from(PlanJob)
               .where(PlanJob.status == "queued").scalar_subquery())
    columns = PlanJob.__table__.c
    row = select(*(literal(v, columns[k].type) for k, v in values.items())).where(
        waiting < limit)
    # RETURNING tells whether a row went in (SQLAlchemy reports no row count for an INSERT ...
    # SELECT on psycopg)
    added = db.execute(insert(PlanJob.__table__).from_select(list(values), row)
                       .returning(PlanJob.__table__.c.id)).first() is not None
    db.commit()
    return added


def current_reports(db: Session, scenario_id: str) -> list[DistrictDay]:
    rows = db.execute(select(DistrictDayRecord).where(
        DistrictDayRecord.scenario_id == scenario_id, DistrictDayRecord.current.is_(True))
        .order_by(DistrictDayRecord.id)).scalars()
    return [DistrictDay(r.district, r.date, r.payload.get("epidemic_level"),
                        r.payload.get("prevalence", {}), r.payload.get("samples", {}))
            for r in rows]


def build_scenario(db: Session, record: ScenarioRecord, start=None, days=None):
    """The stored scenario with the districts' current reports, cut to the planning window."""
    scn = scenario_from_data(record.data, source=f"scenario {record.id}")
    scn = apply_district_days(scn, current_reports(db, record.id))
    return plan_window(scn, start, days)


class PlanWorkers:
    def __init__(self, db: Database, settings: ServiceSettings):
        self.db = db
        self.settings = settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self.reap()
        for i in range(self.settings.plan_workers):
            t = threading.Thread(target=self._work, name=f"plan-worker-{i}", daemon=True)
            t.start()
            self.threads.append(t)
        t = threading.Thread(target=self._heartbeat, name="plan-heartbeat", daemon=True)
        t.start()
        self.threads.append(t)

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        for t in self.threads:
            t.join(timeout=5)

    def notify(self) -> None:
        self.wake.set()

    # ---------------------------------------------------------------- housekeeping
    def reap(self) -> int:
        """Fail running jobs whose server stopped beating."""
        limit = now() - dt.timedelta(seconds=self.settings.stale_after_seconds)
        with self.db.sessions.begin() as s:
            res = s.execute(update(PlanJob).where(
                PlanJob.status == "running",
                (PlanJob.heartbeat_at.is_(None)) | (PlanJob.heartbeat_at < limit))
                .values(status="failed", error=DIED, finished_at=now()))
            return res.rowcount or 0

    def _heartbeat(self) -> None:
        while not self.stopping.wait(self.settings.heartbeat_seconds):
            try:
                with self.db.sessions.begin() as s:
                    s.execute(update(PlanJob).where(PlanJob.owner == self.owner,
                                                    PlanJob.status == "running")
                              .values(heartbeat_at=now()))
                self.reap()
            except Exception:                 # the next beat tries again
                log.exception("heartbeat failed")

    # ---------------------------------------------------------------- work
    def _claim(self) -> str | None:
        with self.db.sessions.begin() as s:
            job_id = s.execute(select(PlanJob.id).where(PlanJob.status == "queued")
                               .order_by(PlanJob.created_at).limit(1)).scalar_one_or_none()
            if job_id is None:
                return None
            res = s.execute(update(PlanJob).where(PlanJob.id == job_id,
                                                  PlanJob.status == "queued")
                            .values(status="running", owner=self.owner, started_at=now(),
                                    heartbeat_at=now(), message="starting"))
            return job_id if res.rowcount == 1 else None

    def _work(self) -> None:
        while not self.stopping.is_set():
            job_id = None
            try:
                job_id = self._claim()
            except Exception:
                log.exception("cannot claim a plan job")
            if job_id is None:
                self.wake.wait(0.5)
                self.wake.clear()
                continue
            self.run(job_id)

    def _progress(self, job_id: str, message: str) -> None:
        step = next((i for i, s in enumerate(STEPS) if message.startswith(s)), None)
        values = {"message": message, "heartbeat_at": now()}
        if step is not None:
            values["progress"] = round(step / len(STEPS), 3)
        with self.db.sessions.begin() as s:
            s.execute(update(PlanJob).where(PlanJob.id == job_id).values(**values))

    def run(self, job_id: str) -> None:
        try:
            with self.db.sessions() as s:
                job = s.get(PlanJob, job_id)
                record = s.get(ScenarioRecord, job.scenario_id)
                self._progress(job_id, STEPS[0])
                scn = build_scenario(s, record, job.start_date, job.days)
            limit = min(scn.settings.plan.time_limit_seconds,
                        self.settings.plan_time_limit_seconds)
            scn = scn.with_settings(plan={"time_limit_seconds": limit})
            report = plan_scenario(scn, progress=lambda m: self._progress(job_id, m))
            self._progress(job_id, STEPS[-1])
            summary = report.to_dict()
            with self.db.sessions.begin() as s:            # tables and "done" together
                for name, df in plan_tables(report).items():
                    s.add(PlanTable(plan_id=job_id, name=name, columns=list(df.columns),
                                    rows=_json_rows(df)))
                s.execute(update(PlanJob).where(PlanJob.id == job_id).values(
                    status="done", progress=1.0, message="done", finished_at=now(),
                    summary=_jsonable(summary)))
        except Exception as exc:
            log.warning("plan %s failed: %s", job_id, exc)
            detail = str(exc) if isinstance(exc, ValueError) else \
                f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
            with self.db.sessions.begin() as s:
                s.execute(update(PlanJob).where(PlanJob.id == job_id).values(
                    status="failed", error=detail, finished_at=now()))


def _json_rows(df) -> list[list]:
    return [[_jsonable(v) for v in row] for row in df.itertuples(index=False, name=None)]


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if np.isfinite(f) else None
    if v is None or isinstance(v, (str, int, bool)):
        return v
    return str(v)
