"""Operating characteristics of array designs, homogeneous prevalence (private kernel).

A2: an r x c array (r rows of c samples, c columns of r samples); every row and column pool is
tested; a sample is retested individually when its row and column are both positive, or when
its row is positive and no column is (and vice versa). A2M first tests the whole array as a
master pool and proceeds only if it is positive. The closed forms of Kim et al. (2007), as
binGroup2's Array.Measures() and MasterPool.Array.Measures() implement them for n x n, here
for r x c with a row's and a column's own sensitivity (dilution by their sizes), and the
binomial sums over the pools holding a positive summed exactly.
"""
from libc.math cimport log1p, pow, INFINITY

from _chain cimport clean_prob, dirty_prob

cdef enum:
    MAX_SIDE = 100  # rows or columns of an array (labopt.pooling.designs.MAX_ARRAY_SIDE)


cdef inline double _f(double m, double lq, double se, double sp) noexcept nogil:
    """P(a pool of m samples tests positive)."""
    return (1.0 - sp) * clean_prob(m, lq) + se * dirty_prob(m, lq)


cdef double _lines_negative_one_positive(int lines, int len_, double lq, double s_line,
                                         double t, double s_cross, double t_cross,
                                         bint sample_negative) noexcept nogil:
    """P(every one of `lines` parallel pools of `len_` samples tests negative and the crossing
    pool through one sample tests positive), unconditional or given that sample is negative.

    The crossing pool holds one sample of each line; s_line, t: a line's Se, Sp; s_cross,
    t_cross: the crossing pool's.
    """
    cdef double clean1 = clean_prob(len_ - 1, lq), q = clean_prob(1, lq)
    # a line tests negative: whatever it holds (u), or with its crossing sample clean (u1)
    cdef double u1 = (1.0 - s_line) * dirty_prob(len_ - 1, lq) + t * clean1
    cdef double u = q * u1 + (1.0 - q) * (1.0 - s_line)
    cdef double v1 = q * u1          # negative with its crossing sample clean
    cdef int k = lines - 1 if sample_negative else lines
    cdef double head = u1 if sample_negative else 1.0
    return head * ((1.0 - t_cross) * pow(v1, k) + s_cross * (pow(u, k) - pow(v1, k)))


cdef void _a2(int r, int c, double lq, double s_row, double s_col, double t, double se_i,
              double sp_i, double* et, double* pse, double* fpr) noexcept nogil:
    """A2 per sample: expected tests, PSe and 1 - PSp. Rows hold c samples, columns r."""
    cdef double q = clean_prob(1, lq), p = dirty_prob(1, lq)
    # the sample's row (column) positive given the sample is negative
    cdef double row1 = s_row * dirty_prob(c - 1, lq) + (1.0 - t) * clean_prob(c - 1, lq)
    cdef double col1 = s_col * dirty_prob(r - 1, lq) + (1.0 - t) * clean_prob(r - 1, lq)
    # a row (column) tests negative, whatever it holds
    cdef double row_neg = (1.0 - s_row) * dirty_prob(c, lq) + t * clean_prob(c, lq)
    cdef double col_neg = (1.0 - s_col) * dirty_prob(r, lq) + t * clean_prob(r, lq)
    cdef double both = p * s_row * s_col + q * row1 * col1
    # row positive, every column negative (and vice versa)
    cdef double row_only = _lines_negative_one_positive(c, r, lq, s_col, t, s_row, t, False)
    cdef double col_only = _lines_negative_one_positive(r, c, lq, s_row, t, s_col, t, False)
    et[0] = (r + c) / (<double> r * c) + both + row_only + col_only
    pse[0] = se_i * (s_row * s_col + s_row * (1.0 - s_col) * pow(col_neg, c - 1)
                     + s_col * (1.0 - s_row) * pow(row_neg, r - 1))
    fpr[0] = (1.0 - sp_i) * (
        row1 * col1
        + _lines_negative_one_positive(c, r, lq, s_col, t, s_row, t, True)
        + _lines_negative_one_positive(r, c, lq, s_row, t, s_col, t, True))


