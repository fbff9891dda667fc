"""The audit trail, on both databases: every change named in it with the key (id, prefix,
role) and the time, readable and filterable by admins only, never editable, written in the
transaction of the change; deleting a scenario keeps its units' submissions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from labopt_api.models import ApiKey, AuditEvent, DistrictDayRecord, ScenarioRecord
from tests.service.conftest import wait_done
from tests.service.test_api import tiny_json
from tests.service.test_batches import samples

START = dt.date(2021, 10, 4)


def _events(c, admin, **params) -> list[dict]:
    r = c.get("/v1/audit", headers=admin, params={"limit": 500, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_every_change_is_audited_with_who_and_when(service):
    c = service.client
    admin = service.key("admin")
    coord = service.key("coordinator", "tiny")
    t0 = dt.datetime.now(dt.UTC)
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    assert c.put(f"/v1/scenarios/{sid}", headers=coord, json=tiny_json()).status_code == 200
    assert (
        c.put(
            f"/v1/scenarios/{sid}/districts/a/days/{START}",
            headers=coord,
            json={"samples": {"screening": 10}},
        ).status_code
        == 200
    )
    pid = c.post("/v1/plans", headers=coord, json={"scenario_id": sid, "days": 1}).json()["id"]
    rows, _ = samples(30)
    batch = c.post(
        "/v1/batches",
        headers=coord,
        json={
            "scenario_id": sid,
            "lab": "cdc",
            "label": "B1",
            "date": str(START),
            "algorithm": "D2",
            "config": "5",
            "samples": rows,
        },
    ).json()
    assert c.delete(f"/v1/batches/{batch['id']}", headers=coord).status_code == 204
    key = c.post(
        "/v1/keys",
        headers=admin,
        json={"role": "lab", "scopes": ["tiny/cdc"], "label": "night shift"},
    ).json()
    assert c.delete(f"/v1/keys/{key['id']}", headers=admin).status_code == 204
    wait_done(c, pid, coord)

    events = _events(c, admin, since=t0.isoformat())
    actions = [e["action"] for e in reversed(events)]  # oldest first
    assert actions == [
        "scenario.create",
        "scenario.replace",
        "district_day.submit",
        "plan.request",
        "batch.delete",
        "key.create",
        "key.revoke",
    ]
    by_action = {e["action"]: e for e in events}
    coord_id = by_action["scenario.create"]["key_id"]
    with service.app.state.db.sessions() as s:
        coord_prefix = s.get(ApiKey, coord_id).prefix
    for action in (
        "scenario.create",
        "scenario.replace",
        "district_day.submit",
        "plan.request",
        "batch.delete",
    ):
        e = by_action[action]
        assert (e["key_id"], e["key_prefix"], e["key_role"]) == (
            coord_id,
            coord_prefix,
            "coordinator",
        ), e
        assert dt.datetime.fromisoformat(e["at"]) >= t0
    assert by_action["scenario.replace"]["resource_id"] == sid
    assert by_action["scenario.replace"]["detail"]["version"] == 2
    assert by_action["district_day.submit"]["resource_id"] == f"{sid}/a/{START}"
    assert by_action["plan.request"]["resource_id"] == pid
    assert by_action["batch.delete"]["detail"]["label"] == "B1"
    assert by_action["key.create"]["key_role"] == "admin"
    assert by_action["key.create"]["detail"]["label"] == "night shift"
    assert by_action["key.revoke"]["resource_id"] == str(key["id"])

    # filters and paging
    assert next(e["action"] for e in _events(c, admin, action="key.create")) == "key.create"
    assert {e["resource"] for e in _events(c, admin, resource="scenario")} == {"scenario"}
    assert {e["key_id"] for e in _events(c, admin, key_id=coord_id)} == {coord_id}
    assert _events(c, admin, until=t0.isoformat(), action="scenario.create") == []
    assert [e["resource_id"] for e in _events(c, admin, resource_id=sid)] == [sid, sid]
    page = c.get("/v1/audit", headers=admin, params={"limit": 2, "offset": 1}).json()
    assert len(page["items"]) == 2 and page["total"] >= 7 and page["offset"] == 1
    assert page["items"][0]["id"] == events[1]["id"]
    assert c.get("/v1/audit", headers=admin, params={"resource": "moon"}).status_code == 422

    # admins only, and never edited
    assert c.get("/v1/audit", headers=coord).status_code == 403
    event_id = events[0]["id"]
    for method in ("PUT", "PATCH", "DELETE"):
        assert c.request(method, f"/v1/audit/{event_id}", headers=admin).status_code in (404, 405)
        assert c.request(method, "/v1/audit", headers=admin).status_code == 405
    assert c.post("/v1/audit", headers=admin, json={}).status_code == 405


def test_a_refused_change_leaves_no_audit_event(service):
    c = service.client
    admin = service.key("admin")
    coord = service.key("coordinator", "tiny")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    before = len(_events(c, admin))
    bad = tiny_json()
    bad["settings"]["province"]["name"] = "x" * 500
    assert c.put(f"/v1/scenarios/{sid}", headers=coord, json=bad).status_code == 422
    assert (
        c.put(
            f"/v1/scenarios/{sid}", headers={**coord, "If-Match": '"9"'}, json=tiny_json()
        ).status_code
        == 412
    )
    assert (
        c.put(
            f"/v1/scenarios/{sid}/districts/a/days/2030-01-01",
            headers=coord,
            json={"samples": {"screening": 1}},
        ).status_code
        == 422
    )
    assert len(_events(c, admin)) == before


def test_deleting_a_scenario_keeps_the_units_submissions(service):
    c = service.client
    admin = service.key("admin")
    coord = service.key("coordinator", "tiny")
    district = service.key("district", "tiny/a")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    for n in (11, 12):
        assert (
            c.put(
                f"/v1/scenarios/{sid}/districts/a/days/{START}",
                headers=district,
                json={"samples": {"screening": n}},
            ).status_code
            == 200
        )
    r = c.delete(f"/v1/scenarios/{sid}", headers=coord)
    assert (
        r.status_code == 409 and "2 district-day submissions" in r.text and "force=true" in r.text
    )
    assert (
        c.delete(f"/v1/scenarios/{sid}", headers=district, params={"force": "true"}).status_code
        == 403
    )
    with service.app.state.db.sessions() as s:
        assert s.get(ScenarioRecord, sid) is not None
    assert (
        c.delete(f"/v1/scenarios/{sid}", headers=coord, params={"force": "true"}).status_code == 204
    )
    with service.app.state.db.sessions() as s:
        assert s.get(ScenarioRecord, sid) is None
        assert s.execute(select(func.count()).select_from(DistrictDayRecord)).scalar_one() == 0
        stored = s.execute(
            select(AuditEvent).where(AuditEvent.action == "scenario.delete")
        ).scalar_one()
    (event,) = _events(c, admin, action="scenario.delete")
    assert event["id"] == stored.id and event["detail"]["forced"] is True
    kept = event["detail"]["district_days"]
    assert [d["payload"]["samples"]["screening"] for d in kept] == [11, 12]
    assert [d["current"] for d in kept] == [False, True]
    assert event["detail"]["scenario"]["settings"]["province"]["code"] == "tiny"
    # a scenario without submissions needs no force; nothing to keep
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    assert c.delete(f"/v1/scenarios/{sid}", headers=coord).status_code == 204
    event = _events(c, admin, action="scenario.delete")[0]
    assert event["resource_id"] == sid and event["detail"]["forced"] is False
    assert "district_days" not in event["detail"]


def test_keys_made_on_the_command_line_are_audited(service):
    from labopt_api.store.keys import create_key, revoke_key

    with service.app.state.db.sessions() as s:
        row, _ = create_key(s, "lab", ["tiny/cdc"], "bench")
        revoke_key(s, row.id)
        events = (
            s.execute(
                select(AuditEvent)
                .where(AuditEvent.resource_id == str(row.id))
                .order_by(AuditEvent.id)
            )
            .scalars()
            .all()
        )
    assert [(e.action, e.key_id, e.key_role) for e in events] == [
        ("key.create", None, "cli"),
        ("key.revoke", None, "cli"),
    ]
