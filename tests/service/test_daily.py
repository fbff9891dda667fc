"""The daily loop through the service: records of the day's actuals (who may send what, all or
nothing, idempotent), the daily plan from the carried state with its dispatch sheets, and the
history; on SQLite and PostgreSQL. The service's answers are compared with the CLI's workspace
fed the same records (labopt.daily), an independent path to the same state."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import numpy as np
import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from labopt.daily.history import history_tables, planned_table
from labopt.daily.morning import plan_morning
from labopt.daily.sheets import SHEET_NAMES
from labopt.daily.state import carry_to
from labopt.daily.workspace import create
from labopt.scenario import load_scenario, scenario_to_data
from labopt_api.main import create_app
from labopt_api.models import PlanTable
from tests.daily.test_daily_loop import EXAMPLES
from tests.service.conftest import Service, settings_for, wait_done
from tests.service.live import LiveServer

PROVINCE = "thanh_hoa"


@pytest.fixture(scope="module")
def thanh_hoa():
    scn = load_scenario(EXAMPLES / "thanh_hoa")
    assert len(scn.stores) and len(scn.supply_routes)  # its store and routes carried too
    return scn


def as_json(scn) -> dict:
    return json.loads(json.dumps(scenario_to_data(scn), default=str))


@pytest.fixture
def loop(service, thanh_hoa):
    """The service with Thanh Hóa stored: (service, scenario id, coordinator's headers)."""
    coord = service.key("coordinator", PROVINCE)
    r = service.client.post("/v1/scenarios", json=as_json(thanh_hoa), headers=coord)
    assert r.status_code == 201, r.text
    return service, r.json()["id"], coord


def daily_plan(client, sid, headers, date, days=3):
    r = client.post(
        "/v1/plans",
        json={"scenario_id": sid, "start_date": str(date), "days": days, "daily": True},
        headers=headers,
    )
    assert r.status_code == 202, r.text
    plan = wait_done(client, r.json()["id"], headers, timeout=120)
    assert plan["status"] == "done", plan["error"]
    return plan


def table(client, path, headers) -> pd.DataFrame:
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    return pd.read_csv(io.StringIO(r.text), dtype={"lab": str, "district": str, "stream": str})


def test_three_days_through_the_service_match_the_workspace(loop, thanh_hoa, tmp_path):
    """Each morning a daily plan, then the labs record what they tested (80-100 % of the plan)
    and the reactions they ran, each with its own key; the units record tomorrow's samples.
    The service's plans, records and history are those of a workspace fed the same records,
    and no sample is lost or counted twice."""
    svc, sid, coord = loop
    c = svc.client
    ws = create(tmp_path / "ws", thanh_hoa)
    lab_keys = {lab.id: svc.key("lab", f"{PROVINCE}/{lab.id}") for lab in thanh_hoa.labs}
    unit = thanh_hoa.districts[0].code
    unit_key = svc.key("district", f"{PROVINCE}/{unit}")
    rng = np.random.default_rng(3)
    first = thanh_hoa.province.start_date
    for i in range(3):
        date = first + dt.timedelta(days=i)
        plan = daily_plan(c, sid, coord, date)
        mine = plan_morning(ws, date, days=3, write=False).report
        # the same day 1, lab by lab, unit by unit, as the workspace plans it
        planned = table(c, f"/v1/plans/{plan['id']}/tables/planned", coord)
        want = planned_table(mine).reset_index(drop=True)
        pd.testing.assert_frame_equal(planned, want, check_dtype=False)
        # the labs test 80-100 % of their allocations and run the reactions that takes
        for lab, rows in planned.groupby("lab"):
            share = rng.uniform(0.8, 1.0)
            tested = rows.assign(samples=np.floor(rows["samples"] * share).astype(int))
            body = {
                "rows": [
                    {"lab": lab, "district": r.district, "stream": r.stream, "samples": r.samples}
                    for r in tested.itertuples()
                ],
                "date": str(date),
            }
            r = c.post(f"/v1/scenarios/{sid}/records/tested", json=body, headers=lab_keys[lab])
            assert r.status_code == 200, r.text
            ws.record("tested", pd.DataFrame(body["rows"]).astype(str), "test", date)
            used = math.ceil(float(rows["reactions"].sum()) * share)
            reagent = [{"date": str(date), "lab": lab, "used": used}]
            r = c.post(
                f"/v1/scenarios/{sid}/records/reagent",
                json={"rows": reagent},
                headers=lab_keys[lab],
            )
            assert r.status_code == 200, r.text
            ws.record("reagent", pd.DataFrame(reagent).astype(str), "test")
        # the unit says what it collects tomorrow
        tomorrow = str(date + dt.timedelta(days=1))
        collected = [
            {"date": tomorrow, "district": unit, "stream": s.id, "samples": 100 + i}
            for s in thanh_hoa.streams
        ]
        r = c.post(
            f"/v1/scenarios/{sid}/records/collected", json={"rows": collected}, headers=unit_key
        )
        assert r.status_code == 200, r.text
        ws.record("collected", pd.DataFrame(collected).astype(str), "test")
    # the records read back are the workspace's
    for kind in ("tested", "reagent", "collected"):
        got = table(c, f"/v1/scenarios/{sid}/records/{kind}", coord)
        want = getattr(ws.records(), kind)
        key = [col for col in ("date", "lab", "district", "stream") if col in want.columns]
        got = got.sort_values(key).reset_index(drop=True)
        want = want.sort_values(key).reset_index(drop=True)
        assert list(got.columns) == list(want.columns)
        for col in got.columns:
            if col in ("samples", "used", "reactions"):
                assert got[col].astype(float).tolist() == want[col].astype(float).tolist(), col
            elif col not in ("prevalence", "counted"):
                assert got[col].astype(str).tolist() == want[col].astype(str).tolist(), col
    # the fourth morning starts from the state the records carry: the same as the workspace's
    date = first + dt.timedelta(days=3)
    plan = daily_plan(c, sid, coord, date)
    mine = plan_morning(ws, date, days=3, write=False)
    assert plan["summary"]["daily"]["waiting_at_start"] == mine.waiting_at_start > 0
    assert plan["summary"]["daily"]["forecast"] == mine.forecast
    assert plan["summary"]["daily"]["scenario_version"] == 1
    # history: conservation every day, tested as recorded, the plans beside them
    days = table(c, f"/v1/scenarios/{sid}/history/days", coord)
    assert days["date"].tolist() == [str(first + dt.timedelta(days=i)) for i in range(3)]
    assert days["planned_tested"].notna().all()
    backlog = int(thanh_hoa.backlog["samples"].sum())
    waiting = backlog
    for r in days.itertuples():
        assert waiting + r.collected == r.tested + r.untested + r.waiting
        waiting = r.waiting
    recorded = table(c, f"/v1/scenarios/{sid}/records/tested", coord)
    assert days["tested"].sum() == recorded["samples"].sum()
    labs = table(c, f"/v1/scenarios/{sid}/history/labs", coord)
    assert labs["tested"].sum() == recorded["samples"].sum()
    # the JSON history is the workspace's, notes included
    h = c.get(f"/v1/scenarios/{sid}/history", headers=coord).json()
    carried = carry_to(ws.province, ws.records(), date)
    mine = history_tables(carried, ws.records(), lambda _date: None)
    for key in ("date", "collected", "tested", "untested", "waiting", "reactions_run"):
        assert [r[key] for r in h["days"]] == mine["days"][key].tolist(), key
    assert len(h["units"]) == len(mine["units"]) and h["notes"] == carried.notes


def test_who_may_record_and_read_what(loop, thanh_hoa):
    svc, sid, coord = loop
    c = svc.client
    first = str(thanh_hoa.province.start_date)
    lab_a, lab_b = thanh_hoa.labs[0].id, thanh_hoa.labs[1].id
    unit_a, unit_b = thanh_hoa.districts[0].code, thanh_hoa.districts[1].code
    stream = thanh_hoa.streams[0].id
    lab_key = svc.key("lab", f"{PROVINCE}/{lab_a}")
    unit_key = svc.key("district", f"{PROVINCE}/{unit_a}")
    other = svc.key("coordinator", "ha_tinh")
    row = {"date": first, "district": unit_a, "stream": stream, "samples": 5}
    tested = f"/v1/scenarios/{sid}/records/tested"
    # a unit's key records what units report, for its units only; a lab's key what labs report
    r = c.post(tested, json={"rows": [{**row, "lab": lab_a}]}, headers=unit_key)
    assert r.status_code == 403 and "collected, prevalence" in r.json()["detail"]
    r = c.post(
        tested,
        json={"rows": [{**row, "lab": lab_a}, {**row, "lab": lab_b}]},
        headers=lab_key,
    )
    assert r.status_code == 403 and lab_b in r.json()["detail"]
    r = c.post(
        f"/v1/scenarios/{sid}/records/collected",
        json={"rows": [row, {**row, "district": unit_b}]},
        headers=unit_key,
    )
    assert r.status_code == 403 and unit_b in r.json()["detail"]
    assert c.post(tested, json={"rows": [{**row, "lab": lab_a}]}, headers=other).status_code == 403
    # nothing of the refused uploads was stored
    assert table(c, f"{tested}?history=true", coord).empty
    assert (
        c.post(tested, json={"rows": [{**row, "lab": lab_a}]}, headers=lab_key).status_code == 200
    )
    r = c.post(tested, json={"rows": [{**row, "lab": lab_b}]}, headers=coord)
    assert r.status_code == 200
    # each reads its own rows back
    assert set(table(c, tested, lab_key)["lab"]) == {lab_a}
    assert set(table(c, tested, coord)["lab"]) == {lab_a, lab_b}
    assert c.get(tested, headers=unit_key).status_code == 403
    # the daily plan: a lab reads its sheets, a unit its own, neither the province's tables
    plan = daily_plan(c, sid, coord, first, days=1)
    base = f"/v1/plans/{plan['id']}"
    units = table(c, f"{base}/tables/dispatch_units", unit_key)
    assert len(units) and set(units["district"]) == {unit_a}
    assert set(table(c, f"{base}/tables/dispatch_labs", lab_key)["lab"]) == {lab_a}
    assert c.get(f"{base}/tables/dispatch_labs", headers=unit_key).status_code == 403
    assert c.get(f"{base}/tables/status", headers=lab_key).status_code == 403
    assert c.get(f"{base}/tables/allocations", headers=unit_key).status_code == 403
    assert c.get(base, headers=unit_key).json()["summary"] is None
    assert c.post("/v1/plans", json={"scenario_id": sid}, headers=unit_key).status_code == 403
    page = c.get(f"{base}/dispatch?lang=vi", headers=unit_key)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"Địa phương {unit_a}" in page.text and "Phòng xét nghiệm " not in page.text
    assert "Hôm nay không gửi mẫu" not in page.text  # it sends today
    page = c.get(f"{base}/dispatch", headers=lab_key).text
    assert f"Lab {lab_a}:" in page and f"Lab {lab_b}:" not in page and "Unit " not in page
    book = c.get(f"{base}/dispatch?format=xlsx", headers=unit_key).content
    assert openpyxl.load_workbook(io.BytesIO(book)).sheetnames == ["units", "shipments"]
    shown = table(c, f"{base}/tables/dispatch_shipments", unit_key)  # the kits it receives
    assert set(shown["target"]) <= {unit_a}
    # the history: a lab its labs' rows, a unit its units'; the province's days the coordinator
    assert c.get(f"/v1/scenarios/{sid}/history/days", headers=lab_key).status_code == 403
    assert set(table(c, f"/v1/scenarios/{sid}/history/labs", lab_key)["lab"]) <= {lab_a}
    assert set(table(c, f"/v1/scenarios/{sid}/history/units", unit_key)["district"]) == {unit_a}


def test_shipments_through_the_service_carry_as_in_the_workspace(service, thanh_hoa, tmp_path):
    """Labs without reagent: the morning's plan sends them some; the store's shipments are the
    coordinator's to record, a lab's its own (a lab's key may not record the store's, nor its
    arrivals); the next morning starts from the same reagent as a workspace fed the same
    records, and a lab's sheets show the shipments it sends or receives."""
    c = service.client
    coord = service.key("coordinator", PROVINCE)
    labs = [lab.model_copy(update={"reagent_stock": 0}) for lab in thanh_hoa.labs]
    scn = replace(thanh_hoa, labs=[thanh_hoa.labs[0], *labs[1:]])
    sid = c.post("/v1/scenarios", json=as_json(scn), headers=coord).json()["id"]
    ws = create(tmp_path / "ws", scn)
    first = scn.province.start_date
    plan = daily_plan(c, sid, coord, first)
    sent = table(c, f"/v1/plans/{plan['id']}/tables/dispatch_shipments", coord)
    assert len(sent), sent
    mine = plan_morning(ws, first, days=3, write=False).report.shipments
    mine = mine[(mine["day"] == 1) & (mine["reactions"] > 0)]
    assert sorted(zip(sent["source"], sent["target"], sent["reagent_sent"], strict=True)) == sorted(
        zip(mine["source"], mine["target"], mine["reactions"].astype(int), strict=True)
    )
    stores = set(scn.stores["id"])
    store = next(iter(stores))
    dry = sent[sent["source"].isin(stores)]["target"].iloc[0]
    lab_key = service.key("lab", f"{PROVINCE}/{dry}")
    url = f"/v1/scenarios/{sid}/records"
    row = {"date": str(first), "source": store, "target": dry, "reactions": 10}
    r = c.post(f"{url}/shipments", json={"rows": [row]}, headers=lab_key)
    assert r.status_code == 403 and store in r.json()["detail"]
    arrival = {"date": str(first + dt.timedelta(days=1)), "store": store, "reactions": 5000}
    r = c.post(f"{url}/store_arrivals", json={"rows": [arrival]}, headers=lab_key)
    assert r.status_code == 403
    r = c.post(f"{url}/shipments", json={"rows": [row | {"target": "nowhere"}]}, headers=coord)
    assert r.status_code == 422 and "nowhere" in r.text
    # each source's day recorded by its key: the store's by the coordinator, a lab's by the lab
    for source, rows in sent.groupby("source"):
        key = coord if source in stores else service.key("lab", f"{PROVINCE}/{source}")
        body = [
            {"date": str(first), "source": source, "target": t, "reactions": int(n)}
            for t, n in zip(rows["target"], rows["reagent_sent"], strict=True)
        ]
        r = c.post(f"{url}/shipments", json={"rows": body}, headers=key)
        assert r.status_code == 200, r.text
        ws.record("shipments", pd.DataFrame(body).astype(str), "test")
    r = c.post(f"{url}/store_arrivals", json={"rows": [arrival]}, headers=coord)
    assert r.status_code == 200, r.text
    ws.record("store_arrivals", pd.DataFrame([arrival]).astype(str), "test")
    # the next morning: the same state and plan as the workspace's
    date = first + dt.timedelta(days=1)
    plan = daily_plan(c, sid, coord, date)
    got = table(c, f"/v1/plans/{plan['id']}/tables/labs", coord).sort_values(["day", "lab"])
    want = plan_morning(ws, date, days=3, write=False).report.labs.sort_values(["day", "lab"])
    assert got["reagent_on_hand"].tolist() == pytest.approx(want["reagent_on_hand"].tolist())
    carried = carry_to(ws.province, ws.records(), date).scenario
    assert int(carried.stores["reagent_stock"].sum()) == int(
        scn.stores["reagent_stock"].sum()
    ) - int(sent[sent["source"].isin(stores)]["reagent_sent"].sum())
    # the shipments recorded keep their routes: a scenario without one of them is refused
    moved = as_json(scn)
    src, dst = sent["source"].iloc[0], sent["target"].iloc[0]
    moved["supply_routes"] = [
        r for r in moved["supply_routes"] if (r["source"], r["target"]) != (src, dst)
    ]
    r = c.put(f"/v1/scenarios/{sid}", json=moved, headers=coord)
    assert r.status_code == 409 and f"the route {src} -> {dst} carried" in r.json()["detail"]
    # a lab's sheets: the shipments it sends or receives, no others
    plan = daily_plan(c, sid, coord, first)
    shown = table(c, f"/v1/plans/{plan['id']}/tables/dispatch_shipments", lab_key)
    assert len(shown) and ((shown["source"] == dry) | (shown["target"] == dry)).all()
    page = c.get(f"/v1/plans/{plan['id']}/dispatch", headers=lab_key).text
    assert "Reagent and collection kits to send today" in page
    # a daily plan stored before its shipments sheet existed still has its sheets
    with service.app.state.db.sessions() as db:
        db.execute(
            delete(PlanTable).where(
                PlanTable.plan_id == plan["id"], PlanTable.name == "dispatch_shipments"
            )
        )
        db.commit()
    for key in (coord, lab_key):
        r = c.get(f"/v1/plans/{plan['id']}/dispatch", headers=key)
        assert r.status_code == 200 and "Reagent to send today" not in r.text


def test_dispatch_sheets_match_the_plan(loop, thanh_hoa):
    """The workbook and the page hold day 1 of the plan: every lab that receives samples, with
    the samples and reactions of its allocations."""
    svc, sid, coord = loop
    c = svc.client
    plan = daily_plan(c, sid, coord, thanh_hoa.province.start_date, days=2)
    alloc = table(c, f"/v1/plans/{plan['id']}/tables/allocations", coord)
    day1 = alloc[(alloc["day"] == 1) & (alloc["samples"] > 0)]
    r = c.get(f"/v1/plans/{plan['id']}/dispatch?format=xlsx&lang=vi", headers=coord)
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    names = SHEET_NAMES["vi"]
    assert book.sheetnames == [names[k] for k in ("labs", "lab_totals", "units", "shipments")]
    totals = pd.DataFrame(book[names["lab_totals"]].values)
    header = list(totals.iloc[0])
    assert "Số đĩa" in header
    totals = totals.iloc[1:].set_axis(header, axis=1)
    by_lab = day1.groupby("lab")["samples"].sum()
    assert len(totals) == len(by_lab)
    samples_col = next(h for h in header if h.startswith("Số mẫu") or h == "Mẫu")
    assert sorted(totals[samples_col].astype(int)) == sorted(by_lab.astype(int))
    page = c.get(f"/v1/plans/{plan['id']}/dispatch", headers=coord).text
    assert page.count("<section>") == len(by_lab) + day1["district"].nunique()
    # a plan that is not daily has no sheets
    r = c.post("/v1/plans", json={"scenario_id": sid, "days": 1}, headers=coord)
    week = wait_done(c, r.json()["id"], coord)
    assert c.get(f"/v1/plans/{week['id']}/dispatch", headers=coord).status_code == 404
    r = c.get(f"/v1/plans/{week['id']}/tables/dispatch_labs", headers=coord)
    assert r.status_code == 404 and "not a daily plan" in r.json()["detail"]


def test_uploads_are_all_or_nothing_idempotent_and_corrections_keep_history(loop, thanh_hoa):
    svc, sid, coord = loop
    c = svc.client
    first = thanh_hoa.province.start_date
    lab = thanh_hoa.labs[0].id
    path = f"/v1/scenarios/{sid}/records/reagent"
    rows = [
        {"date": str(first), "lab": lab, "used": 100, "counted": 5000},
        {"date": str(first + dt.timedelta(days=1)), "lab": lab, "used": 120},
    ]
    r = c.post(path, json={"rows": rows}, headers=coord)
    assert r.status_code == 200, r.text
    assert r.json() | {"upload": ""} == {
        "upload": "",
        "kind": "reagent",
        "rows": 2,
        "groups": 2,
        "changed": 2,
        "replaced": 0,
        "dates": [str(first), str(first + dt.timedelta(days=1))],
        "warnings": [],
    }
    # the same upload again changes nothing
    r = c.post(path, json={"rows": rows}, headers=coord)
    assert (r.json()["changed"], r.json()["replaced"]) == (0, 0)
    assert len(table(c, f"{path}?history=true", coord)) == 2
    # one bad row: nothing stored, every problem named with its row
    bad = [
        {"date": str(first), "lab": lab, "used": 90},
        {"date": "2021-02-30", "lab": lab, "used": 1},
        {"date": str(first - dt.timedelta(days=1)), "lab": lab, "used": 1},
        {"date": str(first), "lab": "nowhere", "used": -3},
    ]
    r = c.post(path, json={"rows": bad}, headers=coord)
    assert r.status_code == 422
    locs = {tuple(item["loc"]) for item in r.json()["detail"]}
    assert ("body", "rows", 1, "date") in locs
    assert ("body", "rows", 2, "date") in locs
    assert ("body", "rows", 3, "lab") in locs and ("body", "rows", 3, "used") in locs
    assert len(table(c, f"{path}?history=true", coord)) == 2
    # a correction of day 1 replaces that lab-day whole; the history keeps both
    r = c.post(path, json={"rows": [{"date": str(first), "lab": lab, "used": 90}]}, headers=coord)
    assert (r.json()["changed"], r.json()["replaced"]) == (1, 1)
    now = table(c, path, coord).set_index("date")
    assert now.loc[str(first), "used"] == 90 and math.isnan(now.loc[str(first), "counted"])
    hist = table(c, f"{path}?history=true", coord)
    assert len(hist) == 3 and hist["current"].tolist().count(True) == 2
    # a file without a date column, its date given beside it; XLSX alike
    csv = f"lab,used\n{lab},77\n".encode()
    r = c.post(
        f"{path}/upload",
        files={"file": ("reagent.csv", csv)},
        data={"date": str(first + dt.timedelta(days=2))},
        headers=coord,
    )
    assert r.status_code == 200, r.text
    buf = io.BytesIO()
    pd.DataFrame(
        {"date": [str(first + dt.timedelta(days=3))], "lab": [lab], "used": [55]}
    ).to_excel(buf, index=False)
    r = c.post(f"{path}/upload", files={"file": ("r.xlsx", buf.getvalue())}, headers=coord)
    assert r.status_code == 200, r.text
    assert table(c, path, coord)["used"].tolist() == [90, 120, 77, 55]
    r = c.post(f"{path}/upload", files={"file": ("r.csv", csv)}, headers=coord)
    assert r.status_code == 422 and "no date column" in json.dumps(r.json())
    r = c.post(f"{path}/upload", files={"file": ("r.csv", b"lab\nx\n")}, headers=coord)
    assert r.status_code == 422 and "used" in json.dumps(r.json())
    r = c.post(f"{path}/upload", files={"file": ("r.txt", b"lab\nx\n")}, headers=coord)
    assert r.status_code == 422
    assert c.post(f"/v1/scenarios/{sid}/records/spam", json={"rows": rows}).status_code in (
        401,
        404,
    )
    r = c.post(f"/v1/scenarios/{sid}/records/spam", json={"rows": rows}, headers=coord)
    assert r.status_code == 404 and "collected" in r.json()["detail"]
    # dates in the rows and beside them: refused, not silently resolved
    r = c.post(path, json={"rows": rows, "date": str(first)}, headers=coord)
    assert r.status_code == 422 and "not both" in json.dumps(r.json())
    r = c.post(
        f"{path}/upload",
        files={"file": ("reagent.csv", f"date,lab,used\n{first},{lab},77\n".encode())},
        data={"date": str(first)},
        headers=coord,
    )
    assert r.status_code == 422 and "not both" in json.dumps(r.json())


def test_records_replace_the_scenarios_own_rows_and_any_order_is_the_same_upload(loop, thanh_hoa):
    svc, sid, coord = loop
    c = svc.client
    first = thanh_hoa.province.start_date
    unit = thanh_hoa.districts[0].code
    own = thanh_hoa.demand[(thanh_hoa.demand["day"] == 2) & (thanh_hoa.demand["district"] == unit)]
    assert len(own) > 1
    rows = [
        {"date": str(first + dt.timedelta(days=1)), "district": unit, "stream": s, "samples": 7}
        for s in sorted(own["stream"])
    ]
    path = f"/v1/scenarios/{sid}/records/collected"
    r = c.post(path, json={"rows": rows}, headers=coord)
    assert (r.json()["changed"], r.json()["replaced"]) == (1, len(own))
    r = c.post(path, json={"rows": rows[::-1]}, headers=coord)
    assert (r.json()["changed"], r.json()["replaced"], r.json()["upload"]) == (0, 0, "")


def test_records_that_do_not_add_up_are_stored_with_a_warning(loop, thanh_hoa):
    """As `labopt day record`: stored (a correction follows), with a warning naming the day;
    the history then says the records do not add up (409) until the correction."""
    svc, sid, coord = loop
    c = svc.client
    first = str(thanh_hoa.province.start_date)
    lab, unit = thanh_hoa.labs[0].id, thanh_hoa.districts[0].code
    row = {"date": first, "lab": lab, "district": unit, "stream": "reactive"}
    path = f"/v1/scenarios/{sid}/records/tested"
    r = c.post(path, json={"rows": [row | {"samples": 10**6}]}, headers=coord)
    assert r.status_code == 200
    assert "do not add up" in r.json()["warnings"][0] and first in r.json()["warnings"][0]
    r = c.get(f"/v1/scenarios/{sid}/history/days", headers=coord)
    assert r.status_code == 409 and "correction" in r.json()["detail"]
    r = c.post(path, json={"rows": [row | {"samples": 10}]}, headers=coord)
    assert r.status_code == 200 and r.json()["warnings"] == []
    assert c.get(f"/v1/scenarios/{sid}/history/days", headers=coord).status_code == 200
    # a change to an earlier day that breaks a later one warns too: the reagent of a delivery
    # withdrawn had been run on the day after
    day2 = str(thanh_hoa.province.start_date + dt.timedelta(days=1))
    stock = thanh_hoa.labs[0].reagent_stock
    deliveries = f"/v1/scenarios/{sid}/records/deliveries"
    c.post(
        deliveries, json={"rows": [{"date": first, "lab": lab, "reactions": 1000}]}, headers=coord
    )
    used = [{"date": day2, "lab": lab, "used": stock + 900}]
    r = c.post(f"/v1/scenarios/{sid}/records/reagent", json={"rows": used}, headers=coord)
    assert r.json()["warnings"] == []
    r = c.delete(f"{deliveries}/{first}/{lab}", headers=coord)
    assert r.status_code == 200 and day2 in r.json()["warnings"][0]


def test_a_scenario_with_records_is_kept_from_deletion_and_replacement_says_what_no_longer_fits(
    loop, thanh_hoa
):
    svc, sid, coord = loop
    c = svc.client
    first = str(thanh_hoa.province.start_date)
    lab = thanh_hoa.labs[0].id
    gone = thanh_hoa.districts[-1].code
    row = {"date": first, "lab": lab, "district": gone, "stream": "reactive", "samples": 1}
    assert c.post(f"/v1/scenarios/{sid}/records/tested", json={"rows": [row]}, headers=coord)
    # the unit leaves the province: the PUT says which records no longer fit
    data = as_json(thanh_hoa)
    for table in ("districts", "demand", "prevalence", "travel", "backlog"):
        key = "code" if table == "districts" else "district"
        data[table] = [r for r in data.get(table) or [] if r.get(key) != gone]
    r = c.put(f"/v1/scenarios/{sid}", json=data, headers=coord)
    assert r.status_code == 200, r.text
    assert r.json()["daily_records_not_applied"] == 1
    assert any(f"tested {first} {lab}: no district {gone}" in n for n in r.json()["notes"])
    # the loop leaves them out: the history still answers
    assert c.get(f"/v1/scenarios/{sid}/history/days", headers=coord).status_code == 200
    # a later start date: the samples the first day left waiting are gone, and tests of them on
    # the second day no longer add up; the PUT says so
    d = thanh_hoa.demand
    unit, stream = thanh_hoa.districts[0].code, "screening"
    own = d[(d["district"] == unit) & (d["stream"] == stream)].set_index("day")["samples"]
    day2 = str(thanh_hoa.province.start_date + dt.timedelta(days=1))
    both = int(own[1] + own[2])
    row = {"date": day2, "lab": lab, "district": unit, "stream": stream, "samples": both}
    r = c.post(f"/v1/scenarios/{sid}/records/tested", json={"rows": [row]}, headers=coord)
    assert r.status_code == 200 and r.json()["warnings"] == []
    data["settings"]["province"]["start_date"] = day2
    r = c.put(f"/v1/scenarios/{sid}", json=data, headers=coord)
    assert r.status_code == 200, r.text
    assert any(n.startswith("warning: under this scenario") for n in r.json()["notes"]), r.json()[
        "notes"
    ]
    r = c.delete(f"/v1/scenarios/{sid}", headers=coord)
    assert r.status_code == 409 and "daily records" in r.json()["detail"]
    assert c.delete(f"/v1/scenarios/{sid}?force=true", headers=coord).status_code == 204
    admin = svc.key("admin")
    events = c.get("/v1/audit", params={"action": "scenario.delete"}, headers=admin).json()
    kept = events["items"][0]["detail"]["daily_records"]
    assert kept[0]["rows"][0]["district"] == gone


def test_daily_plan_requests_are_checked_at_once(loop, thanh_hoa, service):
    svc, sid, coord = loop
    c = svc.client
    first = thanh_hoa.province.start_date

    def ask(**body):
        return c.post("/v1/plans", json={"scenario_id": sid, "daily": True, **body}, headers=coord)

    r = ask()
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "start_date"]
    r = ask(start_date=str(first - dt.timedelta(days=1)))
    assert r.status_code == 422 and "first date" in r.json()["detail"][0]["msg"]
    r = ask(start_date=str(first + dt.timedelta(days=60)))
    assert r.status_code == 422 and "after the labs' last record" in r.json()["detail"][0]["msg"]
    r = ask(start_date=str(first), days=61)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "days"]
    assert ask(start_date=str(first), daily="yes").status_code == 422
    # units' samples far ahead do not make the days between known: the labs' last report counts
    unit = thanh_hoa.districts[0].code
    row = {"date": str(first + dt.timedelta(days=200)), "district": unit, "stream": "reactive"}
    r = c.post(
        f"/v1/scenarios/{sid}/records/collected",
        json={"rows": [row | {"samples": 5}]},
        headers=coord,
    )
    assert r.status_code == 200
    r = ask(start_date=str(first + dt.timedelta(days=200)))
    assert r.status_code == 422 and "labs' last record" in r.json()["detail"][0]["msg"]
    r = c.get(
        f"/v1/scenarios/{sid}/history/days",
        params={"until": str(first + dt.timedelta(days=200))},
        headers=coord,
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "until"]
    # a province with collection kits: a unit's key records its own unit's kits, a store's
    # kit shipments are the coordinator's, and the daily plan is taken
    unit = thanh_hoa.districts[0].code
    store = str(thanh_hoa.stores["id"].iloc[0])
    with_kits = replace(thanh_hoa, kits=pd.DataFrame({"holder": [unit, store], "kits": [900, 50]}))
    r = c.post("/v1/scenarios", json=as_json(with_kits), headers=coord)
    other = r.json()["id"]
    unit_key = svc.key("district", f"{PROVINCE}/{unit}")
    count = {"rows": [{"date": str(first), "holder": unit, "kits": 800}]}
    r = c.post(f"/v1/scenarios/{other}/records/kit_counts", json=count, headers=unit_key)
    assert r.status_code == 200, r.text
    count = {"rows": [{"date": str(first), "holder": store, "kits": 40}]}
    r = c.post(f"/v1/scenarios/{other}/records/kit_counts", json=count, headers=unit_key)
    assert r.status_code == 403 and store in r.json()["detail"]
    r = c.post(f"/v1/scenarios/{other}/records/kit_counts", json=count, headers=coord)
    assert r.status_code == 200, r.text
    sent = {"rows": [{"date": str(first), "source": store, "target": unit, "kits": 5}]}
    r = c.post(f"/v1/scenarios/{other}/records/kit_shipments", json=sent, headers=unit_key)
    assert r.status_code == 403
    r = c.post(
        "/v1/plans",
        json={"scenario_id": other, "daily": True, "start_date": str(first)},
        headers=coord,
    )
    assert r.status_code == 202, r.text


