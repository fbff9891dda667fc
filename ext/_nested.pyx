"""The hierarchical design of least expected tests with a given number of stages (private
kernel), for every first-stage pool size, by dynamic programming over nested pools.

With a common prevalence, a hierarchical design's expected tests are 1 (the first-stage pool)
plus, for every other pool, the probability that all its ancestors test positive. So given the
chain of ancestors of a pool, the cheapest way to test its descendants does not depend on the
rest of the design: for a pool of m samples with L stages left below it, each part c < m of a
split of m costs the chain's all-positive probability plus, when c > 1, its own cheapest
descendants with L - 1 stages left; the best split is an unbounded knapsack over those parts.
Each DP value comes in two variants: the cheapest, and the cheapest that reaches the last
stage (some sample tested individually at the design's final stage), so that a design of S
stages really has S stages. Exact: every nested design is a choice at every pool of these
knapsacks. O(I^(S-1)) per first-stage size I.

Sizes follow binGroup2's hierarchical convention: a pool splits into parts smaller than itself;
a part of one sample is an individual test at that stage.
"""
from libc.math cimport log1p, INFINITY
from libc.stdlib cimport malloc, free

from _chain cimport chain_all_positive, MAX_DEPTH


cdef struct Level:
    # work space of one nesting level: per part size c, the part's cost in both variants
    double* h_best
    double* h_full
    bint* best_full
    # knapsack over x samples, flag g (some part reaches the last stage): value and the last
    # part's size, variant and the flag before it
    double* F
    int* back_c
    int* back_v
    int* back_g


cdef struct Ctx:
    double lq
    const double* se      # per stage
    const double* sp
    const double* dil     # per pool size
    Level lv[MAX_DEPTH]
    double L[MAX_DEPTH]   # the chain's log P(no positive), outermost first
    double sec[MAX_DEPTH]
    double spc[MAX_DEPTH]


cdef inline double _seg_log(int n, double lq) noexcept nogil:
    return -INFINITY if lq == -INFINITY else n * lq


cdef void _solve(Ctx* ctx, int d, int m, int left, double* best, double* full) noexcept nogil:
    """Cheapest descendants of a pool of m samples at depth d (ctx's chain holds it and its
    ancestors: d pools) with `left` stages below it: `best` any depth, `full` reaching the
    last stage (INFINITY if impossible). Leaves the knapsack of level d in ctx.lv[d]."""
    cdef double tested = chain_all_positive(ctx.L, ctx.sec, ctx.spc, d)  # a child is tested
    cdef Level* w = &ctx.lv[d]
    cdef int c, x, g, v, ng
    cdef double b, f, cost, cand
    if left == 1:  # every child is an individual test at the last stage
        best[0] = m * tested
        full[0] = best[0]
        return
    for c in range(1, m):
        if c == 1:
            w.h_best[1] = tested
            w.h_full[1] = INFINITY      # an individual test here ends before the last stage
            w.best_full[1] = False
            continue
        ctx.L[d] = _seg_log(c, ctx.lq)
        ctx.sec[d] = ctx.se[d] * ctx.dil[c]
        ctx.spc[d] = ctx.sp[d]
        _solve(ctx, d + 1, c, left - 1, &b, &f)
        w.h_best[c] = tested + b
        w.h_full[c] = tested + f
        w.best_full[c] = f <= b
    # knapsack: F[2x + g]
    w.F[0] = 0.0
    w.F[1] = INFINITY
    for x in range(1, m + 1):
        w.F[2 * x] = INFINITY
        w.F[2 * x + 1] = INFINITY
        for c in range(1, min(x, m - 1) + 1):
            for v in range(2):
                if v == 0:
                    cost = w.h_best[c]
                else:
                    if w.best_full[c] or w.h_full[c] == INFINITY:
                        continue    # the cheapest already reaches the last stage, or none does
                    cost = w.h_full[c]
                for g in range(2):
                    if w.F[2 * (x - c) + g] == INFINITY:
                        continue
                    ng = 1 if (g == 1 or v == 1 or w.best_full[c]) else 0
                    cand = w.F[2 * (x - c) + g] + cost
                    if cand < w.F[2 * x + ng]:
                        w.F[2 * x + ng] = cand
                        w.back_c[2 * x + ng] = c
                        w.back_v[2 * x + ng] = v
                        w.back_g[2 * x + ng] = g
    best[0] = w.F[2 * m] if w.F[2 * m] < w.F[2 * m + 1] else w.F[2 * m + 1]
    full[0] = w.F[2 * m + 1]


