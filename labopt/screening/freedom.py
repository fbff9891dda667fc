"""How many samples a screening round needs to detect infection when it is there.

A district (or a market, a factory, a ward) is screened to find out whether infection is
present at a *design prevalence* p*: the round should find at least one positive with a
*population sensitivity* of at least the target (e.g. 95 %) if p* of its people are infected.
This is "freedom from infection" sampling (Cameron & Baldock 1998; with pooled tests,
Christensen & Gardner 2000).

Two families of functions:

- The published formulas, as the R packages RSurveillance and epiR compute them (their
  documented examples are reproduced in the tests): :func:`sep_binomial`,
  :func:`sep_hypergeometric`, :func:`n_binomial`, :func:`n_hypergeometric`,
  :func:`sep_pooled`, :func:`n_pooled`.
- labopt's answer to "how many samples and pools?", :func:`size_for_detection`: with a
  perfectly specific test, the smallest sample reaching the target; with imperfect pool
  specificity, a single false-positive pool would flag every healthy district, so it also
  sets a *cut-off* (the district is flagged when at least that many pools are positive) that
  keeps the population specificity at its target, and the smallest number of pools that
  reaches the sensitivity target with that cut-off. Where it differs from the R functions,
  the function says why.

Prevalences, sensitivities and specificities are fractions in [0, 1]; populations, samples and
pools are counts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import special

from labopt.errors import InputError
from labopt.notes import Note
from labopt.scenario.model import Policy
from labopt.screening.values import WHOLE, count, fraction, needed, whole_up

METHODS = "labopt.screening.words:METHODS"  # how a round was computed, in each language

# pools searched for a cut-off design, at most
MAX_POOLS = 1_000_000
# a sensitivity this close below the target reaches it (floating-point sums)
_TIE = 1e-12
# populations up to this are summed with scipy's hypergeometric pmf (exact, slower with N)
_SCIPY_HYPERGEOM = 1_000_000
# a pool's test, as the scenarios' policy assumes it unless told otherwise
DEFAULT_SE: float = Policy.model_fields["pooling_se"].default
DEFAULT_SP: float = Policy.model_fields["pooling_sp"].default
# the population specificity kept when the pool test's is below 1
DEFAULT_SPECIFICITY = 0.95


def infected_in(population: int, design_prevalence: float) -> int:
    """The infected people a design prevalence means in a population: ceil(N p*), at least 1
    (RSurveillance's and epiR's rule)."""
    return min(population, max(1, whole_up(population * design_prevalence)))


# --------------------------------------------------------------------------- published formulas
def sep_binomial(n: int, design_prevalence: float, se: float = 1.0, sp: float = 1.0) -> float:
    """Population sensitivity of n samples tested one by one, infinite population: the
    probability that at least one tests positive, 1 - (1 - (Se p* + (1 - Sp)(1 - p*)))^n
    (RSurveillance ``sep.binom``, epiR ``rsu.sep.rs`` with N = NA; unrounded)."""
    n = count("samples", n)
    p = fraction("design_prevalence", design_prevalence)
    se, sp = fraction("se", se), fraction("sp", sp)
    return 1.0 - (1.0 - (se * p + (1.0 - sp) * (1.0 - p))) ** n


def sep_hypergeometric(population: int, n: int, infected: int, se: float = 1.0) -> float:
    """Population sensitivity of n of N people tested one by one, d of them infected, by the
    approximation 1 - (1 - Se n / N)^d (RSurveillance ``sep.hypergeo``, epiR ``rsu.sep.rs``
    with N given; unrounded). :func:`sep_exact` is the exact value."""
    big_n = count("population", population, 1)
    n = count("samples", n)
    d = min(count("infected", infected), big_n)
    se = fraction("se", se)
    if n > big_n:
        raise InputError(f"samples: at most the population {big_n:,}, got {n:,}", "samples")
    return 0.0 if n == 0 else 1.0 - (1.0 - se * n / big_n) ** d


def sep_exact(population: int, n: int, infected: int, se: float = 1.0) -> float:
    """Population sensitivity of n of N people tested one by one, d infected, exactly: the
    infected among the n are hypergeometric, each found with probability Se."""
    from scipy import stats  # slow to import: only when needed

    big_n = count("population", population, 1)
    n = count("samples", n)
    d = min(count("infected", infected), big_n)
    se = fraction("se", se)
    if n > big_n:
        raise InputError(f"samples: at most the population {big_n:,}, got {n:,}", "samples")
    # the infected among the n: only where the hypergeometric puts any weight (fast for
    # millions of people)
    mean = n * d / big_n
    sd = math.sqrt(max(mean * (1 - d / big_n) * (big_n - n) / max(big_n - 1, 1), 0.0))
    lo = max(0, n - (big_n - d), math.floor(mean - 40 * sd - 1))
    hi = min(n, d, math.ceil(mean + 40 * sd + 1))
    x = np.arange(lo, hi + 1)
    if big_n <= _SCIPY_HYPERGEOM:
        pmf = stats.hypergeom.pmf(x, big_n, d, n)
    else:  # scipy's pmf slows with the population; log-gamma keeps ~1e-6 relative
        pmf = np.exp(_log_choose(d, x) + _log_choose(big_n - d, n - x) - _log_choose(big_n, n))
    return float(1.0 - np.sum(pmf * (1.0 - se) ** x))


def _log_choose(a, b):
    return special.gammaln(a + 1.0) - special.gammaln(b + 1.0) - special.gammaln(a - b + 1.0)


def n_binomial(target_sensitivity: float, design_prevalence: float, se: float = 1.0) -> int:
    """Samples to test one by one for the target population sensitivity, infinite population:
    ceil(log(1 - SeP) / log(1 - p* Se)) (RSurveillance ``n.binom``, epiR ``rsu.sssep.rs``)."""
    target = fraction("target_sensitivity", target_sensitivity, high_open=True)
    p = fraction("design_prevalence", design_prevalence, low_open=True)
    se = fraction("se", se, low_open=True)
    if target == 0:
        return 0
    if p * se >= 1.0:
        return 1  # one sample is certainly found positive
    miss = math.log(1.0 - p * se)
    if miss == 0:
        raise InputError(
            f"design_prevalence: {p:g} x se {se:g} is too small to detect", "design_prevalence"
        )
    return needed(math.log(1.0 - target) / miss, "target_sensitivity")


def n_hypergeometric(
    target_sensitivity: float, population: int, infected: int, se: float = 1.0
) -> int | None:
    """Samples of N people, d infected, to test one by one for the target population
    sensitivity, by the approximation (N / Se)(1 - (1 - SeP)^(1/d)); None when even the whole
    population would not reach it (RSurveillance ``n.hypergeo``: NA)."""
    target = fraction("target_sensitivity", target_sensitivity, high_open=True)
    big_n = count("population", population, 1)
    d = count("infected", infected, 1)
    se = fraction("se", se, low_open=True)
    n = (big_n / se) * (1.0 - (1.0 - target) ** (1.0 / d))
    return None if n > big_n + WHOLE else whole_up(n)


def n_freedom(
    target_sensitivity: float,
    design_prevalence: float,
    se: float = 1.0,
    population: int | None = None,
) -> int | None:
    """RSurveillance ``n.freedom``: :func:`n_hypergeometric` with d = ceil(N p*) when the
    population is known, else :func:`n_binomial`."""
    if population is None:
        return n_binomial(target_sensitivity, design_prevalence, se)
    big_n = count("population", population, 1)
    p = fraction("design_prevalence", design_prevalence, low_open=True)
    return n_hypergeometric(target_sensitivity, big_n, infected_in(big_n, p), se)


def pool_positive(
    pool_size: int, design_prevalence: float, pool_se: float, pool_sp: float = 1.0
) -> float:
    """The probability that a pool of k samples tests positive when p* are infected: an
    infected pool is found with the pool's Se, a clean one is falsely positive with 1 - Sp."""
    k = count("pool_size", pool_size, 1)
    p = fraction("design_prevalence", design_prevalence)
    pse, psp = fraction("pool_se", pool_se), fraction("pool_sp", pool_sp)
    clean = (1.0 - p) ** k
    return (1.0 - clean) * pse + clean * (1.0 - psp)


