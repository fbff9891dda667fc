# Shared inline helpers for the pooling kernels (no Python objects, no I/O).
#
# Model (binGroup2's): a test on a pool is positive with probability Se if the pool holds at
# least one positive sample and 1 - Sp otherwise; tests are independent given the true statuses.
from libc.math cimport exp, expm1, INFINITY

cdef enum:
    MAX_DEPTH = 16  # deepest nesting of pools a design may have


cdef inline double clean_prob(double n, double logq) noexcept nogil:
    """P(n samples all negative) given logq = log(1 - p) (may be -inf)."""
    if n == 0:
        return 1.0
    return exp(n * logq)


cdef inline double dirty_prob(double n, double logq) noexcept nogil:
    """P(at least one of n samples positive), accurate for tiny p."""
    if n == 0:
        return 0.0
    return -expm1(n * logq)


cdef inline double chain_all_positive(const double* L, const double* se, const double* sp,
                                      int d) noexcept nogil:
    """P(every pool of a nested chain tests positive).

    L[j] is log P(pool j holds no positive), outermost pool first, so L is non-decreasing
    (an inner pool is a subset of the outer one). Conditioning on m, the number of outermost
    pools that hold a positive, makes the d test outcomes independent:
    P = sum_m P(m) * prod_{j<m} Se_j * prod_{j>=m} (1 - Sp_j).
    """
    cdef double total = 0.0, mass, w
    cdef int m, j
    if d == 0:
        return 1.0
    for m in range(d + 1):
        if m == 0:
            mass = exp(L[0])
        elif m == d:
            mass = -expm1(L[d - 1])
        elif L[m] == -INFINITY:
            mass = 0.0
        else:
            # P(pool m clean) - P(pool m-1 clean), written to keep precision for small p
            mass = exp(L[m]) * (-expm1(L[m - 1] - L[m]))
        if mass == 0.0:
            continue
        w = mass
        for j in range(m):
            w *= se[j]
        for j in range(m, d):
            w *= 1.0 - sp[j]
        total += w
    return total
