"""Seeded Monte Carlo of a pooling design, to check the analytic operating characteristics.

Samples get random true statuses, pools are tested stage by stage with the imperfect assay
(each test positive with probability Se if the pool holds a positive, 1 - Sp otherwise) and
every sample is classified, exactly as a lab would run the design. Estimates come with
standard errors that account for samples of one block sharing tests (ratio estimators over
independent blocks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import labopt._simulate as _simulate
from labopt.errors import InputError
from labopt.pooling.assay import SENSITIVITY, SPECIFICITY, DilutionModel
from labopt.pooling.designs import ARRAYS, Design
from labopt.pooling.opchar import (
    OperatingCharacteristics,
    array_accuracy,
    as_design,
    pool_accuracy,
    stage_accuracy,
)
from labopt.pooling.validation import check_int, check_probabilities

MAX_SEED = 2**64 - 1


@dataclass(frozen=True)
class Estimate:
    """A simulated value and its standard error."""

    value: float
    se: float

    def z(self, expected: float) -> float:
        """(value - expected) / se; 0 when both agree exactly (se 0)."""
        if self.se == 0:
            return 0.0 if self.value == expected else math.inf
        return (self.value - expected) / self.se


@dataclass(frozen=True)
class SimulationResult:
    design: Design
    seed: int
    blocks: int
    samples: int
    positives: int
    expected_tests_per_sample: Estimate
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    npv: Estimate

    METRICS = ("expected_tests_per_sample", "sensitivity", "specificity", "ppv", "npv")

    def z_scores(self, analytic: OperatingCharacteristics) -> dict[str, float]:
        """Standardised differences from the analytic values, metric by metric."""
        return {m: float(getattr(self, m).z(float(getattr(analytic, m)))) for m in self.METRICS}

    def to_dict(self) -> dict:
        out = {
            "algorithm": self.design.algorithm,
            "config": self.design.config,
            "seed": self.seed,
            "blocks": self.blocks,
            "samples": self.samples,
            "positives": self.positives,
        }
        for m in self.METRICS:
            e = getattr(self, m)
            out[m] = {"value": e.value, "se": e.se}
        return out


def simulate(
    design: Design | str,
    config: str | int | None = None,
    *,
    prevalence=None,
    risks: Sequence[float] | None = None,
    se: float | Sequence[float] = SENSITIVITY,
    sp: float | Sequence[float] = SPECIFICITY,
    dilution: DilutionModel | None = None,
    samples: int = 1_000_000,
    seed: int = 0,
) -> SimulationResult:
    """Run a design on ``samples`` simulated samples (rounded up to whole blocks).

    Parameters are those of :func:`labopt.pooling.evaluate`; ``seed`` (0 .. 2**64-1) makes
    the run reproducible on any machine.
    """
    d = as_design(design, config)
    se_v, sp_v = stage_accuracy(d, se, sp)
    samples = check_int(samples, "samples", 1, 10**11)
    seed = check_int(seed, "seed", 0, MAX_SEED)
    if (prevalence is None) == (risks is None):
        raise InputError("prevalence/risks: give exactly one of them", "prevalence/risks")
    blocks = -(-samples // d.block_size)
    sums = np.zeros(_simulate.N_SUMS)
    if d.algorithm in ARRAYS:
        if risks is not None:
            raise InputError(f"risks: {d.algorithm} simulation takes a prevalence", "risks")
        p = float(check_probabilities(prevalence, "prevalence")[0])
        if np.ndim(prevalence) != 0:
            raise InputError("prevalence: simulate takes one prevalence at a time", "prevalence")
        (se_m, sp_m), (se_row, se_col, sp_rc), (se_i, sp_i) = array_accuracy(
            d, se_v, sp_v, dilution
        )
        _simulate.simulate_array(
            p,
            d.rows,
            d.cols,
            se_m,
            sp_m,
            se_row,
            se_col,
            sp_rc,
            se_i,
            sp_i,
            d.algorithm == "A2M",
            blocks,
            seed,
            sums,
        )
    else:
        if risks is not None:
            r = np.sort(check_probabilities(risks, "risks"))
            if r.size != d.block_size:
                raise InputError(f"risks: {d} needs {d.block_size} risks, got {r.size}", "risks")
        else:
            if np.ndim(prevalence) != 0:
                raise InputError(
                    "prevalence: simulate takes one prevalence at a time", "prevalence"
                )
            p = float(check_probabilities(prevalence, "prevalence")[0])
            r = np.full(d.block_size, p)
        tree, se_pool, sp_pool = pool_accuracy(d, se_v, sp_v, dilution)
        _simulate.simulate_tree(
            r, tree.start, tree.stop, tree.parent, se_pool, sp_pool, tree.leaf, blocks, seed, sums
        )
    return _estimates(d, seed, sums)


def _ratio(sy, sx, syy, sxy, sxx, b) -> Estimate:
    """Ratio estimator sum(y)/sum(x) over b independent blocks, with its standard error."""
    if sx == 0:
        return Estimate(math.nan, math.nan)
    r = float(sy / sx)
    resid = max(syy - 2 * r * sxy + r * r * sxx, 0.0)
    return Estimate(r, float(math.sqrt(resid * b / max(b - 1, 1)) / sx))


def _estimates(d: Design, seed: int, s: np.ndarray) -> SimulationResult:
    b = s[0]
    n = d.block_size
    mean_t = s[1] / b
    var_t = max(s[2] - s[1] * s[1] / b, 0.0) / max(b - 1, 1)
    return SimulationResult(
        design=d,
        seed=seed,
        blocks=int(b),
        samples=int(b * n),
        positives=int(s[3]),
        expected_tests_per_sample=Estimate(float(mean_t / n), float(math.sqrt(var_t / b) / n)),
        sensitivity=_ratio(s[4], s[3], s[5], s[6], s[7], b),
        specificity=_ratio(s[9], s[8], s[10], s[11], s[12], b),
        ppv=_ratio(s[4], s[13], s[5], s[14], s[15], b),
        npv=_ratio(s[9], s[16], s[10], s[17], s[18], b),
    )
