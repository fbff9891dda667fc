"""Informative four-stage testing (ID4): ID3's sub-pools split again into contiguous
third-stage pools. The configuration, the operating characteristics against an exact
enumeration, a simulation and D4, and the search against every design of small batches."""

import itertools
import math

import numpy as np
import pytest

from labopt.errors import InputError
from labopt.pooling import Design, DilutionModel, evaluate, optimize, simulate
from tests import oracle
from tests.pooling.test_informative_three_stage import _compositions

SE = [0.95, 0.97, 0.99, 0.98]
SP = [0.96, 0.98, 0.99, 0.97]


def close(a, b, rel=1e-10):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


def test_id4_configuration():
    d = Design.parse("ID4", "12,8,1:6,6,4,4:3,3,3,3,2,2,1,1,1,1")
    assert (d.block_size, d.largest_pool, d.first_stage_reactions, d.stages) == (21, 12, 3, 4)
    assert d.config == "12,8,1:6,6,4,4:3,3,3,3,2,2,1,1,1,1"
    tree = d.tree()
    assert tree.size[tree.stage == 2].tolist() == [6, 6, 4, 4]
    assert tree.size[tree.stage == 3].tolist() == [3, 3, 3, 3, 2, 2, 1, 1, 1, 1]
    assert Design.parse("ID4", "3:1,1,1:").stages == 2
    assert Design.parse("ID4", "4:2,2:1,1,1,1").stages == 3


@pytest.mark.parametrize(
    "config, words",
    [
        ("12,8:6,6,4,4", "shape of a ID4"),
        ("12,8:6,6,4,4:3,3,3,3,2,2,1,1,1", "third-stage sizes must split each second-stage"),
        ("12:6,6:6,3,3", "the second-stage pool of 6 is 'split' into itself"),
        ("4:2,2:1,1,1,1,1", "left over"),
        ("4:2,2:1,1,0,1,1", "positive whole numbers"),
    ],
)
def test_bad_id4_configurations_are_refused_by_name(config, words):
    with pytest.raises(InputError, match=words):
        Design.parse("ID4", config)


@pytest.mark.parametrize(
    "config", ["5,3,1:3,2,2,1:2,1,1,1,1,1", "1,7:4,3:2,2,2,1", "9:5,4:3,2,2,2"]
)
def test_id4_matches_exact_enumeration(config):
    d = Design.parse("ID4", config)
    risks = np.sort(np.random.default_rng(7).uniform(0.005, 0.35, d.block_size))
    got = evaluate(d, risks=risks, se=SE, sp=SP)
    want = oracle.hierarchical("ID4", config, risks, SE, SP)
    oracle.assert_agrees(got, want)


def test_id4_with_dilution_matches_exact_enumeration():
    model = DilutionModel()
    factor = lambda k: float(model.factor(k)) if k > 1 else 1.0  # noqa: E731
    config = "6,3:3,3,2,1:2,1,1,1,1,1,1"
    risks = np.sort(np.random.default_rng(8).uniform(0.01, 0.3, 9))
    got = evaluate("ID4", config, risks=risks, se=SE, sp=SP, dilution=model)
    want = oracle.hierarchical("ID4", config, risks, SE, SP, factor)
    oracle.assert_agrees(got, want)


def test_id4_of_one_pool_with_equal_risks_is_d4():
    for config in ("16:8,8:4,4,4,4", "12:5,7:2,3,4,3"):
        a = evaluate("D4", config, prevalence=0.02, se=SE, sp=SP)
        b = evaluate("ID4", config, risks=[0.02] * a.design.block_size, se=SE, sp=SP)
        for name in ("expected_tests_per_sample", "sensitivity", "specificity"):
            assert close(getattr(a, name), getattr(b, name), 1e-12), name


def test_id4_agrees_with_simulation():
    risks = np.sort(np.r_[np.full(16, 0.004), np.full(6, 0.03), [0.2, 0.4]])
    config = "16,6,1,1:8,8,3,3:4,4,4,4,1,1,1,1,1,1"
    oc = evaluate("ID4", config, risks=risks, se=SE, sp=SP)
    sim = simulate("ID4", config, risks=risks, se=SE, sp=SP, samples=500_000, seed=11)
    for est, exact in (
        (sim.expected_tests_per_sample, oc.expected_tests_per_sample),
        (sim.sensitivity, oc.sensitivity),
        (sim.specificity, oc.specificity),
    ):
        assert abs(est.value - exact) <= 4 * est.se, (est, exact)


def _every_id4(n, cap):
    for pools in _compositions(n, cap):
        halves = [list(_compositions(m, m - 1)) if m > 1 else [()] for m in pools]
        for combo in itertools.product(*halves):
            subs = tuple(x for part in combo for x in part)
            thirds = [list(_compositions(s, s - 1)) if s > 1 else [()] for s in subs]
            for cut in itertools.product(*thirds):
                yield Design("ID4", n, pools, subs, stage4=tuple(x for part in cut for x in part))


