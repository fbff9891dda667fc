"""Exact operating characteristics by brute-force enumeration: an independent oracle.

Shares no code with labopt. For every vector of true statuses (2**N of them) it walks the
testing algorithm as written in a lab protocol and accumulates exact expectations. Only for
small blocks (N <= 12, arrays up to 3 x 3 or 2 x 4).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass


def assert_agrees(got, want: Exact, rel: float = 1e-10) -> None:
    """labopt's operating characteristics ``got`` equal the enumeration's ``want``: ET, PSe,
    PSp, PPV and NPV to ``rel`` (relative)."""
    for name, a, b in [
        ("ET", got.expected_tests_per_sample, want.et),
        ("PSe", got.sensitivity, want.pse),
        ("PSp", got.specificity, want.psp),
        ("PPV", got.ppv, want.ppv),
        ("NPV", got.npv, want.npv),
    ]:
        if math.isnan(a) or math.isnan(b):  # undefined on both sides (a PPV with no positives)
            assert math.isnan(a) and math.isnan(b), (name, a, b)
        else:
            assert math.isclose(a, b, rel_tol=rel, abs_tol=1e-15), (name, a, b)


@dataclass
class Exact:
    et: float  # expected tests per sample
    pse: float
    psp: float
    ppv: float
    npv: float


def _summary(n, acc) -> Exact:
    tests, tp, pos, tn, neg, fp, fn = acc
    return Exact(
        tests / n,
        tp / pos if pos else float("nan"),
        tn / neg if neg else float("nan"),
        tp / (tp + fp) if tp + fp else float("nan"),
        tn / (tn + fn) if tn + fn else float("nan"),
    )


# ---------------------------------------------------------------------------- hierarchical
# A pool is (members, stage, children); children empty means the pool is a final test of one
# sample. Stages are 1-based and index se/sp.


def hierarchical(algorithm: str, config: str, risks, se, sp, dilution=lambda k: 1.0) -> Exact:
    roots = _tree(algorithm, config)
    n = len(risks)
    acc = [0.0] * 7
    for status in itertools.product((0, 1), repeat=n):
        w = 1.0
        for s, r in zip(status, risks, strict=False):
            w *= r if s else 1 - r
        if w == 0:
            continue
        called = [0.0] * n
        tests = sum(_walk(pool, status, se, sp, dilution, 1.0, called) for pool in roots)
        _add(acc, w, tests, status, called)
    return _summary(n, acc)


def _walk(pool, status, se, sp, dilution, reach, called) -> float:
    """Expected tests from this pool down, given it is run with probability `reach`."""
    members, stage, children = pool
    dirty = any(status[i] for i in members)
    a = se[stage - 1] * dilution(len(members)) if dirty else 1 - sp[stage - 1]
    tests = reach
    if not children:
        (i,) = members
        called[i] += reach * a
        return tests
    for child in children:
        tests += _walk(child, status, se, sp, dilution, reach * a, called)
    return tests


def _add(acc, w, tests, status, called):
    acc[0] += w * tests
    for s, c in zip(status, called, strict=False):
        if s:
            acc[1] += w * c
            acc[2] += w
            acc[6] += w * (1 - c)
        else:
            acc[3] += w * (1 - c)
            acc[4] += w
            acc[5] += w * c


def _tree(algorithm, config):
    """Pools as nested tuples, written out from the protocol's description."""

    def singles(members, stage):
        return [((i,), stage, ()) for i in members]

    if algorithm == "IT":
        return [((0,), 1, ())]
    if algorithm == "D2":
        k = int(config)
        return [(tuple(range(k)), 1, tuple(singles(range(k), 2)))]
    if algorithm == "ID2":
        pools, lo = [], 0
        for m in map(int, config.split(",")):
            mem = tuple(range(lo, lo + m))
            # a pool of one sample is an individual test: individual accuracy (binGroup2)
            pools.append((mem, 2, ()) if m == 1 else (mem, 1, tuple(singles(mem, 2))))
            lo += m
        return pools
    if algorithm == "ID3":
        pools, subs = ([int(x) for x in f.split(",") if x] for f in config.split(":"))
        out, lo = [], 0
        for m in pools:
            mem = tuple(range(lo, lo + m))
            if m == 1:  # a first-stage pool of one: the sample's own (third-stage) test
                out.append((mem, 3, ()))
            else:
                children, total = [], 0
                while total < m:
                    s = subs.pop(0)
                    sub = tuple(range(lo + total, lo + total + s))
                    children.append((sub, 2, ()) if s == 1 else (sub, 2, tuple(singles(sub, 3))))
                    total += s
                out.append((mem, 1, tuple(children)))
            lo += m
        return out
    if algorithm == "ID4":
        pools, subs, thirds = ([int(x) for x in f.split(",") if x] for f in config.split(":"))
        out, lo = [], 0

        def cut(lo, m, sizes, stage, below):
            """Pools of samples lo..lo+m-1 at ``stage``, sizes taken from the front of
            ``sizes``; each pool of more than one sample gets ``below(members)``."""
            parts, total = [], 0
            while total < m:
                s = sizes.pop(0)
                mem = tuple(range(lo + total, lo + total + s))
                parts.append((mem, stage, ()) if s == 1 else (mem, stage, below(mem)))
                total += s
            return tuple(parts)

        for m in pools:
            mem = tuple(range(lo, lo + m))
            if m == 1:  # a first-stage pool of one: the sample's own (fourth-stage) test
                out.append((mem, 4, ()))
            else:
                children = cut(
                    lo, m, subs, 2,
                    lambda sub: cut(sub[0], len(sub), thirds, 3, lambda t: tuple(singles(t, 4))),
                )  # fmt: skip
                out.append((mem, 1, children))
            lo += m
        return out
    fields = config.split(":")
    first = int(fields[0])
    if algorithm == "D5":
        return [_five_stages(first, [[int(x) for x in f.split(",")] for f in fields[1:4]])]
    subs = [int(x) for x in fields[1].split(",")]
    third = [int(x) for x in fields[2].split(",")] if algorithm == "D4" else []
    children, lo = [], 0
    for m in subs:
        mem = tuple(range(lo, lo + m))
        if m == 1:
            children.append((mem, 2, ()))
        elif algorithm == "D3":
            children.append((mem, 2, tuple(singles(mem, 3))))
        else:
            grand, lo3, total = [], lo, 0
            while total < m:
                s = third.pop(0)
                mem3 = tuple(range(lo3, lo3 + s))
                grand.append((mem3, 3, ()) if s == 1 else (mem3, 3, tuple(singles(mem3, 4))))
                lo3 += s
                total += s
            children.append((mem, 2, tuple(grand)))
        lo += m
    return [(tuple(range(first)), 1, tuple(children))]


