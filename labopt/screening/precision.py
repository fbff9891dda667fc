"""How many samples and pools a round needs to estimate prevalence within ±d.

The lab workflow estimates a unit's prevalence from its first-stage pools by maximum
likelihood (labopt.lab.estimate): r pools of k samples, a pool positive with probability

    pi = Se - (Se + Sp - 1) (1 - p)^k,

so p = 1 - ((Se - pi) / (Se + Sp - 1))^(1/k). The positive pools are binomial, Var(pi^) =
pi (1 - pi) / r, and by the delta method

    Var(p^) = pi (1 - pi) / r * ((1 - p)^(1 - k) / (k (Se + Sp - 1)))^2.

The round is sized so that z * sd(p^) <= d, d the precision (absolute, or relative: d = rel *
p), z the normal quantile of the confidence level: r = ceil(z^2 Var1 / d^2), Var1 the variance
of one pool's share, and at least MIN_EXPECTED positive and as many negative pools expected
(with fewer, the estimator's interval is wider than the delta method says). With k = 1 and
without that minimum this is RSurveillance's ``n.tp`` (:func:`n_true_prevalence`; ``n.ap``
with Se = Sp = 1), whose documented examples the tests reproduce. The estimate's own interval
(the score interval) then has about this half-width; the tests check it by simulation.

Each first-stage pool is one reaction, so the pool size that needs the fewest pools needs the
fewest reactions for the precision: :func:`size_for_estimate` searches it up to the largest
pool the lab allows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from labopt.errors import InputError
from labopt.screening.freedom import DEFAULT_SE, DEFAULT_SP
from labopt.screening.values import count, fraction, needed

# positive and negative pools a round is sized to expect, each at least (labopt.lab.estimate:
# the score interval keeps its coverage from about 10 of each)
MIN_EXPECTED = 10


@dataclass(frozen=True)
class PrecisionSize:
    """A round sized to estimate prevalence: ``pools`` first-stage pools (reactions) of
    ``pool_size`` samples (``samples`` in all); ``half_width``: the precision it gives (the
    confidence interval's expected half-width, absolute); ``pool_positive``: the probability a
    pool tests positive at the expected prevalence."""

    samples: int
    pools: int
    pool_size: int
    half_width: float
    pool_positive: float

    def to_dict(self) -> dict:
        return asdict(self)


def pool_variance(prevalence: float, pool_size: int, se: float, sp: float) -> float:
    """Var(p^) times the number of pools: the variance one pool contributes to the estimate
    (delta method, see the module's docstring)."""
    p = fraction("prevalence", prevalence, low_open=True, high_open=True)
    k = count("pool_size", pool_size, 1)
    se, sp = fraction("se", se), fraction("sp", sp)
    youden = se + sp - 1.0
    if youden <= 0:
        raise InputError(f"se: se + sp must exceed 1, got {se} + {sp}", "se")
    if (1.0 - p) ** k < 1e-9:
        raise InputError(
            f"pool_size: pools of {k} at prevalence {p:g} are all but always positive and "
            f"tell nothing; use smaller pools",
            "pool_size",
        )
    pi = se - youden * (1.0 - p) ** k
    if not 1e-12 < pi < 1.0 - 1e-12:
        always = "positive" if pi > 0.5 else "negative"
        raise InputError(
            f"{'pool_size' if pi > 0.5 else 'prevalence'}: pools of {k} at prevalence {p:g} "
            f"are all but always {always} and tell nothing",
            "pool_size" if pi > 0.5 else "prevalence",
        )
    try:
        slope = (1.0 - p) ** (1 - k) / (k * youden)
        return pi * (1.0 - pi) * slope**2
    except OverflowError:
        raise InputError(
            f"pool_size: pools of {k} at prevalence {p:g} are all but always positive and "
            f"tell nothing; use smaller pools",
            "pool_size",
        ) from None


def _z(confidence: float) -> float:
    from scipy import stats  # slow to import: only when needed

    c = fraction("confidence", confidence, low_open=True, high_open=True)
    return float(stats.norm.ppf(1.0 - (1.0 - c) / 2.0))


def n_true_prevalence(
    prevalence: float, se: float, sp: float, precision: float, confidence: float = 0.95
) -> int:
    """Samples tested one by one to estimate the true prevalence within ±precision
    (RSurveillance ``n.tp``): ceil((z / d)^2 AP (1 - AP) / (Se + Sp - 1)^2), AP the apparent
    prevalence."""
    d = fraction("precision", precision, low_open=True)
    var = pool_variance(prevalence, 1, se, sp)
    return needed(_z(confidence) ** 2 * var / d**2 if d**2 > 0 else math.inf, "precision")


def size_for_estimate(
    prevalence: float,
    precision: float,
    *,
    relative: bool = False,
    confidence: float = 0.95,
    pool_size: int | None = None,
    max_pool_size: int = 32,
    se: float = DEFAULT_SE,
    sp: float = DEFAULT_SP,
) -> PrecisionSize:
    """The round that estimates an expected ``prevalence`` within ±``precision`` (a fraction,
    or with ``relative`` a share of the prevalence) at the ``confidence`` level: for
    ``pool_size``, or (None) for the pool size from 1 to ``max_pool_size`` that needs the
    fewest pools, hence reactions (the smaller size on a tie)."""
    p = fraction("prevalence", prevalence, low_open=True, high_open=True)
    rel = fraction("precision", precision, low_open=True)
    d = rel * p if relative else rel
    z = _z(confidence)
    if pool_size is None:
        sizes = range(1, count("max_pool_size", max_pool_size, 1) + 1)
    else:
        sizes = range(count("pool_size", pool_size, 1), pool_size + 1)
    best: PrecisionSize | None = None
    refused: InputError | None = None
    for k in sizes:
        try:  # a size too large for the prevalence is skipped when another one works
            var = pool_variance(p, k, se, sp)
            r = needed(z**2 * var / d**2 if d**2 > 0 else math.inf, "precision")
            # at least MIN_EXPECTED positive and negative pools expected: where the estimator's
            # interval has the width the delta method gives, and keeps its coverage
            pi = se - (se + sp - 1.0) * (1.0 - p) ** k
            r = max(r, needed(MIN_EXPECTED / min(pi, 1.0 - pi), "precision"))
        except InputError as exc:
            refused = refused or exc
            continue
        if best is None or r < best.pools:
            best = PrecisionSize(
                samples=r * k,
                pools=r,
                pool_size=k,
                half_width=z * math.sqrt(var / r),
                pool_positive=pi,
            )
    if best is None:
        assert refused is not None
        raise refused
    return best
