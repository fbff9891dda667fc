"""Make the plan: pick a solver, turn its solution into whole samples, fall back to greedy if
it stops without one; then tabulate and check it (plan_scenario)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from labopt.errors import InputError
from labopt.scenario.model import Planning, Scenario
from labopt.schedule.check import CheckReport, check_plan
from labopt.schedule.columns import solve_lp_columns
from labopt.schedule.data import PlanInput, build_input
from labopt.schedule.flow import unit_costs
from labopt.schedule.greedy import greedy_allocation
from labopt.schedule.lp import solve_whole_lp
from labopt.schedule.model import (
    LPSolution,
    Weights,
    by_risk_costs,
    relative_gap,
    supply_objective,
    weights,
    whole_reactions,
)
from labopt.schedule.network import solve_network
from labopt.schedule.notes import Note, note
from labopt.schedule.report import PlanReport, build_report, national_item
from labopt.schedule.result import Plan
from labopt.schedule.rounding import integer_plan
from labopt.schedule.screening import (
    comparison,
    divided_scenario,
    division,
    found_per_sample,
    only_what_is_tested,
    screening_mask,
    screening_table,
)
from labopt.schedule.supply import net_received, settle, whole_kits, whole_shipments

Progress = Callable[[str], None]

METHODS = ("auto", "network", "lp", "greedy")
# "auto" solves by column generation from this many test variables, with GLOP below, where the
# difference is negligible and the examples' documented plans come from GLOP
COLUMNS_FROM_VARIABLES = 20_000
SOLVER_SHARE = 0.8  # of the time left before a deadline, for the solver
MIN_SOLVER_SECONDS = 0.01  # a solver limit must be positive


def lp_backend(choice: str, test_variables: int) -> str:
    """The LP backend for ``[plan] solver``: "glop" or "highs" (OR-Tools, whole LP),
    "columns" (labopt.schedule.columns); "auto" is GLOP below COLUMNS_FROM_VARIABLES test
    variables and column generation from there."""
    if choice != "auto":
        return choice
    return "columns" if test_variables >= COLUMNS_FROM_VARIABLES else "glop"


def solve_lp(
    inp: PlanInput,
    cfg: Planning,
    w: Weights | None = None,
    progress: Progress | None = None,
) -> LPSolution:
    """Solve the allocation LP with the backend of ``[plan] solver`` (see lp_backend)."""
    w = weights(inp, cfg) if w is None else w
    backend = lp_backend(cfg.solver, inp.npairs * inp.ns * inp.days)
    if backend == "columns":
        return solve_lp_columns(inp, cfg, w, progress)
    return solve_whole_lp(inp, cfg, w, backend)


def greedy_plan(inp: PlanInput, w: Weights) -> Plan:
    """The coordinator's rule of thumb (labopt.schedule.greedy) as a plan."""
    a = greedy_allocation(inp, inp.scenario.settings.plan.retest_reserve_sd)
    obj = w.objective(inp, a.x, a.waiting, a.untested)
    return Plan(inp, a.x, a.waiting, a.untested, w, "greedy", "GREEDY", None, None, obj)


def _by_risk(cfg: Planning, method: str | None) -> bool:
    """Whether a plan screens by risk: the scenario says so and the method is not the greedy
    rule (which plans the demand as given)."""
    return cfg.screening == "by_risk" and (method or cfg.method) != "greedy"


