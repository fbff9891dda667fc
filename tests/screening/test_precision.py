"""Sample sizes for estimating prevalence: RSurveillance's documented examples, the delta
method against a numerical derivative, and the lab workflow's estimator by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from labopt.errors import InputError
from labopt.lab.estimate import estimate_groups
from labopt.screening.precision import n_true_prevalence, pool_variance, size_for_estimate


def test_rsurveillance_documented_apparent_prevalence_sizes():
    """n.ap(p, precision, conf) is n.tp with a perfect test: 97, 166, 139 246 323 369 385,
    6147 1537 246 62 (RSurveillance 0.2.1's example output)."""
    assert n_true_prevalence(0.5, 1, 1, 0.1) == 97
    assert n_true_prevalence(0.5, 1, 1, 0.1, confidence=0.99) == 166
    got = [n_true_prevalence(p, 1, 1, 0.05) for p in [0.1, 0.2, 0.3, 0.4, 0.5]]
    assert got == [139, 246, 323, 369, 385]
    got = [n_true_prevalence(0.2, 1, 1, d) for d in [0.01, 0.02, 0.05, 0.1]]
    assert got == [6147, 1537, 246, 62]


@pytest.mark.parametrize("p, k, se, sp", [(0.01, 10, 0.95, 0.995), (0.2, 3, 0.9, 0.99)])
def test_the_delta_method_slope_is_the_inverse_functions_derivative(p, k, se, sp):
    def p_of(pi):
        return 1 - ((se - pi) / (se + sp - 1)) ** (1 / k)

    pi = se - (se + sp - 1) * (1 - p) ** k
    h = 1e-7
    slope = (p_of(pi + h) - p_of(pi - h)) / (2 * h)
    assert pool_variance(p, k, se, sp) == pytest.approx(pi * (1 - pi) * slope**2, rel=1e-6)


def test_the_lab_estimators_interval_has_the_precision_it_was_sized_for():
    """Rounds sized for ±0.5 % around 1 % (pools of the best size): the estimates' standard
    deviation over 4,000 simulated rounds is the one sized for within 5 %, the score
    intervals' mean half-width within 10 % of 0.005, and they cover the truth about 95 % of
    the time."""
    rng = np.random.default_rng(11)
    size = size_for_estimate(0.01, 0.005, se=0.95, sp=0.995)
    assert size.half_width <= 0.005
    rounds = 4_000
    y = rng.binomial(size.pools, size.pool_positive, size=rounds)
    est = estimate_groups(
        np.full((rounds, 1), size.pool_size),
        np.full((rounds, 1), size.pools),
        y[:, None],
        se=0.95,
        sp=0.995,
    )
    sd = np.sqrt(pool_variance(0.01, size.pool_size, 0.95, 0.995) / size.pools)
    assert est["prevalence"].std() == pytest.approx(sd, rel=0.05)
    half = ((est["upper"] - est["lower"]) / 2).mean()
    assert half == pytest.approx(0.005, rel=0.10)
    covered = ((est["lower"] <= 0.01) & (est["upper"] >= 0.01)).mean()
    assert 0.93 <= covered <= 0.97


def test_the_best_pool_size_needs_fewer_reactions_than_testing_one_by_one():
    best = size_for_estimate(0.01, 0.5, relative=True, max_pool_size=32)
    one = size_for_estimate(0.01, 0.5, relative=True, pool_size=1)
    assert best.pools < one.pools / 10  # 62 pools of 32 against 2,451 single tests
    for k in range(1, 33):  # no other size needs fewer pools
        assert size_for_estimate(0.01, 0.5, relative=True, pool_size=k).pools >= best.pools
    # relative precision is a share of the prevalence
    assert size_for_estimate(0.02, 0.25, relative=True, pool_size=1) == size_for_estimate(
        0.02, 0.005, pool_size=1
    )


@pytest.mark.parametrize(
    "kwargs, said",
    [
        ({"prevalence": 0}, "prevalence: a fraction in (0, 1)"),
        ({"precision": 0}, "precision: a fraction in (0, 1]"),
        ({"confidence": 1}, "confidence: a fraction in (0, 1)"),
        ({"pool_size": 0}, "pool_size: a whole number >= 1"),
        ({"se": 0.5, "sp": 0.5}, "se: se + sp must exceed 1"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(kwargs, said):
    args = {"prevalence": 0.05, "precision": 0.01} | kwargs
    p, d = args.pop("prevalence"), args.pop("precision")
    with pytest.raises(InputError) as err:
        size_for_estimate(p, d, **args)
    assert said in str(err.value)


@pytest.mark.parametrize(
    "p, d, se, sp",
    [
        (0.05, 0.05, 0.95, 0.995),
        (0.1, 0.1, 0.95, 0.995),
        (0.05, 0.025, 0.95, 0.995),
        (0.8, 0.05, 1.0, 0.995),
    ],
)
def test_rounds_of_few_pools_keep_their_precision_by_exact_enumeration(p, d, se, sp):
    """Over every count of positive pools, weighted by its probability: the lab estimator's
    mean half-width is the one sized for within 5 % and its coverage 94-96 %; no size with
    pools that are always positive (which would claim ±0 from one pool)."""
    size = size_for_estimate(p, d, se=se, sp=sp)
    r, k, pi = size.pools, size.pool_size, size.pool_positive
    assert size.half_width <= d and r * min(pi, 1 - pi) >= 10
    y = np.arange(r + 1)
    w = stats.binom.pmf(y, r, pi)
    est = estimate_groups(np.full((r + 1, 1), k), np.full((r + 1, 1), r), y[:, None], se=se, sp=sp)
    half = float(np.sum(w * (est["upper"] - est["lower"]) / 2))
    assert half == pytest.approx(size.half_width, rel=0.05)
    covered = float(np.sum(w * ((est["lower"] <= p) & (est["upper"] >= p))))
    assert 0.94 <= covered <= 0.96
