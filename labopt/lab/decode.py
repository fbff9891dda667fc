"""Decoding pooled results by the design's rules: who is cleared, what runs next, who is positive.

The rules are binGroup2's (and :mod:`labopt.pooling`'s), applied to the results so far:

**Hierarchical designs** (IT, D2-D5, ID2-ID4). A first-stage pool is always tested; any
other pool is tested when its parent pool tested positive. A sample is *negative* as soon as a
pool holding it tests negative, and *positive* when its individual test is positive.

**Arrays** (A2, A2M). A2M tests the grid's master pool first; a negative master clears the
grid. Rows and columns are then tested (A2: at once). When every row and column has a result:
samples at the crossings of positive rows and positive columns are tested individually; if
rows are positive but no column is, every sample in the positive rows is tested; if columns
are positive but no row is, every sample in the positive columns; samples not retested are
negative.

**Invalid results** are repeated: an invalid pool is listed again, and the decisions that
depend on it wait (an array waits for all its rows and columns).

A result for a pool that was not to be tested (its parent is negative or has no result; an
array crossing that was not selected) is an error, never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from labopt.errors import InputError
from labopt.lab.manifest import COLUMN, FIELD, KINDS, MASTER, ROW, Manifest
from labopt.lab.results import INVALID, NEGATIVE, NONE, OUTCOMES, POSITIVE
from labopt.lab.tables import LabInputError, Problems

STATUSES = ("pending", "negative", "positive")
PENDING, CLEARED, DETECTED = 0, 1, 2  # sample status codes (index into STATUSES)
REASONS = ("first_stage", "next_stage", "repeat_invalid")
FIRST, NEXT, REPEAT = range(3)


@dataclass(frozen=True, eq=False)
class Decoding:
    """What the results so far mean.

    Attributes
    ----------
    manifest : Manifest
    outcome : numpy.ndarray of int
        Current result per pool (``labopt.lab.results.NONE``, NEGATIVE, POSITIVE, INVALID).
    ct : numpy.ndarray of float
        Ct of the current result (cycles; NaN when not given).
    due : numpy.ndarray of bool
        Pools the design requires to be tested, given the results so far.
    to_run : numpy.ndarray of int
        Pools to test in the next run, by stage then manifest order: due pools without a
        valid result (first tests, next-stage pools, repeats of invalid results).
    reason : numpy.ndarray of int
        Per ``to_run`` entry: index into ``REASONS``.
    status : numpy.ndarray of int
        Per sample (layout order): index into ``STATUSES``.
    decided_stage : numpy.ndarray of int
        Stage of the result that decided the sample (0 while pending).
    """

    manifest: Manifest
    outcome: np.ndarray
    ct: np.ndarray
    due: np.ndarray
    to_run: np.ndarray
    reason: np.ndarray
    status: np.ndarray
    decided_stage: np.ndarray

    @property
    def complete(self) -> bool:
        """Every sample has its final status."""
        return not bool((self.status == PENDING).any())

    @cached_property
    def counts(self) -> dict:
        s = np.bincount(self.status, minlength=3)
        return {
            "samples": self.manifest.n_samples,
            "positive": int(s[DETECTED]),
            "negative": int(s[CLEARED]),
            "pending": int(s[PENDING]),
            "reactions_next_run": int(self.to_run.size),
            "repeats_next_run": int((self.reason == REPEAT).sum()),
            "recollect": int(self.recollect_mask.sum()),
        }

    @cached_property
    def recollect_mask(self) -> np.ndarray:
        """Per ``to_run`` entry: its samples must be re-collected first (field pooling: a
        next-stage pool under a positive field tube)."""
        m = self.manifest
        if not m.field or self.to_run.size == 0:
            return np.zeros(self.to_run.size, dtype=bool)
        par = m.parent[self.to_run]
        return (self.reason == NEXT) & (par >= 0) & (m.kind[np.maximum(par, 0)] == FIELD)

    def statuses_frame(self) -> pd.DataFrame:
        """One row per sample (layout order): the sample columns, ``status`` (positive,
        negative, pending), ``decided_stage``, ``ct`` (of the sample's individual test, when
        it decided), ``next_pool`` (its pool in the next run, '' if none; an array's row and
        column as 'row;column') and ``action`` ('' when final; retest, recollect or wait)."""
        m = self.manifest
        keep = [
            c
            for c in ("sample_id", "stream", "district", "address_group", "block")
            if c in m.samples.columns
        ]
        out = m.samples[keep].copy()
        out["status"] = np.asarray(STATUSES, dtype=object)[self.status]
        out["decided_stage"] = self.decided_stage
        leaf = m.leaf
        out["ct"] = np.where(self.status == DETECTED, self.ct[leaf], np.nan)
        recol = np.zeros(m.n_samples, dtype=bool)
        p, s = m.members(self.to_run)
        flag = np.zeros(m.n_pools, dtype=bool)
        flag[self.to_run[self.recollect_mask]] = True
        recol[s] = flag[p]
        nxt = np.full(m.n_samples, "", dtype=object)
        nxt[s] = m.pool_id[p]
        in_run = np.zeros(m.n_samples, dtype=bool)
        in_run[s] = True
        order = np.argsort(s, kind="stable")  # arrays: a row and a column
        so, po = s[order], p[order]
        again = np.flatnonzero(so[1:] == so[:-1]) + 1
        nxt[so[again]] = [
            f"{a};{b}" for a, b in zip(m.pool_id[po[again - 1]], m.pool_id[po[again]], strict=False)
        ]
        out["next_pool"] = nxt
        action = np.where(
            self.status != PENDING,
            "",
            np.where(~in_run, "wait", np.where(recol, "recollect", "retest")),
        )
        out["action"] = action
        return out

    def run_list(self) -> pd.DataFrame:
        """The next run's reactions: pool_id, stage, kind, size, reason, recollect."""
        m = self.manifest
        p = self.to_run
        return pd.DataFrame(
            {
                "pool_id": m.pool_id[p],
                "stage": m.stage[p],
                "kind": np.asarray(KINDS, dtype=object)[m.kind[p]],
                "size": m.size[p],
                "reason": np.asarray(REASONS, dtype=object)[self.reason],
                "recollect": self.recollect_mask,
            }
        )

    def retest_manifest(self) -> pd.DataFrame:
        """The retest list as a manifest for the next run: one row per sample and pool to
        run, in run order: pool_id, stage, kind, reason, then the sample columns."""
        m = self.manifest
        p, s = m.members(self.to_run)
        rank = np.empty(m.n_pools, dtype=np.int64)
        rank[self.to_run] = np.arange(self.to_run.size)
        keep = [c for c in m.samples.columns if c not in ("position",)]
        out = pd.DataFrame(
            {
                "pool_id": m.pool_id[p],
                "stage": m.stage[p],
                "kind": np.asarray(KINDS, dtype=object)[m.kind[p]],
                "reason": np.asarray(REASONS, dtype=object)[self.reason[rank[p]]],
            }
        )
        smp = m.samples[keep].iloc[s].reset_index(drop=True)
        return pd.concat([out, smp], axis=1)

    def first_stage_frame(self) -> pd.DataFrame:
        """Valid first-stage results for prevalence estimation: pool_id, size, result,
        district, stream ('' when absent). Arrays: A2 row pools (disjoint, tested
        unconditionally); A2M master pools."""
        m = self.manifest
        if m.is_array:
            sel = np.flatnonzero(m.kind == (MASTER if m.design.algorithm == "A2M" else ROW))
        else:
            sel = m.first_stage
        sel = sel[np.isin(self.outcome[sel], (NEGATIVE, POSITIVE))]
        # a pool's district and stream: those of its first sample (blocks never mix them)
        col = 0 if not m.is_array else (0 if m.design.algorithm == "A2M" else 1)
        first_sample = _first_member(m, col)
        out = pd.DataFrame(
            {
                "pool_id": m.pool_id[sel],
                "size": m.size[sel],
                "result": np.asarray(OUTCOMES, dtype=object)[self.outcome[sel]],
            }
        )
        for c in ("district", "stream"):
            out[c] = m.samples[c].to_numpy()[first_sample[sel]] if c in m.samples.columns else ""
        return out


