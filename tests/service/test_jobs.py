"""Plan jobs: the queue bound under concurrency, the whole-job time and memory limits, cancel."""

from __future__ import annotations

import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from labopt.scenario import scenario_to_data
from labopt.scenario.synth import synthesize
from labopt_api.main import create_app
from labopt_api.models import PlanJob
from labopt_api.store.keys import create_key
from tests.service.conftest import settings_for, wait_done
from tests.service.live import LiveServer
from tests.service.test_api import tiny_json

CLIENTS = 20
QUEUE = 8


@pytest.fixture(scope="module")
def large_json() -> dict:
    """1,500 units and 600 labs: about 25 s and 1 GB of address space to plan, of which 6 s
    of building the model before the solver starts."""
    return json.loads(
        json.dumps(scenario_to_data(synthesize(1500, 600, days=7, seed=2)), default=str)
    )


class App:
    """An in-process service with a coordinator key of every province."""

    def __init__(self, client: TestClient, app):
        self.c, self.app = client, app
        self.h = self.key("coordinator", "*")

    def key(self, role: str, *scopes: str) -> dict:
        with self.app.state.db.sessions() as s:
            _, key = create_key(s, role, list(scopes))
        return {"Authorization": f"Bearer {key}"}

    def scenario(self, data: dict) -> str:
        r = self.c.post("/v1/scenarios", headers=self.h, json=data)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def plan(self, sid: str) -> str:
        r = self.c.post("/v1/plans", headers=self.h, json={"scenario_id": sid})
        assert r.status_code == 202, r.text
        return r.json()["id"]

    def wait_status(self, pid: str, status: str, timeout: float = 60) -> dict:
        t0 = time.time()
        while (plan := self.c.get(f"/v1/plans/{pid}", headers=self.h).json())["status"] != status:
            assert time.time() - t0 < timeout, plan
            time.sleep(0.05)
        return plan


def running_app(database_url, **settings):
    app = create_app(settings_for(database_url, **settings))
    return app, TestClient(app)


def gone(pid: int, timeout: float = 5) -> bool:
    """The process has ended (and was reaped) within ``timeout`` seconds."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            state = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return True  # reaped, possibly between finding the file and reading it
        if "State:\tZ" in state:
            return True
        time.sleep(0.05)
    return False


def seconds(a: str, b: str) -> float:
    return (dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds()


def queued(app) -> int:
    with app.state.db.sessions() as s:
        return s.execute(
            select(func.count()).select_from(PlanJob).where(PlanJob.status == "queued")
        ).scalar_one()


def check_burst(responses) -> None:
    """Exactly QUEUE accepted, the rest 429 with Retry-After, nothing else."""
    codes = sorted(r.status_code for r in responses)
    assert codes == [202] * QUEUE + [429] * (CLIENTS - QUEUE), [
        r.text for r in responses if r.status_code >= 500
    ]
    for r in responses:
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) > 0 and "already waiting" in r.text


# ------------------------------------------------------------------ the queue bound
def test_the_queue_bound_holds_under_concurrent_posts(database_url):
    """20 threads post at once to a queue of 8 that nothing drains."""
    app = create_app(settings_for(database_url, plan_queue_size=QUEUE))
    with TestClient(app) as c:
        app.state.workers.stop()  # nothing leaves the queue
        with app.state.db.sessions() as s:
            _, key = create_key(s, "coordinator", ["tiny"])
        h = {"Authorization": f"Bearer {key}"}
        sid = c.post("/v1/scenarios", headers=h, json=tiny_json()).json()["id"]
        with ThreadPoolExecutor(CLIENTS) as pool:
            responses = list(
                pool.map(
                    lambda _: c.post("/v1/plans", headers=h, json={"scenario_id": sid}),
                    range(CLIENTS),
                )
            )
        check_burst(responses)
        assert queued(app) == QUEUE


def test_the_queue_bound_holds_against_a_live_server(database_url):
    """Two server processes that only serve (LABOPT_PLAN_WORKERS=0), 20 clients at once."""
    server = LiveServer(database_url, workers=2, plan_workers=0, plan_queue_size=QUEUE).start()
    try:
        coord = server.key("coordinator", "tiny")
        with httpx.Client(base_url=server.url, timeout=60) as c:
            sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]

        def post(_):
            with httpx.Client(base_url=server.url, timeout=60) as own:  # own connection
                return own.post("/v1/plans", headers=coord, json={"scenario_id": sid})

        with ThreadPoolExecutor(CLIENTS) as pool:
            responses = list(pool.map(post, range(CLIENTS)))
        check_burst(responses)
        with httpx.Client(base_url=server.url, timeout=60) as c:
            plans = c.get("/v1/plans", headers=coord).json()
        plans = plans["items"] if isinstance(plans, dict) else plans  # paged or not
        assert sum(p["status"] == "queued" for p in plans) == QUEUE
    finally:
        server.stop()


def running_child(app, a, pid: str) -> int:
    """The process id of plan ``pid``'s child, once the plan runs in one."""
    a.wait_status(pid, "running")
    t0 = time.time()
    while pid not in app.state.workers.children:
        assert time.time() - t0 < 10
        time.sleep(0.01)
    return app.state.workers.children[pid].process.pid


