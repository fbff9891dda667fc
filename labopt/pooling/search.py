"""Optimal pooling designs under a lab's constraints.

The objective is the expected number of reactions per sample (ET). Each design family is
searched exhaustively over its configurations (see ``FAMILY_NOTES``); the kept candidates are
re-evaluated with :func:`labopt.pooling.evaluate` and ranked by

1. ET (compared to 12 significant digits, so float noise cannot reorder equal designs),
2. fewer stages (shorter turnaround), 3. smaller largest pool, 4. higher PSe, 5. higher PSp,
6. algorithm order IT, D2, D3, D4, D5, A2, A2M, ID2, ID3, 7. configuration text.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, overload

import numpy as np

import labopt._array as _array
import labopt._informative as _informative
import labopt._nested as _nested
import labopt._search as _search
from labopt.errors import InputError
from labopt.notes import Note
from labopt.pooling.assay import (
    SEARCH_STAGES,
    SENSITIVITY,
    SPECIFICITY,
    DilutionModel,
    dilution_factors,
)
from labopt.pooling.designs import (
    ALGORITHMS,
    HIERARCHICAL,
    INFORMATIVE,
    MAX_ARRAY_SIDE,
    MAX_BLOCK,
    NOMINAL_STAGES,
    Design,
    check_algorithm,
)
from labopt.pooling.grid import dorfman_grid
from labopt.pooling.limits import LabelBudgetExceeded, id2_parts, segments_under_limits
from labopt.pooling.opchar import OperatingCharacteristics, evaluate, stage_accuracy
from labopt.pooling.validation import check_int, check_probabilities, check_probability

WORDS = "labopt.pooling.words:NOTES"  # where the search's notes are said in each language

D3_MAX_POOL = 60  # 966,467 partitions of 60: the largest first stage searched whole
D3_ENUMERATED = 32  # the design table: D3 first stages beyond this by dynamic programming
D4_ENUMERATED = 40  # D4 first stages up to this size: every partition of it scored
ID2_LIMITS_MAX_POOL = 128  # pools of the exact search under PSe/PSp limits: (n, 129) tables
ID2_CAPS_WORK = 300_000_000  # risks x pool sizes scanned by the per-cap ID2 programmes
D4_MAX_POOL = 128  # larger first stages: the design of least ET for each (labopt._search.d4_dp)
D5_MAX_POOL = 64  # five stages: the design of least ET for each first stage (labopt._nested)
# informative pools searched: ID3 O(n K^3) for n risks and pools up to K, ID4 O(n K^5)
INFORMATIVE_MAX_POOL = {"ID3": 64, "ID4": 32}
MAX_SEARCH_STAGES = 5
FAMILY_NOTES = {
    "IT": "individual testing (pool size 1)",
    "D2": "every pool size k",
    "D3": "every first-stage size I and every partition of I into sub-pools (binGroup2's set)",
    "D4": "every first-stage size and, up to 40, every second-stage partition (beyond, the "
    "partition of least expected tests, by dynamic programming); each second-stage pool split "
    "at stage 3 to minimise its own expected tests (exact without binding PSe/PSp limits)",
    "D5": "every first-stage size to 64 and, for each, the five-stage design of least expected "
    "tests, by dynamic programming over the nested pools (exact without binding PSe/PSp limits)",
    "A2": "every r x c array, r <= c <= 100 (largest pool: a row of c)",
    "A2M": "every r x c array, r <= c <= 100 (largest pool: the r*c master pool)",
    "ID2": "contiguous pools of the sorted risks, by dynamic programming, for each cap on the "
    "pool size that can change the answer",
    "IA2": "every r x c array that holds the batch, both ways round (largest pool: the longer "
    "side), in the gradient and the spiral arrangement",
    "ID3": "contiguous pools of the sorted risks, each split into contiguous sub-pools, by "
    "dynamic programming over the pools and, within each, over its sub-pools, for every cap on "
    "the pool size up to 64",
    "ID4": "as ID3, each sub-pool split again into contiguous third-stage pools by its own "
    "dynamic programme, for every cap on the pool size up to 32",
}
AUTO_ORDER = ("IT", "D2", "D3", "D4", "D5", "A2", "A2M")


@dataclass(frozen=True)
class SearchConstraints:
    """What a lab allows. Pool sizes count the samples in the largest single reaction."""

    min_size: int = 1
    max_size: int = 10
    max_stages: int = SEARCH_STAGES
    min_sensitivity: float = 0.0
    min_specificity: float = 0.0
    square_arrays: bool = False  # n x n arrays only (binGroup2's OTC1 searches no others)

    def __post_init__(self) -> None:
        # stored as the checks return them: whole numbers as int, flags as bool
        fix = partial(object.__setattr__, self)
        fix("min_size", check_int(self.min_size, "min_size", 1, 10_000))
        fix("max_size", check_int(self.max_size, "max_size", 1, 10_000))
        fix("max_stages", check_int(self.max_stages, "max_stages", 1, MAX_SEARCH_STAGES))
        fix("min_sensitivity", check_probability(self.min_sensitivity, "min_sensitivity"))
        fix("min_specificity", check_probability(self.min_specificity, "min_specificity"))
        if not isinstance(self.square_arrays, bool | np.bool_):
            raise InputError(
                f"square_arrays: true or false, not {self.square_arrays!r}", "square_arrays"
            )
        fix("square_arrays", bool(self.square_arrays))
        if self.min_size > self.max_size:
            raise InputError(
                f"min_size/max_size: min_size {self.min_size} exceeds max_size {self.max_size}",
                "min_size/max_size",
            )

    def admits(self, oc: OperatingCharacteristics) -> bool:
        d = oc.design
        return (
            self.min_size <= d.largest_pool <= self.max_size
            and d.stages <= self.max_stages
            and _ge(float(oc.sensitivity), self.min_sensitivity)
            and _ge(float(oc.specificity), self.min_specificity)
        )


def _ge(value: float, bound: float) -> bool:
    return bound <= 0 or (not math.isnan(value) and value >= bound - 1e-15)


@dataclass
class OptimizationResult:
    """The best design, a ranked list of the best few, and how much was searched."""

    best: OperatingCharacteristics | None
    ranking: list[OperatingCharacteristics]
    configurations_evaluated: int
    search_seconds: float
    constraints: SearchConstraints
    algorithms: tuple[str, ...]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "best": None if self.best is None else self.best.to_dict(),
            "ranking": [oc.to_dict() for oc in self.ranking],
            "configurations_evaluated": self.configurations_evaluated,
            "search_seconds": self.search_seconds,
            "constraints": asdict(self.constraints),
            "algorithms": list(self.algorithms),
            "notes": self.notes,
        }


def rank_key(oc: OperatingCharacteristics):
    et = oc.expected_tests_per_sample
    return (
        float(f"{et:.12g}"),
        oc.stages,
        oc.design.largest_pool,
        -_nan_low(float(oc.sensitivity)),
        -_nan_low(float(oc.specificity)),
        ALGORITHMS.index(oc.algorithm),
        oc.config,
    )


def _nan_low(x: float) -> float:
    return -1.0 if math.isnan(x) else x


# one prevalence (or risks) gives one result; a prevalence grid gives one per value
@overload
def optimize(
    prevalence: float | None = None,
    *,
    risks: Sequence[float] | np.ndarray | None = None,
    algorithm: str = "auto",
    se: float | Sequence[float] = SENSITIVITY,
    sp: float | Sequence[float] = SPECIFICITY,
    constraints: SearchConstraints | None = None,
    top: int = 10,
    dilution: DilutionModel | None = None,
    bingroup2_compat: bool = False,
    **constraint_kwargs: Any,
) -> OptimizationResult: ...


@overload
def optimize(
    prevalence: np.ndarray | Sequence[float],
    *,
    risks: Sequence[float] | np.ndarray | None = None,
    algorithm: str = "auto",
    se: float | Sequence[float] = SENSITIVITY,
    sp: float | Sequence[float] = SPECIFICITY,
    constraints: SearchConstraints | None = None,
    top: int = 10,
    dilution: DilutionModel | None = None,
    bingroup2_compat: bool = False,
    **constraint_kwargs: Any,
) -> list[OptimizationResult]: ...


def optimize(
    prevalence: float | np.ndarray | Sequence[float] | None = None,
    *,
    risks: Sequence[float] | np.ndarray | None = None,
    algorithm: str = "auto",
    se: float | Sequence[float] = SENSITIVITY,
    sp: float | Sequence[float] = SPECIFICITY,
    constraints: SearchConstraints | None = None,
    top: int = 10,
    dilution: DilutionModel | None = None,
    bingroup2_compat: bool = False,
    **constraint_kwargs: Any,
) -> OptimizationResult | list[OptimizationResult]:
    """Lowest-ET designs of one family, or of every family ("auto"), under constraints.

    Parameters
    ----------
    prevalence : float or 1-D array in [0, 1]
        Fraction positive. An array runs one search per value and returns a list.
    risks : 1-D array in [0, 1], optional
        Individual risks of one batch of samples (informative pooling: ID2, ID3, ID4, IA2);
        the batch is the block. With risks, "auto" compares those with individual testing.
    algorithm : "auto" or one of IT, D2, D3, D4, D5, A2, A2M, ID2, ID3, ID4, IA2.
    se, sp : per-stage accuracy as in :func:`evaluate`. A per-stage vector must fit every
        family searched, so "auto" takes scalars only.
    constraints : SearchConstraints, or its fields as keyword arguments
        (min_size, max_size, max_stages, min_sensitivity, min_specificity, square_arrays).
    top : int
        Length of the ranked list.
    dilution : DilutionModel, optional
        Sensitivity falling with pool size (off by default); the search then favours smaller
        pools.

    Returns
    -------
    OptimizationResult (``best`` is None when no configuration meets the constraints; the
    ``notes`` say which limit binds), or a list of them for a prevalence grid.
    """
    if constraints is None:
        constraints = SearchConstraints(**constraint_kwargs)
    elif constraint_kwargs:
        raise InputError(
            "constraints: give a SearchConstraints or keyword limits, not both", "constraints"
        )
    top = check_int(top, "top", 1, 1000)
    code = "auto" if str(algorithm).strip().lower() == "auto" else check_algorithm(algorithm)
    if (prevalence is None) == (risks is None):
        raise InputError("prevalence/risks: give exactly one of them", "prevalence/risks")
    if code == "auto" and not (np.ndim(se) == 0 and np.ndim(sp) == 0):
        raise InputError(
            "se/sp: 'auto' compares families with different numbers of stages; "
            "give one sensitivity and one specificity for all stages",
            "se/sp",
        )
    if prevalence is None:  # so risks were given
        r = np.sort(check_probabilities(risks, "risks"))
        if code not in ("auto", "IT", *INFORMATIVE):
            raise InputError(
                f"algorithm: with individual risks the search covers ID2, ID3, ID4, IA2 (and IT); "
                f"{code} pools samples regardless of risk, give a prevalence instead",
                "algorithm",
            )
        families: tuple[str, ...] = ("IT", *INFORMATIVE) if code == "auto" else (code,)
        return _optimize_one(None, r, families, se, sp, constraints, top, dilution, False)
    if code in INFORMATIVE:
        raise InputError(
            f"risks: {code} (informative pooling) needs the individual risks of the "
            "batch; give risks=[...] instead of a prevalence",
            "risks",
        )
    families = AUTO_ORDER if code == "auto" else (code,)
    if np.ndim(prevalence) == 0:
        p = float(check_probabilities(prevalence, "prevalence")[0])
        return _optimize_one(
            p, None, families, se, sp, constraints, top, dilution, bingroup2_compat
        )
    grid = check_probabilities(prevalence, "prevalence")
    return [
        _optimize_one(
            float(p), None, families, se, sp, constraints, top, dilution, bingroup2_compat
        )
        for p in grid
    ]


def _optimize_one(
    p, risks, families, se, sp, cons: SearchConstraints, top: int, dilution, compat
) -> OptimizationResult:
    t0 = time.perf_counter()
    evaluated = 0
    notes: list[str] = []
    candidates: list[OperatingCharacteristics] = []
    keep = top + 10  # margin so the final tie-break sees every near-equal candidate
    for fam in families:
        designs, n_eval, fam_notes = _family_candidates(fam, p, risks, se, sp, cons, keep, dilution)
        evaluated += n_eval
        notes.extend(fam_notes)
        for d in designs:
            if p is None:
                oc = evaluate(d, risks=risks, se=se, sp=sp, dilution=dilution)
            else:
                oc = evaluate(
                    d, prevalence=p, se=se, sp=sp, dilution=dilution, bingroup2_compat=compat
                )
            if cons.admits(oc):
                candidates.append(oc)
    if len(families) > 1:
        candidates = _drop_equivalent(candidates)
    candidates.sort(key=rank_key)
    ranking = candidates[:top]
    if not ranking:
        (fam, *more) = families
        if not more and NOMINAL_STAGES[fam] > cons.max_stages:
            notes.append(Note(WORDS, "needs_stages", family=fam, stages=NOMINAL_STAGES[fam]))
        elif not more and fam == "IA2" and risks is not None and not _ia2_shapes(risks.size, cons):
            notes.append(Note(WORDS, "ia2_no_array", n=risks.size, max_size=cons.max_size))
        notes.append(_why_infeasible(families, cons))
    return OptimizationResult(
        best=ranking[0] if ranking else None,
        ranking=ranking,
        configurations_evaluated=evaluated,
        search_seconds=time.perf_counter() - t0,
        constraints=cons,
        algorithms=tuple(families),
        notes=notes,
    )


def _drop_equivalent(cands: list[OperatingCharacteristics]) -> list[OperatingCharacteristics]:
    """In 'auto' (one Se and Sp for every stage), designs that run the same pools are one
    design under two names (a D3 whose sub-pools are all single samples is Dorfman; an ID4
    whose third-stage pools are, an ID3; pools of one sample only, IT): keep the one of the
    first family in ALGORITHMS."""

    def same_pools(d: Design) -> tuple:
        if d.algorithm not in HIERARCHICAL:
            return (d.algorithm, d.config)
        t = d.tree()
        if bool((t.size == 1).all()):  # every sample tested on its own: IT
            return ("IT",)
        return (t.start.tobytes(), t.stop.tobytes(), t.parent.tobytes())

    named: dict[tuple, int] = {}
    for oc in cands:
        key = same_pools(oc.design)
        named[key] = min(named.get(key, len(ALGORITHMS)), ALGORITHMS.index(oc.algorithm))
    out, kept = [], set()
    for oc in cands:
        key = same_pools(oc.design)
        if ALGORITHMS.index(oc.algorithm) == named[key] and key not in kept:
            kept.add(key)
            out.append(oc)
    return out


def _family_candidates(
    fam: str,
    p: float | None,
    risks: np.ndarray | None,
    se: float | Sequence[float],
    sp: float | Sequence[float],
    cons: SearchConstraints,
    keep: int,
    dilution: DilutionModel | None,
) -> tuple[list[Design], int, list[str]]:
    """Designs worth evaluating in one family, the number of configurations scored, notes."""
    lo, hi = cons.min_size, cons.max_size
    notes: list[str] = []
    if fam == "IT":
        return ([Design("IT", 1)] if lo <= 1 else []), 1, notes
    if fam == "D2":
        if cons.max_stages < 2:
            return [], 0, notes
        return (*_dorfman_candidates(p, se, sp, cons, keep, dilution), notes)
    if fam in ("A2", "A2M"):
        if cons.max_stages < (2 if fam == "A2" else 3):
            return [], 0, notes
        return (*_array_candidates(fam, p, se, sp, cons, keep, dilution), notes)
    if fam in ("D3", "D4", "D5"):
        stages = NOMINAL_STAGES[fam]
        if cons.max_stages < stages:
            return [], 0, notes
        limit = {"D3": D3_MAX_POOL, "D4": D4_MAX_POOL, "D5": D5_MAX_POOL}[fam]
        imin, imax = max(stages, lo), min(hi, limit)
        if hi > limit:
            notes.append(Note(WORDS, "search_limit", family=fam, limit=limit, max_size=hi))
        limits = cons.min_sensitivity > 0 or cons.min_specificity > 0
        if fam == "D4" and limits and imax > D4_ENUMERATED:
            notes.append(Note(WORDS, "d4_limits_beyond", enumerated=D4_ENUMERATED))
        if fam == "D5" and limits:
            notes.append(Note(WORDS, "d5_limits"))
        if imin > imax:
            return [], 0, notes
        if fam == "D5":
            return (*_nested_search(fam, p, imin, imax, se, sp, keep, dilution), notes)
        return (*_hier_search(fam, p, imin, imax, se, sp, cons, keep, dilution), notes)
    limits = cons.min_sensitivity > 0 or cons.min_specificity > 0
    if fam in ("ID3", "ID4") and limits and cons.max_stages >= NOMINAL_STAGES[fam]:
        notes.append(Note(WORDS, "informative_limits", family=fam))
    if fam == "IA2":
        if cons.max_stages < 2 or risks is None:
            return [], 0, notes
        pairs = _ia2_shapes(risks.size, cons)
        designs = [Design(fam, r, columns=c, spiral=s) for r, c in pairs for s in (False, True)]
        return designs, len(designs), notes
    if fam == "ID2":
        if cons.max_stages < 2:
            return [], 0, notes
        designs, n_eval, id2_notes = _id2_candidates(risks, se, sp, cons, keep, dilution)
        return designs, n_eval, notes + id2_notes
    if fam in ("ID3", "ID4"):
        if cons.max_stages < NOMINAL_STAGES[fam]:
            return [], 0, notes
        limit = INFORMATIVE_MAX_POOL[fam]
        if risks is not None and min(hi, risks.size) > limit:
            notes.append(Note(WORDS, "search_limit", family=fam, limit=limit, max_size=hi))
        return (*_nested_informative_candidates(fam, risks, se, sp, cons, dilution), notes)
    raise AssertionError(fam)


def _hier_search(fam, p, imin, imax, se, sp, cons, keep, dilution):
    probe = Design("D3", 3, (1, 1, 1)) if fam == "D3" else Design("D4", 4, (2, 2), (1, 1, 1, 1))
    se_v, sp_v = stage_accuracy(probe, se, sp)
    rows, n_eval = hierarchical_rows(
        fam,
        p,
        imin,
        imax,
        np.asarray(se_v),
        np.asarray(sp_v),
        np.ascontiguousarray(dilution_factors(dilution, imax)),
        cons.min_sensitivity,
        cons.min_specificity,
        keep,
    )
    return [Design(fam, row.first, row.stage2, row.stage3) for row in rows], n_eval


def _ia2_shapes(n: int, cons: SearchConstraints) -> list[tuple[int, int]]:
    """(rows, columns) of every array of n samples within the pool sizes allowed, both ways
    round: turned on its side an array places the risks differently, so c x r is another
    design."""
    rows, cols = array_shapes("A2", cons.min_size, cons.max_size)
    whole = rows * cols == n  # the batch is one array
    pairs = list(zip(rows[whole].tolist(), cols[whole].tolist(), strict=True))
    return pairs + [(c, r) for r, c in pairs if r != c]


def _nested_search(fam, p, imin, imax, se, sp, keep, dilution):
    """For each first-stage size, the design of the family's stages with the least ET (the
    caller checks the limits on the full evaluation); the ``keep`` cheapest."""
    stages = NOMINAL_STAGES[fam]
    se_v, sp_v = stage_accuracy(Design.parse(fam, _EXAMPLE[fam]), se, sp)
    rows = imax - imin + 1
    et = np.empty(rows)
    parts = np.zeros((rows, stages - 2, imax), dtype=np.intp)
    counts = np.zeros((rows, stages - 2), dtype=np.intp)
    _nested.nested_dp(
        p, stages, imin, imax, np.asarray(se_v), np.asarray(sp_v),
        np.ascontiguousarray(dilution_factors(dilution, imax)), et, parts, counts,
    )  # fmt: skip
    order = [i for i in np.argsort(et, kind="stable") if np.isfinite(et[i])][:keep]
    designs = []
    for i in order:
        levels = [tuple(int(x) for x in parts[i, k, : counts[i, k]]) for k in range(stages - 2)]
        designs.append(Design(fam, imin + int(i), levels[0], levels[1], stage4=levels[2]))
    return designs, rows


_EXAMPLE = {"D5": "5:4,1:2,2:1,1,1,1"}


@dataclass(frozen=True)
class HierarchicalRow:
    """A D3/D4 configuration the kernels kept, with its expected tests per sample, PSe and
    1 - PSp (averaged over the block's samples)."""

    first: int
    stage2: tuple[int, ...]
    stage3: tuple[int, ...]
    et: float
    pse: float
    fpr: float


def hierarchical_rows(
    fam: str,
    p: float,
    imin: int,
    imax: int,
    se: np.ndarray,
    sp: np.ndarray,
    dilution: np.ndarray,
    min_sensitivity: float,
    min_specificity: float,
    keep: int,
    every_d3: bool = True,
) -> tuple[list[HierarchicalRow], int]:
    """The ``keep`` configurations of least expected tests with first-stage pools of
    ``imin``..``imax`` samples that meet the PSe/PSp limits (0: none), by ET; and the number
    of configurations scored. ``se``/``sp``: per stage; ``dilution``: factor per pool size.
    D3: every partition (with ``every_d3`` False and no limits, beyond D3_ENUMERATED only the
    partition of least ET for each first stage, the best design the same). D4: every
    partition up to D4_ENUMERATED, then the partition of least ET for each larger first
    stage."""
    if fam == "D3" and not every_d3 and min_sensitivity <= 0 and min_specificity <= 0:
        cut = min(imax, D3_ENUMERATED)
        spans = [(_search.d3_search, imin, cut), (_d3_dp, max(imin, cut + 1), imax)]
    elif fam == "D3":
        spans = [(_search.d3_search, imin, imax)]
    else:
        cut = min(imax, D4_ENUMERATED)
        spans = [(_search.d4_search, imin, cut), (_search.d4_dp, max(imin, cut + 1), imax)]
    min_pse = min_sensitivity - 1e-15 if min_sensitivity > 0 else -1.0
    min_psp = min_specificity - 1e-15 if min_specificity > 0 else -1.0
    rows: list[HierarchicalRow] = []
    n_eval = 0
    for kernel, lo, hi in spans:
        if lo > hi:
            continue
        metrics = np.zeros((keep, 5))
        parts2 = np.zeros((keep, imax), dtype=np.intp)
        parts3 = np.zeros((keep, imax), dtype=np.intp)
        n, kept = kernel(p, lo, hi, se, sp, dilution, min_pse, min_psp, metrics, parts2, parts3)
        n_eval += int(n)
        for r in range(kept):
            rows.append(
                HierarchicalRow(
                    int(metrics[r, 0]),
                    tuple(int(x) for x in parts2[r] if x > 0),
                    tuple(int(x) for x in parts3[r] if x > 0),
                    float(metrics[r, 1]),
                    float(metrics[r, 2]),
                    float(metrics[r, 3]),
                )
            )
    rows.sort(key=lambda row: row.et)  # stable: the enumeration's order among equals
    return rows[:keep], n_eval


def _d3_dp(p, lo, hi, se, sp, dilution, _min_pse, _min_psp, metrics, parts2, parts3):
    """labopt._search.d3_dp with d3_search's signature (it takes no PSe/PSp limits)."""
    return _search.d3_dp(p, lo, hi, se, sp, dilution, metrics, parts2, parts3)


def _dorfman_candidates(p, se, sp, cons, keep, dilution):
    """Score every pool size with the grid kernel; keep the best few for full evaluation."""
    kmin, kmax = max(2, cons.min_size), min(cons.max_size, MAX_BLOCK)
    if kmin > kmax:
        return [], 0
    g = dorfman_grid(np.array([p]), kmax, se=se, sp=sp, dilution=dilution)
    k = g.pool_sizes[kmin - 1 :]
    et = g.expected_tests_per_sample[0, kmin - 1 :]
    ok = (g.sensitivity_by_size[kmin - 1 :] >= cons.min_sensitivity - 1e-15) & (
        g.specificity[0, kmin - 1 :] >= cons.min_specificity - 1e-15
    )
    order = [i for i in np.argsort(et, kind="stable") if ok[i]][:keep]
    return [Design("D2", int(k[i])) for i in order], int(k.size)


def array_shapes(fam: str, min_size: int, max_size: int, square: bool = False):
    """Rows and columns of every array of family ``fam`` whose largest pool (a row of
    ``columns`` samples for A2, the master pool of rows*columns for A2M) is within the sizes;
    rows <= columns (an array and its transpose perform alike); squares only if ``square``."""
    side = np.arange(2, MAX_ARRAY_SIDE + 1, dtype=np.int_)
    r, c = np.meshgrid(side, side, indexing="ij")
    largest = r * c if fam == "A2M" else c
    keep = ((r == c) if square else (r <= c)) & (largest >= min_size) & (largest <= max_size)
    rows, cols = r[keep], c[keep]
    return rows, cols


def _array_candidates(fam, p, se, sp, cons, keep, dilution):
    """Score every array shape in the kernel; keep the best few for full evaluation."""
    master = fam == "A2M"
    rows, cols = array_shapes(fam, cons.min_size, cons.max_size, cons.square_arrays)
    if rows.size == 0:
        return [], 0
    se_v, sp_v = stage_accuracy(Design(fam, 2), se, sp)
    f = dilution_factors(dilution, int((rows * cols).max()) if master else int(cols.max()))
    off = 1 if master else 0
    se_m = np.ascontiguousarray(se_v[0] * f[rows * cols] if master else np.ones(rows.size))
    et, pse, fpr = (np.empty(rows.size) for _ in range(3))
    _array.array_sizes(
        p,
        rows,
        cols,
        np.ascontiguousarray(se_v[off] * f[cols]),
        np.ascontiguousarray(se_v[off] * f[rows]),
        sp_v[off],
        se_v[off + 1],
        sp_v[off + 1],
        master,
        se_m,
        sp_v[0] if master else 1.0,
        False,
        et,
        pse,
        fpr,
    )
    ok = (pse >= cons.min_sensitivity - 1e-15) & (1 - fpr >= cons.min_specificity - 1e-15)
    order = [i for i in np.argsort(et, kind="stable") if ok[i]][:keep]
    return [Design(fam, int(rows[i]), columns=int(cols[i])) for i in order], int(rows.size)


def _id2_candidates(risks, se, sp, cons, keep, dilution):
    """For each cap on the pool size, from the largest down, the ID2 design of least expected
    tests, until ``keep`` of them meet the PSe/PSp limits (a smaller cap never gives a
    cheaper design); with limits, also the designs of least expected tests meeting them.
    Returns the designs, the configurations scored and notes."""
    notes: list[str] = []
    probe = Design("ID2", 2, (1, 1))
    se_v, sp_v = stage_accuracy(probe, se, sp)
    n = risks.size
    hi = min(cons.max_size, n)
    f = np.ascontiguousarray(dilution_factors(dilution, max(hi, 1)))
    designs, seen = [], set()
    sizes = np.zeros(n, dtype=np.intp)
    limits = cons.min_sensitivity > 0 or cons.min_specificity > 0
    admitted, work = 0, 0
    budget = max(ID2_CAPS_WORK, 3 * n * hi)  # the first cap's programme and a few more

    def best_under(cap: int) -> int:
        nonlocal admitted, work
        count, _cost = _search.id2_dp(risks, se_v[0], sp_v[0], f, cons.min_size, cap, sizes)
        work += n * cap
        pools = tuple(int(x) for x in sizes[:count])
        if pools and pools not in seen:
            seen.add(pools)
            d = Design("ID2", n, pools)
            designs.append(d)
            oc = evaluate(d, risks=risks, se=se, sp=sp, dilution=dilution) if limits else None
            admitted += oc is None or cons.admits(oc)
            if admitted >= keep:
                return 0
        if pools and work > budget and min(cap, max(pools)) > max(1, cons.min_size):
            notes.append(Note(WORDS, "id2_caps_work", cap=min(cap, max(pools)), n=n))
            return 0
        return max(pools, default=0)

    evaluated = _each_cap(max(1, cons.min_size), hi, best_under)
    if (cons.min_sensitivity > 0 or cons.min_specificity > 0) and hi >= max(1, cons.min_size):
        # the cheapest design of each cap may miss the limits: the exact search under them
        top = min(hi, ID2_LIMITS_MAX_POOL)
        if hi > ID2_LIMITS_MAX_POOL:
            notes.append(Note(WORDS, "id2_limits_pool", limit=ID2_LIMITS_MAX_POOL, max_size=hi))
        cost, a, b = id2_parts(risks, se_v, sp_v, f, top)
        evaluated += 1
        try:
            # the limits as SearchConstraints.admits reads them, on the sums
            splits = segments_under_limits(
                cost, a, b, cons.min_size, top,
                _sum_needed(cons.min_sensitivity, float(risks.sum())),
                _sum_needed(cons.min_specificity, float(n - risks.sum())),
            )  # fmt: skip
        except LabelBudgetExceeded as exc:
            notes.append(Note(WORDS, "id2_limits_budget", labels=exc.labels))
            splits = [exc.found] if exc.found else []
        for pools in splits:
            if tuple(pools) not in seen:
                seen.add(tuple(pools))
                designs.append(Design("ID2", n, tuple(pools)))
    return designs, evaluated, notes


def _each_cap(lo: int, hi: int, best_under) -> int:
    """Call ``best_under(cap)`` (the design of least expected tests with pools of at most
    ``cap``; it returns that design's largest pool, or 0 to stop: none fits, or enough were
    found) for the caps from ``hi`` down to ``lo`` that can change the answer: a design best
    under cap c whose largest pool is L is also best under every cap from L to c. Returns the
    number of calls."""
    calls, cap = 0, hi
    while cap >= lo:
        largest = best_under(cap)
        calls += 1
        if largest == 0:  # nothing fits under a smaller cap either, or enough were found
            break
        cap = min(cap, largest) - 1
    return calls


def _sum_needed(bound: float, mass: float) -> float:
    """A limit on an overall PSe or PSp as a lower bound on its numerator, with the slack of
    :meth:`SearchConstraints.admits`; 0 when there is no limit."""
    return max(bound - 1e-15, 0.0) * mass if bound > 0 else 0.0


def _nested_informative_candidates(fam, risks, se, sp, cons, dilution):
    """For every cap on the pool size, the ID3 or ID4 design of least expected tests (each
    pool's best sub-pools, and in ID4 their best third-stage pools, scored once for all
    caps)."""
    probe = Design.parse(fam, "2:1,1" if fam == "ID3" else "2:1,1:")
    se_v, sp_v = (np.asarray(v) for v in stage_accuracy(probe, se, sp))
    n = risks.size
    hi = min(cons.max_size, n, INFORMATIVE_MAX_POOL[fam])
    if hi < max(1, cons.min_size):
        return [], 0
    f = np.ascontiguousarray(dilution_factors(dilution, max(hi, 1)))
    cost = np.empty((n + 1, hi + 1))
    _informative.pool_costs(risks, se_v, sp_v, f, cost)
    designs, seen = [], set()
    sizes = np.zeros(n, dtype=np.intp)
    subs = np.zeros(max(hi, 1), dtype=np.intp)
    thirds = np.zeros(max(hi, 1), dtype=np.intp)

    def best_under(cap: int) -> int:
        count, _total = _informative.segments_dp(cost, cons.min_size, cap, sizes)
        pools = tuple(int(x) for x in sizes[:count])
        if not pools or pools in seen:
            return max(pools, default=0)
        seen.add(pools)
        split: list[int] = []
        third: list[int] = []
        lo = 0
        for m in pools:
            if m > 1:
                k, j = _informative.pool_split(risks, se_v, sp_v, f, lo, lo + m, subs, thirds)
                split.extend(int(x) for x in subs[:k])
                third.extend(int(x) for x in thirds[:j])
            lo += m
        designs.append(Design(fam, n, pools, tuple(split), stage4=tuple(third)))
        return max(pools)

    return designs, _each_cap(max(1, cons.min_size), hi, best_under)


def _why_infeasible(families, cons: SearchConstraints) -> str:
    return Note(
        WORDS,
        "infeasible",
        families="/".join(families),
        min_size=cons.min_size,
        max_size=cons.max_size,
        max_stages=cons.max_stages,
        min_sensitivity=cons.min_sensitivity,
        min_specificity=cons.min_specificity,
    )
