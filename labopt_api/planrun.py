"""One plan job in a child process, so that its time and memory are bounded as a whole.

The child does every step of the job (loading the scenario, designs, building and solving the
model, rounding, tables, the check) under an address-space limit (``RLIMIT_AS``) and sends its
progress, then its tables and summary, through a one-way pipe. The parent kills it, with what
it started (OR-Tools' own child), when the job's deadline passes or the plan is cancelled.

Children are forked from a server that has already imported labopt (multiprocessing's
"forkserver", preloaded with this module): a plan starts in milliseconds, not the seconds that
importing labopt takes, and no thread state of the service is forked. A child whose server
died kills itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np
import pandas as pd

from labopt.daily.history import planned_table
from labopt.daily.morning import plan_day
from labopt.daily.province import merged_records, static_part
from labopt.daily.sheets import dispatch_tables
from labopt.errors import InputError
from labopt.scenario import scenario_from_data
from labopt.scenario.updates import DistrictDay, planning_scenario
from labopt.schedule import plan_scenario
from labopt.schedule.output import tables as plan_tables
from labopt_api.failpoints import failpoint

STEPS = (
    "loading the scenario",
    "designs and capacities",
    "solving the allocation",
    "rounding to whole samples",
    "tables and shortfall report",
    "independent check",
    "saving",
)
PARENT_CHECK_SECONDS = 0.5
CLI = "labopt.cli.main"
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])


@dataclass
class PlanTask:
    """What a child needs: the scenario as stored, the reports, the window, the limits."""

    data: dict
    reports: list[DistrictDay]
    start: dt.date
    days: int
    source: str
    deadline: float  # wall clock (time.time()) at which the job is stopped
    memory_mb: int  # address space of the child (and of what it starts), MB
    # a daily plan: the groups of records uploaded (labopt.daily.province.merged_records)
    daily: dict[str, pd.DataFrame] | None = None
    version: int = 1  # the scenario's version (its static part, for a daily plan)


def start_forkserver() -> None:
    """Start the fork server now (it imports labopt, a few seconds), not at the first plan.

    Each child runs the program's main module again, as multiprocessing does: the fork server
    imports it too (``labopt serve`` started as ``labopt`` or ``python -m labopt.cli.main``),
    so that a child does not import all the CLI imports anew for every plan."""
    name = getattr(getattr(sys.modules["__main__"], "__spec__", None), "name", None)
    by_name = [name] if name and not name.endswith("__main__") else []
    _CONTEXT.set_forkserver_preload([__name__, CLI, *by_name])
    threading.Thread(
        target=multiprocessing.forkserver.ensure_running, daemon=True, name="plan-forkserver"
    ).start()


class PlanProcess:
    """The parent's handle on one plan's child process."""

    def __init__(self, task: PlanTask):
        self._receive, send = _CONTEXT.Pipe(duplex=False)
        # not a daemon: it may start OR-Tools' time-limited child itself
        self.process = _CONTEXT.Process(target=_child, args=(send, task), name="labopt-plan")
        self.process.start()
        send.close()  # the child holds the only writing end now

    def next(self, timeout: float):
        """The child's next message, None if none came within ``timeout`` seconds:
        ("progress", text), ("done", tables, summary), ("error", text), ("memory",), or
        ("died", exit code) when it ended without an answer."""
        if not self._receive.poll(max(timeout, 0.0)):
            return None
        try:
            return self._receive.recv()
        except EOFError:
            self.process.join(timeout=5)
            return ("died", self.process.exitcode)

    def kill(self) -> None:
        """Stop the child and whatever it started (its own process group) and wait for it."""
        pid = self.process.pid
        # not yet in its own group, or gone
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if pid is not None:  # always set: __init__ started it
                os.killpg(pid, signal.SIGKILL)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self._receive.close()


# ---------------------------------------------------------------- the child's side
def _child(conn, task: PlanTask) -> None:
    os.setpgrp()  # one kill stops it and OR-Tools' child
    limit = task.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _die_with_parent()
    try:
        conn.send(("progress", STEPS[0]))
        frames, summary = _daily(conn, task) if task.daily is not None else _plan(conn, task)
        tables = {name: (list(df.columns), _json_rows(df)) for name, df in frames.items()}
        conn.send(("done", tables, _jsonable(summary)))
    except MemoryError:
        conn.send(("memory",))
    except InputError as exc:  # the scenario or window: the message is for the user
        conn.send(("error", str(exc)))
    except Exception as exc:  # noqa: BLE001 -- a fault of labopt: the details go to the log
        conn.send(("fault", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"))
    finally:
        conn.close()


def _plan(conn, task: PlanTask) -> tuple[dict[str, pd.DataFrame], dict]:
    scn = planning_scenario(task.data, task.reports, task.start, task.days, task.source)
    failpoint("plan.child")
    report = plan_scenario(
        scn, progress=lambda m: conn.send(("progress", m)), deadline=task.deadline
    )
    return plan_tables(report), report.to_dict()


def _daily(conn, task: PlanTask) -> tuple[dict[str, pd.DataFrame], dict]:
    """A daily plan: from the state the records carry to its date, with its dispatch sheets
    (DISPATCH tables) and day 1 as planned (for the history)."""
    scn = scenario_from_data(task.data, source=task.source)
    records = merged_records(scn, task.daily or {})
    failpoint("plan.child")
    day = plan_day(
        static_part(scn),
        records,
        task.start,
        task.days,
        progress=lambda m: conn.send(("progress", m)),
        deadline=task.deadline,
    )
    sheets = dispatch_tables(day.report)
    frames = {
        **plan_tables(day.report),
        **{f"dispatch_{k}": df for k, df in sheets.items()},
        "planned": planned_table(day.report),
    }
    summary = {
        **day.report.to_dict(),
        "daily": {
            "waiting_at_start": day.waiting_at_start,
            "forecast": day.forecast,
            "scenario_version": task.version,
        },
    }
    return frames, summary


def _die_with_parent() -> None:
    """Kill this child's process group if the fork server (which ends with the service's
    process) goes: a plan never outlives its server."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            if os.getppid() != parent:
                os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


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
