"""Operating characteristics of hierarchical pooling designs (private kernel).

A design over one block of N samples is a forest of pools given in topological order
(parents before children): pool v covers samples start[v]..stop[v]-1, is tested at its stage
only if its parent tested positive, and has its own Se/Sp (stage accuracy, possibly lowered
by dilution). Every sample ends in a singleton pool, leaf[i], whose result classifies it.

Outputs are per block: expected number of tests, and per sample the pooling sensitivity and
the false-positive rate 1 - PSp (kept instead of PSp to avoid cancellation).
"""
from libc.math cimport log1p, NAN, INFINITY
from libc.stdlib cimport malloc, free

from _chain cimport chain_all_positive, MAX_DEPTH


cdef int _ancestors(Py_ssize_t v, const Py_ssize_t[::1] parent, Py_ssize_t* out) noexcept nogil:
    """Write the ancestors of pool v into out, outermost first; return their number."""
    cdef Py_ssize_t tmp[MAX_DEPTH]
    cdef int d = 0, j
    cdef Py_ssize_t u = parent[v]
    while u >= 0:
        tmp[d] = u
        d += 1
        u = parent[u]
    for j in range(d):
        out[j] = tmp[d - 1 - j]
    return d


def tree_opchar(const double[::1] p, const Py_ssize_t[::1] start, const Py_ssize_t[::1] stop,
                const Py_ssize_t[::1] parent, const double[::1] se, const double[::1] sp,
                const Py_ssize_t[::1] leaf, double[::1] pse_out, double[::1] fpr_out):
    """Expected tests for one block with individual risks p; fills per-sample PSe, 1-PSp.

    Samples with p == 1 get 1-PSp = NaN (they cannot be negative).
    """
    cdef Py_ssize_t n = p.shape[0], npool = start.shape[0], i, v
    cdef double* pre = <double*> malloc((n + 1) * sizeof(double))
    cdef Py_ssize_t* ones = <Py_ssize_t*> malloc((n + 1) * sizeof(Py_ssize_t))
    cdef double* L = <double*> malloc(npool * sizeof(double))
    cdef double Lc[MAX_DEPTH]
    cdef double sec[MAX_DEPTH]
    cdef double spc[MAX_DEPTH]
    cdef Py_ssize_t anc[MAX_DEPTH]
    cdef int d, j
    cdef double et = 0.0, li, prod_se
    try:
        if pre == NULL or ones == NULL or L == NULL:
            raise MemoryError()
        with nogil:
            pre[0] = 0.0
            ones[0] = 0
            for i in range(n):
                if p[i] >= 1.0:
                    pre[i + 1] = pre[i]
                    ones[i + 1] = ones[i] + 1
                else:
                    pre[i + 1] = pre[i] + log1p(-p[i])
                    ones[i + 1] = ones[i]
            for v in range(npool):
                if ones[stop[v]] - ones[start[v]] > 0:
                    L[v] = -INFINITY
                else:
                    L[v] = pre[stop[v]] - pre[start[v]]
            # each pool is tested when all its ancestors test positive
            for v in range(npool):
                d = _ancestors(v, parent, anc)
                for j in range(d):
                    Lc[j] = L[anc[j]]
                    sec[j] = se[anc[j]]
                    spc[j] = sp[anc[j]]
                et += chain_all_positive(Lc, sec, spc, d)
            for i in range(n):
                v = leaf[i]
                d = _ancestors(v, parent, anc)
                prod_se = se[v]
                for j in range(d):
                    prod_se *= se[anc[j]]
                    sec[j] = se[anc[j]]
                    spc[j] = sp[anc[j]]
                pse_out[i] = prod_se
                if p[i] >= 1.0:
                    fpr_out[i] = NAN
                    continue
                li = log1p(-p[i])
                for j in range(d):
                    Lc[j] = L[anc[j]] - li   # the same pools, given sample i is negative
                fpr_out[i] = chain_all_positive(Lc, sec, spc, d) * (1.0 - sp[v])
    finally:
        free(pre)
        free(ones)
        free(L)
    return et


def tree_opchar_homogeneous(const double[::1] prevalence, const Py_ssize_t[::1] size,
                            const Py_ssize_t[::1] parent, const double[::1] se,
                            const double[::1] sp, double[::1] et_out, double[::1] pse_sum_out,
                            double[::1] fpr_sum_out):
    """Same as tree_opchar for a common prevalence, vectorised over a prevalence grid.

    Only pool sizes matter; each singleton pool is one sample's final test. Per grid point:
    expected tests per block, sum of PSe over samples and sum of 1-PSp over samples.
    """
    cdef Py_ssize_t ng = prevalence.shape[0], npool = size.shape[0], g, v
    cdef double Lc[MAX_DEPTH]
    cdef double sec[MAX_DEPTH]
    cdef double spc[MAX_DEPTH]
    cdef Py_ssize_t anc[MAX_DEPTH]
    cdef int d, j
    cdef double lq, et, pse_sum, fpr_sum, prod_se
    with nogil:
        for g in range(ng):
            lq = log1p(-prevalence[g]) if prevalence[g] < 1.0 else -INFINITY
            et = 0.0
            pse_sum = 0.0
            fpr_sum = 0.0
            for v in range(npool):
                d = _ancestors(v, parent, anc)
                for j in range(d):
                    Lc[j] = size[anc[j]] * lq if lq != -INFINITY else -INFINITY
                    sec[j] = se[anc[j]]
                    spc[j] = sp[anc[j]]
                et += chain_all_positive(Lc, sec, spc, d)
                if size[v] != 1:
                    continue
                prod_se = se[v]
                for j in range(d):
                    prod_se *= se[anc[j]]
                pse_sum += prod_se
                if lq == -INFINITY:
                    fpr_sum = NAN
                    continue
                for j in range(d):
                    Lc[j] = (size[anc[j]] - 1) * lq
                fpr_sum += chain_all_positive(Lc, sec, spc, d) * (1.0 - sp[v])
            et_out[g] = et
            pse_sum_out[g] = pse_sum
            fpr_sum_out[g] = fpr_sum


def dorfman_grid(const double[::1] prevalence, Py_ssize_t kmax, double se_pool, double sp_pool,
                 double se_ind, double sp_ind, const double[::1] dilution,
                 double[:, ::1] et_out, double[:, ::1] fpr_out):
    """Dorfman (D2) for pool sizes k = 1..kmax over a prevalence grid.

    k = 1 is individual testing with the individual-stage accuracy. dilution[k] multiplies the
    pool test's Se for a pool of k samples. Writes expected tests per sample and 1 - PSp.
    """
    cdef Py_ssize_t ng = prevalence.shape[0], g, k
    cdef double q, c_prev, c, s1
    with nogil:
        for g in range(ng):
            q = 1.0 - prevalence[g]
            et_out[g, 0] = 1.0
            fpr_out[g, 0] = 1.0 - sp_ind
            c_prev = q            # (1-p)^(k-1) for k = 2
            for k in range(2, kmax + 1):
                c = c_prev * q    # (1-p)^k
                s1 = se_pool * dilution[k]
                et_out[g, k - 1] = 1.0 / k + s1 * (1.0 - c) + (1.0 - sp_pool) * c
                fpr_out[g, k - 1] = (1.0 - sp_ind) * (s1 * (1.0 - c_prev)
                                                      + (1.0 - sp_pool) * c_prev)
                c_prev = c
