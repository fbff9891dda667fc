"""Hierarchical pooling with a multiplex assay: one reaction tests for two diseases.

A sample is in one of four states, in binGroup2's order: neither disease (00), disease 1 only
(10), disease 2 only (01), both (11); ``joint`` gives their probabilities (p00, p10, p01, p11).
A pool tests positive for disease k with probability Se_k,s when it holds a sample with k and
1 - Sp_k,s otherwise (s: its stage), the two results independent given the pool's states.
A pool positive for either disease has its sub-pools (or samples) tested at the next stage;
a sample is called positive for disease k when its own, final test is positive for k.

The pools of one hierarchical block (IT, D2-D5, ID2-ID4) follow :meth:`Design.tree`. The
probability that a pool and every pool above it test positive is computed from the states of
the disjoint parts a chain of nested pools splits into: the innermost pool, then what each
pool adds to the pool inside it (a pool's state is the "or" of its parts'), so samples may
have different joint probabilities (informative designs). This is the model of binGroup2's
``opChar2`` for hierarchical algorithms (Bilder, Tebbs and McMahan 2019); the tests hold it to
binGroup2's values, to an enumeration of every state of small blocks, and to a simulation.
Arrays (A2, A2M, r x c, every sample alike) follow Hou et al.'s algorithm: see
:mod:`labopt.pooling.multiplex_array`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from labopt.errors import InputError
from labopt.pooling.assay import SENSITIVITY, SPECIFICITY, check_informative, per_stage
from labopt.pooling.designs import Design
from labopt.pooling.multiplex_array import array_costs, called_positive
from labopt.pooling.validation import check_probabilities

DISEASES = 2
# a state's index is d1 + 2 * d2: the "or" of two states is the "or" of their indices
STATES = ((0, 0), (1, 0), (0, 1), (1, 1))
_OR = np.array([[a | b for b in range(4)] for a in range(4)])
_JOINT_TOL = 1e-9  # the four probabilities must add up to 1 within this


def check_joint(joint, name: str = "joint") -> np.ndarray:
    """One sample's (p00, p10, p01, p11), or a (4, n) matrix of one column per sample: each in
    [0, 1], each column adding up to 1."""
    try:
        arr = np.asarray(joint, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected numbers in [0, 1], got {joint!r}", name) from None
    if arr.ndim not in (1, 2) or arr.shape[0] != 4:
        raise InputError(
            f"{name}: four probabilities (neither disease, disease 1 only, disease 2 only, "
            f"both) per sample, got shape {arr.shape}",
            name,
        )
    check_probabilities(arr.ravel(), name)
    total = arr.sum(axis=0)
    bad = np.flatnonzero(np.abs(np.atleast_1d(total) - 1.0) > _JOINT_TOL)
    if bad.size:
        where = "" if arr.ndim == 1 else f" (sample {bad[0] + 1})"
        raise InputError(
            f"{name}: the four probabilities must add up to 1{where}, they add up to "
            f"{float(np.atleast_1d(total)[bad[0]]):.10g}",
            name,
        )
    return arr


def stage_accuracy(value, second, stages: int, name: str, algorithm: str) -> np.ndarray:
    """(2, stages) Se or Sp of each disease at each stage: ``value`` one for every stage or one
    per stage, for both diseases unless ``second`` gives disease 2's (the same forms)."""
    first = per_stage(_number_or_numbers(value, name), stages, name, algorithm)
    if second is None:
        return np.array([first, first], dtype=float)
    name2 = f"{name}2"  # the parameter of disease 2's values
    row2 = per_stage(_number_or_numbers(second, name2), stages, name2, algorithm)
    return np.array([first, row2], dtype=float)


def _number_or_numbers(value, name: str):
    """A number or a sequence of numbers, as given (text and booleans refused, by name)."""
    items = value if isinstance(value, (list, tuple, np.ndarray)) else [value]
    for v in items:
        if isinstance(v, (bool, np.bool_, str)) or not isinstance(v, (int, float, np.number)):
            raise InputError(f"{name}: numbers in [0, 1] expected, got {v!r}", name)
    return value