cdef void _emit(Ctx* ctx, int d, int m, int left, bint want_full,
                Py_ssize_t[:, :, ::1] parts, int row, int* count) noexcept nogil:
    """Write the split of a pool of m samples at depth d (the cheapest, or the cheapest
    reaching the last stage), then its parts' splits, depth first: parts[row, d - 1] lists the
    splits of depth d's pools in their order. The last stage's individual tests are implied."""
    cdef double b, f
    cdef int x, g, c, v, n = 0, k, j
    cdef int sizes[1024]
    cdef int fulls[1024]
    if left == 1:
        return
    _solve(ctx, d, m, left, &b, &f)
    x = m
    g = 1 if (want_full or ctx.lv[d].F[2 * m + 1] <= ctx.lv[d].F[2 * m]) else 0
    while x > 0:
        c = ctx.lv[d].back_c[2 * x + g]
        v = ctx.lv[d].back_v[2 * x + g]
        sizes[n] = c
        fulls[n] = 1 if (v == 1 or ctx.lv[d].best_full[c]) else 0
        n += 1
        g = ctx.lv[d].back_g[2 * x + g]
        x -= c
    for k in range(1, n):   # largest first; of equal sizes, those reaching the last stage
        j = k
        while j > 0 and (sizes[j - 1] < sizes[j]
                         or (sizes[j - 1] == sizes[j] and fulls[j - 1] < fulls[j])):
            sizes[j - 1], sizes[j] = sizes[j], sizes[j - 1]
            fulls[j - 1], fulls[j] = fulls[j], fulls[j - 1]
            j -= 1
    for k in range(n):
        parts[row, d - 1, count[d - 1]] = sizes[k]
        count[d - 1] += 1
    for k in range(n):
        if sizes[k] == 1:
            continue
        ctx.L[d] = _seg_log(sizes[k], ctx.lq)
        ctx.sec[d] = ctx.se[d] * ctx.dil[sizes[k]]
        ctx.spc[d] = ctx.sp[d]
        _emit(ctx, d + 1, sizes[k], left - 1, fulls[k] == 1, parts, row, count)


def nested_dp(double p, int stages, int imin, int imax, const double[::1] se,
              const double[::1] sp, const double[::1] dilution, double[::1] et_out,
              Py_ssize_t[:, :, ::1] parts_out, Py_ssize_t[:, ::1] counts_out):
    """For each first-stage size I in [imin, imax] (row I - imin), the design of `stages`
    stages (3 to MAX_DEPTH - 1) of least expected tests that really has that many stages:
    expected tests per sample (INFINITY when no design of I has them), and its pool sizes at
    stages 2..stages-1 (parts_out[row, s - 2, :counts_out[row, s - 2]]; the last stage's
    individual tests are implied). se, sp: per stage; dilution: factor per pool size."""
    cdef Ctx ctx
    cdef int I, k, row, nlev = stages - 2
    cdef double b, f
    cdef int count[MAX_DEPTH]
    if not 3 <= stages < MAX_DEPTH or imax > 1000:
        raise ValueError("stages must be 3..15 and first-stage pools at most 1000")
    ctx.lq = log1p(-p) if p < 1.0 else -INFINITY
    ctx.se = &se[0]
    ctx.sp = &sp[0]
    ctx.dil = &dilution[0]
    for k in range(MAX_DEPTH):
        ctx.lv[k].h_best = NULL
        ctx.lv[k].h_full = NULL
        ctx.lv[k].best_full = NULL
        ctx.lv[k].F = NULL
        ctx.lv[k].back_c = NULL
        ctx.lv[k].back_v = NULL
        ctx.lv[k].back_g = NULL
    try:
        for k in range(1, stages):
            ctx.lv[k].h_best = <double*> malloc((imax + 1) * sizeof(double))
            ctx.lv[k].h_full = <double*> malloc((imax + 1) * sizeof(double))
            ctx.lv[k].best_full = <bint*> malloc((imax + 1) * sizeof(bint))
            ctx.lv[k].F = <double*> malloc(2 * (imax + 1) * sizeof(double))
            ctx.lv[k].back_c = <int*> malloc(2 * (imax + 1) * sizeof(int))
            ctx.lv[k].back_v = <int*> malloc(2 * (imax + 1) * sizeof(int))
            ctx.lv[k].back_g = <int*> malloc(2 * (imax + 1) * sizeof(int))
            if (ctx.lv[k].h_best == NULL or ctx.lv[k].h_full == NULL
                    or ctx.lv[k].best_full == NULL or ctx.lv[k].F == NULL
                    or ctx.lv[k].back_c == NULL or ctx.lv[k].back_v == NULL
                    or ctx.lv[k].back_g == NULL):
                raise MemoryError()
        with nogil:
            for I in range(imin, imax + 1):
                row = I - imin
                ctx.L[0] = _seg_log(I, ctx.lq)
                ctx.sec[0] = ctx.se[0] * ctx.dil[I]
                ctx.spc[0] = ctx.sp[0]
                _solve(&ctx, 1, I, stages - 1, &b, &f)
                et_out[row] = (1.0 + f) / I
                for k in range(nlev):
                    count[k] = 0
                    counts_out[row, k] = 0
                if f == INFINITY:
                    continue
                _emit(&ctx, 1, I, stages - 1, True, parts_out, row, count)
                for k in range(nlev):
                    counts_out[row, k] = count[k]
    finally:
        for k in range(MAX_DEPTH):
            free(ctx.lv[k].h_best)
            free(ctx.lv[k].h_full)
            free(ctx.lv[k].best_full)
            free(ctx.lv[k].F)
            free(ctx.lv[k].back_c)
            free(ctx.lv[k].back_v)
            free(ctx.lv[k].back_g)
    return None
