"""End to end: simulated true statuses -> manifest -> simulated assay -> decode, run by run.

With a perfect assay every final status equals the truth, and the reactions used match the
engine's expected tests per sample within sampling error. With an imperfect assay the observed
sensitivity and specificity match the engine's PSe and PSp within sampling error. Sampling
errors are those of ratio estimators over independent blocks (samples of a block share tests);
the tolerance is 4 standard errors, and a test below shows that a 3 % error is caught.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labopt.lab import PlateSpec, make_manifest, run_lab
from labopt.lab.decode import CLEARED, DETECTED
from labopt.lab.simulate import assay_accuracy
from labopt.pooling import evaluate
from labopt.pooling.designs import INFORMATIVE, NOMINAL_STAGES
from labopt.pooling.opchar import pool_accuracy, stage_accuracy

ID2_RISKS = np.array([0.002] * 10 + [0.01] * 6 + [0.08] * 3 + [0.3])  # one block of 20
CASES = [
    ("D2", "10"),
    ("D3", "12:4,4,4"),
    ("D4", "16:8,8:4,4,4,4"),
    ("D5", "16:8,8:4,4,4,4:2,2,2,2,2,2,2,2"),
    ("A2", "8"),
    ("A2", "8x12"),
    ("A2M", "5"),
    ("A2M", "4x6"),
    ("ID2", "10,6,3,1"),
    ("ID3", "10,6,3,1:5,5,3,3,2,1"),
    ("ID4", "10,6,3,1:5,5,3,3,2,1:2,3,2,3,1,1,1,1,1,1,1,1"),
    ("IA2", "4x5"),
    ("IA2", "4x5:spiral"),
]
P = 0.02


def ratio_z(y_block, x_block, expected):
    """z of sum(y)/sum(x) against ``expected``, with the linearised standard error."""
    y, x = np.asarray(y_block, float), np.asarray(x_block, float)
    r = y.sum() / x.sum()
    b = y.size
    se = np.sqrt(((y - r * x) ** 2).sum() * b / (b - 1)) / x.sum()
    return (r - expected) / se, r, se


def lab_day(algorithm, config, samples, seed, se=1.0, sp=1.0, invalid_rate=0.0):
    """Truth, manifest and the finished batch for one simulated day."""
    rng = np.random.default_rng(seed)
    if algorithm in INFORMATIVE:
        blocks = -(-samples // ID2_RISKS.size)
        risk = np.tile(ID2_RISKS, blocks)
        df = pd.DataFrame({"sample_id": np.arange(risk.size).astype(str), "risk": risk})
    else:
        df = pd.DataFrame({"sample_id": np.arange(samples).astype(str)})
    m = make_manifest(df, algorithm, config)
    if algorithm in INFORMATIVE:
        truth = rng.random(m.n_samples) < m.samples["risk"].to_numpy()
    else:
        truth = rng.random(m.n_samples) < P
    batch = run_lab(m, truth, se=se, sp=sp, seed=seed + 1, invalid_rate=invalid_rate)
    return m, truth, batch


def analytic(algorithm, config, se, sp):
    kw = {"risks": ID2_RISKS} if algorithm in INFORMATIVE else {"prevalence": P}
    return evaluate(algorithm, config, se=se, sp=sp, **kw)


def per_block(m, values):
    return np.bincount(m.samples["block"].to_numpy() - 1, weights=values)


def reactions_per_block(m, batch):
    return np.bincount(m.block - 1, weights=batch.reactions)


@pytest.mark.parametrize("algorithm,config", CASES)
def test_perfect_assay_finds_the_truth_with_the_expected_reactions(algorithm, config):
    m, truth, batch = lab_day(algorithm, config, 200_000, seed=11)
    dec = batch.decoding
    assert dec.complete
    np.testing.assert_array_equal(dec.status == DETECTED, truth)
    np.testing.assert_array_equal(dec.status == CLEARED, ~truth)
    assert batch.runs <= m.design.stages
    oc = analytic(algorithm, config, 1.0, 1.0)
    bs = m.design.block_size
    z, per_sample, se = ratio_z(
        reactions_per_block(m, batch), np.full(m.block.max(), bs), oc.expected_tests_per_sample
    )
    assert abs(z) < 4, (per_sample, oc.expected_tests_per_sample, se)
    assert 0 < se < 0.01


@pytest.mark.parametrize("algorithm,config", CASES)
def test_imperfect_assay_matches_pooling_sensitivity_and_specificity(algorithm, config):
    n = NOMINAL_STAGES[algorithm]
    se = [0.95 + 0.01 * i for i in range(n)]  # stage-dependent accuracy
    sp = [0.97 + 0.005 * i for i in range(n)]
    if algorithm == "A2M":
        sp = [0.98, 0.98, 0.99]  # master = row/column Sp: binGroup2's and the model agree
    m, truth, batch = lab_day(algorithm, config, 300_000, seed=21, se=se, sp=sp)
    dec = batch.decoding
    assert dec.complete
    oc = analytic(algorithm, config, se, sp)
    detected = dec.status == DETECTED
    z_se, obs_se, _ = ratio_z(per_block(m, detected & truth), per_block(m, truth), oc.sensitivity)
    z_sp, obs_sp, _ = ratio_z(
        per_block(m, ~detected & ~truth), per_block(m, ~truth), oc.specificity
    )
    z_et, _, _ = ratio_z(
        reactions_per_block(m, batch),
        np.full(m.block.max(), m.design.block_size),
        oc.expected_tests_per_sample,
    )
    assert abs(z_se) < 4, (obs_se, oc.sensitivity)
    assert abs(z_sp) < 4, (obs_sp, oc.specificity)
    assert abs(z_et) < 4


def test_the_z_tests_catch_a_three_percent_error():
    """Guard against tests that always pass: PSe, PSp or ET off by 3 % fails them."""
    se, sp = 0.95, 0.98
    m, truth, batch = lab_day("D3", "12:4,4,4", 600_000, seed=31, se=se, sp=sp)
    oc = analytic("D3", "12:4,4,4", se, sp)
    detected = batch.decoding.status == DETECTED
    blocks = np.full(m.block.max(), 12)
    for wrong in (0.97, 1.03):
        z_se, _, _ = ratio_z(
            per_block(m, detected & truth), per_block(m, truth), oc.sensitivity * wrong
        )
        z_sp, _, _ = ratio_z(
            per_block(m, ~detected & ~truth), per_block(m, ~truth), oc.specificity * wrong
        )
        z_et, _, _ = ratio_z(
            reactions_per_block(m, batch), blocks, oc.expected_tests_per_sample * wrong
        )
        assert min(abs(z_se), abs(z_sp), abs(z_et)) > 4, (z_se, z_sp, z_et)


def test_invalid_reactions_are_repeated_until_everyone_is_decided():
    q = 0.05
    m, truth, batch = lab_day("D2", "10", 100_000, seed=41, invalid_rate=q)
    dec = batch.decoding
    np.testing.assert_array_equal(dec.status == DETECTED, truth)
    oc = analytic("D2", "10", 1.0, 1.0)
    z, _, _ = ratio_z(
        reactions_per_block(m, batch),
        np.full(m.block.max(), 10),
        oc.expected_tests_per_sample / (1 - q),
    )  # geometric repeats
    assert abs(z) < 4
    assert (batch.log_frame()["result"] == "invalid").sum() > 0


def test_results_entered_per_well_with_controls_give_the_same_decoding():
    m, truth, _by_pool = lab_day("A2M", "4", 5_000, seed=51, se=0.97, sp=0.98)
    by_well = run_lab(
        m, truth, se=0.97, sp=0.98, seed=52, per="well", spec=PlateSpec(384, positive=2)
    )
    assert by_well.decoding.complete
    # same seed stream, same reactions: the decodings agree sample by sample
    again = run_lab(m, truth, se=0.97, sp=0.98, seed=52, per="pool")
    np.testing.assert_array_equal(by_well.decoding.status, again.decoding.status)


def test_simulated_lab_uses_the_engines_accuracy_per_pool():
    d = make_manifest(
        pd.DataFrame({"sample_id": np.arange(40).astype(str), "risk": np.linspace(0, 0.3, 40)}),
        "ID2",
        "10,6,3,1",
    )
    se, sp = [0.9, 0.97], [0.95, 0.99]
    got_se, got_sp = assay_accuracy(d, se, sp)
    se_v, sp_v = stage_accuracy(d.design, se, sp)
    _, se_node, sp_node = pool_accuracy(d.design, se_v, sp_v, None)
    np.testing.assert_array_equal(got_se, np.tile(se_node, 2))
    np.testing.assert_array_equal(got_sp, np.tile(sp_node, 2))
    assert got_se[3] == 0.97  # ID2's single-sample pool: individual accuracy


@settings(max_examples=30, deadline=None)
@given(
    design=st.sampled_from(
        [
            ("IT", "1"),
            ("D2", "5"),
            ("D3", "9:3,3,2,1"),
            ("D4", "8:4,4:2,2,2,2"),
            ("D5", "8:5,3:3,2,2,1:2,1,1,1,1,1"),
            ("A2", "3"),
            ("A2", "3x5"),
            ("A2M", "4"),
            ("A2M", "2x6"),
            ("IA2", "3x4"),
            ("IA2", "3x4:spiral"),
            ("ID2", "4,2,1"),
            ("ID4", "4,2,1:2,2,1,1:1,1,1,1"),
        ]
    ),
    n=st.integers(1, 150),
    p=st.sampled_from([0.0, 0.05, 0.3, 1.0]),
    invalid=st.sampled_from([0.0, 0.2]),
    seed=st.integers(0, 2**31),
)
def test_any_batch_is_decoded_exactly_with_a_perfect_assay(design, n, p, invalid, seed):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(n)],
            "risk": rng.random(n),
            "district": rng.choice(["a", "b"], n),
        }
    )
    m = make_manifest(df, *design)
    truth = rng.random(n) < p
    batch = run_lab(m, truth, se=1, sp=1, seed=seed, invalid_rate=invalid)
    dec = batch.decoding
    np.testing.assert_array_equal(dec.status == DETECTED, truth)
    assert dec.complete and dec.to_run.size == 0
