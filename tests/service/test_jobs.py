"""Plan jobs: the queue bound under concurrency, the whole-job time and memory limits, cancel."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from labopt_api.main import create_app
from labopt_api.models import PlanJob
from labopt_api.routers.keys import create_key
from tests.service.conftest import settings_for
from tests.service.live import LiveServer
from tests.service.test_api import tiny_json

CLIENTS = 20
QUEUE = 8


def queued(app) -> int:
    with app.state.db.sessions() as s:
        return s.execute(select(func.count()).select_from(PlanJob)
                         .where(PlanJob.status == "queued")).scalar_one()


def check_burst(responses) -> None:
    """Exactly QUEUE accepted, the rest 429 with Retry-After, nothing else."""
    codes = sorted(r.status_code for r in responses)
    assert codes == [202] * QUEUE + [429] * (CLIENTS - QUEUE), [r.text for r in responses
                                                                if r.status_code >= 500]
    for r in responses:
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) > 0 and "already waiting" in r.text


# ------------------------------------------------------------------ the queue bound
def test_the_queue_bound_holds_under_concurrent_posts(database_url):
    """20 threads post at once to a queue of 8 that nothing drains."""
    app = create_app(settings_for(database_url, plan_queue_size=QUEUE))
    with TestClient(app) as c:
        app.state.workers.stop()                       # nothing leaves the queue
        with app.state.db.sessions() as s:
            _, key = create_key(s, "coordinator", ["tiny"])
        h = {"Authorization": f"Bearer {key}"}
        sid = c.post("/v1/scenarios", headers=h, json=tiny_json()).json()["id"]
        with ThreadPoolExecutor(CLIENTS) as pool:
            responses = list(pool.map(
                lambda _: c.post("/v1/plans", headers=h, json={"scenario_id": sid}),
                range(CLIENTS)))
        check_burst(responses)
        assert queued(app) == QUEUE


def test_the_queue_bound_holds_against_a_live_server(database_url):
    """Two server processes that only serve (LABOPT_PLAN_WORKERS=0), 20 clients at once."""
    server = LiveServer(database_url, workers=2, plan_workers=0,
                        plan_queue_size=QUEUE).start()
    try:
        coord = server.key("coordinator", "tiny")
        with httpx.Client(base_url=server.url, timeout=60) as c:
            sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]

        def post(_):
            with httpx.Client(base_url=server.url, timeout=60) as own:   # own connection
                return own.post("/v1/plans", headers=coord, json={"scenario_id": sid})

        with ThreadPoolExecutor(CLIENTS) as pool:
            responses = list(pool.map(post, range(CLIENTS)))
        check_burst(responses)
        with httpx.Client(base_url=server.url, timeout=60) as c:
            plans = c.get("/v1/plans", headers=coord).json()
        plans = plans["items"] if isinstance(plans, dict) else plans      # paged or not
        assert sum(p["status"] == "queued" for p in plans) == QUEUE
    finally:
        server.stop()
