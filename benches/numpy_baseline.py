"""Plain NumPy versions of the engine's hot paths: the yardstick for the Cython kernels.

Same model and same search space as labopt's kernels, written the way one would in NumPy:
broadcasting over pool sizes and prevalences, partitions enumerated in Python and scored as
arrays.
"""

from __future__ import annotations

import math

import numpy as np


def dorfman_grid(p: np.ndarray, kmax: int, se: float, sp: float):
    """ET per sample and 1 - PSp for k = 1..kmax (k = 1: individual test), broadcast."""
    k = np.arange(1, kmax + 1, dtype=float)[None, :]
    q = (1.0 - p)[:, None]
    c = q**k
    c_prev = q ** (k - 1)
    et = np.where(k == 1, 1.0, 1.0 / k + se * (1 - c) + (1 - sp) * c)
    fpr = np.where(k == 1, 1 - sp, (1 - sp) * (se * (1 - c_prev) + (1 - sp) * c_prev))
    return et, fpr


def _partitions(n, largest=None):
    largest = n if largest is None else largest
    if n == 0:
        yield ()
        return
    for first in range(min(n, largest), 0, -1):
        for rest in _partitions(n - first, first):
            yield (first, *rest)


def d3_search(p: float, imin: int, imax: int, se: float, sp: float):
    """Lowest-ET three-stage configuration over first-stage sizes imin..imax."""
    best = (np.inf, None)
    lq = np.log1p(-p)
    for I in range(imin, imax + 1):
        parts = [x for x in _partitions(I) if len(x) > 1]
        mat = np.zeros((len(parts), I), dtype=np.int64)
        for r, x in enumerate(parts):
            mat[r, : len(x)] = x
        m = mat.astype(float)
        clean_I = np.exp(I * lq)
        t1 = se * (1 - clean_I) + (1 - sp) * clean_I  # stage-1 positive
        clean_m = np.exp(m * lq)
        # stage 1 and sub-pool m both positive
        t2 = se * se * (1 - clean_m) + se * (1 - sp) * (clean_m - clean_I) + (1 - sp) ** 2 * clean_I
        per_part = np.where(mat > 0, t1, 0.0) + np.where(mat > 1, m * t2, 0.0)
        et = (1.0 + per_part.sum(axis=1)) / I
        j = int(np.argmin(et))
        if et[j] < best[0]:
            best = (float(et[j]), (I, parts[j]))
    return best


def d4_search(p: float, imin: int, imax: int, se: float, sp: float):
    """Lowest-ET four-stage configuration over first-stage sizes imin..imax: per first stage
    I, each second-stage pool's best stage-3 split and the best partition of I, by dynamic
    programming in NumPy (chains of positive tests from their closed forms). Returns
    (ET per sample, I)."""
    q = 1.0 - p
    f = 1.0 - sp
    best = (np.inf, 0)
    for I in range(imin, imax + 1):
        qi = q**I
        t1 = se * (1 - qi) + f * qi  # the first-stage pool positive
        pool = np.full(I, np.inf)  # a second-stage pool of m: its best split's tests
        real = np.full(I, np.inf)  # ... its best split with a fourth stage
        has4 = np.zeros(I, dtype=bool)
        pool[1] = t1
        for m in range(2, I):
            qm = q**m
            t2 = se * se * (1 - qm) + se * f * (qm - qi) + f * f * qi
            s = np.arange(1, m, dtype=float)
            qs = q**s
            t3 = se**3 * (1 - qs) + se * se * f * (qs - qm) + se * f * f * (qm - qi) + f**3 * qi
            g = np.where(s == 1, t2, t2 + s * t3)  # g[s - 1]: one stage-3 sub-pool of s
            F = np.zeros(m + 1)
            first = np.zeros(m + 1, dtype=int)
            for x in range(1, m + 1):
                c = F[x - 1 :: -1][: min(x, m - 1)] + g[: min(x, m - 1)]
                first[x] = int(np.argmin(c)) + 1
                F[x] = c[first[x] - 1]
            pool[m] = t1 + F[m]
            x, big = m, False
            while x > 0:
                big |= first[x] > 1
                x -= first[x]
            has4[m] = big
            if m > 2:
                real[m] = t1 + np.min(g[1 : m - 1] + F[m - 2 : 0 : -1])
        # partitions of I into pools < I, at least one with a fourth stage
        G = np.full((I + 1, 2), np.inf)
        G[0, 0] = 0.0
        sizes = np.arange(1, I)
        for x in range(1, I + 1):
            m = sizes[: min(x, I - 1)]
            prev0, prev1 = G[x - m, 0], G[x - m, 1]
            with_best = np.where(has4[m], np.inf, prev0 + pool[m])
            G[x, 0] = np.min(with_best) if m.size else np.inf
            G[x, 1] = min(
                np.min(np.minimum(prev1, np.where(has4[m], prev0, np.inf)) + pool[m]),
                np.min(np.minimum(prev0, prev1) + real[m]),
            )
        et = (1.0 + G[I, 1]) / I
        if et < best[0]:
            best = (float(et), I)
    return best


