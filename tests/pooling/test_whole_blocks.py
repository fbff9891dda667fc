"""Reactions of samples in whole pools and arrays: a partial last block runs its whole first
stage (labopt.pooling.designs.Design.whole_block_reactions)."""

from __future__ import annotations

import math

import pytest

from labopt.pooling import evaluate
from labopt.pooling.designs import Design


def per_sample(design: Design, p: float) -> float:
    return float(
        evaluate(
            design.algorithm, design.config, prevalence=p, se=0.95, sp=0.99
        ).expected_tests_per_sample
    )


@pytest.mark.parametrize(
    ("algorithm", "config", "block", "first"),
    [("D2", "8", 8, 1), ("D3", "9:3,3,3", 9, 1), ("A2", "6", 36, 12), ("A2M", "5", 25, 1)],
)
def test_full_blocks_cost_the_design_and_a_partial_one_its_whole_first_stage(
    algorithm, config, block, first
):
    d = Design.parse(algorithm, config)
    assert (d.block_size, d.first_stage_reactions) == (block, first)
    e = per_sample(d, 0.02)
    for blocks in (1, 3):
        assert d.whole_block_reactions(blocks * block, e) == pytest.approx(blocks * block * e)
    # one sample more opens a block: its first stage in full, its later stages per sample
    n = 2 * block + 1
    assert d.whole_block_reactions(n, e) == pytest.approx(
        2 * block * e + first + (e - first / block)
    )
    assert d.whole_block_reactions(0, e) == 0.0


@pytest.mark.parametrize("k", [4, 8, 16])
@pytest.mark.parametrize("p", [0.005, 0.05])
def test_a_partial_pool_costs_at_least_what_a_pool_of_its_size_really_costs(k, p):
    """Dorfman: r < k samples in one pool cost 1 + r x P(pool of r positive) reactions in
    expectation (the design evaluated with pools of r); the whole-block count is an upper
    bound (its later stages at the full pool's rate), tight for a full pool."""
    full = Design.parse("D2", str(k))
    e = per_sample(full, p)
    for r in range(2, k + 1):
        exact = r * per_sample(Design.parse("D2", str(r)), p)
        counted = full.whole_block_reactions(r, e)
        assert counted >= exact - 1e-12
        assert counted >= 1.0  # the pool's own reaction, however few samples it holds
    assert full.whole_block_reactions(k, e) == pytest.approx(k * e)
    assert math.isclose(full.whole_block_reactions(1, e), 1 + (e - 1 / k))
