"""Column generation for the allocation LP (labopt.schedule.columns): the whole LP's optimum
(solved by GLOP) from any first set of arcs, a valid bound and a feasible plan when stopped
early, nothing on stdout. The random small weeks of test_schedule also compare it with scipy's
independent formulation."""

import subprocess
import sys

import numpy as np
import pytest

from labopt.scenario.synth import synthesize
from labopt.schedule import build_input, plan_scenario
from labopt.schedule.columns import solve_lp_columns
from labopt.schedule.model import lp_model, plan_cost, weights
from labopt.schedule.pipeline import solve_lp


def week(seed, units=60, labs=25, days=5):
    """A synthetic week as `labopt synth` writes it (labs validated for pools of 1, 5, 10:
    an LP, not a network)."""
    scn = synthesize(units, labs, days=days, seed=seed, candidates=8)
    inp = build_input(scn)
    cfg = scn.settings.plan
    return scn, inp, cfg, weights(inp, cfg)


def whole_lp(inp, cfg, w):
    return solve_lp(inp, cfg.model_copy(update={"solver": "glop"}), w)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_column_generation_reaches_the_whole_lps_optimum(seed):
    scn, inp, cfg, w = week(seed)
    whole = whole_lp(inp, cfg, w)
    rounds = []
    cg = solve_lp_columns(inp, cfg, w, progress=rounds.append)
    assert whole.status == cg.status == "OPTIMAL" and cg.bound == cg.objective
    assert cg.objective == pytest.approx(whole.objective, rel=1e-7)
    assert all(msg.startswith("pricing round") for msg in rounds)
    rep = plan_scenario(scn.with_settings(plan={"solver": "columns"}), method="lp")
    assert rep.plan.status == "OPTIMAL" and rep.plan.lp_gap == 0 and rep.plan.gap < 1e-3
    assert rep.check.ok, rep.check.violations[:5]


def test_pricing_alone_finds_the_optimum_from_no_arc():
    _, inp, cfg, w = week(3)
    rounds = []
    cg = solve_lp_columns(
        inp,
        cfg,
        w,
        progress=rounds.append,
        seed=np.zeros(inp.npairs * inp.ns * inp.days, dtype=bool),
    )
    assert cg.status == "OPTIMAL" and len(rounds) >= 2
    assert cg.objective == pytest.approx(whole_lp(inp, cfg, w).objective, rel=1e-7)


def test_an_unfinished_loop_gives_a_feasible_plan_and_a_valid_bound():
    _, inp, cfg, w = week(4)
    optimum = whole_lp(inp, cfg, w).objective
    part = solve_lp_columns(
        inp, cfg, w, max_rounds=1, seed=np.zeros(inp.npairs * inp.ns * inp.days, dtype=bool)
    )
    assert part.status == "ROUND_LIMIT" and not part.optimal
    assert np.isfinite(part.bound)
    assert part.bound <= optimum * (1 + 1e-9) and optimum <= part.objective * (1 + 1e-9)
    assert part.objective > optimum  # one round is not enough on this week
    # the values are a plan of the whole LP: every sample accounted for, capacity kept
    assert part.objective == pytest.approx(
        w.objective(inp, part.x, part.waiting, part.untested), rel=1e-9
    )
    tested = np.zeros_like(part.waiting)
    np.add.at(tested, inp.pair_d, part.x)
    carried = np.concatenate(
        [np.zeros_like(part.waiting[:, :, :1]), part.waiting[:, :, :-1]], axis=2
    )
    np.testing.assert_allclose(
        tested + part.waiting + part.untested, inp.demand + carried, atol=1e-6
    )
    used = np.zeros((inp.nl, inp.days))
    np.add.at(used, inp.pair_l, (part.x * plan_cost(inp, cfg.retest_reserve_sd)).sum(axis=1))
    assert (used <= inp.capacity + 1e-6).all()


def test_time_limit_before_any_master_returns_the_greedy_plan_with_a_note():
    scn = synthesize(60, 25, days=5, seed=5).with_settings(
        plan={"solver": "columns", "time_limit_seconds": 1e-6}
    )
    rep = plan_scenario(scn, method="lp")
    assert rep.plan.method == "greedy" and rep.plan.status == "TIME_LIMIT"
    assert any("greedy plan instead" in note for note in rep.plan.notes)
    assert rep.check.ok