def make_plan(
    scn: Scenario,
    days: int | None = None,
    *,
    method: str | None = None,
    progress: Progress | None = None,
    deadline: float | None = None,
    national: bool = False,
    detail: Progress | None = None,
) -> Plan:
    """Plan days 1..days (default: the scenario's horizon). ``national``: with reagent from a
    national store wherever it lets more samples be tested (what the province must receive).

    ``method`` (default: the scenario's plan.method, "auto"): "network" solves the allocation
    as a min-cost flow (only when it is one), "lp" as a linear programme, "auto" picks the
    network whenever it applies; both proven optimal. If the solver stops without a solution
    (time limit) the greedy plan is returned with the reason. "greedy" is the coordinator's
    by-hand rule, for comparison. ``deadline`` (a time.time() value, seconds): the solver's
    time limit shrinks to fit before it.
    """
    say = progress or (lambda _msg: None)
    cfg = scn.settings.plan
    method = cfg.method if method is None else method
    if method not in METHODS:
        raise InputError(f"method: one of {', '.join(METHODS)}; got {method!r}", "method")
    t0 = time.perf_counter()
    say("designs and capacities")
    inp = build_input(scn, days, national)
    if deadline is not None:
        left = SOLVER_SHARE * (deadline - time.time())
        cfg = cfg.model_copy(
            update={
                "time_limit_seconds": max(min(cfg.time_limit_seconds, left), MIN_SOLVER_SECONDS)
            }
        )
    w = weights(inp, cfg)
    by_risk = _by_risk(cfg, method)
    if by_risk:
        if inp.supply is not None and inp.supply.nku:
            raise InputError(
                'plan.screening = "by_risk" with a kits table: not supported yet (both decide '
                'which samples are collected); remove kits.csv or set plan.screening = "demand"',
                "plan.screening",
            )
        by_risk_streams = screening_mask(inp)
        w.not_collected = by_risk_costs(w, inp, found_per_sample(inp), by_risk_streams)
    t_input = time.perf_counter() - t0
    if method == "greedy":
        plan = greedy_plan(inp, w)
        plan.timings["input"] = t_input
        plan.notes += inp.notes
        return plan
    # shipments move reagent between labs, and samples left uncollected by risk have no arcs:
    # the LP then, not the network
    network = method in ("auto", "network") and inp.supply is None and not by_risk
    per = unit_costs(inp, cfg.retest_reserve_sd) if network else None
    if method == "network" and by_risk:
        raise InputError(
            "method: 'network' cannot leave samples uncollected (plan.screening = \"by_risk\"); "
            "use 'lp' or 'auto'",
            "method",
        )
    if method == "network" and per is None:
        raise InputError(
            "method: 'network' needs every sample of a unit and stream to cost the "
            "same reactions at every lab and day (same validated pool sizes and "
            "prevalence), no retest reserve (plan.retest_reserve_sd = 0) and no supply "
            "routes (supply_routes.csv); use 'lp' or 'auto'",
            "method",
        )
    size = inp.npairs * inp.ns * inp.days  # allocation variables
    if per is not None:
        say("solving the allocation (min-cost flow)")
        sol = solve_network(inp, cfg, w, per)
        used = "network"
    else:
        say("solving the allocation (LP)")
        sol = solve_lp(inp, cfg, w, detail)
        used = "lp"
    if detail is not None and (used == "network" or lp_backend(cfg.solver, size) != "columns"):
        how = note("by_flow" if used == "network" else "by_lp")
        secs = sol.build_seconds + sol.solve_seconds
        detail(note("solved", how=how, secs=secs, variables=size, status=sol.status))
    if not math.isfinite(sol.objective):
        plan = _greedy_instead(inp, w, sol, used, cfg, t_input)
        plan.notes += inp.notes
        return plan
    say("rounding to whole samples")
    t1 = time.perf_counter()
    shipments = None
    if inp.supply is not None and sol.shipments is not None:
        # whole reactions shipped; each lab then holds what it received and keeps what it sent
        shipments = whole_shipments(inp.supply, sol.shipments, inp.reagent_cum)
        gained, _ = net_received(inp.supply, shipments, inp.nl)
        inp = replace(inp, reagent_cum=inp.reagent_cum + gained)
    not_collected = None
    if sol.not_collected is not None:
        # whole samples: each unit collects what the LP keeps, rounded down
        collected = np.clip(np.floor(inp.demand - sol.not_collected + 1e-6), 0.0, None)
        not_collected = inp.demand - collected
        inp = replace(inp, demand=collected)
    kit_shipments = uncollected = None
    if inp.supply is not None and sol.uncollected is not None and sol.kit_shipments is not None:
        # samples collected as the kits allow; the rest were never collected
        kit_shipments, collected = whole_kits(
            inp.supply, inp.demand, inp.poolable, inp.priority, sol.kit_shipments, sol.uncollected
        )
        uncollected = inp.demand - collected
        inp = replace(inp, demand=collected)
    x, waiting, untested = integer_plan(inp, sol, cfg.retest_reserve_sd)
    if not_collected is not None:  # what whole pools leave untested is not collected either
        collected, waiting, untested = only_what_is_tested(inp, waiting, untested, by_risk_streams)
        not_collected = not_collected + inp.demand - collected
        inp = replace(inp, demand=collected)
    if shipments is not None and inp.supply is not None:
        # the safety stock the rounding ate into, and fewer shipments, once use is known
        spent = np.zeros((inp.nl, inp.days))
        np.add.at(spent, inp.pair_l, whole_reactions(inp, x).sum(axis=1))
        gained, _ = net_received(inp.supply, shipments, inp.nl)
        own = inp.reagent_cum - gained
        shipments = settle(inp.supply, shipments, own, spent)
        gained, _ = net_received(inp.supply, shipments, inp.nl)
        inp = replace(inp, reagent_cum=own + gained)
    obj = w.objective(inp, x, waiting, untested, not_collected)
    if shipments is not None:
        obj += supply_objective(inp, w, shipments, spent)
    # the whole-sample plan's own gap, against the LP's lower bound (the LP's optimum when
    # proven optimal): what the user gets, not what the LP found
    bound = sol.objective if sol.optimal else sol.bound
    gap = relative_gap(obj, bound)
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
    plan.notes += inp.notes
    plan.shipments = shipments
    plan.kit_shipments = kit_shipments
    plan.uncollected = uncollected
    plan.not_collected = not_collected
    plan.lp_untested = sol.untested
    plan.lp_gap = 0.0 if sol.optimal else relative_gap(sol.objective, sol.bound)
    if not sol.optimal:
        plan.notes.append(note("time_limit", status=sol.status, lp_gap=plan.lp_gap, gap=gap))
    return plan


