"""Background planning: a queue kept in the database, worked by threads of this process.

A job is claimed atomically (queued -> running) and solved in a child process
(labopt_api.planrun) that is killed at the job's time limit, which covers the whole job, or when
the plan is cancelled; the child's memory is bounded too. The job reports progress and a
heartbeat while it runs, and is marked done together with its tables in one transaction, so a
half-written plan is never served; a job cancelled meanwhile stays cancelled. A job whose
heartbeat stops (its server died) is marked failed with the reason, at the next start or by any
running server; queued jobs survive restarts.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid

from sqlalchemy import select, update

from labopt.errors import InputError
from labopt_api.db import Database, rows_changed
from labopt_api.models import PlanJob, PlanTable, ScenarioRecord, now
from labopt_api.planrun import STEPS, PlanProcess, PlanTask, start_forkserver
from labopt_api.settings import ServiceSettings
from labopt_api.store import daily_records
from labopt_api.store.district_days import current_reports

log = logging.getLogger("labopt.jobs")
DIED = "the server stopped while this plan was running; submit it again"


def internal_error(job_id: str) -> str:
    """The job's error when labopt itself failed: no library text, which is for the log."""
    return (
        f"the plan failed because of an internal error of labopt; the server's log holds the "
        f"details under plan {job_id}"
    )