def array_search(p: float, nmin: int, nmax: int, se: float, sp: float, master: bool):
    """Lowest-ET square array (A2 or A2M) over row/column sizes nmin..nmax, vectorised."""
    n = np.arange(nmin, nmax + 1, dtype=float)
    q = 1 - p
    s, t = se, sp
    cn, cn1 = q**n, q ** (n - 1)
    u = (1 - s) * (1 - cn) + t * cn
    u1 = (1 - s) * (1 - cn1) + t * cn1
    a1 = (1 - t) * cn * u1**n + s * (u**n - cn * u1**n)
    a3 = s * s + (1 - s - t) ** 2 * q ** (2 * n - 1) + (s * (1 - t) - s * s) * 2 * cn
    et = 2 / n + 2 * a1 + a3
    if master:
        et = (
            1 / n**2
            + (1 - s - t) * q ** (n * n) * (2 / n + (1 - t) ** 2 + 2 * (1 - t) * t**n)
            + s * et
        )
    j = int(np.argmin(et))
    return float(et[j]), int(n[j])


def simulate_dorfman(p: float, k: int, se: float, sp: float, blocks: int, seed: int):
    """Vectorised Monte Carlo of D2: tests per sample and PSe."""
    rng = np.random.default_rng(seed)
    status = rng.random((blocks, k)) < p
    dirty = status.any(axis=1)
    pool_pos = np.where(dirty, rng.random(blocks) < se, rng.random(blocks) >= sp)
    ind = np.where(status, rng.random((blocks, k)) < se, rng.random((blocks, k)) >= sp)
    called = ind & pool_pos[:, None]
    tests = blocks + k * pool_pos.sum()
    return tests / (blocks * k), called[status].mean() if status.any() else np.nan


def array_rect_search(p: float, max_pool: int, se: float, sp: float):
    """Lowest-ET A2 over every r x c with 2 <= r <= c <= max_pool, vectorised over shapes.
    Returns (ET per sample, r, c)."""
    side = np.arange(2, max_pool + 1)
    r, c = (x.ravel().astype(float) for x in np.meshgrid(side, side, indexing="ij"))
    keep = r <= c
    r, c = r[keep], c[keep]
    q, s, t = 1 - p, se, sp

    def line_negative_cross_positive(lines, length):
        # every line of `length` negative, the pool crossing them positive
        u1 = (1 - s) * (1 - q ** (length - 1)) + t * q ** (length - 1)
        v1 = q * u1
        u = v1 + p * (1 - s)
        return (1 - t) * v1**lines + s * (u**lines - v1**lines)

    row1 = s * (1 - q ** (c - 1)) + (1 - t) * q ** (c - 1)
    col1 = s * (1 - q ** (r - 1)) + (1 - t) * q ** (r - 1)
    et = (
        1 / r
        + 1 / c
        + p * s * s
        + q * row1 * col1
        + line_negative_cross_positive(c, r)
        + line_negative_cross_positive(r, c)
    )
    j = int(np.argmin(et))
    return float(et[j]), int(r[j]), int(c[j])


