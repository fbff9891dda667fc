"""Prevalence from pooled results: the estimator, its interval's coverage, tables and errors."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, norm

from labopt.lab import (
    LabInputError,
    estimate_from_counts,
    estimate_groups,
    estimate_prevalence,
    estimate_table,
    prevalence_frame,
)

REPLICATIONS = 2000  # per setting; the coverage's standard error is about 0.5 %


def wilson(y, n, level=0.95):
    z = norm.ppf(0.5 + level / 2)
    ph = y / n
    c = ph + z * z / (2 * n)
    r = z * np.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n))
    return (c - r) / (1 + z * z / n), (c + r) / (1 + z * z / n)


def to_prevalence(pi, k, se, sp):
    """Invert pi_k(p) = Se - (Se + Sp - 1)(1 - p)^k, clipped to [0, 1]."""
    q = np.clip((se - pi) / (se + sp - 1), 0, 1)
    return 1 - q ** (1 / k)


# ---------------------------------------------------------------------- the estimator
def test_perfect_assay_one_size_has_the_closed_form():
    est = estimate_prevalence([10] * 200, [True] * 37 + [False] * 163, se=1, sp=1)
    assert est.prevalence == pytest.approx(1 - (1 - 37 / 200) ** (1 / 10), rel=1e-10)
    assert (est.pools, est.positive_pools, est.samples) == (200, 37, 2000)


@pytest.mark.parametrize(
    "k,n,y,se,sp",
    [
        (1, 100, 10, 1, 1),
        (10, 200, 37, 0.95, 0.99),
        (5, 60, 3, 0.99, 0.995),
        (20, 500, 480, 0.97, 0.98),
    ],
)
def test_one_pool_size_gives_the_wilson_interval_mapped_through_pi(k, n, y, se, sp):
    est = estimate_from_counts([k], [n], [y], se=se, sp=sp)
    lo, hi = wilson(y, n)
    assert est.prevalence == pytest.approx(to_prevalence(y / n, k, se, sp), abs=1e-9)
    assert est.lower == pytest.approx(to_prevalence(lo, k, se, sp), abs=1e-9)
    assert est.upper == pytest.approx(to_prevalence(hi, k, se, sp), abs=1e-9)


def test_unequal_pool_sizes_maximise_the_likelihood():
    k = np.array([1, 5, 10, 30])
    n = np.array([40, 100, 60, 20])
    y = np.array([3, 12, 14, 11])
    se, sp = 0.95, 0.99
    est = estimate_from_counts(k, n, y, se=se, sp=sp)
    grid = np.linspace(1e-5, 0.2, 400_001)
    pi = se - (se + sp - 1) * (1 - grid[:, None]) ** k
    ll = (y * np.log(pi) + (n - y) * np.log(1 - pi)).sum(axis=1)
    assert est.prevalence == pytest.approx(grid[np.argmax(ll)], abs=1e-6)
    assert est.lower < est.prevalence < est.upper


def test_boundaries():
    none = estimate_from_counts([10], [80], [0], se=0.95, sp=0.995)
    assert (none.prevalence, none.lower) == (0.0, 0.0) and 0 < none.upper < 0.01
    assert none.note == "no positive pool"
    few = estimate_from_counts([10], [200], [1], se=0.95, sp=0.99)  # fewer than 1 - Sp gives
    assert few.prevalence == 0.0 and few.lower == 0.0 and few.upper > 0
    assert "no more positive pools than false positives explain" in few.note
    everyone = estimate_from_counts([10], [50], [50], se=1, sp=1)
    assert (everyone.prevalence, everyone.upper) == (1.0, 1.0) and 0 < everyone.lower < 1
    odd = estimate_from_counts([10], [2000], [0], se=0.95, sp=0.99)  # 20 false positives expected
    assert odd.lower == odd.upper == 0.0 and "check the specificity" in odd.note
    too_many = estimate_from_counts([10], [200], [200], se=0.9, sp=0.99)
    assert too_many.prevalence == 1.0 and "check the sensitivity" in too_many.note


# ---------------------------------------------------------------------- coverage
def coverage_settings():
    """(p, sizes, pools per size, Se, Sp) with at least 10 positive and 10 negative pools
    expected: a range of prevalences, one or several pool sizes, 60 to 1,000 pools."""
    plans = [
        ((10,), (200,)),
        ((5,), (1000,)),
        ((20,), (60,)),
        ((5, 10, 20), (60, 40, 20)),
        ((1, 4, 8, 16), (30, 60, 60, 30)),
    ]
    out = []
    for se, sp in ((0.95, 0.99), (0.99, 0.995)):
        for p in (0.005, 0.01, 0.02, 0.05, 0.1):
            for k, n in plans:
                k, n = np.array(k), np.array(n)
                pi = se - (se + sp - 1) * (1 - p) ** k
                if (n * pi).sum() >= 10 and (n * (1 - pi)).sum() >= 10:
                    out.append((p, k, n, se, sp))
    return out


def simulate_coverage(p, k, n, se, sp, reps, rng):
    """Share of replications whose 95 % interval holds p: each replication draws every
    pool's true status (any of its k samples positive) and its test result; all
    replications are estimated at once."""
    infected = rng.random((reps, n.sum())) < np.repeat(1 - (1 - p) ** k, n)
    positive = rng.random(infected.shape) < np.where(infected, se, 1 - sp)
    edges = np.r_[0, np.cumsum(n)]
    y = np.stack([positive[:, a:b].sum(axis=1) for a, b in itertools.pairwise(edges)], 1)
    est = estimate_groups(np.tile(k, (reps, 1)), np.tile(n, (reps, 1)), y, se=se, sp=sp)
    return float(((est["lower"] <= p) & (p <= est["upper"])).mean())


@pytest.mark.slow
def test_interval_coverage_is_between_93_and_97_percent():
    rng = np.random.default_rng(20211123)
    settings = coverage_settings()
    assert len(settings) >= 30
    cov = np.array([simulate_coverage(*s, REPLICATIONS, rng) for s in settings])
    report = "\n".join(
        f"p={s[0]:<6} sizes={s[1].tolist()} pools={s[2].tolist()} Se={s[3]} Sp={s[4]}: {c:.3f}"
        for s, c in zip(settings, cov, strict=False)
    )
    print(
        f"\ncoverage of the 95 % score interval, {REPLICATIONS} replications each:\n"
        f"{report}\nmean {cov.mean():.4f}, min {cov.min():.3f}, max {cov.max():.3f}"
    )
    assert ((cov >= 0.93) & (cov <= 0.97)).all(), report
    assert 0.94 <= cov.mean() <= 0.96


def test_exact_coverage_for_one_pool_size():
    """Coverage summed over every possible count of positive pools (no simulation error)."""
    se, sp = 0.95, 0.99
    for k, n in ((10, 200), (5, 100), (20, 60), (10, 1000)):
        for p in (0.005, 0.01, 0.02, 0.05, 0.1):
            pi = se - (se + sp - 1) * (1 - p) ** k
            if n * pi < 10 or n * (1 - pi) < 10:
                continue
            ys = np.arange(n + 1)
            est = estimate_groups(
                np.full((n + 1, 1), k), np.full((n + 1, 1), n), ys[:, None], se=se, sp=sp
            )
            covered = (est["lower"] <= p) & (p <= est["upper"])
            cov = binom.pmf(ys, n, pi)[covered.to_numpy()].sum()
            assert 0.93 <= cov <= 0.97, (k, n, p, cov)


def test_coverage_check_can_fail():
    """Ignoring the assay's false positives (Sp = 1 instead of 0.99) puts the interval off
    target: the same simulation check flags it."""
    rng = np.random.default_rng(7)
    p = 0.005
    infected = rng.random((REPLICATIONS, 1000)) < 1 - (1 - p) ** 10
    y = (rng.random(infected.shape) < np.where(infected, 0.95, 0.01)).sum(axis=1)
    est = estimate_groups(
        np.full((REPLICATIONS, 1), 10),
        np.full((REPLICATIONS, 1), 1000),
        y[:, None],
        se=0.95,
        sp=1.0,
    )  # wrong specificity
    assert ((est["lower"] <= p) & (p <= est["upper"])).mean() < 0.93
    right = estimate_groups(
        np.full((REPLICATIONS, 1), 10),
        np.full((REPLICATIONS, 1), 1000),
        y[:, None],
        se=0.95,
        sp=0.99,
    )
    assert 0.93 <= ((right["lower"] <= p) & (p <= right["upper"])).mean() <= 0.97


# ---------------------------------------------------------------------- tables
def test_estimates_per_district_and_stream():
    rng = np.random.default_rng(3)
    truth = {
        ("sam-son", "screening"): 0.01,
        ("sam-son", "reactive"): 0.08,
        ("tho-xuan", "screening"): 0.002,
    }
    rows = []
    for (d, s), p in truth.items():
        sizes = rng.choice([5, 10], 400) if s == "screening" else np.ones(400, int)
        inf = rng.random(400) < 1 - (1 - p) ** sizes
        res = np.where(rng.random(400) < np.where(inf, 0.98, 0.002), "positive", "negative")
        rows.append(
            pd.DataFrame(
                {
                    "pool_id": [f"{d}{i}" for i in range(400)],
                    "size": sizes,
                    "result": res,
                    "district": d,
                    "stream": s,
                }
            )
        )
    table = pd.concat(
        [
            *rows,
            pd.DataFrame(
                {
                    "pool_id": ["x"],
                    "size": [10],
                    "result": ["invalid"],
                    "district": ["sam-son"],
                    "stream": ["screening"],
                }
            ),
        ]
    )
    est = estimate_table(table, se=0.98, sp=0.998)
    assert est[["district", "stream"]].apply(tuple, axis=1).tolist() == sorted(truth)
    for r in est.to_dict("records"):
        assert r["lower"] <= r["prevalence"] <= r["upper"]
        assert r["pools"] == 400  # the invalid row is left out
        p = truth[(r["district"], r["stream"])]
        assert r["lower"] <= p <= r["upper"]
    prev = prevalence_frame(est)
    assert prev.columns.tolist() == ["district", "stream", "prevalence"]


def test_a_group_without_positive_pools_is_planned_at_its_upper_bound_not_at_zero():
    """prevalence.csv feeds the next plans: 0 there would choose the largest pools as if no
    one were infected. Where the estimate is 0, the interval's upper bound is given."""
    table = pd.DataFrame(
        {
            "size": [10] * 80,
            "result": ["negative"] * 40 + ["negative"] * 36 + ["positive"] * 4,
            "district": ["a"] * 40 + ["b"] * 40,
            "stream": ["screening"] * 80,
        }
    )
    est = estimate_table(table, se=0.95, sp=0.995)
    prev = prevalence_frame(est).set_index("district")["prevalence"]
    by = est.set_index("district")
    assert by.loc["a", "prevalence"] == 0 and prev["a"] == by.loc["a", "upper"] > 0
    assert prev["b"] == by.loc["b", "prevalence"] > 0


