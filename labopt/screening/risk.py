"""Risk-based screening: which groups of a district to sample, and how many from each.

A district's people fall in groups of different risk (contacts' neighbourhoods, markets,
industrial parks, border crossings, the rest), each with a *relative risk* and a *share* of
the population. If the district is infected at the design prevalence p*, a person of group i
is infected with the *effective probability of infection* EPI_i = p* RR_i / sum_j(RR_j s_j)
(Martin, Cameron & Greiner 2007), so a sample from a riskier group is likelier to find it.

Two families of functions, as in :mod:`labopt.screening.freedom`:

- The published formulas, as RSurveillance and epiR compute them (their documented examples
  are reproduced in the tests): :func:`adjusted_risks`, :func:`effective_prevalence`,
  :func:`sep_risk_based`, :func:`sep_risk_based_hypergeometric`, :func:`n_risk_based`.
- labopt's allocation, :func:`allocate_for_detection`: the fewest pools (reactions of the
  round), formed within groups, that flag the district with the target sensitivity, each
  group giving at most the samples it can (``available``); with pool specificity below 1, with
  the cut-off on positive pools that keeps the population specificity at its target.
  :func:`detection_of` gives the sensitivity and specificity of any allocation.

Relative risks are ratios (> 0, against any reference group); shares and probabilities are
fractions; samples and pools are counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from labopt.errors import InputError
from labopt.notes import Note
from labopt.screening.freedom import (
    DEFAULT_SE,
    DEFAULT_SP,
    DEFAULT_SPECIFICITY,
    MAX_POOLS,
    METHODS,
    ScreeningSize,
    pool_positive,
    size_for_detection,
)
from labopt.screening.values import count, fraction, needed

# shares of the population must add up to 1 within this
_SHARES_SUM = 1e-6
# a sensitivity this close below the target reaches it (floating-point sums)
_TIE = 1e-12
# positive-pool counts less likely than this are dropped from a distribution (far tails)
_NEGLIGIBLE = 1e-16
# a group's minimum beyond this is no screening round (and would not fit in memory)
MAX_SAMPLES = 10_000_000


# --------------------------------------------------------------------------- published formulas
def _vector(name: str, values: Sequence[float] | np.ndarray, size: int | None = None) -> np.ndarray:
    v = np.atleast_1d(np.asarray(values, dtype=float))
    if v.ndim != 1 or (size is not None and v.size not in (1, size)):
        raise InputError(f"{name}: one value per risk group ({size}), got {v.size}", name)
    if not np.all(np.isfinite(v)):
        raise InputError(f"{name}: numbers, got {list(values)!r}", name)
    return np.broadcast_to(v, (size,)).copy() if size is not None else v


def adjusted_risks(relative_risk: Sequence[float], shares: Sequence[float]) -> np.ndarray:
    """Each group's risk relative to the population's average: RR_i / sum_j(RR_j s_j)
    (RSurveillance ``adj.risk``, epiR ``rsu.adjrisk``)."""
    rr = _vector("relative_risk", relative_risk)
    s = _vector("shares", shares, rr.size)
    if np.any(rr <= 0):
        raise InputError("relative_risk: each above 0", "relative_risk")
    if np.any(s < 0) or abs(s.sum() - 1.0) > _SHARES_SUM:
        raise InputError(
            f"shares: fractions of the population adding up to 1, got {s.sum():.6g}", "shares"
        )
    return rr / float(np.sum(rr * s))


def effective_prevalence(
    design_prevalence: float, relative_risk: Sequence[float], shares: Sequence[float]
) -> np.ndarray:
    """EPI_i = p* x adjusted risk_i: the probability that a person of group i is infected when
    the population is at the design prevalence (RSurveillance ``epi.calc``, epiR
    ``rsu.epinf``). Values above 1 are returned as they are: the R functions do the same."""
    p = fraction("design_prevalence", design_prevalence, low_open=True)
    return p * adjusted_risks(relative_risk, shares)


def sep_risk_based(
    design_prevalence: float,
    relative_risk: Sequence[float],
    shares: Sequence[float],
    samples: Sequence[int],
    se: float | Sequence[float] = 1.0,
) -> float:
    """Population sensitivity of n_i samples from each group, tested one by one, large groups:
    1 - prod_i (1 - Se_i EPI_i)^n_i (RSurveillance ``sep.rb.bin``, epiR ``rsu.sep.rb1rf``
    binomial)."""
    epi = effective_prevalence(design_prevalence, relative_risk, shares)
    n = _vector("samples", samples, epi.size)
    se_v = _vector("se", np.atleast_1d(se), epi.size)
    return float(1.0 - np.prod((1.0 - se_v * epi) ** n))


def sep_risk_based_hypergeometric(
    design_prevalence: float,
    relative_risk: Sequence[float],
    populations: Sequence[int],
    samples: Sequence[int],
    se: float | Sequence[float] = 1.0,
) -> float:
    """Population sensitivity of n_i of N_i people from each group, tested one by one, by the
    approximation 1 - prod_i (1 - Se_i n_i / N_i)^(EPI_i N_i), shares N_i / sum(N)
    (RSurveillance ``sep.rb.hypergeo``, epiR ``rsu.sep.rb1rf`` hypergeometric)."""
    big_n = _vector("populations", populations)
    epi = effective_prevalence(design_prevalence, relative_risk, big_n / big_n.sum())
    n = _vector("samples", samples, epi.size)
    se_v = _vector("se", np.atleast_1d(se), epi.size)
    return float(1.0 - np.prod((1.0 - se_v * n / big_n) ** (epi * big_n)))


def n_risk_based(
    target_sensitivity: float,
    design_prevalence: float,
    relative_risk: Sequence[float],
    shares: Sequence[float],
    sample_shares: Sequence[float],
    se: float | Sequence[float] = 1.0,
) -> tuple[list[int], int]:
    """(samples per group, total) when the planned proportions of the sample from each group
    are fixed, tested one by one: total = ceil(log(1 - SeP) / log(1 - sum_i(EPI_i sp_i Se_i))),
    each group but the last ceil(total sp_i), the last what is left (RSurveillance ``n.rb``,
    epiR ``rsu.sssep.rbsrg``; never below 0, where R's can be).

    The total treats every sample as drawn from the mix, which asks for at least as many as
    the per-group counts need (by Jensen's inequality): :func:`allocate_for_detection` counts
    per group."""
    target = fraction("target_sensitivity", target_sensitivity, high_open=True)
    epi = effective_prevalence(design_prevalence, relative_risk, shares)
    spr = _vector("sample_shares", sample_shares, epi.size)
    if np.any(spr < 0) or abs(spr.sum() - 1.0) > _SHARES_SUM:
        raise InputError(
            f"sample_shares: fractions of the sample adding up to 1, got {spr.sum():.6g}",
            "sample_shares",
        )
    se_v = _vector("se", np.atleast_1d(se), epi.size)
    hit = float(np.sum(epi * spr * se_v))
    if not 0 < hit < 1:
        raise InputError(
            f"sample_shares: a sample finds infection with probability {hit:.4g}; it must be "
            f"in (0, 1)",
            "sample_shares",
        )
    total = needed(math.log(1.0 - target) / math.log(1.0 - hit), "target_sensitivity")
    per = [math.ceil(total * float(x)) for x in spr[:-1]]
    # R gives the last group a negative count when the others' ceilings pass the total
    return [*per, max(0, total - sum(per))], total


# --------------------------------------------------------------------------- labopt's allocation
@dataclass(frozen=True)
class RiskGroup:
    """A group of a district's people: ``relative_risk`` of infection against any reference
    group (only ratios matter), ``share`` of the population (a fraction; the shares of a
    district's groups add up to 1), ``available``: people of the group who can be sampled
    today (None: as many as asked), ``at_least``: samples the group gives whatever its risk
    (so that the round also covers it; rounded up to whole pools within ``available``)."""

    name: str
    relative_risk: float
    share: float
    available: int | None = None
    at_least: int = 0


@dataclass(frozen=True)
class GroupSample:
    """What a round takes from one group: ``samples`` in ``pools`` pools (the last one smaller
    when the group gives every sample it has), and the group's ``effective_prevalence``."""

    group: str
    relative_risk: float
    share: float
    effective_prevalence: float
    samples: int
    pools: int


@dataclass(frozen=True)
class RiskBasedSize(ScreeningSize):
    """A screening round allocated by risk: a :class:`ScreeningSize` in all, and ``groups``:
    what each group gives."""

    groups: list[GroupSample]


def check_groups(groups: Sequence[RiskGroup]) -> list[RiskGroup]:
    """The groups, checked: unique non-empty names, relative risks above 0, shares adding up
    to 1, availability a count; InputError naming the group and the field."""
    out = list(groups)
    if not out:
        raise InputError("groups: at least one risk group", "groups")
    names = [g.name for g in out]
    for g in out:
        if not isinstance(g.name, str) or not g.name.strip():
            raise InputError("groups: every group needs a name", "groups")
        if names.count(g.name) > 1:
            raise InputError(f"groups: the name {g.name!r} is used twice", "groups")
        rr = g.relative_risk
        if isinstance(rr, bool) or not (isinstance(rr, (int, float)) and math.isfinite(rr)):
            raise InputError(f"relative_risk of {g.name!r}: a number above 0, got {rr!r}", "groups")
        if rr <= 0:
            raise InputError(f"relative_risk of {g.name!r}: above 0, got {rr!r}", "groups")
        fraction(f"share of {g.name!r}", g.share, low_open=True)
        if g.available is not None:
            count(f"available of {g.name!r}", g.available)
        least = count(f"at_least of {g.name!r}", g.at_least)
        if least > MAX_SAMPLES:
            raise InputError(
                f"at_least of {g.name!r}: at most {MAX_SAMPLES:,} samples, got {least:,}",
                "groups",
            )
        if g.available is not None and least > g.available:
            raise InputError(
                f"at_least of {g.name!r}: {least:,} samples, more than the {g.available:,} "
                f"available",
                "groups",
            )
    total = sum(g.share for g in out)
    if abs(total - 1.0) > _SHARES_SUM:
        raise InputError(
            f"groups: the shares of the population add up to {total:.6g}, not 1", "groups"
        )
    return out


def _epis(groups: list[RiskGroup], p: float) -> np.ndarray:
    epi = effective_prevalence(p, [g.relative_risk for g in groups], [g.share for g in groups])
    worst = int(np.argmax(epi))
    if epi[worst] > 1.0:
        raise InputError(
            f"design_prevalence: {p:g} makes group {groups[worst].name!r} "
            f"{epi[worst]:.3g} infected (its relative risk against the average is "
            f"{epi[worst] / p:.3g}); lower the design prevalence or that group's relative risk",
            "design_prevalence",
        )
    return epi


def _pools_of(samples: int, k: int) -> list[tuple[int, int]]:
    """(pool size, how many) of ``samples`` pooled by ``k``: whole pools, the last one what
    is left."""
    full, rest = divmod(samples, k)
    return [(m, n) for m, n in ((k, full), (rest, 1)) if m and n]


def _pool_count(samples: int, k: int) -> int:
    return -(-samples // k)


def detection_of(
    groups: Sequence[RiskGroup],
    samples: Sequence[int],
    design_prevalence: float,
    *,
    pool_size: int = 1,
    se: float = DEFAULT_SE,
    sp: float = DEFAULT_SP,
    cutoff: int = 1,
) -> tuple[float, float]:
    """(population sensitivity, population specificity) of ``samples[i]`` from each group,
    pooled within its group by ``pool_size`` (the last pool what is left), the district
    flagged when at least ``cutoff`` pools are positive. Exact for independent pools: the
    positive pools are a sum of binomials, one per group and pool size (large groups)."""
    from scipy import stats  # slow to import: only when needed

    gs = check_groups(groups)
    if len(samples) != len(gs):
        raise InputError(f"samples: one count per group ({len(gs)}), got {len(samples)}", "samples")
    p = fraction("design_prevalence", design_prevalence, low_open=True)
    k = count("pool_size", pool_size, 1)
    se = fraction("se", se, low_open=True)
    sp = fraction("sp", sp)
    c = count("cutoff", cutoff, 1)
    epi = _epis(gs, p)
    pmf = np.ones(1)
    pools = 0
    for e, n in zip(epi, samples, strict=True):
        n = count("samples", n)
        if n > MAX_SAMPLES:
            raise InputError(f"samples: at most {MAX_SAMPLES:,} a group, got {n:,}", "samples")
        for m, many in _pools_of(n, k):
            pmf = _add(pmf, many, pool_positive(m, float(e), se, sp))
            pools += many
    seps = float(pmf[c:].sum()) if c < pmf.size else 0.0
    return min(seps, 1.0), float(stats.binom.cdf(c - 1, pools, 1.0 - sp))


def _add(pmf: np.ndarray, n: int, q: float) -> np.ndarray:
    """The distribution of X + Bin(n, q) from X's (index: count), far tails dropped."""
    from scipy import stats  # slow to import: only when needed

    if n == 0:
        return pmf
    sd = math.sqrt(n * q * (1 - q))
    lo = max(0, math.floor(n * q - 40 * sd - 1))
    hi = min(n, math.ceil(n * q + 40 * sd + 1))
    part = stats.binom.pmf(np.arange(lo, hi + 1), n, q)
    out = np.zeros(pmf.size + hi)
    out[lo:] = np.convolve(pmf, part)
    keep = np.flatnonzero(out > _NEGLIGIBLE)
    return out[: keep[-1] + 1] if keep.size else out[:1]


def allocate_for_detection(
    groups: Sequence[RiskGroup],
    target_sensitivity: float,
    design_prevalence: float,
    *,
    pool_size: int = 1,
    se: float = DEFAULT_SE,
    sp: float = DEFAULT_SP,
    target_specificity: float = DEFAULT_SPECIFICITY,
) -> RiskBasedSize:
    """The fewest pools of ``pool_size`` (each one reaction of the round), formed within
    groups, that flag the district infected at the design prevalence with at least the target
    sensitivity; each group gives at most ``available`` samples.

    A pool's chance of being positive grows with its group's EPI, and with Sp < 1 the cut-off
    that keeps the population specificity depends only on the number of pools; so for any
    number of pools the best choice is the pools likeliest positive: the riskiest groups first,
    each until it has no more to give. The smallest number of pools that reaches the target
    that way is the smallest of any allocation. Groups are large (pools independent); to count
    a small known population tested one by one exactly, use
    :func:`~labopt.screening.freedom.size_for_detection`.
    """
    gs = check_groups(groups)
    target = fraction("target_sensitivity", target_sensitivity, low_open=True, high_open=True)
    p = fraction("design_prevalence", design_prevalence, low_open=True)
    k = count("pool_size", pool_size, 1)
    se = fraction("se", se, low_open=True)
    sp = fraction("sp", sp)
    spec = fraction("target_specificity", target_specificity, low_open=True, high_open=True)
    epi = _epis(gs, p)
    if se <= 1.0 - sp:
        raise InputError(
            f"sp: a pool test with se {se:g} <= 1 - sp ({1 - sp:g}) is positive no more often "
            f"for an infected pool than for a clean one; no number of pools detects anything",
            "sp",
        )
    if all(g.available == 0 for g in gs):
        raise InputError("groups: no group has anyone available to sample", "groups")
    false_alarm = 1.0 - sp
    # the pools each group gives whatever its risk (whole pools, within what it has)
    whole = [-(-g.at_least // k) * k for g in gs]
    forced = [
        w if g.available is None else min(g.available, w) for w, g in zip(whole, gs, strict=True)
    ]
    before = np.ones(1)  # the distribution of positive pools among the pools taken
    pools_before = 0
    for f, e in zip(forced, epi, strict=True):
        for m, n_pools in _pools_of(f, k):
            before = _add(before, n_pools, pool_positive(m, float(e), se, sp))
            pools_before += n_pools
    # blocks of identical further pools (group, pool size, how many), likeliest positive first
    blocks: list[tuple[float, int, int, float]] = []  # (positive, group index, size, count)
    for i, (g, e) in enumerate(zip(gs, epi, strict=True)):
        if g.available is None:
            blocks.append((pool_positive(k, float(e), se, sp), i, k, math.inf))
            continue
        full, rest = divmod(g.available - forced[i], k)
        if full > MAX_POOLS:  # more than a round can take: as many as asked
            blocks.append((pool_positive(k, float(e), se, sp), i, k, math.inf))
            continue
        if full:
            blocks.append((pool_positive(k, float(e), se, sp), i, k, full))
        if rest:
            blocks.append((pool_positive(rest, float(e), se, sp), i, rest, 1))
    blocks.sort(key=lambda b: (-b[0], b[1]))
    taken = [0] * len(blocks)
    if pools_before and _reaches(before, pools_before, target, spec, false_alarm):
        return _allocation(gs, epi, forced, blocks, taken, k, p, se, sp, spec)
    if (not blocks or blocks[0][0] - false_alarm <= 1e-12) and not pools_before:
        raise InputError(
            "design_prevalence: no pool is more often positive at the design prevalence than "
            "when no one is infected; no number of pools tells the two apart",
            "design_prevalence",
        )
    for b, (q, _group, _size, many) in enumerate(blocks):
        if q - false_alarm <= 1e-12:
            break  # pools no likelier positive than a clean one cannot help
        found = _within_block(before, pools_before, q, many, target, spec, false_alarm)
        if found is not None:
            taken[b] = found
            return _allocation(gs, epi, forced, blocks, taken, k, p, se, sp, spec)
        taken[b] = int(many)
        before = _add(before, int(many), q)
        pools_before += int(many)
    c = int(positive_pools_cutoff(pools_before, spec, false_alarm))
    best = float(before[c:].sum()) if c < before.size else 0.0
    raise InputError(
        f"target_sensitivity: every available sample of every group ({pools_before:,} pools) "
        f"flags the district with probability {best:.4f} < {target}; screen more people or "
        f"ask for less",
        "target_sensitivity",
    )


def size_round(
    target_sensitivity: float,
    design_prevalence: float,
    *,
    groups: Sequence[RiskGroup] | None = None,
    population: int | None = None,
    pool_size: int = 1,
    se: float = DEFAULT_SE,
    sp: float = DEFAULT_SP,
    target_specificity: float = DEFAULT_SPECIFICITY,
) -> ScreeningSize:
    """A place's round for detection: by its risk groups when given
    (:func:`allocate_for_detection`), else as one population
    (:func:`~labopt.screening.freedom.size_for_detection`). With groups, each group's people
    are its ``available``: a ``population`` as well is refused."""
    if groups is None:
        return size_for_detection(
            target_sensitivity, design_prevalence, pool_size=pool_size, se=se, sp=sp,
            population=population, target_specificity=target_specificity,
        )  # fmt: skip
    if population is not None:
        raise InputError(
            "population: with risk groups, each group's people who can be sampled are its "
            "'available'",
            "population",
        )
    return allocate_for_detection(
        groups, target_sensitivity, design_prevalence, pool_size=pool_size, se=se, sp=sp,
        target_specificity=target_specificity,
    )  # fmt: skip


def _reaches(before: np.ndarray, pools: int, target: float, spec: float, false_alarm: float):
    c = int(positive_pools_cutoff(pools, spec, false_alarm))
    return c < before.size and float(before[c:].sum()) >= target - _TIE


def positive_pools_cutoff(pools: int | np.ndarray, spec: float, false_alarm: float):
    """The fewest positive pools that flag a district, such that a district with no infection
    is flagged at most 1 - ``spec`` of the time (``false_alarm``: 1 - Sp of a pool; pools'
    false positives are binomial)."""
    from scipy import stats  # slow to import: only when needed

    if false_alarm == 0.0:
        return np.ones_like(pools) if isinstance(pools, np.ndarray) else 1
    c = stats.binom.ppf(spec, pools, false_alarm) + 1
    return c.astype(np.int64) if isinstance(c, np.ndarray) else int(c)


def _within_block(
    before: np.ndarray,
    pools_before: int,
    q: float,
    many: float,
    target: float,
    spec: float,
    false_alarm: float,
) -> int | None:
    """The fewest pools j <= many of this block that, with the blocks before, reach the
    target sensitivity; None if all of them do not."""
    from scipy import stats  # slow to import: only when needed

    start = 1
    limit = int(min(many, MAX_POOLS))
    while start <= limit:
        j = np.arange(start, min(max(start * 4, start + 64), limit) + 1)
        cut = positive_pools_cutoff(pools_before + j, spec, false_alarm)
        # P(X + Bin(j, q) >= c) = sum_x P(X = x) P(Bin(j, q) >= c - x)
        x = np.arange(before.size)[:, None]
        sens = (before[:, None] * stats.binom.sf(cut[None, :] - 1 - x, j[None, :], q)).sum(0)
        ok = np.flatnonzero(sens >= target - _TIE)
        if ok.size:
            return int(j[ok[0]])
        start = int(j[-1]) + 1
    if many > MAX_POOLS:
        raise InputError(
            f"target_sensitivity: not reached within {MAX_POOLS:,} pools", "target_sensitivity"
        )
    return None


def _allocation(
    gs: list[RiskGroup],
    epi: np.ndarray,
    forced: list[int],
    blocks: list[tuple[float, int, int, float]],
    taken: list[int],
    k: int,
    p: float,
    se: float,
    sp: float,
    spec: float,
) -> RiskBasedSize:
    samples = list(forced)
    for (_, i, size, _), n in zip(blocks, taken, strict=True):
        samples[i] += n * size
    method = Note(METHODS, "risk_cutoff" if sp < 1 else "risk_one")
    return _round_of(gs, epi, samples, k, p, se, sp, spec, method)


def every_available(
    groups: Sequence[RiskGroup],
    design_prevalence: float,
    *,
    pool_size: int = 1,
    se: float = DEFAULT_SE,
    sp: float = DEFAULT_SP,
    target_specificity: float = DEFAULT_SPECIFICITY,
) -> RiskBasedSize:
    """The round that takes every available sample of every group (each group's
    ``available`` must be known), with the cut-off of its pools: what a place whose groups
    cannot reach a target can still do."""
    gs = check_groups(groups)
    if any(g.available is None for g in gs):
        raise InputError("groups: every group needs its 'available' to take them all", "groups")
    p = fraction("design_prevalence", design_prevalence, low_open=True)
    k = count("pool_size", pool_size, 1)
    spec = fraction("target_specificity", target_specificity, low_open=True, high_open=True)
    samples = [int(g.available or 0) for g in gs]
    return _round_of(gs, _epis(gs, p), samples, k, p, se, sp, spec, "every available sample")


def _round_of(
    gs: list[RiskGroup],
    epi: np.ndarray,
    samples: list[int],
    k: int,
    p: float,
    se: float,
    sp: float,
    spec: float,
    method: str,
) -> RiskBasedSize:
    """The round of ``samples`` from each group, pooled within groups, flagged at the cut-off
    of its pools."""
    pools = [_pool_count(n, k) for n in samples]
    cut = positive_pools_cutoff(sum(pools), spec, 1.0 - sp)
    sens, spec_got = detection_of(gs, samples, p, pool_size=k, se=se, sp=sp, cutoff=cut)
    return RiskBasedSize(
        samples=sum(samples),
        pools=sum(pools),
        pool_size=k,
        positive_pools_cutoff=cut,
        population_sensitivity=sens,
        population_specificity=spec_got,
        method=method,
        groups=[
            GroupSample(g.name, g.relative_risk, g.share, float(e), n, r)
            for g, e, n, r in zip(gs, epi, samples, pools, strict=True)
        ],
    )
