"""Every response carries a request id and the security headers; repeated failed
authentication from one client address is answered 429 with Retry-After."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from labopt_api.main import create_app
from labopt_api.protection import RequestIdFilter
from labopt_api.store.keys import create_key
from tests.service.conftest import settings_for
from tests.service.live import LiveServer
from tests.service.test_api import tiny_json
from tests.service.test_batches import new_batch

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def check_headers(r, *, html=False, static=False) -> None:
    for name, value in COMMON.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers)
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", r.headers["x-request-id"])
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    if html:
        assert "script-src" not in csp or "https:" not in csp
        assert "http" not in csp  # nothing remote allowed
    if static:
        assert "no-store" not in r.headers.get("cache-control", "")
    else:
        assert r.headers["cache-control"] == "no-store", (r.request.url, r.headers)


@pytest.fixture
def app_client(database_url):
    app = create_app(settings_for(database_url, max_body_mb=0.5, auth_failures_per_minute=5))

    def boom():
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield app, c


def test_every_response_has_the_request_id_and_security_headers(app_client, caplog):
    app, c = app_client
    with app.state.db.sessions() as s:
        _, key = create_key(s, "coordinator", ["tiny"])
    h = {"Authorization": f"Bearer {key}"}
    sid = c.post("/v1/scenarios", headers=h, json=tiny_json()).json()["id"]
    batch, _ = new_batch(c, h, sid, n=30, algorithm="D2", config="5")
    responses = {
        "json": c.get("/healthz"),
        "list": c.get("/v1/scenarios", headers=h),
        "401": c.get("/v1/scenarios"),
        "404": c.get("/v1/scenarios/nope", headers=h),
        "422": c.post("/v1/pooling/evaluate", headers=h, json={"algorithm": "??"}),
        "413": c.post("/v1/scenarios", headers=h, content=b"x" * 600_000),
        "csv": c.get(f"/v1/batches/{batch['id']}/tables/manifest", headers=h),
        "openapi": c.get("/openapi.json"),
    }
    assert [
        k
        for k, r in responses.items()
        if r.status_code
        != {
            "json": 200,
            "list": 200,
            "401": 401,
            "404": 404,
            "422": 422,
            "413": 413,
            "csv": 200,
            "openapi": 200,
        }[k]
    ] == []
    for r in responses.values():
        check_headers(r)
    for path in (f"/v1/batches/{batch['id']}/plates.html", "/docs", "/redoc"):
        r = c.get(path, headers=h)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        check_headers(r, html=True)
    assert (
        "style-src 'unsafe-inline'"
        in c.get(f"/v1/batches/{batch['id']}/plates.html", headers=h).headers[
            "content-security-policy"
        ]
    )
    r = c.get("/static/swagger-ui/swagger-ui.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    check_headers(r, static=True)
    # an unexpected error: a JSON 500 quoting the request id, logged with it
    logger, request_ids = logging.getLogger("labopt_api"), RequestIdFilter()
    logger.addFilter(request_ids)  # as log_config() does on the server's handlers
    try:
        with caplog.at_level(logging.ERROR, logger="labopt_api"):
            r = c.get("/boom", headers={"X-Request-ID": "trace-42"})
    finally:
        logger.removeFilter(request_ids)
    assert r.status_code == 500 and "trace-42" in r.json()["detail"]
    check_headers(r)
    assert r.headers["x-request-id"] == "trace-42"
    record = next(x for x in caplog.records if "unexpected error" in x.getMessage())
    assert record.request_id == "trace-42" and record.exc_info[1].args == ("a bug",)


def test_a_sane_request_id_is_kept_others_replaced(app_client):
    _, c = app_client
    assert (
        c.get("/healthz", headers={"X-Request-ID": "abc-123.x:9"}).headers["x-request-id"]
        == "abc-123.x:9"
    )
    ids = set()
    for bad in ("", "has space", "x" * 129, "new\\nline", "<script>"):
        rid = c.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", rid), (bad, rid)
        ids.add(rid)
    assert len(ids) == 5  # a new id for each request


def test_repeated_failed_authentication_gets_429(app_client):
    app, c = app_client
    with app.state.db.sessions() as s:
        _, key = create_key(s, "admin", [])
    good = {"Authorization": f"Bearer {key}"}
    for i in range(5):
        r = c.get("/v1/scenarios", headers={"Authorization": f"Bearer wrong{i}"})
        assert r.status_code == 401
    r = c.get("/v1/scenarios", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    check_headers(r)
    # the right key from the same address is refused too (else the answers tell them apart)
    assert c.get("/v1/scenarios", headers=good).status_code == 429
    assert c.get("/healthz").status_code == 200  # no key needed: not throttled
    # another client address is not affected
    # (not entered: a second lifespan would start the app's workers again and lose the first)
    other = TestClient(app, client=("10.0.0.9", 4000))
    assert other.get("/v1/scenarios", headers=good).status_code == 200


def test_the_live_access_log_carries_the_request_id(tmp_path):
    server = LiveServer(f"sqlite:///{tmp_path / 'labopt.db'}")
    server.log_level = "info"
    try:
        server.start()
        r = httpx.get(server.url + "/v1/scenarios", headers={"X-Request-ID": "live-rid-1"})
        assert r.status_code == 401 and r.headers["x-request-id"] == "live-rid-1"
        generated = httpx.get(server.url + "/healthz").headers["x-request-id"]
    finally:
        server.stop()
    out = server.proc.stdout.read().decode()
    assert re.search(r'\[live-rid-1\] .*"GET /v1/scenarios HTTP/1.1" 401', out), out[-2000:]
    assert re.search(rf'\[{generated}\] .*"GET /healthz HTTP/1.1" 200', out), out[-2000:]