cdef double _master_cross(int lines, int len_, double lq, double s_cross, double t,
                          double s_line, double se_m, double sp_m) noexcept nogil:
    """P(master positive, the crossing pool through a negative sample positive, every one of
    `lines` parallel pools of `len_` samples negative), summed over d, the number of lines
    holding a positive (the crossing pool holds one sample of each line)."""
    cdef double pw_d1[MAX_SIDE + 1]     # d_1^k: a line's other len_-1 samples not all clean
    cdef double pw_c1[MAX_SIDE + 1]     # c_1^k
    cdef double pw_dl[MAX_SIDE + 1]     # d_l^k: a whole line not all clean
    cdef double pw_cl[MAX_SIDE + 1]     # c_l^k
    cdef double pw_fn[MAX_SIDE + 1]     # (1 - s_line)^k
    cdef double pw_t[MAX_SIDE + 1]      # t^k
    cdef double d1 = dirty_prob(len_ - 1, lq), c1 = clean_prob(len_ - 1, lq)
    cdef double dl = dirty_prob(len_, lq), cl = clean_prob(len_, lq)
    cdef double cross_rest = clean_prob(lines - 1, lq)  # the crossing pool's others clean
    cdef double acc = 0.0, b0, b_all, ch, ch1m, ch1
    cdef int k, d
    pw_d1[0] = pw_c1[0] = pw_dl[0] = pw_cl[0] = pw_fn[0] = pw_t[0] = 1.0
    for k in range(1, lines + 1):
        pw_d1[k] = pw_d1[k - 1] * d1
        pw_c1[k] = pw_c1[k - 1] * c1
        pw_dl[k] = pw_dl[k - 1] * dl
        pw_cl[k] = pw_cl[k - 1] * cl
        pw_fn[k] = pw_fn[k - 1] * (1.0 - s_line)
        pw_t[k] = pw_t[k - 1] * t
    ch = 1.0            # C(lines, d)
    ch1 = 1.0           # C(lines - 1, d)
    for d in range(1, lines + 1):
        ch1m = ch1      # C(lines - 1, d - 1)
        ch = ch * (lines - d + 1) / d
        ch1 = ch1 * (lines - d) / d
        # d lines hold a positive, the crossing pool's other samples all clean
        b0 = cross_rest * ch * pw_d1[d] * pw_c1[lines - d]
        # d lines hold a positive: the negative sample's own line among them or not
        b_all = d1 * ch1m * pw_dl[d - 1] * pw_cl[lines - d]
        if d < lines:
            b_all += c1 * ch1 * pw_dl[d] * pw_cl[lines - 1 - d]
        acc += (b0 * (1.0 - t) + (b_all - b0) * s_cross) * pw_fn[d] * pw_t[lines - d]
    # no line holds a positive: the whole array is clean but for nothing
    return ((1.0 - sp_m) * clean_prob(lines * len_ - 1, lq) * (1.0 - t) * pw_t[lines]
            + se_m * acc)


