"""Informative three-stage testing (ID3): contiguous pools of the samples sorted by risk, each
split into contiguous sub-pools. The configuration, the operating characteristics against an
exact enumeration and a simulation, and the search against brute force."""

import itertools
import math

import numpy as np
import pytest

from labopt.errors import InputError
from labopt.pooling import Design, evaluate, optimize, simulate
from tests import oracle

SE = [0.95, 0.97, 0.99]
SP = [0.96, 0.98, 0.99]


def close(a, b, rel=1e-10):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


def test_id3_configuration():
    d = Design.parse("ID3", "12,8,1:4,4,4,5,3")
    assert (d.block_size, d.largest_pool, d.first_stage_reactions, d.stages) == (21, 12, 3, 3)
    assert d.config == "12,8,1:4,4,4,5,3"
    tree = d.tree()
    assert tree.size[tree.stage == 2].tolist() == [4, 4, 4, 5, 3]
    # pools of one sample only, or sub-pools of one only: the design is shorter
    assert Design.parse("ID3", "1,1:").stages == 1
    assert Design.parse("ID3", "3:1,1,1").stages == 2


@pytest.mark.parametrize(
    "config, words",
    [
        ("12,8", "shape of a ID3"),
        ("12,8:4,4,4,5", "second-stage sizes must split each first-stage pool"),
        ("12,8:12,5,3", "the first-stage pool of 12 is 'split' into itself"),
        ("12,8:4,4,4,5,3,2", "left over"),
        ("0,8:4,4", "positive whole numbers"),
    ],
)
def test_bad_id3_configurations_are_refused_by_name(config, words):
    with pytest.raises(InputError, match=words):
        Design.parse("ID3", config)


@pytest.mark.parametrize("config", ["5,3,1:2,3,2,1", "1,6,2:3,3,1,1", "9:4,3,2"])
def test_id3_matches_exact_enumeration(config):
    d = Design.parse("ID3", config)
    risks = np.sort(np.random.default_rng(4).uniform(0.005, 0.35, d.block_size))
    got = evaluate(d, risks=risks, se=SE, sp=SP)
    want = oracle.hierarchical("ID3", config, risks, SE, SP)
    oracle.assert_agrees(got, want)


def test_id3_agrees_with_simulation():
    risks = np.sort(np.r_[np.full(14, 0.005), np.full(6, 0.03), [0.2, 0.4]])
    d = "ID3"
    config = "14,6,1,1:5,5,4,3,3"
    oc = evaluate(d, config, risks=risks, se=SE, sp=SP)
    sim = simulate(d, config, risks=risks, se=SE, sp=SP, samples=500_000, seed=9)
    for est, exact in (
        (sim.expected_tests_per_sample, oc.expected_tests_per_sample),
        (sim.sensitivity, oc.sensitivity),
        (sim.specificity, oc.specificity),
    ):
        assert abs(est.value - exact) <= 4 * est.se, (est, exact)


def _compositions(n, largest):
    """Every way to cut n ordered samples into contiguous parts of at most ``largest``."""
    for cuts in itertools.product((0, 1), repeat=n - 1):
        parts, size = [], 1
        for c in cuts:
            if c:
                parts.append(size)
                size = 1
            else:
                size += 1
        parts.append(size)
        if max(parts) <= largest:
            yield tuple(parts)


def _every_id3(n, cap):
    for pools in _compositions(n, cap):
        splits = [list(_compositions(m, m - 1)) if m > 1 else [()] for m in pools]
        for combo in itertools.product(*splits):
            yield Design("ID3", n, pools, tuple(x for part in combo for x in part))


@pytest.mark.parametrize("n, cap", [(6, 6), (7, 4), (8, 3)])
def test_id3_search_is_the_best_of_every_design(n, cap):
    rng = np.random.default_rng(n)
    for risks in (np.sort(rng.uniform(0.001, 0.1, n)), np.sort(rng.beta(0.3, 3, n))):
        best = min(
            float(evaluate(d, risks=risks, se=SE, sp=SP).expected_tests_per_sample)
            for d in _every_id3(n, cap)
        )
        res = optimize(risks=risks, algorithm="ID3", se=SE, sp=SP, max_size=cap, max_stages=3)
        assert close(float(res.best.expected_tests_per_sample), best, 1e-12), res.best.design
        assert res.best.design.largest_pool <= cap


def test_id3_never_costs_more_than_id2():
    # an ID3 pool split into single samples is an ID2 (Dorfman) pool
    risks = np.sort(np.random.default_rng(1).beta(0.2, 8, 200))
    id2 = optimize(risks=risks, algorithm="ID2", max_size=32).best
    id3 = optimize(risks=risks, algorithm="ID3", max_size=32, max_stages=3).best
    assert id3.expected_tests_per_sample <= id2.expected_tests_per_sample + 1e-12
    auto = optimize(risks=risks, max_size=32, max_stages=3)
    assert set(auto.algorithms) == {"IT", "ID2", "ID3", "ID4", "IA2"}
    assert auto.best.expected_tests_per_sample <= id3.expected_tests_per_sample + 1e-12


def test_id3_needs_risks_and_three_rounds():
    with pytest.raises(InputError, match=r"ID3 .* needs the individual risks"):
        optimize(0.01, algorithm="ID3")
    two = optimize(risks=[0.01] * 20, max_size=10, max_stages=2)
    assert "ID3" not in {oc.algorithm for oc in two.ranking}


def test_id3_search_limit_is_noted():
    risks = np.sort(np.random.default_rng(2).beta(0.2, 20, 300))
    res = optimize(risks=risks, algorithm="ID3", max_size=100, max_stages=3)
    assert res.best.design.largest_pool <= 64
    assert [n.fields["limit"] for n in res.notes] == [64]


def test_binding_limits_are_noted_for_the_id3_search_not_the_exact_id2_one():
    r = np.r_[np.full(20, 0.05), np.full(80, 0.005)]
    for alg, notes in (("ID2", []), ("ID3", ["informative_limits"])):
        res = optimize(risks=r, algorithm=alg, max_size=32, max_stages=3, min_sensitivity=0.9)
        assert [n.key for n in res.notes] == notes
