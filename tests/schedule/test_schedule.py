"""The daily allocation: feasibility by the independent checker, optimality against an
independent formulation and the greedy baseline, bad input, the CLI."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labopt.examples import EXAMPLES
from labopt.scenario import load_scenario
from labopt.scenario.synth import synthesize
from labopt.schedule import PlanInputError, build_input, check_plan, make_plan, plan_scenario
from labopt.schedule.columns import solve_lp_columns
from labopt.schedule.model import plan_cost, weights
from labopt.schedule.pipeline import COLUMNS_FROM_VARIABLES, lp_backend, solve_lp
from tests.schedule.lp_reference import reference_objective

FIXTURES = EXAMPLES
TINY = Path(__file__).parents[1] / "data" / "tiny"
NAMES = ["thanh_hoa", "thanh_hoa_variant", "quang_ninh", "thai_nguyen", "tra_vinh", "mai_son"]


@pytest.mark.parametrize("name", NAMES)
def test_every_fixture_plan_is_optimal_and_passes_the_independent_check(name):
    scn = load_scenario(FIXTURES / name)
    rep = plan_scenario(scn)
    assert rep.plan.status == "OPTIMAL" and rep.plan.lp_gap == 0
    # the whole-sample plan's own gap to the LP bound
    assert 0 <= rep.plan.gap <= 1e-3
    assert rep.check.ok, rep.check.violations[:5]
    st_ = rep.status
    assert (st_["tested"] + st_["untested"]).sum() + st_[st_["day"] == st_["day"].max()][
        "waiting"
    ].sum() == scn.demand["samples"].sum()
    greedy = plan_scenario(scn, method="greedy")
    assert greedy.check.ok, greedy.check.violations[:5]
    # the LP optimum can never be worse than the feasible greedy plan
    assert rep.plan.lp_objective <= greedy.plan.objective + 1e-6


def test_a_day_without_demand_rows_is_planned_and_checked_at_the_base_prevalence(tmp_path):
    """Samples waiting from day 2 are tested on day 3, which has no demand rows: the plan and
    its independent check both use the district-stream's base prevalence for them."""
    folder = tmp_path / "scn"
    shutil.copytree(FIXTURES / "thanh_hoa", folder)
    demand = pd.read_csv(folder / "demand.csv")
    demand = demand[demand["day"] != 3].copy()
    demand.loc[demand["day"] == 2, "samples"] *= 4
    first_unit = demand["district"] == demand["district"].iloc[0]
    demand["prevalence"] = np.where(first_unit & (demand["day"] == 2), 0.2, np.nan)
    demand.to_csv(folder / "demand.csv", index=False)
    scn = load_scenario(folder)
    rep = plan_scenario(scn)
    tested_day3 = rep.status[rep.status["day"] == 3]["tested"].sum()
    assert tested_day3 > 0  # the case the fallback is for
    assert rep.check.ok, rep.check.violations[:5]
    # pooled samples tested on day 3 carry their retest spread (it was 0 before)
    day3 = rep.labs[(rep.labs["day"] == 3) & (rep.labs["reactions"] > 0)]
    pooled3 = rep.allocations[
        (rep.allocations["day"] == 3) & (rep.allocations["algorithm"] != "IT")
    ]
    assert not pooled3.empty
    assert (day3[day3["lab"].isin(pooled3["lab"])]["retest_sd"] > 0).all()
    # the status table says which prevalence each row was planned at: the day's own, else
    # the unit's base (read here from the files, not from the plan's input)
    base = pd.read_csv(folder / "prevalence.csv").set_index(["district", "stream"])
    own = demand.set_index(["day", "district", "stream"])["prevalence"].dropna()
    for r in rep.status.itertuples(index=False):
        key = (r.day, r.district, r.stream)
        want = own[key] if key in own.index else base.loc[(r.district, r.stream), "prevalence"]
        assert r.prevalence == pytest.approx(want, abs=1e-15), key
    assert (rep.status["prevalence"] == 0.2).sum() == first_unit[demand["day"] == 2].sum()


def test_thanh_hoa_surge_plan_beats_greedy_and_reports_the_shortfall():
    scn = load_scenario(FIXTURES / "thanh_hoa")
    rep = plan_scenario(scn)
    greedy = plan_scenario(scn, method="greedy")
    ours, theirs = rep.to_dict()["totals"], greedy.to_dict()["totals"]
    for s in ("reactive", "symptomatic"):  # every urgent sample within turnaround
        assert ours[s]["tested_within_turnaround"] >= theirs[s]["tested_within_turnaround"]
        assert ours[s]["untested"] == 0
    assert ours["screening"]["untested"] < theirs["screening"]["untested"]
    kinds = {item["kind"] for item in rep.shortfall}
    # its (assumed) store refills the labs that would run dry: shipments, no run-out
    assert {"target", "bottleneck", "standby", "shipment"} <= kinds and "reagent" not in kinds
    assert not rep.meets_targets


