"""End to end against a real server process (not the in-process client)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import httpx
import pandas as pd
import pytest

from labopt.examples import EXAMPLES
from labopt.scenario import save_folder
from labopt.scenario.synth import synthesize
from tests.service.live import LiveServer
from tests.service.test_api import tiny_json

FIXTURES = EXAMPLES


def zipped(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f"{folder.name}/{f.name}")
    return buf.getvalue()


@pytest.fixture
def live(database_url):
    server = LiveServer(database_url, stale_after_seconds=2, heartbeat_seconds=0.5).start()
    yield server
    server.stop()


def test_coordinator_session_over_http(live):
    """The README's session: key, upload Thanh Hóa, a district's day, plan, table."""
    coord = live.key("coordinator", "thanh_hoa")
    district = live.key("district", "thanh_hoa/bim-son")
    with httpx.Client(base_url=live.url, timeout=60) as c:
        r = c.post(
            "/v1/scenarios/upload",
            headers=coord,
            files={"file": ("thanh_hoa.zip", zipped(FIXTURES / "thanh_hoa"))},
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        r = c.put(
            f"/v1/scenarios/{sid}/districts/bim-son/days/2021-10-05",
            headers=district,
            json={
                "epidemic_level": 3,
                "prevalence": {"screening": 0.02},
                "samples": {"screening": 4000, "reactive": 300},
            },
        )
        assert r.status_code == 200, r.text
        t0 = time.perf_counter()
        r = c.post("/v1/plans", headers=coord, json={"scenario_id": sid})
        assert r.status_code == 202
        pid = r.json()["id"]
        while (plan := c.get(f"/v1/plans/{pid}", headers=coord).json())["status"] not in (
            "done",
            "failed",
        ):
            time.sleep(0.02)
        elapsed = time.perf_counter() - t0
        print(f"\nThanh Hóa week over HTTP: POST /v1/plans to done in {elapsed:.2f} s")
        assert plan["status"] == "done", plan["error"]
        assert plan["summary"]["check"]["ok"] and plan["summary"]["status"] == "OPTIMAL"
        table = c.get(f"/v1/plans/{pid}/tables/status.csv", headers=coord)
        st = pd.read_csv(io.StringIO(table.text))
        row = st[(st.day == 2) & (st.district == "bim-son") & (st.stream == "reactive")]
        assert row["demand"].item() == 300


def test_a_plan_running_when_the_server_dies_is_failed_with_a_reason(database_url, tmp_path):
    folder = save_folder(synthesize(400, 170, days=7, seed=2), tmp_path / "big")
    server = LiveServer(database_url, stale_after_seconds=2, heartbeat_seconds=0.5).start()
    coord = server.key("coordinator", "*")
    with httpx.Client(base_url=server.url, timeout=60) as c:
        r = c.post(
            "/v1/scenarios/upload", headers=coord, files={"file": ("big.zip", zipped(folder))}
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        pid = c.post("/v1/plans", headers=coord, json={"scenario_id": sid}).json()["id"]
        while c.get(f"/v1/plans/{pid}", headers=coord).json()["status"] != "running":
            time.sleep(0.02)
    server.kill()  # mid-plan, no clean-up
    restarted = LiveServer(database_url, stale_after_seconds=2, heartbeat_seconds=0.5)
    restarted.port, restarted.url = server.port, server.url
    restarted.start()
    try:
        with httpx.Client(base_url=restarted.url, timeout=30) as c:
            t0 = time.time()
            while (plan := c.get(f"/v1/plans/{pid}", headers=coord).json())[
                "status"
            ] == "running" and time.time() - t0 < 20:
                time.sleep(0.2)
            assert plan["status"] == "failed"
            assert "server stopped while this plan was running" in plan["error"]
            assert plan["tables"] == []  # nothing half-written is served
            assert c.get(f"/v1/plans/{pid}/tables/days", headers=coord).status_code == 409
    finally:
        restarted.stop()


def test_lab_session_over_http(live):
    """The README's batch session: samples file -> plate map -> results file -> retest list
    -> estimates stored for the next day."""
    from tests.service.test_batches import lab_results

    coord = live.key("coordinator", "thanh_hoa")
    lab = live.key("lab", "thanh_hoa/th-cdc")
    ids = [f"TH{i:05d}" for i in range(1200)]
    samples = pd.DataFrame(
        {"sample_id": ids, "stream": "screening", "district": ["bim-son"] * 600 + ["sam-son"] * 600}
    )
    truth = {ids[5], ids[700]}
    with httpx.Client(base_url=live.url, timeout=60) as c:
        sid = c.post(
            "/v1/scenarios/upload",
            headers=coord,
            files={"file": ("thanh_hoa.zip", zipped(FIXTURES / "thanh_hoa"))},
        ).json()["id"]
        r = c.post(
            "/v1/batches/upload",
            headers=lab,
            files={"file": ("samples.csv", samples.to_csv(index=False).encode())},
            data={
                "scenario_id": sid,
                "lab": "th-cdc",
                "label": "TH0801",
                "date": "2021-10-05",
                "algorithm": "D3",
                "config": "10:5,5",
            },
        )
        assert r.status_code == 201, r.text
        bid = r.json()["id"]
        page = c.get(f"/v1/batches/{bid}/plates.html", headers=lab)
        assert page.headers["content-type"].startswith("text/html")
        assert "TH0801-R1-01" in page.text
        results = lab_results(c, bid, lab, truth)
        r = c.post(
            f"/v1/batches/{bid}/results/upload",
            headers=lab,
            files={"file": ("run1_results.csv", results.to_csv(index=False).encode())},
        )
        assert r.status_code == 200, r.text
        assert r.json()["added"] == 120 and r.json()["batch"]["summary"]["pending"] == 20
        retest = c.get(f"/v1/batches/{bid}/tables/retest.csv", headers=lab)
        retest = pd.read_csv(io.StringIO(retest.text))
        assert retest["pool_id"].nunique() == 2 * 2 and len(retest) == 20  # 2 sub-pools of 5
        r = c.post(
            f"/v1/scenarios/{sid}/estimates",
            headers=coord,
            json={"date": "2021-10-05", "design_at": "upper"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["stored"] == ["bim-son", "sam-son"]
        assert r.json()["for_date"] == "2021-10-06"
        day = c.get(f"/v1/scenarios/{sid}/districts/bim-son/days/2021-10-06", headers=coord)
        assert day.json()["current"]["prevalence"]["screening"] > 0


def test_a_fault_in_a_plan_shows_no_library_text_and_is_logged(database_url):
    """A plan that fails by a fault of labopt (not of its input) tells the caller so, with its
    id for the log, and nothing of the exception; the server's log holds the details."""
    server = LiveServer(database_url, failpoints="plan.child=raise").start()
    coord = server.key("coordinator", "*")
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
            pid = c.post("/v1/plans", headers=coord, json={"scenario_id": sid}).json()["id"]
            t0 = time.time()
            while (plan := c.get(f"/v1/plans/{pid}", headers=coord).json())["status"] in (
                "queued",
                "running",
            ) and time.time() - t0 < 60:
                time.sleep(0.1)
        assert plan["status"] == "failed"
        assert "internal error of labopt" in plan["error"] and pid in plan["error"]
        assert "failpoint" not in plan["error"] and "RuntimeError" not in plan["error"]
        assert "Traceback" not in plan["error"]
    finally:
        server.stop()
    log = server.proc.stdout.read().decode()
    assert "failpoint plan.child: a deliberate fault" in log and pid in log
