"""Informative three- and four-stage hierarchical testing, ID3 and ID4 (private kernel).

The batch's samples, sorted by ascending risk, are cut into contiguous first-stage pools; each
pool of more than one sample is cut into contiguous second-stage sub-pools; each sub-pool of
more than one sample is tested sample by sample at stage 3 (ID3) or, in ID4, cut again into
contiguous third-stage pools, each of more than one sample tested sample by sample at stage 4.
A first-stage pool of one sample is an individual test. Expected tests are additive over
first-stage pools, and within a pool over its sub-pools (each sub-pool's cost depends only on
its own samples and its pool's), and within a sub-pool over its third-stage pools, so the
design of least expected tests is a dynamic programme over the pools (``segments_dp``), each
pool's cost its own programme over its sub-pools (``pool_costs``), and in ID4
each sub-pool's its own over its third-stage pools: exact, O(n K^3) for n samples and pools of
at most K (ID3), O(n K^5) (ID4), then O(n K) for each cap on the pool size.
"""
from libc.math cimport exp, expm1, log1p, INFINITY
from libc.stdlib cimport malloc, free


cdef void _prefix(const double[::1] risks, double* pre, Py_ssize_t* ones) noexcept nogil:
    """pre[i]: log P(the first i samples all negative), over the samples of risk < 1; ones[i]:
    how many of the first i have risk 1."""
    cdef Py_ssize_t i
    pre[0] = 0.0
    ones[0] = 0
    for i in range(risks.shape[0]):
        if risks[i] >= 1.0:
            pre[i + 1] = pre[i]
            ones[i + 1] = ones[i] + 1
        else:
            pre[i + 1] = pre[i] + log1p(-risks[i])
            ones[i + 1] = ones[i]


