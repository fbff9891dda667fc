"""The Monte Carlo simulator agrees with the analytic values, and is reproducible."""

import pytest

from labopt.pooling import DilutionModel, evaluate, simulate

CASES = [
    ("IT", "1", {"prevalence": 0.05}),
    ("D2", "10", {"prevalence": 0.02}),
    ("D3", "12:4,4,4", {"prevalence": 0.02}),
    ("D3", "10:5,3,1,1", {"prevalence": 0.08}),
    ("D4", "16:8,8:4,4,4,4", {"prevalence": 0.01}),
    ("A2", "8", {"prevalence": 0.02}),
    ("A2M", "5", {"prevalence": 0.01}),
    ("ID2", "10,6,3,1", {"risks": [0.002] * 10 + [0.01] * 6 + [0.08] * 3 + [0.3]}),
]


@pytest.mark.parametrize("algorithm,config,where", CASES)
@pytest.mark.parametrize("dilution", [None, DilutionModel()], ids=["plain", "dilution"])
def test_simulation_within_four_standard_errors(algorithm, config, where, dilution):
    from labopt.pooling.designs import NOMINAL_STAGES

    n = NOMINAL_STAGES[algorithm]
    se = [0.95 + 0.01 * i for i in range(n)]  # stage-dependent accuracy
    sp = [0.97 + 0.005 * i for i in range(n)]
    if algorithm == "A2M":
        sp = [0.98, 0.98, 0.99]  # see bingroup2_compat: master = row/col Sp
    oc = evaluate(algorithm, config, se=se, sp=sp, dilution=dilution, **where)
    sim = simulate(
        algorithm, config, se=se, sp=sp, dilution=dilution, samples=3_000_000, seed=12345, **where
    )
    z = sim.z_scores(oc)
    assert all(abs(v) < 4 for v in z.values()), z
    # the standard errors are real: small but not zero
    if algorithm != "IT":  # IT always costs exactly one test
        assert 0 < sim.expected_tests_per_sample.se < 0.01
    assert 0 < sim.sensitivity.se < 0.05


def test_simulation_detects_a_wrong_value():
    """Guard against a z-test that always passes: a 3 % error in ET is flagged."""
    oc = evaluate("D2", "10", prevalence=0.02, se=0.97, sp=0.99)
    sim = simulate("D2", "10", prevalence=0.02, se=0.97, sp=0.99, samples=3_000_000, seed=7)
    assert abs(sim.expected_tests_per_sample.z(oc.expected_tests_per_sample * 1.03)) > 4


def test_same_seed_same_result_other_seed_differs():
    a = simulate("D3", "12:4,4,4", prevalence=0.03, samples=200_000, seed=99)
    b = simulate("D3", "12:4,4,4", prevalence=0.03, samples=200_000, seed=99)
    c = simulate("D3", "12:4,4,4", prevalence=0.03, samples=200_000, seed=100)
    assert a == b
    assert a.expected_tests_per_sample != c.expected_tests_per_sample


def test_sample_count_rounds_up_to_whole_blocks():
    sim = simulate("A2", "8", prevalence=0.01, samples=1000, seed=1)
    assert sim.samples == 1024 and sim.blocks == 16


def test_perfect_assay_has_perfect_accuracy_in_simulation():
    sim = simulate("D3", "9:3,3,3", prevalence=0.1, se=1, sp=1, samples=100_000, seed=3)
    assert sim.sensitivity.value == 1.0 and sim.specificity.value == 1.0
    assert sim.ppv.value == 1.0 and sim.npv.value == 1.0
