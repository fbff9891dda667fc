"""Result uploads against real server processes: killed mid-upload, and uploads at once."""

from __future__ import annotations

import threading
import time

import httpx
import pandas as pd
from sqlalchemy import create_engine, func, select

from labopt_api.models import LabBatchRecord, LabResultRecord, LabRunRecord
from tests.service.live import LiveServer
from tests.service.test_api import tiny_json
from tests.service.test_batches import START, lab_results, samples


def stored(url: str, batch_id: str) -> tuple[int, int, int, list[int]]:
    """(result rows, runs, version, seq numbers), read straight from the database."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            seqs = c.execute(
                select(LabResultRecord.seq)
                .where(LabResultRecord.batch_id == batch_id)
                .order_by(LabResultRecord.seq)
            ).scalars()
            seqs = list(seqs)
            runs = c.execute(
                select(func.count())
                .select_from(LabRunRecord)
                .where(LabRunRecord.batch_id == batch_id)
            ).scalar_one()
            version = c.execute(
                select(LabBatchRecord.version).where(LabBatchRecord.id == batch_id)
            ).scalar_one()
    finally:
        engine.dispose()
    return len(seqs), runs, version, seqs


def start_batch(c: httpx.Client, headers: dict, n: int = 3000) -> tuple[str, set[str]]:
    sid = c.post("/v1/scenarios", headers=headers, json=tiny_json()).json()["id"]
    rows, truth = samples(n, seed=3, positives=12)
    r = c.post(
        "/v1/batches",
        headers=headers,
        json={
            "scenario_id": sid,
            "lab": "cdc",
            "label": "K1",
            "date": str(START),
            "algorithm": "D3",
            "config": "9:3,3,3",
            "samples": rows,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"], truth


def post_csv(
    c: httpx.Client, batch_id: str, headers: dict, table: pd.DataFrame, name: str = "run1.csv"
) -> httpx.Response:
    return c.post(
        f"/v1/batches/{batch_id}/results/upload",
        headers=headers,
        files={"file": (name, table.to_csv(index=False).encode(), "text/csv")},
    )


def test_a_server_killed_during_an_upload_leaves_all_of_it_or_none(database_url, tmp_path):
    marker = tmp_path / "paused"
    server = LiveServer(database_url, failpoints=f"lab.save.before_commit=pause:{marker}")
    server.start()
    headers = server.key("coordinator", "tiny")
    with httpx.Client(base_url=server.url, timeout=60) as c:
        bid, truth = start_batch(c, headers)
        table = lab_results(c, bid, headers, truth)
    before = stored(database_url, bid)
    outcome = {}

    def send():
        try:
            with httpx.Client(base_url=server.url, timeout=120) as c:
                outcome["response"] = post_csv(c, bid, headers, table)
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    sender = threading.Thread(target=send)
    sender.start()
    t0 = time.time()
    while not marker.exists():  # the rows are written, not yet committed
        assert time.time() - t0 < 60, "the upload never reached the commit"
        time.sleep(0.05)
    server.kill()
    sender.join(30)
    assert "error" in outcome and "response" not in outcome
    assert stored(database_url, bid) == before  # none of it
    assert before[:3] == (0, 1, 1)

    restarted = LiveServer(database_url).start()
    try:
        with httpx.Client(base_url=restarted.url, timeout=60) as c:
            r = post_csv(c, bid, headers, table)  # sent again: all of it
            assert r.status_code == 200, r.text
            reactions = len(table) - 3 * table["plate"].nunique()  # 3 controls a plate
            assert r.json()["added"] == reactions and r.json()["changed"]
            n, runs, version, seqs = stored(database_url, bid)
            assert n == r.json()["added"] and runs == 2 and version == 2
            assert seqs == list(range(n))
    finally:
        restarted.stop()


def test_uploads_at_once_neither_lose_nor_double_results(database_url):
    """Two halves of a run sent at the same moment, twice each, through two worker
    processes: every result is stored once, and the next run is laid out once."""
    server = LiveServer(database_url).start()
    try:
        headers = server.key("coordinator", "tiny")
        with httpx.Client(base_url=server.url, timeout=60) as c:
            bid, truth = start_batch(c, headers)
            table = lab_results(c, bid, headers, truth)
        plates = sorted(table["plate"].unique())
        halves = [
            table[table["plate"].isin(plates[0::2])],
            table[table["plate"].isin(plates[1::2])],
        ]
        barrier = threading.Barrier(4)
        responses = []

        def send(part: pd.DataFrame, name: str):
            with httpx.Client(base_url=server.url, timeout=120) as c:
                barrier.wait()
                responses.append(post_csv(c, bid, headers, part, name))

        threads = [
            threading.Thread(target=send, args=(h, f"half{i}.csv"))
            for i, h in enumerate(halves)
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
        added = sum(r.json()["added"] for r in responses)
        reactions = len(table) - 3 * table["plate"].nunique()  # 3 controls a plate
        assert added == reactions
        assert sum(r.json()["changed"] for r in responses) == 2  # one per half
        n, runs, version, seqs = stored(database_url, bid)
        assert n == reactions and seqs == list(range(n))
        assert runs == 2 and version == 3
    finally:
        server.stop()
