# xoshiro256** (Blackman & Vigna), seeded through splitmix64: small, fast and reproducible
# across platforms, so a seed gives the same simulation everywhere.
from libc.stdint cimport uint64_t


cdef struct Xoshiro256:
    uint64_t s0
    uint64_t s1
    uint64_t s2
    uint64_t s3


cdef inline uint64_t _splitmix64(uint64_t* state) noexcept nogil:
    state[0] += <uint64_t> 0x9E3779B97F4A7C15
    cdef uint64_t z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t> 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t> 0x94D049BB133111EB
    return z ^ (z >> 31)


cdef inline void rng_seed(Xoshiro256* g, uint64_t seed) noexcept nogil:
    cdef uint64_t st = seed
    g.s0 = _splitmix64(&st)
    g.s1 = _splitmix64(&st)
    g.s2 = _splitmix64(&st)
    g.s3 = _splitmix64(&st)


cdef inline uint64_t _rotl(uint64_t x, int k) noexcept nogil:
    return (x << k) | (x >> (64 - k))


cdef inline uint64_t rng_next(Xoshiro256* g) noexcept nogil:
    cdef uint64_t result = _rotl(g.s1 * 5, 7) * 9
    cdef uint64_t t = g.s1 << 17
    g.s2 ^= g.s0
    g.s3 ^= g.s1
    g.s1 ^= g.s2
    g.s0 ^= g.s3
    g.s2 ^= t
    g.s3 = _rotl(g.s3, 45)
    return result


cdef inline double rng_uniform(Xoshiro256* g) noexcept nogil:
    """Uniform on [0, 1) with 53 random bits."""
    return (rng_next(g) >> 11) * (1.0 / 9007199254740992.0)
