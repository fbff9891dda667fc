"""Data integrity in the service, on both databases: one current input per unit and day under
concurrent submissions, stored text checked against the model's columns (422, never 500),
inputs outside a replaced scenario's horizon kept but not applied, lists filtered in SQL and
paged without loading bodies, pools no larger than the lab validated, ETag / If-Match."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import threading
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

from labopt.scenario import save_folder, save_xlsx, scenario_from_data
from labopt_api.db import MIGRATIONS, make_engine, migrate
from labopt_api.main import create_app
from labopt_api.models import (
    DistrictDayRecord,
    LabBatchRecord,
    PlanJob,
    ScenarioRecord,
    text_length,
)
from labopt_api.paging import MAX_LIMIT
from labopt_api.store.district_days import build_scenario
from labopt_api.stored_text import SCENARIO_TEXT
from tests.service.conftest import Service, settings_for, wait_done
from tests.service.live import LiveServer
from tests.service.test_api import tiny_json, zip_folder
from tests.service.test_batches import samples

START = dt.date(2021, 10, 4)
DAY = f"/districts/a/days/{START}"


def _scenario(c, headers, data=None) -> str:
    r = c.post("/v1/scenarios", headers=headers, json=data or tiny_json())
    assert r.status_code == 201, r.text
    return r.json()["id"]


# ------------------------------------------------------------------ one current input
def test_twenty_clients_put_the_same_district_day_at_once(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    district = service.key("district", "tiny/a")
    sid = _scenario(c, coord)
    barrier = threading.Barrier(20)
    codes: list[int] = []

    def put(i: int) -> None:
        barrier.wait()
        r = c.put(
            f"/v1/scenarios/{sid}{DAY}",
            headers=district,
            json={"samples": {"screening": 1000 + i}, "epidemic_level": 1 + i % 4},
        )
        codes.append(r.status_code)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [200] * 20
    with service.app.state.db.sessions() as s:
        rows = (
            s.execute(
                select(DistrictDayRecord)
                .where(DistrictDayRecord.scenario_id == sid)
                .order_by(DistrictDayRecord.id)
            )
            .scalars()
            .all()
        )
        assert len(rows) == 20  # every submission is kept
        current = [r for r in rows if r.current]
        assert len(current) == 1
        # the last one committed (submissions are written one after the other) is current
        assert current[0].id == rows[-1].id
        assert current[0].submitted_at == max(r.submitted_at for r in rows)
        latest = current[0].payload["samples"]["screening"]
        scn = build_scenario(s, s.get(ScenarioRecord, sid))
    got = c.get(f"/v1/scenarios/{sid}{DAY}", headers=district).json()
    assert got["current"]["samples"]["screening"] == latest and len(got["history"]) == 20
    demand = scn.demand.set_index(["day", "district", "stream"])["samples"]
    assert demand[(1, "a", "screening")] == latest  # what the plan uses


def test_twenty_clients_at_once_against_a_live_server(database_url):
    """The same through a real `labopt serve` (several worker processes): no 5xx, one current
    row, the last one committed."""
    server = LiveServer(database_url).start()
    try:
        coord = server.key("coordinator", "tiny")
        district = server.key("district", "tiny/a")
        with httpx.Client(base_url=server.url, timeout=60) as c:
            sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
        barrier = threading.Barrier(20)
        codes: list[int] = []

        def put(i: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                barrier.wait()
                codes.append(
                    c.put(
                        f"/v1/scenarios/{sid}{DAY}",
                        headers=district,
                        json={"samples": {"screening": 5000 + i}},
                    ).status_code
                )

        threads = [threading.Thread(target=put, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        with httpx.Client(base_url=server.url, timeout=60) as c:
            got = c.get(f"/v1/scenarios/{sid}{DAY}", headers=district).json()
    finally:
        server.stop()
    assert sorted(codes) == [200] * 20
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    DistrictDayRecord.id, DistrictDayRecord.current, DistrictDayRecord.payload
                ).order_by(DistrictDayRecord.id)
            ).all()
    finally:
        engine.dispose()
    assert len(rows) == 20 and [r.id for r in rows if r.current] == [rows[-1].id]
    assert got["current"]["samples"] == rows[-1].payload["samples"]


def test_the_database_refuses_a_second_current_input(service):
    c = service.client
    sid = _scenario(c, service.key("coordinator", "tiny"))
    with service.app.state.db.sessions() as s:
        for _ in range(2):
            s.add(
                DistrictDayRecord(
                    scenario_id=sid, district="a", date=START, payload={}, current=True
                )
            )
        with pytest.raises(IntegrityError):
            s.commit()


# ------------------------------------------------------------------ stored text
def _xlsx(data: dict) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.xlsx"
        save_xlsx(scenario_from_data(data), path)
        return path.read_bytes()


def test_text_longer_than_its_column_or_with_nul_is_422_on_both_databases(service):
    c = service.client
    admin = service.key("admin")
    name_limit = text_length(ScenarioRecord.name)
    code_limit = text_length(DistrictDayRecord.district)

    def scenario_with(change) -> dict:
        data = tiny_json()
        change(data)
        return data

    def long_name(d):
        d["settings"]["province"]["name"] = "N" * (name_limit + 100)

    def nul_name(d):
        d["settings"]["province"]["name"] = "Tỉnh\x00Thử"

    def long_code(d):
        old, new = "a", "d" * (code_limit + 50)
        for table in ("districts", "labs", "prevalence", "demand"):
            for row in d[table]:
                for key in ("code", "district"):
                    if row.get(key) == old:
                        row[key] = new

    def long_lab(d):
        for table in ("labs", "deliveries"):
            for row in d[table]:
                if row.get("id") == "cdc" or row.get("lab") == "cdc":
                    row["id" if "id" in row else "lab"] = "c" * 120

    def long_province(d):
        d["settings"]["province"]["code"] = "p" * 150

    cases = [
        (long_name, f"at most {name_limit}"),
        (nul_name, "control character"),
        (long_code, f"at most {code_limit}"),
        (long_lab, "at most"),
        (long_province, "at most"),
    ]
    for change, needle in cases:
        data = scenario_with(change)
        r = c.post("/v1/scenarios", headers=admin, json=data)
        assert r.status_code == 422 and needle in r.text, (change.__name__, r.text[:300])
        if change is not nul_name:  # the same from a workbook
            r = c.post(
                "/v1/scenarios/upload", headers=admin, files={"file": ("s.xlsx", _xlsx(data))}
            )
            assert r.status_code == 422 and needle in r.text, (change.__name__, r.text[:300])
    sid = _scenario(c, admin)
    r = c.put(f"/v1/scenarios/{sid}", headers=admin, json=scenario_with(long_code))
    assert r.status_code == 422
    # anything else in the scenario: NUL refused (PostgreSQL cannot store it in text)
    r = c.post(
        "/v1/scenarios",
        headers=admin,
        json=scenario_with(lambda d: d["districts"][1].update(name="B\x00")),
    )
    assert r.status_code == 422 and "NUL" in r.text
    with service.app.state.db.sessions() as s:
        assert s.execute(select(func.count()).select_from(ScenarioRecord)).scalar_one() == 1

    # keys: label and scopes
    for body in (
        {"role": "lab", "scopes": ["tiny/cdc"], "label": "x\x00"},
        {"role": "lab", "scopes": ["tiny/cdc"], "label": "x" * 201},
        {"role": "coordinator", "scopes": ["ti\x00ny"]},
    ):
        r = c.post("/v1/keys", headers=admin, json=body)
        assert r.status_code == 422, (body, r.text)
    # batches: lab, config, sample ids (JSON and file), address groups
    rows, _ = samples(30)
    base = {
        "scenario_id": sid,
        "lab": "cdc",
        "label": "B1",
        "date": str(START),
        "algorithm": "D2",
        "config": "5",
        "samples": rows,
    }
    for change in (
        {"lab": "c\x00"},
        {"lab": "c" * 101},
        {"config": "5\x00"},
        {"samples": [{**rows[0], "sample_id": "S\x00"}, *rows[1:]]},
        {"samples": [{**rows[0], "sample_id": "S" * 201}, *rows[1:]]},
    ):
        r = c.post("/v1/batches", headers=admin, json={**base, **change})
        assert r.status_code == 422, (change, r.text[:300])
    form = {k: base[k] for k in ("scenario_id", "lab", "label", "date", "algorithm", "config")}
    # a NUL byte is refused by the CSV reader (no CSV has one), another control character by
    # the stored-text check
    for cell, needle in (("S1\x00", "NUL"), ("S1\x07", "control character")):
        csv = f"sample_id,district\n{cell},a\nS2,a\n".encode()
        r = c.post("/v1/batches/upload", headers=admin, files={"file": ("s.csv", csv)}, data=form)
        assert r.status_code == 422 and needle in r.text, r.text
    # ids and filters that cannot name anything: 404 / 422, never a database error
    for url, code in (
        (f"/v1/scenarios/{sid}%00", 404),
        ("/v1/scenarios/" + "x" * 300, 404),
        ("/v1/batches/b%00", 404),
        (f"/v1/scenarios/{sid}/districts/a%00/days/{START}", 404),
        ("/v1/batches?lab=c%00", 422),
        ("/v1/plans?scenario_id=x%00", 422),
        ("/v1/audit?resource_id=x%00", 422),
    ):
        r = c.get(url, headers=admin)
        assert r.status_code == code, (url, r.text)
    r = c.post("/v1/plans", headers=admin, json={"scenario_id": "x\x00"})
    assert r.status_code == 422
    with service.app.state.db.sessions() as s:
        assert s.execute(select(func.count()).select_from(LabBatchRecord)).scalar_one() == 0


def _zip(data: dict) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        save_folder(scenario_from_data(data), Path(tmp) / "s")
        return zip_folder(Path(tmp) / "s")


def test_every_text_of_a_scenario_has_a_length_limit_in_json_xlsx_and_zip(service):
    """Names and any other text of a scenario (not only the stored columns): at most
    SCENARIO_TEXT characters, 422 naming table, row and column, whatever the format."""
    c = service.client
    admin = service.key("admin")
    long = "N" * 20_000  # an XLSX cell holds at most 32,767
    cases = {  # change, and where the answer says it is
        "district name": (lambda d: d["districts"][1].update(name=long), ["districts", 3, "name"]),
        "lab name": (lambda d: d["labs"][0].update(name=long), ["labs", 2, "name"]),
        "stream name": (
            lambda d: d["settings"]["streams"][1].update(name=long),
            ["settings", "streams[1].name"],
        ),
    }
    for what, (change, where) in cases.items():
        data = tiny_json()
        change(data)
        sent = {
            "JSON": {"json": data},
            "XLSX": {"files": {"file": ("s.xlsx", _xlsx(data))}},
            "zip": {"files": {"file": ("s.zip", _zip(data))}},
        }
        for how, body in sent.items():
            url = "/v1/scenarios" if how == "JSON" else "/v1/scenarios/upload"
            r = c.post(url, headers=admin, **body)
            assert r.status_code == 422, (what, how, r.status_code, r.text[:300])
            said = [{k: e[k] for k in ("loc", "msg")} for e in r.json()["detail"]]
            assert {
                "loc": where,
                "msg": f"{len(long)} characters; at most {SCENARIO_TEXT}",
            } in said, (what, how, said)
    data = tiny_json()
    data["districts"][1]["name"] = "N" * SCENARIO_TEXT  # at the limit: stored
    assert c.post("/v1/scenarios", headers=admin, json=data).status_code == 201


def test_a_scenario_larger_stored_than_a_request_body_is_refused(database_url):
    """A workbook's shared strings are stored once per cell: the stored JSON is measured and
    refused past LABOPT_MAX_BODY_MB, whatever the upload's size."""
    data = tiny_json()
    first = data["districts"][0]
    name = "N" * SCENARIO_TEXT
    codes = [f"u{i:04d}" for i in range(1500)]
    data["districts"] += [{**first, "code": u, "name": name} for u in codes]
    data["prevalence"] += [
        {**row, "district": u}
        for u in codes
        for row in data["prevalence"]
        if row["district"] == "a"
    ]
    upload = _xlsx(data)
    stored = len(json.dumps(data, ensure_ascii=False).encode())
    limit_mb = 0.1
    assert len(upload) < limit_mb * 2**20 < stored  # the upload fits, its JSON does not
    app = create_app(settings_for(database_url, max_body_mb=limit_mb))
    with TestClient(app) as c:
        svc = Service(app, c)
        admin = svc.key("admin")
        r = c.post("/v1/scenarios/upload", headers=admin, files={"file": ("s.xlsx", upload)})
        assert r.status_code == 413, r.text[:300]
        assert "LABOPT_MAX_BODY_MB" in r.json()["detail"] and "0.1 MB" in r.json()["detail"]
        sid = _scenario(c, admin)
        r = c.put(f"/v1/scenarios/{sid}/upload", headers=admin, files={"file": ("s.xlsx", upload)})
        assert r.status_code == 413, r.text[:300]
        with app.state.db.sessions() as s:
            assert s.execute(select(func.count()).select_from(ScenarioRecord)).scalar_one() == 1
            assert s.get(ScenarioRecord, sid).version == 1