def test_concurrent_uploads_of_one_lab_day_leave_exactly_one_current(database_url, thanh_hoa):
    """Eight uploads of the same lab-day at once: each is stored whole, one after the other,
    and exactly one is current (the database's unique index holds)."""
    app = create_app(settings_for(database_url, plan_workers=0))
    with TestClient(app) as client:
        svc = Service(app, client)
        coord = svc.key("coordinator", PROVINCE)
        sid = client.post("/v1/scenarios", json=as_json(thanh_hoa), headers=coord).json()["id"]
        lab = thanh_hoa.labs[0].id
        day = str(thanh_hoa.province.start_date)

        def send(n):
            return client.post(
                f"/v1/scenarios/{sid}/records/reagent",
                json={"rows": [{"date": day, "lab": lab, "used": n}]},
                headers=coord,
            ).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(send, range(1, 9)))
        assert codes == [200] * 8
        hist = table(client, f"/v1/scenarios/{sid}/records/reagent?history=true", coord)
        assert len(hist) == 8 and hist["current"].sum() == 1
        assert table(client, f"/v1/scenarios/{sid}/records/reagent", coord)["used"].tolist() == [
            int(hist[hist["current"]]["used"].iloc[0])
        ]


def test_a_morning_over_http(database_url, thanh_hoa):
    """A real server: the labs send yesterday's actuals as files, the coordinator asks for
    today's plan, a unit and a lab fetch their sheets, the coordinator reads the history."""
    server = LiveServer(database_url, heartbeat_seconds=0.5, stale_after_seconds=2).start()
    try:
        coord = server.key("coordinator", PROVINCE)
        lab = thanh_hoa.labs[0].id
        unit = thanh_hoa.districts[0].code
        lab_key = server.key("lab", f"{PROVINCE}/{lab}")
        unit_key = server.key("district", f"{PROVINCE}/{unit}")
        first = thanh_hoa.province.start_date
        with httpx.Client(base_url=server.url, timeout=120) as c:
            r = c.post("/v1/scenarios", json=as_json(thanh_hoa), headers=coord)
            sid = r.json()["id"]
            plan = daily_plan(c, sid, coord, first, days=2)
            planned = table(c, f"/v1/plans/{plan['id']}/tables/planned", coord)
            mine = planned[planned["lab"] == lab]
            csv = mine[["lab", "district", "stream", "samples"]].to_csv(index=False).encode()
            r = c.post(
                f"/v1/scenarios/{sid}/records/tested/upload",
                files={"file": ("tested.csv", csv)},
                data={"date": str(first)},
                headers=lab_key,
            )
            assert r.status_code == 200, r.text
            assert r.json()["rows"] == len(mine)
            used = math.ceil(mine["reactions"].sum())
            r = c.post(
                f"/v1/scenarios/{sid}/records/reagent",
                json={"rows": [{"date": str(first), "lab": lab, "used": used}]},
                headers=lab_key,
            )
            assert r.status_code == 200, r.text
            today = first + dt.timedelta(days=1)
            plan = daily_plan(c, sid, coord, today, days=2)
            assert plan["daily"] is True
            page = c.get(f"/v1/plans/{plan['id']}/dispatch?lang=vi", headers=unit_key)
            assert page.status_code == 200 and f"Địa phương {unit}" in page.text
            assert "http" not in page.text  # nothing loaded from elsewhere
            r = c.get(f"/v1/plans/{plan['id']}/dispatch?format=xlsx", headers=lab_key)
            assert r.status_code == 200 and r.content[:2] == b"PK"
            labs = table(c, f"/v1/scenarios/{sid}/history/labs", coord)
            row = labs[labs["lab"] == lab].iloc[0]
            assert row["tested"] == mine["samples"].sum() == row["planned_tested"]
            assert row["reactions_run"] == used
    finally:
        server.stop()


