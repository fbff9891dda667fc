"""The allocation LP by column generation over the test arcs (HiGHS through highspy).

A national week offers each unit-stream-day 15 labs, but its optimum uses one or two of them,
so only a small share of the test variables is positive. So the LP is solved on a subset of
the test variables (the restricted master: every waiting, untested and reagent variable, and
the test arcs picked so far), and the master's duals price every arc
left out. An arc whose reduced cost is negative would improve the master; the most negative
ones of each unit-stream-day (counting those within NEARLY_IN waiting days of pricing in) are
added and the master is re-solved from its last basis.
When no arc prices out, the master's optimum is the full LP's optimum (its duals are feasible
for the full LP), proven as for the whole LP.

The first master's arcs come from three guesses: the arcs a pure min-cost flow uses when every
sample is charged the fewest reactions it costs anywhere (labopt.schedule.flow); each unit's
nearest lab of each pool size and two nearest labs; and, for each unit and stream whose samples
cost more reactions at some labs than the flow charges them, every arc within SEED_WITHIN
waiting days of reduced cost at the flow's duals (the flow misjudges exactly those samples, and
the optimum moves them among such arcs). The first master starts from the relaxed flow's basis
(warm_basis), later ones from the last master's. Test arcs are boxed by the samples, capacity
and reagent their rows leave them (arc_bounds), so HiGHS's dual simplex re-solves a master
after pricing by flipping the new columns to a bound, without a dual phase 1; the tighter the
box, the less a flip upsets the master's rows and the fewer iterations the re-solve takes.

If the time limit stops the loop, the last optimal master is a feasible plan of the full LP,
and z_master + sum over arcs left out of min(0, reduced cost) x (the most samples the arc can
carry) is a lower bound of the full LP (the Lagrangian bound of the master's duals): the plan
is returned with that gap. The min-cost flow of the first guess relaxes the LP (it charges
each pooled sample its fewest reactions), so its potentials are duals feasible for the LP
and bound it before any master is solved, far better than the first master's own bound. The
gap reported is against the better of the two, also for the greedy plan returned when no
master finished.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np

from labopt.scenario.model import Planning
from labopt.schedule.data import PlanInput, PlanInputError
from labopt.schedule.flow import fewest_reactions, flow_network, flow_values, lp_duals
from labopt.schedule.mincostflow import min_cost_flow
from labopt.schedule.model import (
    LPModel,
    LPSolution,
    Weights,
    lp_model,
    plan_cost,
    read_back,
    relative_gap,
    wait_limit,
)
from labopt.schedule.notes import note

# arcs added per unit-stream-day and pricing round; with the test arcs boxed the time hardly
# depends on it
MAX_NEW_PER_ROW = 4
# the first master also offers each unit its nearest lab of each pool size and its 2 nearest
# labs: with the relaxed flow's arcs, a first master nearer the optimum than either alone
NEAREST_LABS = 2
# below this many arcs added, the re-solve runs without HiGHS's cost perturbation, whose
# perturb-and-clean-up costs far more dual iterations than a few new arcs need
UNPERTURBED_BELOW = 1000
PRICE_TOL = 1e-9  # relative: an arc prices out when rc < -PRICE_TOL (|c| + |A^T y|)
# waiting days (of the arc's stream) of reduced cost at the relaxed flow's duals within which
# the first master takes every arc of a unit-stream the flow undercharges: the arcs the
# optimum moves those samples to lie within it, and a wider band only adds columns
SEED_WITHIN = 0.25
# waiting days (of the arc's stream) of reduced cost below which an arc is added with those
# that price in: such arcs tend to price in once the new ones move the duals, and adding them
# at once saves a re-solve
NEARLY_IN = 0.01


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Keep C-level writes to stdout (HiGHS prints its banner when the first instance is
    made, whatever its options) out of the CLI's --json output."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@functools.cache
def _banner_shown() -> bool:
    """Make the process's first HiGHS instance, which prints the banner, with stdout off."""
    with _quiet_stdout():
        highspy.Highs()
    return True


def _highs() -> highspy.Highs:
    """A silent HiGHS instance (the banner comes with the first one of the process only)."""
    _banner_shown()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


LOWER, BASIC, UPPER = 0, 1, 2  # basis statuses, as codes


