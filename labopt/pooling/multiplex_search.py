"""The fewest reactions per sample with a two-disease assay: IT, D2, D3, A2 and A2M searched
whole.

Every sample has the same joint probabilities, so a D3 block's expected tests and the sums
of its samples' PSe and PSp for each disease add up over its sub-pools: a sub-pool of m
samples inside a pool of I contributes the same wherever it stands. The search tabulates each
(I, m) once, then scores every partition of every pool size I by adding up its parts, and
keeps those meeting the limits on each disease's PSe and PSp: exact under the limits. The
best designs are evaluated again by :func:`labopt.pooling.multiplex.evaluate_multiplex`.
Arrays: every r x c shape within the largest pool (a row of c samples for A2, the master pool
of r * c for A2M), scored at once by :mod:`labopt.pooling.multiplex_array`.
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from labopt.errors import InputError
from labopt.notes import Note
from labopt.pooling.assay import SENSITIVITY, SPECIFICITY
from labopt.pooling.designs import Design
from labopt.pooling.multiplex import (
    DISEASES,
    STATES,
    MultiplexCharacteristics,
    _combine,
    _positive,
    check_accuracy,
    check_joint,
    evaluate_multiplex,
    stage_accuracy,
)
from labopt.pooling.multiplex_array import array_costs, called_positive
from labopt.pooling.search import SearchConstraints, array_shapes
from labopt.pooling.validation import check_int

D3_MAX_POOL = 40  # 215,308 partitions of 3..40 in all: searched whole in well under a second
WORDS = "labopt.pooling.words:NOTES"


@dataclass
class MultiplexSearchResult:
    """The best multiplex design, the best few, and how much was searched."""

    best: MultiplexCharacteristics | None
    ranking: list[MultiplexCharacteristics]
    configurations_evaluated: int
    search_seconds: float
    constraints: SearchConstraints
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "best": None if self.best is None else self.best.to_dict(),
            "ranking": [oc.to_dict() for oc in self.ranking],
            "configurations_evaluated": self.configurations_evaluated,
            "search_seconds": self.search_seconds,
            "constraints": asdict(self.constraints),
            "notes": self.notes,
        }


def _states(n: int, p: np.ndarray) -> np.ndarray:
    """(4,) the states of n samples of joint probabilities p, together."""
    none, no_1, no_2 = p[0] ** n, (p[0] + p[2]) ** n, (p[0] + p[1]) ** n
    return np.array([none, no_2 - none, no_1 - none, 1.0 - no_1 - no_2 + none])


class _Tables:
    """Per pool size and part: expected tests and the sums of the part's samples' P(called
    positive) for each disease, given they have it or not."""

    def __init__(self, p: np.ndarray, se: np.ndarray, sp: np.ndarray):
        self.p, self.se, self.sp = p, se, sp
        self.pos = {s: _positive(se, sp, s) for s in range(1, se.shape[1] + 1)}
        has = np.array([[st[k] for st in STATES] for k in range(DISEASES)], dtype=bool)
        self.weights = {}  # (disease, has) -> a sample's state distribution given it
        for k in range(DISEASES):
            for h in (True, False):
                w = np.where(has[k] == h, p, 0.0)
                self.weights[k, h] = w / w.sum() if w.sum() > 0 else None

    def called(self, chain: list[tuple[int, int]], k: int, h: bool, final_stage: int) -> float:
        """P(a sample is called positive for k | has it or not): ``chain`` lists, from the
        innermost pool out, (samples the pool adds to the one inside it, its stage)."""
        w = self.weights[k, h]
        if w is None:
            return float("nan")
        for added, stage in chain:
            w = _combine(w, _states(added, self.p)) * self.pos[stage]
        s = final_stage - 1
        return float(w.sum()) * (self.se[k, s] if h else 1.0 - self.sp[k, s])

    def block_positive(self, n: int) -> float:
        return float((_states(n, self.p) * self.pos[1]).sum())

    def sub_positive(self, pool: int, m: int) -> float:
        """P(a pool of ``pool`` and its sub-pool of m both test positive)."""
        h = _states(m, self.p) * self.pos[2]
        return float((_combine(h, _states(pool - m, self.p)) * self.pos[1]).sum())

    def accuracy(self, chain, final_stage: int) -> np.ndarray:
        """(2, 2): per disease, PSe and PSp of a sample with this chain."""
        out = np.empty((DISEASES, 2))
        for k in range(DISEASES):
            out[k, 0] = self.called(chain, k, True, final_stage)
            out[k, 1] = 1.0 - self.called(chain, k, False, final_stage)
        return out


@functools.cache
def _partitions(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every partition of n into at least two parts, not all of one sample: their parts in
    one flat array (ascending within a partition) and where each partition starts."""
    flat: list[int] = []
    starts: list[int] = []
    for parts in _ascending(n):
        if 1 < len(parts) < n:
            starts.append(len(flat))
            flat.extend(parts)
    return np.asarray(flat, dtype=np.intp), np.asarray(starts, dtype=np.intp)