class PlanWorkers:
    def __init__(self, db: Database, settings: ServiceSettings):
        self.db = db
        self.settings = settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.children: dict[str, PlanProcess] = {}  # job id -> its running child
        self._cancelled: set[str] = set()  # cancelled through this process

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self.reap()
        if self.settings.plan_workers:
            start_forkserver()
        for i in range(self.settings.plan_workers):
            t = threading.Thread(target=self._work, name=f"plan-worker-{i}", daemon=True)
            t.start()
            self.threads.append(t)
        t = threading.Thread(target=self._heartbeat, name="plan-heartbeat", daemon=True)
        t.start()
        self.threads.append(t)

    def stop(self) -> None:
        """Stop the workers; a plan still running is stopped and failed (submit it again)."""
        self.stopping.set()
        self.wake.set()
        for t in self.threads:
            t.join(timeout=5)

    def notify(self) -> None:
        self.wake.set()

    def cancelled(self, job_id: str) -> None:
        """The plan was marked cancelled: stop its child at once if it runs here (elsewhere its
        server sees the status within a heartbeat)."""
        self._cancelled.add(job_id)

    # ---------------------------------------------------------------- housekeeping
    def reap(self) -> int:
        """Fail running jobs whose server stopped beating."""
        limit = now() - dt.timedelta(seconds=self.settings.stale_after_seconds)
        with self.db.sessions.begin() as s:
            res = s.execute(
                update(PlanJob)
                .where(
                    PlanJob.status == "running",
                    (PlanJob.heartbeat_at.is_(None)) | (PlanJob.heartbeat_at < limit),
                )
                .values(status="failed", error=DIED, finished_at=now())
            )
            return rows_changed(res) or 0

    def _heartbeat(self) -> None:
        while not self.stopping.wait(self.settings.heartbeat_seconds):
            try:
                with self.db.sessions.begin() as s:
                    s.execute(
                        update(PlanJob)
                        .where(PlanJob.owner == self.owner, PlanJob.status == "running")
                        .values(heartbeat_at=now())
                    )
                self.reap()
            except Exception:  # the next beat tries again
                if self.stopping.is_set():  # stopping: the database may be gone already
                    return
                log.exception("heartbeat failed")

    # ---------------------------------------------------------------- work
    def _claim(self) -> str | None:
        with self.db.sessions.begin() as s:
            job_id = s.execute(
                select(PlanJob.id)
                .where(PlanJob.status == "queued")
                .order_by(PlanJob.created_at)
                .limit(1)
            ).scalar_one_or_none()
            if job_id is None:
                return None
            res = s.execute(
                update(PlanJob)
                .where(PlanJob.id == job_id, PlanJob.status == "queued")
                .values(
                    status="running",
                    owner=self.owner,
                    started_at=now(),
                    heartbeat_at=now(),
                    message="starting",
                )
            )
            return job_id if rows_changed(res) == 1 else None

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

    def _update_running(self, job_id: str, **values) -> bool:
        """Update the job if it is still running (not cancelled, not reaped); False if not."""
        with self.db.sessions.begin() as s:
            res = s.execute(
                update(PlanJob)
                .where(PlanJob.id == job_id, PlanJob.status == "running")
                .values(**values)
            )
            return rows_changed(res) == 1

    def _progress(self, job_id: str, message: str) -> bool:
        step = next((i for i, s in enumerate(STEPS) if message.startswith(s)), None)
        values = {"message": message, "heartbeat_at": now()}
        if step is not None:
            values["progress"] = round(step / len(STEPS), 3)
        return self._update_running(job_id, **values)

    def _fail(self, job_id: str, error: str) -> None:
        self._update_running(job_id, status="failed", error=error, finished_at=now())

    def _still_running(self, job_id: str) -> bool:
        if job_id in self._cancelled:
            return False
        with self.db.sessions() as s:
            job = s.get(PlanJob, job_id, populate_existing=True)
            return job is not None and job.status == "running"  # None: deleted with its scenario

    def run(self, job_id: str) -> None:
        """Solve one claimed job in a child process, within the job's time limit (wall clock,
        from now) and memory limit."""
        limit = self.settings.plan_time_limit_seconds
        deadline = time.time() + limit
        child = None
        try:
            self._progress(job_id, STEPS[0])
            with self.db.sessions() as s:
                job = s.get(PlanJob, job_id)
                record = s.get(ScenarioRecord, job.scenario_id) if job else None
                if job is None or record is None:
                    raise LookupError("the plan's scenario was deleted")
                task = PlanTask(
                    record.data,
                    [] if job.daily else current_reports(s, record.id),
                    job.start_date,
                    job.days,
                    f"scenario {record.id}",
                    deadline,
                    self.settings.plan_memory_mb,
                    daily_records.stored(s, record.id) if job.daily else None,
                    record.version,
                )
            child = PlanProcess(task)
            self.children[job_id] = child
            self._follow(job_id, child, deadline)
        except InputError as exc:  # the scenario or the window: the message is for the user
            self._fail(job_id, str(exc))
        except Exception:
            log.exception("plan %s failed", job_id)
            self._fail(job_id, internal_error(job_id))
        finally:
            if child is not None:
                child.kill()
            self.children.pop(job_id, None)
            self._cancelled.discard(job_id)

    def _follow(self, job_id: str, child: PlanProcess, deadline: float) -> None:
        """Relay the child's progress until it answers, the deadline passes, the plan is
        cancelled or this server stops."""
        limit = self.settings.plan_time_limit_seconds
        memory = f"the memory limit of {self.settings.plan_memory_mb:,} MB (LABOPT_PLAN_MEMORY_MB)"
        step = STEPS[0]
        next_check = time.time() + self.settings.heartbeat_seconds
        while True:
            if self.stopping.is_set():
                return self._fail(job_id, DIED)
            t = time.time()
            if t >= deadline:
                return self._fail(
                    job_id,
                    f"stopped at the time limit of {limit:g} s "
                    f"(LABOPT_PLAN_TIME_LIMIT_SECONDS) while {step}",
                )
            if job_id in self._cancelled or t >= next_check:
                if not self._still_running(job_id):
                    return None  # cancelled (or reaped): the child is killed
                next_check = t + self.settings.heartbeat_seconds
            message = child.next(min(0.1, deadline - t))
            if message is None:
                continue
            kind = message[0]
            if kind == "progress":
                if message[1].startswith(STEPS):
                    step = message[1]
                if not self._progress(job_id, message[1]):
                    return None
            elif kind == "done":
                return self._save(job_id, *message[1:])
            elif kind == "memory":
                return self._fail(
                    job_id, f"stopped while {step}: the plan needs more than {memory}"
                )
            elif kind == "died":
                return self._fail(
                    job_id,
                    f"the plan's process ended without an answer while "
                    f"{step} (exit code {message[1]}); it may have needed "
                    f"more than {memory}",
                )
            elif kind == "fault":
                log.error("plan %s failed in its process: %s", job_id, message[1])
                return self._fail(job_id, internal_error(job_id))
            else:
                return self._fail(job_id, message[1])

    def _save(self, job_id: str, tables: dict, summary: dict) -> None:
        """The tables and "done" in one transaction; nothing if the plan was cancelled."""
        self._progress(job_id, STEPS[-1])
        with self.db.sessions.begin() as s:
            res = s.execute(
                update(PlanJob)
                .where(PlanJob.id == job_id, PlanJob.status == "running")
                .values(
                    status="done", progress=1.0, message="done", finished_at=now(), summary=summary
                )
            )
            if rows_changed(res) != 1:
                return
            for name, (columns, rows) in tables.items():
                s.add(PlanTable(plan_id=job_id, name=name, columns=columns, rows=rows))