@dataclass
class Relaxation:
    """The allocation as a min-cost flow charging every sample the fewest reactions it costs at
    any of its labs: it relaxes the LP (labopt.schedule.flow.lp_duals)."""

    arcs: np.ndarray  # (np*ns*T,) bool: the test arcs carrying flow
    duals: np.ndarray  # the LP's row duals from its potentials, feasible for the LP
    col_status: np.ndarray  # (LP columns,) LOWER, BASIC or UPPER: where the flow leaves each
    row_status: np.ndarray  # (LP rows,) the same for each row (see warm_basis)


def relaxation(inp: PlanInput, cfg: Planning, w: Weights) -> Relaxation | None:
    """The relaxed flow, or None when it cannot be built (weights too large for integer costs:
    the LP copes without it) or solved within the time limit."""
    # the fewest expected reactions: no more than the LP charges a sample's capacity (expected
    # + reserve) or its reagent (expected), so the flow relaxes both
    fewest = fewest_reactions(inp, inp.cost)
    fewest[~np.isfinite(fewest)] = 1.0
    try:
        net = flow_network(inp, w, fewest)
    except PlanInputError:
        return None
    res = min_cost_flow(
        net.tail, net.head, net.capacity, net.cost, net.supply, max_seconds=cfg.time_limit_seconds
    )
    if not res.optimal or res.potential is None:
        return None
    duals = lp_duals(net, res.potential, inp, w)
    x, waiting, untested, used = flow_values(net, res.flow, inp)
    wait_arcs = slice(net.starts["wait"], net.starts["untested"])
    full_wait = (res.flow[wait_arcs] == net.capacity[wait_arcs]) & (net.capacity[wait_arcs] > 0)
    left = inp.reagent_cum - np.cumsum(used, axis=1)  # reagent left (reactions)
    # LP columns: x, waiting, untested, reagent left (labopt.schedule.model.LPModel)
    col = np.concatenate(
        [
            np.where(x > 0, BASIC, LOWER).ravel(),
            np.where(full_wait, UPPER, np.where(waiting.ravel() > 0, BASIC, LOWER)),
            np.where(untested > 0, BASIC, LOWER).ravel(),
            np.where(left > 1e-9, BASIC, LOWER).ravel(),
        ]
    ).astype(np.int8)
    # LP rows: balance and reagent are equalities; a lab-day's capacity row is basic (its
    # slack is) unless the flow fills the lab-day
    cap_arcs = slice(net.starts["capacity"], net.starts["carry"])
    full = res.flow[cap_arcs] >= net.capacity[cap_arcs]
    row = np.concatenate(
        [
            np.full(inp.nd * inp.ns * inp.days, LOWER),
            np.where(full, UPPER, BASIC),
            np.full(inp.nl * inp.days, LOWER),
        ]
    ).astype(np.int8)
    return Relaxation(x.ravel() > 0, np.concatenate([d.ravel() for d in duals]), col, row)


def warm_basis(relaxed: Relaxation, cols: np.ndarray) -> highspy.HighsBasis:
    """The first master's starting basis (HiGHS) for its columns ``cols``: the variables the
    relaxed flow uses basic, the rest at the bound the flow leaves them at.

    Rows are the flow's nodes and the flow is a tree solution, so this is nearly a basis of
    the LP; HiGHS completes it ("alien"). The relaxed flow is near the LP's optimum, so the
    first master starts near its own, in far fewer dual simplex iterations than from the
    slack basis."""
    code = (
        highspy.HighsBasisStatus.kLower,
        highspy.HighsBasisStatus.kBasic,
        highspy.HighsBasisStatus.kUpper,
    )
    basis = highspy.HighsBasis()
    basis.col_status = [code[k] for k in relaxed.col_status[cols].tolist()]
    basis.row_status = [code[k] for k in relaxed.row_status.tolist()]
    basis.alien = True
    basis.valid = True
    return basis


def arc_bounds(inp: PlanInput, cfg: Planning) -> np.ndarray:
    """(np, ns, T) samples each test arc can carry at most, as the LP's rows imply: those its
    unit-stream has that day (the day's samples and those that may have waited from the day
    before), those that fill its lab-day's capacity, and those its lab's reagent so far covers.
    As column bounds they leave the LP's optimum and duals as they are."""
    have = inp.arrivals.astype(float)
    have[:, :, 1:] += wait_limit(inp)[:, :, :-1]
    bound = have[inp.pair_d]
    reagent = inp.reagent_cum
    if inp.supply is not None:  # a lab a route reaches may get any amount
        reagent = reagent.copy()
        reagent[np.unique(inp.supply.target)] = np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        for reactions, limit in (
            (plan_cost(inp, cfg.retest_reserve_sd), inp.capacity),
            (inp.cost, reagent),
        ):
            fill = limit[inp.pair_l][:, None, :] / reactions
            bound = np.minimum(bound, np.where(reactions > 0, fill, np.inf))
    return bound


