"""The design table (the plan's and the capacity model's lookup): for every prevalence the
same best design as :func:`labopt.pooling.optimize`, however it is found (D3 first stages
beyond 32 by a dynamic programme rather than every partition)."""

import numpy as np
import pytest

from labopt.pooling import optimize
from labopt.pooling.search import hierarchical_rows
from labopt.pooling.table import best_designs

GRID = np.array([0.0, 1e-4, 0.002, 0.01, 0.03, 0.08, 0.2, 0.5, 1.0])


@pytest.mark.parametrize(
    "max_pool, stages, se, sp",
    [(8, 2, 0.99, 0.99), (20, 3, 0.95, 0.98), (48, 3, 0.99, 0.99), (64, 4, 0.97, 0.995)],
)
def test_the_table_gives_the_searchs_best_design_for_every_prevalence(max_pool, stages, se, sp):
    table = best_designs(GRID, max_pool, stages, se, sp)
    for j, p in enumerate(GRID):
        best = optimize(float(p), max_size=max_pool, max_stages=stages, se=se, sp=sp).best
        assert table.designs[j] == best.design, p
        assert table.expected_tests_per_sample[j] == pytest.approx(
            best.expected_tests_per_sample, rel=1e-12
        )


@pytest.mark.parametrize("p", [1e-4, 0.003, 0.02, 0.07])
def test_d3_by_dynamic_programme_is_the_enumerations_best(p):
    se, sp, dil = np.full(3, 0.97), np.full(3, 0.99), np.ones(61)
    every, n_every = hierarchical_rows("D3", p, 3, 60, se, sp, dil, 0.0, 0.0, 1)
    fast, n_fast = hierarchical_rows("D3", p, 3, 60, se, sp, dil, 0.0, 0.0, 1, every_d3=False)
    assert (fast[0].first, fast[0].stage2) == (every[0].first, every[0].stage2)
    assert fast[0].et == pytest.approx(every[0].et, rel=1e-13)
    assert n_fast < n_every / 100  # the partitions of 33..60 are not scored one by one
