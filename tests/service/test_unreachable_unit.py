"""The service plans a scenario with a unit that reaches no lab: the plan is done (not failed),
the unit's samples are untested, and the summary's notes say why."""

from __future__ import annotations

import io

import pandas as pd

from tests.service.conftest import wait_done
from tests.service.test_api import tiny_json


def test_a_unit_beyond_every_lab_is_planned_with_a_note(service):
    data = tiny_json()
    far = dict(data["districts"][1], code="c", name="Huyện Xa", lat=22.40, lon=103.50)
    data["districts"].append(far)
    data["prevalence"] += [
        {"district": "c", "stream": "reactive", "prevalence": 0.04},
        {"district": "c", "stream": "screening", "prevalence": 0.005},
    ]
    data["demand"].append(
        {"day": 1, "district": "c", "stream": "screening", "samples": 400, "prevalence": None}
    )
    c = service.client
    coord = service.key("coordinator", "tiny")
    r = c.post("/v1/scenarios", headers=coord, json=data)
    assert r.status_code == 201, r.text
    r = c.post("/v1/plans", headers=coord, json={"scenario_id": r.json()["id"]})
    assert r.status_code == 202, r.text
    plan = wait_done(c, r.json()["id"], coord)
    assert plan["status"] == "done", plan["error"]
    assert plan["summary"]["check"]["ok"] is True
    assert any(
        "unit 'c' (Huyện Xa) has 400 samples but no lab within" in n
        for n in plan["summary"]["notes"]
    ), plan["summary"]["notes"]
    status = pd.read_csv(
        io.StringIO(c.get(f"/v1/plans/{plan['id']}/tables/status.csv", headers=coord).text)
    )
    mine = status[status["district"] == "c"]
    assert mine["tested"].sum() == 0 and mine["demand"].sum() == 400
    assert status["tested"].sum() > 0