def undercharged_arcs(
    inp: PlanInput, cfg: Planning, w: Weights, m: LPModel, rc: np.ndarray
) -> np.ndarray:
    """(np*ns*T,) bool: the arcs of each unit-stream whose samples cost more reactions at some
    of its labs than the relaxed flow charges them, within SEED_WITHIN waiting days of reduced
    cost ``rc`` (at the relaxed flow's duals)."""
    fewest = fewest_reactions(inp, inp.cost)
    most = np.full((inp.nd, inp.ns), -np.inf)
    np.maximum.at(most, inp.pair_d, plan_cost(inp, cfg.retest_reserve_sd).max(axis=2))
    varied = most > fewest * (1 + 1e-9)  # (nd, ns); False for a unit without labs
    shape = (inp.npairs, inp.ns, inp.days)
    unit_stream = np.broadcast_to(varied[inp.pair_d][:, :, None], shape).ravel()
    return unit_stream & (rc[: m.nx] <= SEED_WITHIN * waiting_day_of_arc(inp, w))


def waiting_day_of_arc(inp: PlanInput, w: Weights) -> np.ndarray:
    """(np*ns*T,) the objective's cost of one waiting day of each test arc's stream."""
    day = (w.waiting_day * w.stream)[None, :, None]
    return np.broadcast_to(day, (inp.npairs, inp.ns, inp.days)).ravel()


def seed_arcs(inp: PlanInput, relaxed: Relaxation | None) -> np.ndarray:
    """(np*ns*T,) bool: the test arcs of the first master (see the module docstring)."""
    seed = np.zeros(inp.npairs * inp.ns * inp.days, dtype=bool)
    if relaxed is not None:
        seed |= relaxed.arcs
    order = np.lexsort((inp.pair_hours, inp.pair_d))  # by unit, nearest first
    d = inp.pair_d[order]
    rank = np.arange(d.size) - np.searchsorted(d, d)  # 0 = the unit's nearest
    pick = np.zeros(inp.npairs, dtype=bool)
    pick[order[rank < NEAREST_LABS]] = True
    nearest_of_class: dict[tuple[int, int], int] = {}
    for p in order:
        nearest_of_class.setdefault(
            (int(inp.pair_d[p]), int(inp.design_class[inp.pair_l[p]])), int(p)
        )
    pick[list(nearest_of_class.values())] = True
    return seed | np.repeat(pick, inp.ns * inp.days)