# ------------------------------------------------------------------ time and memory limits
def test_the_time_limit_covers_the_whole_job(database_url, large_json):
    """A 2 s limit: the job is stopped at 2 s while still building the model (the solver
    alone would have started after it), its process killed."""
    app, client = running_app(database_url, plan_time_limit_seconds=2)
    with client as c:
        a = App(c, app)
        pid = a.plan(a.scenario(large_json))
        child = running_child(app, a, pid)
        plan = a.wait_status(pid, "failed", timeout=30)
        took = seconds(plan["started_at"], plan["finished_at"])
        print(f"\n2 s limit: started to failed in {took:.2f} s: {plan['error']}")
        assert plan["error"].startswith(
            "stopped at the time limit of 2 s (LABOPT_PLAN_TIME_LIMIT_SECONDS) while "
        )
        assert 2 <= took < 3.5
        assert gone(child) and plan["tables"] == []
        assert c.post(f"/v1/plans/{pid}/cancel", headers=a.h).status_code == 409


def test_the_memory_limit_stops_a_plan_with_the_reason(database_url, large_json):
    app, client = running_app(database_url, plan_memory_mb=700)
    with client as c:
        a = App(c, app)
        pid = a.plan(a.scenario(large_json))
        plan = a.wait_status(pid, "failed", timeout=120)
        assert "more than the memory limit of 700 MB (LABOPT_PLAN_MEMORY_MB)" in plan["error"]
        assert plan["tables"] == []
        # the next plan runs as usual
        plan = wait_done(c, a.plan(a.scenario(tiny_json())), a.h)
        assert plan["status"] == "done", plan["error"]
        assert plan["progress"] == 1.0 and plan["summary"]["check"]["ok"]


# ------------------------------------------------------------------ cancel
def test_cancel_a_queued_plan_at_once(database_url):
    app, client = running_app(database_url)
    with client as c:
        app.state.workers.stop()  # it stays queued
        a = App(c, app)
        pid = a.plan(a.scenario(tiny_json()))
        for key in (
            a.key("lab", "tiny/cdc"),
            a.key("district", "tiny/d1"),
            a.key("coordinator", "elsewhere"),
        ):
            assert c.post(f"/v1/plans/{pid}/cancel", headers=key).status_code == 403
        r = c.post(f"/v1/plans/{pid}/cancel", headers=a.key("coordinator", "tiny"))
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "cancelled" and r.json()["finished_at"]
        assert c.get(f"/v1/plans/{pid}", headers=a.h).json()["status"] == "cancelled"
        r = c.post(f"/v1/plans/{pid}/cancel", headers=a.h)
        assert r.status_code == 409 and "is cancelled" in r.text
        assert c.get(f"/v1/plans/{pid}/tables/days", headers=a.h).status_code == 409
        assert c.post("/v1/plans/nope/cancel", headers=a.h).status_code == 404


def test_cancel_a_running_plan_kills_its_process(database_url, large_json):
    app, client = running_app(database_url)
    with client as c:
        a = App(c, app)
        pid = a.plan(a.scenario(large_json))
        child = running_child(app, a, pid)
        r = c.post(f"/v1/plans/{pid}/cancel", headers=a.key("admin"))
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        assert gone(child, timeout=3)
        # the worker thread forgets the child once it has seen it die
        t0 = time.time()
        while pid in app.state.workers.children:
            assert time.time() - t0 < 10, "the worker kept a dead child"
            time.sleep(0.01)
        plan = c.get(f"/v1/plans/{pid}", headers=a.h).json()
        assert plan["status"] == "cancelled" and plan["tables"] == []
        assert "cancelled by key" in plan["error"]
        # the worker is free for the next plan
        plan = wait_done(c, a.plan(a.scenario(tiny_json())), a.h)
        assert plan["status"] == "done", plan["error"]


def test_a_finished_plan_cannot_be_cancelled(database_url):
    app, client = running_app(database_url)
    with client as c:
        a = App(c, app)
        plan = wait_done(c, a.plan(a.scenario(tiny_json())), a.h)
        assert plan["status"] == "done", plan["error"]
        r = c.post(f"/v1/plans/{plan['id']}/cancel", headers=a.h)
        assert r.status_code == 409 and "is done" in r.text
        assert c.get(f"/v1/plans/{plan['id']}", headers=a.h).json()["status"] == "done"
