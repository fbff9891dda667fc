"""Operating characteristics of square array designs, homogeneous prevalence (private kernel).

A2: an n x n array; every row and column pool is tested; a sample is retested individually
when its row and column are both positive, or when its row is positive and no column is
(and vice versa). A2M first tests the whole array as a master pool and proceeds only if it is
positive. Closed forms of Kim et al. (2007) as implemented by binGroup2's Array.Measures()
and MasterPool.Array.Measures(), with the binomial sums over positive rows summed exactly.
"""
from libc.math cimport log1p, pow, INFINITY

from _chain cimport clean_prob, dirty_prob


cdef double _choose(int n, int k) noexcept nogil:
    cdef double r = 1.0
    cdef int i
    if k < 0 or k > n:
        return 0.0
    if k > n - k:
        k = n - k
    for i in range(1, k + 1):
        r = r * (n - k + i) / i
    return r


cdef inline double _f(double m, double lq, double se, double sp) noexcept nogil:
    """P(a pool of m samples tests positive)."""
    return (1.0 - sp) * clean_prob(m, lq) + se * dirty_prob(m, lq)


cdef void _a2(int n, double lq, double s, double t, double se_i, double sp_i,
              double* et, double* pse, double* fpr) noexcept nogil:
    """A2 per sample: expected tests, PSe and 1 - PSp. s, t: row/column pool Se, Sp."""
    cdef double cn = clean_prob(n, lq), cn1 = clean_prob(n - 1, lq)
    cdef double q = dirty_prob(n, lq), q1 = dirty_prob(n - 1, lq)
    # P(a row tests negative) when it holds a positive with prob q, resp. q1
    cdef double u = (1.0 - s) * q + t * (1.0 - q)
    cdef double u1 = (1.0 - s) * q1 + t * (1.0 - q1)
    cdef double A = pow(u, n), B = pow(u1, n)
    cdef double a1, a3, c0
    # P(all rows negative, column k positive): column k clean or not
    a1 = (1.0 - t) * cn * B + s * (A - cn * B)
    # P(row j positive and column k positive)
    a3 = s * s + (1.0 - s - t) * (1.0 - s - t) * clean_prob(2 * n - 1, lq) \
        + (s * (1.0 - t) - s * s) * 2.0 * cn
    et[0] = 2.0 / n + 2.0 * a1 + a3
    c0 = 1.0 - (s + (1.0 - s - t) * cn)          # P(a column tests negative)
    pse[0] = se_i * s * s + se_i * s * (1.0 - s) * 2.0 * pow(c0, n - 1)
    # the same three events given the sample itself is negative
    a1 = (1.0 - t) * cn1 * B + s * (u1 * pow(u, n - 1) - cn1 * B)
    a3 = (s + (1.0 - s - t) * cn1)
    a3 = a3 * a3
    fpr[0] = (1.0 - sp_i) * (2.0 * a1 + a3)


