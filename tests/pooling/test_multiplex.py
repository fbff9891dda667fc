"""Hierarchical designs with a two-disease (multiplex) assay, checked three ways: against an
enumeration of every state of every sample of small blocks, against a simulation, and against
the one-disease engine where the second disease can never trigger a retest."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from labopt.errors import InputError
from labopt.pooling import Design, SearchConstraints, evaluate
from labopt.pooling.multiplex import STATES, evaluate_multiplex, joint_from_text
from labopt.pooling.multiplex_search import optimize_multiplex

SE = ((0.90, 0.93, 0.96, 0.97, 0.98), (0.92, 0.94, 0.95, 0.99, 0.97))  # disease, stage
SP = ((0.97, 0.98, 0.99, 0.995, 0.99), (0.96, 0.975, 0.985, 0.99, 0.995))


def accuracy(design: Design, which) -> tuple:
    stages = design.nominal_stages
    return tuple(tuple(row[:stages]) for row in which)


def enumerate_block(design: Design, joint: np.ndarray, se, sp):
    """Expected tests and each sample's P(called positive for k) given it has k / has not,
    by summing over every combination of the samples' states (4**n of them): given the
    states, a pool is tested when every pool above it tested positive for either disease."""
    tree = design.tree()
    n = design.block_size
    se, sp = np.asarray(se), np.asarray(sp)
    # a pool's accuracy is its stage's; an informative design's first-stage "pool" of one
    # sample is that sample's individual test, at the last stage's accuracy
    single = (tree.stop - tree.start == 1) & (tree.stage == 1)
    informative = design.algorithm in ("ID2", "ID3")
    acc = np.where(single & informative, design.nominal_stages, tree.stage) - 1
    tests = 0.0
    called = np.zeros((n, 2, 2))  # sample, disease, has: P(called positive and has/has not)
    mass = np.zeros((n, 2, 2))
    for combo in itertools.product(range(4), repeat=n):
        prob = float(np.prod([joint[s, i] for i, s in enumerate(combo)]))
        if prob == 0.0:
            continue
        truth = []
        for v in range(tree.start.size):
            members = combo[tree.start[v] : tree.stop[v]]
            truth.append(tuple(int(any(STATES[s][k] for s in members)) for k in range(2)))
        positive, reach = [], []
        for v in range(tree.start.size):
            st = acc[v]
            neg = 1.0
            for k in range(2):
                neg *= (1 - se[k, st]) if truth[v][k] else sp[k, st]
            positive.append(1.0 - neg)
            par = tree.parent[v]
            reach.append(1.0 if par < 0 else reach[par] * positive[par])
        tests += prob * sum(reach)
        for i in range(n):
            leaf = tree.leaf[i]
            st = acc[leaf]
            for k in range(2):
                has = STATES[combo[i]][k]
                p_pos = se[k, st] if has else 1 - sp[k, st]
                called[i, k, has] += prob * reach[leaf] * p_pos
                mass[i, k, has] += prob
    return tests / n, called[:, :, 1] / mass[:, :, 1], 1 - called[:, :, 0] / mass[:, :, 0]


JOINTS = [(0.95, 0.02, 0.02, 0.01), (0.7, 0.1, 0.15, 0.05)]
SMALL = [("IT", "1"), ("D2", "2"), ("D2", "5"), ("D3", "6:3,2,1"), ("D3", "5:3,2")]
SMALL += [("D4", "7:4,3:2,2,2,1"), ("ID2", "3,2,1"), ("ID3", "1,4:2,2"), ("D5", "h5")]


@pytest.mark.parametrize(("algorithm", "config"), SMALL)
@pytest.mark.parametrize("joint", JOINTS)
def test_every_state_enumerated_gives_the_same_answer(algorithm, config, joint):
    d = Design.parse(algorithm, config)
    se, sp = accuracy(d, SE), accuracy(d, SP)
    p = np.repeat(np.asarray(joint)[:, None], d.block_size, axis=1)
    if algorithm in ("ID2", "ID3"):  # informative: each sample its own probabilities
        p = np.array([[0.9 - 0.05 * i, 0.05 + 0.02 * i, 0.03 + 0.02 * i, 0.02 + 0.01 * i]
                      for i in range(d.block_size)]).T  # fmt: skip
    got = evaluate_multiplex(d, joint=p, se=se[0], sp=sp[0], se2=se[1], sp2=sp[1])
    et, pse, psp = enumerate_block(d, p, se, sp)
    assert got.expected_tests_per_sample == pytest.approx(et, rel=1e-12)
    np.testing.assert_allclose(got.individual[:, :, 0], pse, rtol=1e-12)
    np.testing.assert_allclose(got.individual[:, :, 1], psp, rtol=1e-12)


def simulate_d3(sizes: list[int], joint, se, sp, blocks: int, seed: int):
    """Monte Carlo D3 (pool, sub-pools, samples): mean tests per sample, and per disease the
    share of positives called positive and of negatives called negative."""
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    states = rng.choice(4, size=(blocks, n), p=joint)
    has = np.stack([np.isin(states, [1, 3]), np.isin(states, [2, 3])])  # (2, blocks, n)

    def test(truth, stage):  # truth: (2, ...) -> results per disease, positive for either
        shape = (2,) + (1,) * (truth.ndim - 1)
        draws = rng.random(truth.shape)
        hit = draws < se[:, stage].reshape(shape)
        false_alarm = draws < 1 - sp[:, stage].reshape(shape)
        pos = np.where(truth, hit, false_alarm)
        return pos, pos.any(axis=0)

    _, pool_pos = test(has.any(axis=2), 0)  # (blocks,)
    tests = np.ones(blocks)
    edges = np.cumsum([0, *sizes])
    final = np.zeros((2, blocks, n), dtype=bool)
    tested_alone = np.zeros((blocks, n), dtype=bool)
    for j, m in enumerate(sizes):
        lo, hi = edges[j], edges[j + 1]
        sub_truth = has[:, :, lo:hi].any(axis=2)
        res, sub_pos = test(sub_truth, 1)
        sub_pos = sub_pos & pool_pos
        tests += pool_pos
        if m == 1:
            final[:, :, lo] = res & pool_pos
            tested_alone[:, lo] = pool_pos
            continue
        ind, _ = test(has[:, :, lo:hi], 2)
        final[:, :, lo:hi] = ind & sub_pos[None, :, None]
        tests += m * sub_pos
    out = []
    for k in range(2):
        pos = has[k]
        out.append((final[k][pos].mean(), 1 - final[k][~pos].mean(), pos.sum(), (~pos).sum()))
    return tests.mean() / n, tests.std() / n / np.sqrt(blocks), out


def test_a_simulation_agrees_within_four_standard_errors():
    joint = np.array([0.9, 0.04, 0.04, 0.02])
    d = Design.parse("D3", "10:5,3,1,1")
    se, sp = np.array(accuracy(d, SE)), np.array(accuracy(d, SP))
    got = evaluate_multiplex(d, joint=joint, se=se[0], sp=sp[0], se2=se[1], sp2=sp[1])
    et, et_se, per_disease = simulate_d3([5, 3, 1, 1], joint, se, sp, 200_000, seed=7)
    assert abs(et - got.expected_tests_per_sample) < 4 * et_se
    for k, (pse, psp, npos, nneg) in enumerate(per_disease):
        s_pse = np.sqrt(pse * (1 - pse) / npos)
        s_psp = np.sqrt(psp * (1 - psp) / nneg)
        assert abs(pse - got.sensitivity[k]) < 4 * s_pse + 1e-12, k
        assert abs(psp - got.specificity[k]) < 4 * s_psp + 1e-12, k


@pytest.mark.parametrize(("algorithm", "config"), [("D2", "10"), ("D3", "12:4,4,4"),
                                                   ("D4", "16:8,8:4,4,4,4"), ("ID2", "5,3,2")])  # fmt: skip
def test_a_second_disease_that_never_shows_leaves_the_one_disease_answer(algorithm, config):
    """Nobody has disease 2 and its test never errs (Sp2 = 1): the design is the one-disease
    design of disease 1, which the one-disease engine (held to binGroup2) computes."""
    p = 0.03
    d = Design.parse(algorithm, config)
    se1, sp1 = accuracy(d, SE)[0], accuracy(d, SP)[0]
    got = evaluate_multiplex(d, joint=(1 - p, p, 0.0, 0.0), se=se1, sp=sp1, se2=0.9, sp2=1.0)
    one = evaluate(d, prevalence=p, se=list(se1), sp=list(sp1))
    assert got.expected_tests_per_sample == pytest.approx(one.expected_tests_per_sample, 1e-12)
    assert got.sensitivity[0] == pytest.approx(one.sensitivity, rel=1e-12)
    assert got.specificity[0] == pytest.approx(one.specificity, rel=1e-12)
    assert got.ppv[0] == pytest.approx(one.ppv, rel=1e-12)
    assert got.npv[0] == pytest.approx(one.npv, rel=1e-12)


def test_the_two_diseases_swap_with_their_probabilities_and_accuracies():
    d = Design.parse("D3", "9:4,3,2")
    se, sp = accuracy(d, SE), accuracy(d, SP)
    a = evaluate_multiplex(
        d, joint=(0.9, 0.05, 0.03, 0.02), se=se[0], sp=sp[0], se2=se[1], sp2=sp[1]
    )
    b = evaluate_multiplex(
        d, joint=(0.9, 0.03, 0.05, 0.02), se=se[1], sp=sp[1], se2=se[0], sp2=sp[0]
    )
    assert a.expected_tests_per_sample == pytest.approx(b.expected_tests_per_sample, 1e-14)
    np.testing.assert_allclose(a.sensitivity, b.sensitivity[::-1], rtol=1e-13)
    np.testing.assert_allclose(a.specificity, b.specificity[::-1], rtol=1e-13)


@pytest.mark.parametrize(
    ("joint", "words"),
    [
        ("0.9,0.05,0.03", "four probabilities"),
        ("0.9,0.05,0.03,0.03", "add up to 1"),
        ("0.9,0.05,x,0.03", "four numbers"),
        ("1.2,-0.1,-0.05,-0.05", "[0, 1]"),
    ],
)
def test_a_bad_joint_probability_is_refused_with_its_reason(joint, words):
    with pytest.raises(InputError) as err:
        joint_from_text(joint)
    assert words in str(err.value)


def test_informative_arrays_and_bad_accuracies_are_refused():
    with pytest.raises(InputError, match="IA2 with a multiplex assay is not available"):
        evaluate_multiplex("IA2", "8", joint=(0.9, 0.05, 0.03, 0.02))
    with pytest.raises(InputError, match=r"^se2: give one value .* 2 values, one per stage of D2"):
        evaluate_multiplex("D2", "5", joint=(0.9, 0.05, 0.03, 0.02), se2=(0.9, 0.9, 0.9))
    with pytest.raises(InputError, match="disease 2"):  # not informative
        evaluate_multiplex("D2", "5", joint=(0.9, 0.05, 0.03, 0.02), se2=0.004)
    with pytest.raises(InputError, match="se"):
        evaluate_multiplex("D2", "5", joint=(0.9, 0.05, 0.03, 0.02), se="0.9")
    with pytest.raises(InputError, match="one column per sample"):
        evaluate_multiplex("D2", "5", joint=np.full((4, 4), 0.25))


def test_a_wrong_number_of_stages_in_the_search_names_the_field_and_the_stages():
    for kw, field in (({"se": (0.95, 0.96)}, "se"), ({"sp2": (0.99,) * 4}, "sp2")):
        with pytest.raises(InputError) as err:
            optimize_multiplex((0.95, 0.02, 0.02, 0.01), **kw)
        assert err.value.parameter == field
        assert str(err.value).startswith(f"{field}: give one value for every stage or 3 values")
        assert "IT uses stage 1, D2 and A2 stages 1-2, D3 and A2M 1-3" in str(err.value)


def every_candidate(largest: int):
    yield Design.parse("IT", "1")
    for k in range(2, largest + 1):
        yield Design.parse("D2", str(k))
    for pool in range(3, largest + 1):
        for parts in partitions(pool, pool - 1):
            if parts[0] > 1:
                yield Design.parse("D3", f"{pool}:{','.join(map(str, parts))}")
    for rows in range(2, largest + 1):
        for cols in range(rows, largest + 1):
            yield Design.parse("A2", f"{rows}x{cols}")  # its largest pool: a row of cols
            if rows * cols <= largest:
                yield Design.parse("A2M", f"{rows}x{cols}")  # the master pool


def partitions(n: int, largest: int):
    if n == 0:
        yield ()
        return
    for first in range(min(n, largest), 0, -1):
        for rest in partitions(n - first, first):
            yield (first, *rest)


@pytest.mark.parametrize(
    ("joint", "min_se", "min_sp"),
    [((0.95, 0.02, 0.02, 0.01), 0.0, 0.0), ((0.9, 0.05, 0.03, 0.02), 0.885, 0.0),
     ((0.97, 0.01, 0.015, 0.005), 0.0, 0.9993), ((0.9, 0.05, 0.03, 0.02), 0.95, 0.0)],
)  # fmt: skip
def test_the_search_finds_what_trying_every_design_finds(joint, min_se, min_sp):
    """Every IT, D2, D3, A2 and A2M design up to pools of 9 evaluated one by one: the
    search's ranking is theirs, with limits on each disease's PSe or PSp that bind (or none
    meet)."""
    se = ((0.92, 0.95, 0.97), (0.9, 0.93, 0.96))
    sp = ((0.98, 0.99, 0.995), (0.97, 0.985, 0.99))
    cons = SearchConstraints(max_size=9, max_stages=3, min_sensitivity=min_se,
                             min_specificity=min_sp)  # fmt: skip
    got = optimize_multiplex(
        joint, se=se[0], sp=sp[0], se2=se[1], sp2=sp[1], constraints=cons, top=5
    )
    tried = []
    for d in every_candidate(9):
        n = d.nominal_stages
        oc = evaluate_multiplex(
            d, joint=joint, se=se[0][:n], sp=sp[0][:n], se2=se[1][:n], sp2=sp[1][:n]
        )
        if min(oc.sensitivity) >= min_se and min(oc.specificity) >= min_sp:
            tried.append(oc.expected_tests_per_sample)
    tried.sort()
    assert [oc.expected_tests_per_sample for oc in got.ranking] == pytest.approx(tried[:5])
    assert got.configurations_evaluated == sum(1 for _ in every_candidate(9))
    if not tried:
        assert got.best is None and "no IT/D2/D3/A2/A2M configuration" in got.notes[0]
    else:
        assert min(got.best.sensitivity) >= min_se and min(got.best.specificity) >= min_sp
