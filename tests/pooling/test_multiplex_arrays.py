"""Arrays (A2, A2M, r x c) with a two-disease assay: the closed forms against an enumeration
of every state, a simulation of plate-sized arrays, and labopt's one-disease arrays."""

from __future__ import annotations

import numpy as np
import pytest

from labopt.errors import InputError
from labopt.pooling import evaluate
from labopt.pooling.multiplex import evaluate_multiplex
from tests import oracle

# [disease][stage]: the stages in testing order (A2M: master, rows and columns, individual)
SE = ((0.97, 0.95, 0.93), (0.9, 0.92, 0.91))
SP = ((0.99, 0.98, 0.96), (0.96, 0.97, 0.995))


def _accuracy(master: bool):
    first = 0 if master else 1
    se = [list(s[first:]) for s in SE]
    sp = [list(s[first:]) for s in SP]
    return se, sp


def _labopt(algorithm, config, joint, se, sp):
    return evaluate_multiplex(
        algorithm, config, joint=joint, se=se[0], sp=sp[0], se2=se[1], sp2=sp[1]
    )


@pytest.mark.parametrize("algorithm", ["A2", "A2M"])
@pytest.mark.parametrize(("rows", "cols"), [(2, 2), (2, 3), (3, 2)])
@pytest.mark.parametrize("joint", [(0.9, 0.04, 0.04, 0.02), (0.7, 0.05, 0.2, 0.05)])
def test_every_state_enumerated_gives_the_same_answer(algorithm, rows, cols, joint):
    """Every state of every sample of the array (4 ** 6 for 2 x 3) and every outcome of
    every test: ET and each disease's PSe and PSp, each disease and stage its own accuracy."""
    master = algorithm == "A2M"
    se, sp = _accuracy(master)
    got = _labopt(algorithm, f"{rows}x{cols}", joint, se, sp)
    # the oracle takes [stage][disease]
    want = oracle.multiplex_array(
        rows, cols, joint, [list(s) for s in zip(*se, strict=True)],
        [list(s) for s in zip(*sp, strict=True)], master,
    )  # fmt: skip
    assert got.expected_tests_per_sample == pytest.approx(want["et"], rel=1e-12)
    assert list(got.sensitivity) == pytest.approx(want["pse"], rel=1e-12)
    assert list(got.specificity) == pytest.approx(want["psp"], rel=1e-12)


@pytest.mark.parametrize("algorithm", ["A2", "A2M"])
@pytest.mark.parametrize(("rows", "cols"), [(2, 2), (3, 4), (8, 12), (12, 8), (20, 20), (37, 38)])
@pytest.mark.parametrize("absent", [0, 1])
def test_a_disease_nobody_has_and_no_false_alarm_leaves_the_one_disease_array(
    algorithm, rows, cols, absent
):
    """Nobody has one disease and its tests never give a false positive: the other disease's
    answer is labopt's one-disease A2 or A2M (itself held to binGroup2), to 1e-12."""
    q = 0.03
    joint = (1 - q, q, 0.0, 0.0) if absent == 1 else (1 - q, 0.0, q, 0.0)
    master = algorithm == "A2M"
    se, sp = _accuracy(master)
    sp[absent] = [1.0] * len(sp[absent])
    present = 1 - absent
    got = _labopt(algorithm, f"{rows}x{cols}", joint, se, sp)
    one = evaluate(algorithm, f"{rows}x{cols}", prevalence=q, se=se[present], sp=sp[present])
    assert got.expected_tests_per_sample == pytest.approx(one.expected_tests_per_sample, rel=1e-12)
    assert got.sensitivity[present] == pytest.approx(one.sensitivity, rel=1e-12)
    assert got.specificity[present] == pytest.approx(one.specificity, rel=1e-12)
    assert got.ppv[present] == pytest.approx(one.ppv, rel=1e-10)
    assert np.isnan(got.sensitivity[absent]) and got.specificity[absent] == 1.0


def test_an_array_and_its_transpose_perform_alike():
    se, sp = _accuracy(True)
    a = _labopt("A2M", "5x9", (0.9, 0.04, 0.04, 0.02), se, sp)
    b = _labopt("A2M", "9x5", (0.9, 0.04, 0.04, 0.02), se, sp)
    assert a.expected_tests_per_sample == pytest.approx(b.expected_tests_per_sample, rel=1e-12)
    assert list(a.sensitivity) == pytest.approx(list(b.sensitivity), rel=1e-12)