def test_one_group_when_no_district_or_stream():
    table = pd.DataFrame({"size": [10] * 50, "result": ["negative"] * 45 + ["positive"] * 5})
    est = estimate_table(table, se=1, sp=1)
    assert len(est) == 1 and est["pools"].iloc[0] == 50
    with pytest.raises(ValueError, match="district and stream"):
        prevalence_frame(est)


@pytest.mark.parametrize(
    "table,kw,message",
    [
        (pd.DataFrame({"result": ["positive"]}), {}, "missing column 'size'"),
        (
            pd.DataFrame({"size": ["10", "2.5", "0", "ten"], "result": ["positive"] * 4}),
            {},
            r"row 3, column 'size': value '2.5': expected a whole number of samples ≥ 1",
        ),
        (
            pd.DataFrame({"size": ["10"], "result": ["yes"]}),
            {},
            r"row 2, column 'result': value 'yes': not a result",
        ),
        (pd.DataFrame({"size": ["10"], "result": ["invalid"]}), {}, "no valid result"),
        (
            pd.DataFrame({"size": [10], "result": ["positive"]}),
            {"se": 0.5, "sp": 0.4},
            r"sensitivity 0.5 must exceed 1 - specificity",
        ),
        (
            pd.DataFrame({"size": [10], "result": ["positive"]}),
            {"level": 1.2},
            r"level: the confidence level must be in \(0, 1\)",
        ),
    ],
)
def test_bad_estimate_input(table, kw, message):
    with pytest.raises(ValueError, match=message):
        estimate_table(table, source="first_stage.csv", **kw)