BAD_IDS = {"NUL": "a\x00b", "5000 characters": "x" * 5000}
# a valid body per route that needs one, so that the handler (and its lookup) is reached
BODIES = {
    ("PUT", "/v1/scenarios/{scenario_id}"): {"json": tiny_json()},
    ("PUT", "/v1/scenarios/{scenario_id}/upload"): {
        "files": {"file": ("s.xlsx", _xlsx(tiny_json()))}
    },
    ("PUT", "/v1/scenarios/{scenario_id}/districts/{code}/days/{date}"): {
        "json": {"samples": {"screening": 1}}
    },
    ("POST", "/v1/batches/{batch_id}/results"): {
        "json": {"results": [{"sample_id": "S00000", "result": "negative"}]}
    },
    ("POST", "/v1/batches/{batch_id}/results/upload"): {
        "files": {"file": ("r.csv", b"sample_id,result\nS00000,negative\n")}
    },
    ("POST", "/v1/scenarios/{scenario_id}/estimates"): {"json": {"date": str(START)}},
    ("POST", "/v1/scenarios/{scenario_id}/records/{kind}"): {
        "json": {
            "rows": [{"date": str(START), "district": "a", "stream": "screening", "samples": 1}]
        }
    },
    ("POST", "/v1/scenarios/{scenario_id}/records/{kind}/upload"): {
        "files": {"file": ("c.csv", f"date,district,stream,samples\n{START},a,screening,1\n")}
    },
}
# a unit's input is written, not looked up: a code that is no unit is a bad request (as any
# unknown code there), 422 naming the path parameter
WRITTEN = {("PUT", "/v1/scenarios/{scenario_id}/districts/{code}/days/{date}", "code")}


