"""Lab batches in the service, on both databases: a batch from samples to final statuses over
HTTP, idempotent uploads, corrections kept with who and when, bad input storing nothing, and
estimates feeding the next plan."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from labopt.lab.estimate import estimate_table
from labopt_api.models import DistrictDayRecord, LabBatchRecord, LabResultRecord, LabRunRecord
from tests.service.test_api import tiny_json

START = dt.date(2021, 10, 4)


def samples(n: int = 240, seed: int = 1, positives: int = 4) -> tuple[list[dict], set[str]]:
    """Screening samples from units a and b; ``positives`` of them truly positive."""
    rng = np.random.default_rng(seed)
    ids = [f"S{i:05d}" for i in range(n)]
    rows = [
        {"sample_id": s, "district": "a" if i < n * 2 // 3 else "b", "stream": "screening"}
        for i, s in enumerate(ids)
    ]
    truth = set(rng.choice(ids, positives, replace=False).tolist())
    return rows, truth


def csv_of(resp) -> pd.DataFrame:
    assert resp.status_code == 200, resp.text
    return pd.read_csv(io.StringIO(resp.text), dtype=str, keep_default_na=False)


def lab_results(client, batch_id: str, headers: dict, truth: set[str]) -> pd.DataFrame:
    """A perfect assay, worked out from the service's own manifest and plates (not from the
    library's decoding): a well is positive when any of its samples is truly positive;
    controls pass."""
    manifest = csv_of(client.get(f"/v1/batches/{batch_id}/tables/manifest", headers=headers))
    template = csv_of(
        client.get(f"/v1/batches/{batch_id}/tables/results_template", headers=headers)
    )
    positive_pools = set()
    for col in [c for c in manifest.columns if c.startswith("pool_")]:
        positive_pools |= set(manifest.loc[manifest["sample_id"].isin(truth), col])
    result = np.where(template["content"] == "positive_control", "positive", "negative")
    react = template["content"] == "reaction"
    result[react.to_numpy()] = np.where(
        template.loc[react, "pool_id"].isin(positive_pools), "positive", "negative"
    )
    return pd.DataFrame({"plate": template["plate"], "well": template["well"], "result": result})


def upload(client, batch_id, headers, table: pd.DataFrame, name="run.csv", correct=False):
    return client.post(
        f"/v1/batches/{batch_id}/results/upload",
        headers=headers,
        files={"file": (name, table.to_csv(index=False).encode(), "text/csv")},
        data={"correct": str(correct).lower()},
    )


def stored_state(service, batch_id: str) -> tuple[int, int, int]:
    """(results rows, runs, version) as the database holds them."""
    with service.app.state.db.sessions() as s:
        results = s.execute(
            select(func.count())
            .select_from(LabResultRecord)
            .where(LabResultRecord.batch_id == batch_id)
        ).scalar_one()
        runs = s.execute(
            select(func.count()).select_from(LabRunRecord).where(LabRunRecord.batch_id == batch_id)
        ).scalar_one()
        version = s.get(LabBatchRecord, batch_id).version
    return results, runs, version


@pytest.fixture
def setup(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    lab = service.key("lab", "tiny/cdc")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    return c, coord, lab, sid


def new_batch(
    c, headers, sid, label="B1", n=240, seed=1, algorithm="D3", config="9:3,3,3", **extra
):
    rows, truth = samples(n, seed)
    body = {
        "scenario_id": sid,
        "lab": "cdc",
        "label": label,
        "date": str(START),
        "algorithm": algorithm,
        "config": config,
        "samples": rows,
        **extra,
    }
    r = c.post("/v1/batches", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json(), truth


# ------------------------------------------------------------------ the day's work
def test_batch_from_samples_to_final_statuses(setup, service):
    c, coord, lab, sid = setup
    batch, truth = new_batch(c, lab, sid)
    bid = batch["id"]
    assert batch["runs"] == 1 and batch["summary"]["pending"] == 240
    assert batch["mode"] == "lab" and batch["plate"]["wells"] == 96
    plates = csv_of(c.get(f"/v1/batches/{bid}/tables/plates", headers=lab))
    assert (plates["content"] == "reaction").sum() == 240 // 9 + 1  # 26 full pools + 6
    html = c.get(f"/v1/batches/{bid}/plates.html", headers=lab)
    assert html.status_code == 200 and "B1-R1-01" in html.text
    runs = 0
    while True:
        out = c.get(f"/v1/batches/{bid}", headers=lab).json()
        if out["summary"]["pending"] == 0:
            break
        runs += 1
        assert runs <= 3, out
        r = upload(c, bid, lab, lab_results(c, bid, lab, truth), name=f"run{runs}.csv")
        assert r.status_code == 200, r.text
        assert r.json()["changed"] and r.json()["added"] > 0
    statuses = csv_of(c.get(f"/v1/batches/{bid}/tables/statuses", headers=lab))
    assert set(statuses.loc[statuses["status"] == "positive", "sample_id"]) == truth
    assert (statuses["status"].isin(["positive", "negative"])).all()
    log = csv_of(c.get(f"/v1/batches/{bid}/tables/results_log", headers=coord))
    assert set(log["source"]) == {f"run{i}.csv" for i in range(1, runs + 1)}
    key_id = int(log["submitted_by"].iloc[0])
    assert (log["submitted_by"].astype(int) == key_id).all()
    assert log["recorded_at"].str.match(r"\d{4}-\d\d-\d\dT").all()
    xlsx = c.get(f"/v1/batches/{bid}/tables/pools.xlsx", headers=lab)
    pools = pd.read_excel(io.BytesIO(xlsx.content))
    assert pools["reactions"].sum() == out["summary"]["reactions_used"]
    assert c.get(f"/v1/batches/{bid}/tables/recollect", headers=lab).status_code == 404


def test_the_same_upload_twice_leaves_the_same_state(setup, service):
    c, _coord, lab, sid = setup
    batch, truth = new_batch(c, lab, sid)
    bid = batch["id"]
    table = lab_results(c, bid, lab, truth)
    first = upload(c, bid, lab, table)
    assert first.status_code == 200 and first.json()["changed"]
    state = stored_state(service, bid)
    tables = {
        n: c.get(f"/v1/batches/{bid}/tables/{n}", headers=lab).text
        for n in ("statuses", "pools", "plates", "results_log")
    }
    for again in (
        upload(c, bid, lab, table),  # the same file
        c.post(
            f"/v1/batches/{bid}/results",
            headers=lab,  # the same results, JSON
            json={"results": table.to_dict("records")},
        ),
    ):
        assert again.status_code == 200, again.text
        assert not again.json()["changed"] and again.json()["added"] == 0
        assert stored_state(service, bid) == state
        assert {
            n: c.get(f"/v1/batches/{bid}/tables/{n}", headers=lab).text for n in tables
        } == tables


def test_a_correction_is_kept_with_who_and_when(setup, service):
    c, coord, lab, sid = setup
    batch, truth = new_batch(c, lab, sid, algorithm="D2", config="8")
    bid = batch["id"]
    table = lab_results(c, bid, lab, truth)
    assert upload(c, bid, lab, table).status_code == 200
    template = csv_of(c.get(f"/v1/batches/{bid}/tables/plates", headers=lab))
    pool = template.loc[template["content"] == "reaction", "pool_id"].iloc[0]
    old = table.merge(template[["plate", "well", "pool_id"]])
    before = old.loc[old["pool_id"] == pool, "result"].iloc[0]
    flipped = "negative" if before == "positive" else "positive"
    fix = [{"pool_id": pool, "run": 1, "result": flipped, "ct": 31.5}]
    state = stored_state(service, bid)
    refused = c.post(f"/v1/batches/{bid}/results", headers=lab, json={"results": fix})
    assert refused.status_code == 422
    assert f"pool {pool} already has the result '{before}'" in refused.text
    assert stored_state(service, bid) == state  # nothing stored
    ok = c.post(
        f"/v1/batches/{bid}/results",
        headers=coord,
        json={"results": fix, "correct": True, "source": "re-read of plate 1"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["corrected"] == 1 and ok.json()["added"] == 0
    log = csv_of(c.get(f"/v1/batches/{bid}/tables/results_log", headers=coord))
    history = log[log["pool_id"] == pool]
    assert list(history["result"]) == [before, flipped]  # both kept, in order
    assert list(history["source"]) == ["run.csv", "re-read of plate 1"]
    assert history["submitted_by"].nunique() == 2  # the lab, then the CDC
    pools = csv_of(c.get(f"/v1/batches/{bid}/tables/pools", headers=lab))
    assert pools.loc[pools["pool_id"] == pool, "result"].item() == flipped
    assert float(pools.loc[pools["pool_id"] == pool, "ct"].item()) == 31.5


# ------------------------------------------------------------------ bad input
def test_bad_results_are_422_and_store_nothing(setup, service):
    c, _coord, lab, sid = setup
    batch, _truth = new_batch(c, lab, sid)
    bid = batch["id"]
    plates = csv_of(c.get(f"/v1/batches/{bid}/tables/plates", headers=lab))
    first = plates.loc[plates["content"] == "reaction", "pool_id"].tolist()
    manifest = csv_of(c.get(f"/v1/batches/{bid}/tables/manifest", headers=lab))
    second_stage = manifest["pool_2"].iloc[0]
    state = stored_state(service, bid)
    cases = [
        ([{"pool_id": "B1-P9999", "result": "negative"}], "B1-P9999"),
        (
            [
                {"pool_id": first[0], "result": "negative"},
                {"pool_id": first[0], "result": "positive"},
            ],
            "two results for run 1",
        ),
        ([{"pool_id": second_stage, "result": "negative"}], second_stage),
        ([{"pool_id": first[0], "result": "maybe"}], "maybe"),
        ([{"pool_id": first[0], "result": "positive", "ct": 75}], "ct"),
        ([{"plate": "B1-R1-01", "well": "Z99", "result": "negative"}], "Z99"),
    ]
    for rows, needle in cases:
        r = c.post(f"/v1/batches/{bid}/results", headers=lab, json={"results": rows})
        assert r.status_code == 422, (rows, r.text)
        assert needle in r.text
        assert all(d["loc"][:2] == ["body", "results"] for d in r.json()["detail"])
        assert stored_state(service, bid) == state
    dup = c.post(f"/v1/batches/{bid}/results", headers=lab, json={"results": cases[1][0]})
    assert dup.json()["detail"][0]["loc"] == ["body", "results", 1, "pool_id"]
    # a valid table with one bad row: none of it is used
    good = [{"pool_id": p, "result": "negative"} for p in first[1:]]
    r = c.post(
        f"/v1/batches/{bid}/results",
        headers=lab,
        json={"results": [*good, {"pool_id": "nope", "result": "negative"}]},
    )
    assert r.status_code == 422 and stored_state(service, bid) == state
    bad_file = c.post(
        f"/v1/batches/{bid}/results/upload",
        headers=lab,
        files={"file": ("r.csv", b"pool,outcome\nx,y\n", "text/csv")},
    )
    assert bad_file.status_code == 422 and "missing column 'result'" in bad_file.text
    assert "r.csv" in bad_file.json()["detail"][0]["loc"][0]
    pdf = c.post(
        f"/v1/batches/{bid}/results/upload",
        headers=lab,
        files={"file": ("r.pdf", b"%PDF", "application/pdf")},
    )
    assert pdf.status_code == 422 and ".csv or .xlsx" in pdf.text
    assert stored_state(service, bid) == state


def _batches(service) -> int:
    with service.app.state.db.sessions() as s:
        return s.execute(select(func.count()).select_from(LabBatchRecord)).scalar_one()


def test_bad_batches_are_refused_and_store_nothing(setup, service):
    c, coord, lab, sid = setup
    rows, _ = samples(30)
    base = {
        "scenario_id": sid,
        "lab": "cdc",
        "label": "B2",
        "date": str(START),
        "algorithm": "D2",
        "config": "10",
        "samples": rows,
    }
    cases = [
        ({"plate": {"wells": 96, "positive": 90, "negative": 6}}, 422, "no well for reactions"),
        ({"samples": [*rows, rows[0]]}, 422, "duplicate sample id 'S00000'"),
        ({"samples": [{**rows[0], "district": "zz"}, *rows[1:]]}, 422, "not a district"),
        ({"samples": [{**rows[0], "stream": "walk-in"}, *rows[1:]]}, 422, "not a stream"),
        ({"lab": "nowhere"}, 403, "nowhere"),  # a lab key for cdc only
        ({"config": "10:3,3"}, 422, "config"),
        ({"label": "B 2"}, 422, "label"),
        (
            {"algorithm": "D3", "config": "12:4,4,4", "field": True, "samples": rows},
            422,
            "address_group",
        ),
    ]
    for change, code, needle in cases:
        r = c.post("/v1/batches", headers=lab, json={**base, **change})
        assert r.status_code == code, (change, r.text)
        assert needle in r.text, (change, r.text)
    assert _batches(service) == 0
    r = c.post("/v1/batches", headers=coord, json={**base, "lab": "nowhere"})
    assert r.status_code == 422 and "labs: cdc, hosp, priv" in r.text
    assert c.post("/v1/batches", headers=lab, json=base).status_code == 201
    again = c.post("/v1/batches", headers=lab, json=base)
    assert again.status_code == 409 and "already used" in again.text
    bad = c.post(
        "/v1/batches/upload",
        headers=lab,
        files={"file": ("s.csv", b"sample_id\nx1\nx1\n", "text/csv")},
        data={**{k: v for k, v in base.items() if k != "samples"}, "label": "B3"},
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][:2] == ["s.csv", 3]
    assert _batches(service) == 1


def test_batch_from_an_xlsx_file_and_deletion(setup, service, tmp_path):
    c, _coord, lab, sid = setup
    rows, truth = samples(50)
    buf = io.BytesIO()
    pd.DataFrame(rows).to_excel(buf, index=False)
    r = c.post(
        "/v1/batches/upload",
        headers=lab,
        files={"file": ("samples.xlsx", buf.getvalue(), "application/octet-stream")},
        data={
            "scenario_id": sid,
            "lab": "cdc",
            "label": "X1",
            "date": str(START),
            "algorithm": "A2",
            "config": "5",
            "plate": "384",
            "controls": "positive=2,negative=2",
            "order": "row",
        },
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["samples"] == 50 and out["plate"] == {
        "wells": 384,
        "positive": 2,
        "negative": 2,
        "blank": 0,
        "order": "row",
    }
    plates = csv_of(c.get(f"/v1/batches/{out['id']}/tables/plates", headers=lab))
    assert list(plates["well"].iloc[:3]) == ["A1", "A2", "A3"]
    assert (
        c.get("/v1/batches", headers=lab, params={"scenario_id": sid}).json()["items"][0]["id"]
        == out["id"]
    )
    assert upload(c, out["id"], lab, lab_results(c, out["id"], lab, truth)).status_code == 200
    kept = c.delete(f"/v1/batches/{out['id']}", headers=lab)
    assert kept.status_code == 409 and "cannot be deleted" in kept.text
    b2, _ = new_batch(c, lab, sid, label="X2")
    assert c.delete(f"/v1/batches/{b2['id']}", headers=lab).status_code == 204
    assert c.get(f"/v1/batches/{b2['id']}", headers=lab).status_code == 404


def test_only_the_lab_and_the_coordinator_see_a_batch(setup, service):
    c, _coord, lab, sid = setup
    batch, _truth = new_batch(c, lab, sid)
    bid = batch["id"]
    others = [
        service.key("lab", "tiny/hosp"),
        service.key("district", "tiny/a"),
        service.key("coordinator", "quang_ninh"),
    ]
    for h in others:
        assert c.get(f"/v1/batches/{bid}", headers=h).status_code == 403
        assert c.get(f"/v1/batches/{bid}/tables/statuses", headers=h).status_code == 403
        r = c.post(
            f"/v1/batches/{bid}/results",
            headers=h,
            json={"results": [{"pool_id": "B1-P0001", "result": "negative"}]},
        )
        assert r.status_code == 403
        assert c.get("/v1/batches", headers=h).json()["items"] == []
    assert c.get(f"/v1/batches/{bid}", headers=service.key("admin")).status_code == 200
    assert c.get(f"/v1/batches/{bid}").status_code == 401


# ------------------------------------------------------------------ estimates -> next plan
def test_estimates_are_stored_for_the_next_plan(setup, service):
    c, coord, lab, sid = setup
    day2 = START + dt.timedelta(days=1)
    assert (
        c.put(
            f"/v1/scenarios/{sid}/districts/a/days/{day2}",
            headers=coord,
            json={"samples": {"screening": 2500}},
        ).status_code
        == 200
    )
    batch, truth = new_batch(c, lab, sid, n=600, algorithm="D2", config="10")
    bid = batch["id"]
    assert upload(c, bid, lab, lab_results(c, bid, lab, truth)).status_code == 200
    body = {"batch_ids": [bid], "design_at": "upper"}
    assert c.post(f"/v1/scenarios/{sid}/estimates", headers=lab, json=body).status_code == 403
    r = c.post(f"/v1/scenarios/{sid}/estimates", headers=lab, json={**body, "store": False})
    assert r.status_code == 200 and r.json()["stored"] == []
    # the unit's own estimate of another stream, which the stored estimates must keep
    own = {"date": str(START), "district": "a", "stream": "reactive", "prevalence": 0.2}
    r = c.post(f"/v1/scenarios/{sid}/records/prevalence", headers=coord, json={"rows": [own]})
    assert r.status_code == 200, r.text
    r = c.post(f"/v1/scenarios/{sid}/estimates", headers=coord, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["for_date"] == str(day2) and out["stored"] == ["a", "b"]
    assert (out["se"], out["sp"]) == (0.95, 0.99)  # the scenario's assay
    # independently: the library's estimator on the first-stage table the service serves
    first = csv_of(c.get(f"/v1/batches/{bid}/tables/first_stage", headers=lab))
    ref = estimate_table(first, se=0.95, sp=0.99).set_index(["district", "stream"])
    for e in out["estimates"]:
        assert e["prevalence"] == pytest.approx(
            ref.loc[(e["district"], e["stream"]), "prevalence"], abs=1e-12
        )
        assert e["algorithm"] and e["expected_tests_per_sample"] > 0
    day = c.get(f"/v1/scenarios/{sid}/districts/a/days/{day2}", headers=coord).json()
    est_a = next(e for e in out["estimates"] if e["district"] == "a")
    assert day["current"]["prevalence"] == {"screening": est_a["prevalence"]}
    assert day["current"]["samples"] == {"screening": 2500}  # the unit's own input
    assert len(day["history"]) == 2
    # the daily loop's prevalence records, dated the day the samples were collected: the
    # estimate, or its upper bound where the estimate is 0
    assert out["daily_record"]
    rec = csv_of(c.get(f"/v1/scenarios/{sid}/records/prevalence", headers=coord))
    assert set(rec["date"]) == {str(START)}
    for e in out["estimates"]:
        row = rec[(rec["district"] == e["district"]) & (rec["stream"] == e["stream"])]
        want = e["prevalence"] if e["prevalence"] > 0 else e["upper"]
        assert float(row["prevalence"].iloc[0]) == pytest.approx(want, rel=1e-12)
    kept = rec[(rec["district"] == "a") & (rec["stream"] == "reactive")]["prevalence"]
    assert kept.astype(float).tolist() == [0.2]
    # the plan of day 2 is built with the estimate
    from labopt_api.models import ScenarioRecord
    from labopt_api.store.district_days import build_scenario

    with service.app.state.db.sessions() as s:
        scn = build_scenario(s, s.get(ScenarioRecord, sid))
        demand = scn.demand.set_index(["day", "district", "stream"])["prevalence"]
        stored = s.execute(select(func.count()).select_from(DistrictDayRecord)).scalar_one()
    assert demand[(2, "a", "screening")] == pytest.approx(est_a["prevalence"])
    assert stored == 3
    none_yet, _ = new_batch(c, lab, sid, label="B9")
    r = c.post(
        f"/v1/scenarios/{sid}/estimates", headers=coord, json={"batch_ids": [none_yet["id"]]}
    )
    assert r.status_code == 409 and "no valid first-stage results" in r.text
    r = c.post(
        f"/v1/scenarios/{sid}/estimates",
        headers=coord,
        json={"batch_ids": [bid], "for_date": "2022-01-01"},
    )
    assert r.status_code == 422 and "outside the scenario's horizon" in r.text
    assert r.json()["detail"][0]["loc"] == ["body", "for_date"]
    assert r.json()["detail"][0]["msg"].startswith("for_date:")
    assert (
        c.post(
            f"/v1/scenarios/{sid}/estimates", headers=coord, json={"date": "2021-10-09"}
        ).status_code
        == 404
    )


def test_a_change_built_on_a_stale_state_is_refused_whole(setup, service):
    """Two uploads read the same version; the second to save finds it moved and writes
    nothing (the service then starts it again from the new state)."""
    from labopt_api.models import now
    from labopt_api.store.batches import Conflict, ManifestCache, load_batch, save_changes

    c, _coord, lab, sid = setup
    batch, truth = new_batch(c, lab, sid, n=900)
    bid = batch["id"]
    table = lab_results(c, bid, lab, truth)
    plates = sorted(table["plate"].unique())
    halves = [table[table["plate"] == plates[0]], table[table["plate"] == plates[1]]]
    cache = ManifestCache()
    sessions = service.app.state.db.sessions
    with sessions() as s1, sessions() as s2:
        r1, r2 = s1.get(LabBatchRecord, bid), s2.get(LabBatchRecord, bid)
        (b1, _), (b2, _) = load_batch(s1, r1, cache), load_batch(s2, r2, cache)
        after1, _ = b1.apply(halves[0])
        after2, _ = b2.apply(halves[1])
        assert save_changes(s1, r1, b1, after1, None, now())
        state = stored_state(service, bid)
        with pytest.raises(Conflict):
            save_changes(s2, r2, b2, after2, None, now())
    assert stored_state(service, bid) == state
    r = upload(c, bid, lab, halves[1], name="half2.csv")  # from the new state
    assert r.status_code == 200 and r.json()["added"] == len(halves[1]) - 3


# ------------------------------------------------------------------ review findings
def test_a_resend_in_another_order_or_with_a_blank_column_changes_nothing(setup, service):
    """Results per pool without run numbers: sending the same rows again, shuffled and with
    an empty ct column, must not be read as the repeated pool's next-run result."""
    c, _coord, lab, sid = setup
    batch, _truth = new_batch(c, lab, sid, n=90, algorithm="D2", config="10")
    bid = batch["id"]
    template = csv_of(c.get(f"/v1/batches/{bid}/tables/results_template", headers=lab))
    pools = template.loc[template["content"] == "reaction", "pool_id"].tolist()
    first = pd.DataFrame({"pool_id": pools, "result": ["invalid"] + ["negative"] * 8})
    assert upload(c, bid, lab, first).json()["added"] == 9
    state = stored_state(service, bid)
    again = first.iloc[::-1].assign(ct="")
    r = upload(c, bid, lab, again, name="again.csv")
    assert r.status_code == 200 and r.json()["changed"] is False, r.text
    assert stored_state(service, bid) == state
    statuses = csv_of(c.get(f"/v1/batches/{bid}/tables/statuses", headers=lab))
    assert (statuses["status"] == "pending").sum() == 10  # the invalid pool's


