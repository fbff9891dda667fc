"""Exact searches when PSe/PSp limits bind: Pareto labels over a design's additive parts.

A design's expected tests, and the sums over its samples of P(called positive | positive) *
P(positive) and of P(called negative | negative) * P(negative), add up over its parts (an ID2
design's pools). Its overall PSe and PSp are those sums divided by the expected numbers of
positives and negatives, so a limit on them is a lower bound on a sum. The search keeps, for
every position of a dynamic programme, each label (tests, PSe sum, PSp sum) that no other
beats on all three (a Pareto set), dropping those that cannot meet the limits or cannot beat
the best design meeting them found so far. Labels closer than a relative 1e-12 count as
equal (float sums in another order differ by less). So the design found is the one of fewest
expected tests that meets the limits, to that tolerance. When both limits are set, each is
tried alone first: a design best under one that meets the other is the answer.
"""

from __future__ import annotations

import numpy as np

import labopt._informative as _informative

_TOL = 1e-12  # relative: labels this close are equal; slack of the pruning bounds
# partial designs a search may hold before it gives up (about 50 MB, seconds): limits just
# short of what no design meets can leave many labels that no bound removes
LABEL_BUDGET = 1_000_000
BEAM = 32  # labels per position of the quick first pass that finds a good design


class LabelBudgetExceeded(Exception):
    """The search held more than LABEL_BUDGET partial designs; ``labels`` says how many,
    ``found`` the cheapest split meeting the limits found by then (pool sizes; [] if none),
    not proven the cheapest of all."""

    def __init__(self, labels: int, found: list[int]):
        super().__init__(f"{labels} partial designs")
        self.labels = labels
        self.found = found


def pareto(labels: np.ndarray, both: bool = True, eps=(0.0, 0.0)) -> np.ndarray:
    """Indices of the rows of ``labels`` (cost, a, b) that no other row beats: lower or equal
    cost and a and b at least as large less ``eps`` (only a unless ``both``). Of labels equal
    within eps, one is kept."""
    if labels.shape[0] <= 1:
        return np.arange(labels.shape[0])
    if not both:
        order = np.lexsort((-labels[:, 1], labels[:, 0]))
        a = labels[order, 1]
        before = np.concatenate([[-np.inf], np.maximum.accumulate(a)[:-1]])
        return order[a > before + eps[0]]
    order = np.lexsort((-labels[:, 2], -labels[:, 1], labels[:, 0]))
    kept: list[int] = []
    best_a = np.empty(0)
    best_b = np.empty(0)
    for i in order.tolist():
        a, b = labels[i, 1], labels[i, 2]
        # every kept label costs no more: it beats i if it has a and b about as large
        if best_a.size and np.any((best_a >= a - eps[0]) & (best_b >= b - eps[1])):
            continue
        kept.append(i)
        best_a = np.append(best_a, a)
        best_b = np.append(best_b, b)
    return np.asarray(kept, dtype=np.intp)


def id2_parts(risks: np.ndarray, se, sp, dilution: np.ndarray, kmax: int):
    """(cost, a, b) of every contiguous pool [start, start + k) of the ascending ``risks``,
    k = 1..kmax, as (n, kmax + 1) arrays (NaN where the pool runs past the end): its expected
    tests, the sum over its samples of risk * PSe, and of (1 - risk) * PSp. ``se``/``sp``: the
    pool's and the individual tests' accuracy; a pool of one is one test at the individual
    accuracy."""
    n = risks.size
    shape = (n, kmax + 1)
    cost, a, b = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    with np.errstate(divide="ignore"):
        log_neg = np.where(risks >= 1.0, -np.inf, np.log1p(-np.minimum(risks, 1.0)))
    pre_log = np.concatenate([[0.0], np.cumsum(log_neg)])
    pre_p = np.concatenate([[0.0], np.cumsum(risks)])
    starts = np.arange(n)
    for k in range(1, kmax + 1):
        s = starts[: n - k + 1]
        pos = pre_p[s + k] - pre_p[s]
        neg = k - pos
        if k == 1:
            cost[s, k] = 1.0
            a[s, k] = pos * se[1]
            b[s, k] = neg * sp[1]
            continue
        with np.errstate(invalid="ignore"):
            clean = np.exp(pre_log[s + k] - pre_log[s])  # P(no positive in the pool)
        clean = np.nan_to_num(clean, nan=0.0)
        se_pool = se[0] * dilution[k]
        cost[s, k] = 1.0 + k * (se_pool * (1.0 - clean) + (1.0 - sp[0]) * clean)
        a[s, k] = pos * se_pool * se[1]
        # sum over the pool's negatives of P(pool positive | that sample negative)
        retested = se_pool * (neg - k * clean) + (1.0 - sp[0]) * k * clean
        b[s, k] = neg - (1.0 - sp[1]) * retested
    return cost, a, b


