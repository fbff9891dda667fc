"""A surge-day batch through the service (in process, SQLite file): create an 80,000-sample
batch from a CSV upload, then upload its first run's results (D3 12:4,4,4: 6,668 pools).

Absolute times are recorded, not asserted; each is gated against the fixed pandas workload of
bench_lab on as many samples, timed in the same test, with a floor about half the measured
ratio (BENCHMARKS.md).
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from benches.bench_lab import REFERENCE, SURGE, pandas_reference, surge_day
from benches.timing import gate
from labopt_api.main import create_app
from labopt_api.store.keys import create_key
from tests.service.conftest import settings_for
from tests.service.test_api import tiny_json
from tests.service.test_batches import lab_results


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    db = tmp_path_factory.mktemp("batches") / "labopt.db"
    app = create_app(settings_for(f"sqlite:///{db}"))
    with TestClient(app) as client:
        with app.state.db.sessions() as s:
            _, key = create_key(s, "coordinator", ["tiny"])
        headers = {"Authorization": f"Bearer {key}"}
        data = tiny_json()
        for lab in data["labs"]:  # the surge design pools 12: a lab validated for it
            lab["max_pool_size"] = max(lab["max_pool_size"], 12)
        sid = client.post("/v1/scenarios", headers=headers, json=data).json()["id"]
        yield client, headers, sid


AREA = "Service"
# floors: reference time / service time must stay above these (about half the measured ratios)
FLOOR_BATCH_CREATE = 0.08
FLOOR_RESULTS_UPLOAD = 0.3


def reference_seconds() -> float:
    """Best of three runs of the pandas reference on an 80,000-sample day (seconds)."""
    samples = surge_day(SURGE)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        pandas_reference(samples)
        best = min(best, time.perf_counter() - t0)
    return best


# blocks never mix districts: a holds 53,333 samples (4,445 pools of 12), b 26,667 (2,223)
FIRST_POOLS = -(-53_333 // 12) + -(-26_667 // 12)


def surge_csv(n: int = SURGE) -> bytes:
    ids = [f"TH{i:06d}" for i in range(n)]
    return (
        pd.DataFrame(
            {
                "sample_id": ids,
                "district": np.where(np.arange(n) % 3, "a", "b"),
                "stream": "screening",
            }
        )
        .to_csv(index=False)
        .encode()
    )


def upload_surge(client, headers, sid: str, body: bytes, label: str):
    """POST the surge day's sample list as a CSV upload, pooled D3 12:4,4,4."""
    return client.post(
        "/v1/batches/upload",
        headers=headers,
        files={"file": ("surge.csv", body, "text/csv")},
        data={
            "scenario_id": sid,
            "lab": "cdc",
            "label": label,
            "date": "2021-10-04",
            "algorithm": "D3",
            "config": "12:4,4,4",
        },
    )


def test_bench_service_surge_batch_create(benchmark, service):
    client, headers, sid = service
    body, labels = surge_csv(), (f"C{i}" for i in itertools.count())

    def create():
        r = upload_surge(client, headers, sid, body, next(labels))
        assert r.status_code == 201, r.text
        return r.json()

    out = benchmark.pedantic(create, rounds=3, iterations=1)
    assert out["samples"] == SURGE and out["summary"]["reactions_next_run"] == FIRST_POOLS
    gate(
        AREA,
        "80,000-sample batch from a CSV upload, stored (SQLite, in process)",
        baseline=REFERENCE,
        t_baseline=reference_seconds(),
        t_labopt=benchmark.stats.stats.min,
        floor=FLOOR_BATCH_CREATE,
    )


def test_bench_service_surge_results_upload(benchmark, service):
    client, headers, sid = service
    body, labels = surge_csv(), (f"U{i}" for i in itertools.count())
    truth = {f"TH{i:06d}" for i in range(0, SURGE, 1000)}

    def setup():
        r = upload_surge(client, headers, sid, body, next(labels))
        bid = r.json()["id"]
        results = lab_results(client, bid, headers, truth).to_csv(index=False).encode()
        return (bid, results), {}

    def upload(bid, results):
        r = client.post(
            f"/v1/batches/{bid}/results/upload",
            headers=headers,
            files={"file": ("run1.csv", results, "text/csv")},
        )
        assert r.status_code == 200, r.text
        return r.json()

    out = benchmark.pedantic(upload, setup=setup, rounds=3, iterations=1)
    assert out["added"] == FIRST_POOLS and out["changed"]
    assert out["batch"]["runs"] == 2  # 80 positives, 1,000 apart: 80 positive pools
    assert out["batch"]["summary"]["reactions_next_run"] == 80 * 3  # 3 sub-pools each
    gate(
        AREA,
        "first run's 6,668 results uploaded, decoded, stored, next run laid out",
        baseline=REFERENCE,
        t_baseline=reference_seconds(),
        t_labopt=benchmark.stats.stats.min,
        floor=FLOOR_RESULTS_UPLOAD,
    )