def _operations(app):
    """(method, path template, path parameters, query parameters) of every route."""
    for path, methods in app.openapi()["paths"].items():
        for method, op in methods.items():
            params = op.get("parameters", [])
            yield (
                method.upper(),
                path,
                op.get("requestBody", {}).get("required", False),
                [p for p in params if p["in"] == "path"],
                [p for p in params if p["in"] == "query"],
            )


def _is_text(param: dict) -> bool:
    """A free-text parameter (no format, no enum): an id, code or name."""
    schemas = param["schema"].get("anyOf", [param["schema"]])
    return any(s.get("type") == "string" and "format" not in s and "enum" not in s for s in schemas)


def test_every_id_or_filter_that_names_nothing_is_404_or_422_on_both_databases(service):
    """Each text path parameter of every route, in turn, set to a NUL id or a 5,000-character
    id (the others naming real things): 404 (422 where the id is written, WRITTEN). Each text
    query parameter so set: 422 naming it. Never a database error."""
    c = service.client
    admin = service.key("admin")
    sid = _scenario(c, admin)
    rows, _ = samples(30)
    r = c.post(
        "/v1/batches",
        headers=admin,
        json={
            "scenario_id": sid,
            "lab": "cdc",
            "label": "B1",
            "date": str(START),
            "algorithm": "D2",
            "config": "5",
            "samples": rows,
        },
    )
    assert r.status_code == 201, r.text
    real = {
        "scenario_id": sid,
        "batch_id": r.json()["id"],
        "code": "a",
        "date": str(START),
        "name": "allocations",
        "key_id": "1",
        "kind": "collected",
        "table": "days",
    }
    r = c.post("/v1/plans", headers=admin, json={"scenario_id": sid})
    assert r.status_code == 202, r.text
    real["plan_id"] = r.json()["id"]
    wrong, tried = [], 0
    for method, path, needs_body, path_params, query_params in _operations(service.app):
        if needs_body and path_params:
            assert (method, path) in BODIES, f"add a valid body for {method} {path} to BODIES"
        body = BODIES.get((method, path), {})
        for p in filter(_is_text, path_params):
            for what, bad in BAD_IDS.items():
                values = {**real, p["name"]: quote(bad)}
                url = path.format(**values)
                r = c.request(method, url, headers=admin, **body)
                tried += 1
                expected = 422 if (method, path, p["name"]) in WRITTEN else 404
                if r.status_code != expected:
                    wrong.append(
                        f"{method} {path} {p['name']}={what}: {r.status_code} {r.text[:150]}"
                    )
        base = path.format(**real)
        for p in filter(_is_text, query_params):
            for what, bad in BAD_IDS.items():
                r = c.request(method, base, params={p["name"]: bad}, headers=admin, **body)
                tried += 1
                if r.status_code != 422 or ["query", p["name"]] not in [
                    e["loc"] for e in r.json()["detail"]
                ]:
                    wrong.append(
                        f"{method} {path}?{p['name']}={what}: {r.status_code} {r.text[:150]}"
                    )
    assert tried > 40 and not wrong, "\n".join(wrong)


