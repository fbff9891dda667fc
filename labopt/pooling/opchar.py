"""Operating characteristics of a pooling design with an imperfect assay.

Definitions follow binGroup2 (Hitt, Bilder et al.): expected tests per sample is the expected
number of reactions for a block (hierarchical group, or the whole array with its master pool)
divided by the block size; a test is positive with probability Se if the pool holds a positive
and 1 - Sp otherwise; overall PSe, PSp, PPPV and PNPV are prevalence-weighted over the samples
of a block (Altman & Bland), which for a common prevalence are plain means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import labopt._array as _array
import labopt._hierarchical as _hierarchical
from labopt.errors import InputError
from labopt.pooling.assay import (
    SENSITIVITY,
    SPECIFICITY,
    DilutionModel,
    check_informative,
    dilution_factors,
    per_stage,
)
from labopt.pooling.designs import ARRAYS, Design
from labopt.pooling.informative_array import arrange, array_opchar
from labopt.pooling.validation import check_probabilities

Number = float | np.ndarray


def binary_entropy(p) -> np.ndarray | float:
    """H(p) = -p log2 p - (1-p) log2(1-p): bits per sample, the floor on tests per sample
    for error-free identification (0.0808 at p = 0.01)."""
    arr = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(arr * np.log2(arr) + (1 - arr) * np.log2(1 - arr))
    h = np.where((arr <= 0) | (arr >= 1), 0.0, h)
    return float(h) if np.ndim(p) == 0 else h


@dataclass(frozen=True)
class OperatingCharacteristics:
    """What a design costs and how accurately it classifies.

    All fields are floats for one prevalence, arrays for a prevalence grid.

    Attributes
    ----------
    expected_tests_per_sample : reactions per sample, retests included (ET).
    sensitivity, specificity : pooling sensitivity PSe and specificity PSp (fractions).
    ppv, npv : pooling positive / negative predictive values (fractions).
    efficiency : H(p) / ET, the share of the entropy floor the design reaches (0..1 for an
        error-free design; it can exceed 1 with test errors, which also lose information).
    prevalence : the prevalence evaluated, or the mean individual risk for a risk vector.
    stages : PCR runs a sample may go through.
    """

    design: Design
    se: tuple[float, ...]
    sp: tuple[float, ...]
    prevalence: Number
    expected_tests_per_sample: Number
    sensitivity: Number
    specificity: Number
    ppv: Number
    npv: Number
    efficiency: Number
    dilution: DilutionModel | None = None

    @property
    def algorithm(self) -> str:
        return self.design.algorithm

    @property
    def config(self) -> str:
        return self.design.config

    @property
    def stages(self) -> int:
        return self.design.stages

    def split(self) -> list[OperatingCharacteristics]:
        """One scalar result per prevalence of a grid (the result itself if scalar)."""
        if np.ndim(self.prevalence) == 0:
            return [self]
        names = (
            "prevalence",
            "expected_tests_per_sample",
            "sensitivity",
            "specificity",
            "ppv",
            "npv",
            "efficiency",
        )
        return [
            OperatingCharacteristics(
                design=self.design,
                se=self.se,
                sp=self.sp,
                dilution=self.dilution,
                **{n: float(getattr(self, n)[i]) for n in names},
            )
            for i in range(np.size(self.prevalence))
        ]

    def to_dict(self) -> dict:
        """JSON-ready summary with the CLI's and the service's field names (NaN -> None)."""

        def num(x):
            if isinstance(x, np.ndarray):
                return [num(v) for v in x.tolist()]
            x = float(x)
            return None if math.isnan(x) else x

        return {
            "algorithm": self.algorithm,
            "config": self.config,
            "prevalence": num(self.prevalence),
            "expected_tests_per_sample": num(self.expected_tests_per_sample),
            "sensitivity": num(self.sensitivity),
            "specificity": num(self.specificity),
            "ppv": num(self.ppv),
            "npv": num(self.npv),
            "stages": self.stages,
            "efficiency": num(self.efficiency),
            "largest_pool": self.design.largest_pool,
            "block_size": self.design.block_size,
            "se": list(self.se),
            "sp": list(self.sp),
            "dilution": None if self.dilution is None else vars(self.dilution),
        }


def as_design(design: Design | str, config: str | int | None = None) -> Design:
    if isinstance(design, Design):
        if config is not None:
            raise InputError(
                "config: give either a Design or an algorithm code with a config", "config"
            )
        return design
    return Design.parse(design, "" if config is None else config)


def stage_accuracy(design: Design, se, sp) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Validated per-stage (Se, Sp) vectors for a design."""
    n = design.nominal_stages
    se_v = per_stage(se, n, "se", design.algorithm)
    sp_v = per_stage(sp, n, "sp", design.algorithm)
    check_informative(se_v, sp_v)
    return se_v, sp_v


