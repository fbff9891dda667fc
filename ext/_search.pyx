"""Searches for optimal hierarchical configurations (private kernel).

With a common prevalence, a hierarchical design's expected tests, summed PSe and summed
1 - PSp are sums of terms that depend only on the sizes of the nested pools, so every
configuration is scored in O(number of sub-pools) from per-size tables.

- d3_search: every partition of every first-stage pool size I in [imin, imax] into second-stage
  sub-pools (all integer partitions except I itself, as binGroup2's OTC1 does).
- d3_dp: for each I, the partition of least expected tests by a dynamic programme over the
  sub-pools (O(I^2)); for the design table, which needs no PSe/PSp limits.
- d4_search: every partition of I into second-stage pools; each second-stage pool of size m is
  split at stage 3 the way that minimises its own expected tests (a dynamic programme over
  partitions of m). If no pool's best split has a fourth stage, the pool whose cheapest
  four-stage split costs least extra is given that split. Exact for the lowest-ET four-stage
  design; when PSe/PSp limits bind, a feasible design with costlier splits may be missed.
- d4_dp: the same designs without enumerating the partitions of I: for each I, a dynamic
  programme over the second-stage pools (each with its best split, or its best split with a
  fourth stage) finds the partition of least expected tests in O(I^2) once the pools' splits
  are known (O(I^3)); it finds the enumeration's best, and reaches first stages of 128.
- id2_dp: informative Dorfman on sorted individual risks: contiguous pools of the sorted risks
  chosen by dynamic programming to minimise expected tests, for a cap on the pool size.

Results are kept in a fixed-size list ordered by expected tests per sample; callers apply
the full tie-break order.
"""
from libc.math cimport log1p, INFINITY, exp
from libc.stdlib cimport malloc, free

from _chain cimport chain_all_positive


cdef enum:
    N_METRICS = 5   # I, expected tests per sample, PSe, 1 - PSp, stages


cdef inline double _seg_log(int n, double lq) noexcept nogil:
    return -INFINITY if lq == -INFINITY else n * lq


cdef int _insert(double et, double* row, int nrow, int keep, double[:, ::1] metrics,
                 Py_ssize_t[:, ::1] parts2, Py_ssize_t[:, ::1] parts3,
                 const Py_ssize_t* x2, int m2, const Py_ssize_t* x3, int m3) noexcept nogil:
    """Insert a configuration into the kept list (sorted by et); return the new length."""
    cdef int pos, c
    if nrow == keep and et >= metrics[nrow - 1, 1]:
        return nrow
    pos = nrow if nrow < keep else keep - 1
    while pos > 0 and metrics[pos - 1, 1] > et:
        if pos < keep:
            for c in range(N_METRICS):
                metrics[pos, c] = metrics[pos - 1, c]
            for c in range(parts2.shape[1]):
                parts2[pos, c] = parts2[pos - 1, c]
                parts3[pos, c] = parts3[pos - 1, c]
        pos -= 1
    for c in range(N_METRICS):
        metrics[pos, c] = row[c]
    for c in range(parts2.shape[1]):
        parts2[pos, c] = x2[c] if c < m2 else 0
        parts3[pos, c] = x3[c] if c < m3 else 0
    return nrow + 1 if nrow < keep else keep


cdef void _read_split(const double* F, const int* choice, int rest, int first,
                      Py_ssize_t* out, int* n_out) noexcept nogil:
    """Sub-pool sizes of the best split of `rest` (plus `first` if > 0), non-increasing."""
    cdef int n = 0, j, k, x = rest
    if first > 0:
        out[n] = first
        n += 1
    while x > 0:
        out[n] = choice[x]
        x -= choice[x]
        n += 1
    for j in range(1, n):       # insertion sort, descending
        k = j
        while k > 0 and out[k - 1] < out[k]:
            out[k - 1], out[k] = out[k], out[k - 1]
            k -= 1
    n_out[0] = n


