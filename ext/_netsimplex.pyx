"""Primal network simplex for min-cost flow (private kernel).

The textbook method (Ahuja, Magnanti & Orlin, Network Flows, ch. 11; Kelly & O'Neill 1991):
a spanning tree of basic arcs rooted at an artificial node with one big-M arc per node, a
block-search pivot rule (scan a block of arcs at a time, enter the most negative reduced cost
of the first block that has one) and a strongly feasible tree (the leaving arc is the last
blocking arc met when walking the cycle from its apex), which rules out cycling.

The tree is kept as parent pointers, doubly linked child lists and subtree sizes; the apex of
a pivot's cycle is found by climbing from the smaller subtree (an ancestor's is larger). A
pivot re-hangs the subtree cut off by the leaving arc under the entering arc (reversing the
path between the two) and shifts that subtree's potentials, or, when it holds more than half
the nodes, the other nodes' by the opposite amount (potentials matter up to a constant; they
are returned with the root at 0).

Costs, capacities, supplies and flows are int64; a capacity >= INF_CAP is unbounded.
Reduced cost of arc e: cost[e] + pi[tail] - pi[head] (zero on tree arcs).
"""
from libc.math cimport sqrt
from libc.stdlib cimport malloc, free

import numpy as np

from libc.stdint cimport int64_t as int64


cdef enum:
    STATE_UPPER = -1
    STATE_TREE = 0
    STATE_LOWER = 1
    DIR_UP = 1        # tree arc points from the node to its parent
    DIR_DOWN = -1     # tree arc points from the parent to the node

INF_CAP = 1 << 62
cdef int64 C_INF = 1 << 62
cdef int64 PI_DRIFT = 1 << 59  # the root's potential is reset to 0 beyond this
cdef int NO_NODE = -2  # a skip matching no node, nor -1, the end of a child list

cdef enum Status:
    S_OPTIMAL = 0
    S_INFEASIBLE = 1
    S_UNBOUNDED = 2
    S_TIME_LIMIT = 3

OPTIMAL, INFEASIBLE, UNBOUNDED, TIME_LIMIT = S_OPTIMAL, S_INFEASIBLE, S_UNBOUNDED, S_TIME_LIMIT


# A monotonic clock in seconds: POSIX clock_gettime, which MSVC lacks, or Windows' counter.
cdef extern from *:
    """
    #ifdef _WIN32
    #include <windows.h>
    static double labopt_monotonic(void) {
        LARGE_INTEGER f, c;
        QueryPerformanceFrequency(&f);
        QueryPerformanceCounter(&c);
        return (double)c.QuadPart / (double)f.QuadPart;
    }
    #else
    #include <time.h>
    static double labopt_monotonic(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + 1e-9 * ts.tv_nsec;
    }
    #endif
    """
    double labopt_monotonic() noexcept nogil


cdef inline double _now() noexcept nogil:
    return labopt_monotonic()


cdef struct Net:
    # arcs 0..m-1 are the real ones, m + u the artificial arc of node u; node n is the root
    int* tail
    int* head
    int64* cap
    int64* cost
    int64* flow
    signed char* state
    int64* pi
    int* parent
    int* pred          # arc to the parent
    signed char* pred_dir
    int* size          # nodes in the subtree of each node (itself included)
    int* first_child
    int* next_sib
    int* prev_sib


cdef inline void _unlink(Net* g, int u) noexcept nogil:
    """Remove u from its parent's child list."""
    cdef int p = g.parent[u]
    if g.prev_sib[u] != -1:
        g.next_sib[g.prev_sib[u]] = g.next_sib[u]
    else:
        g.first_child[p] = g.next_sib[u]
    if g.next_sib[u] != -1:
        g.prev_sib[g.next_sib[u]] = g.prev_sib[u]


cdef inline void _link(Net* g, int u, int p) noexcept nogil:
    """Make u the first child of p."""
    g.parent[u] = p
    g.prev_sib[u] = -1
    g.next_sib[u] = g.first_child[p]
    if g.first_child[p] != -1:
        g.prev_sib[g.first_child[p]] = u
    g.first_child[p] = u


