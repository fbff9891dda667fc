"""Scheduler benchmarks: the Thanh Hóa surge week and the national-size synthetic week.

Absolute times are recorded (pytest -s prints them), never asserted. The gates are ratios
against baselines timed in the same run (the greedy plan, the whole-LP solve, OR-Tools'
min-cost flow); each floor is about half the ratio measured on the 2-core development machine
(BENCHMARKS.md), so noise passes and a large regression fails.
"""

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benches.timing import gate, gate_ratio, ratio, record
from labopt.examples import EXAMPLES
from labopt.scenario import load_scenario, save_folder
from labopt.scenario.model import Scenario
from labopt.scenario.synth import synthesize
from labopt.scenario.travel import haversine_km
from labopt.schedule import build_input, make_plan, plan_scenario
from labopt.schedule.flow import fewest_reactions, flow_network, unit_costs
from labopt.schedule.mincostflow import min_cost_flow
from labopt.schedule.model import weights
from labopt.schedule.output import write_outputs
from labopt.schedule.pipeline import solve_lp

FIXTURES = EXAMPLES
AREA = "Plans"
# floors: baseline time / labopt time must stay above these (about half the measured ratios)
FLOOR_THANH_HOA_VS_GREEDY = 0.08  # the optimal plan against the greedy one, same week
FLOOR_NATIONAL_VS_GREEDY = 0.1  # plan + check of the national week against its greedy plan
FLOOR_COLUMN_GENERATION = 2.0  # whole-LP HiGHS against column generation
FLOOR_COLUMNS_VS_RELAXED_FLOW = 0.14  # its relaxed flow alone against column generation
FLOOR_SIMPLEX_VS_ORTOOLS = 1.5  # OR-Tools' min-cost flow against labopt's network simplex
FLOOR_NETWORK_VS_LP = 1.6  # the whole LP against the min-cost flow, same network
# the national week without shipments against the same week with a store and inter-lab routes
FLOOR_SUPPLY_VS_NONE = 0.4


def national(districts=700, labs=300, seed=0):
    """The national week: 15 candidate labs per unit, every lab validated for pools of 10 and
    no retest reserve (so every sample of a unit and stream costs the same reactions at every
    lab, of capacity and of reagent: a network)."""
    scn = synthesize(districts, labs, days=7, seed=seed, candidates=15)
    scn.labs[:] = [lab.model_copy(update={"max_pool_size": 10}) for lab in scn.labs]
    return scn.with_settings(plan={"retest_reserve_sd": 0.0})


def test_bench_thanh_hoa_plan_check_write(benchmark, tmp_path):
    scn = load_scenario(FIXTURES / "thanh_hoa")

    def job():
        rep = plan_scenario(scn)
        write_outputs(rep, tmp_path / "out")
        return rep

    rep = benchmark(job)
    assert rep.check.ok and rep.plan.status == "OPTIMAL"


def test_ratio_thanh_hoa_plan_against_greedy():
    scn = load_scenario(FIXTURES / "thanh_hoa")
    gate_ratio(
        AREA,
        "Thanh Hóa surge week: the optimal plan (GLOP)",
        "greedy plan",
        lambda: make_plan(scn, method="greedy"),
        lambda: make_plan(scn),
        FLOOR_THANH_HOA_VS_GREEDY,
        repeat=3,
    )


def test_bench_national_week(benchmark):
    scn = national()
    rep = benchmark.pedantic(plan_scenario, args=(scn,), rounds=2, iterations=1)
    assert rep.plan.method == "network" and rep.plan.status == "OPTIMAL" and rep.check.ok
    t = rep.plan.timings
    arcs = rep.plan.input.npairs * 3 * 7
    print(
        f"\nnational week: {arcs:,} test arcs; input {t['input']:.2f} "
        f"s, build {t['build']:.2f} s, solve {t['solve']:.2f} s, round {t['round']:.2f} s"
    )
    greedy = min(_seconds(lambda: make_plan(scn, method="greedy")) for _ in range(2))
    gate(
        AREA,
        "national week, network: plan + check",
        baseline="greedy plan",
        t_baseline=greedy,
        t_labopt=benchmark.stats.stats.min,
        floor=FLOOR_NATIONAL_VS_GREEDY,
        test_arcs=arcs,
        **{f"t_{k}": v for k, v in t.items()},
    )


