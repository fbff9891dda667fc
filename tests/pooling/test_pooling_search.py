"""Optimal designs: exhaustive cross-checks, constraints and deterministic ranking."""

import itertools
import math

import numpy as np
import pytest

from labopt.pooling import DilutionModel, SearchConstraints, evaluate, optimize, simulate
from labopt.pooling.search import rank_key


def partitions(n, largest=None):
    """Integer partitions of n, non-increasing parts (independent of the kernel's ZS1)."""
    largest = n if largest is None else largest
    if n == 0:
        yield ()
        return
    for first in range(min(n, largest), 0, -1):
        for rest in partitions(n - first, first):
            yield (first, *rest)


def test_dorfman_classic_optimum():
    res = optimize(0.01, algorithm="D2", se=1, sp=1, max_size=100)
    assert res.best.config == "11"  # k = 1 + 1/sqrt(p) rule of thumb
    assert res.best.expected_tests_per_sample == pytest.approx(0.19557, abs=1e-5)


@pytest.mark.parametrize("p", [0.003, 0.02, 0.08])
def test_d3_search_equals_brute_force(p):
    res = optimize(p, algorithm="D3", se=0.97, sp=0.99, min_size=3, max_size=12, top=5)
    brute = []
    for I in range(3, 13):
        for parts in partitions(I):
            if len(parts) == 1:
                continue
            cfg = f"{I}:{','.join(map(str, parts))}"
            brute.append(evaluate("D3", cfg, prevalence=p, se=0.97, sp=0.99))
    brute.sort(key=rank_key)
    assert [oc.config for oc in res.ranking] == [oc.config for oc in brute[:5]]
    assert res.configurations_evaluated == len(brute)


@pytest.mark.parametrize("p", [0.005, 0.03])
def test_d4_search_equals_brute_force_over_nested_partitions(p):
    res = optimize(p, algorithm="D4", se=0.98, sp=0.99, min_size=4, max_size=9, max_stages=4)
    best = math.inf
    for I in range(4, 10):
        for s2 in partitions(I):
            if len(s2) == 1:
                continue
            splits = [[()] if m == 1 else [q for q in partitions(m) if len(q) > 1] for m in s2]
            for combo in itertools.product(*splits):
                if all(max(q, default=1) == 1 for q in combo):
                    continue  # no fourth stage
                s3 = [x for q in combo for x in q]
                cfg = f"{I}:{','.join(map(str, s2))}:{','.join(map(str, s3))}"
                oc = evaluate("D4", cfg, prevalence=p, se=0.98, sp=0.99)
                best = min(best, oc.expected_tests_per_sample)
    assert res.best.expected_tests_per_sample == pytest.approx(best, rel=1e-12)
    assert res.best.stages == 4


def compositions(n):
    for cuts in itertools.product((0, 1), repeat=n - 1):
        sizes, run = [], 1
        for c in cuts:
            if c:
                sizes.append(run)
                run = 1
            else:
                run += 1
        sizes.append(run)
        yield tuple(sizes)


@pytest.mark.parametrize("cap", [3, 5, 11])
def test_id2_dynamic_programme_equals_brute_force(rng, cap):
    risks = np.sort(np.concatenate([rng.uniform(0.001, 0.01, 7), rng.uniform(0.05, 0.3, 4)]))
    res = optimize(risks=risks, algorithm="ID2", se=0.97, sp=0.99, max_size=cap)
    brute = min(
        evaluate(
            "ID2", ",".join(map(str, c)), risks=risks, se=0.97, sp=0.99
        ).expected_tests_per_sample
        for c in compositions(risks.size)
        if max(c) <= cap
    )
    assert res.best.expected_tests_per_sample == pytest.approx(brute, rel=1e-12)
    assert res.best.design.largest_pool <= cap


def _every_cap_best(risks, hi, se, sp, min_size=1):
    """The ID2 design of least expected tests under every cap from min_size to hi, one
    programme per cap (what the search skips: caps that cannot change the answer)."""
    from labopt import _search
    from labopt.pooling import Design

    sizes = np.zeros(risks.size, dtype=np.intp)
    f = np.ones(hi + 1)
    out = set()
    for cap in range(min_size, hi + 1):
        count, _ = _search.id2_dp(risks, se, sp, f, min_size, cap, sizes)
        if count:
            out.add(Design("ID2", risks.size, tuple(int(x) for x in sizes[:count])))
    return out