cdef inline int _apex(Net* g, int u, int v) noexcept nogil:
    """The common ancestor of u and v where the pivot's cycle turns: climb from the smaller
    subtree, which cannot be the other's ancestor."""
    while u != v:
        if g.size[u] < g.size[v]:
            u = g.parent[u]
        else:
            v = g.parent[v]
    return u


cdef inline void _resize(Net* g, int u, int stop, int by) noexcept nogil:
    """Add ``by`` to the subtree sizes of u and its ancestors below ``stop``."""
    while u != stop:
        g.size[u] += by
        u = g.parent[u]


cdef inline void _shift(Net* g, int root, int skip, int64 sigma) noexcept nogil:
    """Add sigma to the potentials of the subtree of ``root`` outside the subtree of ``skip``
    (NO_NODE: none), by a preorder walk that steps over it."""
    cdef int u = root, c
    while True:
        g.pi[u] += sigma
        c = g.first_child[u]
        if c == skip:
            c = g.next_sib[c]
        if c != -1:
            u = c
            continue
        while True:
            if u == root:
                return
            c = g.next_sib[u]
            if c == skip:
                c = g.next_sib[c]
            if c != -1:
                u = c
                break
            u = g.parent[u]


cdef inline int64 _room(Net* g, int u, bint downwards) noexcept nogil:
    """How much more flow the tree arc above u can take when the cycle passes it going down
    (parent to u) or up (u to parent)."""
    cdef int e = g.pred[u]
    cdef bint along = (g.pred_dir[u] == DIR_DOWN) == downwards
    if not along:
        return g.flow[e]
    if g.cap[e] >= C_INF:
        return C_INF
    return g.cap[e] - g.flow[e]


cdef int _pivot(Net* g, int e_in, int root) noexcept nogil:
    """Bring arc e_in into the tree; return 0, or 1 if the cycle is unbounded."""
    cdef int first, second, apex, u, u_out = -1, side = 0
    cdef int u_in, v_in, prev, nxt, moved, below, old
    cdef int e_prev, e_cur
    cdef signed char d_prev, d_cur
    cdef int64 delta, r, val, sigma
    # the cycle runs apex -> ... -> first -> e_in -> second -> ... -> apex
    if g.state[e_in] == STATE_LOWER:
        first, second = g.tail[e_in], g.head[e_in]
    else:
        first, second = g.head[e_in], g.tail[e_in]
    apex = _apex(g, first, second)
    delta = g.cap[e_in] if g.cap[e_in] < C_INF else C_INF
    # the last blocking arc met from the apex: nearest to `first` on the first side (strict),
    # nearest to the apex on the second side (ties win)
    u = first
    while u != apex:
        r = _room(g, u, True)
        if r < delta:
            delta, u_out, side = r, u, 1
        u = g.parent[u]
    u = second
    while u != apex:
        r = _room(g, u, False)
        if r <= delta:
            delta, u_out, side = r, u, 2
        u = g.parent[u]
    if delta >= C_INF:
        return 1

    # push delta around the cycle
    if delta > 0:
        val = g.state[e_in] * delta
        g.flow[e_in] += val
        u = g.tail[e_in]
        while u != apex:
            g.flow[g.pred[u]] -= g.pred_dir[u] * val
            u = g.parent[u]
        u = g.head[e_in]
        while u != apex:
            g.flow[g.pred[u]] += g.pred_dir[u] * val
            u = g.parent[u]
    if side == 0:                        # e_in itself blocks: it just changes bound
        g.state[e_in] = -g.state[e_in]
        return 0

    g.state[e_in] = STATE_TREE
    g.state[g.pred[u_out]] = STATE_LOWER if g.flow[g.pred[u_out]] == 0 else STATE_UPPER
    if side == 1:
        u_in, v_in = first, second
    else:
        u_in, v_in = second, first

    # re-hang the subtree of u_out from v_in through e_in, reversing the path u_in .. u_out;
    # on the path, a node's new subtree is the moved one less its old child's on the path
    moved = g.size[u_out]
    _resize(g, g.parent[u_out], apex, -moved)
    _resize(g, v_in, apex, moved)
    below = 0
    _unlink(g, u_out)
    prev = v_in
    e_prev = e_in
    d_prev = DIR_UP if g.tail[e_in] == u_in else DIR_DOWN
    u = u_in
    while True:
        nxt = g.parent[u]
        e_cur = g.pred[u]
        d_cur = g.pred_dir[u]
        if u != u_out:
            _unlink(g, u)
        _link(g, u, prev)
        old = g.size[u]
        g.size[u] = moved - below
        below = old
        g.pred[u] = e_prev
        g.pred_dir[u] = d_prev
        if u == u_out:
            break
        # the arc that joined u to nxt now joins nxt to u, seen from nxt
        e_prev, d_prev = e_cur, -d_cur
        prev = u
        u = nxt

    # make e_in's reduced cost zero: shift the re-hung subtree's potentials, or the rest's
    if g.pred_dir[u_in] == DIR_UP:
        sigma = g.pi[v_in] - g.cost[e_in] - g.pi[u_in]
    else:
        sigma = g.pi[v_in] + g.cost[e_in] - g.pi[u_in]
    if 2 * moved <= g.size[root]:
        _shift(g, u_in, NO_NODE, sigma)
    else:
        _shift(g, root, u_in, -sigma)
        if g.pi[root] > PI_DRIFT or g.pi[root] < -PI_DRIFT:
            _shift(g, root, NO_NODE, -g.pi[root])   # keep the root near 0 (no int64 overflow)
    return 0