cdef class _Partitions:
    """Integer partitions of n in anti-lexicographic order (Zoghbi & Stojmenovic's ZS1)."""
    cdef Py_ssize_t* x
    cdef int n, m, h
    cdef bint done

    def __cinit__(self, int n):
        cdef int i
        self.x = <Py_ssize_t*> malloc((n + 1) * sizeof(Py_ssize_t))
        if self.x == NULL:
            raise MemoryError()
        self.n = n
        for i in range(n + 1):
            self.x[i] = 1
        self.x[0] = n
        self.m = 1
        self.h = 0
        self.done = False

    def __dealloc__(self):
        free(self.x)

    cdef bint next(self) noexcept nogil:
        """Advance to the next partition; False after the last one (all ones)."""
        cdef Py_ssize_t r, t
        if self.x[0] == 1:
            return False
        if self.x[self.h] == 2:
            self.m += 1
            self.x[self.h] = 1
            self.h -= 1
        else:
            r = self.x[self.h] - 1
            t = self.m - self.h
            self.x[self.h] = r
            while t >= r:
                self.h += 1
                self.x[self.h] = r
                t -= r
            if t == 0:
                self.m = self.h + 1
            else:
                self.m = self.h + 2
                if t > 1:
                    self.h += 1
                    self.x[self.h] = t
        return True


cdef void _d3_parts(int I, double lq, const double[::1] se, const double[::1] sp,
                    const double[::1] dilution, double* et_part, double* se_part,
                    double* fp_part) noexcept nogil:
    """For a first-stage pool of I samples, each sub-pool size m < I's expected tests, summed
    PSe and summed 1 - PSp (over its samples)."""
    cdef int m
    cdef double L[3]
    cdef double sec[3]
    cdef double spc[3]
    cdef double t1
    sec[0] = se[0] * dilution[I]
    spc[0] = sp[0]
    L[0] = _seg_log(I, lq)
    t1 = chain_all_positive(L, sec, spc, 1)
    for m in range(1, I):
        if m == 1:
            et_part[m] = t1
            se_part[m] = sec[0] * se[1]
            L[0] = _seg_log(I - 1, lq)
            fp_part[m] = (1.0 - sp[1]) * chain_all_positive(L, sec, spc, 1)
            L[0] = _seg_log(I, lq)
        else:
            sec[1] = se[1] * dilution[m]
            spc[1] = sp[1]
            L[1] = _seg_log(m, lq)
            et_part[m] = t1 + m * chain_all_positive(L, sec, spc, 2)
            se_part[m] = m * sec[0] * sec[1] * se[2]
            L[0] = _seg_log(I - 1, lq)
            L[1] = _seg_log(m - 1, lq)
            fp_part[m] = m * (1.0 - sp[2]) * chain_all_positive(L, sec, spc, 2)
            L[0] = _seg_log(I, lq)


def d3_search(double p, int imin, int imax, const double[::1] se, const double[::1] sp,
              const double[::1] dilution, double min_pse, double min_psp,
              double[:, ::1] metrics, Py_ssize_t[:, ::1] parts2, Py_ssize_t[:, ::1] parts3):
    """Best three-stage configurations; returns (configurations evaluated, rows kept)."""
    cdef int keep = metrics.shape[0], nrow = 0, I, j
    cdef long long evaluated = 0
    cdef double lq = log1p(-p) if p < 1.0 else -INFINITY
    cdef double row[N_METRICS]
    cdef double et, pse, fpr
    cdef double* et_part = <double*> malloc((imax + 1) * sizeof(double))
    cdef double* se_part = <double*> malloc((imax + 1) * sizeof(double))
    cdef double* fp_part = <double*> malloc((imax + 1) * sizeof(double))
    cdef Py_ssize_t dummy[1]
    cdef _Partitions parts
    cdef bint all_ones
    dummy[0] = 0
    try:
        if et_part == NULL or se_part == NULL or fp_part == NULL:
            raise MemoryError()
        for I in range(imin, imax + 1):
            _d3_parts(I, lq, se, sp, dilution, et_part, se_part, fp_part)
            parts = _Partitions(I)
            with nogil:
                while parts.next():
                    evaluated += 1
                    et = 1.0
                    pse = 0.0
                    fpr = 0.0
                    all_ones = True
                    for j in range(parts.m):
                        et += et_part[parts.x[j]]
                        pse += se_part[parts.x[j]]
                        fpr += fp_part[parts.x[j]]
                        if parts.x[j] > 1:
                            all_ones = False
                    pse /= I
                    fpr /= I
                    if pse < min_pse or 1.0 - fpr < min_psp:
                        continue
                    row[0] = I
                    row[1] = et / I
                    row[2] = pse
                    row[3] = fpr
                    row[4] = 2 if all_ones else 3
                    nrow = _insert(row[1], row, nrow, keep, metrics, parts2, parts3,
                                   parts.x, parts.m, dummy, 0)
    finally:
        free(et_part)
        free(se_part)
        free(fp_part)
    return evaluated, nrow


