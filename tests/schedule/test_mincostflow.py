"""labopt's network simplex against OR-Tools' min-cost flow, and its optimality certificate.

Every simplex flow is checked by code of this file: conservation at every node, capacities,
and the reduced-cost optimality conditions given by the returned potentials (which prove the
optimum without reference to another solver). The costs are then compared with OR-Tools'.
"""

import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labopt import _netsimplex
from labopt.scenario import load_scenario
from labopt.schedule import PlanInputError, build_input, make_plan
from labopt.schedule.flow import flow_network, unit_costs
from labopt.schedule.mincostflow import min_cost_flow
from labopt.schedule.model import weights
from tests.schedule.test_schedule import FIXTURES, NAMES, small


def i32(*values):
    return np.array(values, dtype=np.int32)


def i64(*values):
    return np.array(values, dtype=np.int64)


def random_network(rng, n, m, *, infinite=0.2, negative=False, costs=100):
    """A random network with a feasible flow: supplies from a random flow within capacity;
    costs in [0, costs) (few distinct costs: many ties, degenerate pivots)."""
    tail = rng.integers(0, n, m)
    head = rng.integers(0, n, m)
    keep = tail != head
    tail, head = tail[keep], head[keep]
    cap = rng.integers(0, 50, tail.size)
    cap[rng.random(tail.size) < infinite] = 1 << 40
    low = -30 if negative else 0
    cost = rng.integers(low, costs, tail.size)
    base = np.minimum(rng.integers(0, 60, tail.size), cap)
    supply = np.zeros(n, dtype=np.int64)
    np.add.at(supply, tail, base)
    np.subtract.at(supply, head, base)
    if negative:  # no negative cycle of unbounded arcs
        cap = np.where(cost < 0, np.minimum(cap, 60), cap)
    return tail, head, cap, cost, supply


def assert_optimal_flow(tail, head, cap, cost, supply, flow, potential):
    assert ((flow >= 0) & (flow <= cap)).all()
    net = np.zeros(supply.size, dtype=np.int64)
    np.add.at(net, tail, flow)
    np.subtract.at(net, head, flow)
    assert (net == supply).all()
    reduced = cost + potential[tail] - potential[head]
    assert (reduced[flow < cap] >= 0).all(), "an arc with room has a negative reduced cost"
    assert (reduced[flow > 0] <= 0).all(), "an arc with flow has a positive reduced cost"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    density=st.integers(0, 8),
    negative=st.booleans(),
    costs=st.sampled_from([1, 2, 100]),
)
def test_simplex_flow_is_feasible_optimal_and_costs_what_ortools_finds(
    seed, n, density, negative, costs
):
    rng = np.random.default_rng(seed)
    tail, head, cap, cost, supply = random_network(
        rng, n, density * n, negative=negative, costs=costs
    )
    status, flow, potential, _ = _netsimplex.min_cost_flow(
        tail.astype(np.int32), head.astype(np.int32), cap, cost, supply
    )
    assert status == _netsimplex.OPTIMAL
    assert_optimal_flow(tail, head, cap, cost, supply, flow, potential)
    ours = min_cost_flow(tail, head, cap, cost, supply, solver="simplex")
    ref = min_cost_flow(tail, head, cap, cost, supply, solver="ortools")
    assert ours.optimal and ref.optimal
    assert ours.cost == ref.cost == int((flow * cost).sum())


