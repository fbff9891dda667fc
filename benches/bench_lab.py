"""Lab workflow benchmarks (pytest-benchmark): a surge day's manifests and plates, decoding.

Goals from the issue: manifests and plate maps for an 80,000-sample surge day in under 1 s;
decoding 100,000 samples' results in under 1 s. Absolute times are recorded, never asserted;
the gates compare each goal with a fixed pandas workload on as many samples, timed alongside
(``pandas_reference``), with floors about half the measured ratios (BENCHMARKS.md).
"""

import numpy as np
import pandas as pd
import pytest

from benches.timing import gate_ratio
from labopt.lab import LabBatch, PlateSpec, make_manifest, plates_html
from labopt.lab.simulate import simulate_run

SURGE = 80_000
DECODE = 100_000
DESIGNS = [
    ("D2", "10"),
    ("D3", "12:4,4,4"),
    ("D4", "16:8,8:4,4,4,4"),
    ("A2", "8"),
    ("A2M", "5"),
    ("ID2", "10,6,3,1"),
]


def surge_day(n: int, seed: int = 0) -> pd.DataFrame:
    """n samples from 27 districts and 2 poolable streams, with individual risks."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "sample_id": [f"TH{i:06d}" for i in range(n)],
            "district": rng.choice([f"d{i:02d}" for i in range(27)], n),
            "stream": rng.choice(["screening", "returnee"], n, p=[0.8, 0.2]),
            "risk": rng.choice([0.002, 0.01, 0.08, 0.3], n, p=[0.5, 0.3, 0.15, 0.05]),
        }
    )


AREA = "Lab work"
REFERENCE = "pandas reference"
# floors: reference time / labopt time must stay above these (about half the measured ratios)
FLOOR_SURGE_MANIFEST = 0.5
FLOOR_DECODE = 0.9


def pandas_reference(samples: pd.DataFrame) -> pd.DataFrame:
    """A fixed workload as large as the batch, the least any manifest does: sort the samples
    by district and stream, number them in each group, name pools of 10 and join back."""
    s = samples.sort_values(["district", "stream", "sample_id"])
    k = s.groupby(["district", "stream"]).cumcount() // 10
    pool = s["district"] + "-" + s["stream"] + "-" + k.astype(str)
    return samples.merge(pd.DataFrame({"sample_id": s["sample_id"], "pool": pool}), on="sample_id")


@pytest.mark.parametrize("algorithm,config", DESIGNS, ids=[d[0] for d in DESIGNS])
def test_bench_surge_day_manifest_and_plates(benchmark, algorithm, config):
    """Batch -> manifest -> first run laid out on 96-well plates with 3 controls each."""
    samples = surge_day(SURGE)

    def work():
        m = make_manifest(samples, algorithm, config, batch="TH")
        return LabBatch.start(m, PlateSpec(96))

    batch = benchmark(work)
    m = batch.manifest
    assert m.n_samples == SURGE and sorted(m.samples["sample_id"]) == sorted(samples["sample_id"])
    plates = batch.plates
    react = plates[plates["content"] == "reaction"]
    assert len(react) == m.first_stage.size == batch.decoding.to_run.size
    assert plates.groupby("plate").size().max() <= 96
    assert not plates.duplicated(["plate", "well"]).any()


def test_bench_surge_day_html_plate_map(benchmark):
    """The printable map of the first run (about 90 plates for D2 10)."""
    batch = LabBatch.start(make_manifest(surge_day(SURGE), "D2", "10"), PlateSpec(96))
    page = benchmark(plates_html, batch.plates, batch.spec, "surge day")
    assert page.count("<table>") == batch.plates["plate"].nunique()


def _after_run(algorithm, config, seed=1, se=0.99, sp=0.99, invalid_rate=0.01):
    """A 100,000-sample batch with its first run planned, and that run's results."""
    m = make_manifest(surge_day(DECODE, seed), algorithm, config)
    batch = LabBatch.start(m, PlateSpec(384))
    rng = np.random.default_rng(seed)
    truth = rng.random(m.n_samples) < 0.02
    results = simulate_run(batch, truth, rng, se=se, sp=sp, invalid_rate=invalid_rate)
    return batch, results, truth


@pytest.mark.parametrize(
    "algorithm,config", [("D2", "10"), ("D3", "12:4,4,4"), ("A2", "8")], ids=["D2", "D3", "A2"]
)
def test_bench_decode_100k_samples(benchmark, algorithm, config):
    """Apply a run's results (validated) and decode 100,000 samples: statuses, retest list
    and the next run's plates."""
    batch, results, _ = _after_run(algorithm, config)

    def work():
        b, _ = batch.apply(results, source="run1.csv")
        b = b.schedule_next()
        return b, b.decoding.statuses_frame(), b.decoding.retest_manifest()

    b, statuses, retest = benchmark(work)
    assert len(statuses) == DECODE
    counts = b.decoding.counts
    assert counts["positive"] + counts["negative"] + counts["pending"] == DECODE
    pending = statuses["status"] == "pending"
    assert (statuses["action"] != "").sum() == counts["pending"] > 0
    assert set(retest["sample_id"]) <= set(statuses.loc[pending, "sample_id"])
    assert (
        b.runs == 2
        and counts["reactions_next_run"]
        == (b.plates["run"] == 2).sum()
        - ((b.plates["run"] == 2) & (b.plates["content"] != "reaction")).sum()
    )


def test_bench_decode_last_stage_100k(benchmark):
    """D2's second stage: individual results for every sample of a positive pool."""
    batch, results, truth = _after_run("D2", "10", seed=2, se=1.0, sp=1.0, invalid_rate=0.0)
    batch, _ = batch.apply(results)
    batch = batch.schedule_next()
    rng = np.random.default_rng(3)
    second = simulate_run(batch, truth, rng, se=1.0, sp=1.0)

    def work():
        b, _ = batch.apply(second, source="run2.csv")
        return b, b.decoding.statuses_frame()

    b, statuses = benchmark(work)
    assert b.decoding.complete and len(statuses) == DECODE
    np.testing.assert_array_equal(b.decoding.status == 2, truth)


def test_ratio_surge_day_manifest_and_plates():
    """The first goal, D2 10: the manifest and the first run's plates for 80,000 samples."""
    samples = surge_day(SURGE)
    gate_ratio(
        AREA,
        "80,000-sample surge day: manifest + first-run plates (D2 10)",
        REFERENCE,
        lambda: pandas_reference(samples),
        lambda: LabBatch.start(make_manifest(samples, "D2", "10"), PlateSpec(96)),
        FLOOR_SURGE_MANIFEST,
        repeat=2,
    )


def test_ratio_decode_100k():
    """The second goal, D2 10: apply the first run's results and decode 100,000 samples."""
    batch, results, _ = _after_run("D2", "10")
    samples = surge_day(DECODE, 1)

    def decode():
        b, _ = batch.apply(results)
        return b.schedule_next().decoding.statuses_frame()

    gate_ratio(
        AREA,
        "100,000-sample decode (D2 10, run 1: validate, apply, statuses, next plates)",
        REFERENCE,
        lambda: pandas_reference(samples),
        decode,
        FLOOR_DECODE,
        repeat=2,
    )
