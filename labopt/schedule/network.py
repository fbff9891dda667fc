"""The allocation solved as a min-cost flow (labopt.schedule.flow), when it is a network.

A min-cost flow solver (labopt.schedule.mincostflow: labopt's network simplex or OR-Tools'
SimpleMinCostFlow) on this graph is much faster than a general LP solver, and its optimum is
proven (gap 0).
"""

from __future__ import annotations

import time

import numpy as np

from labopt.scenario.model import Planning
from labopt.schedule.data import PlanInput
from labopt.schedule.flow import capacity_duals, flow_network, flow_values
from labopt.schedule.mincostflow import min_cost_flow
from labopt.schedule.model import LPSolution, Weights


def solve_network(inp: PlanInput, cfg: Planning, w: Weights, per: np.ndarray) -> LPSolution:
    """The allocation's optimum as LP values, from the min-cost flow of ``per`` (reactions
    per sample of each unit and stream, from labopt.schedule.flow.unit_costs) with the
    solver of ``[plan] flow_solver``; without a plan (zeros, objective NaN) if it stops."""
    t0 = time.perf_counter()
    net = flow_network(inp, w, per, cfg.flow_solver)
    build = time.perf_counter() - t0
    res = min_cost_flow(
        net.tail,
        net.head,
        net.capacity,
        net.cost,
        net.supply,
        solver=cfg.flow_solver,
        max_seconds=max(cfg.time_limit_seconds - build, 1e-6),
    )
    size = net.tail.size
    if not res.optimal:
        return LPSolution.without_plan(inp, res.status, build, res.seconds, size, net.supply.size)
    x, waiting, untested, _ = flow_values(net, res.flow, inp)
    # the objective with the exact (unrounded) costs, comparable with the LP's
    objective = w.objective(inp, x, waiting, untested)
    return LPSolution(
        x,
        waiting,
        untested,
        capacity_duals(net, res.potential, inp, w),
        None,
        objective,
        objective,
        "OPTIMAL",
        True,
        build,
        res.seconds,
        size,
        net.supply.size,
    )