def small(seed, districts, labs, days, uniform_pools):
    scn = synthesize(districts, labs, days=days, seed=seed, candidates=min(3, labs))
    if uniform_pools:  # a network: the same pools everywhere and no retest reserve
        scn.labs[:] = [lab.model_copy(update={"max_pool_size": 10}) for lab in scn.labs]
        scn = scn.with_settings(plan={"retest_reserve_sd": 0.0})
    return scn


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    districts=st.integers(1, 5),
    labs=st.integers(1, 4),
    days=st.integers(1, 3),
    uniform=st.booleans(),
    scale=st.sampled_from([0.2, 1.0, 5.0]),
)
def test_random_small_scenarios_pass_the_check_and_match_scipy(
    seed, districts, labs, days, uniform, scale
):
    scn = small(seed, districts, labs, days, uniform)
    scn.demand["samples"] = np.round(scn.demand["samples"] * scale).astype(int)
    for method in ("auto", "lp", "greedy"):
        rep = plan_scenario(scn, method=method)
        assert rep.check.ok, (
            method,
            scn.province.code,
            days,
            uniform,
            scale,
            rep.check.violations[:5],
        )
    inp = build_input(scn)
    cfg = scn.settings.plan
    w = weights(inp, cfg)
    lp = solve_lp(inp, cfg, w)
    ref = reference_objective(inp, w, plan_cost(inp, cfg.retest_reserve_sd))
    assert lp.objective == pytest.approx(ref, rel=1e-6, abs=1e-6)
    # column generation, from its own first arcs and from none at all
    cg = solve_lp(inp, cfg.model_copy(update={"solver": "columns"}), w)
    bare = solve_lp_columns(inp, cfg, w, seed=np.zeros(inp.npairs * inp.ns * inp.days, bool))
    for sol in (cg, bare):
        assert sol.status == "OPTIMAL"
        assert sol.objective == pytest.approx(ref, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_network_and_lp_give_the_same_optimum(seed):
    scn = small(seed, 12, 5, 3, uniform_pools=True)
    net = make_plan(scn, method="network")
    lp = make_plan(scn, method="lp")
    assert net.method == "network" and lp.method == "lp"
    # the network works in 1/100 reaction and integer costs: agreement to that rounding
    assert net.lp_objective == pytest.approx(lp.lp_objective, rel=1e-5)
    assert net.objective == pytest.approx(lp.objective, rel=1e-3)
    assert abs(net.untested.sum() - lp.untested.sum()) <= 0.002 * max(1.0, lp.untested.sum())


def test_network_is_refused_when_costs_depend_on_the_lab():
    scn = load_scenario(FIXTURES / "thanh_hoa")  # labs validated for pools of 5 and 10
    with pytest.raises(ValueError, match="'network' needs every sample"):
        make_plan(scn, method="network")


def test_unit_without_a_reachable_lab_is_planned_with_a_note(tmp_path):
    dst = tmp_path / "tiny"
    shutil.copytree(TINY, dst)
    text = (dst / "scenario.toml").read_text(encoding="utf-8")
    (dst / "scenario.toml").write_text(
        text.replace("[policy]", "[policy]\nmax_travel_hours = 0.5"), encoding="utf-8"
    )
    labs = (dst / "labs.csv").read_text(encoding="utf-8")
    (dst / "labs.csv").write_text(
        labs.replace("non_public,b,20.10,105.30", "non_public,a,19.82,105.79"), encoding="utf-8"
    )
    scn = load_scenario(dst)
    [note] = build_input(scn).notes
    assert re.fullmatch(
        r"unit 'b' \(Huyện Bê\) has 3,300 samples but no lab within "
        r"policy.max_travel_hours = 0.5 h: none of them is tested \(they wait, then count as "
        r"untested\); the nearest lab is 'hosp' \(Bệnh viện Đa khoa\) at about 1\.98 h: raise "
        r"max_travel_hours to 1\.99 h or more to test them there",
        note,
    ), note
    rep = plan_scenario(scn)
    assert rep.check is not None and rep.check.ok, rep.check.violations[:5]
    b = rep.status[rep.status["district"] == "b"]
    assert b["tested"].sum() == 0 and rep.status["tested"].sum() > 0
    with pytest.raises(PlanInputError, match="days: must be between 1 and 3"):
        plan_scenario(load_scenario(TINY), days=9)


def test_time_limit_returns_the_greedy_plan_with_a_note():
    scn = synthesize(150, 60, days=5, seed=4).with_settings(plan={"time_limit_seconds": 1e-4})
    rep = plan_scenario(scn, method="lp")
    assert rep.plan.method == "greedy" and rep.check.ok
    assert any("time limit" in note for note in rep.plan.notes)


def test_retest_reserve_trades_samples_for_safety():
    out = {}
    for z in (0.0, 2.0):
        scn = load_scenario(FIXTURES / "thanh_hoa").with_settings(plan={"retest_reserve_sd": z})
        rep = plan_scenario(scn)
        out[z] = (
            rep.status["tested"].sum(),
            rep.labs["overflow_risk"].quantile(0.99),
            rep.labs["reserve"].sum(),
        )
    assert out[0.0][0] > out[2.0][0]  # the reserve costs tested samples...
    assert out[0.0][2] == 0 and out[2.0][2] > 0
    assert out[2.0][1] < out[0.0][1]  # ...and buys a lower overflow risk


def test_urgent_samples_go_to_a_lab_within_turnaround(tmp_path):
    dst = tmp_path / "tiny"
    shutil.copytree(TINY, dst)
    text = (dst / "scenario.toml").read_text(encoding="utf-8")
    (dst / "scenario.toml").write_text(
        text.replace("[policy]", "[policy]\nturnaround_hours = 2.2"), encoding="utf-8"
    )
    scn = load_scenario(dst)
    rep = plan_scenario(scn)
    a = rep.allocations
    # the hospital's 2.5 h runs miss a 2.2 h turnaround; the CDC's 2 h runs do not
    urgent_b = a[(a["stream"] == "reactive") & (a["district"] == "a")]
    assert (urgent_b["lab"] == "cdc").all()


def test_checker_catches_violations():
    scn = load_scenario(TINY)
    rep = plan_scenario(scn)
    a = rep.allocations.copy()
    a.loc[a.index[0], "samples"] += 10_000  # over capacity, unbalanced
    bad = check_plan(scn, a, rep.status)
    assert not bad.ok
    assert any("capacity" in v for v in bad.violations)
    assert any("!= available" in v or "allocations" in v for v in bad.violations)
    far = rep.allocations.copy()
    far.loc[far.index[0], "lab"] = "priv"
    far.loc[far.index[0], "district"] = "a"
    near = scn.with_settings(policy={"max_travel_hours": 0.1})
    assert any("not reachable" in v for v in check_plan(near, far, rep.status).violations)


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "labopt.cli.main", *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=600,
    )