cdef void _array_point(double p, int n, double se_rc, double sp_rc, double se_ind,
                       double sp_ind, bint master, double se_master, double sp_master,
                       bint compat, double* et_out, double* pse_out,
                       double* fpr_out) noexcept nogil:
    """A2 / A2M per sample at one prevalence and one row/column size."""
    cdef int c, N2 = n * n
    cdef double lq, et, pse, fpr, cn1, mu, nu, b0, b1, g0, g1, sp_m_mu, acc, dn, dn1
    cdef double ch_n, ch_n1, ch_n1m, pw_dn1, pw_dn, pw_fn, pw_sp
    lq = log1p(-p) if p < 1.0 else -INFINITY
    _a2(n, lq, se_rc, sp_rc, se_ind, sp_ind, &et, &pse, &fpr)
    if not master:
        et_out[0] = et
        pse_out[0] = pse
        fpr_out[0] = fpr
        return
    # master pool tested first; the array runs only when it is positive
    et_out[0] = 1.0 / N2 + (1.0 - se_master - sp_master) * clean_prob(N2, lq) * (
        2.0 / n + (1.0 - sp_rc) * (1.0 - sp_rc) + 2.0 * (1.0 - sp_rc) * pow(sp_rc, n)
    ) + se_master * et
    pse_out[0] = se_master * pse
    cn1 = clean_prob(n - 1, lq)
    dn = dirty_prob(n, lq)
    dn1 = dirty_prob(n - 1, lq)
    sp_m_mu = sp_rc if compat else sp_master
    # mu: P(master +, row j +, column k + | sample negative)
    mu = (_f(N2 - 2 * n + 1, lq, se_master, sp_m_mu) * ((1.0 - sp_rc) * cn1)
          * ((1.0 - sp_rc) * cn1)
          + se_master * se_rc * dn1 * ((1.0 - sp_rc) * cn1 + _f(n - 1, lq, se_rc, sp_rc)))
    # nu: P(master +, row j +, every column - | sample negative), by the number c of
    # columns holding a positive
    nu = (1.0 - sp_master) * clean_prob(N2 - 1, lq) * (1.0 - sp_rc) * pow(sp_rc, n)
    acc = 0.0
    # powers and binomial coefficients are updated from c - 1 to c (O(n), no pow in the loop)
    ch_n = 1.0          # C(n, c)
    ch_n1 = 1.0         # C(n - 1, c)
    ch_n1m = 1.0        # C(n - 1, c - 1)
    pw_dn1 = 1.0        # dn1^c
    pw_dn = 1.0         # dn^(c - 1)
    pw_fn = 1.0         # (1 - se_rc)^c
    pw_sp = pow(sp_rc, n)   # sp_rc^(n - c), divided by sp_rc each step (sp_rc > 0 here)
    for c in range(1, n + 1):
        ch_n1m = ch_n1
        ch_n = ch_n * (n - c + 1) / c
        ch_n1 = ch_n1 * (n - c) / c
        pw_dn1 *= dn1
        if c > 1:
            pw_dn *= dn
        pw_fn *= 1.0 - se_rc
        pw_sp /= sp_rc
        b0 = ch_n * clean_prob(N2 - n * c + c - 1, lq) * pw_dn1
        # P(c columns hold a positive | sample negative) - b0; column k among them or not
        b1 = ch_n1m * pw_dn * clean_prob(N2 - n * c, lq) * dn1 - b0
        if c < n:
            b1 += ch_n1 * pw_dn * dn * clean_prob(N2 - n * c - 1, lq)
        g0 = (1.0 - sp_rc) * pw_fn * pw_sp
        g1 = se_rc * pw_sp * pw_fn
        acc += b0 * g0 + b1 * g1
    nu += se_master * acc
    fpr_out[0] = (1.0 - sp_ind) * (mu + 2.0 * nu)


def array_grid(const double[::1] prevalence, int n, double se_rc, double sp_rc,
               double se_ind, double sp_ind, bint master, double se_master,
               double sp_master, bint bingroup2_compat,
               double[::1] et_out, double[::1] pse_out, double[::1] fpr_out):
    """A2 / A2M per sample over a prevalence grid: expected tests, PSe, 1 - PSp.

    bingroup2_compat reproduces binGroup2 1.3.3, which uses the row/column specificity instead
    of the master pool's in one term of A2M's PSp (identical when the two are equal).
    """
    cdef Py_ssize_t g
    with nogil:
        for g in range(prevalence.shape[0]):
            _array_point(prevalence[g], n, se_rc, sp_rc, se_ind, sp_ind, master, se_master,
                         sp_master, bingroup2_compat, &et_out[g], &pse_out[g], &fpr_out[g])


def array_sizes(double p, const long[::1] sizes, const double[::1] se_rc,
                double sp_rc, double se_ind, double sp_ind, bint master,
                const double[::1] se_master, double sp_master, bint bingroup2_compat,
                double[::1] et_out, double[::1] pse_out, double[::1] fpr_out):
    """A2 / A2M at one prevalence for several row/column sizes (the search over n).

    se_rc[i] and se_master[i] are the (dilution-adjusted) sensitivities for sizes[i].
    """
    cdef Py_ssize_t i
    with nogil:
        for i in range(sizes.shape[0]):
            _array_point(p, sizes[i], se_rc[i], sp_rc, se_ind, sp_ind, master, se_master[i],
                         sp_master, bingroup2_compat, &et_out[i], &pse_out[i], &fpr_out[i])
