"""Assay accuracy per stage, and the optional dilution model (Se falling with pool size)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import ndtr  # the normal CDF; scipy.stats is slow to import

from labopt.errors import InputError
from labopt.numbers import shown
from labopt.pooling.validation import check_probability

# labopt's one default assay, for the pooling commands, the library and a scenario's policy
# alike (an illustrative assumption: a lab sets its own validated values)
SENSITIVITY = 0.95  # per stage
SPECIFICITY = 0.995  # per stage
MAX_STAGES = 2  # PCR rounds a pooled sample may take in a plan and in a design it suggests
SEARCH_STAGES = 3  # the stages `pool optimize` searches unless told: a design to weigh, not a plan


def per_stage(
    value: float | Sequence[float], n_stages: int, name: str, algorithm: str
) -> tuple[float, ...]:
    """One value per stage from a scalar or a per-stage sequence, validated.

    ``name`` is the parameter ("se" or "sp") used in error messages.
    """
    if isinstance(value, (int, float, np.floating, np.integer)):
        values = (float(value),) * n_stages
    else:
        values = tuple(float(v) for v in value)
        if len(values) == 1:
            values = values * n_stages
        elif len(values) != n_stages:
            raise InputError(
                f"{name}: give one value for every stage or {n_stages} values, one per stage of "
                f"{algorithm} in testing order; got {len(values)}",
                name,
            )
    for stage, v in enumerate(values, start=1):
        check_probability(v, f"{name} (stage {stage})", name)
    return values


def check_informative(se: Sequence[float], sp: Sequence[float]) -> None:
    """Reject stage accuracies with Se <= 1 - Sp: such a test carries no information."""
    for stage, (s, t) in enumerate(zip(se, sp, strict=False), start=1):
        if s <= 1.0 - t:
            raise InputError(
                f"se/sp (stage {stage}): sensitivity {s:g} must exceed 1 - specificity "
                f"{1.0 - t:g}; otherwise a positive result is no more likely for a positive "
                f"pool than for a negative one",
                "se/sp",
            )


@dataclass(frozen=True)
class DilutionModel:
    """Sensitivity of a pool test as a function of the number of samples pooled.

    Pooling k samples dilutes a positive's RNA k-fold, which delays its amplification by
    log2(k) / log2(1 + efficiency) cycles. A positive whose cycle threshold (Ct) alone would be
    detected (Ct <= ``ct_cutoff``) is still detected in a pool of k if Ct + shift <= cutoff.
    With Ct of positives ~ Normal(``ct_mean``, ``ct_sd``) the pool test's sensitivity is the
    assay's sensitivity times

        factor(k) = Phi((cutoff - shift(k) - mean) / sd) / Phi((cutoff - mean) / sd).

    The model assumes one positive per pool (conservative: several positives add signal).

    Defaults: cutoff 40 cycles, efficiency 100 %, and mean 29.2 / sd 8.34 cycles fitted by
    least squares to the pooled sensitivities measured by Bateman et al. (2020) from the Ct
    distribution of 838 positives: 93 %, 91 % and 81 % for pools of 5, 10 and 50 (the model
    gives 93.7 %, 90.3 % and 81.1 %). Only cutoff - mean matters, so a lab with another cutoff
    should shift the mean with it. These are illustrative defaults, not a property of any assay.

    References
    ----------
    Bateman AC, Mueller S, Guenther K, Shult P. Assessing the dilution effect of specimen
    pooling on the sensitivity of SARS-CoV-2 PCR tests. J Med Virol (2021, online 2020).
    doi:10.1002/jmv.26519
    """

    ct_mean: float = 29.2
    ct_sd: float = 8.34
    ct_cutoff: float = 40.0
    efficiency: float = 1.0

    def __post_init__(self) -> None:
        for name in ("ct_mean", "ct_sd", "ct_cutoff", "efficiency"):
            v = getattr(self, name)
            if not math.isfinite(v):
                raise InputError(
                    f"dilution {name}: must be a finite number, got {shown(v)}", f"dilution.{name}"
                )
        if self.ct_sd <= 0:
            raise InputError(
                f"dilution ct_sd: must be > 0 cycles, got {self.ct_sd:g}", "dilution.ct_sd"
            )
        if not 0 < self.efficiency <= 1:
            raise InputError(
                f"dilution efficiency: must be in (0, 1] (1 = doubling every cycle), "
                f"got {self.efficiency:g}",
                "dilution.efficiency",
            )

    def shift(self, k: int | np.ndarray) -> np.ndarray:
        """Ct delay (cycles) of a positive diluted in a pool of k samples."""
        return np.log2(k) / math.log2(1.0 + self.efficiency)

    def factor(self, k: int | np.ndarray) -> np.ndarray:
        """Multiplier of the assay's sensitivity for pools of k samples (1 for k = 1)."""
        detectable = ndtr((self.ct_cutoff - self.ct_mean) / self.ct_sd)
        return ndtr((self.ct_cutoff - self.shift(k) - self.ct_mean) / self.ct_sd) / detectable

    def factors(self, kmax: int) -> np.ndarray:
        """factor(k) for k = 0..kmax as an array indexed by pool size (entry 0 unused)."""
        return _factors(self, int(kmax))


@lru_cache(maxsize=64)
def _factors(model: DilutionModel, kmax: int) -> np.ndarray:
    out = np.ones(kmax + 1)
    if kmax >= 2:
        out[2:] = model.factor(np.arange(2, kmax + 1))
    out.setflags(write=False)
    return out


def dilution_factors(dilution: DilutionModel | None, kmax: int) -> np.ndarray:
    """Sensitivity multipliers by pool size; all ones when dilution is off (the default)."""
    if dilution is None:
        out = np.ones(kmax + 1)
        out.setflags(write=False)
        return out
    return dilution.factors(kmax)