def _seconds(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_national_week_as_synthesized():
    """The national week exactly as `labopt synth` writes it: labs validated for pools of 1, 5
    or 10, so a pooled sample costs each lab a different number of reactions and the
    allocation is an LP (a generalized network), not a min-cost flow. ``auto`` solves it by
    column generation; whole-LP HiGHS solves it again in the same run for the ratio."""
    scn = synthesize(700, 300, days=7, seed=0, candidates=15)
    t0 = time.perf_counter()
    rep = plan_scenario(scn)
    total = time.perf_counter() - t0
    t = rep.plan.timings
    assert rep.plan.method == "lp" and rep.plan.status == "OPTIMAL" and rep.check.ok
    inp = build_input(scn)
    cfg = scn.settings.plan
    t1 = time.perf_counter()
    whole = solve_lp(inp, cfg.model_copy(update={"solver": "highs"}), weights(inp, cfg))
    whole_secs = time.perf_counter() - t1
    assert whole.status == "OPTIMAL"
    assert rep.plan.lp_objective == pytest.approx(whole.objective, rel=1e-7)
    cg_secs = t["build"] + t["solve"]
    print(f"\nnational week as synthesized (LP): plan + check {total:.1f} s")
    gate(
        AREA,
        "national week as synthesized: column generation (build + solve)",
        baseline="whole-LP HiGHS",
        t_baseline=whole_secs,
        t_labopt=cg_secs,
        floor=FLOOR_COLUMN_GENERATION,
        t_plan_and_check=total,
    )


def with_store(scn: Scenario, neighbours: int = 2) -> Scenario:
    """The week with a store holding a third of the labs' stock, a route (lead 1 day) from it
    to every lab and routes (lead 0) between each lab and its ``neighbours`` nearest labs,
    both ways (issue 19)."""
    ids = [lab.id for lab in scn.labs]
    lat = np.array([lab.lat for lab in scn.labs])
    lon = np.array([lab.lon for lab in scn.labs])
    km = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(km, np.inf)
    near = np.argsort(km, axis=1)[:, :neighbours]
    pairs = {(i, int(j)) for i in range(len(ids)) for j in near[i]}
    pairs |= {(j, i) for i, j in pairs}
    rows = [("store", lab, 1) for lab in ids] + [(ids[i], ids[j], 0) for i, j in sorted(pairs)]
    routes = pd.DataFrame(rows, columns=["source", "target", "lead_days"]).assign(
        max_reactions=np.nan
    )
    stock = sum(lab.reagent_stock for lab in scn.labs) // 3
    return replace(
        scn,
        stores=pd.DataFrame({"id": ["store"], "name": ["Store"], "reagent_stock": [stock]}),
        supply_routes=routes,
    )


def test_national_week_with_a_store_and_inter_lab_shipments():
    """The national week as synthesized with a store and inter-lab routes (issue 19: "under
    3 s of solving"): build + solve against the same week without routes (column generation
    both), best of 2 each, interleaved."""
    plain = synthesize(700, 300, days=7, seed=0, candidates=15)
    scn = with_store(plain)
    reps, plains = [], []
    for _ in range(2):
        reps.append(plan_scenario(scn))
        plains.append(make_plan(plain))
    rep = min(reps, key=lambda r: r.plan.timings["build"] + r.plan.timings["solve"])
    t = rep.plan.timings
    assert rep.plan.method == "lp" and rep.plan.status == "OPTIMAL" and rep.plan.lp_gap == 0
    assert rep.check.ok, rep.check.violations[:5]
    t_plain = min(p.timings["build"] + p.timings["solve"] for p in plains)
    ships = rep.shipments
    print(
        f"\nnational week with a store and {len(scn.supply_routes):,} routes: build "
        f"{t['build']:.2f} s, solve {t['solve']:.2f} s; {len(ships):,} shipments, "
        f"{int(ships['reactions'].sum()):,} reactions; without routes {t_plain:.2f} s"
    )
    gate(
        AREA,
        "national week as synthesized, a store and inter-lab routes (build + solve)",
        baseline="the same week without routes",
        t_baseline=t_plain,
        t_labopt=t["build"] + t["solve"],
        floor=FLOOR_SUPPLY_VS_NONE,
        t_build=t["build"],
        t_solve=t["solve"],
        routes=len(scn.supply_routes),
        shipments=len(ships),
    )


def test_the_1400_unit_week_as_synthesized():
    """Twice the national week, as `labopt synth` writes it: column generation (build + solve,
    best of 2) against the first step it takes, its relaxed min-cost flow alone (labopt's
    network simplex, solve only, best of 2). The ratio is the share of column generation's
    time that flow takes: it falls if the masters' solves grow."""
    scn = synthesize(1400, 600, days=7, seed=0, candidates=15)
    inp = build_input(scn)
    cfg = scn.settings.plan
    w = weights(inp, cfg)
    fewest = fewest_reactions(inp, inp.cost)
    fewest[~np.isfinite(fewest)] = 1.0
    net = flow_network(inp, w, fewest)
    t_flow = min(
        min_cost_flow(net.tail, net.head, net.capacity, net.cost, net.supply).seconds
        for _ in range(2)
    )
    sols = [solve_lp(inp, cfg, w) for _ in range(2)]
    assert all(sol.status == "OPTIMAL" for sol in sols)
    t_cg = min(sol.build_seconds + sol.solve_seconds for sol in sols)
    best = min(sols, key=lambda sol: sol.build_seconds + sol.solve_seconds)
    print(
        f"\n1,400-unit week as synthesized: column generation build {best.build_seconds:.2f} s, "
        f"solve {best.solve_seconds:.2f} s; its relaxed flow alone {t_flow:.2f} s"
    )
    gate(
        AREA,
        "1,400-unit week as synthesized: column generation (build + solve)",
        baseline="its relaxed min-cost flow alone (network simplex, solve only)",
        t_baseline=t_flow,
        t_labopt=t_cg,
        floor=FLOOR_COLUMNS_VS_RELAXED_FLOW,
        t_build=best.build_seconds,
        t_solve=best.solve_seconds,
    )


def test_ratio_simplex_against_ortools_on_the_national_week():
    """labopt's network simplex against OR-Tools' min-cost flow on the national week's graph
    (each at its own cost scale), solve only, alternated in one run."""
    scn = national()
    inp = build_input(scn)
    cfg = scn.settings.plan
    w = weights(inp, cfg)
    per = unit_costs(inp, cfg.retest_reserve_sd)
    nets = {s: flow_network(inp, w, per, s) for s in ("simplex", "ortools")}
    found = {}

    def solve(solver):
        net = nets[solver]
        res = min_cost_flow(net.tail, net.head, net.capacity, net.cost, net.supply, solver=solver)
        found[solver] = res
        return res

    t_or, t_ns, _ = ratio(lambda: solve("ortools"), lambda: solve("simplex"), repeat=2)
    assert found["simplex"].optimal and found["ortools"].optimal
    gate(
        AREA,
        "national week min-cost flow, solve only: labopt's network simplex",
        baseline="OR-Tools min-cost flow",
        t_baseline=t_or,
        t_labopt=t_ns,
        floor=FLOOR_SIMPLEX_VS_ORTOOLS,
        arcs=int(nets["simplex"].tail.size),
        pivots=int(found["simplex"].pivots),
    )


SYNTHESIZED = "synthesize(700, 300, days=7, seed=0, candidates=15)"


@pytest.mark.parametrize("week", ["national()", SYNTHESIZED], ids=["network", "synthesized"])
def test_national_week_memory(week):
    """Peak memory of a fresh process planning and checking the national week, as a network
    and as synthesized (VmHWM: the process's own high-water mark; ru_maxrss would carry over
    the forking parent's)."""
    code = (
        "import re, time; from benches.bench_schedule import national, synthesize; "
        f"from labopt.schedule import plan_scenario; s = {week}; t = time.perf_counter(); "
        "r = plan_scenario(s); dt = time.perf_counter() - t; "
        "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()); "
        "print(int(hwm.group(1)) / 1024, dt, r.check.ok)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        timeout=600,
        check=True,
    )
    mb, secs, ok = out.stdout.split()
    kind = "as synthesized" if week == SYNTHESIZED else "network"
    print(
        f"\nnational week ({kind}) in a fresh process: {float(secs):.2f} s, peak RSS "
        f"{float(mb):.0f} MB"
    )
    record(
        AREA,
        f"national week ({kind}) in a fresh process",
        seconds=float(secs),
        peak_rss_mb=float(mb),
    )
    assert ok == "True" and float(mb) < 2048


def test_the_plan_command_for_the_national_week(tmp_path):
    """`labopt plan DIR --out OUT` on the national week as `labopt synth` writes it, in a
    fresh process: import, load, plan, check and every output written (wall time recorded,
    never asserted)."""
    folder = tmp_path / "national"
    save_folder(synthesize(700, 300, days=7, seed=0, candidates=15), folder)
    out = tmp_path / "plan"
    cli = "from labopt.cli.main import app; app()"
    t0 = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", cli, "plan", str(folder), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.perf_counter() - t0
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert (out / "plan.xlsx").is_file() and "Independent check: OK" in run.stdout
    print(f"\nlabopt plan --out, national week as synthesized: {seconds:.2f} s wall")
    record(AREA, "labopt plan --out, national week as synthesized (fresh process)", seconds=seconds)


@pytest.mark.parametrize("districts", [100, 200, 400, 700, 1000, 1400])
def test_growth_with_districts(districts):
    scn = national(districts, max(30, round(districts * 3 / 7)))
    t0 = time.perf_counter()
    rep = plan_scenario(scn)
    total = time.perf_counter() - t0
    print(
        f"\n{districts} units, {len(scn.labs)} labs: plan+check {total:.2f} s "
        f"(solve {rep.plan.timings['solve']:.2f} s)"
    )
    record(
        AREA,
        f"growth, network: {districts} units, {len(scn.labs)} labs",
        seconds=total,
        solve_seconds=rep.plan.timings["solve"],
    )
    assert rep.check.ok


@pytest.mark.parametrize("districts", [100, 200, 400, 700, 1000, 1400])
def test_growth_with_districts_as_synthesized(districts):
    """The same growth with the weeks exactly as `labopt synth` writes them (mixed pool
    sizes: the LP, by column generation)."""
    scn = synthesize(districts, max(30, round(districts * 3 / 7)), days=7, seed=0, candidates=15)
    t0 = time.perf_counter()
    rep = plan_scenario(scn)
    total = time.perf_counter() - t0
    print(
        f"\n{districts} units as synthesized, {len(scn.labs)} labs: plan+check {total:.2f} s "
        f"(solve {rep.plan.timings['solve']:.2f} s)"
    )
    record(
        AREA,
        f"growth, as synthesized: {districts} units, {len(scn.labs)} labs",
        seconds=total,
        solve_seconds=rep.plan.timings["solve"],
    )
    assert rep.plan.status == "OPTIMAL" and rep.check.ok


def test_ratio_network_against_lp():
    scn = national(150, 60, seed=3)
    whole = scn.with_settings(plan={"solver": "highs"})  # the whole LP, as the README says
    gate_ratio(
        AREA,
        "150-unit network week: the min-cost flow plan",
        "whole-LP HiGHS plan",
        lambda: make_plan(whole, method="lp"),
        lambda: make_plan(scn, method="network"),
        FLOOR_NETWORK_VS_LP,
        repeat=1,
    )
    assert make_plan(scn, method="network").objective == pytest.approx(
        make_plan(scn, method="lp").objective, rel=1e-3
    )