@dataclass(frozen=True)
class MultiplexCharacteristics:
    """A multiplex design's cost and its accuracy for each disease.

    Attributes
    ----------
    expected_tests_per_sample : reactions per sample (each reaction tests both diseases).
    sensitivity, specificity, ppv, npv : (2,) overall pooling values per disease (fractions):
        weighted over the block's samples as binGroup2 does (Altman and Bland).
    individual : (n, 2, 4) each sample's PSe, PSp, PPPV, PNPV per disease.
    prevalence : (2,) the mean probability of each disease.
    """

    algorithm: str
    config: str
    expected_tests_per_sample: float
    sensitivity: np.ndarray
    specificity: np.ndarray
    ppv: np.ndarray
    npv: np.ndarray
    individual: np.ndarray
    prevalence: np.ndarray
    stages: int
    se: np.ndarray
    sp: np.ndarray

    def to_dict(self) -> dict:
        """JSON-ready: undefined values (a PPV with no positives) are None."""

        def num(x) -> float | None:
            return None if np.isnan(x) else float(x)

        return {
            "algorithm": self.algorithm,
            "config": self.config,
            "expected_tests_per_sample": self.expected_tests_per_sample,
            "stages": self.stages,
            "diseases": [
                {
                    "disease": k + 1,
                    "prevalence": num(self.prevalence[k]),
                    "sensitivity": num(self.sensitivity[k]),
                    "specificity": num(self.specificity[k]),
                    "ppv": num(self.ppv[k]),
                    "npv": num(self.npv[k]),
                }
                for k in range(DISEASES)
            ],
            "se": self.se.tolist(),
            "sp": self.sp.tolist(),
        }


def check_accuracy(se: np.ndarray, sp: np.ndarray) -> None:
    """Each disease's stages informative (Se > 1 - Sp), disease 2's named as such."""
    for k in range(DISEASES):
        try:
            check_informative(se[k], sp[k])
        except InputError as exc:
            if k == 0:
                raise
            raise InputError(f"disease 2: {exc}", "se2/sp2") from None


def _part_states(joint: np.ndarray) -> np.ndarray:
    """(4,) the probabilities of the states of a set of samples (columns of ``joint``): the
    "or" of theirs. An empty set is in state 00."""
    if joint.shape[1] == 0:
        return np.array([1.0, 0.0, 0.0, 0.0])
    none = float(np.prod(joint[0]))
    no_1 = float(np.prod(joint[0] + joint[2]))  # neither, or disease 2 only
    no_2 = float(np.prod(joint[0] + joint[1]))
    return np.array([none, no_2 - none, no_1 - none, 1.0 - no_1 - no_2 + none])


def _positive(se: np.ndarray, sp: np.ndarray, stage: int) -> np.ndarray:
    """(4,) P(a pool in each state tests positive for either disease at ``stage``)."""
    s = stage - 1
    negative = [
        (sp[0, s] if d1 == 0 else 1 - se[0, s]) * (sp[1, s] if d2 == 0 else 1 - se[1, s])
        for d1, d2 in STATES
    ]
    return 1.0 - np.array(negative)


def _combine(inner: np.ndarray, part: np.ndarray) -> np.ndarray:
    """The state distribution of a pool from (a measure over) the state of the pool inside it
    and the independent state of what it adds."""
    out = np.zeros(4)
    np.add.at(out, _OR.ravel(), np.outer(inner, part).ravel())
    return out