def _ascending(n: int):
    """The partitions of n, each a list of ascending parts (Kelleher's accelerated rule)."""
    a = [0] * (n + 1)
    k, y = 1, n - 1
    while k != 0:
        x = a[k - 1] + 1
        k -= 1
        while 2 * x <= y:
            a[k] = x
            y -= x
            k += 1
        last = k + 1
        while x <= y:
            a[k], a[last] = x, y
            yield a[: k + 2]
            x += 1
            y -= 1
        a[k] = x + y
        y = x + y - 1
        yield a[: k + 1]


def _evaluate(d: Design, p, se: np.ndarray, sp: np.ndarray) -> MultiplexCharacteristics:
    n = d.nominal_stages
    return evaluate_multiplex(
        d, joint=p, se=list(se[0, :n]), sp=list(sp[0, :n]), se2=list(se[1, :n]),
        sp2=list(sp[1, :n]),
    )  # fmt: skip


def optimize_multiplex(
    joint,
    *,
    se=SENSITIVITY,
    sp=SPECIFICITY,
    se2=None,
    sp2=None,
    constraints: SearchConstraints | None = None,
    top: int = 10,
) -> MultiplexSearchResult:
    """The designs (IT, D2, D3, A2, A2M) with the fewest expected reactions per sample for a
    two-disease assay, each disease's overall PSe and PSp at least the constraints' limits.

    ``joint``: one sample's (p00, p10, p01, p11); ``se``/``sp`` as for
    :func:`evaluate_multiplex` (per stage up to 3). The largest pool is the first-stage
    pool; D3 pools up to D3_MAX_POOL (a note says when the limit cuts the search)."""
    t0 = time.perf_counter()
    cons = constraints or SearchConstraints()
    p = check_joint(joint)
    if p.ndim != 1:
        raise InputError(
            "joint: the search takes one sample's four probabilities, every sample alike",
            "joint",
        )
    check_int(top, "top", 1, 1000)
    # the stages of the designs searched: IT runs stage 1, D2 and A2 stages 1-2, D3 and A2M 1-3
    searched = "the search's designs (IT uses stage 1, D2 and A2 stages 1-2, D3 and A2M 1-3)"
    se_m = stage_accuracy(se, se2, 3, "se", searched)
    sp_m = stage_accuracy(sp, sp2, 3, "sp", searched)
    check_accuracy(se_m, sp_m)
    tab = _Tables(p, se_m, sp_m)
    notes: list[str] = []
    scored: list[tuple[float, int, int, str, Design]] = []  # (ET, stages, pool, config, design)
    evaluated = 0

    def admit(design: Design, stages: int, tests: float, acc: np.ndarray) -> None:
        n = design.block_size  # (its stages given: Design.stages would build its pool tree)
        if bool(meets(acc[None] / n)[0]):
            scored.append((tests / n, stages, design.largest_pool, design.config, design))

    def meets(acc: np.ndarray) -> np.ndarray:
        """(n,) which of n designs' (n, 2, 2) PSe and PSp per disease meet the limits; an
        undefined value (PSe of a disease nobody has) meets a limit of 0 only."""
        ok = np.ones(acc.shape[0], dtype=bool)
        for j, bound in enumerate((cons.min_sensitivity, cons.min_specificity)):
            if bound > 0:
                with np.errstate(invalid="ignore"):
                    ok &= np.all(acc[:, :, j] >= bound - 1e-15, axis=1)
        return ok

    lo, hi = cons.min_size, cons.max_size
    if cons.max_stages >= 4:  # four-round hierarchies are not searched with two diseases
        notes.append(Note(WORDS, "multiplex_no_d4"))
    if lo <= 1:
        evaluated += 1
        admit(Design("IT", 1), 1, 1.0, tab.accuracy([], 1))
    if cons.max_stages >= 2:
        for k in range(max(2, lo), hi + 1):
            evaluated += 1
            one = tab.accuracy([(k - 1, 1)], 2)
            admit(Design("D2", k), 2, 1.0 + k * tab.block_positive(k), k * one)
    if cons.max_stages >= 3:
        top_pool = min(hi, D3_MAX_POOL)
        if hi > D3_MAX_POOL and lo <= D3_MAX_POOL:
            notes.append(Note(WORDS, "search_limit", family="D3", limit=D3_MAX_POOL, max_size=hi))
        for pool in range(max(3, lo), top_pool + 1):
            positive = tab.block_positive(pool)
            cost = np.zeros(pool)  # by sub-pool size m (index 0 unused)
            acc = np.zeros((pool, DISEASES, 2))
            cost[1], acc[1] = positive, tab.accuracy([(pool - 1, 1)], 2)
            for m in range(2, pool):
                cost[m] = positive + m * tab.sub_positive(pool, m)
                acc[m] = m * tab.accuracy([(m - 1, 2), (pool - m, 1)], 3)
            flat, starts = _partitions(pool)
            evaluated += starts.size
            tests = 1.0 + np.add.reduceat(cost[flat], starts)
            sums = np.add.reduceat(acc[flat], starts, axis=0) / pool  # (partitions, 2, 2)
            keep = np.flatnonzero(meets(sums))
            keep = keep[np.argsort(tests[keep], kind="stable")[:top]]
            ends = np.r_[starts[1:], flat.size]
            for i in keep.tolist():
                parts = tuple(int(m) for m in flat[starts[i] : ends[i]][::-1])
                d = Design("D3", pool, parts)
                scored.append((tests[i] / pool, 3, pool, d.config, d))
    for fam, stages in (("A2", 2), ("A2M", 3)):
        if cons.max_stages < stages:
            continue
        rows, cols = array_shapes(fam, lo, hi, cons.square_arrays)
        if rows.size == 0:
            continue
        evaluated += rows.size
        et, tested = array_costs(fam, p, rows, cols, se_m[:, :stages], sp_m[:, :stages])
        pse, psp = called_positive(p, tested, se_m[:, stages - 1], sp_m[:, stages - 1])
        keep = np.flatnonzero(meets(np.stack([pse, psp], axis=2)))
        for i in keep[np.argsort(et[keep], kind="stable")[:top]].tolist():
            d = Design(fam, int(rows[i]), columns=int(cols[i]))
            scored.append((float(et[i]), stages, d.largest_pool, d.config, d))
    scored.sort(key=lambda s: (float(f"{s[0]:.12g}"), s[1], s[2], s[3]))
    ranking = [_evaluate(s[4], p, se_m, sp_m) for s in scored[:top]]
    if not ranking:
        notes.append(
            Note(
                WORDS,
                "infeasible",
                families="IT/D2/D3/A2/A2M",
                min_size=cons.min_size,
                max_size=cons.max_size,
                max_stages=cons.max_stages,
                min_sensitivity=cons.min_sensitivity,
                min_specificity=cons.min_specificity,
            )
        )
    return MultiplexSearchResult(
        best=ranking[0] if ranking else None,
        ranking=ranking,
        configurations_evaluated=evaluated,
        search_seconds=time.perf_counter() - t0,
        constraints=cons,
        notes=notes,
    )