def segments_dp(const double[:, ::1] cost, int kmin, int kmax, Py_ssize_t[::1] sizes_out):
    """Contiguous pools of n samples (cost[b, k]: the pool of the k samples ending before b,
    b = 0..n) of at most kmax samples, the largest at least kmin, minimising the summed cost.
    Writes the pool sizes in order; returns (their number, the cost), (0, inf) if none fits."""
    cdef Py_ssize_t n = cost.shape[0] - 1, a, b, k
    cdef int f, nf
    cdef Py_ssize_t count = 0, i
    cdef double c, cand, total
    cdef double* F = <double*> malloc(2 * (n + 1) * sizeof(double))
    cdef Py_ssize_t* back = <Py_ssize_t*> malloc(2 * (n + 1) * sizeof(Py_ssize_t))
    cdef int* backf = <int*> malloc(2 * (n + 1) * sizeof(int))
    if kmax >= cost.shape[1]:
        raise ValueError("kmax beyond the cost table")
    try:
        if F == NULL or back == NULL or backf == NULL:
            raise MemoryError()
        with nogil:
            F[0] = 0.0
            F[1] = INFINITY
            for b in range(1, n + 1):
                F[2 * b] = INFINITY
                F[2 * b + 1] = INFINITY
                for k in range(1, min(kmax, b) + 1):
                    a = b - k
                    c = cost[b, k]
                    for f in range(2):
                        if F[2 * a + f] == INFINITY:
                            continue
                        nf = 1 if (f == 1 or k >= kmin) else 0
                        cand = F[2 * a + f] + c
                        if cand < F[2 * b + nf]:
                            F[2 * b + nf] = cand
                            back[2 * b + nf] = a
                            backf[2 * b + nf] = f
            total = F[2 * n + 1]
            if total != INFINITY:
                b = n
                f = 1
                while b > 0:
                    a = back[2 * b + f]
                    sizes_out[count] = b - a
                    count += 1
                    f = backf[2 * b + f]
                    b = a
                for i in range(count // 2):
                    sizes_out[i], sizes_out[count - 1 - i] = sizes_out[count - 1 - i], sizes_out[i]
    finally:
        free(F)
        free(back)
        free(backf)
    return count, total


cdef void _dirty_table(const double* pre, const Py_ssize_t* ones, Py_ssize_t start,
                       Py_ssize_t n, Py_ssize_t K, double* out) noexcept nogil:
    """out[lo * (K + 1) + s]: P(samples lo..lo+s-1 hold a positive), s = 1..K,
    start <= lo, lo + s <= n."""
    cdef Py_ssize_t lo, s
    for lo in range(start, n):
        for s in range(1, min(K, n - lo) + 1):
            out[lo * (K + 1) + s] = (1.0 if ones[lo + s] > ones[lo]
                                     else -expm1(pre[lo + s] - pre[lo]))


cdef inline double _both_positive(double S0, double S1, double d, double D, double C,
                                  double f0, double f1) noexcept nogil:
    """P(a first-stage pool and its sub-pool test positive): the sub-pool holds a positive
    (d), or only the rest of the pool does (D - d), or neither (C); S0, S1 their sensitivities,
    f0, f1 their false-positive rates."""
    return S0 * S1 * d + S0 * f1 * (D - d) + f0 * f1 * C


cdef double _pool_cost(Py_ssize_t a, Py_ssize_t b, const double* pre, const Py_ssize_t* ones,
                       const double* dirty, Py_ssize_t K, const double[::1] se,
                       const double[::1] sp, const double[::1] dilution, double* G,
                       Py_ssize_t* gback) noexcept nogil:
    """Expected tests of the first-stage pool of samples a..b-1 with its best contiguous
    sub-pools (G, gback: the programme over its first x samples, left for reading back;
    dirty: the table of _dirty_table for sizes up to K >= b - a)."""
    cdef Py_ssize_t k = b - a, x, s, lo
    cdef double t1, c, cand, D, C, S0, f0 = 1.0 - sp[0], f1 = 1.0 - sp[1], d, S1
    if k == 1:
        return 1.0
    D = dirty[a * (K + 1) + k]
    C = 0.0 if ones[b] > ones[a] else exp(pre[b] - pre[a])
    S0 = se[0] * dilution[k]
    t1 = S0 * D + f0 * C                     # the pool tests positive: its sub-pools run
    G[0] = 0.0
    for x in range(1, k + 1):
        G[x] = INFINITY
        for s in range(1, min(x, k - 1) + 1):
            lo = a + x - s
            c = t1
            if s > 1:
                d = dirty[lo * (K + 1) + s]
                S1 = se[1] * dilution[s]
                c = t1 + s * _both_positive(S0, S1, d, D, C, f0, f1)
            cand = G[x - s] + c
            if cand < G[x]:
                G[x] = cand
                gback[x] = s
    return 1.0 + G[k]


cdef double _sub_children(Py_ssize_t lo, Py_ssize_t s, double S01, double t2,
                          const double* dirty, Py_ssize_t K, const double[::1] se,
                          const double[::1] sp, const double[::1] dilution, double* E,
                          Py_ssize_t* eback) noexcept nogil:
    """ID4: expected tests below the second-stage pool of samples lo..lo+s-1 (s > 1) with its
    best contiguous third-stage pools, given its first-stage pool: S01, the product of the two
    pools' sensitivities; t2, P(both pools test positive). E, eback: the programme, left for
    reading back."""
    cdef Py_ssize_t x, t
    cdef double c, cand, dT, f2 = 1.0 - sp[2]
    E[0] = 0.0
    for x in range(1, s + 1):
        E[x] = INFINITY
        for t in range(1, min(x, s - 1) + 1):
            c = t2
            if t > 1:
                # all three pools positive: the third holds a positive, or only the rest
                # (of the sub-pool or of the pool) does, or none does; t2's terms with (1 - Sp)
                dT = dirty[(lo + x - t) * (K + 1) + t]
                c = t2 + t * (S01 * se[2] * dilution[t] * dT + f2 * (t2 - S01 * dT))
            cand = E[x - t] + c
            if cand < E[x]:
                E[x] = cand
                eback[x] = t
    return E[s]


cdef double _pool_cost4(Py_ssize_t a, Py_ssize_t b, const double* pre, const Py_ssize_t* ones,
                        const double* dirty, Py_ssize_t K, const double[::1] se,
                        const double[::1] sp, const double[::1] dilution, double* G,
                        Py_ssize_t* gback, double* E, Py_ssize_t* eback) noexcept nogil:
    """ID4: expected tests of the first-stage pool of samples a..b-1 with its best contiguous
    sub-pools, each with its best third-stage pools (G, gback as in _pool_cost)."""
    cdef Py_ssize_t k = b - a, x, s, lo
    cdef double t1, t2, c, cand, D, C, S0, S1, d, f0 = 1.0 - sp[0], f1 = 1.0 - sp[1]
    if k == 1:
        return 1.0
    D = dirty[a * (K + 1) + k]
    C = 0.0 if ones[b] > ones[a] else exp(pre[b] - pre[a])
    S0 = se[0] * dilution[k]
    t1 = S0 * D + f0 * C
    G[0] = 0.0
    for x in range(1, k + 1):
        G[x] = INFINITY
        for s in range(1, min(x, k - 1) + 1):
            lo = a + x - s
            c = t1
            if s > 1:
                d = dirty[lo * (K + 1) + s]
                S1 = se[1] * dilution[s]
                t2 = _both_positive(S0, S1, d, D, C, f0, f1)
                c = t1 + _sub_children(lo, s, S0 * S1, t2, dirty, K, se, sp, dilution, E,
                                       eback)
            cand = G[x - s] + c
            if cand < G[x]:
                G[x] = cand
                gback[x] = s
    return 1.0 + G[k]


cdef Py_ssize_t _read_back(Py_ssize_t x, const Py_ssize_t* back, Py_ssize_t[::1] out,
                           Py_ssize_t count) noexcept nogil:
    """Append to out[count:] the parts of a programme's first x samples, in order; return the
    new count."""
    cdef Py_ssize_t first = count, i
    while x > 0:
        out[count] = back[x]
        count += 1
        x -= back[x]
    for i in range((count - first) // 2):
        out[first + i], out[count - 1 - i] = out[count - 1 - i], out[first + i]
    return count


cdef double _pool(Py_ssize_t a, Py_ssize_t b, const double* pre, const Py_ssize_t* ones,
                  const double* dirty, Py_ssize_t K, const double[::1] se, const double[::1] sp,
                  const double[::1] dilution, double* G, Py_ssize_t* gback, double* E,
                  Py_ssize_t* eback) noexcept nogil:
    """A first-stage pool's expected tests with its best parts: ID3 (three stages' accuracy
    in se, sp) or ID4 (four)."""
    if se.shape[0] == 3:
        return _pool_cost(a, b, pre, ones, dirty, K, se, sp, dilution, G, gback)
    return _pool_cost4(a, b, pre, ones, dirty, K, se, sp, dilution, G, gback, E, eback)


def pool_costs(const double[::1] risks, const double[::1] se, const double[::1] sp,
               const double[::1] dilution, double[:, ::1] cost_out):
    """cost_out[b, k]: expected tests of the first-stage pool of the k samples ending before
    sample b (ascending risks) with its best contiguous sub-pools (and, in ID4, their best
    third-stage pools); k = 1..cost_out.shape[1]-1, INFINITY where k > b. se, sp: each stage's
    accuracy, three stages (ID3) or four (ID4); dilution: factor per size."""
    cdef Py_ssize_t n = risks.shape[0], kmax = cost_out.shape[1] - 1, b, k
    if se.shape[0] not in (3, 4) or sp.shape[0] != se.shape[0]:
        raise ValueError("se, sp: three stages (ID3) or four (ID4)")
    cdef double* pre = <double*> malloc((n + 1) * sizeof(double))
    cdef Py_ssize_t* ones = <Py_ssize_t*> malloc((n + 1) * sizeof(Py_ssize_t))
    cdef double* G = <double*> malloc((kmax + 1) * sizeof(double))
    cdef Py_ssize_t* gback = <Py_ssize_t*> malloc((kmax + 1) * sizeof(Py_ssize_t))
    cdef double* E = <double*> malloc((kmax + 1) * sizeof(double))
    cdef Py_ssize_t* eback = <Py_ssize_t*> malloc((kmax + 1) * sizeof(Py_ssize_t))
    cdef double* dirty = <double*> malloc((n + 1) * (kmax + 1) * sizeof(double))
    try:
        if (pre == NULL or ones == NULL or G == NULL or gback == NULL or E == NULL
                or eback == NULL or dirty == NULL):
            raise MemoryError()
        with nogil:
            _prefix(risks, pre, ones)
            _dirty_table(pre, ones, 0, n, kmax, dirty)
            for b in range(n + 1):
                cost_out[b, 0] = INFINITY
                for k in range(1, kmax + 1):
                    if k > b:
                        cost_out[b, k] = INFINITY
                    else:
                        cost_out[b, k] = _pool(b - k, b, pre, ones, dirty, kmax, se, sp,
                                               dilution, G, gback, E, eback)
    finally:
        free(pre)
        free(ones)
        free(G)
        free(gback)
        free(E)
        free(eback)
        free(dirty)


def pool_split(const double[::1] risks, const double[::1] se, const double[::1] sp,
               const double[::1] dilution, Py_ssize_t a, Py_ssize_t b,
               Py_ssize_t[::1] subs_out, Py_ssize_t[::1] thirds_out):
    """The best sub-pools of the first-stage pool of samples a..b-1 (b - a > 1), in risk
    order, and in ID4 (four stages in se, sp) the best third-stage pools of each sub-pool of
    more than one sample, in order; returns their numbers (subs, thirds: 0 for ID3)."""
    cdef Py_ssize_t n = risks.shape[0], k = b - a, nsub = 0, nthird = 0, j, lo, s
    cdef double D, C, S0, S1, d, t2
    if not 0 <= a < b <= n or k < 2:
        raise ValueError("a pool of at least two samples within the risks")
    if se.shape[0] not in (3, 4) or sp.shape[0] != se.shape[0]:
        raise ValueError("se, sp: three stages (ID3) or four (ID4)")
    cdef double* pre = <double*> malloc((n + 1) * sizeof(double))
    cdef Py_ssize_t* ones = <Py_ssize_t*> malloc((n + 1) * sizeof(Py_ssize_t))
    cdef double* G = <double*> malloc((k + 1) * sizeof(double))
    cdef Py_ssize_t* gback = <Py_ssize_t*> malloc((k + 1) * sizeof(Py_ssize_t))
    cdef double* E = <double*> malloc((k + 1) * sizeof(double))
    cdef Py_ssize_t* eback = <Py_ssize_t*> malloc((k + 1) * sizeof(Py_ssize_t))
    cdef double* dirty = <double*> malloc((n + 1) * (k + 1) * sizeof(double))
    try:
        if (pre == NULL or ones == NULL or G == NULL or gback == NULL or E == NULL
                or eback == NULL or dirty == NULL):
            raise MemoryError()
        with nogil:
            _prefix(risks, pre, ones)
            _dirty_table(pre, ones, a, b, k, dirty)  # this pool's samples only
            _pool(a, b, pre, ones, dirty, k, se, sp, dilution, G, gback, E, eback)
            nsub = _read_back(k, gback, subs_out, 0)
            if se.shape[0] == 4:  # each sub-pool's programme again, to read its parts
                D = dirty[a * (k + 1) + k]
                C = 0.0 if ones[b] > ones[a] else exp(pre[b] - pre[a])
                S0 = se[0] * dilution[k]
                lo = a
                for j in range(nsub):
                    s = subs_out[j]
                    if s > 1:
                        d = dirty[lo * (k + 1) + s]
                        S1 = se[1] * dilution[s]
                        t2 = _both_positive(S0, S1, d, D, C, 1.0 - sp[0], 1.0 - sp[1])
                        _sub_children(lo, s, S0 * S1, t2, dirty, k, se, sp, dilution, E,
                                      eback)
                        nthird = _read_back(s, eback, thirds_out, nthird)
                    lo += s
    finally:
        free(pre)
        free(ones)
        free(G)
        free(gback)
        free(E)
        free(eback)
        free(dirty)
    return nsub, nthird