def test_bad_requests_are_refused_not_crashed(setup, service):
    c, coord, lab, sid = setup
    rows, _ = samples(30)
    base = {
        "scenario_id": sid,
        "lab": "cdc",
        "label": "F1",
        "algorithm": "D2",
        "config": "10",
        "samples": rows,
    }
    assert (
        c.post("/v1/batches", headers=lab, json={**base, "date": "9999-12-31"}).status_code == 422
    )
    form = {k: v for k, v in base.items() if k != "samples"}
    r = c.post(
        "/v1/batches/upload",
        headers=lab,
        data={**form, "date": "9999-12-31"},
        files={"file": ("s.csv", b"sample_id\nx1\n", "text/csv")},
    )
    assert r.status_code == 422 and "date" in r.text
    batch, truth = new_batch(c, lab, sid, n=90, algorithm="D2", config="10")
    bid = batch["id"]
    r = c.post(
        f"/v1/batches/{bid}/results",
        headers=lab,
        json={"results": [{"pool_id": "B1-P0001", "result": "negative"}], "source": "a\u0000b"},
    )
    assert r.status_code == 422 and "source" in r.text
    r = c.post(
        f"/v1/batches/{bid}/results",
        headers=lab,
        json={"results": [{"pool_id": "B1-P0001", "result": "negative", "run": 1}]},
    )
    assert r.status_code == 200
    r = upload(
        c, bid, lab, pd.DataFrame({"pool_id": ["B1-P0002"], "result": ["negative"], "run": ["1.5"]})
    )
    assert r.status_code == 422 and "whole number" in r.text
    assert upload(c, bid, lab, lab_results(c, bid, lab, truth)).status_code == 200
    r = c.post(
        f"/v1/scenarios/{sid}/estimates",
        headers=coord,
        json={"batch_ids": [bid, bid], "store": False},
    )
    assert r.status_code == 422 and "more than once" in r.text
    assert (
        c.post(
            f"/v1/scenarios/{sid}/estimates",
            headers=coord,
            json={"batch_ids": [bid], "for_date": "9999-12-31"},
        ).status_code
        == 422
    )
    assert stored_state(service, bid)[0] > 0


