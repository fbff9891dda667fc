"""Best design for many prevalences at once (the scheduler's and capacity model's lookup).

Same answer as :func:`labopt.pooling.optimize` (lowest expected tests per sample, same
tie-break order, no PSe/PSp limits) for every prevalence of an array, but scored straight
from the kernels: Dorfman and arrays for the whole grid in one pass, hierarchical searches
per distinct prevalence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import labopt._array as _array
from labopt.pooling.designs import ALGORITHMS, Design
from labopt.pooling.grid import dorfman_grid
from labopt.pooling.search import D3_MAX_POOL, D4_MAX_POOL, array_shapes, hierarchical_rows
from labopt.pooling.validation import check_int, check_probabilities


@dataclass(frozen=True)
class DesignTable:
    """One row per input prevalence: the best design and what it costs."""

    prevalence: np.ndarray
    designs: list[Design]
    expected_tests_per_sample: np.ndarray
    sensitivity: np.ndarray
    false_positive_rate: np.ndarray


def best_designs(
    prevalence,
    max_pool: int,
    max_stages: int,
    se: float,
    sp: float,
    max_block: int | None = None,
) -> DesignTable:
    """Lowest-ET design with pools of at most ``max_pool`` samples and at most
    ``max_stages`` PCR rounds, for each prevalence (scalar Se/Sp for every stage);
    ``max_block``: at most that many samples per block (r x c for an array), e.g. the samples
    there are to test, so that a small batch does not open a large array."""
    p_all = check_probabilities(prevalence, "prevalence")
    max_pool = check_int(max_pool, "max_pool", 1, 10_000)
    max_stages = check_int(max_stages, "max_stages", 1, 4)
    block = (
        max_pool * max_pool if max_block is None else check_int(max_block, "max_block", 1, 10**9)
    )
    max_pool = min(max_pool, block)
    uniq, inverse = np.unique(p_all, return_inverse=True)
    nu = uniq.size
    # candidate rows: every row holds one design per prevalence (column)
    rows: list[tuple[list, np.ndarray, np.ndarray, np.ndarray]] = []

    def offer(designs, et, pse, fpr):
        rows.append(
            (designs, np.asarray(et, float), np.asarray(pse, float), np.asarray(fpr, float))
        )

    offer([Design("IT", 1)] * nu, np.ones(nu), np.full(nu, se), np.full(nu, 1.0 - sp))
    if max_stages >= 2 and max_pool >= 2:
        g = dorfman_grid(uniq, max_pool, se=se, sp=sp)
        k = np.argmin(g.expected_tests_per_sample[:, 1:], axis=1) + 2
        d2 = {int(x): Design("D2", int(x)) for x in np.unique(k)}
        i = np.arange(nu)
        offer(
            [d2[int(x)] for x in k],
            g.expected_tests_per_sample[i, k - 1],
            g.sensitivity_by_size[k - 1],
            g.false_positive_rate[i, k - 1],
        )
        _arrays(uniq, "A2", array_shapes("A2", 1, max_pool), block, se, sp, offer)
    if max_stages >= 3:
        _arrays(uniq, "A2M", array_shapes("A2M", 1, max_pool), block, se, sp, offer)
        _hierarchical(uniq, "D3", 3, min(max_pool, D3_MAX_POOL), se, sp, offer)
    if max_stages >= 4:
        _hierarchical(uniq, "D4", 4, min(max_pool, D4_MAX_POOL), se, sp, offer)
    best = _pick(rows, nu)
    des = [rows[r][0][j] for j, r in enumerate(best)]
    et = np.array([rows[r][1][j] for j, r in enumerate(best)])
    pse = np.array([rows[r][2][j] for j, r in enumerate(best)])
    fpr = np.array([rows[r][3][j] for j, r in enumerate(best)])
    return DesignTable(p_all, [des[j] for j in inverse], et[inverse], pse[inverse], fpr[inverse])


def _pick(rows, nu) -> np.ndarray:
    """Row of the best candidate per column, in labopt.pooling.search's rank order: ET to 12
    significant digits, stages, largest pool, higher PSe, higher PSp, algorithm, config."""
    et = np.vstack([r[1] for r in rows])
    key_et = np.array([[float(f"{v:.12g}") for v in row] for row in et])
    alive = np.isfinite(key_et)
    for key in ("et", "stages", "pool", "pse", "fpr", "alg", "config"):
        if key == "et":
            vals = key_et
        elif key in ("pse", "fpr"):
            vals = np.vstack([-r[2] if key == "pse" else r[3] for r in rows])
        else:
            vals = np.array([[_attr(d, key) for d in r[0]] for r in rows], dtype=object)
        masked = np.where(alive, vals, np.array(None, dtype=object))
        best = np.array(
            [
                min(v for v, a in zip(masked[:, j], alive[:, j], strict=False) if a)
                for j in range(nu)
            ],
            dtype=object,
        )
        alive &= masked == best[None, :]
        if (alive.sum(axis=0) == 1).all():
            break
    return np.argmax(alive, axis=0)


def _attr(d: Design, key: str):
    if key == "stages":
        return d.stages
    if key == "pool":
        return d.largest_pool
    if key == "alg":
        return ALGORITHMS.index(d.algorithm)
    return d.config


def _arrays(uniq, fam, shapes, block, se, sp, offer, keep=4):
    """Offer the ``keep`` array shapes of least ET at each prevalence (rows: the k-th best),
    of the shapes holding at most ``block`` samples."""
    fit = shapes[0] * shapes[1] <= block
    rows, cols = shapes[0][fit], shapes[1][fit]
    if rows.size == 0:
        return
    master = fam == "A2M"
    et, pse, fpr = (np.empty((uniq.size, rows.size)) for _ in range(3))
    ses = np.full(rows.size, se)
    for j, p in enumerate(uniq):
        _array.array_sizes(float(p), rows, cols, ses, ses, sp, se, sp, master, ses, sp, False,
                           et[j], pse[j], fpr[j])  # fmt: skip
    et, pse, fpr = et.T, pse.T, fpr.T
    order = np.argsort(et, axis=0, kind="stable")  # near-equal shapes sit side by side
    j = np.arange(uniq.size)
    for k in range(min(keep, rows.size)):
        i = order[k]
        designs = [Design(fam, int(rows[x]), columns=int(cols[x])) for x in i]
        offer(designs, et[i, j], pse[i, j], fpr[i, j])


def _hierarchical(uniq, fam, stages, imax, se, sp, offer):
    if imax < stages:
        return
    ses, sps = np.full(stages, se), np.full(stages, sp)
    dil = np.ones(imax + 1)
    keep = 4
    cols = [[None] * uniq.size for _ in range(keep)]
    vals = np.full((keep, 3, uniq.size), np.nan)
    for i, p in enumerate(uniq):
        rows, _ = hierarchical_rows(
            fam, float(p), stages, imax, ses, sps, dil, 0.0, 0.0, keep, every_d3=False
        )
        for r, row in enumerate(rows):
            if fam == "D3" and max(row.stage2) == 1:
                continue  # Dorfman, already offered as D2
            cols[r][i] = Design(fam, row.first, row.stage2, row.stage3)
            vals[r, :, i] = (row.et, row.pse, row.fpr)
    for r in range(keep):
        placeholder = Design("IT", 1)
        designs = [d if d is not None else placeholder for d in cols[r]]
        et = np.where(np.isnan(vals[r, 0]), np.inf, vals[r, 0])
        offer(designs, et, np.nan_to_num(vals[r, 1]), np.nan_to_num(vals[r, 2], nan=1.0))