def sep_pooled(
    pools: int, pool_size: int, design_prevalence: float, pool_se: float, pool_sp: float = 1.0
) -> tuple[float, float]:
    """(population sensitivity, population specificity) of r pools of k samples when one
    positive pool flags the population (Christensen & Gardner 2000; RSurveillance
    ``sep.pooled``, epiR ``rsu.sep.rspool``): 1 - P(pool negative)^r and Sp^r."""
    r = count("pools", pools)
    neg = 1.0 - pool_positive(pool_size, design_prevalence, pool_se, pool_sp)
    return 1.0 - neg**r, fraction("pool_sp", pool_sp) ** r


def n_pooled(
    target_sensitivity: float,
    pool_size: int,
    design_prevalence: float,
    pool_se: float,
    pool_sp: float = 1.0,
) -> int:
    """Pools of k samples for the target population sensitivity when one positive pool flags
    the population (RSurveillance ``n.pooled``, epiR ``rsu.sssep.rspool``):
    ceil(log(1 - SeP) / log(P(pool negative))). With Sp < 1 this counts false-positive pools
    as detections, so fewer pools are asked as Sp falls; :func:`size_for_detection` does not."""
    target = fraction("target_sensitivity", target_sensitivity, high_open=True)
    neg = 1.0 - pool_positive(pool_size, design_prevalence, pool_se, pool_sp)
    if target == 0:
        return 0
    if neg >= 1.0:
        raise InputError(
            "design_prevalence: a pool is (all but) never positive with these values: too small "
            "a prevalence to detect",
            "design_prevalence",
        )
    if neg <= 0.0:
        return 1  # one pool is certainly positive
    return needed(math.log(1.0 - target) / math.log(neg), "target_sensitivity")