def _five_stages(first, levels):
    """D5: each pool of stages 1-3 takes its parts from the next stage's list, depth first;
    a stage-4 pool's members are tested one by one at stage 5."""

    def build(members, stage):
        if len(members) == 1:
            return (members, stage, ())
        if stage == 4:
            return (members, stage, tuple(((i,), 5, ()) for i in members))
        parts, lo = [], members[0]
        while lo < members[-1] + 1:
            size = levels[stage - 1].pop(0)
            parts.append(build(tuple(range(lo, lo + size)), stage + 1))
            lo += size
        return (members, stage, tuple(parts))

    return build(tuple(range(first)), 1)


# ---------------------------------------------------------------------------- arrays


def array(
    n: int, p, se, sp, master: bool, dilution=lambda k: 1.0, cols: int | None = None
) -> Exact:
    """A2 (se, sp = row/column, individual) or A2M (master, row/column, individual), n rows
    of ``cols`` samples (n x n when cols is None); ``p`` one prevalence, or a list of each
    sample's risk row by row."""
    nr, nc = n, n if cols is None else cols
    risk = list(p) if isinstance(p, list | tuple) else [p] * (nr * nc)
    if master:
        (se_m, se_rc, se_i), (sp_m, sp_rc, sp_i) = se, sp
        se_m *= dilution(nr * nc)
    else:
        (se_rc, se_i), (sp_rc, sp_i) = se, sp
    se_row, se_col = se_rc * dilution(nc), se_rc * dilution(nr)
    N = nr * nc
    acc = [0.0] * 7
    for status in itertools.product((0, 1), repeat=N):
        w = 1.0
        for s, ps in zip(status, risk, strict=True):
            w *= ps if s else 1 - ps
        if w == 0:
            continue
        grid = [status[j * nc : (j + 1) * nc] for j in range(nr)]
        row_dirty = [any(grid[j]) for j in range(nr)]
        col_dirty = [any(grid[j][k] for j in range(nr)) for k in range(nc)]
        pool_se = [se_row] * nr + [se_col] * nc
        go = 1.0
        tests = 0.0
        if master:
            tests += 1.0
            go = se_m if any(status) else 1 - sp_m
        called = [0.0] * N
        tests += go * (nr + nc)
        for outcome in itertools.product((0, 1), repeat=nr + nc):
            rows, cols_ = outcome[:nr], outcome[nr:]
            q = go
            for d, o, s_pool in zip(row_dirty + col_dirty, outcome, pool_se, strict=True):
                pos = s_pool if d else 1 - sp_rc
                q *= pos if o else 1 - pos
            if q == 0:
                continue
            for j in range(nr):
                for k in range(nc):
                    if any(rows) and any(cols_):
                        retest = rows[j] and cols_[k]
                    elif any(rows):
                        retest = rows[j]
                    else:
                        retest = cols_[k]
                    if retest:
                        tests += q
                        called[j * nc + k] += q * (se_i if grid[j][k] else 1 - sp_i)
        _add(acc, w, tests, status, called)
    return _summary(N, acc)