def pool_accuracy(design: Design, se_v, sp_v, dilution: DilutionModel | None):
    """Se and Sp of every pool of a hierarchical design's tree (dilution applied).

    A pool's accuracy is that of the stage :meth:`Design.test_stages` gives it.
    """
    tree = design.tree()
    size = tree.size
    factors = dilution_factors(dilution, int(size.max()))
    stage = design.test_stages()
    se_pool = np.asarray(se_v)[stage - 1] * factors[size]
    sp_pool = np.ascontiguousarray(np.asarray(sp_v)[stage - 1])
    return tree, np.ascontiguousarray(se_pool), sp_pool


def array_accuracy(design: Design, se_v, sp_v, dilution: DilutionModel | None):
    """(master Se, Sp), (row Se, column Se, row/column Sp), (individual Se, Sp) of an array
    design; a row pools ``cols`` samples, a column ``rows`` (dilution by each size)."""
    r, c = design.rows, design.cols
    f = dilution_factors(dilution, r * c if design.algorithm == "A2M" else max(r, c))
    if design.algorithm == "A2M":
        rc = (se_v[1] * f[c], se_v[1] * f[r], sp_v[1])
        return (se_v[0] * f[r * c], sp_v[0]), rc, (se_v[2], sp_v[2])
    return (1.0, 1.0), (se_v[0] * f[c], se_v[0] * f[r], sp_v[0]), (se_v[1], sp_v[1])


def evaluate(
    design: Design | str,
    config: str | int | None = None,
    *,
    prevalence=None,
    risks: Sequence[float] | None = None,
    se: float | Sequence[float] = SENSITIVITY,
    sp: float | Sequence[float] = SPECIFICITY,
    dilution: DilutionModel | None = None,
    bingroup2_compat: bool = False,
) -> OperatingCharacteristics:
    """Operating characteristics of one pooling design.

    Parameters
    ----------
    design, config : Design, or an algorithm code (IT, D2-D5, A2, A2M, ID2-ID4, IA2) and its
        configuration string ("10", "12:4,4,4", "h16", "8x12", "20,10,5", "12,8:4,4,4,5,3").
    prevalence : float or 1-D array in [0, 1]
        Fraction of samples positive; an array evaluates a prevalence grid at once.
    risks : 1-D array in [0, 1], optional
        Individual risks of the samples of one block (length = block size), instead of a
        prevalence: required in spirit by ID2-ID4 and IA2, allowed for any hierarchical design.
        ID2, ID3 and ID4 sort them ascending and fill their pools in that order.
    se, sp : float or sequence
        Assay sensitivity and specificity, one value for all stages or one per stage in
        testing order (binGroup2's convention: arrays are (row/column, individual), A2M
        (master, row/column, individual)).
    dilution : DilutionModel, optional
        Lower each pool test's sensitivity with its pool size. Off by default.
    bingroup2_compat : bool
        Reproduce binGroup2 1.3.3 exactly where it departs from the model: A2M's PSp uses the
        row/column specificity for the master pool in one term. Only matters when the master
        and row/column specificities differ.

    Returns
    -------
    OperatingCharacteristics
        Floats for a scalar prevalence or a risk vector, arrays for a prevalence grid.

    References
    ----------
    Hitt BD, Bilder CR, Tebbs JM, McMahan CS. The objective function controversy for group
    testing: much ado about nothing? Statistics in Medicine 2019;38:4912-4923.
    Kim HY, Hudgens MG, Dreyfuss JM, Westreich DJ, Pilcher CD. Comparison of group testing
    algorithms for case identification in the presence of test error. Biometrics 2007;63.
    """
    d = as_design(design, config)
    se_v, sp_v = stage_accuracy(d, se, sp)
    if (prevalence is None) == (risks is None):
        raise InputError("prevalence/risks: give exactly one of them", "prevalence/risks")
    if risks is not None:
        r = check_probabilities(risks, "risks")
        if d.algorithm in ("A2", "A2M"):
            raise InputError(
                f"risks: {d.algorithm} places samples regardless of risk; give a prevalence, "
                f"or use IA2 (an array placed by risk)",
                "risks",
            )
        if r.size != d.block_size and d.algorithm != "IT":
            raise InputError(
                f"risks: {d} pools {d.block_size} samples per block; got {r.size} risks", "risks"
            )
        if d.algorithm == "IA2":
            return _evaluate_array_risks(d, r, se_v, sp_v, dilution)
        return _evaluate_risks(d, np.sort(r), se_v, sp_v, dilution)
    scalar = np.ndim(prevalence) == 0
    p = check_probabilities(prevalence, "prevalence")
    if d.algorithm in ARRAYS:
        et, pse, fpr = _array_grid(d, p, se_v, sp_v, dilution, bingroup2_compat)
    else:
        tree, se_pool, sp_pool = pool_accuracy(d, se_v, sp_v, dilution)
        et_block, pse_sum, fpr_sum = (np.empty(p.size) for _ in range(3))
        _hierarchical.tree_opchar_homogeneous(
            p, tree.size, tree.parent, se_pool, sp_pool, et_block, pse_sum, fpr_sum
        )
        n = d.block_size
        et, pse, fpr = et_block / n, pse_sum / n, fpr_sum / n
    out = _summarise(d, se_v, sp_v, dilution, p, et, pse, fpr)
    return _scalarise(out) if scalar else out


