"""Informative array testing (IA2): an array of samples placed by risk in binGroup2's gradient
or spiral arrangement. The arrangements, the operating characteristics against an exact
enumeration and the homogeneous A2, the manifest, the search and bad input."""

import math

import numpy as np
import pandas as pd
import pytest

from labopt.errors import InputError
from labopt.lab import make_manifest
from labopt.pooling import DilutionModel, evaluate, optimize
from labopt.pooling.informative_array import arrange
from tests import oracle


def close(a, b, rel=1e-10):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


def test_gradient_fills_columns_with_decreasing_risks():
    # binGroup2: matrix(sort(p, decreasing = TRUE), nrow = 3, ncol = 4, byrow = FALSE)
    risks = np.random.default_rng(0).permutation(np.arange(1, 13) / 100)
    want = np.array([[12, 9, 6, 3], [11, 8, 5, 2], [10, 7, 4, 1]]) / 100
    np.testing.assert_array_equal(arrange(risks, 3, 4), want)


def _by_hand(risks, rows, cols):
    """The gradient arrangement written out: k-th highest risk at row k % rows, column
    k // rows; returned row by row."""
    ranked = sorted(risks, reverse=True)
    grid = [[0.0] * cols for _ in range(rows)]
    for k, v in enumerate(ranked):
        grid[k % rows][k // rows] = v
    return [v for row in grid for v in row]


def _spiral_by_hand(risks, rows, cols):
    """binGroup2's ``informativeArrayProb(method = "sd")`` step by step on the values: the two
    highest down the first column, the next two ascending down the second, then in turn a row
    (the next values, in decreasing order) and a column (the next values, ascending); returned
    row by row."""
    rest = sorted(risks, reverse=True)
    take = lambda k: [rest.pop(0) for _ in range(k)]  # noqa: E731
    grid = [[v] for v in take(2)]
    for row, v in zip(grid, sorted(take(2)), strict=True):
        row.append(v)
    while len(grid) < rows or len(grid[0]) < cols:
        if len(grid) < rows:
            grid.append(take(len(grid[0])))
        if len(grid[0]) < cols:
            for row, v in zip(grid, sorted(take(len(grid))), strict=True):
                row.append(v)
    return [v for row in grid for v in row]


def test_spiral_gathers_the_highest_risks_in_a_corner():
    risks = np.random.default_rng(3).permutation(np.arange(1, 26) / 100)
    want = np.array(
        [
            [25, 22, 17, 10, 1],
            [24, 23, 18, 11, 2],
            [21, 20, 19, 12, 3],
            [16, 15, 14, 13, 4],
            [9, 8, 7, 6, 5],
        ]
    )
    np.testing.assert_array_equal(arrange(risks, 5, 5, spiral=True), want / 100)


@pytest.mark.parametrize("shape", [(2, 2), (2, 7), (7, 2), (3, 8), (8, 3), (8, 12), (12, 8)])
def test_spiral_matches_the_step_by_step_construction(shape):
    r, c = shape
    risks = np.random.default_rng(r * 100 + c).uniform(0, 0.3, r * c)
    got = arrange(risks, r, c, spiral=True)
    np.testing.assert_array_equal(got.ravel(), _spiral_by_hand(list(risks), r, c))
    np.testing.assert_array_equal(np.sort(got.ravel()), np.sort(risks))


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (3, 3), (2, 4)])
@pytest.mark.parametrize("spiral", [False, True])
def test_ia2_matches_exact_enumeration(shape, spiral):
    r, c = shape
    risks = np.random.default_rng(r * 10 + c).uniform(0.01, 0.4, r * c)
    se, sp = [0.94, 0.99], [0.96, 0.985]
    got = evaluate("IA2", f"{r}x{c}" + (":spiral" if spiral else ""), risks=risks, se=se, sp=sp)
    placed = (_spiral_by_hand if spiral else _by_hand)(list(risks), r, c)
    want = oracle.array(r, placed, se, sp, master=False, cols=c)
    oracle.assert_agrees(got, want)


def test_the_arrangement_changes_the_result_and_is_named():
    risks = np.random.default_rng(1).beta(0.2, 8, 48)
    gd = evaluate("IA2", "6x8", risks=risks)
    sd = evaluate("IA2", "6x8 : Spiral", risks=risks)
    assert (gd.config, sd.config) == ("6x8", "6x8:spiral")
    assert evaluate("IA2", "6x8:gradient", risks=risks).config == "6x8"
    assert not close(gd.expected_tests_per_sample, sd.expected_tests_per_sample, 1e-6)
    assert evaluate("IA2", "6:spiral", risks=risks[:36]).config == "6:spiral"


def test_the_manifest_places_samples_as_the_arrangement_does():
    risks = np.random.default_rng(5).permutation(np.arange(1, 13) / 100)
    df = pd.DataFrame({"sample_id": [f"s{i}" for i in range(12)], "risk": risks})
    for config, spiral in (("3x4", False), ("3x4:spiral", True)):
        m = make_manifest(df, "IA2", config)
        cells = m.samples.sort_values(["row", "column"])
        grid = cells["risk"].to_numpy().reshape(3, 4)
        np.testing.assert_array_equal(grid, arrange(risks, 3, 4, spiral))


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
    res = optimize(risks=risks, algorithm="IA2", max_size=24, top=20)
    shapes = {oc.config for oc in res.ranking}
    grids = {"2x24", "3x16", "4x12", "6x8", "24x2", "16x3", "12x4", "8x6"}
    assert shapes == grids | {f"{g}:spiral" for g in grids}
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


@pytest.mark.parametrize(
    "algorithm,config,match",
    [
        ("IA2", "3x4:spiralx", "IA2's arrangement is one of gradient, spiral"),
        ("IA2", "3x4:", "IA2's arrangement is one of gradient, spiral"),
        ("IA2", "3x4:2", "IA2's arrangement is one of gradient, spiral"),
        ("A2", "3x4:spiral", "only IA2 takes an arrangement"),
        ("A2M", "4:spiral", "only IA2 takes an arrangement"),
    ],
)
def test_a_bad_arrangement_is_named(algorithm, config, match):
    kw = {"risks": [0.01] * 12} if algorithm == "IA2" else {"prevalence": 0.01}
    with pytest.raises(InputError, match=match):
        evaluate(algorithm, config, **kw)


def test_an_array_on_its_side_is_another_design_and_is_searched():
    # the gradient fills columns: 5 rows put the five highest risks in one column, 4 rows
    # cannot; the search tries both ways round
    risks = [0.05] * 10 + [0.01] * 10
    tall = evaluate("IA2", "5x4", risks=risks).expected_tests_per_sample
    wide = evaluate("IA2", "4x5", risks=risks).expected_tests_per_sample
    assert tall < wide
    best = optimize(risks=risks, algorithm="IA2", max_size=5).best
    assert best.expected_tests_per_sample <= tall + 1e-15
    assert best.design.largest_pool == 5


def test_a_batch_no_array_holds_is_said():
    res = optimize(risks=[0.01] * 7, algorithm="IA2")
    assert res.best is None
    assert [n.key for n in res.notes] == ["ia2_no_array", "infeasible"]
    assert "7 samples" in res.notes[0]
    assert optimize(risks=[0.01] * 7).notes == []  # other families hold it: nothing to say