def segments_under_limits(cost, a, b, kmin: int, kmax: int, need_a: float, need_b: float,
                          keep: int = 3) -> list[list[int]]:  # fmt: skip
    """The splits of positions 0..n into contiguous pools of 1..kmax, the largest at least
    kmin, of least total cost with sum a >= need_a and sum b >= need_b: pool sizes in order,
    the cheapest first, up to ``keep`` of those the search kept (the first is the cheapest of
    all); empty when no split meets them. ``cost``/``a``/``b``: (n, kmax + 1) the value of
    the pool starting at a position with k samples (NaN past the end). Raises
    LabelBudgetExceeded when the labels held pass LABEL_BUDGET."""
    if need_a > 0 and need_b > 0:
        # one limit alone: far fewer labels; its best split is the answer if it meets the other
        for one in ((need_a, 0.0), (0.0, need_b)):
            found = _labels(cost, a, b, kmin, kmax, *one, keep)
            if not found:
                return []
            if _sums(a, found[0]) >= need_a and _sums(b, found[0]) >= need_b:
                return found
    return _labels(cost, a, b, kmin, kmax, need_a, need_b, keep)


def _sums(values: np.ndarray, sizes: list[int]) -> float:
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
    return float(values[starts, np.asarray(sizes, dtype=np.intp)].sum())


def _labels(cost, a, b, kmin, kmax, need_a, need_b, keep) -> list[list[int]]:
    bound, lam, dual, incumbent = _lagrange(cost, a, b, kmin, kmax, need_a, need_b)
    cap = min(bound, _cost_cap(cost))
    if dual > cap * (1 + _TOL) + _TOL:  # even the bound exceeds any split: none meets them
        return []
    # a good design first (the same programme keeping a few labels per position): its cost
    # bounds the exact search
    quick = _run(cost, a, b, kmin, kmax, need_a, need_b, 1, lam, cap, incumbent, beam=BEAM)
    if quick:
        found = _sums(cost, quick[0])
        if found < cap:
            cap, incumbent = found, quick[0]
    return _run(cost, a, b, kmin, kmax, need_a, need_b, keep, lam, cap, incumbent)


def _run(cost, a, b, kmin, kmax, need_a, need_b, keep, lam, cap, incumbent, beam=None):
    """The label programme: every label (or the ``beam`` of least bound) kept per position;
    labels bounded by ``cap`` with multipliers ``lam``."""
    n = cost.shape[0]
    eps = (_TOL * max(abs(need_a), 1.0), _TOL * max(abs(need_b), 1.0))
    # what the samples from each position on can still give: a Lagrangian bound on the
    # tests, and the most of mu_a * a + mu_b * b for a few weights mu (a label that cannot
    # reach mu . need with any of them cannot meet both limits)
    rest = _rest(cost - lam[0] * a - lam[1] * b, kmax)
    mus = _directions(need_a, need_b)
    reach = [-_rest(-(mu[0] * a + mu[1] * b), kmax) for mu in mus]
    # labels[i]: rows (cost, a, b, flag, previous position, row there) of the partial designs
    # covering positions 0..i; flag: a pool of at least kmin samples is placed
    labels: list[np.ndarray] = [np.array([[0.0, 0.0, 0.0, 0.0, -1.0, -1.0]])]
    limit = cap * (1 + _TOL) + _TOL
    held = 0
    for end in range(1, n + 1):
        first = max(0, end - kmax)
        prev = np.concatenate(labels[first:end])
        sizes = np.array([labels[i].shape[0] for i in range(first, end)], dtype=np.intp)
        pos = np.repeat(np.arange(first, end, dtype=np.intp), sizes)
        row = np.concatenate([np.arange(m) for m in sizes]) if sizes.sum() else pos
        k = end - pos
        cand = np.empty((prev.shape[0], 6))
        cand[:, 0] = prev[:, 0] + cost[pos, k]
        cand[:, 1] = prev[:, 1] + a[pos, k]
        cand[:, 2] = prev[:, 2] + b[pos, k]
        cand[:, 3] = np.maximum(prev[:, 3], k >= kmin)
        cand[:, 4] = pos
        cand[:, 5] = row
        least = (
            cand[:, 0]
            + rest[end]
            + lam[0] * np.maximum(need_a - cand[:, 1], 0.0)
            + lam[1] * np.maximum(need_b - cand[:, 2], 0.0)
        )
        ok = least <= limit
        for mu, most in zip(mus, reach, strict=True):
            need = mu[0] * need_a + mu[1] * need_b
            have = mu[0] * cand[:, 1] + mu[1] * cand[:, 2] + most[end]
            ok &= have >= need - _TOL * max(abs(need), 1.0)
        least, cand = least[ok], cand[ok]
        kept = []
        for flag in (0.0, 1.0):
            mine = np.flatnonzero(cand[:, 3] == flag)
            if mine.size == 0:
                continue
            front = mine[pareto(cand[mine, :3], need_b > 0, eps)]
            if beam is not None and front.size > beam:
                front = front[np.argsort(least[front], kind="stable")[:beam]]
            kept.append(cand[front])
        labels.append(np.concatenate(kept) if kept else np.empty((0, 6)))
        held += labels[-1].shape[0]
        if held > LABEL_BUDGET:
            raise LabelBudgetExceeded(held, incumbent)
    final = labels[n]
    meets = np.flatnonzero((final[:, 3] == 1.0) & (final[:, 1] >= need_a) & (final[:, 2] >= need_b))
    out = []
    for i in meets[np.argsort(final[meets, 0], kind="stable")][:keep].tolist():
        sizes_out, end = [], n
        while end > 0:
            r = labels[end][i]
            start = int(r[4])
            sizes_out.append(end - start)
            end, i = start, int(r[5])
        out.append(sizes_out[::-1])
    return out