def solve_lp_columns(
    inp: PlanInput,
    cfg: Planning,
    w: Weights,
    progress: Callable[[str], None] | None = None,
    seed: np.ndarray | None = None,
    max_rounds: int | None = None,
) -> LPSolution:
    """Solve the allocation LP of labopt.schedule.model by column generation.

    ``seed`` (bool per test variable) overrides the first master's arcs, and ``max_rounds``
    stops after that many pricing rounds with status "ROUND_LIMIT" (tests use both: to start
    from no arc, and to check the bound of an unfinished loop). Returns the LP's solution, its
    duals and status as the whole LP does; unless OPTIMAL, ``bound`` is the Lagrangian bound.
    """
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    m = lp_model(inp, cfg, w)
    nx, nvar = m.nx, m.obj.size
    m.upper[:nx] = np.minimum(m.upper[:nx], arc_bounds(inp, cfg).ravel())
    Ac = m.A.tocsc()
    AxT = Ac[:, :nx].T.tocsr()  # pricing: rc = c - Ax^T y
    absAxT = abs(AxT)
    available = m.upper[:nx]  # the most samples each arc can carry
    day = waiting_day_of_arc(inp, w)
    # with shipments (reagent fixed at each lab) or samples left uncollected by risk (no such
    # arcs), the flow no longer relaxes the LP
    relaxed = relaxation(inp, cfg, w) if inp.supply is None and w.not_collected is None else None
    if seed is not None:
        chosen = np.asarray(seed, dtype=bool).copy()
    else:
        chosen = seed_arcs(inp, relaxed)
        if relaxed is not None:
            rc = m.obj[:nx] - AxT @ relaxed.duals
            chosen |= undercharged_arcs(inp, cfg, w, m, rc)
    # the relaxation's duals bound the LP before any master is solved
    floor = -np.inf if relaxed is None else m.lagrangian_bound(relaxed.duals)
    build = time.perf_counter() - t0

    # ---- master: every non-test column first, then the chosen test arcs
    rest = np.arange(nx, nvar)
    first = np.flatnonzero(chosen)
    cols = np.concatenate([rest, first])
    sub = Ac[:, cols]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = cols.size, m.row_lower.size
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = m.obj[cols], m.lower[cols], m.upper[cols]
    lp.row_lower_, lp.row_upper_ = m.row_lower, m.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = (
        sub.indptr,
        sub.indices,
        sub.data,
    )
    h = _highs()
    h.passModel(lp)
    if relaxed is not None and h.setBasis(warm_basis(relaxed, cols)) == highspy.HighsStatus.kError:
        h.clearSolver()  # HiGHS could not use it: start from slacks

    best = None  # (column values, row duals, objective) of the last optimal master
    bound = floor
    status, rounds, solve_secs = "NOT_SOLVED", 0, 0.0
    while True:
        left = cfg.time_limit_seconds - (time.perf_counter() - t0)
        if left <= 0:
            status = "TIME_LIMIT"
            break
        h.setOptionValue("time_limit", float(left))
        t1 = time.perf_counter()
        h.run()
        master_secs = time.perf_counter() - t1
        solve_secs += master_secs
        ms = h.getModelStatus()
        if ms != highspy.HighsModelStatus.kOptimal:
            status = (
                "TIME_LIMIT"
                if ms == highspy.HighsModelStatus.kTimeLimit
                else h.modelStatusToString(ms).upper().replace(" ", "_")
            )
            break
        sol = h.getSolution()
        y = np.asarray(sol.row_dual)
        z = h.getInfo().objective_function_value
        best = (np.asarray(sol.col_value), y, z)
        rc = m.obj[:nx] - AxT @ y
        tol = PRICE_TOL * (np.abs(m.obj[:nx]) + absAxT @ np.abs(y))
        out = ~chosen
        # the master's Lagrangian bound from its objective, not m.lagrangian_bound: HiGHS's
        # duals may leave an unbounded column at rc = -1e-12, which would make that -inf
        bound = max(floor, z + float((np.minimum(rc[out], 0.0) * available[out]).sum()))
        neg = np.flatnonzero(out & (rc < -tol))
        if neg.size:  # with the arcs that price in, those within a hair of it
            neg = np.flatnonzero(out & (rc < NEARLY_IN * day))
        solved = {
            "round": rounds + 1,
            "secs": master_secs,
            "iterations": h.getInfo().simplex_iteration_count,
            "gap": relative_gap(z, bound),
        }
        if neg.size == 0:
            status = "OPTIMAL"
            say(note("pricing_round", **solved, then=note("pricing_optimal")))
            break
        if max_rounds is not None and rounds >= max_rounds:
            status = "ROUND_LIMIT"
            say(note("pricing_round", **solved, then=note("pricing_stopped")))
            break
        # the most negative arcs of each unit-stream-day
        neg = neg[np.lexsort((rc[neg], m.x_row[neg]))]
        r = m.x_row[neg]
        start = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        rank = np.arange(neg.size) - np.repeat(start, np.diff(np.r_[start, neg.size]))
        add = neg[rank < MAX_NEW_PER_ROW]
        rounds += 1
        say(
            note(
                "pricing_round", **solved, then=note("pricing_added", arcs=add.size, cols=cols.size)
            )
        )
        s2 = Ac[:, add]
        h.addCols(
            add.size,
            m.obj[add],
            m.lower[add],
            m.upper[add],
            s2.nnz,
            s2.indptr[:-1].astype(np.int32),
            s2.indices.astype(np.int32),
            s2.data,
        )
        chosen[add] = True
        cols = np.concatenate([cols, add])
        h.setOptionValue(
            "dual_simplex_cost_perturbation_multiplier",
            0.0 if add.size < UNPERTURBED_BELOW else 1.0,
        )  # 1: HiGHS's default

    if best is None:
        return LPSolution.without_plan(
            inp, status, build, solve_secs, nvar, m.row_lower.size, bound
        )
    v = np.zeros(nvar)
    v[cols[: best[0].size]] = best[0]
    return read_back(
        m,
        inp,
        v,
        best[1],
        best[2],
        best[2] if status == "OPTIMAL" else bound,
        status,
        build,
        solve_secs,
    )
