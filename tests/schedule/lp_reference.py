"""The allocation model written again, row by row, for scipy's HiGHS: an independent
formulation of the same model (small instances only) to cross-check OR-Tools' optimum."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog


def reference_objective(inp, w, c) -> float:
    """Optimal objective of the allocation model. inp: PlanInput, w: Weights, c: reactions
    claimed per sample of each lab-day's capacity (np, ns, T); reagent is charged the
    expected reactions inp.cost."""
    variables = []  # (kind, key)
    index = {}

    def var(kind, key):
        index[(kind, key)] = len(variables)
        variables.append((kind, key))

    T, ns = inp.days, inp.ns
    for p in range(inp.npairs):
        for s in range(ns):
            for t in range(T):
                var("x", (p, s, t))
    for d in range(inp.nd):
        for s in range(ns):
            for t in range(T):
                var("wait", (d, s, t))
                var("lost", (d, s, t))
    n = len(variables)
    cost = np.zeros(n)
    bounds = [(0, None)] * n
    test_cost = w.test_cost(inp)
    for (kind, key), i in index.items():
        if kind == "x":
            cost[i] = test_cost[key]
        elif kind == "wait":
            d, s, t = key
            cost[i] = w.waiting_day * w.stream[s]
            if t == T - 1:  # still waiting at the horizon: it needs its cheapest test later
                arcs = np.flatnonzero(inp.pair_d == d)
                if arcs.size:
                    later = test_cost[arcs, s, T - 1] + w.earlier * w.waiting_day * w.stream[s]
                    cost[i] += later.min()
            fresh = inp.demand[d, s, max(0, t - int(inp.max_wait[s]) + 1) : t + 1].sum()
            bounds[i] = (0, fresh if inp.max_wait[s] > 0 else 0)
        else:  # untested only when the wait limit passes: the samples of day t - max_wait
            d, s, t = key
            # spoiling a day earlier costs 1.1 waiting days more (days of the scenario)
            H = max(inp.scenario.province.days, T)
            cost[i] = (w.untested[s] + 1.1 * (H - 1 - t)) * w.waiting_day * w.stream[s]
            born = t - int(inp.max_wait[s])
            bounds[i] = (0, inp.demand[d, s, born] if born >= 0 else 0)
    A_eq, b_eq = [], []
    for d in range(inp.nd):
        for s in range(ns):
            for t in range(T):
                row = np.zeros(n)
                for p in np.flatnonzero(inp.pair_d == d):
                    row[index[("x", (p, s, t))]] = 1
                row[index[("wait", (d, s, t))]] = 1
                row[index[("lost", (d, s, t))]] = 1
                if t > 0:
                    row[index[("wait", (d, s, t - 1))]] = -1
                A_eq.append(row)
                b_eq.append(inp.demand[d, s, t])
    A_ub, b_ub = [], []
    for lab in range(inp.nl):
        for t in range(T):
            day = np.zeros(n)
            for p in np.flatnonzero(inp.pair_l == lab):
                for s in range(ns):
                    day[index[("x", (p, s, t))]] = c[p, s, t]
            A_ub.append(day)
            b_ub.append(inp.capacity[lab, t])
        for t in range(T):  # reagent used by the end of day t <= received by then
            cum = np.zeros(n)
            for p in np.flatnonzero(inp.pair_l == lab):
                for s in range(ns):
                    for tau in range(t + 1):
                        cum[index[("x", (p, s, tau))]] = inp.cost[p, s, tau]
            A_ub.append(cum)
            b_ub.append(inp.reagent_cum[lab, t])
    res = linprog(
        cost,
        A_ub=np.array(A_ub),
        b_ub=b_ub,
        A_eq=np.array(A_eq),
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
    )
    assert res.status == 0, res.message
    return float(res.fun)