def d3_dp(double p, int imin, int imax, const double[::1] se, const double[::1] sp,
          const double[::1] dilution, double[:, ::1] metrics, Py_ssize_t[:, ::1] parts2,
          Py_ssize_t[:, ::1] parts3):
    """For each first-stage size I in [imin, imax], the three-stage configuration of least
    expected tests with at least one sub-pool of more than one sample (D2 otherwise), by a
    dynamic programme over the sub-pools (O(I^2), not the partitions of I one by one); no
    PSe/PSp limits. Returns (first-stage sizes scored, rows kept)."""
    cdef int keep = metrics.shape[0], nrow = 0, I, m, x, f, nf, b, n2
    cdef double lq = log1p(-p) if p < 1.0 else -INFINITY
    cdef double row[N_METRICS]
    cdef double cand, pse, fpr
    cdef int W = imax + 1
    cdef double* et_part = <double*> malloc(W * sizeof(double))
    cdef double* se_part = <double*> malloc(W * sizeof(double))
    cdef double* fp_part = <double*> malloc(W * sizeof(double))
    # G[2x + f]: least expected tests of sub-pools holding x samples, f = 1 when one of them
    # holds more than one sample; back: the last sub-pool's size and the f before it
    cdef double* G = <double*> malloc(2 * W * sizeof(double))
    cdef int* back_m = <int*> malloc(2 * W * sizeof(int))
    cdef int* back_f = <int*> malloc(2 * W * sizeof(int))
    cdef Py_ssize_t* x2 = <Py_ssize_t*> malloc(W * sizeof(Py_ssize_t))
    cdef Py_ssize_t dummy[1]
    dummy[0] = 0
    try:
        if et_part == NULL or se_part == NULL or fp_part == NULL or G == NULL \
                or back_m == NULL or back_f == NULL or x2 == NULL:
            raise MemoryError()
        with nogil:
            for I in range(imin, imax + 1):
                _d3_parts(I, lq, se, sp, dilution, et_part, se_part, fp_part)
                G[0] = 0.0
                G[1] = INFINITY
                for x in range(1, I + 1):
                    G[2 * x] = INFINITY
                    G[2 * x + 1] = INFINITY
                    for m in range(1, min(x, I - 1) + 1):   # one sub-pool of I is no split
                        for f in range(2):
                            if G[2 * (x - m) + f] == INFINITY:
                                continue
                            nf = 1 if (f == 1 or m > 1) else 0
                            cand = G[2 * (x - m) + f] + et_part[m]
                            if cand < G[2 * x + nf]:
                                G[2 * x + nf] = cand
                                back_m[2 * x + nf] = m
                                back_f[2 * x + nf] = f
                if G[2 * I + 1] == INFINITY:
                    continue
                n2 = 0
                x = I
                f = 1
                pse = 0.0
                fpr = 0.0
                while x > 0:
                    b = 2 * x + f
                    m = back_m[b]
                    x2[n2] = m
                    n2 += 1
                    pse += se_part[m]
                    fpr += fp_part[m]
                    f = back_f[b]
                    x -= m
                for m in range(1, n2):       # insertion sort, descending (as the enumeration)
                    b = m
                    while b > 0 and x2[b - 1] < x2[b]:
                        x2[b - 1], x2[b] = x2[b], x2[b - 1]
                        b -= 1
                row[0] = I
                row[1] = (1.0 + G[2 * I + 1]) / I
                row[2] = pse / I
                row[3] = fpr / I
                row[4] = 3
                nrow = _insert(row[1], row, nrow, keep, metrics, parts2, parts3,
                               x2, n2, dummy, 0)
    finally:
        free(et_part)
        free(se_part)
        free(fp_part)
        free(G)
        free(back_m)
        free(back_f)
        free(x2)
    return imax - imin + 1 if imax >= imin else 0, nrow


