"""Make the plan: solve the LP, turn it into whole samples, fall back to greedy if needed."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from labopt.scenario.model import Scenario
from labopt.schedule.data import PlanInput, build_input
from labopt.schedule.lp import (
    LPSolution,
    Weights,
    plan_cost,
    relative_gap,
    solve_lp,
    weights,
)

EPS = 1e-7
SNAP = 1e-6  # LP solver tolerance, relative
SOLVER_SHARE = 0.8  # of the time left before a deadline, for the solver
MIN_SOLVER_SECONDS = 0.01  # a solver limit must be positive


@dataclass
class Plan:
    """A day-by-day allocation in whole samples.

    x[p, s, t]: samples of stream s from pair p's unit tested at pair p's lab on day t;
    waiting[d, s, t]: samples still waiting at the end of day t; untested[d, s, t]: samples
    that spoiled (passed their stream's maximum wait) on day t.
    """

    input: PlanInput
    x: np.ndarray
    waiting: np.ndarray
    untested: np.ndarray
    weights: Weights
    method: str  # "network", "lp" or "greedy"
    status: str
    gap: float | None  # relative, of the allocation LP (0 when proven optimal)
    lp_objective: float | None
    objective: float  # of this integer plan
    timings: dict = field(default_factory=dict)
    capacity_dual: np.ndarray | None = None
    reagent_dual: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def scenario(self) -> Scenario:
        return self.input.scenario

    def reactions(self) -> np.ndarray:
        """Expected reactions per pair, stream and day (retests included, no headroom)."""
        return self.x * self.input.cost

    def lab_reactions(self) -> np.ndarray:
        """(nl, T) expected reactions used."""
        out = np.zeros((self.input.nl, self.input.days))
        np.add.at(out, self.input.pair_l, self.reactions().sum(axis=1))
        return out

    def tested(self) -> np.ndarray:
        """(nd, ns, T) samples tested."""
        out = np.zeros((self.input.nd, self.input.ns, self.input.days))
        np.add.at(out, self.input.pair_d, self.x)
        return out


def make_plan(
    scn: Scenario,
    days: int | None = None,
    *,
    method: str | None = None,
    progress: Callable[[str], None] | None = None,
    deadline: float | None = None,
) -> Plan:
    """Plan days 1..days (default: the scenario's horizon).

    ``method`` (default: the scenario's plan.method, "auto"): "network" solves the allocation
    as a min-cost flow (only when it is one), "lp" as a linear programme, "auto" picks the
    network whenever it applies; both with OR-Tools and proven optimal. If the solver stops
    without a solution (time limit) the greedy plan is returned with the reason. "greedy" is
    the coordinator's by-hand rule, for comparison.
    """
    from labopt.schedule.network import solve_network, unit_costs

    say = progress or (lambda _msg: None)
    cfg = scn.settings.plan
    method = cfg.method if method is None else method
    if method not in ("auto", "network", "lp", "greedy"):
        raise ValueError(f"method: one of auto, network, lp, greedy; got {method!r}")
    t0 = time.perf_counter()
    say("designs and capacities")
    inp = build_input(scn, days)
    if deadline is not None:
        left = SOLVER_SHARE * (deadline - time.time())
        cfg = cfg.model_copy(
            update={
                "time_limit_seconds": max(min(cfg.time_limit_seconds, left), MIN_SOLVER_SECONDS)
            }
        )
    w = weights(inp, cfg)
    t_input = time.perf_counter() - t0
    if method == "greedy":
        from labopt.schedule.greedy import greedy_plan

        plan = greedy_plan(inp, w)
        plan.timings["input"] = t_input
        return plan
    per = unit_costs(inp, cfg.retest_reserve_sd) if method in ("auto", "network") else None
    if method == "network" and per is None:
        raise ValueError(
            "method: 'network' needs every sample of a unit and stream to cost the "
            "same reactions at every lab and day (same validated pool sizes and "
            "prevalence); use 'lp' or 'auto'"
        )
    if per is not None:
        say("solving the allocation (min-cost flow)")
        sol = solve_network(inp, cfg, w, per)
        used = "network"
    else:
        say("solving the allocation (LP)")
        sol = solve_lp(inp, cfg, w, say)
        used = "lp"
    if not math.isfinite(sol.objective):
        from labopt.schedule.greedy import greedy_plan

        plan = greedy_plan(inp, w)
        plan.status = sol.status
        what = "min-cost flow" if used == "network" else "LP solver"
        note = (
            f"the {what} stopped without a plan ({sol.status}, time limit "
            f"{cfg.time_limit_seconds:g} s): this is the greedy plan instead"
        )
        if math.isfinite(sol.bound):  # its gap to the bound found before the stop
            plan.gap = relative_gap(plan.objective, sol.bound)
            note += f"; relative gap {plan.gap:.2%} to the LP's lower bound {sol.bound:,.6g}"
        plan.notes.append(note)
        plan.timings.update(input=t_input, build=sol.build_seconds, solve=sol.solve_seconds)
        return plan
    say("rounding to whole samples")
    t1 = time.perf_counter()
    x, waiting, untested = integer_plan(inp, sol, cfg.retest_reserve_sd)
    obj = w.objective(inp, x, waiting, untested)
    gap = 0.0 if sol.optimal else relative_gap(sol.objective, sol.bound)
    plan = Plan(
        inp,
        x,
        waiting,
        untested,
        w,
        used,
        sol.status,
        gap,
        sol.objective,
        obj,
        {
            "input": t_input,
            "build": sol.build_seconds,
            "solve": sol.solve_seconds,
            "round": time.perf_counter() - t1,
        },
        sol.capacity_dual,
        sol.reagent_dual,
    )
    if not sol.optimal:
        plan.notes.append(
            f"solver status {sol.status}: best plan found within the time limit, "
            f"relative gap {gap:.2%}"
        )
    return plan


def integer_plan(inp: PlanInput, sol: LPSolution, headroom: float):
    """Whole samples from the LP solution, never exceeding a capacity.

    Each (unit, stream, day) keeps the LP's number of tested samples rounded to the nearest
    whole sample: arcs are rounded down, then single samples go back to the arcs with the
    largest fractional parts (most urgent streams first) where the lab and its reagent still
    have room, then to any other lab of the unit with room. Untested samples follow the LP;
    the rest waits, within the stream's wait limit.
    """
    c = plan_cost(inp, headroom)
    nd, ns, T = inp.nd, inp.ns, inp.days
    # solver tolerances leave values like 95.9999998: snap them before rounding down
    lp_x = np.where(np.abs(sol.x - np.round(sol.x)) < SNAP, np.round(sol.x), sol.x)
    x = np.floor(lp_x)
    lp_tested = np.zeros((nd, ns, T))
    np.add.at(lp_tested, inp.pair_d, lp_x)
    tested = np.zeros((nd, ns, T))
    np.add.at(tested, inp.pair_d, x)
    # single-sample streams round up (an urgent sample left half-planned is planned), pooled
    # streams to the nearest sample; _remove below keeps tested within what is available
    target = np.where(inp.poolable[None, :, None], np.round(lp_tested), np.ceil(lp_tested - 1e-6))
    deficit = np.maximum(target - tested, 0.0)
    use = np.zeros((inp.nl, T))
    np.add.at(use, inp.pair_l, (x * c).sum(axis=1))
    cum_use = np.cumsum(use, axis=1)

    def room(p, s, t) -> bool:
        lab, need = inp.pair_l[p], c[p, s, t]
        return (
            use[lab, t] + need <= inp.capacity[lab, t] * (1 + 1e-9) + 1e-9
            and not (cum_use[lab, t:] + need > inp.reagent_cum[lab, t:] * (1 + 1e-9) + 1e-9).any()
        )

    def add(p, s, t) -> None:
        lab, need = inp.pair_l[p], c[p, s, t]
        x[p, s, t] += 1
        use[lab, t] += need
        cum_use[lab, t:] += need
        d = inp.pair_d[p]
        tested[d, s, t] += 1
        deficit[d, s, t] -= 1

    frac = lp_x - x
    cand = np.argwhere(frac > EPS)
    order = np.lexsort((-frac[tuple(cand.T)], inp.priority[cand[:, 1]])) if cand.size else []
    for p, s, t in cand[order] if cand.size else []:
        if deficit[inp.pair_d[p], s, t] >= 1 and room(p, s, t):
            add(p, s, t)
    # priority level by level: place what is still short at any lab of the unit with room,
    # else make room by displacing less urgent samples, which are then placed in their turn
    for level in np.unique(inp.priority):
        remaining = np.argwhere((deficit >= 1) & (inp.priority == level)[None, :, None])
        for d, s, t in remaining:
            own = inp.pairs_of_unit[d]
            for p in own:
                while deficit[d, s, t] >= 1 and room(p, s, t):
                    add(p, s, t)
            for p in own:
                while deficit[d, s, t] >= 1 and _displace(
                    inp, x, c, use, cum_use, tested, deficit, p, s, t
                ):
                    add(p, s, t)

    waiting = np.zeros((nd, ns, T))
    untested = np.zeros((nd, ns, T))
    cum = np.cumsum(inp.demand, axis=2)
    carry = np.zeros((nd, ns))
    for t in range(T):
        avail = carry + inp.demand[:, :, t]
        over = tested[:, :, t] - avail
        for d, s in np.argwhere(over > EPS):  # rounding of earlier days left too few
            _remove(inp, x, tested, d, s, t, round(over[d, s]))
        left = avail - tested[:, :, t]
        first = t - inp.max_wait
        older = np.where(first >= 0, cum[:, np.arange(ns), np.clip(first, 0, T - 1)], 0.0)
        limit = cum[:, :, t] - older
        lost = np.minimum(left, np.round(sol.untested[:, :, t]))
        carry = np.maximum(np.minimum(left - lost, limit), 0.0)
        waiting[:, :, t] = carry
        untested[:, :, t] = left - carry
    return x, waiting, untested


def _displace(inp: PlanInput, x, c, use, cum_use, tested, deficit, p, s, t) -> bool:
    """Free room for one sample of stream s on pair p's lab, day t, by removing samples of
    less urgent streams from that lab-day, least urgent first (they become short
    themselves); False if there are not enough to remove."""
    lab, need = inp.pair_l[p], c[p, s, t]
    at_lab = inp.pairs_of_lab[lab]
    short = max(
        use[lab, t] + need - inp.capacity[lab, t],
        (cum_use[lab, t:] + need - inp.reagent_cum[lab, t:]).max(),
    )
    for s2 in np.argsort(-inp.priority, kind="stable"):
        if short <= 1e-9 or inp.priority[s2] <= inp.priority[s]:
            break
        have = x[at_lab, s2, t]
        cost = c[at_lab, s2, t]
        freed_if_all = np.cumsum(have * cost)
        if freed_if_all.size == 0 or freed_if_all[-1] <= 0:
            continue
        stop = min(int(np.searchsorted(freed_if_all, short - 1e-9)), at_lab.size - 1)
        take = have.copy()
        take[stop + 1 :] = 0
        before = freed_if_all[stop - 1] if stop > 0 else 0.0
        take[stop] = min(have[stop], np.ceil((short - before) / cost[stop] - 1e-9))
        freed = float((take * cost).sum())
        x[at_lab, s2, t] -= take
        np.subtract.at(tested[:, s2, t], inp.pair_d[at_lab], take)
        np.add.at(deficit[:, s2, t], inp.pair_d[at_lab], take)
        use[lab, t] -= freed
        cum_use[lab, t:] -= freed
        short -= freed
    return short <= 1e-9


def _remove(inp: PlanInput, x, tested, d, s, t, n):
    """Take n samples of (unit d, stream s, day t) off its costliest arcs."""
    for p in inp.pairs_of_unit[d][::-1]:  # farthest lab first
        k = min(n, int(x[p, s, t]))
        x[p, s, t] -= k
        tested[d, s, t] -= k
        n -= k
        if n == 0:
            return
