"""Risk-based screening: the R packages' documented examples, the fewest pools against brute
force, detection by simulation, and bad groups refused naming the group."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from labopt.errors import InputError
from labopt.screening import size_for_detection
from labopt.screening.risk import (
    RiskGroup,
    adjusted_risks,
    allocate_for_detection,
    detection_of,
    effective_prevalence,
    n_risk_based,
    sep_risk_based,
    sep_risk_based_hypergeometric,
)


# --------------------------------------------------------------------------- R's examples
def test_adjusted_risks_as_epir_documents():
    # epiR rsu.adjrisk, examples 1 and 2: "3.6 and 0.7", "3.1, 1.9 and 0.6"
    assert np.round(adjusted_risks([5, 1], [0.10, 0.90]), 1).tolist() == [3.6, 0.7]
    assert np.round(adjusted_risks([5, 3, 1], [0.10, 0.10, 0.80]), 1).tolist() == [3.1, 1.9, 0.6]
    # the EPI is p* times it: the population's mean infection is p* again
    epi = effective_prevalence(0.02, [5, 3, 1], [0.1, 0.1, 0.8])
    assert float(np.dot(epi, [0.1, 0.1, 0.8])) == pytest.approx(0.02, rel=1e-12)


def test_sample_size_with_planned_proportions_as_epir_documents():
    # epiR rsu.sssep.rbsrg, example 1 (and RSurveillance n.rb's first example, same values):
    # "A total of 14 units ... 7 from the high risk area, 5 from the medium ... and 2 from
    # the low risk area."
    assert n_risk_based(0.95, 0.10, [5, 3, 1], [0.1, 0.1, 0.8], [0.5, 0.3, 0.2], 0.90) == (
        [7, 5, 2],
        14,
    )


def test_n_rb_second_example_by_hand():
    # RSurveillance n.rb(0.01, c(5, 1), c(0.1, 0.9), c(0.8, 0.2), c(0.9, 0.95), 0.95), by hand:
    # EPI = 0.01 (5, 1) / 1.4; a sample finds infection with 0.8*0.9*EPI1 + 0.2*0.95*EPI2
    hit = 0.8 * 0.9 * 0.05 / 1.4 + 0.2 * 0.95 * 0.01 / 1.4
    total = math.ceil(math.log(0.05) / math.log(1 - hit))
    assert total == 110
    assert n_risk_based(0.95, 0.01, [5, 1], [0.1, 0.9], [0.8, 0.2], [0.9, 0.95]) == (
        [88, 22],
        110,
    )


def test_system_sensitivity_as_epir_documents():
    # epiR rsu.sep.rb1rf example 1: binomial, "0.94"; example 2: hypergeometric, "0.96"
    binom = sep_risk_based(0.10, [5, 3, 1], [0.1, 0.1, 0.8], [5, 5, 5], 0.90)
    assert round(binom, 2) == 0.94
    hyper = sep_risk_based_hypergeometric(0.10, [5, 3, 1], [10, 10, 80], [5, 5, 5], 0.90)
    assert round(hyper, 2) == 0.96
    # by hand: 1 - prod (1 - Se EPI_i)^n_i with EPI = 0.1 (5, 3, 1) / 1.6
    by_hand = 1 - np.prod((1 - 0.9 * 0.1 * np.array([5, 3, 1]) / 1.6) ** 5)
    assert binom == pytest.approx(by_hand, rel=1e-12)


def test_n_rb_asks_at_least_what_the_per_group_count_needs():
    # the mix formula is conservative: its allocation reaches the target counted per group
    n, _ = n_risk_based(0.95, 0.01, [5, 1], [0.1, 0.9], [0.8, 0.2], 0.9)
    assert sep_risk_based(0.01, [5, 1], [0.1, 0.9], n, 0.9) >= 0.95


# --------------------------------------------------------------------------- the fewest pools
def _brute(groups, target, p, k, se, sp, spec):
    """The fewest pools over every allocation of samples to the groups (pools within groups,
    the last of a group what is left), with the cut-off that keeps the specificity."""
    caps = [g.available for g in groups]
    best = None
    for n in itertools.product(*[range(c + 1) for c in caps]):
        if any(x < g.at_least for x, g in zip(n, groups, strict=True)):
            continue
        pools = sum(-(-x // k) for x in n)
        if pools == 0 or (best is not None and pools >= best):
            continue
        cut = 1 if sp == 1 else _cut(pools, spec, 1 - sp)
        if detection_of(groups, n, p, pool_size=k, se=se, sp=sp, cutoff=cut)[0] >= target:
            best = pools
    return best


def _cut(pools, spec, fa):
    return int(stats.binom.ppf(spec, pools, fa)) + 1


@pytest.mark.parametrize(
    ("k", "sp", "target"),
    [(1, 1.0, 0.9), (3, 1.0, 0.85), (2, 0.97, 0.45), (3, 0.99, 0.85), (1, 0.98, 0.7)],
)
def test_the_fewest_pools_against_every_allocation(k, sp, target):
    groups = [
        RiskGroup("market", 6, 0.05, 7),
        RiskGroup("factory", 3, 0.15, 8),
        RiskGroup("rest", 1, 0.80, 9),
    ]
    p, se, spec = 0.05, 0.95, 0.95
    got = allocate_for_detection(
        groups, target, p, pool_size=k, se=se, sp=sp, target_specificity=spec
    )
    assert got.pools == _brute(groups, target, p, k, se, sp, spec)
    assert got.population_sensitivity >= target
    assert got.population_specificity >= spec
    assert all(g.samples <= c for g, c in zip(got.groups, [7, 8, 9], strict=True))
    sens, spec_got = detection_of(
        groups,
        [g.samples for g in got.groups],
        p,
        pool_size=k,
        se=se,
        sp=sp,
        cutoff=got.positive_pools_cutoff,
    )
    assert (sens, spec_got) == pytest.approx(
        (got.population_sensitivity, got.population_specificity)
    )


def test_a_group_that_must_give_samples_gives_them():
    groups = [RiskGroup("market", 5, 0.1, 6), RiskGroup("rest", 1, 0.9, 9, at_least=4)]
    got = allocate_for_detection(groups, 0.35, 0.05, pool_size=2, se=0.95, sp=0.98)
    assert got.groups[1].samples >= 4
    assert got.pools == _brute(groups, 0.35, 0.05, 2, 0.95, 0.98, 0.95)
    # the minimum alone may already be enough: nothing more is taken
    alone = allocate_for_detection(
        [RiskGroup("a", 2, 0.5, at_least=400), RiskGroup("b", 1, 0.5)], 0.5, 0.01, sp=1
    )
    assert alone.groups[0].samples == 400 and alone.groups[1].samples == 0


@settings(max_examples=40, deadline=None)
@given(
    rr=st.lists(st.floats(0.2, 8), min_size=2, max_size=3),
    caps=st.lists(st.integers(0, 6), min_size=3, max_size=3),
    k=st.integers(1, 3),
    sp=st.sampled_from([1.0, 0.98]),
    target=st.floats(0.3, 0.9),
)
def test_the_fewest_pools_on_random_groups(rr, caps, k, sp, target):
    shares = np.full(len(rr), 1 / len(rr))
    shares[-1] = 1 - shares[:-1].sum()
    groups = [
        RiskGroup(f"g{i}", r, float(s), c)
        for i, (r, s, c) in enumerate(zip(rr, shares, caps, strict=False))
    ]
    p = 0.08 / max(rr) * min(rr) + 0.02
    want = _brute(groups, target, p, k, 0.9, sp, 0.95)
    try:
        got = allocate_for_detection(groups, target, p, pool_size=k, se=0.9, sp=sp)
    except InputError as exc:
        assert want is None, (want, str(exc))
        assert any(w in str(exc) for w in ("every available sample", "no pool", "no group has"))
        return
    assert got.pools == want


def test_one_group_is_sized_as_a_large_population_capped_by_what_it_has():
    # available is who can be sampled today, not the population: the group stays large
    got = allocate_for_detection([RiskGroup("everyone", 1, 1.0, 500)], 0.95, 0.01, se=1, sp=1)
    ref = size_for_detection(0.95, 0.01, se=1, sp=1)
    assert got.samples == ref.samples
    assert got.population_sensitivity == pytest.approx(ref.population_sensitivity, rel=1e-12)
    with pytest.raises(InputError, match=r"every available sample .* \(11 pools\)"):
        allocate_for_detection([RiskGroup("ward", 1, 1.0, 11)], 0.8, 0.05, sp=1)
    # pools of 5 from 12 people: two whole pools and one of 2, as with two groups
    got = allocate_for_detection([RiskGroup("ward", 1, 1.0, 12)], 0.9, 0.2, pool_size=5, se=1, sp=1)
    assert (got.samples, got.pools) == (12, 3)
    assert got.population_sensitivity == pytest.approx(1 - (0.8**5) ** 2 * 0.8**2)


def test_what_no_round_can_do_is_said_naming_its_cause():
    market = [RiskGroup("market", 5, 0.1, 200), RiskGroup("rest", 1, 0.9)]
    with pytest.raises(InputError, match=r"^sp: a pool test with se 0\.95"):
        allocate_for_detection(market, 0.95, 0.01, sp=0.04)
    with pytest.raises(InputError, match="no group has anyone available"):
        allocate_for_detection([RiskGroup("a", 1, 0.5, 0), RiskGroup("b", 1, 0.5, 0)], 0.9, 0.01)
    huge = [RiskGroup("a", 1, 0.5, at_least=10**9), RiskGroup("b", 1, 0.5)]
    with pytest.raises(InputError, match="at most 10,000,000 samples"):
        allocate_for_detection(huge, 0.95, 0.01)
    # a big minimum is counted without a list of its pools
    many = [RiskGroup("a", 1, 0.5, at_least=2_000_000), RiskGroup("b", 1, 0.5)]
    assert allocate_for_detection(many, 0.95, 0.01, pool_size=2).samples == 2_000_000


def test_the_riskiest_group_is_sampled_first_and_fewer_samples_than_one_group():
    groups = [RiskGroup("border", 10, 0.05), RiskGroup("rest", 1, 0.95)]
    got = allocate_for_detection(groups, 0.95, 0.01, pool_size=5)
    flat = size_for_detection(0.95, 0.01, pool_size=5)
    assert got.groups[0].samples == got.samples > 0
    assert got.samples < flat.samples / 3


def test_detection_by_simulation():
    """Districts infected at the design prevalence, each person by the EPI of their group,
    sampled and pooled as allocated, pools tested with Se and Sp: flagged with the stated
    probability within 4 standard errors; healthy districts at most 1 - specificity."""
    rng = np.random.default_rng(3)
    groups = [
        RiskGroup("market", 4, 0.2, 60),
        RiskGroup("ward", 2, 0.3, 40),
        RiskGroup("rest", 1, 0.5),
    ]
    p, k, se, sp = 0.02, 4, 0.92, 0.97
    got = allocate_for_detection(groups, 0.9, p, pool_size=k, se=se, sp=sp)
    epi = effective_prevalence(p, [4, 2, 1], [0.2, 0.3, 0.5])
    runs = 20_000
    flagged = np.zeros(runs, dtype=int)
    clean_flagged = np.zeros(runs, dtype=int)
    for g, e in zip(got.groups, epi, strict=True):
        sizes = [k] * (g.samples // k) + ([g.samples % k] if g.samples % k else [])
        for m in sizes:
            infected = rng.binomial(m, e, runs) > 0
            positive = np.where(infected, rng.random(runs) < se, rng.random(runs) > sp)
            flagged += positive
            clean_flagged += rng.random(runs) > sp
    c = got.positive_pools_cutoff
    for rate, want in (
        ((flagged >= c).mean(), got.population_sensitivity),
        ((clean_flagged >= c).mean(), 1 - got.population_specificity),
    ):
        assert abs(rate - want) < 4 * math.sqrt(want * (1 - want) / runs) + 1e-9


# --------------------------------------------------------------------------- bad groups
@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([], "at least one risk group"),
        ([RiskGroup("a", 2, 0.5), RiskGroup("a", 1, 0.5)], "'a' is used twice"),
        ([RiskGroup("a", 0, 0.5), RiskGroup("b", 1, 0.5)], "relative_risk of 'a'"),
        ([RiskGroup("a", 2, 0.5), RiskGroup("b", 1, 0.4)], "add up to 0.9, not 1"),
        ([RiskGroup("a", 2, 0.5, 3, at_least=5), RiskGroup("b", 1, 0.5)], "more than the 3"),
        ([RiskGroup("a", 5000, 0.001), RiskGroup("b", 1, 0.999)], "makes group 'a'"),
        ([RiskGroup("a", 2, 0.5, 10), RiskGroup("b", 1, 0.5, 10)], "every available sample"),
        ([RiskGroup(" ", 2, 0.5), RiskGroup("b", 1, 0.5)], "needs a name"),
    ],
)
def test_bad_groups_are_named(groups, message):
    with pytest.raises(InputError, match=message):
        allocate_for_detection(groups, 0.95, 0.01, pool_size=2)


def test_n_rb_never_gives_a_negative_count_and_needs_whole_shares():
    # R's rule can leave the last group below 0 (1 + 1 + (1 - 2)); labopt stops at 0
    n, total = n_risk_based(0.5, 0.6, [1, 1, 1], [1 / 3] * 3, [0.34, 0.33, 0.33])
    assert total == 1 and n == [1, 1, 0]
    with pytest.raises(InputError, match="sample_shares: fractions of the sample adding up to 1"):
        n_risk_based(0.95, 0.1, [5, 1], [0.5, 0.5], [0.5, 0.6])


def test_published_formulas_refuse_mismatched_vectors():
    with pytest.raises(InputError, match="shares"):
        adjusted_risks([5, 1], [0.2, 0.3, 0.5])
    with pytest.raises(InputError, match="relative_risk"):
        adjusted_risks([5, -1], [0.5, 0.5])
