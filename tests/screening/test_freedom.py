"""Sample sizes for detection: the R packages' documented examples reproduced exactly, and
labopt's own answer checked by brute force and by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from labopt.errors import InputError
from labopt.screening.freedom import (
    n_binomial,
    n_freedom,
    n_hypergeometric,
    n_pooled,
    sep_binomial,
    sep_exact,
    sep_hypergeometric,
    sep_pooled,
    size_for_detection,
)

# (call, documented output): the examples of the packages' help pages with the values they
# print (RSurveillance 0.2.1, rdrr.io "Example output"; epiR's help pages' comments)
DOCUMENTED_N = [
    # RSurveillance n.pooled(sep, k, pstar, pse, psp)
    (lambda: n_pooled(0.95, 5, 0.01, 1, 1), 60),
    (lambda: n_pooled(0.95, 10, 0.1, 0.9, 1), 4),
    (
        lambda: [
            n_pooled(0.95, k, 0.1, s, 1)
            for k, s in zip([2, 5, 10, 20], [0.99, 0.98, 0.97, 0.95], strict=True)
        ],
        [15, 6, 3, 2],
    ),
    # RSurveillance n.freedom(N, sep, pstar, se)
    (lambda: n_freedom(0.95, 0.01, 1), 299),
    (lambda: n_freedom(0.95, 0.01, 1, 500), 226),
    (
        lambda: [n_freedom(0.95, 0.01, 1, n) for n in [100, 500, 1000, 5000, 10000, 100000, None]],
        [95, 226, 259, 291, 296, 300, 299],
    ),
    (
        lambda: [n_freedom(0.95, 0.01, se, 500) for se in [0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 1]],
        [451, 376, 322, 282, 251, 228, 226],
    ),
    # RSurveillance n.hypergeo(sep, N, d, se)
    (lambda: n_hypergeometric(0.95, 100, 1, 0.95), 100),
    (
        lambda: [
            n_hypergeometric(0.95, n, math.ceil(0.01 * n)) for n in [100, 200, 500, 1000, 10000]
        ],
        [95, 156, 226, 259, 296],
    ),
    (lambda: [n_hypergeometric(s, 100, 5) for s in [0.5, 0.8, 0.9, 0.95]], [13, 28, 37, 46]),
    (lambda: [n_hypergeometric(0.95, 80, d) for d in [1, 2, 5, 10]], [76, 63, 37, 21]),
    (lambda: [n_hypergeometric(0.95, 80, d, 0.8) for d in [1, 2, 5, 10]], [None, 78, 46, 26]),
    # epiR rsu.sssep.rs(N, pstar, se.p, se.u): examples 1 and 3
    (lambda: n_freedom(0.95, 0.05, 0.90, 1000), 65),
    (lambda: n_freedom(0.95, 0.20, 1, 200), 15),
    # epiR rsu.sssep.rs example 2: se.u of two tests in parallel, 1 - 0.1 * 0.05
    (lambda: n_freedom(0.95, 0.08, 1 - 0.10 * 0.05, 5000), 38),
    # epiR rsu.sssep.rspool(k, pstar, pse, psp, se.p) example 1: "a total of 32 pools"
    (lambda: n_pooled(0.95, 5, 0.01, 0.90, 0.95), 32),
]


@pytest.mark.parametrize("call, documented", DOCUMENTED_N, ids=range(len(DOCUMENTED_N)))
def test_the_r_packages_documented_sample_sizes(call, documented):
    assert call() == documented


def test_the_r_packages_documented_sensitivities():
    # RSurveillance sep.pooled(r, k, pstar, pse, psp)
    assert sep_pooled(60, 5, 0.01, 1, 1) == pytest.approx((0.9509591, 1), abs=5e-8)
    assert sep_pooled(4, 10, 0.1, 0.9, 1) == pytest.approx((0.9706771, 1), abs=5e-8)
    got = [sep_pooled(r, 5, 0.02, 0.9, 0.99) for r in range(5, 55, 5)]
    sep = [
        0.3946345,
        0.6335326,
        0.7781533,
        0.8657016,
        0.9187004,
        0.9507840,
        0.9702064,
        0.9819640,
        0.9890816,
        0.9933904,
    ]
    spp = [
        0.9509900,
        0.9043821,
        0.8600584,
        0.8179069,
        0.7778214,
        0.7397004,
        0.7034477,
        0.6689718,
        0.6361855,
        0.6050061,
    ]
    assert [g[0] for g in got] == pytest.approx(sep, abs=5e-8)
    assert [g[1] for g in got] == pytest.approx(spp, abs=5e-8)
    got = [sep_pooled(10, 5, 0.05, s, 1)[0] for s in [0.8, 0.9, 0.95, 0.99]]
    assert got == pytest.approx([0.8641780, 0.8973573, 0.9110379, 0.9207757], abs=5e-8)
    # RSurveillance sep.hypergeo(N, n, d, se) (printed to 5 decimals)
    assert sep_hypergeometric(100, 50, 1, 0.92) == pytest.approx(0.46, abs=5e-6)
    got = [sep_hypergeometric(100, 50, d, 0.8) for d in range(1, 6)]
    assert got == pytest.approx([0.4, 0.64, 0.784, 0.8704, 0.92224], abs=5e-6)
    got = [sep_hypergeometric(n, n // 2, math.ceil(0.01 * n), 0.8) for n in [10, 50, 100, 250, 500]]
    assert got == pytest.approx([0.4, 0.4, 0.4, 0.784, 0.92224], abs=5e-6)
    # epiR rsu.sep.rspool(r, k, pstar, pse, psp): "0.95", "0.93", "0.95" (two decimals)
    assert round(sep_pooled(60, 5, 0.01, 1, 1)[0], 2) == 0.95
    assert round(sep_pooled(60, 5, 0.01, 0.90, 1)[0], 2) == 0.93
    assert 0.95 <= sep_pooled(70, 5, 0.01, 0.90, 1)[0] < 0.96  # "0.95": 0.9575, truncated
    # epiR rsu.sep.rs(N = NA, n = 300, pstar = 0.01, se.u = 0.95): "0.943"
    assert round(sep_binomial(300, 0.01, 0.95), 3) == 0.943


def test_the_sample_sizes_are_the_smallest_that_reach_the_target():
    """Each n_* is the first count whose sensitivity formula reaches the target."""
    for k, p, pse in [(5, 0.01, 1.0), (10, 0.1, 0.9), (20, 0.005, 0.95)]:
        r = n_pooled(0.95, k, p, pse)
        assert sep_pooled(r, k, p, pse)[0] >= 0.95 > sep_pooled(r - 1, k, p, pse)[0]
    for p, se in [(0.01, 1.0), (0.02, 0.9)]:
        n = n_binomial(0.95, p, se)
        assert sep_binomial(n, p, se) >= 0.95 > sep_binomial(n - 1, p, se)


def brute_force(target, spec, k, p, se, sp, most):
    """The fewest pools (and the cut-off) with sensitivity >= target and specificity >=
    spec, trying every number of pools and every cut-off."""
    pos = (1 - (1 - p) ** k) * se + (1 - p) ** k * (1 - sp)
    for r in range(1, most + 1):
        for c in range(1, r + 1):
            sens = 1 - stats.binom.cdf(c - 1, r, pos)
            specificity = stats.binom.cdf(c - 1, r, 1 - sp)
            if specificity >= spec and sens >= target:
                return r, c
    return None


@pytest.mark.parametrize(
    "k, p, se, sp",
    [(5, 0.05, 0.9, 0.98), (1, 0.1, 0.95, 0.97), (10, 0.02, 0.95, 0.995), (4, 0.1, 0.8, 0.9)],
)
def test_a_cut_off_design_is_the_fewest_pools_any_cut_off_allows(k, p, se, sp):
    got = size_for_detection(0.9, p, pool_size=k, se=se, sp=sp, target_specificity=0.95)
    assert (got.pools, got.positive_pools_cutoff) == brute_force(0.9, 0.95, k, p, se, sp, 400)
    assert got.samples == got.pools * k
    assert got.population_sensitivity >= 0.9 and got.population_specificity >= 0.95


def test_one_positive_pool_would_flag_most_healthy_districts_so_a_cut_off_is_set():
    """epiR's 32 pools of 5 at Sp 0.95 reach 95 % only by counting false positives: a
    district with no infection is flagged with probability 1 - 0.95^32 = 0.81. labopt keeps
    the population specificity at 95 % with a cut-off, which needs far more pools."""
    assert 1 - sep_pooled(32, 5, 0.01, 0.9, 0.95)[1] == pytest.approx(0.806, abs=1e-3)
    got = size_for_detection(0.95, 0.01, pool_size=5, se=0.9, sp=0.95)
    assert got.positive_pools_cutoff > 1 and got.pools > 32
    assert got.population_specificity >= 0.95 and got.population_sensitivity >= 0.95
    # with a perfectly specific pool test, the answer is n.pooled's
    perfect = size_for_detection(0.95, 0.01, pool_size=5, se=0.9, sp=1)
    assert perfect.pools == n_pooled(0.95, 5, 0.01, 0.9, 1) == 67
    assert perfect.positive_pools_cutoff == 1 and perfect.population_specificity == 1


def test_a_known_population_is_sized_exactly_not_by_the_approximation():
    """Tested one by one in 500 people with 5 infected: the exact hypergeometric count is 225;
    the approximation RSurveillance uses asks 226. Both reach the target exactly computed."""
    got = size_for_detection(0.95, 0.01, se=1, sp=1, population=500)
    assert got.samples == 225 and n_freedom(0.95, 0.01, 1, 500) == 226
    assert sep_exact(500, 225, 5) >= 0.95 > sep_exact(500, 224, 5)
    assert got.population_sensitivity == pytest.approx(sep_exact(500, 225, 5))


def test_simulated_districts_are_detected_with_the_stated_probability():
    """Districts infected at the design prevalence, sampled and pooled as sized, tested with
    the stated Se and Sp: the share flagged is the stated sensitivity within 4 standard
    errors; districts with no infection are flagged at most 1 - the stated specificity."""
    rng = np.random.default_rng(7)
    trials = 20_000
    for kwargs in [
        {"pool_size": 5, "se": 0.9, "sp": 0.98},
        {"pool_size": 10, "se": 0.95, "sp": 1.0},
        {"pool_size": 1, "se": 0.9, "sp": 1.0, "population": 800},
    ]:
        size = size_for_detection(0.9, 0.02, target_specificity=0.95, **kwargs)
        k, r, c = size.pool_size, size.pools, size.positive_pools_cutoff
        pop = kwargs.get("population")
        if pop:  # a finite population: d infected, n drawn without replacement
            d = math.ceil(pop * 0.02)
            infected = rng.hypergeometric(d, pop - d, size.samples, size=trials)
            found = rng.binomial(infected, kwargs["se"]) >= 1
        else:
            sick = rng.random((trials, r, k)) < 0.02
            any_sick = sick.any(axis=2)
            hit = np.where(
                any_sick,
                rng.random((trials, r)) < kwargs["se"],
                rng.random((trials, r)) < 1 - kwargs["sp"],
            )
            found = hit.sum(axis=1) >= c
            healthy = (rng.random((trials, r)) < 1 - kwargs["sp"]).sum(axis=1) >= c
            se_healthy = math.sqrt(
                size.population_specificity * (1 - size.population_specificity) / trials
            )
            assert healthy.mean() <= 1 - size.population_specificity + 4 * se_healthy + 1e-12
        s = size.population_sensitivity
        assert abs(found.mean() - s) <= 4 * math.sqrt(s * (1 - s) / trials), kwargs


@pytest.mark.parametrize(
    "kwargs, said",
    [
        ({"target_sensitivity": 1.0}, "target_sensitivity: a fraction in (0, 1)"),
        ({"target_sensitivity": 0}, "target_sensitivity: a fraction in (0, 1)"),
        ({"target_specificity": 0}, "target_specificity: a fraction in (0, 1)"),
        ({"design_prevalence": 0}, "design_prevalence: a fraction in (0, 1]"),
        ({"pool_size": 0}, "pool_size: a whole number >= 1"),
        ({"pool_size": 2.5}, "pool_size: a whole number >= 1"),
        ({"se": 1.2}, "se: a fraction in (0, 1]"),
        ({"sp": -0.1}, "sp: a fraction in [0, 1]"),
        ({"population": 0}, "population: a whole number >= 1"),
        ({"population": 50, "design_prevalence": 0.001}, "more than the 50 people here"),
        (
            {"population": 100, "se": 0.5, "sp": 1, "design_prevalence": 0.01, "pool_size": 1},
            "testing all 100 people",
        ),
        (
            {"sp": 0.99, "design_prevalence": 1e-300},
            "design_prevalence: a pool of 5 is no more often positive",
        ),
        ({"sp": 0.5, "se": 0.5, "pool_size": 1, "design_prevalence": 0.01}, "no number of pools"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(kwargs, said):
    args = {"target_sensitivity": 0.95, "design_prevalence": 0.02, "pool_size": 5} | kwargs
    target, p = args.pop("target_sensitivity"), args.pop("design_prevalence")
    with pytest.raises(
        InputError, match=said.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
    ):
        size_for_detection(target, p, **args)


def test_certain_detection_and_huge_populations_are_answered_at_once():
    """A pool certainly positive is one pool (not a log(0)); a known population of a billion
    is counted exactly and fast; a count that is exactly the target reaches it."""
    assert n_pooled(0.95, 5, 1, 1, 1) == 1 and n_binomial(0.95, 1, 1) == 1
    assert size_for_detection(0.95, 1, se=1, sp=1).samples == 1
    assert size_for_detection(0.5, 0.1, se=1, sp=1, population=10).samples == 5  # 0.5 exactly
    big = size_for_detection(0.95, 0.5, se=0.95, sp=1, population=10**9)
    # five of half a billion infected: (1/2 + 1/2 x 0.05)^5 miss, as with replacement
    assert big.samples == 5
    assert big.population_sensitivity == pytest.approx(1 - 0.525**5, rel=1e-6)
    # a billion people at 1 %: as good as sampling with replacement
    huge = size_for_detection(0.95, 0.01, se=0.95, sp=1, population=10**9)
    assert huge.samples == n_binomial(0.95, 0.01, 0.95)


def test_a_hopeless_cut_off_design_is_refused_at_once():
    with pytest.raises(InputError, match="not reached within 1,000,000 pools"):
        size_for_detection(0.95, 0.0001)  # the default pool test: Sp 0.995
