"""Monte Carlo simulation of pooling designs with an imperfect assay (private kernel).

Each block of samples gets random true statuses; pools are tested stage by stage exactly as
the lab would (a pool runs only if its parent tested positive; a test is positive with
probability Se if the pool holds a positive, 1 - Sp otherwise) and every sample is classified.
Per-block counts are accumulated as sums and cross products so the caller can compute the
estimates and their standard errors (blocks are independent; samples inside one are not).

Accumulator layout (SUMS_* below): blocks; tests, tests^2; positives n1, true positives tp,
tp^2, tp*n1, n1^2; negatives n0, true negatives tn, tn^2, tn*n0, n0^2; called positive cp,
tp*cp, cp^2; called negative cn, tn*cn, cn^2.
"""
from libc.stdint cimport uint64_t
from libc.stdlib cimport malloc, free

from _rng cimport Xoshiro256, rng_seed, rng_uniform

N_SUMS = 19


cdef inline void _accumulate(double* s, double t, double n1, double tp, double n0, double tn,
                             double cp, double cn) noexcept nogil:
    s[0] += 1.0
    s[1] += t
    s[2] += t * t
    s[3] += n1
    s[4] += tp
    s[5] += tp * tp
    s[6] += tp * n1
    s[7] += n1 * n1
    s[8] += n0
    s[9] += tn
    s[10] += tn * tn
    s[11] += tn * n0
    s[12] += n0 * n0
    s[13] += cp
    s[14] += tp * cp
    s[15] += cp * cp
    s[16] += cn
    s[17] += tn * cn
    s[18] += cn * cn


def simulate_tree(const double[::1] p, const Py_ssize_t[::1] start, const Py_ssize_t[::1] stop,
                  const Py_ssize_t[::1] parent, const double[::1] se, const double[::1] sp,
                  const Py_ssize_t[::1] leaf, long long n_blocks, uint64_t seed,
                  double[::1] sums):
    """Simulate n_blocks blocks of a hierarchical design (see _hierarchical for the layout)."""
    cdef Py_ssize_t n = p.shape[0], npool = start.shape[0], i, v, u
    cdef long long _block
    cdef Xoshiro256 rng
    cdef int* cnt = <int*> malloc((n + 1) * sizeof(int))
    cdef char* status = <char*> malloc(n * sizeof(char))
    cdef char* tested = <char*> malloc(npool * sizeof(char))
    cdef char* positive = <char*> malloc(npool * sizeof(char))
    cdef double tests, n1, tp, tn, cp, cn
    cdef bint called
    cdef double* s = &sums[0]
    try:
        if cnt == NULL or status == NULL or tested == NULL or positive == NULL:
            raise MemoryError()
        rng_seed(&rng, seed)
        with nogil:
            for _block in range(n_blocks):
                cnt[0] = 0
                for i in range(n):
                    status[i] = rng_uniform(&rng) < p[i]
                    cnt[i + 1] = cnt[i] + status[i]
                tests = 0.0
                for v in range(npool):
                    u = parent[v]
                    if u >= 0 and not (tested[u] and positive[u]):
                        tested[v] = 0
                        positive[v] = 0
                        continue
                    tested[v] = 1
                    tests += 1.0
                    if cnt[stop[v]] > cnt[start[v]]:
                        positive[v] = rng_uniform(&rng) < se[v]
                    else:
                        positive[v] = rng_uniform(&rng) >= sp[v]
                n1 = cnt[n]
                tp = 0.0
                tn = 0.0
                cp = 0.0
                for i in range(n):
                    v = leaf[i]
                    called = tested[v] and positive[v]
                    cp += called
                    if status[i]:
                        tp += called
                    else:
                        tn += not called
                cn = n - cp
                _accumulate(s, tests, n1, tp, n - n1, tn, cp, cn)
    finally:
        free(cnt)
        free(status)
        free(tested)
        free(positive)


def simulate_array(double p, int nr, int nc, double se_master, double sp_master,
                   double se_row, double se_col, double sp_rc, double se_ind, double sp_ind,
                   bint master, long long n_blocks, uint64_t seed, double[::1] sums):
    """Simulate n_blocks arrays of nr rows by nc columns (A2, or A2M when master is true);
    se_row: a row pool's sensitivity (nc samples), se_col a column pool's (nr samples)."""
    cdef int N2 = nr * nc, j, k, any_row, any_col
    cdef long long _block
    cdef Xoshiro256 rng
    cdef char* status = <char*> malloc(N2 * sizeof(char))
    cdef int* row_pos = <int*> malloc(nr * sizeof(int))
    cdef int* col_pos = <int*> malloc(nc * sizeof(int))
    cdef char* row_res = <char*> malloc(nr * sizeof(char))
    cdef char* col_res = <char*> malloc(nc * sizeof(char))
    cdef double tests, n1, tp, tn, cp
    cdef bint retest, called, go
    cdef double* s = &sums[0]
    try:
        if (status == NULL or row_pos == NULL or col_pos == NULL or row_res == NULL
                or col_res == NULL):
            raise MemoryError()
        rng_seed(&rng, seed)
        with nogil:
            for _block in range(n_blocks):
                n1 = 0.0
                for j in range(nr):
                    row_pos[j] = 0
                for k in range(nc):
                    col_pos[k] = 0
                for j in range(nr):
                    for k in range(nc):
                        status[j * nc + k] = rng_uniform(&rng) < p
                        if status[j * nc + k]:
                            row_pos[j] += 1
                            col_pos[k] += 1
                            n1 += 1.0
                tests = 0.0
                go = True
                any_row = 0
                any_col = 0
                if master:
                    tests += 1.0
                    if n1 > 0:
                        go = rng_uniform(&rng) < se_master
                    else:
                        go = rng_uniform(&rng) >= sp_master
                tp = 0.0
                tn = 0.0
                cp = 0.0
                if go:
                    for j in range(nr):
                        row_res[j] = (rng_uniform(&rng) < se_row) if row_pos[j] > 0 \
                            else (rng_uniform(&rng) >= sp_rc)
                        any_row += row_res[j]
                    for k in range(nc):
                        col_res[k] = (rng_uniform(&rng) < se_col) if col_pos[k] > 0 \
                            else (rng_uniform(&rng) >= sp_rc)
                        any_col += col_res[k]
                    tests += nr + nc
                for j in range(nr):
                    for k in range(nc):
                        called = False
                        if go:
                            if any_row and any_col:
                                retest = row_res[j] and col_res[k]
                            elif any_row:
                                retest = row_res[j]
                            else:
                                retest = any_col and col_res[k]
                            if retest:
                                tests += 1.0
                                if status[j * nc + k]:
                                    called = rng_uniform(&rng) < se_ind
                                else:
                                    called = rng_uniform(&rng) >= sp_ind
                        cp += called
                        if status[j * nc + k]:
                            tp += called
                        else:
                            tn += not called
                _accumulate(s, tests, n1, tp, N2 - n1, tn, cp, N2 - cp)
    finally:
        free(status)
        free(row_pos)
        free(col_pos)
        free(row_res)
        free(col_res)