def _first_member(m: Manifest, col: int) -> np.ndarray:
    """First sample (layout order) of every pool in path column ``col`` (-1: none)."""
    pc = m.path[:, col]
    first = np.full(m.n_pools, m.n_samples, dtype=np.int64)
    ok = np.flatnonzero(pc >= 0)
    np.minimum.at(first, pc[ok], ok)
    return np.where(first == m.n_samples, -1, first)


def decode(
    manifest: Manifest, outcome: np.ndarray, ct: np.ndarray | None = None, source: str = "results"
) -> Decoding:
    """Decode the current result of every pool.

    Parameters
    ----------
    manifest : Manifest
    outcome : array of int, one per pool
        ``NONE`` (not tested yet), ``NEGATIVE``, ``POSITIVE`` or ``INVALID`` (see
        :mod:`labopt.lab.results`).
    ct : array of float, optional
        Ct value of each pool's result (cycles; NaN when absent).
    source : str
        Named in errors.

    Returns
    -------
    Decoding

    Raises
    ------
    LabInputError
        A pool has a result although the design did not call for testing it.
    """
    m = manifest
    outcome = np.asarray(outcome, dtype=np.int8)
    if outcome.shape != (m.n_pools,):
        raise InputError(
            f"outcome: expected one value per pool ({m.n_pools}), got {outcome.shape}", "outcome"
        )
    ct = np.full(m.n_pools, np.nan) if ct is None else np.asarray(ct, dtype=float)
    rule = _decode_array if m.is_array else _decode_tree
    due, status, decided = rule(m, outcome)
    tested = outcome != NONE
    not_run = tested & ~due
    if not_run.any():
        _report_not_run(m, outcome, not_run, source)
    need = due & ((outcome == NONE) | (outcome == INVALID))
    cand = np.flatnonzero(need)
    to_run = cand[np.lexsort((cand, m.stage[cand]))]
    reason = np.where(
        outcome[to_run] == INVALID, REPEAT, np.where(m.stage[to_run] == 1, FIRST, NEXT)
    ).astype(np.int8)
    return Decoding(
        manifest=m,
        outcome=outcome,
        ct=ct,
        due=due,
        to_run=to_run,
        reason=reason,
        status=status,
        decided_stage=decided,
    )