def _simulate(algorithm, rows, cols, joint, se, sp, arrays, rng):
    """Hou et al.'s AT/ATM run on ``arrays`` random arrays: per-array reactions, and per disease
    (called positive among those who have it, who have it, called negative among those who
    do not, who do not) per array."""
    master = algorithm == "A2M"
    states = rng.choice(4, size=(arrays, rows, cols), p=joint)
    has = [(states >> d) & 1 == 1 for d in range(2)]
    go = np.ones(arrays, dtype=bool)
    if master:
        go = np.zeros(arrays, dtype=bool)
        for d in range(2):
            dirty = has[d].any(axis=(1, 2))
            go |= rng.random(arrays) < np.where(dirty, se[d][0], 1 - sp[d][0])
    rc = 1 if master else 0
    tested = np.zeros((arrays, rows, cols), dtype=bool)
    for d in range(2):
        row_pos = rng.random((arrays, rows)) < np.where(
            has[d].any(axis=2), se[d][rc], 1 - sp[d][rc]
        )
        col_pos = rng.random((arrays, cols)) < np.where(
            has[d].any(axis=1), se[d][rc], 1 - sp[d][rc]
        )
        no_col = ~col_pos.any(axis=1)[:, None, None]
        no_row = ~row_pos.any(axis=1)[:, None, None]
        r, c = row_pos[:, :, None], col_pos[:, None, :]
        tested |= (r & c) | (r & no_col) | (c & no_row)
    tested &= go[:, None, None]
    reactions = (1 if master else 0) + go * (rows + cols) + tested.sum(axis=(1, 2))
    per_disease = []
    for d in range(2):
        own = rng.random((arrays, rows, cols)) < np.where(has[d], se[d][-1], 1 - sp[d][-1])
        called = tested & own
        per_disease.append(
            (
                (called & has[d]).sum(axis=(1, 2)),
                has[d].sum(axis=(1, 2)),
                (~called & ~has[d]).sum(axis=(1, 2)),
                (~has[d]).sum(axis=(1, 2)),
            )
        )
    return reactions, per_disease


def _ratio(a, b):
    """A ratio of sums over arrays and its standard error (arrays are the independent units)."""
    r = a.sum() / b.sum()
    return r, np.sqrt(((a - r * b) ** 2).sum()) / b.sum()


@pytest.mark.parametrize("algorithm", ["A2", "A2M"])
def test_a_simulation_of_a_plate_agrees_within_four_standard_errors(algorithm):
    """8 x 12 arrays (a 96-well plate) at a prevalence where most arrays hold a positive."""
    joint = (0.96, 0.02, 0.012, 0.008)
    se, sp = _accuracy(algorithm == "A2M")
    got = _labopt(algorithm, "8x12", joint, se, sp)
    reactions, per_disease = _simulate(
        algorithm, 8, 12, joint, se, sp, 20_000, np.random.default_rng(7)
    )
    et = reactions / 96
    assert abs(et.mean() - got.expected_tests_per_sample) < 4 * et.std() / np.sqrt(et.size)
    for d, (tp, pos, tn, neg) in enumerate(per_disease):
        pse, pse_err = _ratio(tp, pos)
        psp, psp_err = _ratio(tn, neg)
        assert abs(pse - got.sensitivity[d]) < 4 * pse_err, (d, pse, got.sensitivity[d])
        assert abs(psp - got.specificity[d]) < 4 * psp_err, (d, psp, got.specificity[d])


def test_an_array_takes_every_sample_alike():
    joint = np.tile(np.array([[0.9], [0.05], [0.03], [0.02]]), (1, 6))
    same = evaluate_multiplex("A2", "2x3", joint=joint)
    assert same.expected_tests_per_sample == pytest.approx(
        evaluate_multiplex("A2", "2x3", joint=(0.9, 0.05, 0.03, 0.02)).expected_tests_per_sample
    )
    joint[:, 0] = (0.8, 0.1, 0.05, 0.05)
    with pytest.raises(InputError, match="every sample alike"):
        evaluate_multiplex("A2", "2x3", joint=joint)
    with pytest.raises(InputError, match="se"):  # A2M has three stages
        evaluate_multiplex("A2M", "4", joint=(0.9, 0.05, 0.03, 0.02), se=(0.9, 0.95))