cdef void _array_point(double p, int r, int c, double s_row, double s_col, double sp_rc,
                       double se_ind, double sp_ind, bint master, double se_master,
                       double sp_master, bint compat, double* et_out, double* pse_out,
                       double* fpr_out) noexcept nogil:
    """A2 / A2M per sample at one prevalence for an r x c array."""
    cdef int N = r * c
    cdef double lq, et, pse, fpr, t = sp_rc, c_r1, c_c1, d_r1, d_c1, mu, sp_m_mu, clean_lines
    lq = log1p(-p) if p < 1.0 else -INFINITY
    _a2(r, c, lq, s_row, s_col, t, se_ind, sp_ind, &et, &pse, &fpr)
    if not master:
        et_out[0] = et
        pse_out[0] = pse
        fpr_out[0] = fpr
        return
    # master pool tested first; the array runs only when it is positive. Given an all-clean
    # array, the row/column stage costs its pools plus the false retests.
    clean_lines = ((r + c) / (<double> N) + (1.0 - t) * (1.0 - t)
                   + (1.0 - t) * pow(t, c) + (1.0 - t) * pow(t, r))
    et_out[0] = (1.0 / N + (1.0 - se_master - sp_master) * clean_prob(N, lq) * clean_lines
                 + se_master * et)
    pse_out[0] = se_master * pse
    c_r1 = clean_prob(c - 1, lq)    # the sample's row's other samples all clean
    c_c1 = clean_prob(r - 1, lq)
    d_r1 = dirty_prob(c - 1, lq)
    d_c1 = dirty_prob(r - 1, lq)
    sp_m_mu = sp_rc if compat else sp_master
    # mu: P(master +, row +, column + | sample negative): row and column clean but for the
    # sample leave the master to the rest of the array
    mu = ((1.0 - t) * (1.0 - t) * c_r1 * c_c1 * _f(N - r - c + 1, lq, se_master, sp_m_mu)
          + se_master * (s_row * d_r1 * s_col * d_c1 + s_row * d_r1 * (1.0 - t) * c_c1
                         + (1.0 - t) * c_r1 * s_col * d_c1))
    fpr_out[0] = (1.0 - sp_ind) * (
        mu
        + _master_cross(c, r, lq, s_row, t, s_col, se_master, sp_master)
        + _master_cross(r, c, lq, s_col, t, s_row, se_master, sp_master))


def array_grid(const double[::1] prevalence, int rows, int columns, double se_row,
               double se_col, double sp_rc, double se_ind, double sp_ind, bint master,
               double se_master, double sp_master, bint bingroup2_compat,
               double[::1] et_out, double[::1] pse_out, double[::1] fpr_out):
    """A2 / A2M per sample over a prevalence grid: expected tests, PSe, 1 - PSp.

    se_row: a row pool's (of `columns` samples) sensitivity, se_col a column pool's.
    bingroup2_compat reproduces binGroup2 1.3.3, which uses the row/column specificity instead
    of the master pool's in one term of A2M's PSp (identical when the two are equal).
    """
    cdef Py_ssize_t g
    if not (1 <= rows <= MAX_SIDE and 1 <= columns <= MAX_SIDE):
        raise ValueError(f"array sides must be 1..{MAX_SIDE}")
    with nogil:
        for g in range(prevalence.shape[0]):
            _array_point(prevalence[g], rows, columns, se_row, se_col, sp_rc, se_ind, sp_ind,
                         master, se_master, sp_master, bingroup2_compat, &et_out[g],
                         &pse_out[g], &fpr_out[g])


def array_sizes(double p, const long[::1] rows, const long[::1] columns,
                const double[::1] se_row, const double[::1] se_col, double sp_rc,
                double se_ind, double sp_ind, bint master, const double[::1] se_master,
                double sp_master, bint bingroup2_compat,
                double[::1] et_out, double[::1] pse_out, double[::1] fpr_out):
    """A2 / A2M at one prevalence for several r x c shapes (the search over shapes).

    se_row[i], se_col[i] and se_master[i] are the (dilution-adjusted) sensitivities of shape i.
    """
    cdef Py_ssize_t i
    for i in range(rows.shape[0]):
        if not (1 <= rows[i] <= MAX_SIDE and 1 <= columns[i] <= MAX_SIDE):
            raise ValueError(f"array sides must be 1..{MAX_SIDE}")
    with nogil:
        for i in range(rows.shape[0]):
            _array_point(p, rows[i], columns[i], se_row[i], se_col[i], sp_rc, se_ind, sp_ind,
                         master, se_master[i], sp_master, bingroup2_compat, &et_out[i],
                         &pse_out[i], &fpr_out[i])
