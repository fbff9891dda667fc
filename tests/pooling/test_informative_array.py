"""Informative array testing (IA2): an array of samples placed by risk in binGroup2's gradient
arrangement. The arrangement, the operating characteristics against an exact enumeration and
the homogeneous A2, the search and bad input."""

import math

import numpy as np
import pytest

from labopt.errors import InputError
from labopt.pooling import DilutionModel, evaluate, optimize
from labopt.pooling.informative_array import gradient
from tests import oracle


def close(a, b, rel=1e-10):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


def test_gradient_fills_columns_with_decreasing_risks():
    # binGroup2: matrix(sort(p, decreasing = TRUE), nrow = 3, ncol = 4, byrow = FALSE)
    risks = np.random.default_rng(0).permutation(np.arange(1, 13) / 100)
    want = np.array([[12, 9, 6, 3], [11, 8, 5, 2], [10, 7, 4, 1]]) / 100
    np.testing.assert_array_equal(gradient(risks, 3, 4), want)


def _by_hand(risks, rows, cols):
    """The gradient arrangement written out: k-th highest risk at row k % rows, column
    k // rows; returned row by row."""
    ranked = sorted(risks, reverse=True)
    grid = [[0.0] * cols for _ in range(rows)]
    for k, v in enumerate(ranked):
        grid[k % rows][k // rows] = v
    return [v for row in grid for v in row]


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (3, 3), (2, 4)])
def test_ia2_matches_exact_enumeration(shape):
    r, c = shape
    risks = np.random.default_rng(r * 10 + c).uniform(0.01, 0.4, r * c)
    se, sp = [0.94, 0.99], [0.96, 0.985]
    got = evaluate("IA2", f"{r}x{c}", risks=risks, se=se, sp=sp)
    want = oracle.array(r, _by_hand(risks, r, c), se, sp, master=False, cols=c)
    oracle.assert_agrees(got, want)


def test_ia2_with_dilution_matches_exact_enumeration():
    model = DilutionModel()
    factor = lambda k: float(model.factor(k)) if k > 1 else 1.0  # noqa: E731
    risks = [0.3, 0.01, 0.05, 0.2, 0.02, 0.1, 0.04, 0.001]
    got = evaluate("IA2", "2x4", risks=risks, se=0.97, sp=0.99, dilution=model)
    want = oracle.array(2, _by_hand(risks, 2, 4), [0.97] * 2, [0.99] * 2, False, factor, cols=4)
    assert close(got.expected_tests_per_sample, want.et)
    assert close(got.sensitivity, want.pse)
    assert close(got.specificity, want.psp)


@pytest.mark.parametrize("shape", ["8x12", "12x8", "5", "2x30"])
def test_ia2_with_equal_risks_is_a2(shape):
    a = evaluate("A2", shape, prevalence=0.03, se=[0.95, 0.98], sp=[0.97, 0.99])
    b = evaluate("IA2", shape, risks=[0.03] * a.design.block_size, se=[0.95, 0.98],
                 sp=[0.97, 0.99])  # fmt: skip
    for name in ("expected_tests_per_sample", "sensitivity", "specificity"):
        assert close(getattr(a, name), getattr(b, name), 1e-12), name


def test_ia2_search_tries_every_array_that_holds_the_batch():
    risks = np.random.default_rng(1).beta(0.2, 8, 48)
    res = optimize(risks=risks, algorithm="IA2", max_size=24, top=10)
    shapes = {oc.config for oc in res.ranking}
    assert shapes == {"2x24", "3x16", "4x12", "6x8"}
    best = min(evaluate("IA2", s, risks=risks).expected_tests_per_sample for s in sorted(shapes))
    assert close(res.best.expected_tests_per_sample, best, 1e-12)
    # placing by risk never costs more here than placing at random would on average
    a2 = evaluate("A2", res.best.config, prevalence=float(risks.mean()))
    assert res.best.expected_tests_per_sample < a2.expected_tests_per_sample


def test_risks_for_a2_point_to_ia2():
    with pytest.raises(InputError, match="use IA2"):
        evaluate("A2", "3x4", risks=[0.01] * 12)
    with pytest.raises(InputError, match="12 samples per block; got 10"):
        evaluate("IA2", "3x4", risks=[0.01] * 10)
    with pytest.raises(InputError, match=r"IA2 .* needs the individual risks"):
        optimize(0.01, algorithm="IA2")