def _array_grid(d: Design, p: np.ndarray, se_v, sp_v, dilution, compat: bool):
    (se_m, sp_m), (se_row, se_col, sp_rc), (se_i, sp_i) = array_accuracy(d, se_v, sp_v, dilution)
    et, pse, fpr = (np.empty(p.size) for _ in range(3))
    _array.array_grid(
        p,
        d.rows,
        d.cols,
        se_row,
        se_col,
        sp_rc,
        se_i,
        sp_i,
        d.algorithm == "A2M",
        se_m,
        sp_m,
        bool(compat),
        et,
        pse,
        fpr,
    )
    return et, pse, fpr


def predictive_values(p, pse, fpr):
    """PPPV and PNPV for a common prevalence from PSe and 1 - PSp."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ppv = p * pse / (p * pse + (1 - p) * fpr)
        npv = (1 - p) * (1 - fpr) / ((1 - p) * (1 - fpr) + p * (1 - pse))
    return ppv, npv


def _summarise(d, se_v, sp_v, dilution, p, et, pse, fpr) -> OperatingCharacteristics:
    ppv, npv = predictive_values(p, pse, fpr)
    return OperatingCharacteristics(
        design=d,
        se=se_v,
        sp=sp_v,
        prevalence=p,
        expected_tests_per_sample=et,
        sensitivity=pse,
        specificity=1.0 - fpr,
        ppv=ppv,
        npv=npv,
        efficiency=binary_entropy(p) / et,
        dilution=dilution,
    )


def _scalarise(oc: OperatingCharacteristics) -> OperatingCharacteristics:
    fields = {
        k: getattr(oc, k)
        for k in (
            "prevalence",
            "expected_tests_per_sample",
            "sensitivity",
            "specificity",
            "ppv",
            "npv",
            "efficiency",
        )
    }
    return OperatingCharacteristics(
        design=oc.design,
        se=oc.se,
        sp=oc.sp,
        dilution=oc.dilution,
        **{k: float(np.asarray(v).reshape(-1)[0]) for k, v in fields.items()},
    )


def individual_opchar(d: Design, risks: np.ndarray, se_v, sp_v, dilution):
    """Expected tests per block and per-sample PSe and 1 - PSp for sorted risks.

    Individual testing takes any number of risks: each sample is its own block.
    """
    if d.algorithm == "IT":  # n individual tests, each with the one-stage accuracy
        d = Design("ID2", risks.size, (1,) * risks.size)
        se_v, sp_v = se_v * 2, sp_v * 2
    tree, se_pool, sp_pool = pool_accuracy(d, se_v, sp_v, dilution)
    pse = np.empty(risks.size)
    fpr = np.empty(risks.size)
    et = _hierarchical.tree_opchar(
        risks, tree.start, tree.stop, tree.parent, se_pool, sp_pool, tree.leaf, pse, fpr
    )
    return et, pse, fpr


def _evaluate_array_risks(d, r, se_v, sp_v, dilution) -> OperatingCharacteristics:
    """IA2: the risks in the design's arrangement, every sample its own probability."""
    _, (se_row, se_col, sp_rc), (se_i, sp_i) = array_accuracy(d, se_v, sp_v, dilution)
    p = arrange(r, d.rows, d.cols, d.spiral)
    et, pse, fpr = array_opchar(p, se_row, se_col, sp_rc, se_i, sp_i)
    return _summarise_risks(d, se_v, sp_v, dilution, p.ravel(), et, pse.ravel(), fpr.ravel())


def _evaluate_risks(d, r, se_v, sp_v, dilution) -> OperatingCharacteristics:
    et, pse, fpr = individual_opchar(d, r, se_v, sp_v, dilution)
    return _summarise_risks(d, se_v, sp_v, dilution, r, et, pse, fpr)


def _summarise_risks(d, se_v, sp_v, dilution, r, et, pse, fpr) -> OperatingCharacteristics:
    """Overall characteristics from each sample's risk, PSe and 1 - PSp (prevalence-weighted)
    and the block's expected tests ``et``."""
    neg = 1.0 - r
    fp = np.where(neg > 0, neg * np.nan_to_num(fpr), 0.0)  # p == 1: cannot be negative
    tp = r * pse
    with np.errstate(divide="ignore", invalid="ignore"):
        sens = tp.sum() / r.sum()
        spec = 1.0 - fp.sum() / neg.sum()
        ppv = tp.sum() / (tp.sum() + fp.sum())
        tn = neg.sum() - fp.sum()
        npv = tn / (tn + (r * (1 - pse)).sum())
    et_sample = et / r.size
    return OperatingCharacteristics(
        design=d,
        se=se_v,
        sp=sp_v,
        dilution=dilution,
        prevalence=float(r.mean()),
        expected_tests_per_sample=float(et_sample),
        sensitivity=float(sens),
        specificity=float(spec),
        ppv=float(ppv),
        npv=float(npv),
        efficiency=float(np.mean(binary_entropy(r)) / et_sample),
    )
