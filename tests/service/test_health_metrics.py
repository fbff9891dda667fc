"""Readiness and liveness with the database down; /metrics totals across server processes."""

from __future__ import annotations

import re

import httpx
import psycopg
from fastapi.testclient import TestClient

from labopt_api.db import Database
from labopt_api.main import create_app
from labopt_api.store.keys import create_key
from tests.service.conftest import PG, settings_for
from tests.service.live import LiveServer

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/labopt?connect_timeout=2"


def unreachable_url(database_url: str, tmp_path) -> str:
    """A database of the same kind that cannot be opened."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no such folder' / 'labopt.db'}"
    return UNREACHABLE


def assert_down(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["status"] == "unavailable" and body["database"] == "unavailable"
    assert "database" in body["detail"] and int(r.headers["Retry-After"]) > 0
    assert "127.0.0.1" not in r.text and "postgres" not in r.text  # no address leaked


def test_database_down_readiness_is_json_503_liveness_stays_up(database_url, tmp_path):
    app = create_app(settings_for(database_url))
    with TestClient(app) as c:
        with app.state.db.sessions() as s:
            _, key = create_key(s, "admin", [])
        h = {"Authorization": f"Bearer {key}"}
        for path in ("/healthz", "/readyz"):
            assert c.get(path).json() == {"status": "ok", "database": "ok"}
        assert c.get("/livez").json() == {"status": "ok"}
        up = app.state.db
        app.state.db = Database(unreachable_url(database_url, tmp_path))  # the database goes
        try:
            for path in ("/healthz", "/readyz"):
                assert_down(c.get(path))
            assert c.get("/livez").json() == {"status": "ok"}
            app.state.keys.clear()  # a request that needs the database
            assert_down(c.get("/v1/scenarios", headers=h))
        finally:
            app.state.db.engine.dispose()
            app.state.db = up
        assert c.get("/healthz").status_code == 200  # and it comes back


def test_database_stopped_under_a_live_server(fresh_postgres):
    """PostgreSQL refuses the server's database, then takes it back."""
    name = fresh_postgres.rsplit("/", 1)[1]
    server = LiveServer(fresh_postgres, workers=1).start()
    try:
        with psycopg.connect(**PG, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
        try:
            for path in ("/healthz", "/readyz"):
                assert_down(httpx.get(server.url + path, timeout=10))
            assert httpx.get(server.url + "/livez", timeout=10).json() == {"status": "ok"}
        finally:
            with psycopg.connect(**PG, autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        assert httpx.get(server.url + "/healthz", timeout=10).json() == {
            "status": "ok",
            "database": "ok",
        }
    finally:
        server.stop()


# ------------------------------------------------------------------ metrics
def counter(text: str, route: str) -> float:
    m = re.search(
        rf'^labopt_http_requests_total\{{method="POST",route="{re.escape(route)}",status="200"\}} (\S+)$',
        text,
        re.M,
    )
    return float(m.group(1)) if m else 0.0


def test_metrics_total_every_server_process(database_url):
    """Two server processes: every read of /metrics shows the total, whichever answers."""
    server = LiveServer(database_url, workers=2).start()
    n = 40
    try:
        admin = server.key("admin")
        for _ in range(n):  # a new connection each: both processes serve
            r = httpx.post(
                server.url + "/v1/pooling/evaluate",
                headers=admin,
                timeout=30,
                json={"algorithm": "D2", "config": "5", "prevalence": 0.02},
            )
            assert r.status_code == 200
        seen = set()
        for _ in range(20):
            text = httpx.get(server.url + "/metrics", headers=admin, timeout=30).text
            seen.add(counter(text, "/v1/pooling/evaluate"))
            assert "labopt_plan_jobs" in text
        assert seen == {n}
    finally:
        server.stop()
