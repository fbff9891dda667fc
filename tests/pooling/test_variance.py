"""The variance of a design's reactions per sample (labopt.pooling.variance), which sizes the
plan's retest reserve: exact for IT and D2, a seeded simulation for the rest, checked here
against exact enumeration (three-stage hierarchies) within its documented error."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from labopt.pooling.variance import reactions_variance_per_sample

SE, SP = 0.95, 0.99


def exact_d3(sizes: tuple[int, ...], p: float) -> tuple[float, float]:
    """(mean, variance) of the reactions of one D3 block, by enumerating every true status of
    its samples and every result of its pool and sub-pool tests (errors independent given the
    true statuses): 1 pool, then each sub-pool if the pool is positive, then each member of a
    positive sub-pool of more than one sample."""
    k = sum(sizes)
    mean = second = 0.0
    for status in itertools.product((0, 1), repeat=k):
        weight = np.prod([p if z else 1 - p for z in status])
        bounds = np.cumsum((0, *sizes))
        sub = [any(status[a:b]) for a, b in itertools.pairwise(bounds)]
        pos = [SE if z else 1 - SP for z in sub]
        first = SE if any(status) else 1 - SP
        for results in itertools.product((0, 1), repeat=len(sizes)):
            pr = np.prod([q if r else 1 - q for q, r in zip(pos, results, strict=True)])
            later = len(sizes) + sum(s for s, r in zip(sizes, results, strict=True) if r and s > 1)
            for r1, q1 in ((1, first), (0, 1 - first)):
                reactions = 1 + r1 * later
                mean += weight * q1 * pr * reactions
                second += weight * q1 * pr * reactions**2
    return mean, second - mean**2


def test_d2_variance_is_exact():
    k, p = 8, 0.03
    clean = (1 - p) ** k
    q = SE * (1 - clean) + (1 - SP) * clean
    assert reactions_variance_per_sample("D2", str(k), p, SE, SP) == pytest.approx(
        k * q * (1 - q), rel=1e-12
    )
    assert reactions_variance_per_sample("IT", "1", p, SE, SP) == 0.0


@pytest.mark.parametrize(("sizes", "p"), [((3, 3), 0.05), ((4, 2, 2), 0.02), ((2, 2, 2, 1), 0.1)])
def test_three_stage_variance_is_within_its_documented_error(sizes, p):
    _, var = exact_d3(sizes, p)
    config = f"{sum(sizes)}:{','.join(map(str, sizes))}"
    got = reactions_variance_per_sample("D3", config, p, SE, SP)
    assert got == pytest.approx(var / sum(sizes), rel=0.05)
