"""Array testing (A2, A2M) with a two-disease assay: closed forms for r x c arrays.

The algorithm is Hou et al.'s AT and ATM ("Array testing with multiplex assays",
Biostatistics 2020), the multiplex form of binGroup2's A2 and A2M. Every reaction tests both
diseases. A2M tests the array's master pool first and stops, calling every sample negative for
both, when it is negative for both. Then the r rows and c columns are tested, and a sample is
tested on its own when, for either disease d, its row and its column are positive for d, or
its row is positive for d and no column is, or its column is and no row is. Its own test gives
both its results; a sample not tested on its own is called negative for both.

Samples are alike: each in state (neither, 1 only, 2 only, both) with probabilities
(p00, p10, p01, p11). The chance that one sample, say at (1, 1), is tested on its own sums
over the outcomes of its row's and column's tests; what remains are the chances that every
other column (or row) tests negative for a disease, jointly with the outcomes of row 1 and
column 1. Writing each test's chance of a negative as (1 - Se) + (Se + Sp - 1) [pool free of
the disease] turns these into sums of products over the samples of the chance that a sample
is free of a set of diseases; an array's rows then add up by the binomial theorem, so each
term is one sum over how many columns are taken free, of positive terms. The terms are then
combined with a fixed set of signed coefficients that depend on the tests' accuracy only (no
alternating sums that grow with the array).
A2M's master pool is folded in the same way: its negative result is a sum over the diseases
the array is free of, and given that, the samples are alike again with the joint probabilities
conditioned on it.

Checked in the tests against an enumeration of every state of small arrays, a simulation of
plate-sized arrays and, with one disease absent, labopt's single-disease A2 and A2M.
"""

from __future__ import annotations

import numpy as np
from scipy.special import comb

# a state's index x = d1 + 2 * d2 and a set of diseases is a bit mask: x is free of the set
# S when x & S == 0
_MASKS = range(4)
_FREE = np.array([[float(x & s == 0) for s in _MASKS] for x in range(4)])  # [x, S]
_FREE_INV = np.linalg.inv(_FREE)  # a function of a pool's state, in the basis of [free of S]


def _free_of(p: np.ndarray) -> np.ndarray:
    """(4,) phi[S] = P(a sample is free of the diseases in S)."""
    return _FREE.T @ p


def _outcome(se: np.ndarray, sp: np.ndarray, o: int) -> np.ndarray:
    """(4,) P(a pool's results are o (a bit per disease, 1 positive) | the pool's state)."""
    out = np.ones(4)
    for x in range(4):
        for d in range(2):
            has, pos = x >> d & 1, o >> d & 1
            p_pos = se[d] if has else 1.0 - sp[d]
            out[x] *= p_pos if pos else 1.0 - p_pos
    return out


def _subset_weights(mask: int, se: np.ndarray, sp: np.ndarray) -> list[tuple[int, float]]:
    """The product over the diseases d in ``mask`` of P(a pool tests negative for d), written
    as sum of weight * [pool free of V] over V within the mask."""
    out = []
    for v in _MASKS:
        if v & ~mask:
            continue
        w = 1.0
        for d in range(2):
            if mask >> d & 1:
                w *= (se[d] + sp[d] - 1.0) if v >> d & 1 else 1.0 - se[d]
        out.append((v, w))
    return out