def test_column_generation_prints_nothing_on_stdout():
    """HiGHS prints a banner when a process makes its first instance, whatever its options:
    in a fresh process, stdout must stay empty (it carries `labopt plan --json`)."""
    code = (
        "from labopt.scenario.synth import synthesize\n"
        "from labopt.schedule import make_plan\n"
        "scn = synthesize(30, 12, days=3, seed=8).with_settings(plan={'solver': 'columns'})\n"
        "assert make_plan(scn, method='lp').status == 'OPTIMAL'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == ""


def relaxed_lp_optimum(inp, cfg, w):
    """The LP with every sample charged the fewest expected reactions it costs at any of its
    labs (below what the LP charges its capacity and its reagent), built from the LP's arrays and solved by scipy's HiGHS: independent of the network."""
    from scipy.optimize import linprog

    m = lp_model(inp, cfg, w)
    A = m.A.tocsc(copy=True)
    fewest = np.full((inp.nd, inp.ns), np.inf)
    np.minimum.at(fewest, inp.pair_d, inp.cost.min(axis=2))
    per_x = np.broadcast_to(fewest[inp.pair_d][:, :, None], (inp.npairs, inp.ns, inp.days)).ravel()
    for j in range(m.nx):  # capacity and reagent entries of each arc
        lo, hi = A.indptr[j], A.indptr[j + 1]
        A.data[lo:hi] = np.where(A.indices[lo:hi] >= m.nbal, per_x[j], A.data[lo:hi])
    eq = m.row_lower == m.row_upper
    res = linprog(
        m.obj,
        A_ub=A[~eq],
        b_ub=m.row_upper[~eq],
        A_eq=A[eq],
        b_eq=m.row_lower[eq],
        bounds=np.c_[m.lower, m.upper],
        method="highs",
    )
    assert res.status == 0
    return m, res.fun


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_relaxations_duals_bound_the_lp_with_the_relaxed_lps_optimum(seed):
    """The fewest-reactions flow's potentials, as LP duals, give a bound of the LP that equals
    the relaxed LP's optimum (strong duality, up to the flow's rounding to 1/100 reaction)
    and lies below the LP's optimum."""
    from labopt.schedule.columns import relaxation

    _, inp, cfg, w = week(seed)
    m, relaxed_optimum = relaxed_lp_optimum(inp, cfg, w)
    bound = m.lagrangian_bound(relaxation(inp, cfg, w).duals)
    assert bound == pytest.approx(relaxed_optimum, rel=1e-5)
    assert bound <= whole_lp(inp, cfg, w).objective * (1 + 1e-9)


def test_a_lagrangian_bound_without_a_valid_sign_is_minus_infinity():
    _, inp, cfg, w = week(0)
    m = lp_model(inp, cfg, w)
    y = np.zeros(m.row_lower.size)
    assert m.lagrangian_bound(y) == 0.0  # every cost is >= 0
    y[m.nbal] = 1.0  # a positive price on a capacity row (no lower end)
    assert m.lagrangian_bound(y) == -np.inf
    y[:] = 0.0
    y[m.rg] = 1e12  # the reagent-left column (no upper bound) goes negative
    assert m.lagrangian_bound(y) == -np.inf


def test_the_first_master_stopped_early_has_at_least_the_relaxations_bound():
    _, inp, cfg, w = week(4)
    optimum = whole_lp(inp, cfg, w).objective
    _, relaxed_optimum = relaxed_lp_optimum(inp, cfg, w)
    part = solve_lp_columns(inp, cfg, w, max_rounds=0)
    assert part.status == "ROUND_LIMIT"
    assert part.bound <= optimum * (1 + 1e-9) <= part.objective * (1 + 2e-9)
    assert part.bound >= relaxed_optimum * (1 - 1e-5)


def test_stopped_before_any_master_the_greedy_plan_gets_a_gap_to_the_bound(monkeypatch):
    """The relaxed flow solved, then the time limit stops HiGHS in its first master: the
    greedy plan comes back with its gap to the relaxation's bound."""
    from labopt.schedule import columns

    scn = synthesize(60, 25, days=5, seed=5).with_settings(plan={"solver": "columns"})
    make = columns._highs

    def stopped_at_once():
        h = make()
        set_option = h.setOptionValue
        h.setOptionValue = lambda k, v: set_option(k, 1e-12 if k == "time_limit" else v)
        return h

    monkeypatch.setattr(columns, "_highs", stopped_at_once)
    rep = plan_scenario(scn, method="lp")
    assert rep.plan.method == "greedy" and rep.plan.status == "TIME_LIMIT"
    note = next(n for n in rep.plan.notes if "greedy plan instead" in n)
    assert "lower bound" in note and 0 < rep.plan.gap < 1
    inp = build_input(scn)
    cfg = scn.settings.plan
    optimum = whole_lp(inp, cfg, weights(inp, cfg)).objective
    bound = rep.plan.objective * (1 - rep.plan.gap)
    assert bound <= optimum * (1 + 1e-9) and optimum <= rep.plan.objective
    assert rep.check.ok


def test_the_relaxed_flows_basis_starts_the_first_master_near_its_optimum(monkeypatch):
    """Started from the basis of the relaxed flow, the first master needs far fewer dual
    simplex iterations than from the slack basis, which is also where a basis HiGHS refuses
    falls back to; both reach the whole LP's optimum."""
    import highspy

    from labopt.schedule import columns

    _, inp, cfg, w = week(0)
    relaxed = columns.relaxation(inp, cfg, w)
    rows = relaxed.row_status.size
    basic = (relaxed.col_status == columns.BASIC).sum() + (
        relaxed.row_status == columns.BASIC
    ).sum()
    assert 0.95 * rows <= basic <= rows  # a tree solution, some arcs degenerate

    def first_master_iterations():
        lines = []
        sol = solve_lp_columns(inp, cfg, w, progress=lines.append)
        assert sol.objective == pytest.approx(whole_lp(inp, cfg, w).objective, rel=1e-7)
        first = next(line for line in lines if line.startswith("pricing round 1:"))
        return int(first.split("(")[1].split(" iterations")[0].replace(",", ""))

    warm = first_master_iterations()
    monkeypatch.setattr(columns, "warm_basis", lambda *_: highspy.HighsBasis())  # invalid
    cold = first_master_iterations()
    assert warm < 0.7 * cold