@pytest.mark.parametrize("min_size, limit", [(1, 0.0), (6, 0.0), (1, 0.9)])
def test_id2_ranking_is_the_best_of_every_caps_design(min_size, limit):
    risks = np.sort(np.random.default_rng(3).beta(0.3, 12, 300))
    every = _every_cap_best(risks, 150, 0.97, 0.99, min_size)
    kw = {"se": 0.97, "sp": 0.99, "max_size": 150, "min_size": min_size, "min_sensitivity": limit}
    res = optimize(risks=risks, algorithm="ID2", top=12, **kw)
    scored = sorted(
        oc.expected_tests_per_sample
        for oc in (evaluate(d, risks=risks, se=0.97, sp=0.99) for d in every)
        if oc.sensitivity >= limit
    )
    got = [oc.expected_tests_per_sample for oc in res.ranking]
    # the exact search under the limit may add designs no cap's cheapest design is
    assert got[0] <= scored[0] + 1e-15
    if limit == 0:
        np.testing.assert_allclose(got, scored[:12], rtol=1e-13)
    # caps that cannot change the answer are skipped
    assert res.configurations_evaluated < 150 - min_size


def test_id2_search_work_is_bounded_and_said():
    risks = np.random.default_rng(1).beta(0.2, 8, 10_000)
    res = optimize(risks=risks, algorithm="ID2", max_size=10_000, top=1000)
    full = optimize(risks=risks, algorithm="ID2", max_size=10_000, top=1)
    assert res.best.design == full.best.design  # the first programme is the unconstrained one
    assert res.configurations_evaluated < 100
    (note,) = res.notes
    assert note.key == "id2_caps_work" and note.fields["n"] == 10_000
    assert note.fields["cap"] >= min(oc.design.largest_pool for oc in res.ranking)


def test_every_ranked_design_meets_the_constraints_and_ranking_is_sorted():
    cons = SearchConstraints(
        min_size=4, max_size=16, max_stages=3, min_sensitivity=0.96, min_specificity=0.999
    )
    res = optimize(0.01, se=0.99, sp=0.99, constraints=cons, top=15)
    assert res.best is not None and len(res.ranking) == 15
    for oc in res.ranking:
        assert 4 <= oc.design.largest_pool <= 16
        assert oc.stages <= 3
        assert oc.sensitivity >= 0.96 and oc.specificity >= 0.999
    keys = [rank_key(oc) for oc in res.ranking]
    assert keys == sorted(keys)
    again = optimize(0.01, se=0.99, sp=0.99, constraints=cons, top=15)
    assert [oc.config for oc in again.ranking] == [oc.config for oc in res.ranking]


def test_stage_limit_and_auto_families():
    two = optimize(0.01, max_stages=2, max_size=30)
    assert two.best.stages <= 2 and set(two.algorithms) == {
        "IT",
        "D2",
        "D3",
        "D4",
        "D5",
        "A2",
        "A2M",
    }
    four = optimize(0.01, max_stages=4, max_size=30)
    assert four.best.expected_tests_per_sample < two.best.expected_tests_per_sample
    assert four.best.algorithm == "D4"


def test_individual_testing_wins_at_high_prevalence():
    assert optimize(0.45).best.algorithm == "IT"


def test_infeasible_constraints_are_explained():
    res = optimize(0.01, algorithm="D3", min_sensitivity=0.999, se=0.99, sp=0.99)
    assert res.best is None and res.ranking == []
    assert any("no D3 configuration meets" in n for n in res.notes)


def test_dilution_favours_smaller_pools():
    plain = optimize(0.002, algorithm="D2", max_size=40, se=0.99, sp=0.99)
    diluted = optimize(
        0.002,
        algorithm="D2",
        max_size=40,
        se=0.99,
        sp=0.99,
        dilution=DilutionModel(),
        min_sensitivity=0.9,
    )
    assert diluted.best.design.largest_pool < plain.best.design.largest_pool
    assert diluted.best.sensitivity >= 0.9


def test_prevalence_grid_gives_one_result_per_value():
    res = optimize([0.001, 0.01, 0.1])
    assert len(res) == 3 and all(r.best is not None for r in res)
    costs = [r.best.expected_tests_per_sample for r in res]
    assert costs == sorted(costs)  # higher prevalence, more reactions per sample


def test_search_limits_are_reported():
    res = optimize(0.001, algorithm="D3", max_size=80)
    assert any("up to 60" in n for n in res.notes)


# ------------------------------------------------------------------ D4 beyond 40 samples
def _d4_kernel_best(kernel, p, I, se, sp, dilution):
    from labopt import _search
    from labopt.pooling.assay import dilution_factors
    from labopt.pooling.designs import Design
    from labopt.pooling.opchar import stage_accuracy

    se_v, sp_v = stage_accuracy(Design("D4", 4, (2, 2), (1, 1, 1, 1)), se, sp)
    metrics = np.zeros((1, 5))
    p2, p3 = np.zeros((1, I), dtype=np.intp), np.zeros((1, I), dtype=np.intp)
    f = np.ascontiguousarray(dilution_factors(dilution, I))
    _, kept = getattr(_search, kernel)(
        p, I, I, np.asarray(se_v), np.asarray(sp_v), f, -1.0, -1.0, metrics, p2, p3
    )
    if not kept:
        return None
    cfg = f"{I}:{','.join(str(x) for x in p2[0] if x)}:{','.join(str(x) for x in p3[0] if x)}"
    return float(metrics[0, 1]), float(metrics[0, 2]), float(metrics[0, 3]), cfg


