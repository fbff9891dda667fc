"""Spread of the reactions a design uses: how far a day's retests can stray from the mean."""

from __future__ import annotations

from functools import lru_cache

from labopt.pooling.designs import Design
from labopt.pooling.simulate import simulate


@lru_cache(maxsize=100_000)
def reactions_variance_per_sample(
    algorithm: str, config: str, prevalence: float, se: float, sp: float
) -> float:
    """Variance of the reactions one block uses, divided by its samples (reactions^2/sample).

    For n samples in independent blocks the day's reactions have variance n times this.
    Exact for IT (0) and D2: a pool of k costs 1 + k B, B ~ Bernoulli(q), q = P(pool tests
    positive), so k q (1 - q) per sample. Other designs: a seeded simulation of 50,000
    samples, within 5 % of the exact variance on three-stage designs (enumerated in
    tests/pooling/test_variance.py: errors of 0.3 % to 3.2 %); enough for a safety margin.
    """
    d = Design.parse(algorithm, config)
    if d.algorithm == "IT":
        return 0.0
    if d.algorithm == "D2":
        k = d.first
        clean = (1.0 - prevalence) ** k
        q = se * (1.0 - clean) + (1.0 - sp) * clean
        return k * q * (1.0 - q)
    sim = simulate(d, prevalence=prevalence, se=se, sp=sp, samples=50_000, seed=0)
    n = d.block_size
    # standard error of the mean tests per sample -> variance of tests per block
    var_block = (sim.expected_tests_per_sample.se * n) ** 2 * sim.blocks
    return var_block / n