def _rest(value: np.ndarray, kmax: int) -> np.ndarray:
    """(n + 1,) the least sum of ``value`` over splits of positions i..n into pools of up to
    kmax (no other condition): a lower bound for the rest of any split."""
    n = value.shape[0]
    out = np.full(n + 1, np.inf)
    out[n] = 0.0
    for i in range(n - 1, -1, -1):
        ks = np.arange(1, min(kmax, n - i) + 1)
        out[i] = np.min(value[i, ks] + out[i + ks])
    return out


def _split(value: np.ndarray, kmin: int, kmax: int) -> list[int] | None:
    """Pool sizes of the split of least sum of ``value``, the largest pool at least kmin."""
    n = value.shape[0]
    by_end = np.full((n + 1, kmax + 1), np.inf)  # the kernel's table: the pool ending at b
    for k in range(1, kmax + 1):
        by_end[k:, k] = value[: n - k + 1, k]
    sizes = np.zeros(max(n, 1), dtype=np.intp)
    count, _total = _informative.segments_dp(by_end, kmin, kmax, sizes)
    return [int(x) for x in sizes[:count]] if count else None


def _lagrange(cost, a, b, kmin, kmax, need_a, need_b):
    """(cost, multipliers, bound, split): the cheapest split meeting the limits found (its
    cost, inf and [] if none) and the multipliers (lam_a, lam_b) of the best Lagrangian bound
    found: the cheapest split of cost - lam_a * a - lam_b * b, plus lam_a * need_a + lam_b *
    need_b, is a lower bound on any split meeting the limits. The multipliers grow, then are
    bisected, along a few directions."""

    best, dual_best, lam_best = np.inf, -np.inf, np.zeros(2)
    incumbent: list[int] = []

    def attempt(lam: np.ndarray) -> bool | None:
        """Whether the cheapest split at multipliers lam meets the limits (None: no split)."""
        nonlocal best, dual_best, lam_best, incumbent
        sizes = _split(cost - lam[0] * a - lam[1] * b, kmin, kmax)
        if sizes is None:
            return None
        c, sa, sb = _sums(cost, sizes), _sums(a, sizes), _sums(b, sizes)
        dual = c - lam[0] * sa - lam[1] * sb + lam[0] * need_a + lam[1] * need_b
        if dual > dual_best:
            dual_best, lam_best = dual, lam
        if sa >= need_a and sb >= need_b:
            if c < best:
                best, incumbent = c, sizes
            return True
        return False

    cap = _cost_cap(cost)
    for direction in _directions(need_a, need_b):
        lo, hi = 0.0, 1.0
        for _ in range(40):  # a multiplier large enough, unless the bound proves none can be
            got = attempt(hi * direction)
            if got is None or got or dual_best > cap:
                break
            lo, hi = hi, hi * 4.0
        if dual_best > cap:
            break
        if got:
            for _ in range(30):
                mid = 0.5 * (lo + hi)
                got = attempt(mid * direction)
                if got is None:
                    break
                lo, hi = (lo, mid) if got else (mid, hi)
    return best, lam_best, dual_best, incumbent


def _directions(need_a: float, need_b: float) -> list[np.ndarray]:
    """Weights on (a, b): one unit trades for the whole of a limit; mixed in a few
    proportions when both limits are set."""
    if need_a > 0 and need_b > 0:
        angles = np.linspace(0.0, 0.5 * np.pi, 9)
        return [np.array([np.cos(t) / need_a, np.sin(t) / need_b]) for t in angles]
    return [np.array([1.0 / need_a if need_a > 0 else 0.0, 1.0 / need_b if need_b > 0 else 0.0])]


def _cost_cap(cost: np.ndarray) -> float:
    """A cost no split exceeds: every pool at its costliest, one pool per sample."""
    return float(np.nansum(np.nanmax(cost, axis=1)))