# ------------------------------------------------------------------ two-disease arrays
def multiplex_array(rows: int, cols: int, joint, se, sp, master: bool) -> dict:
    """A2 or A2M with a two-disease assay (Hou et al.'s AT and ATM), every state of every
    sample enumerated. ``joint``: (p00, p10, p01, p11); ``se``/``sp``: [stage][disease], the
    stages as labopt's (A2M: master, rows and columns, individual). Returns ET per sample and
    each disease's PSe and PSp (lists of two)."""
    if master:
        (se_m, se_rc, se_i), (sp_m, sp_rc, sp_i) = se, sp
    else:
        (se_rc, se_i), (sp_rc, sp_i) = se, sp
    n = rows * cols
    tests_total = 0.0
    called = [[0.0, 0.0], [0.0, 0.0]]  # [disease][truth]: sum of w * P(called positive)
    mass = [[0.0, 0.0], [0.0, 0.0]]  # [disease][truth]: sum of w * samples
    for status in itertools.product(range(4), repeat=n):
        w = 1.0
        for s in status:
            w *= joint[s]
        if w == 0:
            continue
        has = [[(s >> d) & 1 for s in status] for d in range(2)]
        go = 1.0
        tests = 0.0
        if master:
            tests += 1.0
            neg = 1.0
            for d in range(2):
                neg *= 1 - se_m[d] if any(has[d]) else sp_m[d]
            go = 1.0 - neg
        tests += go * (rows + cols)
        # per disease: P(the cell has a reason to be tested on its own, from that disease)
        reason = [[0.0] * n for _ in range(2)]
        for d in range(2):
            grid = [has[d][i * cols : (i + 1) * cols] for i in range(rows)]
            lines = [any(grid[i]) for i in range(rows)]
            lines += [any(grid[i][j] for i in range(rows)) for j in range(cols)]
            for outcome in itertools.product((0, 1), repeat=rows + cols):
                q = 1.0
                for dirty, o in zip(lines, outcome, strict=True):
                    pos = se_rc[d] if dirty else 1 - sp_rc[d]
                    q *= pos if o else 1 - pos
                r_out, c_out = outcome[:rows], outcome[rows:]
                for i in range(rows):
                    for j in range(cols):
                        both = r_out[i] and c_out[j]
                        row_only = r_out[i] and not any(c_out)
                        col_only = c_out[j] and not any(r_out)
                        if both or row_only or col_only:
                            reason[d][i * cols + j] += q
        for c in range(n):
            # the diseases' test results are independent given the states
            tested = go * (1 - (1 - reason[0][c]) * (1 - reason[1][c]))
            tests += tested
            for d in range(2):
                t = has[d][c]
                pos = se_i[d] if t else 1 - sp_i[d]
                called[d][t] += w * tested * pos
                mass[d][t] += w
        tests_total += w * tests
    return {
        "et": tests_total / n,
        "pse": [called[d][1] / mass[d][1] if mass[d][1] else float("nan") for d in range(2)],
        "psp": [1 - called[d][0] / mass[d][0] if mass[d][0] else float("nan") for d in range(2)],
    }