def test_plan_cli_json_files_and_languages(tmp_path):
    r = run_cli(
        "plan", str(FIXTURES / "thanh_hoa"), "--json", "--out", str(tmp_path / "o"), "--compare"
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) >= {
        "status",
        "days",
        "targets",
        "meets_targets",
        "shortfall",
        "solve_seconds",
        "baseline",
        "files",
    }
    day = out["days"][3]
    assert set(day) >= {
        "day",
        "single_samples_tested",
        "pooled_samples_tested",
        "reactions_used",
        "reactions_capacity",
        "backlog",
        "unmet",
    }
    assert out["targets"] == {"single_samples_per_day": 8000, "pooled_samples_per_day": 80000}
    names = {Path(f).name for f in out["files"]}
    assert {
        "allocations.csv",
        "status.csv",
        "labs.csv",
        "days.csv",
        "plan.xlsx",
        "tested_vs_target.png",
        "lab_utilisation.png",
        "summary.json",
    } <= names
    r = run_cli("plan", str(TINY), "--lang", "vi", "--out", str(tmp_path / "vi"))
    assert r.returncode == 0, r.stderr
    assert "kế hoạch" in r.stdout
    head = (tmp_path / "vi" / "allocations.csv").read_text(encoding="utf-8").splitlines()[0]
    assert head.startswith("day,date,district")  # CSV: labopt's keys in both languages
    xl = pd.read_excel(tmp_path / "vi" / "plan.xlsx", sheet_name=None)  # for reading: Vietnamese
    assert "Thành phố Á" in set(xl["Phân bổ"]["Địa phương"])
    assert {"Phòng xét nghiệm", "Số mẫu"} <= set(xl["Phân bổ"].columns)
    r = run_cli("plan", str(TINY), "--lang", "fr")
    assert r.returncode == 2 and "lang: one of en, vi" in r.stderr


def test_variant_surge_plan_tests_more_urgent_samples_within_turnaround_than_greedy():
    from labopt.schedule.compare import compare_with_greedy

    scn = load_scenario(FIXTURES / "thanh_hoa_variant")
    rep = plan_scenario(scn)
    cmp_ = compare_with_greedy(scn, rep)
    assert cmp_["greedy_check_ok"]
    assert cmp_["more_urgent_within_turnaround"] > 0
    assert cmp_["fewer_untested"] >= 0
    for s in ("reactive", "symptomatic"):  # urgent samples come first
        assert rep.to_dict()["totals"][s]["untested"] == 0


def test_lp_backends_agree_and_highs_prints_nothing(capfd):
    assert lp_backend("auto", COLUMNS_FROM_VARIABLES - 1) == "glop"
    assert lp_backend("auto", COLUMNS_FROM_VARIABLES) == "columns"
    assert lp_backend("glop", 10**9) == "glop" and lp_backend("highs", 1) == "highs"
    scn = synthesize(30, 12, days=3, seed=8)  # mixed pool sizes: an LP
    capfd.readouterr()
    plans = {
        s: make_plan(scn.with_settings(plan={"solver": s}), method="lp")
        for s in ("glop", "highs", "columns")
    }
    out = capfd.readouterr()
    assert out.out == "", "the LP backend wrote to stdout (it would spoil --json)"
    assert {p.status for p in plans.values()} == {"OPTIMAL"}
    for s in ("highs", "columns"):
        assert plans["glop"].lp_objective == pytest.approx(plans[s].lp_objective, rel=1e-7)