# --------------------------------------------------------------------------- labopt's answer
@dataclass(frozen=True)
class ScreeningSize:
    """A screening round sized for detection: ``pools`` pools of ``pool_size`` samples
    (``samples`` in all; pool size 1: tested one by one), the population flagged when at least
    ``positive_pools_cutoff`` pools are positive; ``population_sensitivity``: the probability
    of flagging it when the design prevalence is infected; ``population_specificity``: the
    probability of not flagging it when no one is; ``method``: how it was computed."""

    samples: int
    pools: int
    pool_size: int
    positive_pools_cutoff: int
    population_sensitivity: float
    population_specificity: float
    method: str

    def to_dict(self) -> dict:
        return asdict(self)


def size_for_detection(
    target_sensitivity: float,
    design_prevalence: float,
    *,
    pool_size: int = 1,
    se: float = DEFAULT_SE,
    sp: float = DEFAULT_SP,
    population: int | None = None,
    target_specificity: float = DEFAULT_SPECIFICITY,
) -> ScreeningSize:
    """The smallest screening round that flags a population infected at the design prevalence
    with at least the target sensitivity.

    ``se``, ``sp``: of one test of a pool of ``pool_size`` (of one sample when 1).
    ``population``: the people to sample from (None: many, sampling as with replacement).

    - With Sp = 1, one positive pool flags the population. Tested one by one in a known
      population, the count is exact (the infected among those sampled are hypergeometric,
      d = ceil(N p*)); otherwise binomial, as RSurveillance's ``n.pooled`` / ``n.binom``.
    - With Sp < 1, the cut-off c is the smallest number of positive pools whose false alarm
      rate keeps the population specificity >= ``target_specificity`` (binomial: pools are
      independent), and the pools are the fewest with P(at least c positive) >= the target.
      A known population is then treated as a large one, which asks for more samples, never
      fewer.
    """
    from scipy import stats  # slow to import: only when needed

    target = fraction("target_sensitivity", target_sensitivity, low_open=True, high_open=True)
    p = fraction("design_prevalence", design_prevalence, low_open=True)
    k = count("pool_size", pool_size, 1)
    se = fraction("se", se, low_open=True)
    sp = fraction("sp", sp)
    spec = fraction("target_specificity", target_specificity, low_open=True, high_open=True)
    big_n = None if population is None else count("population", population, 1)
    if big_n is not None and k > big_n:
        raise InputError(f"pool_size: at most the population {big_n:,}, got {k:,}", "pool_size")
    if sp == 1.0:
        if k == 1 and big_n is not None:
            return _exact_individual(target, p, se, big_n)
        r = n_pooled(target, k, p, se, 1.0)
        return _result(r, k, 1, target, p, se, sp, big_n, Note(METHODS, "binomial_one"))
    positive = pool_positive(k, p, se, sp)
    false_alarm = 1.0 - sp
    if positive - false_alarm <= 1e-12:
        name = "design_prevalence" if 1.0 - (1.0 - p) ** k < 1e-9 else "sp"
        raise InputError(
            f"{name}: a pool of {k} is no more often positive at the design prevalence "
            f"({positive:.4g}) than when no one is infected ({false_alarm:.4g}); no number of "
            f"pools tells the two apart",
            name,
        )
    # the normal approximation says roughly how many pools it takes: far beyond the search,
    # refused at once
    z_a, z_b = stats.norm.ppf(spec), stats.norm.ppf(target)
    spread = z_a * math.sqrt(false_alarm * (1 - false_alarm)) + z_b * math.sqrt(
        positive * (1 - positive)
    )
    if (spread / (positive - false_alarm)) ** 2 > 4 * MAX_POOLS:
        raise InputError(
            f"target_sensitivity: not reached within {MAX_POOLS:,} pools with this pool test "
            f"(about {(spread / (positive - false_alarm)) ** 2:,.0f} needed)",
            "target_sensitivity",
        )
    # no fewer pools than a perfectly specific test would take with this pool's positives
    start = max(1, int(math.log(1.0 - target) / math.log1p(-positive)) if positive < 1 else 1)
    while start <= MAX_POOLS:
        pools = np.arange(start, min(start * 4, MAX_POOLS) + 1)
        cut = stats.binom.ppf(spec, pools, false_alarm).astype(np.int64) + 1
        sens = stats.binom.sf(cut - 1, pools, positive)
        ok = np.flatnonzero(sens >= target)
        if ok.size:
            i = int(ok[0])
            return _result(
                int(pools[i]),
                k,
                int(cut[i]),
                target,
                p,
                se,
                sp,
                big_n,
                Note(METHODS, "binomial_cutoff"),
            )
        start = int(pools[-1]) + 1
    raise InputError(
        f"target_sensitivity: not reached within {MAX_POOLS:,} pools", "target_sensitivity"
    )


