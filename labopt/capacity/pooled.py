"""Reactions per pooled sample: the best design for a prevalence under a lab's limits."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from labopt.pooling.designs import Design
from labopt.pooling.table import DesignTable, best_designs
from labopt.scenario.model import Policy


def design_table(
    prevalence: npt.ArrayLike, max_pool: int, policy: Policy, max_block: int | None = None
) -> DesignTable:
    """Lowest-ET design for each prevalence with pools up to ``max_pool`` samples (and blocks
    of at most ``max_block`` samples) and the policy's stage limit and pooled-assay accuracy.
    Reactions per sample, retests included: ``.expected_tests_per_sample``."""
    return best_designs(
        np.asarray(prevalence, dtype=float),
        int(max_pool),
        policy.max_stages,
        policy.pooling_se,
        policy.pooling_sp,
        max_block,
    )


@lru_cache(maxsize=65536)
def _one(
    prevalence: float, max_pool: int, max_stages: int, se: float, sp: float
) -> tuple[Design, float]:
    t = best_designs(np.array([prevalence]), max_pool, max_stages, se, sp)
    return t.designs[0], float(t.expected_tests_per_sample[0])


def best_design(prevalence: float, max_pool: int, policy: Policy) -> tuple[Design, float]:
    """(design, reactions per sample) for one prevalence; cached."""
    return _one(
        float(prevalence), int(max_pool), policy.max_stages, policy.pooling_se, policy.pooling_sp
    )