def test_a_unit_code_stored_before_the_checks_gets_422_not_500(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    sid = _scenario(c, coord)
    long = "d" * (text_length(DistrictDayRecord.district) + 50)
    data = tiny_json()
    for table in ("districts", "labs", "prevalence", "demand"):
        for row in data[table]:
            for key in ("code", "district"):
                if row.get(key) == "a":
                    row[key] = long
    with service.app.state.db.sessions() as s:  # as an older version stored it
        s.get(ScenarioRecord, sid).data = data
        s.commit()
    r = c.put(
        f"/v1/scenarios/{sid}/districts/{long}/days/{START}",
        headers=coord,
        json={"samples": {"screening": 1}},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "code"], r.text


# ------------------------------------------------------------------ a replaced horizon
def test_inputs_outside_a_replaced_horizon_stay_in_the_history_unapplied(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    sid = _scenario(c, coord)
    for day in (START, START + dt.timedelta(days=2)):
        r = c.put(
            f"/v1/scenarios/{sid}/districts/a/days/{day}",
            headers=coord,
            json={"samples": {"screening": 7777}},
        )
        assert r.status_code == 200, r.text
    later = tiny_json()
    later["settings"]["province"]["start_date"] = str(START + dt.timedelta(days=2))
    r = c.put(f"/v1/scenarios/{sid}", headers=coord, json=later)
    assert r.status_code == 200, r.text
    assert r.json()["district_days_not_applied"] == 1
    assert "2021-10-04" in " ".join(r.json()["notes"]) and "history" in r.json()["notes"][0]
    plan = wait_done(
        c, c.post("/v1/plans", headers=coord, json={"scenario_id": sid}).json()["id"], coord
    )
    assert plan["status"] == "done", plan["error"]
    # the one inside the new horizon is applied, the other kept
    with service.app.state.db.sessions() as s:
        scn = build_scenario(s, s.get(ScenarioRecord, sid))
    demand = scn.demand.set_index(["day", "district", "stream"])["samples"]
    assert demand[(1, "a", "screening")] == 7777
    old = c.get(f"/v1/scenarios/{sid}/districts/a/days/{START}", headers=coord)
    assert old.status_code == 200 and old.json()["current"]["samples"]["screening"] == 7777
    r = c.get(f"/v1/scenarios/{sid}/capacity", headers=coord, params={"day": 9})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "day"]
    assert r.json()["detail"][0]["msg"].startswith("query parameter 'day': "), r.text
    r = c.get(f"/v1/scenarios/{sid}/capacity", headers=coord, params={"day": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "day"]


# ------------------------------------------------------------------ lists
def _count_statements(engine, needle: str):
    seen = []

    def listen(conn, cursor, statement, *args):
        if needle in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listen)


def test_lists_are_filtered_in_sql_then_paged_without_bodies(service):
    c = service.client
    admin = service.key("admin")
    coord = service.key("coordinator", "tiny")
    lab = service.key("lab", "tiny/cdc")
    nobody = service.key("coordinator", "nowhere")
    sid = _scenario(c, coord)
    other = tiny_json()
    other["settings"]["province"]["code"] = "elsewhere"
    other_sid = _scenario(c, admin, other)
    mine = c.post("/v1/plans", headers=coord, json={"scenario_id": sid, "days": 1}).json()
    with service.app.state.db.sessions() as s:  # 600 newer plans of another province
        t0 = s.get(PlanJob, mine["id"]).created_at
        s.add_all(
            PlanJob(
                id=uuid.uuid4().hex,
                scenario_id=other_sid,
                province_code="elsewhere",
                start_date=START,
                days=1,
                status="failed",
                message="",
                created_at=t0 + dt.timedelta(seconds=1 + i),
            )
            for i in range(600)
        )
        s.commit()
    r = c.get("/v1/plans", headers=lab, params={"limit": MAX_LIMIT}).json()
    assert r["total"] == 1 and [p["id"] for p in r["items"]] == [mine["id"]]
    r = c.get("/v1/plans", headers=admin, params={"limit": 250, "offset": 500}).json()
    assert r["total"] == 601 and len(r["items"]) == 101 and r["items"][-1]["id"] == mine["id"]
    assert (r["limit"], r["offset"]) == (250, 500)
    assert c.get("/v1/plans", headers=admin, params={"limit": MAX_LIMIT + 1}).status_code == 422
    assert c.get("/v1/plans", headers=admin, params={"offset": -1}).status_code == 422

    engine = service.app.state.db.engine
    seen, stop = _count_statements(engine, "scenarios.data")
    try:
        r = c.get("/v1/scenarios", headers=coord).json()
        assert [x["id"] for x in r["items"]] == [sid] and r["total"] == 1
        assert r["items"][0]["units"] == 2 and r["items"][0]["days"] == 3
        assert c.get("/v1/scenarios", headers=nobody).json() == {
            "items": [],
            "total": 0,
            "limit": 100,
            "offset": 0,
        }
        r = c.get("/v1/scenarios", headers=admin, params={"limit": 1, "offset": 1}).json()
        assert r["total"] == 2 and [x["id"] for x in r["items"]] == [other_sid]
    finally:
        stop()
    assert seen == []  # no scenario body was read
    r = c.get("/v1/keys", headers=admin, params={"limit": 2}).json()
    assert r["total"] == 4 and len(r["items"]) == 2


# ------------------------------------------------------------------ validated pool sizes
def test_a_batch_pooling_more_than_the_lab_validated_is_refused(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    sid = _scenario(c, coord)
    rows, _ = samples(60)
    base = {
        "scenario_id": sid,
        "lab": "hosp",
        "label": "B1",
        "date": str(START),
        "algorithm": "D2",
        "config": "30",
        "samples": rows,
    }
    r = c.post("/v1/batches", headers=coord, json=base)
    assert r.status_code == 422
    msg = r.json()["detail"][0]["msg"]
    assert "'hosp'" in msg and "at most 5" in msg and "pools 30 samples" in msg, msg
    for algorithm, config in (("A2", "8"), ("D3", "6:3,3")):  # 8, 6 > 5
        r = c.post(
            "/v1/batches", headers=coord, json={**base, "algorithm": algorithm, "config": config}
        )
        assert r.status_code == 422 and "at most 5" in r.text, r.text
    csv = ("sample_id\n" + "\n".join(f"S{i}" for i in range(40))).encode()
    r = c.post(
        "/v1/batches/upload",
        headers=coord,
        files={"file": ("s.csv", csv)},
        data={
            "scenario_id": sid,
            "lab": "hosp",
            "label": "B2",
            "date": str(START),
            "algorithm": "D2",
            "config": "10",
        },
    )
    assert r.status_code == 422 and "at most 5" in r.text, r.text
    assert c.post("/v1/batches", headers=coord, json={**base, "config": "5"}).status_code == 201


# ------------------------------------------------------------------ ETag / If-Match
def test_scenario_etag_and_if_match(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    r = c.post("/v1/scenarios", headers=coord, json=tiny_json())
    sid, tag = r.json()["id"], r.headers["ETag"]
    assert tag == '"1"' and c.get(f"/v1/scenarios/{sid}", headers=coord).headers["ETag"] == tag
    r = c.put(f"/v1/scenarios/{sid}", headers={**coord, "If-Match": tag}, json=tiny_json())
    assert r.status_code == 200 and r.headers["ETag"] == '"2"' and r.json()["version"] == 2
    stale = c.put(f"/v1/scenarios/{sid}", headers={**coord, "If-Match": tag}, json=tiny_json())
    assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'
    assert "version 2" in stale.json()["detail"]
    r = c.put(
        f"/v1/scenarios/{sid}/upload",
        headers={**coord, "If-Match": tag},
        files={"file": ("s.xlsx", _xlsx(tiny_json()))},
    )
    assert r.status_code == 412
    assert c.delete(f"/v1/scenarios/{sid}", headers={**coord, "If-Match": tag}).status_code == 412
    r = c.put(f"/v1/scenarios/{sid}", headers=coord, json=tiny_json())  # no If-Match
    assert r.status_code == 200 and r.json()["version"] == 3
    r = c.put(f"/v1/scenarios/{sid}", headers={**coord, "If-Match": '"7", "3"'}, json=tiny_json())
    assert r.status_code == 200 and r.json()["version"] == 4
    with service.app.state.db.sessions() as s:
        assert s.get(ScenarioRecord, sid).version == 4


def test_concurrent_replacements_with_the_same_if_match_one_wins(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    sid = _scenario(c, coord)
    barrier = threading.Barrier(8)
    codes = []

    def put():
        barrier.wait()
        codes.append(
            c.put(
                f"/v1/scenarios/{sid}", headers={**coord, "If-Match": '"1"'}, json=tiny_json()
            ).status_code
        )

    threads = [threading.Thread(target=put) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [200] + [412] * 7
    with service.app.state.db.sessions() as s:
        assert s.get(ScenarioRecord, sid).version == 2


# ------------------------------------------------------------------ migration 0003
def test_migration_0003_fills_list_columns_and_keeps_one_current_input(database_url):
    """A database at 0002 with a scenario, a plan and two current rows of one unit and day
    (left by concurrent submissions before the index) upgrades: the list columns come from the
    JSON, the later row stays current, nothing is lost (SQLite's table copy would cascade)."""
    engine = make_engine(database_url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
        data = tiny_json()
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO scenarios (id, province_code, name, data, version, "
                    "created_at, updated_at) VALUES ('s1', 'tiny', 'T', :d, 1, "
                    ":t, :t)"
                ),
                {"d": json.dumps(data), "t": dt.datetime(2021, 1, 1)},
            )
            for n in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO district_days (scenario_id, district, date, "
                        "payload, current, submitted_at) VALUES ('s1', 'a', :day, "
                        ":p, :c, :t)"
                    ),
                    {
                        "day": START,
                        "p": f'{{"samples": {{"screening": {n}}}}}',
                        "c": True,
                        "t": dt.datetime(2021, 1, 1),
                    },
                )
            conn.execute(
                text(
                    "INSERT INTO plan_jobs (id, scenario_id, province_code, "
                    "start_date, days, status, progress, message, created_at) VALUES "
                    "('p1', 's1', 'tiny', :day, 1, 'done', 1, '', :t)"
                ),
                {"day": START, "t": dt.datetime(2021, 1, 1)},
            )
        migrate(engine)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT start_date, days, units, labs FROM scenarios")).one()
            current = (
                conn.execute(text("SELECT id FROM district_days WHERE current = :c"), {"c": True})
                .scalars()
                .all()
            )
            ids = conn.execute(text("SELECT id FROM district_days ORDER BY id")).scalars().all()
            plans = conn.execute(text("SELECT id FROM plan_jobs")).scalars().all()
        assert (str(row[0]), row[1], row[2], row[3]) == ("2021-10-04", 3, 2, 3)
        assert len(ids) == 2 and current == [ids[-1]] and plans == ["p1"]
    finally:
        engine.dispose()