cdef struct PoolTables:
    # For a first-stage pool of I samples, per second-stage pool size m < I: its share of the
    # expected tests, of the summed PSe and of the summed 1 - PSp with its best stage-3 split
    # (*_pool) and with its best split that has a fourth stage (*_real; et INFINITY: none);
    # real4[m]: the best split has a fourth stage. split rows 2m (best) and 2m + 1 (best real)
    # hold the splits' sub-pool sizes, nsplit their lengths. g, F, choice, x3: work space.
    int W
    double* et_pool
    double* se_pool
    double* fp_pool
    bint* real4
    double* et_real
    double* se_real
    double* fp_real
    Py_ssize_t* split
    int* nsplit
    double* g
    double* F
    int* choice
    Py_ssize_t* x3


cdef PoolTables _new_tables(int W) except *:
    cdef PoolTables t
    t.W = W
    t.et_pool = <double*> malloc(W * sizeof(double))
    t.se_pool = <double*> malloc(W * sizeof(double))
    t.fp_pool = <double*> malloc(W * sizeof(double))
    t.real4 = <bint*> malloc(W * sizeof(bint))
    t.et_real = <double*> malloc(W * sizeof(double))
    t.se_real = <double*> malloc(W * sizeof(double))
    t.fp_real = <double*> malloc(W * sizeof(double))
    t.split = <Py_ssize_t*> malloc(2 * <size_t>W * W * sizeof(Py_ssize_t))
    t.nsplit = <int*> malloc(2 * W * sizeof(int))
    t.g = <double*> malloc(W * sizeof(double))
    t.F = <double*> malloc(W * sizeof(double))
    t.choice = <int*> malloc(W * sizeof(int))
    t.x3 = <Py_ssize_t*> malloc(W * sizeof(Py_ssize_t))
    if (t.et_pool == NULL or t.se_pool == NULL or t.fp_pool == NULL or t.real4 == NULL
            or t.et_real == NULL or t.se_real == NULL or t.fp_real == NULL or t.split == NULL
            or t.nsplit == NULL or t.g == NULL or t.F == NULL or t.choice == NULL
            or t.x3 == NULL):
        _free_tables(&t)
        raise MemoryError()
    return t


cdef void _free_tables(PoolTables* t) noexcept nogil:
    free(t.et_pool)
    free(t.se_pool)
    free(t.fp_pool)
    free(t.real4)
    free(t.et_real)
    free(t.se_real)
    free(t.fp_real)
    free(t.split)
    free(t.nsplit)
    free(t.g)
    free(t.F)
    free(t.choice)
    free(t.x3)