def test_bad_counts():
    with pytest.raises(ValueError, match="0 ≤ positive pools ≤ pools"):
        estimate_from_counts([10], [5], [6])
    with pytest.raises(ValueError, match="pool sizes must be whole numbers"):
        estimate_prevalence([2.5], [True])
    assert issubclass(LabInputError, ValueError)


@pytest.mark.parametrize(
    "algorithm,config", [("D2", "10"), ("D3", "12:4,4,4"), ("A2", "8"), ("A2M", "4")]
)
def test_a_simulated_day_estimates_each_districts_prevalence(algorithm, config):
    """results -> estimate: a lab day's first-stage pools (partial blocks of unequal size
    included) give an interval holding each district's true prevalence."""
    from labopt.lab import make_manifest, run_lab

    rng = np.random.default_rng(12)
    truth_p = {"a": 0.005, "b": 0.02, "c": 0.06}
    n = 30_011
    district = rng.choice(list(truth_p), n)
    df = pd.DataFrame(
        {"sample_id": np.arange(n).astype(str), "district": district, "stream": "screening"}
    )
    m = make_manifest(df, algorithm, config)
    p = m.samples["district"].map(truth_p).to_numpy()
    batch = run_lab(m, rng.random(n) < p, se=0.97, sp=0.995, seed=3)
    first = batch.decoding.first_stage_frame()
    assert first["size"].nunique() > 1  # partial blocks: unequal sizes
    est = estimate_table(first, se=0.97, sp=0.995).set_index("district")
    for d, p_true in truth_p.items():
        assert est.loc[d, "lower"] <= p_true <= est.loc[d, "upper"], (d, est.loc[d])