def _coefficients(se: np.ndarray, sp: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """For every (Sc, Sr): a (4, 4) matrix G[U, U'] such that P(sample (1, 1) is not tested on
    its own | its state x) = sum over (Sc, Sr, U, U') of G * [x free of U | U'] * T(U, U', Sc,
    Sr). Sc (Sr): the diseases for which every other column (row) must test negative; U (U'):
    the diseases row 1 (column 1) is free of. Depends on the row and column tests' accuracy
    only."""
    basis = {o: _FREE_INV @ _outcome(se, sp, o) for o in _MASKS}  # coefficients over U
    out: dict[tuple[int, int], np.ndarray] = {}
    for o_row in _MASKS:
        for o_col in _MASKS:
            if o_row & o_col:  # a disease positive in both: tested on its own
                continue
            # disease in row only: not every other column may be negative for it (and the
            # same for columns); 1 - [all negative] for each, multiplied out
            needs = [(1 << d, bool(o_row >> d & 1)) for d in range(2) if (o_row | o_col) >> d & 1]
            for k in range(1 << len(needs)):
                sc = sr = 0
                sign = 1.0
                for j, (bit, by_columns) in enumerate(needs):
                    if k >> j & 1:
                        sign = -sign
                        if by_columns:
                            sc |= bit
                        else:
                            sr |= bit
                g = out.setdefault((sc, sr), np.zeros((4, 4)))
                g += sign * np.outer(basis[o_row], basis[o_col])
    return out


def _terms(p, rows, cols, se, sp, sc: int, sr: int) -> np.ndarray:
    """(n, 4, 4) T[U, U'] for every array: E over the other samples of [row 1's other samples
    free of U] [column 1's free of U'] prod over other columns P(negative for Sc) prod over
    other rows P(negative for Sr)."""
    phi = _free_of(p)
    r1, c1 = (rows - 1).astype(float), (cols - 1).astype(float)
    out = np.empty((rows.size, 4, 4))
    if sr == 0 or sc == 0:
        # the constrained lines are independent of one another: one product
        mask, lines, across, other = (sc, c1, r1, 0) if sr == 0 else (sr, r1, c1, 1)
        weights = _subset_weights(mask, se, sp)
        for u in _MASKS:
            for u2 in _MASKS:
                own, far = (u, u2) if other == 0 else (u2, u)
                line = sum(w * phi[own | v] * phi[v] ** across for v, w in weights)
                out[:, u, u2] = line**lines * phi[far] ** across
        return out
    # one disease a by columns, another b by rows: rows add up by the binomial theorem,
    # leaving a sum over s, the columns taken free of a
    a, b = sc.bit_length() - 1, sr.bit_length() - 1
    da, db = se[a] + sp[a] - 1.0, se[b] + sp[b] - 1.0
    smax = int(c1.max())
    s = np.arange(smax + 1, dtype=float)[:, None]  # (s, n)
    valid = s <= c1
    rest = np.where(valid, c1 - s, 0.0)
    binom = np.where(valid, comb(c1, s), 0.0)
    rows_by_u2 = [
        np.where(
            valid,
            (db * phi[u2 | sr] * phi[sc | sr] ** s * phi[sr] ** rest
             + (1 - se[b]) * phi[u2] * phi[sc] ** s) ** r1,
            0.0,
        )
        for u2 in _MASKS
    ]  # fmt: skip
    for u in _MASKS:
        col_in = binom * (da * phi[u | sc]) ** s * ((1 - se[a]) * phi[u]) ** rest
        for u2 in _MASKS:
            out[:, u, u2] = np.sum(col_in * rows_by_u2[u2], axis=0)
    return out


def retest_chance(p, rows, cols, se, sp) -> np.ndarray:
    """(n, 4) P(a sample is tested on its own | its state) in A2 arrays rows[i] x cols[i],
    without a master pool. ``p``: (p00, p10, p01, p11); ``se``/``sp``: (2,) the row and column
    tests' accuracy for each disease."""
    p = np.asarray(p, dtype=float)
    rows, cols = np.atleast_1d(rows), np.atleast_1d(cols)
    se, sp = np.asarray(se, dtype=float), np.asarray(sp, dtype=float)
    not_tested = np.zeros((rows.size, 4))
    for (sc, sr), g in _coefficients(se, sp).items():
        t = _terms(p, rows, cols, se, sp, sc, sr)
        for x in range(4):
            # x itself must be free of U | U'
            keep = np.array([[float(x & (u | u2) == 0) for u2 in _MASKS] for u in _MASKS])
            not_tested[:, x] += np.einsum("nij,ij->n", t, g * keep)
    return np.clip(1.0 - not_tested, 0.0, 1.0)


def master_retest_chance(p, rows, cols, se_master, sp_master, se, sp):
    """A2M: ((n, 4) P(a sample is tested on its own | its state), (n,) P(the master pool is
    positive for either disease)). The master pool's accuracy ``se_master``/``sp_master``
    (2,); the rows' and columns' ``se``/``sp``."""
    p = np.asarray(p, dtype=float)
    rows, cols = np.atleast_1d(rows), np.atleast_1d(cols)
    size = (rows * cols).astype(float)
    phi = _free_of(p)
    tested = retest_chance(p, rows, cols, se, sp)
    master_negative = np.zeros(rows.size)
    for free, w in _subset_weights(3, se_master, sp_master):
        if phi[free] <= 0.0:
            continue
        master_negative += w * phi[free] ** size
        # the array free of ``free``: every sample's state conditioned on it
        given = np.where(_FREE[:, free] > 0, p, 0.0) / phi[free]
        inside = retest_chance(given, rows, cols, se, sp)
        tested -= w * phi[free] ** (size - 1)[:, None] * _FREE[:, free] * inside
    return np.clip(tested, 0.0, 1.0), 1.0 - master_negative


def array_costs(algorithm: str, p, rows, cols, se: np.ndarray, sp: np.ndarray):
    """Reactions per sample and P(a sample is tested on its own | its state) of A2 or A2M
    arrays rows[i] x cols[i]: ((n,), (n, 4)). ``se``/``sp``: (2, stages) per disease, in
    testing order (A2: rows and columns, individual; A2M: master first)."""
    rows, cols = np.atleast_1d(rows), np.atleast_1d(cols)
    size = (rows * cols).astype(float)
    if algorithm == "A2M":
        tested, positive = master_retest_chance(
            p, rows, cols, se[:, 0], sp[:, 0], se[:, 1], sp[:, 1]
        )
        reactions = 1.0 + positive * (rows + cols)
    else:
        tested = retest_chance(p, rows, cols, se[:, 0], sp[:, 0])
        reactions = (rows + cols).astype(float)
    return reactions / size + tested @ np.asarray(p, dtype=float), tested


def called_positive(p, tested: np.ndarray, se_last, sp_last):
    """Each disease's PSe and PSp, ((n, 2), (n, 2)), when a sample is called positive for a
    disease exactly when its own test (accuracy ``se_last``/``sp_last``, (2,)) is: from
    ``tested`` (n, 4), P(tested on its own | state). NaN for a disease nobody (or everybody)
    has."""
    p = np.asarray(p, dtype=float)
    pse = np.full((tested.shape[0], 2), np.nan)
    psp = np.full((tested.shape[0], 2), np.nan)
    for d in range(2):
        has = np.array([x >> d & 1 for x in range(4)], dtype=bool)
        if p[has].sum() > 0:
            pse[:, d] = se_last[d] * (tested[:, has] @ p[has]) / p[has].sum()
        if p[~has].sum() > 0:
            psp[:, d] = 1.0 - (1.0 - sp_last[d]) * (tested[:, ~has] @ p[~has]) / p[~has].sum()
    return pse, psp