def test_results_and_their_scenario_are_kept(setup, service):
    """A scenario with lab batches is neither deleted (its results would go) nor moved to
    another province (access to its batches follows the province)."""
    c, coord, lab, sid = setup
    batch, truth = new_batch(c, lab, sid, n=90, algorithm="D2", config="10")
    assert upload(c, batch["id"], lab, lab_results(c, batch["id"], lab, truth)).status_code == 200
    r = c.delete(f"/v1/scenarios/{sid}", headers=coord)
    assert r.status_code == 409 and "lab batches" in r.text
    moved = tiny_json()
    moved["settings"]["province"]["code"] = "tiny2"
    r = c.put(f"/v1/scenarios/{sid}", headers=service.key("admin"), json=moved)
    assert r.status_code == 409 and "create a new scenario" in r.text
    assert stored_state(service, batch["id"])[0] > 0


def test_a_lab_estimates_from_the_batches_it_may_read(setup, service):
    c, coord, lab, sid = setup
    mine, truth = new_batch(c, lab, sid, n=90, algorithm="D2", config="10")
    hosp = service.key("lab", "tiny/hosp")
    rows, _ = samples(90, seed=2)
    theirs = c.post(
        "/v1/batches",
        headers=coord,
        json={
            "scenario_id": sid,
            "lab": "hosp",
            "label": "H1",
            "date": str(START),
            "algorithm": "D2",
            "config": "5",
            "samples": rows,
        },
    )  # hosp validated pools of 5
    assert theirs.status_code == 201
    assert upload(c, mine["id"], lab, lab_results(c, mine["id"], lab, truth)).status_code == 200
    r = c.post(
        f"/v1/scenarios/{sid}/estimates", headers=lab, json={"date": str(START), "store": False}
    )
    assert r.status_code == 200 and r.json()["batches"] == ["B1"], r.text
    r = c.post(
        f"/v1/scenarios/{sid}/estimates", headers=hosp, json={"date": str(START), "store": False}
    )
    assert r.status_code == 409  # its batch has no results
    assert [b["label"] for b in c.get("/v1/batches", headers=hosp).json()["items"]] == ["H1"]