def _greedy_instead(
    inp: PlanInput, w: Weights, sol: LPSolution, used: str, cfg: Planning, t_input: float
) -> Plan:
    """The greedy plan, with a note on why and its gap to any bound the solver found."""
    plan = greedy_plan(inp, w)
    plan.status = sol.status
    bound: str | Note = ""
    if math.isfinite(sol.bound):  # its gap to the bound found before the stop
        plan.gap = relative_gap(plan.objective, sol.bound)
        bound = note("greedy_bound", gap=plan.gap, bound=sol.bound)
    plan.notes.append(
        note(
            "greedy_instead",
            what=note("flow_solver" if used == "network" else "lp_solver"),
            status=sol.status,
            limit=cfg.time_limit_seconds,
            bound=bound,
        )
    )
    plan.timings.update(input=t_input, build=sol.build_seconds, solve=sol.solve_seconds)
    return plan


def plan_scenario(
    scenario: Scenario,
    days: int | None = None,
    *,
    method: str | None = None,
    check: bool = True,
    progress: Progress | None = None,
    deadline: float | None = None,
    detail: Progress | None = None,
) -> PlanReport:
    """Plan, tabulate and (by default) independently check a scenario. ``deadline``: see
    make_plan. ``progress`` hears each stage ("solving the allocation (LP)"), ``detail`` the
    solver's own steps (its pricing rounds), for a --verbose display."""
    # by risk, make_plan refuses what it cannot do before any planning
    plan = make_plan(
        scenario, days, method=method, progress=progress, deadline=deadline, detail=detail
    )
    by_risk = _by_risk(scenario.settings.plan, method)
    if by_risk:
        if progress:
            progress("screening by risk: the plan on the demand as given, to compare")
        as_given = scenario.settings.plan.model_copy(update={"screening": "demand"})
        given = replace(scenario, settings=scenario.settings.model_copy(update={"plan": as_given}))
        fixed = make_plan(given, days, method=method, deadline=deadline)
        div = division(plan)
        # what the units collect is the demand the plan answers (and the check reads)
        scenario = divided_scenario(scenario, plan.input, div)
    if method == "greedy" and scenario.settings.plan.screening == "by_risk":
        plan.notes.append(note("greedy_by_risk"))
    if progress:
        progress("tables and shortfall report")
    report = build_report(plan)
    if by_risk:
        report.screening = screening_table(plan, div, report.allocations)
        report.screening_comparison = comparison(fixed, plan, div)
    short = any(i["kind"] == "reagent_day" and i["reactions_short"] >= 1 for i in report.shortfall)
    if plan.input.supply is not None and short and plan.method == "lp":
        if progress:
            progress("what the province must receive")
        more = make_plan(scenario, days, method="lp", deadline=deadline, national=True)
        item = national_item(plan, more)
        if item is not None:  # after the reagent headlines and the shipments
            at = sum(
                i["kind"] in ("reagent_day", "shipment", "kit_shipment") for i in report.shortfall
            )
            report.shortfall.insert(at, item)
    if check:
        if progress:
            progress("independent check")
        report.check = independent_check(report, scenario)
    return report


def independent_check(report: PlanReport, scenario: Scenario | None = None) -> CheckReport:
    """The independent check of the report's plan (:func:`labopt.schedule.check.check_plan`)
    against the demand it answers: ``scenario``, by default the plan's own, divided among the
    units as planned when screening by risk."""
    plan = report.plan
    if scenario is None:
        scenario = plan.scenario
        if report.screening_comparison is not None:  # screening by risk
            scenario = divided_scenario(scenario, plan.input, division(plan))
    return check_plan(
        scenario,
        report.allocations,
        report.status,
        plan.shipments_table(),
        plan.kit_shipments_table(),
    )