@pytest.mark.parametrize(
    ("p", "se", "sp", "dilution"),
    [
        (0.001, 0.99, 0.99, None),
        (0.02, [0.95, 0.97, 0.98, 0.99], [0.98, 0.99, 0.99, 0.995], None),
        (0.08, 1.0, 1.0, None),
        (0.005, 0.98, 0.99, DilutionModel(0.9, 0.05)),
    ],
)
def test_d4_dynamic_programme_finds_the_enumerations_best_for_every_first_stage(
    p, se, sp, dilution
):
    """For each first-stage size to 40, the programme over second-stage pools finds the ET of
    the best of every partition scored one by one; its configuration, evaluated by the
    general engine, has the ET, PSe and PSp the programme reports."""
    for I in range(4, 41):
        enum = _d4_kernel_best("d4_search", p, I, se, sp, dilution)
        dp = _d4_kernel_best("d4_dp", p, I, se, sp, dilution)
        assert (enum is None) == (dp is None)
        if dp is None:
            continue
        assert dp[0] == pytest.approx(enum[0], rel=1e-12), (I, enum, dp)
        oc = evaluate("D4", dp[3], prevalence=p, se=se, sp=sp, dilution=dilution)
        assert oc.expected_tests_per_sample == pytest.approx(dp[0], rel=1e-12)
        assert oc.sensitivity == pytest.approx(dp[1], rel=1e-12)
        assert 1 - oc.specificity == pytest.approx(dp[2], rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("p", [0.0005, 0.001, 0.004, 0.01])
def test_d4_search_to_128_equals_an_independent_numpy_programme(p):
    """Beyond 40 samples (no partition enumeration): the best D4 design over first stages
    4..128 against a NumPy programme from the closed forms (benches/numpy_baseline.py)."""
    from benches import numpy_baseline as nb

    res = optimize(p, algorithm="D4", se=0.99, sp=0.99, min_size=4, max_size=128, max_stages=4)
    et, first = nb.d4_search(p, 4, 128, 0.99, 0.99)
    assert res.best.expected_tests_per_sample == pytest.approx(et, rel=1e-12)
    assert res.best.design.first == first
    assert not res.notes  # 128 is within the D4 search


def test_d4_with_large_first_pools_beats_three_stages_at_low_prevalence():
    """The issue's case: p = 0.1 %, Se = Sp = 0.99, largest pool 60. Three stages cost 0.0335
    reactions per sample; a D4 design with a first-stage pool of 60 about 0.029, and a
    simulation of it agrees."""
    res = optimize(0.001, se=0.99, sp=0.99, max_size=60, max_stages=4)
    best = res.best
    assert best.algorithm == "D4" and best.design.first == 60
    assert best.expected_tests_per_sample == pytest.approx(0.02896, abs=5e-5)
    d3 = optimize(0.001, algorithm="D3", se=0.99, sp=0.99, max_size=60).best
    assert d3.expected_tests_per_sample == pytest.approx(0.0335, abs=5e-4)
    sim = simulate(best.design, prevalence=0.001, se=0.99, sp=0.99, samples=3_000_000, seed=3)
    assert abs(sim.expected_tests_per_sample.z(best.expected_tests_per_sample)) < 4


def test_d4_search_beyond_128_says_where_it_stopped():
    res = optimize(0.0002, algorithm="D4", se=0.99, sp=0.99, max_size=300, max_stages=4)
    assert res.best.design.first <= 128
    assert any("128" in str(n) for n in res.notes)


def test_d4_beyond_40_with_binding_limits_says_what_it_may_miss():
    """A verifier's case: at p = 0.05 %, Se = Sp = 0.99, PSe >= 0.961, the least-ET design of
    every first stage over 40 fails the limit while a costlier D4 of 128 meets it; the search
    says that it only tries the least-ET design beyond 40 (not merely "none meets")."""
    res = optimize(
        0.0005,
        algorithm="D4",
        min_size=41,
        max_size=128,
        max_stages=4,
        se=0.99,
        sp=0.99,
        min_sensitivity=0.961,
    )
    feasible = evaluate(
        "D4",
        "128:26,26,26,25,25:6,5,5,5,5,6,4,4,5,5,1,1,6,4,4,4,4,1,1,1,1,5,5,5,5,5,5,5,5,5,5",
        prevalence=0.0005,
        se=0.99,
        sp=0.99,
    )
    assert feasible.sensitivity >= 0.961  # such a design exists
    assert res.best is None
    assert any("over 40 samples" in str(n) for n in res.notes)
    unlimited = optimize(0.0005, algorithm="D4", min_size=41, max_size=128, max_stages=4)
    assert not any("over 40 samples" in str(n) for n in unlimited.notes)
