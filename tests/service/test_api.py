"""The coordinator service on both databases: endpoints, access control, bad input, jobs."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from labopt.examples import EXAMPLES
from labopt.pooling import SearchConstraints, evaluate, optimize
from labopt.pooling.frontier import frontier
from labopt.scenario import load_scenario, save_xlsx, scenario_to_data
from labopt_api.main import create_app
from labopt_api.models import PlanJob, now
from tests.service.conftest import settings_for, wait_done

TINY = Path(__file__).parent.parent / "data" / "tiny"
FIXTURES = EXAMPLES


def tiny_json() -> dict:
    return json.loads(json.dumps(scenario_to_data(load_scenario(TINY)), default=str))


def zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"{folder.name}/{f.name}")
    return buf.getvalue()


# ------------------------------------------------------------------ pooling
def test_pooling_endpoints_match_the_library(service):
    c, h = service.client, service.key("district", "tiny/a")
    r = c.post(
        "/v1/pooling/evaluate",
        headers=h,
        json={"algorithm": "D3", "config": "12:4,4,4", "prevalence": 0.01, "se": 0.97},
    )
    assert r.status_code == 200, r.text
    ref = evaluate("D3", "12:4,4,4", prevalence=0.01, se=0.97).to_dict()
    assert r.json() == json.loads(json.dumps(ref))
    grid = c.post(
        "/v1/pooling/evaluate",
        headers=h,
        json={"algorithm": "D2", "config": "10", "prevalence": [0.01, 0.02]},
    ).json()
    assert [x["prevalence"] for x in grid["results"]] == [0.01, 0.02]
    r = c.post(
        "/v1/pooling/optimize",
        headers=h,
        json={"prevalence": 0.01, "max_size": 16, "max_stages": 2},
    )
    best = optimize(0.01, max_size=16, max_stages=2).best
    assert r.json()["best"]["config"] == best.config
    assert set(r.json()) >= {"best", "ranking", "configurations_evaluated", "search_seconds"}


def test_informative_four_stage_over_http_is_the_librarys(service):
    c, h = service.client, service.key("district", "tiny/a")
    risks = [0.002] * 30 + [0.03] * 8 + [0.2, 0.4]
    body = {"algorithm": "ID4", "config": "30,8,1,1:15,15,4,4:5,5,5,5,5,5,2,2,2,2", "risks": risks}
    r = c.post("/v1/pooling/evaluate", headers=h, json=body)
    assert r.status_code == 200, r.text
    want = evaluate("ID4", body["config"], risks=risks).to_dict()
    assert r.json() == json.loads(json.dumps(want))
    r = c.post(
        "/v1/pooling/optimize",
        headers=h,
        json={"algorithm": "ID4", "risks": risks, "max_size": 32, "max_stages": 4},
    )
    assert r.status_code == 200, r.text
    best = optimize(risks=risks, algorithm="ID4", max_size=32, max_stages=4).best
    assert r.json()["best"]["config"] == best.config


def test_an_informative_array_in_the_spiral_arrangement_over_http(service):
    c, h = service.client, service.key("district", "tiny/a")
    risks = [0.2, 0.1, 0.05, 0.02] + [0.005] * 8
    body = {"algorithm": "IA2", "config": "3x4:spiral", "risks": risks}
    r = c.post("/v1/pooling/evaluate", headers=h, json=body)
    assert r.status_code == 200, r.text
    assert r.json() == json.loads(json.dumps(evaluate("IA2", "3x4:spiral", risks=risks).to_dict()))
    r = c.post("/v1/pooling/evaluate", headers=h, json={**body, "config": "3x4:helix"})
    assert r.status_code == 422 and "arrangement is one of gradient, spiral" in r.text


def test_the_frontier_over_http_is_the_librarys(service):
    c, h = service.client, service.key("district", "tiny/a")
    body = {"prevalence": 0.005, "se": 0.99, "sp": 0.99, "max_size": 32}
    r = c.post("/v1/pooling/frontier", headers=h, json=body)
    assert r.status_code == 200, r.text
    ref = frontier(0.005, se=0.99, sp=0.99, max_size=32).to_dict()
    assert r.json() == json.loads(json.dumps(ref))
    five = [cell for cell in r.json()["cells"] if cell["stages"] == 5]
    assert five[-1]["best"]["algorithm"] == "D5"
    too_big = c.post("/v1/pooling/frontier", headers=h, json={**body, "max_size": 65})
    assert too_big.status_code == 422 and "max_size" in too_big.text


@pytest.mark.parametrize(
    "body,loc,text",
    [
        (
            {"algorithm": "D3", "config": "12:4,4,5", "prevalence": 0.01},
            ["body", "config"],
            "must add up to the first-stage pool size 12",
        ),
        (
            {"algorithm": "D2", "config": "10", "prevalence": 1.5},
            ["body", "prevalence"],
            "less than or equal to 1",
        ),
        (
            {"algorithm": "XX", "config": "10", "prevalence": 0.1},
            ["body", "algorithm"],
            "'IT', 'D2', 'D3', 'D4', 'D5', 'A2', 'A2M', 'ID2', 'ID3', 'ID4' or 'IA2'",
        ),
        (
            {"algorithm": "D2", "config": "10", "prevalence": 0.01, "se": 0.4, "sp": 0.5},
            ["body", "se/sp"],
            "must exceed 1 - specificity",
        ),
        (
            {"algorithm": "D2", "config": "10", "prevalence": 0.01, "bogus": 1},
            ["body", "bogus"],
            "Extra inputs are not permitted",
        ),
    ],
)
def test_bad_pooling_input_is_422_with_the_field(service, body, loc, text):
    r = service.client.post("/v1/pooling/evaluate", headers=service.key("admin"), json=body)
    assert r.status_code == 422
    details = r.json()["detail"]
    assert any(d["loc"][: len(loc)] == loc and text in d["msg"] for d in details), details


def test_the_multiplex_endpoints_match_the_library(service):
    from labopt.pooling.multiplex import evaluate_multiplex
    from labopt.pooling.multiplex_search import optimize_multiplex

    c, h = service.client, service.key("district", "tiny/a")
    body = {"algorithm": "D3", "config": "12:4,4,4", "joint": [0.9, 0.05, 0.03, 0.02]}
    r = c.post("/v1/pooling/multiplex/evaluate", headers=h, json={**body, "se2": 0.9})
    assert r.status_code == 200, r.text
    ref = evaluate_multiplex("D3", "12:4,4,4", joint=(0.9, 0.05, 0.03, 0.02), se=0.95, se2=0.9)
    assert r.json() == json.loads(json.dumps(ref.to_dict()))
    r = c.post(
        "/v1/pooling/multiplex/optimize",
        headers=h,
        json={"joint": [0.95, 0.02, 0.02, 0.01], "max_size": 20, "top": 3},
    )
    assert r.status_code == 200, r.text
    lib = optimize_multiplex((0.95, 0.02, 0.02, 0.01), constraints=SearchConstraints(max_size=20))
    assert r.json()["best"]["config"] == lib.best.config and len(r.json()["ranking"]) == 3
    # nobody has disease 2: its sensitivity is undefined, null in JSON
    r = c.post(
        "/v1/pooling/multiplex/evaluate", headers=h, json={**body, "joint": [0.9, 0.1, 0, 0]}
    )
    assert r.status_code == 200 and r.json()["diseases"][1]["sensitivity"] is None
    # arrays: a plate-shaped A2M, and the search limited to n x n arrays
    arr = {"algorithm": "A2M", "config": "8x12", "joint": [0.97, 0.015, 0.01, 0.005]}
    r = c.post("/v1/pooling/multiplex/evaluate", headers=h, json=arr)
    assert r.status_code == 200, r.text
    ref = evaluate_multiplex("A2M", "8x12", joint=(0.97, 0.015, 0.01, 0.005))
    assert r.json() == json.loads(json.dumps(ref.to_dict()))
    low = {"joint": [0.99, 0.005, 0.004, 0.001], "max_size": 40, "top": 5}
    for square in (False, True):
        r = c.post(
            "/v1/pooling/multiplex/optimize", headers=h, json={**low, "square_arrays": square}
        )
        assert r.status_code == 200, r.text
        cons = SearchConstraints(max_size=40, square_arrays=square)
        lib = optimize_multiplex((0.99, 0.005, 0.004, 0.001), constraints=cons, top=5)
        got = [(d["algorithm"], d["config"]) for d in r.json()["ranking"]]
        assert got == [(oc.algorithm, oc.config) for oc in lib.ranking]
        assert any("x" in config for _, config in got) != square


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"joint": [0.9, 0.05, 0.03, 0.03]}, "add up to 1"),
        ({"joint": [0.9, 0.1, 0.0]}, "at least 4"),
        ({"joint": [0.9, 0.05, 0.03, 0.02], "algorithm": "IA2"}, "Input should be"),
        ({"joint": [0.9, 0.05, 0.03, 0.02], "se2": [0.9, 0.9, 0.9, 0.9]}, "se2: give one value"),
    ],
)
def test_bad_multiplex_input_is_422_with_its_reason(service, body, text):
    body = {"algorithm": "D2", "config": "10", **body}
    r = service.client.post(
        "/v1/pooling/multiplex/evaluate", headers=service.key("admin"), json=body
    )
    assert r.status_code == 422, r.text
    assert text in r.text


# ------------------------------------------------------------------ scenarios
def test_scenario_lifecycle_json_xlsx_and_zip(service, tmp_path):
    c = service.client
    h = service.key("coordinator", "tiny", "thanh_hoa")
    r = c.post("/v1/scenarios", headers=h, json=tiny_json())
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["units"] == 2 and r.json()["labs"] == 3
    got = c.get(f"/v1/scenarios/{sid}", headers=h).json()
    assert got["data"]["districts"][0]["name"] == "Thành phố Á"
    assert [s["id"] for s in c.get("/v1/scenarios", headers=h).json()["items"]] == [sid]
    data = tiny_json()
    data["labs"][0]["pcr_machines"] = 3
    r = c.put(f"/v1/scenarios/{sid}", headers=h, json=data)
    assert r.status_code == 200 and r.json()["version"] == 2
    # the same scenario as a workbook and as a zip of CSV files
    book = save_xlsx(load_scenario(TINY), tmp_path / "tiny.xlsx")
    r = c.post("/v1/scenarios/upload", headers=h, files={"file": ("tiny.xlsx", book.read_bytes())})
    assert r.status_code == 201, r.text
    r = c.post(
        "/v1/scenarios/upload",
        headers=h,
        files={"file": ("th.zip", zip_folder(FIXTURES / "thanh_hoa"))},
    )
    assert r.status_code == 201 and r.json()["units"] == 27
    cap = c.get(f"/v1/scenarios/{sid}/capacity?day=2", headers=h).json()
    assert set(cap) >= {"labs", "province", "binding"}
    assert c.delete(f"/v1/scenarios/{sid}", headers=h).status_code == 204
    assert c.get(f"/v1/scenarios/{sid}", headers=h).status_code == 404


def test_a_json_scenario_with_more_problems_than_shown_is_a_422(service):
    """Over 100 problems: the first 100 by list item, then one item counting the rest."""
    c, h = service.client, service.key("coordinator", "*")
    data = tiny_json()
    row = data["demand"][0]
    data["demand"] = [{**row, "samples": -1 - i} for i in range(130)]
    for method, url in (("POST", "/v1/scenarios"), ("PUT", None)):
        if url is None:
            sid = c.post("/v1/scenarios", headers=h, json=tiny_json()).json()["id"]
            url = f"/v1/scenarios/{sid}"
        r = c.request(method, url, headers=h, json=data)
        assert r.status_code == 422, r.text[:300]
        detail = r.json()["detail"]
        assert detail[-1]["loc"] == [] and "more problems not shown" in detail[-1]["msg"]
        assert all(d["loc"][:2] == ["body", "demand"] for d in detail[:-1]), detail[:3]


def test_bad_scenarios_are_422_with_every_problem(service):
    c, h = service.client, service.key("coordinator", "*")
    data = tiny_json()
    data["labs"][1]["status"] = "running"
    data["districts"][0]["population"] = -3
    r = c.post("/v1/scenarios", headers=h, json=data)
    assert r.status_code == 422
    locs = [d["loc"] for d in r.json()["detail"]]
    # the JSON list items, counted from 0 (not spreadsheet rows)
    assert ["body", "labs", 1, "status"] in locs and ["body", "districts", 0, "population"] in locs
    r = c.post("/v1/scenarios/upload", headers=h, files={"file": ("x.txt", b"hello")})
    assert r.status_code == 422 and "neither an .xlsx" in r.json()["detail"][0]["msg"]
    corrupt = zip_folder(TINY).replace(b"provincial_cdc", b"provincial_cdX")  # CRC breaks
    r = c.post("/v1/scenarios/upload", headers=h, files={"file": ("t.zip", corrupt)})
    assert r.status_code == 422 and "cannot be read" in r.text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in TINY.iterdir():
            text = f.read_text(encoding="utf-8").replace("provincial_cdc", "provincial_cdX")
            z.writestr(f"tiny/{f.name}", text)
    r = c.post("/v1/scenarios/upload", headers=h, files={"file": ("t.zip", buf.getvalue())})
    assert r.status_code == 422
    assert any(d["loc"] == ["labs.csv", 2, "facility_type"] for d in r.json()["detail"])
    assert c.get("/v1/scenarios/nope", headers=h).status_code == 404
    assert c.get("/v1/scenarios", headers=h).json()["items"] == []  # nothing stored


def test_body_over_the_limit_is_413(database_url):
    app = create_app(settings_for(database_url, max_body_mb=0.01))
    with TestClient(app) as c:
        from labopt_api.store.keys import create_key

        with app.state.db.sessions() as s:
            _, key = create_key(s, "admin", [])
        h = {"Authorization": f"Bearer {key}"}
        r = c.post(
            "/v1/pooling/evaluate",
            headers=h,
            json={"algorithm": "D2", "config": "10", "prevalence": [0.01] * 5000},
        )
        assert r.status_code == 413
        assert c.get("/healthz").status_code == 200


# ------------------------------------------------------------------ district input
def test_district_day_submissions_replace_and_keep_history(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    district_a = service.key("district", "tiny/a")
    url = f"/v1/scenarios/{sid}/districts/a/days/2021-10-05"
    first = {
        "epidemic_level": 3,
        "prevalence": {"screening": 0.03},
        "samples": {"screening": 5000, "reactive": 700},
    }
    assert c.put(url, headers=district_a, json=first).status_code == 200
    second = dict(first, samples={"screening": 6000})
    r = c.put(url, headers=district_a, json=second)
    assert r.status_code == 200
    out = r.json()
    assert out["current"]["samples"] == {"screening": 6000}
    assert len(out["history"]) == 2 and out["history"][1]["samples"]["reactive"] == 700
    assert c.get(url, headers=coord).json()["current"] == out["current"]
    # other units, other provinces, bad dates and streams
    assert (
        c.put(
            f"/v1/scenarios/{sid}/districts/b/days/2021-10-05", headers=district_a, json=first
        ).status_code
        == 403
    )
    r = c.put(f"/v1/scenarios/{sid}/districts/a/days/2021-11-30", headers=district_a, json=first)
    assert r.status_code == 422 and "outside the scenario's horizon" in r.text
    assert r.json()["detail"][0]["loc"] == ["path", "date"]
    r = c.put(url, headers=district_a, json={"samples": {"pcr": 5}})
    assert r.status_code == 422 and "unknown stream" in r.text
    assert r.json()["detail"][0]["loc"] == ["body", "samples", "pcr"]
    r = c.put(f"/v1/scenarios/{sid}/districts/zz/days/2021-10-05", headers=coord, json=first)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "code"], r.text
    r = c.put(url, headers=district_a, json={"prevalence": {"screening": 2}})
    assert r.status_code == 422


# ------------------------------------------------------------------ plans
def test_plan_in_the_background_then_tables(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    c.put(
        f"/v1/scenarios/{sid}/districts/b/days/2021-10-04",
        headers=coord,
        json={"samples": {"screening": 2500}},
    )
    r = c.post("/v1/plans", headers=coord, json={"scenario_id": sid, "days": 2})
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running", "done")
    plan = wait_done(c, r.json()["id"], coord)
    assert plan["status"] == "done", plan["error"]
    assert plan["summary"]["check"]["ok"] is True and len(plan["summary"]["days"]) == 2
    status_csv = c.get(f"/v1/plans/{plan['id']}/tables/status.csv", headers=coord)
    st = pd.read_csv(io.StringIO(status_csv.text))
    assert (
        st[(st.day == 1) & (st.district == "b") & (st.stream == "screening")]["demand"].item()
        == 2500
    )  # the district's input counts
    xlsx = c.get(
        f"/v1/plans/{plan['id']}/tables/allocations",
        headers={
            **coord,
            "Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
    )
    assert xlsx.headers["content-type"].startswith("application/vnd.openxml")
    assert len(pd.read_excel(io.BytesIO(xlsx.content))) > 0
    lab = service.key("lab", "tiny/hosp")
    rows = pd.read_csv(
        io.StringIO(c.get(f"/v1/plans/{plan['id']}/tables/allocations.csv", headers=lab).text)
    )
    assert set(rows["lab"]) <= {"hosp"}
    assert c.get(f"/v1/plans/{plan['id']}/tables/days", headers=lab).status_code == 403
    assert c.get(f"/v1/plans/{plan['id']}", headers=lab).json()["summary"] is None
    assert c.get(f"/v1/plans/{plan['id']}/tables/nope", headers=coord).status_code == 404
    r = c.get(f"/v1/plans/{plan['id']}/tables/supply.csv", headers=coord)
    assert r.status_code == 404 and "has no supply table" in r.json()["detail"]
    assert "supply" not in plan["tables"] and plan["summary"]["shipments"] == []
    assert c.get("/v1/plans/nope", headers=coord).status_code == 404
    r = c.post("/v1/plans", headers=coord, json={"scenario_id": sid, "days": 9})
    assert r.status_code == 422 and "days: between 1 and 3" in r.text
    r = c.post("/v1/plans", headers=coord, json={"scenario_id": sid, "start_date": "2025-01-01"})
    assert r.status_code == 422 and "outside the scenario's horizon" in r.text
    assert r.json()["detail"][0]["loc"] == ["body", "start_date"]


def test_a_plan_with_supply_routes_reports_its_shipments_and_serves_the_supply_table(tmp_path):
    """Thanh Hóa (its store and routes) through the service, on SQLite: the summary carries
    the shipments and the supply table downloads as CSV like the others."""
    scn = load_scenario(FIXTURES / "thanh_hoa")
    data = json.loads(json.dumps(scenario_to_data(scn), default=str))
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'labopt.db'}"))
    with TestClient(app) as c:
        with app.state.db.sessions() as s:
            from labopt_api.store.keys import create_key

            _, key = create_key(s, "coordinator", [scn.province.code])
        coord = {"Authorization": f"Bearer {key}"}
        r = c.post("/v1/scenarios", headers=coord, json=data)
        assert r.status_code in (200, 201), r.text
        r = c.post("/v1/plans", headers=coord, json={"scenario_id": r.json()["id"]})
        assert r.status_code == 202, r.text
        plan = wait_done(c, r.json()["id"], coord, timeout=300)
        assert plan["status"] == "done", plan["error"]
        ships = plan["summary"]["shipments"]
        assert ships and all(s["text"].startswith("Ship ") for s in ships)
        assert "supply" in plan["tables"]
        r = c.get(f"/v1/plans/{plan['id']}/tables/supply.csv", headers=coord)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        supply = pd.read_csv(io.StringIO(r.text))
        assert len(supply) == len(ships)
        assert supply["quantity"].sum() == sum(s["reactions"] for s in ships)
        assert supply["why"].str.contains("would run out on day").any()


def test_queue_is_bounded_and_the_rest_keeps_working(database_url):
    app = create_app(settings_for(database_url, plan_queue_size=1))
    with TestClient(app) as c:
        app.state.workers.stop()  # nothing leaves the queue
        from labopt_api.store.keys import create_key

        with app.state.db.sessions() as s:
            _, key = create_key(s, "coordinator", ["tiny"])
        h = {"Authorization": f"Bearer {key}"}
        sid = c.post("/v1/scenarios", headers=h, json=tiny_json()).json()["id"]
        assert c.post("/v1/plans", headers=h, json={"scenario_id": sid}).status_code == 202
        r = c.post("/v1/plans", headers=h, json={"scenario_id": sid})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        assert c.get("/healthz").status_code == 200
        assert (
            c.post(
                "/v1/pooling/evaluate",
                headers=h,
                json={"algorithm": "D2", "config": "5", "prevalence": 0.02},
            ).status_code
            == 200
        )


def test_unfinished_plan_is_409_and_a_dead_job_is_failed_at_start(database_url):
    app = create_app(settings_for(database_url))
    with TestClient(app) as c:
        app.state.workers.stop()
        from labopt_api.store.keys import create_key

        with app.state.db.sessions() as s:
            _, key = create_key(s, "coordinator", ["tiny"])
        h = {"Authorization": f"Bearer {key}"}
        sid = c.post("/v1/scenarios", headers=h, json=tiny_json()).json()["id"]
        pid = c.post("/v1/plans", headers=h, json={"scenario_id": sid}).json()["id"]
        assert c.get(f"/v1/plans/{pid}/tables/days", headers=h).status_code == 409
        with app.state.db.sessions.begin() as s:  # as if a server had died mid-plan
            job = s.get(PlanJob, pid)
            job.status, job.owner = "running", "gone"
            job.heartbeat_at = now() - dt.timedelta(minutes=5)
    app2 = create_app(settings_for(database_url))
    with TestClient(app2) as c:
        out = c.get(f"/v1/plans/{pid}", headers=h).json()
        assert out["status"] == "failed" and "server stopped" in out["error"]


def test_metrics_and_health(service):
    c = service.client
    assert c.get("/healthz").json() == {"status": "ok", "database": "ok"}
    h = service.key("admin")
    c.post("/v1/pooling/evaluate", headers=h, json={"algorithm": "IT", "prevalence": 0.1})
    text = c.get("/metrics", headers=h).text
    assert (
        'labopt_http_requests_total{method="POST",route="/v1/pooling/evaluate",status="200"}'
        in text
    )
    assert "labopt_plan_jobs" in text
    assert c.get("/metrics", headers=service.key("lab", "tiny/cdc")).status_code == 403
    assert c.delete(f"/v1/keys/{10**25}", headers=h).status_code == 422  # found by schemathesis


# ------------------------------------------------------------------ access control
ENDPOINTS = [  # method, path, body, roles allowed ("coordinator" = of "tiny")[, their answers]
    (
        "POST",
        "/v1/pooling/evaluate",
        {"algorithm": "D2", "config": "5", "prevalence": 0.01},
        {"admin", "coordinator", "district", "lab", "other"},
    ),
    (
        "POST",
        "/v1/pooling/optimize",
        {"prevalence": 0.01},
        {"admin", "coordinator", "district", "lab", "other"},
    ),
    ("POST", "/v1/scenarios", "TINY", {"admin", "coordinator"}),
    ("GET", "/v1/scenarios", None, {"admin", "coordinator", "district", "lab", "other"}),
    ("GET", "/v1/scenarios/{sid}", None, {"admin", "coordinator", "district", "lab"}),
    ("PUT", "/v1/scenarios/{sid}", "TINY", {"admin", "coordinator"}),
    ("GET", "/v1/scenarios/{sid}/capacity", None, {"admin", "coordinator"}),
    (
        "PUT",
        "/v1/scenarios/{sid}/districts/a/days/2021-10-04",
        {"samples": {"reactive": 10}},
        {"admin", "coordinator", "district"},
    ),
    (
        "GET",
        "/v1/scenarios/{sid}/districts/a/days/2021-10-04",
        None,
        {"admin", "coordinator", "district"},
    ),
    (
        "POST",
        "/v1/scenarios/{sid}/records/collected",
        {"rows": [{"date": "2021-10-04", "district": "a", "stream": "reactive", "samples": 5}]},
        {"admin", "coordinator", "district"},
    ),
    (
        "POST",
        "/v1/scenarios/{sid}/records/tested",
        {
            "rows": [
                {"date": "2021-10-04", "lab": "cdc", "district": "a", "stream": "reactive"}
                | {"samples": 5}
            ]
        },
        {"admin", "coordinator", "lab"},
    ),
    ("GET", "/v1/scenarios/{sid}/records/collected", None, {"admin", "coordinator", "district"}),
    ("GET", "/v1/scenarios/{sid}/records/reagent", None, {"admin", "coordinator", "lab"}),
    ("GET", "/v1/scenarios/{sid}/history/days", None, {"admin", "coordinator"}),
    ("GET", "/v1/scenarios/{sid}/history", None, {"admin", "coordinator"}),
    ("GET", "/v1/scenarios/{sid}/history/labs", None, {"admin", "coordinator", "lab"}),
    ("GET", "/v1/scenarios/{sid}/history/units", None, {"admin", "coordinator", "district"}),
    # nothing recorded to withdraw: those who may withdraw learn so (404)
    (
        "DELETE",
        "/v1/scenarios/{sid}/records/reagent/2021-10-04/cdc",
        None,
        {"admin", "coordinator", "lab"},
        {404},
    ),
    # a week's plan has no dispatch sheets: those who may read it learn so (404)
    ("GET", "/v1/plans/{pid}/dispatch", None, {"admin", "coordinator", "lab"}, {404}),
    ("POST", "/v1/plans", "PLAN", {"admin", "coordinator"}),
    ("GET", "/v1/plans", None, {"admin", "coordinator", "district", "lab", "other"}),
    ("GET", "/v1/plans/{pid}", None, {"admin", "coordinator", "lab"}),
    ("GET", "/v1/plans/{pid}/tables/allocations.csv", None, {"admin", "coordinator", "lab"}),
    ("GET", "/v1/keys", None, {"admin"}),
    ("POST", "/v1/keys", {"role": "lab", "scopes": ["tiny/cdc"]}, {"admin"}),
    ("GET", "/metrics", None, {"admin", "coordinator", "other"}),
    ("DELETE", "/v1/scenarios/{sid}?force=true", None, {"admin", "coordinator"}),
    ("GET", "/v1/audit", None, {"admin"}),
    # the plan is done: a role allowed to cancel gets 409, any other 403 before that
    ("POST", "/v1/plans/{pid}/cancel", None, {"admin", "coordinator"}, {409}),
]


def test_every_endpoint_requires_a_key_and_the_right_role(service):
    c = service.client
    keys = {
        "admin": service.key("admin"),
        "coordinator": service.key("coordinator", "tiny"),
        "district": service.key("district", "tiny/a"),
        "lab": service.key("lab", "tiny/cdc"),
        "other": service.key("coordinator", "quang_ninh"),
    }
    revoked = service.key("lab", "tiny/cdc")
    admin = keys["admin"]
    pid_holder = {}

    def fresh_ids():
        sid = c.post("/v1/scenarios", headers=admin, json=tiny_json()).json()["id"]
        c.put(
            f"/v1/scenarios/{sid}/districts/a/days/2021-10-04",
            headers=admin,
            json={"samples": {"reactive": 5}},
        )
        if "pid" not in pid_holder:
            pid_holder["pid"] = wait_done(
                c,
                c.post("/v1/plans", headers=admin, json={"scenario_id": sid, "days": 1}).json()[
                    "id"
                ],
                admin,
            )["id"]
        return sid, pid_holder["pid"]

    key_id = c.get("/v1/keys", headers=admin).json()["items"][-1]["id"]
    assert c.delete(f"/v1/keys/{key_id}", headers=admin).status_code == 204
    for method, path, body, allowed, *answers in ENDPOINTS:
        for who in ["none", "bad", "revoked", *keys]:
            sid, pid = fresh_ids()
            url = path.format(sid=sid, pid=pid)
            payload = (
                {"TINY": tiny_json(), "PLAN": {"scenario_id": sid, "days": 1}}.get(body, body)
                if isinstance(body, str)
                else body
            )
            headers = {
                "none": {},
                "bad": {"Authorization": "Bearer lbo_wrong"},
                "revoked": revoked,
            }.get(who) or keys.get(who)
            r = c.request(method, url, headers=headers, json=payload)
            if who in ("none", "bad", "revoked"):
                expected = {401}
            elif who in allowed:
                expected = answers[0] if answers else {200, 201, 202, 204}
            else:
                expected = {403}
            assert r.status_code in expected, (method, path, who, r.status_code, r.text[:200])
    assert c.get("/healthz").status_code == 200  # the one open endpoint