@pytest.mark.parametrize("n, cap, dilution", [(6, 6, None), (7, 5, None), (8, 4, DilutionModel())])
def test_id4_search_is_the_best_of_every_design(n, cap, dilution):
    rng = np.random.default_rng(n)
    designs = list(_every_id4(n, cap))
    for risks in (np.sort(rng.uniform(0.001, 0.1, n)), np.sort(rng.beta(0.3, 3, n))):
        best = min(
            float(
                evaluate(d, risks=risks, se=SE, sp=SP, dilution=dilution).expected_tests_per_sample
            )
            for d in designs
        )
        res = optimize(
            risks=risks, algorithm="ID4", se=SE, sp=SP, max_size=cap, max_stages=4,
            dilution=dilution,
        )  # fmt: skip
        assert close(float(res.best.expected_tests_per_sample), best, 1e-12), res.best.design
        assert res.best.design.largest_pool <= cap


def test_id4_never_costs_more_than_id3():
    # an ID4 sub-pool split into single samples is an ID3 sub-pool
    risks = np.sort(np.random.default_rng(1).beta(0.2, 20, 200))
    id3 = optimize(risks=risks, algorithm="ID3", max_size=32, max_stages=3).best
    id4 = optimize(risks=risks, algorithm="ID4", max_size=32, max_stages=4).best
    assert id4.expected_tests_per_sample < id3.expected_tests_per_sample - 1e-3
    auto = optimize(risks=risks, max_size=32, max_stages=4)
    assert {"ID3", "ID4"} <= set(auto.algorithms)
    assert auto.best.expected_tests_per_sample <= id4.expected_tests_per_sample + 1e-12
    three = optimize(risks=risks, max_size=32, max_stages=3)
    assert "ID4" not in {oc.algorithm for oc in three.ranking}


def test_id4_with_equal_risks_is_no_worse_than_the_best_d4():
    # 6 blocks of D4's best first stage: ID4 may pool them as D4 does
    best = optimize(0.002, algorithm="D4", max_size=32, max_stages=4, se=SE, sp=SP).best
    n = 6 * best.design.block_size
    id4 = optimize(risks=[0.002] * n, algorithm="ID4", max_size=32, max_stages=4, se=SE, sp=SP)
    assert id4.best.expected_tests_per_sample <= best.expected_tests_per_sample + 1e-12


def test_id4_search_limit_and_binding_limits_are_noted():
    risks = np.sort(np.random.default_rng(2).beta(0.2, 20, 100))
    res = optimize(risks=risks, algorithm="ID4", max_size=60, max_stages=4)
    assert res.best.design.largest_pool <= 32
    assert [(n.key, n.fields["limit"]) for n in res.notes] == [("search_limit", 32)]
    res = optimize(risks=risks, algorithm="ID4", max_size=16, max_stages=4, min_sensitivity=0.9)
    assert [n.key for n in res.notes] == ["informative_limits"]
    with pytest.raises(InputError, match=r"ID4 .* needs the individual risks"):
        optimize(0.01, algorithm="ID4")


def test_id4_with_a_two_disease_assay_and_one_disease_absent_is_the_one_disease_id4():
    from labopt.pooling import evaluate_multiplex

    config = "6,3:3,3,2,1:2,1,1,1,1,1,1"
    risks = np.sort(np.random.default_rng(9).uniform(0.01, 0.3, 9))
    joint = np.vstack([1 - risks, risks, np.zeros(9), np.zeros(9)])
    # disease 2 never gives a false alarm either, so no pool is retested for it
    two = evaluate_multiplex("ID4", config, joint=joint, se=SE, sp=SP, sp2=1.0)
    one = evaluate("ID4", config, risks=risks, se=SE, sp=SP)
    assert close(two.expected_tests_per_sample, one.expected_tests_per_sample, 1e-12)
    assert close(two.sensitivity[0], one.sensitivity, 1e-12)
    assert close(two.specificity[0], one.specificity, 1e-12)


def test_auto_names_a_design_once_by_its_simplest_family():
    # an ID4 whose third-stage pools are single samples runs ID3's pools: one entry, ID3
    risks = [0.05] * 10 + [0.01] * 10
    res = optimize(risks=risks, max_stages=4, max_size=12, top=40)
    trees = [
        tuple(map(bytes, (t.start, t.stop, t.parent)))
        for t in (oc.design.tree() for oc in res.ranking if oc.algorithm != "IA2")
    ]
    assert len(trees) == len(set(trees))
    for oc in res.ranking:
        d = oc.design
        if d.algorithm == "ID4":
            assert max(d.stage4) > 1, d
        if d.algorithm == "ID3":
            assert max(d.stage3, default=1) > 1, d
    alone = optimize(risks=risks, algorithm="ID4", max_stages=4, max_size=12, top=40)
    assert any(max(oc.design.stage4, default=1) == 1 for oc in alone.ranking)


def test_a_family_needing_more_rounds_says_so():
    res = optimize(risks=[0.05] * 10 + [0.01] * 10, algorithm="ID4")
    assert res.best is None
    assert [n.key for n in res.notes] == ["needs_stages", "infeasible"]
    assert "--max-stages 4" in res.notes[0]
