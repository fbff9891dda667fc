"""Five-stage hierarchies (D5): the configuration, the operating characteristics against an
exact enumeration and a simulation, and the search against brute force and the D4 search."""

import itertools
import math

import numpy as np
import pytest

import labopt._nested as _nested
from labopt.errors import InputError
from labopt.pooling import Design, evaluate, optimize, simulate
from labopt.pooling.frontier import frontier
from labopt.pooling.search import hierarchical_rows
from tests import oracle

REAL5 = "8:5,3:3,2,2,1:2,1,1,1,1,1"  # a stage-4 pool of 2 is split at stage 5


def close(a, b, rel=1e-10):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


def test_d5_configuration_reads_its_four_levels():
    d = Design.parse("D5", "16:8,8:4,4,4,4:2,2,2,2,2,2,2,2")
    assert d.stages == 5 and d.block_size == 16 and d.largest_pool == 16
    assert d.config == "16:8,8:4,4,4,4:2,2,2,2,2,2,2,2"
    assert sorted(set(d.tree().stage.tolist())) == [1, 2, 3, 4, 5]
    assert Design.parse("D5", REAL5).stages == 5
    # a D5 whose fourth-stage pools are single samples stops at stage 4
    assert Design.parse("D5", "8:4,4:2,2,2,2:1,1,1,1,1,1,1,1").stages == 4


@pytest.mark.parametrize(
    "config, words",
    [
        ("16:8,8:4,4,4,4", "shape of a D5"),
        ("16:8,8:4,4,4,4:2,2,2,2,2,2,2", "fourth-stage sizes must split each third-stage"),
        ("16:8,8:4,4,4,4:2,2,2,2,2,2,2,2,1", "left over"),
        ("16:8,8:4,4,4,4:4,2,2,2,2,2,2", "'split' into itself"),
        ("16:8,8:4,4,4,3:2,2", "third-stage sizes must split each second-stage"),
    ],
)
def test_bad_d5_configurations_name_the_level(config, words):
    with pytest.raises(InputError, match=words):
        Design.parse("D5", config)


@pytest.mark.parametrize(
    "config", [REAL5, "7:4,3:2,2,2,1:1,1,1,1,1,1", "10:6,4:3,3,2,2:2,1,2,1,1,1,1,1"]
)
def test_d5_matches_exact_enumeration_with_risks_and_stage_accuracy(config):
    d = Design.parse("D5", config)
    rng = np.random.default_rng(3)
    risks = np.sort(rng.uniform(0.01, 0.2, d.block_size))
    se = [0.93, 0.95, 0.96, 0.98, 0.99]
    sp = [0.96, 0.97, 0.98, 0.985, 0.99]
    got = evaluate(d, risks=risks, se=se, sp=sp)
    want = oracle.hierarchical("D5", config, risks, se, sp)
    oracle.assert_agrees(got, want)


def test_a_pool_split_into_itself_is_refused():
    with pytest.raises(InputError, match="test the same pool twice"):
        Design.parse("D5", "9:9:1,1,1,1,1,1,1,1,1:")


def test_d5_agrees_with_simulation():
    d = "D5"
    config = "32:16,16:8,8,8,8:4,4,4,4,4,4,4,4"
    oc = evaluate(d, config, prevalence=0.02, se=0.97, sp=0.98)
    sim = simulate(d, config, prevalence=0.02, se=0.97, sp=0.98, samples=400_000, seed=5)
    for est, exact in (
        (sim.expected_tests_per_sample, oc.expected_tests_per_sample),
        (sim.sensitivity, oc.sensitivity),
        (sim.specificity, oc.specificity),
    ):
        assert abs(est.value - exact) <= 4 * est.se, (est, exact)


