"""Rectangular r x c arrays (A2, A2M): the closed forms against an exact enumeration, a
perfect assay's closed form and a simulation; configurations; the search over shapes."""

import math

import numpy as np
import pytest

from labopt.errors import InputError
from labopt.pooling import Design, DilutionModel, evaluate, optimize, simulate
from labopt.pooling.search import array_shapes
from tests import oracle


def close(a, b, rel=1e-10):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (2, 4), (2, 5)])
@pytest.mark.parametrize("master", [False, True])
def test_rectangles_match_exact_enumeration(shape, master):
    r, c = shape
    # every stage its own accuracy; A2M's master specificity differs from the rows'
    se = [0.93, 0.96, 0.99][-(3 if master else 2) :]
    sp = [0.90, 0.95, 0.98][-(3 if master else 2) :]
    alg = "A2M" if master else "A2"
    for p in (0.02, 0.15):
        got = evaluate(alg, f"{r}x{c}", prevalence=p, se=se, sp=sp)
        want = oracle.array(r, p, se, sp, master, cols=c)
        oracle.assert_agrees(got, want)


def test_rectangles_with_dilution_give_rows_and_columns_their_own_sensitivity():
    model = DilutionModel()
    factor = lambda k: float(model.factor(k)) if k > 1 else 1.0  # noqa: E731
    for alg, se, sp in (("A2", [0.98, 0.99], [0.99, 0.995]), ("A2M", [0.97] * 3, [0.99] * 3)):
        got = evaluate(alg, "2x5", prevalence=0.08, se=se, sp=sp, dilution=model)
        want = oracle.array(2, 0.08, se, sp, alg == "A2M", dilution=factor, cols=5)
        assert close(got.expected_tests_per_sample, want.et)
        assert close(got.sensitivity, want.pse)
        assert close(got.specificity, want.psp)


@pytest.mark.parametrize("shape", [(2, 7), (8, 12), (5, 30), (16, 24)])
def test_perfect_assay_closed_form(shape):
    # error-free: a sample is retested when its row and its column hold a positive
    r, c = shape
    p = np.linspace(0, 0.4, 41)
    oc = evaluate("A2", f"{r}x{c}", prevalence=p, se=1.0, sp=1.0)
    q = 1 - p
    want = 1 / r + 1 / c + 1 - q**c - q**r + q ** (r + c - 1)
    np.testing.assert_allclose(oc.expected_tests_per_sample, want, rtol=1e-12, atol=1e-15)
    # A2M: the master pool, then the rows and columns only when it holds a positive
    m = evaluate("A2M", f"{r}x{c}", prevalence=p, se=1.0, sp=1.0)
    np.testing.assert_allclose(
        m.expected_tests_per_sample,
        1 / (r * c) + want - q ** (r * c) * (1 / r + 1 / c),
        rtol=1e-11,
        atol=1e-15,
    )


@pytest.mark.parametrize("alg", ["A2", "A2M"])
def test_an_array_and_its_transpose_perform_alike(alg):
    model = DilutionModel()
    a = evaluate(alg, "8x12", prevalence=0.03, se=0.97, sp=0.99, dilution=model)
    b = evaluate(alg, "12x8", prevalence=0.03, se=0.97, sp=0.99, dilution=model)
    for name in ("expected_tests_per_sample", "sensitivity", "specificity"):
        assert close(getattr(a, name), getattr(b, name), 1e-12), name


@pytest.mark.parametrize("alg", ["A2", "A2M"])
def test_plate_shaped_array_agrees_with_simulation(alg):
    se = [0.95, 0.97] if alg == "A2" else [0.95, 0.96, 0.98]
    sp = [0.97, 0.98] if alg == "A2" else [0.96, 0.97, 0.99]
    oc = evaluate(alg, "8x12", prevalence=0.02, se=se, sp=sp)
    sim = simulate(alg, "8x12", prevalence=0.02, se=se, sp=sp, samples=600_000, seed=11)
    for est, exact in (
        (sim.expected_tests_per_sample, oc.expected_tests_per_sample),
        (sim.sensitivity, oc.sensitivity),
        (sim.specificity, oc.specificity),
    ):
        assert abs(est.value - exact) <= 4 * est.se, (est, exact)


