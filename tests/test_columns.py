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
from labopt.schedule.lp import plan_cost, solve_lp, weights


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
    assert rep.plan.status == "OPTIMAL" and rep.plan.gap == 0
    assert rep.check.ok, rep.check.violations[:5]


def test_pricing_alone_finds_the_optimum_from_no_arc():
    _, inp, cfg, w = week(3)
    rounds = []
    cg = solve_lp_columns(inp, cfg, w, progress=rounds.append,
                          seed=np.zeros(inp.npairs * inp.ns * inp.days, dtype=bool))
    assert cg.status == "OPTIMAL" and len(rounds) >= 2
    assert cg.objective == pytest.approx(whole_lp(inp, cfg, w).objective, rel=1e-7)


def test_an_unfinished_loop_gives_a_feasible_plan_and_a_valid_bound():
    _, inp, cfg, w = week(4)
    optimum = whole_lp(inp, cfg, w).objective
    part = solve_lp_columns(inp, cfg, w, max_rounds=1,
                            seed=np.zeros(inp.npairs * inp.ns * inp.days, dtype=bool))
    assert part.status == "ROUND_LIMIT" and not part.optimal
    assert np.isfinite(part.bound)
    assert part.bound <= optimum * (1 + 1e-9) and optimum <= part.objective * (1 + 1e-9)
    assert part.objective > optimum                  # one round is not enough on this week
    # the values are a plan of the whole LP: every sample accounted for, capacity kept
    assert part.objective == pytest.approx(
        w.objective(inp, part.x, part.waiting, part.untested), rel=1e-9)
    tested = np.zeros_like(part.waiting)
    np.add.at(tested, inp.pair_d, part.x)
    carried = np.concatenate([np.zeros_like(part.waiting[:, :, :1]), part.waiting[:, :, :-1]],
                             axis=2)
    np.testing.assert_allclose(tested + part.waiting + part.untested,
                               inp.demand + carried, atol=1e-6)
    used = np.zeros((inp.nl, inp.days))
    np.add.at(used, inp.pair_l, (part.x * plan_cost(inp, cfg.retest_reserve_sd)).sum(axis=1))
    assert (used <= inp.capacity + 1e-6).all()


def test_time_limit_before_any_master_returns_the_greedy_plan_with_a_note():
    scn = synthesize(60, 25, days=5, seed=5).with_settings(
        plan={"solver": "columns", "time_limit_seconds": 1e-6})
    rep = plan_scenario(scn, method="lp")
    assert rep.plan.method == "greedy" and rep.plan.status == "TIME_LIMIT"
    assert any("greedy plan instead" in note for note in rep.plan.notes)
    assert rep.check.ok


def test_column_generation_prints_nothing_on_stdout():
    """HiGHS prints a banner when a process makes its first instance, whatever its options:
    in a fresh process, stdout must stay empty (it carries `labopt plan --json`)."""
    code = ("from labopt.scenario.synth import synthesize\n"
            "from labopt.schedule import make_plan\n"
            "scn = synthesize(30, 12, days=3, seed=8).with_settings(plan={'solver': 'columns'})\n"
            "assert make_plan(scn, method='lp').status == 'OPTIMAL'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout == ""