def _decode_tree(m: Manifest, outcome: np.ndarray):
    par = m.parent
    due = (par < 0) | (outcome[np.maximum(par, 0)] == POSITIVE)
    path = m.path
    valid = path >= 0
    res = np.where(valid, outcome[np.maximum(path, 0)], NONE)
    neg = res == NEGATIVE
    any_neg = neg.any(axis=1)
    first_neg = np.argmax(neg, axis=1)
    pos = outcome[m.leaf] == POSITIVE
    status = np.where(any_neg, 1, np.where(pos, 2, 0)).astype(np.int8)
    leaf_stage = m.stage[m.leaf]
    decided = np.where(any_neg, first_neg + 1, np.where(pos, leaf_stage, 0)).astype(np.int8)
    return due, status, decided


def _decode_array(m: Manifest, outcome: np.ndarray):
    P = m.n_pools
    nb = int(m.block.max())
    kind = m.kind
    master_ok = np.ones(nb + 1, dtype=bool)  # indexed by block (1-based)
    master_neg = np.zeros(nb + 1, dtype=bool)
    masters = np.flatnonzero(kind == MASTER)
    if masters.size:
        master_ok[m.block[masters]] = outcome[masters] == POSITIVE
        master_neg[m.block[masters]] = outcome[masters] == NEGATIVE
    is_line = (kind == ROW) | (kind == COLUMN)
    lines = np.flatnonzero(is_line)
    lb = m.block[lines]
    resolved_line = np.isin(outcome[lines], (NEGATIVE, POSITIVE))
    unresolved = np.bincount(lb, weights=~resolved_line, minlength=nb + 1) > 0
    pos_line = outcome[lines] == POSITIVE
    pos_rows = np.bincount(lb, weights=pos_line & (kind[lines] == ROW), minlength=nb + 1)
    pos_cols = np.bincount(lb, weights=pos_line & (kind[lines] == COLUMN), minlength=nb + 1)
    lines_done = master_ok & ~unresolved  # per block: every line has a result
    due = np.zeros(P, dtype=bool)
    due[masters] = True
    due[lines] = master_ok[lb]
    row_p, col_p, ind = m.path[:, 1], m.path[:, 2], m.path[:, 3]
    b = m.samples["block"].to_numpy()
    rpos = outcome[row_p] == POSITIVE
    cpos = outcome[col_p] == POSITIVE
    pick = lines_done[b] & (
        (rpos & cpos) | (rpos & (pos_cols[b] == 0)) | (cpos & (pos_rows[b] == 0))
    )
    due[ind] = pick
    ind_res = outcome[ind]
    status = np.zeros(m.n_samples, dtype=np.int8)
    decided = np.zeros(m.n_samples, dtype=np.int8)
    line_stage = 2 if masters.size else 1
    cleared_lines = lines_done[b] & ~pick
    status[cleared_lines] = 1
    decided[cleared_lines] = line_stage
    status[pick & (ind_res == NEGATIVE)] = 1
    status[pick & (ind_res == POSITIVE)] = 2
    decided[pick & np.isin(ind_res, (NEGATIVE, POSITIVE))] = line_stage + 1
    mn = master_neg[b]
    status[mn] = 1
    decided[mn] = 1
    return due, status, decided


def _report_not_run(m: Manifest, outcome: np.ndarray, not_run: np.ndarray, source: str) -> None:
    problems = Problems(source)
    bad = np.flatnonzero(not_run)
    for v in bad[:30]:
        pid = m.pool_id[v]
        p = m.parent[v]
        if not m.is_array or m.kind[v] in (ROW, COLUMN):
            if p >= 0:
                state = {NEGATIVE: "negative", INVALID: "invalid"}.get(
                    int(outcome[p]), "not tested yet"
                )
                why = f"its parent pool {m.pool_id[p]} is {state}"
            else:
                why = "it is not part of the design's tests"
        else:
            why = "its grid's rows and columns do not select it (or are not all tested yet)"
        problems.add(
            f"pool {pid} has a result but was not to be tested: {why}", column="pool_id", value=pid
        )
    if bad.size > 30:
        problems.add(f"{bad.size - 30} more pools with results that were not to be tested")
    raise LabInputError(problems.items, source)