def d5_search(p: float, imin: int, imax: int, se: float, sp: float):
    """Lowest-ET five-stage design over first-stage sizes imin..imax, by the same nested
    programme written in plain Python (a pool's cheapest descendants for its chain of
    ancestors; a knapsack over its parts, flagged when some part reaches stage 5). Returns
    (ET per sample, I)."""
    q, f = 1.0 - p, 1.0 - sp

    def all_positive(chain):
        d = len(chain)
        total = q ** chain[0] * f**d
        for m in range(1, d + 1):
            mass = 1 - q ** chain[m - 1] if m == d else q ** chain[m] - q ** chain[m - 1]
            total += mass * se**m * f ** (d - m)
        return total

    def best(chain, m, left):
        """(cheapest, cheapest reaching the last stage) for the pool chain[-1] of m."""
        tested = all_positive(chain)
        if left == 1:
            return m * tested, m * tested
        parts = [(tested, math.inf)]  # c = 1: an individual test before the last stage
        for c in range(2, m):
            b, full = best((*chain, c), c, left - 1)
            parts.append((tested + b, tested + full))
        F = [[math.inf, math.inf] for _ in range(m + 1)]
        F[0][0] = 0.0
        for x in range(1, m + 1):
            for c in range(1, min(x, m - 1) + 1):
                b, full = parts[c - 1]
                for g in range(2):
                    prev = F[x - c][g]
                    F[x][g] = min(F[x][g], prev + b) if b < full else F[x][g]
                    F[x][1] = min(F[x][1], prev + full)
        return min(F[m]), F[m][1]

    out = (math.inf, 0)
    for I in range(imin, imax + 1):
        et = (1.0 + best((I,), I, 4)[1]) / I
        if et < out[0]:
            out = (et, I)
    return out


def informative_search(risks, levels: int, kmax: int, se: float, sp: float):
    """Lowest-ET informative hierarchical design (ID3: ``levels`` 2, ID4: 3) of the sorted
    ``risks`` with pools of at most ``kmax``, in plain Python: contiguous pools, each cut into
    contiguous parts level by level, every part's cost from the chance that its chain of
    enclosing pools all test positive. Returns the ET per sample."""
    r = np.sort(np.asarray(risks, dtype=float))
    n, f = r.size, 1.0 - sp
    clean = np.concatenate([[1.0], np.cumprod(1.0 - r)])  # P(the first i samples negative)

    def q(a, b):
        return clean[b] / clean[a] if clean[a] > 0 else float(np.prod(1.0 - r[a:b]))

    def all_positive(chain):
        """P(every pool of the nested chain (outermost first) tests positive)."""
        d = len(chain)
        qs = [q(a, b) for a, b in chain] + [1.0]
        total = qs[0] * f**d
        for m in range(1, d + 1):
            total += (qs[m] - qs[m - 1]) * se**m * f ** (d - m)
        return total

    def below(chain, left):
        """Least expected tests below the last pool of ``chain``, given ``left`` more levels
        of parts before individual tests."""
        a, b = chain[-1]
        reach = all_positive(chain)
        if left == 0:
            return (b - a) * reach
        best = [0.0] + [math.inf] * (b - a)
        for x in range(1, b - a + 1):
            for s in range(1, min(x, b - a - 1) + 1):
                lo = a + x - s
                part = reach if s == 1 else reach + below((*chain, (lo, lo + s)), left - 1)
                best[x] = min(best[x], best[x - s] + part)
        return best[b - a]

    F = [0.0] + [math.inf] * n
    for b in range(1, n + 1):
        for k in range(1, min(kmax, b) + 1):
            pool = 1.0 if k == 1 else 1.0 + below(((b - k, b),), levels - 1)
            F[b] = min(F[b], F[b - k] + pool)
    return F[n] / n
