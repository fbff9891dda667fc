"""Analytic operating characteristics against closed forms and an exact brute-force oracle."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labopt.pooling import DilutionModel, evaluate
from tests import oracle

PERFECT = {"se": 1.0, "sp": 1.0}


def close(a, b, rel=1e-9):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


# ------------------------------------------------------------------ closed forms, perfect assay
def test_dorfman_closed_form_reference_value():
    oc = evaluate("D2", "10", prevalence=0.01, **PERFECT)
    assert oc.expected_tests_per_sample == pytest.approx(0.1956179, abs=5e-8)


@pytest.mark.parametrize("k", [2, 3, 5, 10, 17, 32, 100])
def test_dorfman_closed_form_over_grid(k):
    p = np.linspace(0, 0.5, 201)
    oc = evaluate("D2", str(k), prevalence=p, **PERFECT)
    np.testing.assert_allclose(oc.expected_tests_per_sample, 1 / k + 1 - (1 - p) ** k, rtol=1e-12)
    np.testing.assert_allclose(oc.sensitivity, 1.0)
    np.testing.assert_allclose(oc.specificity, 1.0)


@pytest.mark.parametrize("config", ["12:4,4,4", "9:3,3,3", "10:5,3,1,1", "30:10,10,5,5"])
def test_three_stage_closed_form(config):
    first, subs = config.split(":")
    I, parts = int(first), [int(x) for x in subs.split(",")]
    p = np.linspace(0, 0.3, 61)
    et = 1 + len(parts) * (1 - (1 - p) ** I) + sum(m * (1 - (1 - p) ** m) for m in parts if m > 1)
    oc = evaluate("D3", config, prevalence=p, **PERFECT)
    np.testing.assert_allclose(oc.expected_tests_per_sample, et / I, rtol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 12, 20])
def test_array_closed_forms(n):
    p = np.linspace(0, 0.3, 61)
    both = 1 - 2 * (1 - p) ** n + (1 - p) ** (2 * n - 1)  # row and column both hold a positive
    a2 = evaluate("A2", str(n), prevalence=p, **PERFECT)
    np.testing.assert_allclose(a2.expected_tests_per_sample, 2 / n + both, rtol=1e-11)
    a2m = evaluate("A2M", str(n), prevalence=p, **PERFECT)
    master = 1 / n**2 + (1 - (1 - p) ** (n * n)) * 2 / n + both
    np.testing.assert_allclose(a2m.expected_tests_per_sample, master, rtol=1e-11)
    for oc in (a2, a2m):
        np.testing.assert_allclose(oc.sensitivity, 1.0)
        np.testing.assert_allclose(oc.specificity, 1.0)


def test_individual_testing():
    oc = evaluate("IT", "1", prevalence=0.03, se=0.97, sp=0.995)
    assert oc.expected_tests_per_sample == 1
    assert oc.sensitivity == pytest.approx(0.97)
    assert oc.specificity == pytest.approx(0.995)
    assert oc.ppv == pytest.approx(0.03 * 0.97 / (0.03 * 0.97 + 0.97 * 0.005))


def test_entropy_floor_and_efficiency():
    from labopt.pooling import binary_entropy

    assert binary_entropy(0.01) == pytest.approx(0.0808, abs=1e-4)
    oc = evaluate("D2", "10", prevalence=0.01, **PERFECT)
    assert oc.efficiency == pytest.approx(binary_entropy(0.01) / 0.1956179, rel=1e-6)
    assert binary_entropy(0.0) == 0 and binary_entropy(1.0) == 0


# ------------------------------------------------------------------ exact oracle, imperfect assay
HIER_CASES = [
    ("IT", "1", [0.04]),
    ("D2", "2", [0.1, 0.1]),
    ("D2", "6", [0.05] * 6),
    ("D3", "6:3,2,1", [0.07] * 6),
    ("D3", "7:1,1,1,1,1,1,1", [0.03] * 7),
    ("D4", "8:4,3,1:2,2,2,1", [0.06] * 8),
    ("D4", "9:5,4:3,2,1,1,1,1", [0.02] * 9),
    ("ID2", "4,3,1", [0.01, 0.01, 0.02, 0.02, 0.05, 0.1, 0.1, 0.3]),
    ("ID2", "5", [0.001, 0.01, 0.02, 0.05, 0.2]),
    ("D3", "6:2,2,2", [0.01, 0.02, 0.03, 0.1, 0.2, 0.4]),  # heterogeneous, random pooling
]


def _stage_values(n, base, step):
    return [base - step * i for i in range(n)]


@pytest.mark.parametrize("algorithm,config,risks", HIER_CASES)
def test_hierarchical_matches_exact_enumeration(algorithm, config, risks):
    from labopt.pooling.designs import NOMINAL_STAGES

    n = NOMINAL_STAGES[algorithm]
    se, sp = _stage_values(n, 0.97, 0.02), _stage_values(n, 0.99, 0.015)
    got = evaluate(algorithm, config, risks=risks, se=se, sp=sp)
    want = oracle.hierarchical(algorithm, config, sorted(risks), se, sp)
    oracle.assert_agrees(got, want, rel=1e-10)


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("master", [False, True])
def test_arrays_match_exact_enumeration(n, master):
    se = [0.93, 0.96, 0.99][-(3 if master else 2) :]
    sp = [0.97, 0.95, 0.98][-(3 if master else 2) :]
    if master:
        sp = [0.95, 0.95, 0.98]  # binGroup2's A2M formula needs equal master and row/col Sp
    for p in (0.02, 0.15):
        got = evaluate("A2M" if master else "A2", str(n), prevalence=p, se=se, sp=sp)
        want = oracle.array(n, p, se, sp, master)
        oracle.assert_agrees(got, want, rel=1e-10)


def test_a2m_exact_model_differs_from_bingroup2_only_in_master_specificity_term():
    se, sp = [0.95, 0.95, 0.99], [0.90, 0.98, 0.99]  # master Sp differs from row/col Sp
    exact = evaluate("A2M", "3", prevalence=0.05, se=se, sp=sp)
    compat = evaluate("A2M", "3", prevalence=0.05, se=se, sp=sp, bingroup2_compat=True)
    want = oracle.array(3, 0.05, se, sp, master=True)
    assert close(exact.specificity, want.psp, 1e-10)
    # the difference shows in the false-positive rate 1 - PSp
    assert not close(1 - compat.specificity, 1 - want.psp, 1e-4)
    assert compat.expected_tests_per_sample == exact.expected_tests_per_sample
    assert compat.sensitivity == exact.sensitivity


@settings(max_examples=40, deadline=None)
@given(
    p=st.floats(0.0005, 0.4), se=st.floats(0.6, 1.0), sp=st.floats(0.6, 1.0), k=st.integers(2, 7)
)
def test_dorfman_random_inputs_match_oracle(p, se, sp, k):
    got = evaluate("D2", str(k), prevalence=p, se=se, sp=sp)
    want = oracle.hierarchical("D2", str(k), [p] * k, [se, se], [sp, sp])
    assert close(got.expected_tests_per_sample, want.et, 1e-10)
    assert close(got.specificity, want.psp, 1e-10)
    assert close(got.ppv, want.ppv, 1e-9)


def test_dilution_matches_oracle_with_size_dependent_sensitivity():
    model = DilutionModel()
    got = evaluate("D3", "8:4,3,1", prevalence=0.05, se=0.98, sp=0.99, dilution=model)
    want = oracle.hierarchical(
        "D3",
        "8:4,3,1",
        [0.05] * 8,
        [0.98] * 3,
        [0.99] * 3,
        dilution=lambda k: float(model.factor(k)) if k > 1 else 1.0,
    )
    assert close(got.expected_tests_per_sample, want.et, 1e-10)
    assert close(got.sensitivity, want.pse, 1e-10)
    got = evaluate("A2M", "3", prevalence=0.05, se=0.98, sp=0.99, dilution=model)
    want = oracle.array(
        3,
        0.05,
        [0.98] * 3,
        [0.99] * 3,
        True,
        dilution=lambda k: float(model.factor(k)) if k > 1 else 1.0,
    )
    assert close(got.expected_tests_per_sample, want.et, 1e-10)
    assert close(got.specificity, want.psp, 1e-10)


def test_grid_equals_pointwise():
    p = np.array([0.0, 1e-6, 0.003, 0.02, 0.2, 0.9])
    for alg, cfg in [
        ("D2", "7"),
        ("D3", "12:4,4,4"),
        ("D4", "16:8,8:4,4,4,4"),
        ("A2", "6"),
        ("A2M", "4"),
    ]:
        grid = evaluate(alg, cfg, prevalence=p, se=0.97, sp=0.99)
        for i, pi in enumerate(p):
            one = evaluate(alg, cfg, prevalence=float(pi), se=0.97, sp=0.99)
            assert one.expected_tests_per_sample == grid.expected_tests_per_sample[i]
            assert close(one.specificity, grid.specificity[i], 1e-15)


def test_dorfman_grid_kernel_agrees_with_tree_kernel():
    from labopt.pooling.grid import dorfman_grid

    p = np.geomspace(1e-5, 0.4, 500)
    g = dorfman_grid(p, kmax=40, se=[0.97, 0.99], sp=[0.98, 0.995])
    for k in (1, 2, 9, 40):
        if k == 1:
            oc = evaluate("IT", "1", prevalence=p, se=0.99, sp=0.995)
        else:
            oc = evaluate("D2", str(k), prevalence=p, se=[0.97, 0.99], sp=[0.98, 0.995])
        np.testing.assert_allclose(
            g.expected_tests_per_sample[:, k - 1], oc.expected_tests_per_sample, rtol=1e-9
        )
        np.testing.assert_allclose(g.specificity[:, k - 1], oc.specificity, rtol=1e-12)
        np.testing.assert_allclose(g.ppv[:, k - 1], oc.ppv, rtol=1e-9)