cdef void _fill_tables(PoolTables* t, int I, double lq, const double* se, const double* sp,
                       const double* dilution) noexcept nogil:
    """The tables of a first-stage pool of I samples: each second-stage pool of size m split
    at stage 3 the way that minimises its own expected tests (a dynamic programme over the
    partitions of m), and the best split with a fourth stage."""
    cdef double L[4]
    cdef double sec[4]
    cdef double spc[4]
    cdef double t1, t2, pse, fpr, cand
    cdef int m, s, x, j, n3, best_s, variant
    sec[0] = se[0] * dilution[I]
    spc[0] = sp[0]
    spc[1] = sp[1]
    spc[2] = sp[2]
    for m in range(1, I):
        if m == 1:
            L[0] = _seg_log(I, lq)
            t.et_pool[1] = chain_all_positive(L, sec, spc, 1)
            t.se_pool[1] = sec[0] * se[1]
            L[0] = _seg_log(I - 1, lq)
            t.fp_pool[1] = (1.0 - sp[1]) * chain_all_positive(L, sec, spc, 1)
            t.real4[1] = False
            t.nsplit[2] = 0
            t.et_real[1] = INFINITY
            continue
        sec[1] = se[1] * dilution[m]
        L[0] = _seg_log(I, lq)
        t1 = chain_all_positive(L, sec, spc, 1)
        L[1] = _seg_log(m, lq)
        t2 = chain_all_positive(L, sec, spc, 2)
        # t.g[s]: expected tests caused by one stage-3 sub-pool of size s
        for s in range(1, m):
            if s == 1:
                t.g[s] = t2
            else:
                sec[2] = se[2] * dilution[s]
                L[2] = _seg_log(s, lq)
                t.g[s] = t2 + s * chain_all_positive(L, sec, spc, 3)
        t.F[0] = 0.0
        for x in range(1, m + 1):
            t.F[x] = INFINITY
            for s in range(1, min(x, m - 1) + 1):
                cand = t.F[x - s] + t.g[s]
                if cand < t.F[x]:
                    t.F[x] = cand
                    t.choice[x] = s
        # best split with a real fourth stage: one sub-pool s >= 2 plus the best rest
        best_s = 0
        cand = INFINITY
        for s in range(2, m):
            if t.g[s] + t.F[m - s] < cand:
                cand = t.g[s] + t.F[m - s]
                best_s = s
        for variant in range(2):
            if variant == 0:
                _read_split(t.F, t.choice, m, 0, t.x3, &n3)
                t.et_pool[m] = t1 + t.F[m]
            else:
                if best_s == 0:
                    t.et_real[m] = INFINITY
                    continue
                _read_split(t.F, t.choice, m - best_s, best_s, t.x3, &n3)
                t.et_real[m] = t1 + cand
            pse = 0.0
            fpr = 0.0
            L[0] = _seg_log(I - 1, lq)
            L[1] = _seg_log(m - 1, lq)
            for j in range(n3):
                t.split[(2 * m + variant) * t.W + j] = t.x3[j]
                s = t.x3[j]
                if s == 1:
                    pse += sec[0] * sec[1] * se[2]
                    fpr += (1.0 - sp[2]) * chain_all_positive(L, sec, spc, 2)
                else:
                    sec[2] = se[2] * dilution[s]
                    L[2] = _seg_log(s - 1, lq)
                    pse += s * sec[0] * sec[1] * sec[2] * se[3]
                    fpr += s * (1.0 - sp[3]) * chain_all_positive(L, sec, spc, 3)
            if variant == 0:
                t.nsplit[2 * m] = n3
                t.real4[m] = t.x3[0] > 1
                t.se_pool[m] = pse
                t.fp_pool[m] = fpr
            else:
                t.nsplit[2 * m + 1] = n3
                t.se_real[m] = pse
                t.fp_real[m] = fpr


def d4_search(double p, int imin, int imax, const double[::1] se, const double[::1] sp,
              const double[::1] dilution, double min_pse, double min_psp,
              double[:, ::1] metrics, Py_ssize_t[:, ::1] parts2, Py_ssize_t[:, ::1] parts3):
    """Best four-stage configurations; returns (configurations evaluated, rows kept)."""
    cdef int keep = metrics.shape[0], nrow = 0, I, m, j, k, pos
    cdef long long evaluated = 0
    cdef double lq = log1p(-p) if p < 1.0 else -INFINITY
    cdef double row[N_METRICS]
    cdef double et, pse, fpr
    cdef _Partitions parts
    cdef bint any4
    cdef int variant, forced
    cdef double extra
    cdef PoolTables t = _new_tables(imax + 1)
    try:
        for I in range(imin, imax + 1):
            _fill_tables(&t, I, lq, &se[0], &sp[0], &dilution[0])
            parts = _Partitions(I)
            with nogil:
                while parts.next():
                    evaluated += 1
                    et = 1.0
                    pse = 0.0
                    fpr = 0.0
                    any4 = False
                    forced = -1          # index of the pool forced to a real split, if needed
                    extra = INFINITY
                    for j in range(parts.m):
                        m = parts.x[j]
                        et += t.et_pool[m]
                        pse += t.se_pool[m]
                        fpr += t.fp_pool[m]
                        any4 = any4 or t.real4[m]
                        if m > 2 and t.et_real[m] - t.et_pool[m] < extra:
                            extra = t.et_real[m] - t.et_pool[m]
                            forced = j
                    if not any4:
                        if forced < 0:
                            continue      # no pool can be split further: not a four-stage design
                        m = parts.x[forced]
                        et += extra
                        pse += t.se_real[m] - t.se_pool[m]
                        fpr += t.fp_real[m] - t.fp_pool[m]
                    pse /= I
                    fpr /= I
                    if pse < min_pse or 1.0 - fpr < min_psp:
                        continue
                    if nrow == keep and et / I >= metrics[nrow - 1, 1]:
                        continue
                    pos = 0
                    for j in range(parts.m):
                        m = parts.x[j]
                        variant = 1 if (not any4 and j == forced) else 0
                        for k in range(t.nsplit[2 * m + variant]):
                            t.x3[pos] = t.split[(2 * m + variant) * t.W + k]
                            pos += 1
                    row[0] = I
                    row[1] = et / I
                    row[2] = pse
                    row[3] = fpr
                    row[4] = 4
                    nrow = _insert(row[1], row, nrow, keep, metrics, parts2, parts3,
                                   parts.x, parts.m, t.x3, pos)
    finally:
        _free_tables(&t)
    return evaluated, nrow