class _Block:
    """One block's pools and samples, with what the chains of pools need."""

    def __init__(self, design: Design, joint: np.ndarray, se: np.ndarray, sp: np.ndarray):
        self.tree = design.tree()
        self.stage = design.test_stages()  # the accuracy each pool is tested with
        self.joint, self.se, self.sp = joint, se, sp
        self.positive = {s: _positive(se, sp, s) for s in set(self.stage.tolist())}
        # samples alike: a pool's answers depend only on the sizes and stages along its chain,
        # so a block of thousands is worked out once per kind of chain
        self.alike = bool(np.all(joint == joint[:, :1]))
        self.memo: dict[tuple, float] = {}

    def _key(self, v: int, *extra) -> tuple | None:
        """The chain of pool v upward as (size, stage) pairs, when samples are alike."""
        if not self.alike:
            return None
        t, key = self.tree, list(extra)
        while v >= 0:
            key.append((int(t.stop[v] - t.start[v]), int(self.stage[v])))
            v = int(t.parent[v])
        return tuple(key)

    def chain(self, v: int, inner: np.ndarray, lo: int, hi: int) -> float:
        """P(pool v and every pool above it test positive, and the samples lo:hi inside v are
        in each state as weighed by ``inner``)."""
        t = self.tree
        h = inner
        while v >= 0:
            a, b = int(t.start[v]), int(t.stop[v])
            rest = np.concatenate([self.joint[:, a:lo], self.joint[:, hi:b]], axis=1)
            h = _combine(h, _part_states(rest)) * self.positive[int(self.stage[v])]
            lo, hi, v = a, b, int(t.parent[v])
        return float(h.sum())

    def tested(self, v: int) -> float:
        """P(pool v is tested): its parent and every pool above it tested positive."""
        parent = int(self.tree.parent[v])
        if parent < 0:
            return 1.0
        key = self._key(parent, "tested")
        if key is not None and key in self.memo:
            return self.memo[key]
        a, b = int(self.tree.start[parent]), int(self.tree.stop[parent])
        # the parent's samples as one part: the chain starts from their states
        got = self.chain(parent, _part_states(self.joint[:, a:b]), a, b)
        if key is not None:
            self.memo[key] = got
        return got

    def called_positive(self, i: int, disease: int, has: bool) -> float:
        """P(sample i is called positive for ``disease`` | it has it, or not)."""
        t = self.tree
        v = int(t.leaf[i])
        s = int(self.stage[v]) - 1
        own = self.joint[:, i]
        states = np.array([st[disease] == int(has) for st in STATES])
        weight = np.where(states, own, 0.0)
        if weight.sum() <= 0:
            return float("nan")
        weight = weight / weight.sum()
        final = self.se[disease, s] if has else 1.0 - self.sp[disease, s]
        parent = int(t.parent[v])
        if parent < 0:
            return final
        key = self._key(v, "called", disease, has)
        if key is not None and key in self.memo:
            return self.memo[key]
        got = final * self.chain(parent, weight, i, i + 1)
        if key is not None:
            self.memo[key] = got
        return got


def evaluate_multiplex(
    design: Design | str,
    config: str | int | None = None,
    *,
    joint,
    se=SENSITIVITY,
    sp=SPECIFICITY,
    se2=None,
    sp2=None,
) -> MultiplexCharacteristics:
    """Operating characteristics of a hierarchical design run with a two-disease assay.

    Parameters
    ----------
    design, config : Design, or an algorithm code (IT, D2-D5, ID2-ID4, A2, A2M) and its
        configuration (arrays: ``n`` or ``RxC``).
    joint : (p00, p10, p01, p11) of every sample, or a (4, block size) matrix: one column per
        sample of the block, in the order the design's pools take them (ID2: as given; sort
        them by risk first to follow binGroup2's informative ordering). Arrays: every sample
        alike.
    se, sp : one value for every stage, or one per stage in testing order: both diseases'.
    se2, sp2 : disease 2's, when it differs (the same forms).

    Returns
    -------
    MultiplexCharacteristics
    """
    d = design if isinstance(design, Design) else Design.parse(design, config or "")
    if d.algorithm == "IA2":
        raise InputError(
            "algorithm: IA2 with a multiplex assay is not available (it places samples by "
            "individual risk); A2, A2M and the hierarchical designs (IT, D2-D5, ID2-ID4) are",
            "algorithm",
        )
    stages = d.nominal_stages
    se_m = stage_accuracy(se, se2, stages, "se", d.algorithm)
    sp_m = stage_accuracy(sp, sp2, stages, "sp", d.algorithm)
    check_accuracy(se_m, sp_m)
    n = d.block_size
    p = check_joint(joint)
    if d.algorithm in ("A2", "A2M"):
        return _array(d, p, se_m, sp_m)
    if p.ndim == 1:
        p = np.repeat(p[:, None], n, axis=1)
    elif p.shape[1] != n:
        raise InputError(
            f"joint: one column per sample of the block ({n} for {d}), got {p.shape[1]}",
            "joint",
        )
    block = _Block(d, p, se_m, sp_m)
    tests = sum(block.tested(v) for v in range(block.tree.start.size))
    ind = np.full((n, DISEASES, 4), np.nan)
    prev = np.vstack([p[1] + p[3], p[2] + p[3]])  # (2, n) P(disease k) of each sample
    for i in range(n):
        for k in range(DISEASES):
            pse = block.called_positive(i, k, True)
            psp = 1.0 - block.called_positive(i, k, False)
            pk = prev[k, i]
            true_pos, false_pos = pk * pse, (1 - pk) * (1 - psp)
            true_neg, false_neg = (1 - pk) * psp, pk * (1 - pse)
            ppv = true_pos / (true_pos + false_pos) if true_pos + false_pos > 0 else np.nan
            npv = true_neg / (true_neg + false_neg) if true_neg + false_neg > 0 else np.nan
            ind[i, k] = (pse, psp, ppv, npv)
    overall = _overall(ind, prev)
    return MultiplexCharacteristics(
        algorithm=d.algorithm,
        config=d.config,
        expected_tests_per_sample=tests / n,
        sensitivity=overall[:, 0],
        specificity=overall[:, 1],
        ppv=overall[:, 2],
        npv=overall[:, 3],
        individual=ind,
        prevalence=prev.mean(axis=1),
        stages=d.stages,
        se=se_m,
        sp=sp_m,
    )


