"""Dorfman (D2) over every pool size and a whole prevalence grid at once.

Planners sweep prevalence (and pool size) to see where pooling pays; this evaluates
k = 1..kmax for every prevalence in one pass (k = 1 is individual testing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

import labopt._hierarchical as _hierarchical
from labopt.pooling.assay import SENSITIVITY, SPECIFICITY, DilutionModel, dilution_factors
from labopt.pooling.designs import MAX_BLOCK, Design
from labopt.pooling.opchar import predictive_values, stage_accuracy
from labopt.pooling.validation import check_int, check_probabilities


@dataclass(frozen=True)
class DorfmanGrid:
    """Rows: prevalences; columns: pool sizes 1..kmax. Fractions and reactions per sample."""

    prevalence: np.ndarray  # (P,)
    pool_sizes: np.ndarray  # (K,) = 1..kmax
    expected_tests_per_sample: np.ndarray  # (P, K)
    false_positive_rate: np.ndarray  # (P, K): 1 - PSp
    sensitivity_by_size: np.ndarray  # (K,): PSe does not depend on prevalence

    @property
    def specificity(self) -> np.ndarray:
        return 1.0 - self.false_positive_rate

    @cached_property
    def _pv(self):
        return predictive_values(
            self.prevalence[:, None], self.sensitivity_by_size[None, :], self.false_positive_rate
        )

    @property
    def ppv(self) -> np.ndarray:
        return self._pv[0]

    @property
    def npv(self) -> np.ndarray:
        return self._pv[1]

    def best_pool_size(self) -> np.ndarray:
        """Pool size with the fewest reactions per sample, for each prevalence."""
        return self.pool_sizes[np.argmin(self.expected_tests_per_sample, axis=1)]


def dorfman_grid(
    prevalence,
    kmax: int = 100,
    se: float | Sequence[float] = SENSITIVITY,
    sp: float | Sequence[float] = SPECIFICITY,
    dilution: DilutionModel | None = None,
) -> DorfmanGrid:
    """Evaluate D2 for pool sizes 1..kmax at every prevalence.

    se, sp : one value, or (pool test, individual test) as for D2.
    """
    p = check_probabilities(prevalence, "prevalence")
    kmax = check_int(kmax, "kmax", 1, MAX_BLOCK)
    se_v, sp_v = stage_accuracy(Design("D2", 2), se, sp)
    f = np.ascontiguousarray(dilution_factors(dilution, max(kmax, 1)))
    et = np.empty((p.size, kmax))
    fpr = np.empty((p.size, kmax))
    _hierarchical.dorfman_grid(p, kmax, se_v[0], sp_v[0], se_v[1], sp_v[1], f, et, fpr)
    sizes = np.arange(1, kmax + 1)
    pse = np.where(sizes == 1, se_v[1], se_v[0] * f[sizes] * se_v[1])
    return DorfmanGrid(p, sizes, et, fpr, pse)