def _nested_designs(first, stages):
    """Every nested design of ``first`` samples with at most ``stages`` stages, by brute force
    (levels of sizes as Design takes them)."""

    def partitions(n, largest):
        if n == 0:
            yield ()
            return
        for k in range(min(n, largest), 0, -1):
            for rest in partitions(n - k, k):
                yield (k, *rest)

    def splits(pools, depth):
        """All ways to split each pool > 1 of a level, for `depth` more levels."""
        if depth == 0:
            yield []
            return
        choices = [list(partitions(m, m - 1)) if m > 1 else [()] for m in pools]
        for combo in itertools.product(*choices):
            level = tuple(x for part in combo for x in part)
            for rest in splits([x for x in level if x > 1], depth - 1):
                yield [level, *rest]

    yield from splits([first], stages - 1)


@pytest.mark.parametrize("first", [5, 6, 7, 8])
def test_d5_search_is_the_best_of_every_five_stage_design(first):
    for p, se, sp in ((0.05, 0.99, 0.99), (0.2, 0.95, 0.97)):
        best = math.inf
        for levels in _nested_designs(first, 5):
            d = Design("D5", first, levels[1 - 1], levels[1], stage4=levels[2]).validated()
            if d.stages == 5:
                et = float(evaluate(d, prevalence=p, se=se, sp=sp).expected_tests_per_sample)
                best = min(best, et)
        got = optimize(p, algorithm="D5", se=se, sp=sp, min_size=first, max_size=first,
                       max_stages=5).best  # fmt: skip
        assert got.stages == 5
        assert close(float(got.expected_tests_per_sample), best, 1e-12), (p, got.design, best)


def test_nested_programme_at_four_stages_is_the_d4_search():
    # the same kernel with four stages finds the D4 search's best design of every first stage
    imax = 60
    for p in (0.002, 0.03):
        et = np.empty(imax - 3)
        parts = np.zeros((imax - 3, 2, imax), dtype=np.intp)
        counts = np.zeros((imax - 3, 2), dtype=np.intp)
        ones = np.ones(imax + 1)
        se, sp = np.full(4, 0.98), np.full(4, 0.99)
        _nested.nested_dp(p, 4, 4, imax, se, sp, ones, et, parts, counts)
        for i, first in enumerate(range(4, imax + 1)):
            rows, _ = hierarchical_rows("D4", p, first, first, se, sp, ones, 0.0, 0.0, 1)
            assert close(et[i], rows[0].et, 1e-12), (first, et[i], rows[0].et)
            d = Design("D4", first, tuple(parts[i, 0, : counts[i, 0]]),
                       tuple(parts[i, 1, : counts[i, 1]])).validated()  # fmt: skip
            oc = evaluate(d, prevalence=p, se=0.98, sp=0.99)
            assert close(oc.expected_tests_per_sample, et[i], 1e-12)


def test_five_stages_beat_four_at_low_prevalence():
    four = optimize(0.001, se=0.99, sp=0.99, max_size=60, max_stages=4).best
    five = optimize(0.001, se=0.99, sp=0.99, max_size=60, max_stages=5).best
    assert four.stages == 4 and five.stages == 5
    # 0.0281 against 0.0290 reactions per sample
    assert five.expected_tests_per_sample < four.expected_tests_per_sample - 5e-4


def test_frontier_has_five_rounds():
    front = frontier(0.005, se=0.99, sp=0.99, max_stages=5, max_size=32)
    by = {(c.stages, c.largest_pool): c.best for c in front.cells}
    assert by[(5, 32)].expected_tests_per_sample <= by[(4, 32)].expected_tests_per_sample
    assert by[(5, 32)].expected_tests_per_sample > front.entropy


def test_a_design_given_more_levels_than_it_has_is_refused():
    with pytest.raises(InputError, match="takes 2 list"):
        Design("D4", 16, (8, 8), (4, 4, 4, 4), stage4=(2, 2)).validated()
    with pytest.raises(InputError, match="takes 1 list"):
        Design("D3", 4, (2, 2), (1, 1)).validated()


def test_halving_needs_a_whole_size():
    with pytest.raises(InputError, match="whole first-stage size"):
        Design.halving("D5", 16.5)