def _array(d: Design, p: np.ndarray, se: np.ndarray, sp: np.ndarray):
    """An A2 or A2M array's characteristics (every sample alike)."""
    if p.ndim == 2:
        if p.shape[1] != d.block_size or not np.all(p == p[:, :1]):
            raise InputError(
                f"joint: {d.algorithm} takes every sample alike: one sample's four "
                f"probabilities, or {d.block_size} equal columns",
                "joint",
            )
        p = p[:, 0]
    et, tested = array_costs(d.algorithm, p, d.rows, d.cols, se, sp)
    pse, psp = called_positive(p, tested, se[:, -1], sp[:, -1])
    prev = np.array([p[1] + p[3], p[2] + p[3]])
    one = np.full((1, DISEASES, 4), np.nan)
    one[0, :, 0], one[0, :, 1] = pse[0], psp[0]
    overall = _overall(one, prev[:, None])
    return MultiplexCharacteristics(
        algorithm=d.algorithm,
        config=d.config,
        expected_tests_per_sample=float(et[0]),
        sensitivity=overall[:, 0],
        specificity=overall[:, 1],
        ppv=overall[:, 2],
        npv=overall[:, 3],
        individual=np.repeat(overall[None], d.block_size, axis=0),
        prevalence=prev,
        stages=d.stages,
        se=se,
        sp=sp,
    )


def _overall(ind: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """(2, 4) PSe, PSp, PPPV, PNPV per disease over the block's samples, each sample weighed
    by its chance of having the disease (or not): binGroup2's overall values."""
    out = np.full((DISEASES, 4), np.nan)
    for k in range(DISEASES):
        pk = prev[k]
        pse, psp = ind[:, k, 0], ind[:, k, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            pse_w = np.nansum(pk * pse) / pk.sum() if pk.sum() > 0 else np.nan
            psp_w = np.nansum((1 - pk) * psp) / (1 - pk).sum() if (1 - pk).sum() > 0 else np.nan
            tp, fp = np.nansum(pk * pse), np.nansum((1 - pk) * (1 - psp))
            tn, fn = np.nansum((1 - pk) * psp), np.nansum(pk * (1 - pse))
            ppv = tp / (tp + fp) if tp + fp > 0 else np.nan
            npv = tn / (tn + fn) if tn + fn > 0 else np.nan
        out[k] = (pse_w, psp_w, ppv, npv)
    return out


def joint_from_text(text: str | Sequence[float]) -> np.ndarray:
    """(p00, p10, p01, p11) from "0.95,0.02,0.02,0.01" (or a sequence), checked."""
    if isinstance(text, str):
        try:
            values = [float(x) for x in text.split(",")]
        except ValueError:
            raise InputError(
                f"--joint: four numbers separated by commas (neither, disease 1 only, disease "
                f"2 only, both), got {text!r}",
                "joint",
            ) from None
    else:
        values = list(text)
    if len(values) != 4:
        raise InputError(
            f"--joint: four probabilities (neither, disease 1 only, disease 2 only, both), got "
            f"{len(values)}",
            "joint",
        )
    return check_joint(np.array(values), "joint")