def _exact_individual(target: float, p: float, se: float, big_n: int) -> ScreeningSize:
    """The fewest of N people, tested one by one (Sp = 1), with an exact population
    sensitivity >= target (bisection: it grows with n)."""
    d = infected_in(big_n, p)
    everyone = 1.0 - (1.0 - se) ** d  # all tested: each of the d infected found with Se
    if everyone < target - _TIE:
        raise InputError(
            f"target_sensitivity: testing all {big_n:,} people finds the {d:,} infected with "
            f"probability {everyone:.4f} < {target}",
            "target_sensitivity",
        )
    # sampling without replacement needs no more than with: the binomial count bounds it
    lo, hi = 0, min(big_n, n_binomial(target, d / big_n, se))
    while lo < hi:
        mid = (lo + hi) // 2
        if sep_exact(big_n, mid, d, se) >= target - _TIE:
            hi = mid
        else:
            lo = mid + 1
    return ScreeningSize(
        samples=lo,
        pools=lo,
        pool_size=1,
        positive_pools_cutoff=1,
        population_sensitivity=sep_exact(big_n, lo, d, se),
        population_specificity=1.0,
        method=Note(METHODS, "exact", infected=d, population=big_n),
    )


def _result(
    r: int,
    k: int,
    cut: int,
    target: float,
    p: float,
    se: float,
    sp: float,
    big_n: int | None,
    method: str,
) -> ScreeningSize:
    from scipy import stats  # slow to import: only when needed

    if big_n is not None and r * k > big_n:
        raise InputError(
            f"population: sized for a large population, the round takes {r:,} pools of {k} "
            f"({r * k:,} samples), more than the {big_n:,} people here; so few are best tested "
            f"all (one by one with --sp 1 gives the exact count)",
            "population",
        )
    positive = pool_positive(k, p, se, sp)
    return ScreeningSize(
        samples=r * k,
        pools=r,
        pool_size=k,
        positive_pools_cutoff=cut,
        population_sensitivity=float(stats.binom.sf(cut - 1, r, positive)),
        population_specificity=float(stats.binom.cdf(cut - 1, r, 1.0 - sp)),
        method=method,
    )