def d4_dp(double p, int imin, int imax, const double[::1] se, const double[::1] sp,
          const double[::1] dilution, double min_pse, double min_psp,
          double[:, ::1] metrics, Py_ssize_t[:, ::1] parts2, Py_ssize_t[:, ::1] parts3):
    """The four-stage configuration of least expected tests for each first-stage size I in
    [imin, imax], by a dynamic programme over the second-stage pools (not their partitions
    one by one: O(I^3) per I). A design of I kept only when it meets the PSe/PSp limits;
    returns (first-stage sizes scored, rows kept)."""
    cdef int keep = metrics.shape[0], nrow = 0, I, m, x, f, nf, v, b, pos, n2, k
    cdef double lq = log1p(-p) if p < 1.0 else -INFINITY
    cdef double row[N_METRICS]
    cdef double cost, cand, pse, fpr
    cdef int W = imax + 1
    cdef PoolTables t = _new_tables(W)
    # G[2x + f]: least expected tests of second-stage pools holding x samples, f = 1 when one
    # of them has a fourth stage; back: the last pool's size and variant (best, best real)
    cdef double* G = <double*> malloc(2 * W * sizeof(double))
    cdef int* back_m = <int*> malloc(2 * W * sizeof(int))
    cdef int* back_v = <int*> malloc(2 * W * sizeof(int))
    cdef int* back_f = <int*> malloc(2 * W * sizeof(int))
    cdef Py_ssize_t* x2 = <Py_ssize_t*> malloc(W * sizeof(Py_ssize_t))
    cdef int* v2 = <int*> malloc(W * sizeof(int))
    try:
        if G == NULL or back_m == NULL or back_v == NULL or back_f == NULL or x2 == NULL \
                or v2 == NULL:
            raise MemoryError()
        for I in range(imin, imax + 1):
            _fill_tables(&t, I, lq, &se[0], &sp[0], &dilution[0])
            with nogil:
                G[0] = 0.0
                G[1] = INFINITY
                for x in range(1, I + 1):
                    G[2 * x] = INFINITY
                    G[2 * x + 1] = INFINITY
                    # second-stage pools smaller than I (one pool of I is no split)
                    for m in range(1, min(x, I - 1) + 1):
                        for v in range(2):
                            cost = t.et_pool[m] if v == 0 else t.et_real[m]
                            if cost == INFINITY or (v == 1 and t.real4[m]):
                                continue  # no real split, or the best split is real already
                            for f in range(2):
                                if G[2 * (x - m) + f] == INFINITY:
                                    continue
                                nf = 1 if (f == 1 or v == 1 or t.real4[m]) else 0
                                cand = G[2 * (x - m) + f] + cost
                                if cand < G[2 * x + nf]:
                                    G[2 * x + nf] = cand
                                    back_m[2 * x + nf] = m
                                    back_v[2 * x + nf] = v
                                    back_f[2 * x + nf] = f
                if G[2 * I + 1] == INFINITY:
                    continue
                # read the pools back, largest first (a real split before a best one of the
                # same size), with their summed PSe and 1 - PSp
                n2 = 0
                x = I
                f = 1
                pse = 0.0
                fpr = 0.0
                while x > 0:
                    b = 2 * x + f
                    m = back_m[b]
                    v = back_v[b]
                    x2[n2] = m
                    v2[n2] = v
                    n2 += 1
                    pse += t.se_pool[m] if v == 0 else t.se_real[m]
                    fpr += t.fp_pool[m] if v == 0 else t.fp_real[m]
                    f = back_f[b]
                    x -= m
                for m in range(1, n2):       # insertion sort: size descending, real first
                    k = m
                    while k > 0 and (x2[k - 1] < x2[k] or (x2[k - 1] == x2[k]
                                                           and v2[k - 1] < v2[k])):
                        x2[k - 1], x2[k] = x2[k], x2[k - 1]
                        v2[k - 1], v2[k] = v2[k], v2[k - 1]
                        k -= 1
                pse /= I
                fpr /= I
                if pse < min_pse or 1.0 - fpr < min_psp:
                    continue
                pos = 0
                for m in range(n2):
                    b = 2 * x2[m] + v2[m]
                    for k in range(t.nsplit[b]):
                        t.x3[pos] = t.split[b * t.W + k]
                        pos += 1
                row[0] = I
                row[1] = (1.0 + G[2 * I + 1]) / I
                row[2] = pse
                row[3] = fpr
                row[4] = 4
                nrow = _insert(row[1], row, nrow, keep, metrics, parts2, parts3,
                               x2, n2, t.x3, pos)
    finally:
        _free_tables(&t)
        free(G)
        free(back_m)
        free(back_v)
        free(back_f)
        free(x2)
        free(v2)
    return imax - imin + 1 if imax >= imin else 0, nrow


