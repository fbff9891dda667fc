"""Reactions per pooled sample: the best design for a prevalence under a lab's limits."""
from __future__ import annotations

from functools import lru_cache

from labopt.pooling import OperatingCharacteristics, optimize
from labopt.scenario.model import Policy


@lru_cache(maxsize=65536)
def _best(prevalence: float, max_pool: int, max_stages: int, se: float,
          sp: float) -> OperatingCharacteristics:
    res = optimize(prevalence, se=se, sp=sp, max_size=max_pool, max_stages=max_stages, top=1)
    return res.best        # IT always qualifies, so a best design exists


def best_design(prevalence: float, max_pool: int, policy: Policy) -> OperatingCharacteristics:
    """Lowest-ET design for one prevalence with pools up to ``max_pool`` samples and the
    policy's stage limit and pooled-assay accuracy. Reactions per sample, retests included:
    ``.expected_tests_per_sample``. Cached: districts often share a prevalence."""
    return _best(round(float(prevalence), 9), int(max_pool), policy.max_stages,
                 policy.pooling_se, policy.pooling_sp)
