"""The allocation as a min-cost flow, when it is a network: the graph, and the LP's values
and duals read back from a flow.

When every sample of a unit and stream costs the same number of reactions wherever and
whenever it is tested (the pooled design does not change with the receiving lab or the day),
the LP of labopt.schedule.model is a pure network in reaction units:

    unit-stream-day --test--> lab-day --capacity--> reagent(lab, day) --> ... --> sink
         |  \\--wait--> unit-stream-next-day (the last day's waiting goes to the sink)
         \\--untested--> sink

Reagent is a chain running backwards in time: a reaction used on day t is paid from the
reagent that arrived on day t or earlier (arcs reagent(l, t) -> reagent(l, t-1), and
reagent(l, t) -> sink with the day's arrivals as capacity). Flow is in 1/100 reaction;
costs are the LP's costs per unit of flow scaled to integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labopt.schedule.data import PlanInput, PlanInputError
from labopt.schedule.model import Weights, lagged, plan_cost

UNITS_PER_REACTION = 100
# integer cost units per objective unit. OR-Tools' cost scaling slows down as costs get finer,
# so it keeps 10,000 (transport costs, about 1e-4 per flow unit, then round to a few units, and
# tied integer optima can differ by about 0.5 % in the exact objective); the simplex's time
# does not depend on it, so it takes the finest scale whose potentials fit in int64.
ORTOOLS_COST_SCALE = 10_000
MAX_COST_SCALE = 10**9


def cost_scale(solver: str, max_cost: float, nodes: int) -> int:
    """Integer cost units per objective unit for a network whose largest cost per flow unit
    is ``max_cost``: the finest power of ten (10,000 for OR-Tools) that keeps every cost within
    half the simplex's bound for int64 potentials (the other half absorbs rounding)."""
    limit = 2**62 // (4 * (nodes + 1))  # ext/_netsimplex.pyx's bound on |cost|
    scale = ORTOOLS_COST_SCALE if solver == "ortools" else MAX_COST_SCALE
    while scale > 1 and max_cost * scale * 2 > limit:
        scale //= 10
    if not np.isfinite(max_cost) or max_cost * scale * 2 > limit:
        raise PlanInputError(
            f"the plan's weights make a cost of {max_cost:.3g} per 1/100 "
            f"reaction, too large for exact integer costs: lower "
            f"plan.untested or plan.priority_base"
        )
    return scale


def fewest_reactions(inp: PlanInput, c: np.ndarray) -> np.ndarray:
    """(nd, ns) the fewest reactions per sample of each unit and stream over its labs and
    days, from the per-arc costs c (np, ns, T); inf for a unit that reaches no lab."""
    lo = np.full((inp.nd, inp.ns), np.inf)
    np.minimum.at(lo, inp.pair_d, c.min(axis=2))
    return lo


def unit_costs(inp: PlanInput, headroom: float) -> np.ndarray | None:
    """Reactions per sample of each unit and stream if they depend on nothing else and claim no
    retest reserve (capacity and reagent then count the same reactions), else None (then the
    allocation is not a network and needs the LP)."""
    c = plan_cost(inp, headroom)
    if (np.abs(c - inp.cost) > 1e-12 * np.maximum(1.0, c)).any():
        return None
    per = np.full((inp.nd, inp.ns), np.nan)
    lo = fewest_reactions(inp, c)
    hi = np.full((inp.nd, inp.ns), -np.inf)
    np.maximum.at(hi, inp.pair_d, c.max(axis=2))
    reached = np.isfinite(lo)
    if (hi[reached] - lo[reached] > 1e-12 * np.maximum(1.0, hi[reached])).any():
        return None
    per[reached] = lo[reached]
    per[~reached] = 1.0
    return per


@dataclass
class FlowNetwork:
    """The allocation's graph: arcs (tail, head, capacity, integer cost), node supplies, and
    where each group of arcs starts (tests, then waiting, untested, capacity, carry, reagent)."""

    tail: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    supply: np.ndarray
    starts: dict[str, int]
    cost_scale: int  # integer cost units per objective unit
    per_sample: np.ndarray  # (nd, ns) flow units per sample