def min_cost_flow(const int[::1] tail, const int[::1] head, const int64[::1] capacity,
                  const int64[::1] cost, const int64[::1] supply, int block=0,
                  double max_seconds=0.0):
    """Minimum-cost flow with node supplies (summing to zero).

    ``block``: arcs priced per block (default 2 sqrt(m): on the synthesized weeks smaller blocks
    solve the flow faster, but its optimum then starts the plan's first master further from
    its own). The pivot count depends on the arcs' order: see labopt.schedule.mincostflow.

    ``max_seconds`` > 0 stops the pivots after that long (status TIME_LIMIT: the flow is then
    a feasible basis of the problem with artificial arcs, not a solution).

    Returns (status, flow, potential, pivots): status OPTIMAL, INFEASIBLE, UNBOUNDED or
    TIME_LIMIT; flow per arc; potential per node, such that at the optimum
    cost + potential[tail] - potential[head] >= 0 on arcs below capacity and <= 0 on arcs
    with flow.
    """
    cdef int n = supply.shape[0], m = tail.shape[0], N = n + 1, M = m + n
    cdef int i, _scanned, e, u, cnt, nxt_arc, e_in, status = S_OPTIMAL
    cdef int64 total = 0, max_cost = 0, art, c, best, shift
    cdef long long pivots = 0
    cdef double deadline = _now() + max_seconds
    cdef Net g
    cdef int64 cost_limit = (C_INF // 4) // N, volume = 0
    if head.shape[0] != m or capacity.shape[0] != m or cost.shape[0] != m:
        raise ValueError("tail, head, capacity and cost must have the same length")
    # every flow stays below the supplies plus the finite capacities: keep that below INF_CAP
    # (and no int64 sum can wrap), so a tree arc at INF_CAP really is unbounded
    for i in range(n):
        if supply[i] >= C_INF or supply[i] <= -C_INF:
            raise ValueError(f"node {i}: supply {supply[i]} beyond +-2**62")
        total += supply[i]
        volume += supply[i] if supply[i] > 0 else -supply[i]
        if volume >= C_INF:
            raise ValueError("supplies and finite capacities must add up to less than 2**62")
    if total != 0:
        raise ValueError(f"supplies must sum to zero, got {total}")
    for e in range(m):
        if tail[e] < 0 or tail[e] >= n or head[e] < 0 or head[e] >= n:
            raise ValueError(f"arc {e}: node out of range 0..{n - 1}")
        if capacity[e] < 0:
            raise ValueError(f"arc {e}: negative capacity")
        if capacity[e] < C_INF:
            volume += capacity[e]
            if volume >= C_INF:
                raise ValueError("supplies and finite capacities must add up to less than "
                                 "2**62")
        if cost[e] > cost_limit or cost[e] < -cost_limit:
            raise ValueError(f"arc {e}: cost {cost[e]} would overflow 64-bit potentials with "
                             f"{n} nodes; costs must stay within +-{cost_limit}")
        if cost[e] > max_cost:
            max_cost = cost[e]
        elif -cost[e] > max_cost:
            max_cost = -cost[e]
    art = (max_cost + 1) * N        # dearer than any path of real arcs

    flow_out = np.zeros(M + 1, dtype=np.int64)     # + 1: never empty
    pi_out = np.zeros(N, dtype=np.int64)
    cdef int64[::1] flow_v = flow_out
    cdef int64[::1] pi_v = pi_out
    g.flow = &flow_v[0]
    g.pi = &pi_v[0]
    g.tail = <int*>malloc((M + 1) * sizeof(int))
    g.head = <int*>malloc((M + 1) * sizeof(int))
    g.cap = <int64*>malloc((M + 1) * sizeof(int64))
    g.cost = <int64*>malloc((M + 1) * sizeof(int64))
    g.state = <signed char*>malloc((M + 1) * sizeof(signed char))
    g.parent = <int*>malloc(N * sizeof(int))
    g.pred = <int*>malloc(N * sizeof(int))
    g.pred_dir = <signed char*>malloc(N * sizeof(signed char))
    g.size = <int*>malloc(N * sizeof(int))
    g.first_child = <int*>malloc(N * sizeof(int))
    g.next_sib = <int*>malloc(N * sizeof(int))
    g.prev_sib = <int*>malloc(N * sizeof(int))
    try:
        if (g.tail == NULL or g.head == NULL or g.cap == NULL or g.cost == NULL
                or g.state == NULL or g.parent == NULL or g.pred == NULL or g.pred_dir == NULL
                or g.size == NULL or g.first_child == NULL or g.next_sib == NULL
                or g.prev_sib == NULL):
            raise MemoryError()
        with nogil:
            for e in range(m):
                g.tail[e], g.head[e] = tail[e], head[e]
                g.cap[e] = capacity[e] if capacity[e] < C_INF else C_INF
                g.cost[e] = cost[e]
                g.state[e] = STATE_LOWER
            # the starting tree: every node hangs from the root by an artificial arc
            g.parent[n], g.pred[n], g.size[n] = -1, -1, N
            g.first_child[n] = -1
            for u in range(n - 1, -1, -1):
                e = m + u
                g.first_child[u] = -1
                g.size[u] = 1
                g.pred[u] = e
                g.cap[e] = C_INF
                g.state[e] = STATE_TREE
                if supply[u] >= 0:
                    g.tail[e], g.head[e] = u, n
                    g.cost[e] = 0
                    g.flow[e] = supply[u]
                    g.pred_dir[u] = DIR_UP
                    g.pi[u] = 0
                else:
                    g.tail[e], g.head[e] = n, u
                    g.cost[e] = art
                    g.flow[e] = -supply[u]
                    g.pred_dir[u] = DIR_DOWN
                    g.pi[u] = art
                _link(&g, u, n)

            # block search over the real arcs (an artificial arc that left never returns)
            if block <= 0:
                block = max(<int>(2.0 * sqrt(<double>m)), 10)
            nxt_arc = 0
            while m > 0:
                best = 0
                e_in = -1
                cnt = block
                e = nxt_arc
                for _scanned in range(m):
                    c = g.state[e] * (g.cost[e] + g.pi[g.tail[e]] - g.pi[g.head[e]])
                    if c < best:
                        best, e_in = c, e
                    e += 1
                    if e == m:
                        e = 0
                    cnt -= 1
                    if cnt == 0:
                        if e_in != -1:
                            break
                        cnt = block
                if e_in == -1:
                    break
                nxt_arc = e
                if _pivot(&g, e_in, n):
                    status = S_UNBOUNDED
                    break
                pivots += 1
                if max_seconds > 0 and pivots % 256 == 0 and _now() > deadline:
                    status = S_TIME_LIMIT
                    break
            shift = g.pi[n]
            for u in range(N):
                g.pi[u] -= shift
            if status == S_OPTIMAL:
                for u in range(n):
                    if g.flow[m + u] != 0:
                        status = S_INFEASIBLE
                        break
    finally:
        free(g.tail)
        free(g.head)
        free(g.cap)
        free(g.cost)
        free(g.state)
        free(g.parent)
        free(g.pred)
        free(g.pred_dir)
        free(g.size)
        free(g.first_child)
        free(g.next_sib)
        free(g.prev_sib)
    return status, flow_out[:m], pi_out[:n], pivots
