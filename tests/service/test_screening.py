"""POST /v1/screening/size and the units' rounds: the library's answer, bad values as 422
naming the field, each key only its own."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd

from labopt.scenario import scenario_from_data
from labopt.screening import size_for_detection
from labopt.screening.districts import unit_rounds
from labopt.screening.precision import size_for_estimate
from labopt.screening.risk import RiskGroup, allocate_for_detection
from tests.service.conftest import wait_done
from tests.service.test_api import tiny_json


def test_the_service_answers_as_the_library(service):
    c, h = service.client, service.key("district", "tiny/a")
    body = {
        "design_prevalence": 0.01,
        "pool_size": 10,
        "se": 0.95,
        "sp": 0.99,
        "population": 50_000,
    }
    r = c.post("/v1/screening/size", headers=h, json=body)
    assert r.status_code == 200, r.text
    ref = size_for_detection(0.95, 0.01, pool_size=10, se=0.95, sp=0.99, population=50_000)
    assert r.json() == json.loads(json.dumps(ref.to_dict()))
    r = c.post("/v1/screening/size", headers=h, json={"design_prevalence": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "design_prevalence"]
    r = c.post(
        "/v1/screening/size",
        headers=h,
        json={"design_prevalence": 0.01, "pool_size": 5, "population": 100},
    )
    assert r.status_code == 422 and "more than the 100 people here" in r.text
    assert c.post("/v1/screening/size", json=body).status_code == 401
    certain = {"design_prevalence": 1, "se": 1, "sp": 1}  # one sample: certainly positive
    r = c.post("/v1/screening/size", headers=h, json=certain)
    assert r.status_code == 200 and r.json()["samples"] == 1


def test_the_precision_endpoint_answers_as_the_library(service):
    c, h = service.client, service.key("lab", "tiny/cdc")
    body = {"prevalence": 0.01, "precision": 0.5, "relative": True, "max_pool_size": 16}
    r = c.post("/v1/screening/precision", headers=h, json=body)
    assert r.status_code == 200, r.text
    ref = size_for_estimate(0.01, 0.5, relative=True, max_pool_size=16)
    assert r.json() == json.loads(json.dumps(ref.to_dict()))
    r = c.post("/v1/screening/precision", headers=h, json={"prevalence": 0.01, "precision": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "precision"]
    bad = {"prevalence": 0.01, "precision": 0.01, "se": 0.5, "sp": 0.5}
    r = c.post("/v1/screening/precision", headers=h, json=bad)
    assert r.status_code == 422 and "se + sp must exceed 1" in r.text


def test_the_size_endpoint_allocates_risk_groups(service):
    c, h = service.client, service.key("district", "tiny/a")
    groups = [
        {"name": "market", "relative_risk": 5, "share": 0.1, "available": 200},
        {"name": "rest", "relative_risk": 1, "share": 0.9, "at_least": 20},
    ]
    body = {"design_prevalence": 0.01, "pool_size": 5, "groups": groups}
    r = c.post("/v1/screening/size", headers=h, json=body)
    assert r.status_code == 200, r.text
    ref = allocate_for_detection(
        [RiskGroup("market", 5, 0.1, 200), RiskGroup("rest", 1, 0.9, None, 20)],
        0.95,
        0.01,
        pool_size=5,
    )
    assert r.json() == json.loads(json.dumps(ref.to_dict()))
    bad = {**body, "groups": [{**groups[0], "share": 0.5}, groups[1]]}
    r = c.post("/v1/screening/size", headers=h, json=bad)
    assert r.status_code == 422 and "add up to 1.4, not 1" in r.text
    r = c.post("/v1/screening/size", headers=h, json={**body, "population": 100})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "population"]
    r = c.post("/v1/screening/size", headers=h, json={**body, "groups": []})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", "groups"]
    for field, value in (("relative_risk", True), ("share", "0.1"), ("at_least", 10**9)):
        bad = {**body, "groups": [{**groups[0], field: value}, groups[1]]}
        r = c.post("/v1/screening/size", headers=h, json=bad)
        assert r.status_code == 422, (field, r.text)
        assert r.json()["detail"][0]["loc"] == ["body", "groups", 0, field]


def test_the_units_rounds_of_a_stored_scenario(service):
    c = service.client
    boss = service.key("coordinator", "tiny")
    r = c.post("/v1/scenarios", headers=boss, json=tiny_json())
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    scn = scenario_from_data(tiny_json())
    r = c.get(f"/v1/scenarios/{sid}/screening", headers=boss)
    assert r.status_code == 200, r.text
    want = [u.to_dict() for u in unit_rounds(scn, 1)]
    assert r.json()["units"] == json.loads(json.dumps(want))
    assert r.json()["date"] == scn.province.start_date.isoformat()
    # a unit's reported epidemic level is its level for the round
    day2 = scn.province.start_date + dt.timedelta(days=1)
    unit = scn.districts[0]
    level = 4 if unit.epidemic_level != 4 else 1
    put = c.put(
        f"/v1/scenarios/{sid}/districts/{unit.code}/days/{day2}",
        headers=boss,
        json={"epidemic_level": level},
    )
    assert put.status_code == 200, put.text
    own = service.key("district", f"tiny/{unit.code}")
    r = c.get(f"/v1/scenarios/{sid}/districts/{unit.code}/screening?date={day2}", headers=own)
    assert r.status_code == 200, r.text
    assert r.json()["epidemic_level"] == level
    cfg = scn.settings.screening
    assert r.json()["target_sensitivity"] == cfg.target_sensitivity(level)
    other = next(d.code for d in scn.districts if d.code != unit.code)
    assert c.get(f"/v1/scenarios/{sid}/districts/{other}/screening", headers=own).status_code == 403
    assert c.get(f"/v1/scenarios/{sid}/screening", headers=own).status_code == 403
    r = c.get(f"/v1/scenarios/{sid}/districts/nowhere/screening", headers=boss)
    assert r.status_code == 404
    r = c.get(f"/v1/scenarios/{sid}/screening?date=2000-01-01", headers=boss)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "date"]
    assert c.get(f"/v1/scenarios/{sid}/screening").status_code == 401


def test_a_plan_screening_by_risk_serves_its_screening_table(service):
    c, coord = service.client, service.key("coordinator", "tiny")
    data = tiny_json()
    data["settings"].setdefault("plan", {})["screening"] = "by_risk"
    sid = c.post("/v1/scenarios", headers=coord, json=data).json()["id"]
    plan = wait_done(
        c, c.post("/v1/plans", headers=coord, json={"scenario_id": sid}).json()["id"], coord
    )
    assert plan["status"] == "done", plan["error"]
    assert "screening" in plan["tables"]
    summary = plan["summary"]["screening"]
    assert summary["collect"] <= summary["could_collect"] and summary["units"]
    table = pd.read_csv(
        io.StringIO(c.get(f"/v1/plans/{plan['id']}/tables/screening.csv", headers=coord).text)
    )
    assert int(table["collect"].sum()) == summary["collect"]
    plain = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    other = wait_done(
        c, c.post("/v1/plans", headers=coord, json={"scenario_id": plain}).json()["id"], coord
    )
    r = c.get(f"/v1/plans/{other['id']}/tables/screening.csv", headers=coord)
    assert r.status_code == 404 and "takes the screening demand as given" in r.json()["detail"]
    assert other["summary"]["screening"] is None