def test_a_day_recorded_for_the_wrong_date_is_withdrawn(loop, thanh_hoa):
    """A lab types 2022 for 2021: the history would run to 2022 (and plans be allowed there);
    the lab withdraws that day, which stays in the history of uploads."""
    svc, sid, coord = loop
    c = svc.client
    lab, other = thanh_hoa.labs[0].id, thanh_hoa.labs[1].id
    lab_key = svc.key("lab", f"{PROVINCE}/{lab}")
    first = thanh_hoa.province.start_date
    wrong = first.replace(year=first.year + 1)
    row = {"lab": lab, "district": thanh_hoa.districts[0].code, "stream": "reactive"}
    path = f"/v1/scenarios/{sid}/records/tested"
    body = {"rows": [row | {"samples": 3}], "date": str(wrong)}
    assert c.post(path, json=body, headers=lab_key).status_code == 200
    r = c.delete(f"{path}/{wrong}/{other}", headers=lab_key)
    assert r.status_code == 403  # another lab's day
    r = c.delete(f"{path}/{wrong}/{lab}", headers=lab_key)
    assert r.status_code == 200 and r.json()["rows"] == 1
    assert c.delete(f"{path}/{wrong}/{lab}", headers=lab_key).status_code == 404
    assert table(c, path, coord).empty
    hist = table(c, f"{path}?history=true", coord)
    assert len(hist) == 1 and not hist["current"].any()
    days = table(c, f"/v1/scenarios/{sid}/history/days", coord)
    assert days["date"].tolist() == [str(first)]