def test_square_spelled_either_way_is_one_design():
    assert Design.parse("A2", "8x8") == Design.parse("A2", "8")
    assert Design.parse("A2", "8x8").config == "8"
    d = Design.parse("A2M", " 8 X 12 ")
    assert (d.rows, d.cols, d.config, str(d)) == (8, 12, "8x12", "A2M 8x12")
    assert Design.parse("A2", "8×12") == Design.parse("A2", "8x12")


def test_shape_gives_block_pools_and_first_stage():
    a2 = Design.parse("A2", "8x12")
    assert (a2.block_size, a2.largest_pool, a2.first_stage_reactions) == (96, 12, 20)
    a2m = Design.parse("A2M", "8x12")
    assert (a2m.block_size, a2m.largest_pool, a2m.first_stage_reactions) == (96, 96, 1)
    assert Design.parse("A2", "12x8").largest_pool == 12


@pytest.mark.parametrize(
    "config, words",
    [
        ("8x", "rows and columns"),
        ("x12", "rows and columns"),
        ("8x12x3", "rows and columns"),
        ("8,12", "rows and columns"),
        ("8x-2", "rows and columns"),
        ("8x1", "between 2 and 100"),
        ("1x12", "between 2 and 100"),
        ("8x101", "between 2 and 100"),
        ("²x3", "rows and columns"),
    ],
)
def test_bad_shapes_are_refused_by_name(config, words):
    with pytest.raises(InputError, match=words) as err:
        Design.parse("A2", config)
    assert err.value.parameter == "config"


def test_columns_belong_to_arrays_only():
    with pytest.raises(InputError, match="only arrays have columns"):
        Design("D2", 10, columns=12).validated()


@pytest.mark.parametrize("alg, max_size", [("A2", 9), ("A2M", 40)])
def test_search_finds_the_best_of_every_shape(alg, max_size):
    # brute force: every r x c within the largest pool, evaluated one by one
    for p in (0.005, 0.03, 0.12):
        best = min(
            (
                evaluate(alg, f"{r}x{c}", prevalence=p, se=0.98, sp=0.99)
                for r in range(2, 101)
                for c in range(2, 101)
                if (r * c if alg == "A2M" else max(r, c)) <= max_size
            ),
            key=lambda oc: oc.expected_tests_per_sample,
        )
        got = optimize(p, algorithm=alg, se=0.98, sp=0.99, max_size=max_size).best
        assert close(got.expected_tests_per_sample, best.expected_tests_per_sample, 1e-12)
        assert got.design.rows <= got.design.cols


def test_square_arrays_only_when_asked():
    res = optimize(0.01, algorithm="A2M", se=0.99, sp=0.99, max_size=96, square_arrays=True)
    assert all(oc.design.columns == 0 for oc in res.ranking)
    every = optimize(0.01, algorithm="A2M", se=0.99, sp=0.99, max_size=96)
    assert every.best.expected_tests_per_sample <= res.best.expected_tests_per_sample
    assert every.best.config == "5x6"  # beats the best square at this prevalence


def test_shapes_searched():
    rows, cols = array_shapes("A2", 1, 12)
    assert len(rows) == 11 * 12 // 2 and (rows <= cols).all() and cols.max() == 12
    rows, cols = array_shapes("A2M", 96, 96)
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == [
        (2, 48),
        (3, 32),
        (4, 24),
        (6, 16),
        (8, 12),
    ]


@pytest.mark.parametrize(
    "alg, config",
    [("A2", "9" * 5000), ("A2M", "8x" + "1" * 4400), ("D4", "h" + "7" * 5000), ("A2", "0" * 5000)],
)
def test_numbers_too_long_for_any_size_are_refused_by_name(alg, config):
    with pytest.raises(InputError) as err:
        Design.parse(alg, config)
    assert err.value.parameter == "config" and len(str(err.value)) < 300


@pytest.mark.parametrize("config", ["8x0", "8x00", "0x8", "1x0"])
def test_a_side_of_zero_is_refused_not_read_as_square(config):
    with pytest.raises(InputError, match="out of range"):
        Design.parse("A2", config)


def test_square_arrays_must_be_true_or_false():
    with pytest.raises(InputError, match="square_arrays"):
        optimize(0.01, algorithm="A2", square_arrays="no")