@pytest.mark.parametrize("seed", range(40))
def test_costs_near_the_limit_give_an_optimum_without_overflow(seed):
    """Costs near the largest the kernel accepts: potentials reach about 2**61 and the
    shifts of the larger side of a pivot move the root's by as much, so its reset is
    exercised; the optimality conditions are checked in Python integers."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    tail, head, cap, cost, supply = random_network(rng, n, 6 * n, negative=bool(seed % 2))
    limit = ((1 << 62) // 4) // (n + 1)
    cost = cost * (limit // 100)  # the costs' order kept, magnified to near the limit
    status, flow, potential, _ = _netsimplex.min_cost_flow(
        tail.astype(np.int32), head.astype(np.int32), cap, cost, supply
    )
    assert status == _netsimplex.OPTIMAL
    pi = [int(v) for v in potential]
    for t, h, f, c, k in zip(
        tail.tolist(), head.tolist(), flow.tolist(), cost.tolist(), cap.tolist(), strict=True
    ):
        reduced = c + pi[t] - pi[h]
        assert 0 <= f <= k
        assert f == k or reduced >= 0, "an arc with room has a negative reduced cost"
        assert f == 0 or reduced <= 0, "an arc with flow has a positive reduced cost"
    net = np.zeros(n, dtype=np.int64)
    np.add.at(net, tail, flow)
    np.subtract.at(net, head, flow)
    assert (net == supply).all()


def test_larger_random_networks_agree_with_ortools():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        args = random_network(rng, 3_000, 40_000)
        ours = min_cost_flow(*args, solver="simplex")
        ref = min_cost_flow(*args, solver="ortools")
        assert ours.optimal and ours.cost == ref.cost


def test_infeasible_and_unbounded_problems_are_recognised():
    # 5 units must cross an arc of capacity 3
    status, *_ = _netsimplex.min_cost_flow(i32(0), i32(1), i64(3), i64(1), i64(5, -5))
    assert status == _netsimplex.INFEASIBLE
    assert min_cost_flow(i32(0), i32(1), i64(3), i64(1), i64(5, -5)).status == "INFEASIBLE"
    # a cycle of negative cost without a capacity
    inf = _netsimplex.INF_CAP
    status, *_ = _netsimplex.min_cost_flow(
        i32(0, 1), i32(1, 0), i64(inf, inf), i64(-1, 0), i64(0, 0)
    )
    assert status == _netsimplex.UNBOUNDED
    # the empty network and isolated nodes without supply
    status, flow, _, pivots = _netsimplex.min_cost_flow(i32(), i32(), i64(), i64(), i64(0, 0))
    assert status == _netsimplex.OPTIMAL and flow.size == 0 and pivots == 0
    status, flow, potential, _ = _netsimplex.min_cost_flow(i32(), i32(), i64(), i64(), i64())
    assert status == _netsimplex.OPTIMAL and flow.size == 0 and potential.size == 0


def test_bad_networks_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="supplies must sum to zero, got 1"):
        _netsimplex.min_cost_flow(i32(0), i32(1), i64(3), i64(1), i64(2, -1))
    with pytest.raises(ValueError, match=r"arc 0: node out of range 0\.\.1"):
        _netsimplex.min_cost_flow(i32(0), i32(2), i64(3), i64(1), i64(0, 0))
    with pytest.raises(ValueError, match="arc 0: negative capacity"):
        _netsimplex.min_cost_flow(i32(0), i32(1), i64(-3), i64(1), i64(0, 0))
    with pytest.raises(ValueError, match="would overflow 64-bit potentials"):
        _netsimplex.min_cost_flow(i32(0), i32(1), i64(3), i64(1 << 60), i64(0, 0))
    with pytest.raises(ValueError, match="arc 0: cost -9223372036854775808 would overflow"):
        _netsimplex.min_cost_flow(i32(0), i32(1), i64(3), i64(-(1 << 63)), i64(0, 0))
    with pytest.raises(ValueError, match=r"node 0: supply 4611686018427387904 beyond \+-2\*\*62"):
        _netsimplex.min_cost_flow(i32(0), i32(1), i64(3), i64(1), i64(1 << 62, -(1 << 62)))
    with pytest.raises(ValueError, match="finite capacities must add up to less than 2"):
        _netsimplex.min_cost_flow(i32(0, 0), i32(1, 1), i64(1 << 61, 1 << 61), i64(1, 1), i64(0, 0))
    with pytest.raises(ValueError, match="cost: integers expected, got float64"):
        min_cost_flow([0], [1], [3], [1.5], [0, 0])
    with pytest.raises(ValueError, match=r"head: node numbers must be in 0\.\.1"):
        min_cost_flow([0], [2**32 + 1], [3], [1], [0, 0])
    with pytest.raises(ValueError, match="same length"):
        _netsimplex.min_cost_flow(i32(0, 1), i32(1), i64(3), i64(1), i64(0, 0))
    with pytest.raises(ValueError, match="one entry per arc"):
        min_cost_flow([0, 1], [1], [3], [1], [0, 0])
    with pytest.raises(ValueError, match="flow solver: one of simplex, ortools; got 'cplex'"):
        min_cost_flow([0], [1], [3], [1], [0, 0], solver="cplex")


def test_time_limit_stops_the_simplex():
    rng = np.random.default_rng(7)
    args = random_network(rng, 20_000, 300_000)
    res = min_cost_flow(*args, max_seconds=1e-6)
    assert res.status == "TIME_LIMIT" and not res.optimal and not res.flow.any()
    assert res.pivots == 256  # the clock is read every 256 pivots


def test_time_limit_stops_ortools_in_its_child_process():
    """OR-Tools has no time limit of its own: its child process is stopped at the limit, and
    within the limit it returns what it returns in-process."""
    rng = np.random.default_rng(7)
    args = random_network(rng, 20_000, 300_000)
    t0 = time.perf_counter()
    res = min_cost_flow(*args, solver="ortools", max_seconds=0.05)
    assert time.perf_counter() - t0 < 5  # the pool's shutdown included
    assert res.status == "TIME_LIMIT" and not res.optimal and not res.flow.any()
    small_args = random_network(np.random.default_rng(3), 60, 400)
    limited = min_cost_flow(*small_args, solver="ortools", max_seconds=120)
    direct = min_cost_flow(*small_args, solver="ortools")
    assert limited.optimal and limited.cost == direct.cost
    assert np.array_equal(limited.flow, direct.flow)


@pytest.mark.parametrize("solver, limit", [("simplex", 1e-6), ("ortools", 1e-3)])
def test_planner_time_limit_on_the_flow_returns_the_greedy_plan_with_a_note(solver, limit):
    scn = small(5, 200, 80, 5, uniform_pools=True).with_settings(
        plan={"time_limit_seconds": limit, "flow_solver": solver}
    )
    plan = make_plan(scn, method="network")
    assert plan.method == "greedy" and plan.status == "TIME_LIMIT"
    assert any("min-cost flow stopped without a plan (TIME_LIMIT" in n for n in plan.notes)


def test_weights_too_large_for_integer_costs_are_refused_with_what_to_change():
    scn = small(5, 10, 4, 3, uniform_pools=True).with_settings(plan={"untested": 1e20})
    with pytest.raises(PlanInputError, match=r"lower plan\.untested or plan\.priority_base"):
        make_plan(scn, method="network")


@pytest.mark.parametrize("name", [*NAMES, "synthetic"])
def test_both_flow_solvers_find_the_same_optimum_of_every_fixture(name):
    if name == "synthetic":
        scn = small(5, 60, 25, 4, uniform_pools=True)
    else:
        scn = load_scenario(FIXTURES / name)
        # every lab validated for the same pool size, no retest reserve and no shipments: a
        # network
        scn.labs[:] = [lab.model_copy(update={"max_pool_size": 10}) for lab in scn.labs]
        scn = replace(
            scn.with_settings(plan={"retest_reserve_sd": 0.0}),
            supply_routes=scn.supply_routes.iloc[:0],
        )
    inp = build_input(scn)
    cfg = scn.settings.plan
    w = weights(inp, cfg)
    per = unit_costs(inp, cfg.retest_reserve_sd)
    for solver in ("simplex", "ortools"):  # each solver's own cost scale
        net = flow_network(inp, w, per, solver)
        arcs = (net.tail, net.head, net.capacity, net.cost, net.supply)
        ours, ref = (min_cost_flow(*arcs, solver=s) for s in ("simplex", "ortools"))
        assert ours.optimal and ref.optimal and ours.cost == ref.cost
    plans = {
        s: make_plan(scn.with_settings(plan={"flow_solver": s}), method="network")
        for s in ("simplex", "ortools")
    }
    a, b = plans["simplex"], plans["ortools"]
    assert a.method == b.method == "network" and a.status == b.status == "OPTIMAL"
    # the simplex's finer costs find an optimum at least as good in exact terms; OR-Tools'
    # coarser ones (see labopt.schedule.flow) may be a little worse in the transport tier
    assert a.lp_objective <= b.lp_objective * (1 + 1e-6)
    assert a.lp_objective == pytest.approx(b.lp_objective, rel=1e-2)


@pytest.mark.parametrize("seed", [5, 6])
def test_network_capacity_duals_match_the_lp_and_bound_one_more_reaction(seed):
    scn = small(seed, 60, 25, 4, uniform_pools=True)
    net_plan, lp_plan = make_plan(scn, method="network"), make_plan(scn, method="lp")
    dual = net_plan.capacity_dual
    assert dual is not None and (dual <= 0).all() and (dual < 0).any()
    # the LP's duals of the same allocation (GLOP), unique here: equal to the flow's rounding
    assert dual == pytest.approx(lp_plan.capacity_dual, abs=1e-4)
    # one more reaction at the most valuable lab-day: the optimum falls by at most -dual
    inp = build_input(scn)
    cfg = scn.settings.plan
    net = flow_network(inp, weights(inp, cfg), unit_costs(inp, cfg.retest_reserve_sd))
    l, t = np.unravel_index(np.argmin(dual), dual.shape)
    arc = net.starts["capacity"] + l * inp.days + t
    more = net.capacity.copy()
    more[arc] += 100  # flow is in 1/100 reaction
    base = min_cost_flow(net.tail, net.head, net.capacity, net.cost, net.supply).cost
    after = min_cost_flow(net.tail, net.head, more, net.cost, net.supply).cost
    change = (after - base) / net.cost_scale
    assert dual[l, t] - 1e-9 <= change < 0
    assert (
        make_plan(
            scn.with_settings(plan={"flow_solver": "ortools"}), method="network"
        ).capacity_dual
        is None
    )


def test_a_failing_ortools_child_raises_in_the_parent():
    """The time-limited OR-Tools flow runs in a child process; an exception there (here: no
    supplies, which min_cost_flow itself would refuse) is raised in the parent, at once,
    instead of a flow or a wait for the limit."""
    from labopt.schedule.mincostflow import _ortools_limited

    arcs = (
        np.array([0], dtype=np.int32),
        np.array([1], dtype=np.int32),
        np.array([5], dtype=np.int64),
        np.array([1], dtype=np.int64),
    )
    t0 = time.perf_counter()
    with pytest.raises(AttributeError, match="size"):
        _ortools_limited(*arcs, None, 60.0)
    assert time.perf_counter() - t0 < 30