def flow_network(
    inp: PlanInput, w: Weights, per: np.ndarray, solver: str = "simplex"
) -> FlowNetwork:
    """Build the min-cost flow of the allocation for ``solver``; ``per`` from unit_costs."""
    nd, ns, T, nl, npair = inp.nd, inp.ns, inp.days, inp.nl, inp.npairs
    f = per * UNITS_PER_REACTION  # flow units per sample

    # ---- nodes: unit-stream-days, lab-days, reagent(lab, day), sink
    n_unit = nd * ns * T
    lab0 = n_unit
    rg0 = lab0 + nl * T
    sink = rg0 + nl * T
    D, S, Tt = np.meshgrid(np.arange(nd), np.arange(ns), np.arange(T), indexing="ij")
    unit = (D * ns + S) * T + Tt
    # in whole flow units per cohort (the backlog's ages, then days 1..T), so that the waiting
    # and untested arcs can always take a day's inflow
    cohorts = np.rint(inp.cohorts * f[:, :, None]).astype(np.int64)
    units = cohorts[:, :, -T:].copy()
    units[:, :, 0] += cohorts[:, :, :-T].sum(axis=2)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_unit] = units.ravel()
    supplies[sink] = -units.sum()
    unbounded = max(int(units.sum()), 1)  # no arc can carry more than all of it

    # ---- arcs: tests, waiting, untested, lab capacity, reagent
    P, PS, PT = np.meshgrid(np.arange(npair), np.arange(ns), np.arange(T), indexing="ij")
    cum = np.cumsum(cohorts, axis=2)
    wait_cap = (cum - lagged(cum, inp.max_wait))[:, :, -T:]
    untested_cap = lagged(cohorts, inp.max_wait)[:, :, -T:]
    L, LT = np.meshgrid(np.arange(nl), np.arange(T), indexing="ij")
    arrivals = np.diff(inp.reagent_cum, axis=1, prepend=0.0)
    later = LT > 0
    groups = [
        # (tail, head, capacity, cost per flow unit)
        (
            "test",
            unit[inp.pair_d[P], PS, PT],
            lab0 + inp.pair_l[P] * T + PT,
            np.full(P.shape, unbounded),
            w.test_cost(inp) / f[inp.pair_d[P], PS],
        ),
        (
            "wait",
            unit,
            np.where(Tt < T - 1, unit + 1, sink),
            wait_cap,
            w.waiting_cost(inp) / f[D, S],
        ),
        (
            "untested",
            unit,
            np.full(unit.shape, sink),
            untested_cap,
            w.untested_cost(inp)[S, Tt] / f[D, S],
        ),
        (
            "capacity",
            lab0 + L * T + LT,
            rg0 + L * T + LT,
            np.floor(inp.capacity * UNITS_PER_REACTION + 1e-6).astype(np.int64),
            np.zeros(L.shape),
        ),
        (
            "carry",
            (rg0 + L * T + LT)[later],
            (rg0 + L * T + LT - 1)[later],
            np.full(int(later.sum()), unbounded),
            np.zeros(int(later.sum())),
        ),
        (
            "reagent",
            rg0 + L * T + LT,
            np.full(L.shape, sink),
            np.floor(arrivals * UNITS_PER_REACTION + 1e-6).astype(np.int64),
            np.zeros(L.shape),
        ),
    ]
    starts, size = {}, 0
    for name, tail, *_ in groups:
        starts[name] = size
        size += np.size(tail)
    arc_tail, arc_head, arc_capacity = (
        np.concatenate(
            [np.broadcast_to(np.asarray(grp[i]), np.shape(grp[1])).ravel() for grp in groups]
        )
        for i in (1, 2, 3)
    )
    cost = np.concatenate([np.asarray(grp[4], dtype=float).ravel() for grp in groups])
    scale = cost_scale(solver, float(np.abs(cost).max(initial=0.0)), sink + 1)
    return FlowNetwork(
        arc_tail,
        arc_head,
        arc_capacity,
        np.rint(cost * scale).astype(np.int64),
        supplies,
        starts,
        scale,
        f,
    )


def flow_values(
    net: FlowNetwork, flow: np.ndarray, inp: PlanInput
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The LP's variables of a flow: samples tested x (np, ns, T), waiting and untested
    (nd, ns, T), and reactions used at each lab-day (nl, T)."""
    nd, ns, T, starts, f = inp.nd, inp.ns, inp.days, net.starts, net.per_sample
    flows = flow.astype(float)
    x = (
        flows[starts["test"] : starts["wait"]].reshape(inp.npairs, ns, T)
        / f[inp.pair_d][:, :, None]
    )
    waiting = flows[starts["wait"] : starts["untested"]].reshape(nd, ns, T) / f[:, :, None]
    untested = flows[starts["untested"] : starts["capacity"]].reshape(nd, ns, T) / f[:, :, None]
    used = flows[starts["capacity"] : starts["carry"]].reshape(inp.nl, T) / UNITS_PER_REACTION
    return x, waiting, untested, used


def capacity_duals(
    net: FlowNetwork, potential: np.ndarray | None, inp: PlanInput, w: Weights
) -> np.ndarray | None:
    """(nl, T) objective change per extra reaction of each lab-day's capacity (<= 0), as the
    LP's duals (None with OR-Tools, which gives no potentials)."""
    return None if potential is None else lp_duals(net, potential, inp, w)[1]


def lp_duals(
    net: FlowNetwork, potential: np.ndarray, inp: PlanInput, w: Weights
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The LP's row duals: balance (nd, ns, T), capacity and reagent (nl, T), from the
    simplex's node potentials (cost + potential[tail] - potential[head] is an arc's reduced
    cost, in integer cost units per flow unit).

    Per sample, a unit-stream-day's balance dual is -(flow units per sample) x its potential
    (the sink's potential taken as 0); per reaction, a lab-day's capacity dual is the capacity
    arc's reduced cost (<= 0) and its reagent dual the reagent node's potential.

    When the network charges each sample the fewest reactions it costs at any of its labs
    (labopt.schedule.columns), it relaxes the LP, and these duals are feasible for the LP:
    every test arc's reduced cost only grows with the reactions it really costs. The last
    rounding is repaired so that the LP's unbounded columns keep reduced costs >= 0 (balance
    duals at most the untested cost; reagent duals at most 0 and at most any later day's),
    which only raises other reduced costs; LPModel.lagrangian_bound then gives a valid bound.
    """
    nd, ns, T, nl = inp.nd, inp.ns, inp.days, inp.nl
    p = (potential - potential[-1]) / net.cost_scale  # per flow unit, sink at 0
    n_unit = nd * ns * T
    balance = -net.per_sample[:, :, None] * p[:n_unit].reshape(nd, ns, T)
    balance = np.minimum(balance, w.untested_cost(inp)[None, :, :])
    lab = p[n_unit : n_unit + nl * T].reshape(nl, T)
    reagent = UNITS_PER_REACTION * p[n_unit + nl * T : n_unit + 2 * nl * T].reshape(nl, T)
    capacity = np.minimum(UNITS_PER_REACTION * lab - reagent, 0.0)
    reagent = np.minimum.accumulate(np.minimum(reagent, 0.0)[:, ::-1], axis=1)[:, ::-1]
    return balance, capacity, reagent