def id2_dp(const double[::1] risks, double se_pool, double sp_pool, const double[::1] dilution,
           int kmin, int kmax, Py_ssize_t[::1] sizes_out):
    """Contiguous pools of ascending risks minimising expected tests.

    Pool sizes are at most kmax and the largest is at least kmin. A pool of one sample is a
    single test. Writes the pool sizes (in risk order) and returns their number, or 0 when no
    split satisfies the bounds; the second value is the expected number of tests.
    """
    cdef Py_ssize_t n = risks.shape[0], b, k, a, i
    cdef int f, nf
    cdef double* pre = <double*> malloc((n + 1) * sizeof(double))
    cdef Py_ssize_t* ones = <Py_ssize_t*> malloc((n + 1) * sizeof(Py_ssize_t))
    cdef double* F = <double*> malloc(2 * (n + 1) * sizeof(double))
    cdef Py_ssize_t* back = <Py_ssize_t*> malloc(2 * (n + 1) * sizeof(Py_ssize_t))
    cdef int* backf = <int*> malloc(2 * (n + 1) * sizeof(int))
    cdef double c, cost, cand
    cdef Py_ssize_t count = 0
    try:
        if pre == NULL or ones == NULL or F == NULL or back == NULL or backf == NULL:
            raise MemoryError()
        with nogil:
            pre[0] = 0.0
            ones[0] = 0
            for i in range(n):
                if risks[i] >= 1.0:
                    pre[i + 1] = pre[i]
                    ones[i + 1] = ones[i] + 1
                else:
                    pre[i + 1] = pre[i] + log1p(-risks[i])
                    ones[i + 1] = ones[i]
            F[0] = 0.0
            F[1] = INFINITY
            for b in range(1, n + 1):
                F[2 * b] = INFINITY
                F[2 * b + 1] = INFINITY
                for k in range(1, min(kmax, b) + 1):
                    a = b - k
                    if k == 1:
                        cost = 1.0
                    else:
                        c = 0.0 if ones[b] > ones[a] else exp(pre[b] - pre[a])
                        cost = 1.0 + k * (se_pool * dilution[k] * (1.0 - c) + (1.0 - sp_pool) * c)
                    for f in range(2):
                        if F[2 * a + f] == INFINITY:
                            continue
                        nf = 1 if (f == 1 or k >= kmin) else 0
                        cand = F[2 * a + f] + cost
                        if cand < F[2 * b + nf]:
                            F[2 * b + nf] = cand
                            back[2 * b + nf] = a
                            backf[2 * b + nf] = f
            cost = F[2 * n + 1]
            if cost != INFINITY:
                b = n
                f = 1
                while b > 0:
                    a = back[2 * b + f]
                    sizes_out[count] = b - a
                    count += 1
                    f = backf[2 * b + f]
                    b = a
                # pools were read back from the end: restore ascending-risk order
                for i in range(count // 2):
                    sizes_out[i], sizes_out[count - 1 - i] = sizes_out[count - 1 - i], sizes_out[i]
    finally:
        free(pre)
        free(ones)
        free(F)
        free(back)
        free(backf)
    return count, cost