def test_an_upload_to_a_batch_deleted_meanwhile_is_404(setup, service):
    from labopt_api.store.batches import Gone, ManifestCache, change_batch

    c, _coord, lab, sid = setup
    batch, _ = new_batch(c, lab, sid, n=90, algorithm="D2", config="10")
    assert c.delete(f"/v1/batches/{batch['id']}", headers=lab).status_code == 204
    with service.app.state.db.sessions() as s, pytest.raises(Gone):
        change_batch(s, batch["id"], ManifestCache(), lambda b, when: (b, None), None)


def test_a_nan_ct_is_refused_as_in_a_csv_upload(setup, service):
    c, _coord, lab, sid = setup
    batch, _truth = new_batch(c, lab, sid)
    bid = batch["id"]
    plates = csv_of(c.get(f"/v1/batches/{bid}/tables/plates", headers=lab))
    first = plates.loc[plates["content"] == "reaction", "pool_id"].tolist()[0]
    state = stored_state(service, bid)
    for ct in ("NaN", "Infinity"):
        body = f'{{"results":[{{"pool_id":"{first}","result":"positive","ct":{ct}}}]}}'
        r = c.post(
            f"/v1/batches/{bid}/results",
            headers={**lab, "Content-Type": "application/json"},
            content=body,
        )
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"][:2] == ["body", "results"]
        assert "ct" in r.json()["detail"][0]["loc"]
    assert stored_state(service, bid) == state
