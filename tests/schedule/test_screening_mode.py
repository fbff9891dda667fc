"""The plan's screening mode by_risk: what not collecting a sample costs, the unit finding most
per reaction first, no sample collected to spoil, and every fixture (the Thanh Hóa surge week
among them) planned by risk against the demand as given."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labopt.errors import InputError
from labopt.pooling.designs import Design
from labopt.scenario import load_scenario
from labopt.schedule import plan_scenario
from labopt.schedule.data import build_input
from labopt.schedule.model import by_risk_costs, spoiling_cost, weights
from labopt.schedule.screening import only_what_is_tested
from tests.cli.helpers import run
from tests.schedule.test_supply import kits_case

EXAMPLES = Path(__file__).parents[2] / "labopt" / "examples"
TINY = Path(__file__).parents[1] / "data" / "tiny"


def by_risk(scn):
    plan = scn.settings.plan.model_copy(update={"screening": "by_risk"})
    return replace(scn, settings=scn.settings.model_copy(update={"plan": plan}))


def one_lab(folder: Path, wait: int = 0) -> Path:
    """tiny with its provincial CDC lab alone, short of capacity, both units within reach:
    unit a's screening finds 5 % infected, b's 0.2 % (its samples find far less per
    reaction)."""
    folder.mkdir()
    for f in TINY.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    labs = (TINY / "labs.csv").read_text().splitlines()
    (folder / "labs.csv").write_text("\n".join(labs[:2]) + "\n")
    (folder / "deliveries.csv").write_text("lab,day,reactions\n")
    prev = (TINY / "prevalence.csv").read_text().replace("a,screening,0.01", "a,screening,0.05")
    (folder / "prevalence.csv").write_text(prev)
    toml = (TINY / "scenario.toml").read_text()
    toml = toml.replace(
        "poolable = true\nmax_wait_days = 2", f"poolable = true\nmax_wait_days = {wait}"
    )
    (folder / "scenario.toml").write_text(toml + '\n[plan]\nscreening = "by_risk"\n')
    return folder


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_not_collecting_costs_most_where_samples_find_most(seed):
    rng = np.random.default_rng(seed)
    inp = build_input(load_scenario(TINY))
    w = weights(inp, inp.scenario.settings.plan)
    streams = inp.poolable.copy()  # tiny's screening stream
    found = rng.random((inp.nd, inp.ns, inp.days)) * rng.choice([0.0, 0.01, 0.2])
    cost = by_risk_costs(w, inp, found, streams)
    day = w.waiting_day * w.stream[None, :, None]
    spoil = spoiling_cost(w, inp)[None, :, :]
    s = streams[None, :, None] & np.ones(cost.shape, dtype=bool)
    assert (cost[~s] == 0).all()
    assert (cost[s] >= np.broadcast_to(day, cost.shape)[s] - 1e-9).all()
    assert (cost[s] < np.broadcast_to(spoil, cost.shape)[s]).all()  # never collect to spoil
    for t in range(inp.days):  # more found, more cost, on each day
        f, c = found[:, streams, t].ravel(), cost[:, streams, t].ravel()
        order = np.argsort(f, kind="stable")
        assert (np.diff(c[order]) >= -1e-9).all()


def test_only_what_is_tested_takes_the_spoiled_and_the_last_waiting_back():
    scn = load_scenario(TINY)
    inp = build_input(scn)
    s = inp.stream_ids.index("screening")  # max_wait_days 2
    demand = np.zeros_like(inp.demand)
    demand[0, s] = [10, 20, 30]
    inp = replace(inp, demand=demand)
    waiting = np.zeros_like(demand)
    untested = np.zeros_like(demand)
    # day 1's 10: 4 tested on day 1, 6 wait and 2 of them spoil on day 3; 5 of day 3's wait
    waiting[0, s] = [6, 6, 5]
    untested[0, s] = [0, 0, 2]
    streams = np.array(inp.stream_ids) == "screening"
    collected, b, u = only_what_is_tested(inp, waiting, untested, streams)
    assert collected[0, s].tolist() == [8, 20, 25]
    assert b[0, s].tolist() == [4, 4, 0] and u[0, s].tolist() == [0, 0, 0]


@pytest.mark.parametrize("wait", [0, 2])
def test_the_unit_that_finds_more_per_reaction_collects_first(tmp_path, wait):
    rep = plan_scenario(load_scenario(one_lab(tmp_path / "s", wait)))
    assert rep.check.ok, rep.check.violations
    sc = rep.screening.set_index(["day", "district"])
    a_short = sc.xs("a", level="district")
    b_all = sc.xs("b", level="district")
    assert (a_short["collect"] < a_short["could_collect"]).any()  # capacity is short
    assert (b_all["collect"] == 0).all()  # b's samples find less per reaction: none of them
    per_unit = sc.groupby(level="district")[["collect", "tested"]].sum()
    assert (per_unit["collect"] == per_unit["tested"]).all()  # tested that day or later
    cmp = rep.screening_comparison
    assert cmp["by_risk"]["infections_expected"] > cmp["demand_as_given"]["infections_expected"]


@pytest.fixture(scope="module")
def thanh_hoa_week():
    scn = load_scenario(EXAMPLES / "thanh_hoa")
    return plan_scenario(scn), plan_scenario(by_risk(scn))


def test_thanh_hoas_surge_week_screened_by_risk_finds_more_infections(thanh_hoa_week):
    fixed, risk = thanh_hoa_week
    assert risk.check.ok and fixed.screening_comparison is None and fixed.screening.empty
    cmp = risk.screening_comparison
    # the plan on the demand as given is the other plan of this module: the same figures
    st = fixed.status[fixed.status["stream"] == "screening"]
    assert cmp["demand_as_given"]["samples_tested"] == int(st["tested"].sum())
    assert cmp["by_risk"]["infections_expected"] > cmp["demand_as_given"]["infections_expected"]
    assert cmp["collect"] < cmp["could_collect"]
    sc = risk.screening
    assert (sc["collect"] <= sc["could_collect"]).all()
    # what the units should collect is the divided plan's screening demand
    rs = risk.status[risk.status["stream"] == "screening"].set_index(["day", "district"])
    collect = sc.set_index(["day", "district"])["collect"]
    assert (collect == rs["demand"].reindex(collect.index)).all()
    assert int(sc["tested"].sum()) == int(rs["tested"].sum()) == cmp["by_risk"]["samples_tested"]
    assert int(rs["untested"].sum()) == 0  # no unit is asked to collect samples that spoil
    last = rs.xs(rs.index.get_level_values("day").max(), level="day")
    assert int(last["waiting"].sum()) == 0  # nor ones the week cannot test
    # urgent streams: the same as on the demand as given, every day
    for s in ("reactive", "symptomatic"):
        a = fixed.status[fixed.status["stream"] == s].groupby("day")["tested"].sum()
        b = risk.status[risk.status["stream"] == s].groupby("day")["tested"].sum()
        assert (a == b).all(), s


@pytest.mark.parametrize(
    "name", ["thanh_hoa_variant", "quang_ninh", "mai_son", "thai_nguyen", "tra_vinh"]
)
def test_every_fixture_by_risk_collects_only_what_it_tests_and_finds_at_least_as_much(name):
    scn = load_scenario(EXAMPLES / name)
    rep = plan_scenario(by_risk(scn))
    assert rep.check.ok, rep.check.violations
    sc, st = rep.screening, rep.status[rep.status["stream"] == "screening"]
    per_unit = sc.groupby("district")[["collect", "tested"]].sum()
    assert (per_unit["collect"] == per_unit["tested"]).all()  # tested that day or later
    assert int(st["untested"].sum()) == 0
    assert int(st[st["day"] == st["day"].max()]["waiting"].sum()) == 0
    cmp = rep.screening_comparison
    by, fixed = cmp["by_risk"], cmp["demand_as_given"]
    assert by["infections_expected"] >= fixed["infections_expected"] - 0.5, cmp
    if fixed["samples_tested"] == cmp["could_collect"]:  # room for all: all are collected
        assert cmp["collect"] == cmp["could_collect"]


def test_the_variant_screened_by_risk_finds_far_more_with_the_same_reactions():
    """thanh_hoa_variant leaves most screening untested: by risk, the reactions go where the
    prevalence is."""
    cmp = plan_scenario(by_risk(load_scenario(EXAMPLES / "thanh_hoa_variant"))).screening_comparison
    by, fixed = cmp["by_risk"], cmp["demand_as_given"]
    assert by["infections_expected"] > 2 * fixed["infections_expected"]
    assert by["reactions"] <= 1.05 * fixed["reactions"]


def test_each_units_detection_probability_from_its_pools(thanh_hoa_week):
    _, risk = thanh_hoa_week
    scn = risk.plan.scenario
    se = scn.policy.pooling_se
    units = {u.code: u for u in scn.districts}
    sc = risk.screening
    al = risk.allocations[risk.allocations["stream"] == "screening"]
    for r in sc[sc["pools"] > 0].sample(20, random_state=1).itertuples():
        unit = units[r.district]
        p = scn.settings.screening.design_prevalence(unit.epidemic_level, unit.area_type)
        assert r.design_prevalence == pytest.approx(p)
        rows = al[(al["district"] == r.district) & (al["day"] == r.day)]
        miss = 1.0
        for a in rows.itertuples():
            stages = Design.parse(a.algorithm, a.config).stages
            infected_pool = 1.0 - (1.0 - p) ** a.pool_size
            miss *= (1.0 - infected_pool * se**stages) ** a.pools
        assert r.detection_probability == pytest.approx(1.0 - miss, abs=1e-4)
        assert r.pools == rows["pools"].sum()


def test_the_mode_needs_a_poolable_least_urgent_stream():
    scn = load_scenario(EXAMPLES / "thanh_hoa")
    streams = [s.model_copy(update={"poolable": False}) for s in scn.settings.streams]
    settings = scn.settings.model_copy(update={"streams": streams})
    with pytest.raises(InputError, match=re.escape('plan.screening = "by_risk"')) as err:
        plan_scenario(by_risk(replace(scn, settings=settings)))
    assert err.value.parameter == "plan.screening"


def test_the_cli_writes_the_screening_table_and_says_it(tmp_path):
    folder = tmp_path / "th"
    toml = (EXAMPLES / "thanh_hoa" / "scenario.toml").read_text()
    folder.mkdir()
    for f in (EXAMPLES / "thanh_hoa").iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "scenario.toml").write_text(toml + '\n[plan]\nscreening = "by_risk"\n')
    r = run("plan", folder, "--days", "3", "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert "Screening by risk: the units should collect" in " ".join(r.output.split())
    table = pd.read_csv(tmp_path / "out" / "screening.csv")
    assert set(table["day"]) == {1, 2, 3} and "detection_probability" in table.columns
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["screening"]["units"] and summary["screening"]["by_risk"]["samples_tested"]
    assert "screening" in pd.ExcelFile(tmp_path / "out" / "plan.xlsx").sheet_names
    vi = run("plan", folder, "--days", "3", "--lang", "vi")
    assert vi.exit_code == 0 and "Sàng lọc theo nguy cơ" in " ".join(vi.output.split())
    data = json.loads(run("plan", folder, "--days", "3", "--json").stdout)
    assert data["screening"]["collect"] <= data["screening"]["could_collect"]


def test_by_risk_with_collection_kits_is_refused_with_what_to_do(tmp_path):
    folder = kits_case(tmp_path / "k", unit_kits=1000, store_kits=None)
    toml = folder / "scenario.toml"
    toml.write_text(toml.read_text() + '\n[plan]\nscreening = "by_risk"\n')
    with pytest.raises(InputError, match="kits table: not supported yet") as err:
        plan_scenario(load_scenario(folder))
    assert err.value.parameter == "plan.screening"


def test_when_no_sample_finds_anything_as_many_are_tested_as_on_the_demand_as_given():
    scn = load_scenario(EXAMPLES / "thanh_hoa_variant")
    demand = scn.demand.copy()
    demand.loc[demand["stream"] == "screening", "prevalence"] = 0.0
    rep = plan_scenario(by_risk(replace(scn, demand=demand)))
    cmp = rep.screening_comparison
    assert cmp["by_risk"]["infections_expected"] == 0.0
    # all alike: the reactions go to as many samples as on the demand as given (whole pools
    # may leave a few out)
    given = cmp["demand_as_given"]["samples_tested"]
    assert cmp["by_risk"]["samples_tested"] >= given - 0.001 * given


def test_network_is_refused_at_once_and_greedy_says_it_ignores_the_mode():
    scn = by_risk(load_scenario(EXAMPLES / "thanh_hoa_variant"))
    with pytest.raises(InputError, match="cannot leave samples uncollected"):
        plan_scenario(scn, method="network")
    greedy = plan_scenario(scn, method="greedy")
    assert greedy.screening_comparison is None
    assert any("greedy rule plans the demand as given" in n for n in greedy.plan.notes)


def test_the_shortfall_says_what_is_not_collected_and_the_real_cause(thanh_hoa_week):
    _, risk = thanh_hoa_week
    items = [i for i in risk.shortfall if i["kind"] == "target" and i.get("not_collected")]
    assert items and all(i["cause"] != "demand below target" for i in items)
    text = risk.shortfall_texts("en")[risk.shortfall.index(items[0])]
    assert "the units could collect are not collected, screening by risk" in text
    vi = risk.shortfall_texts("vi")[risk.shortfall.index(items[0])]
    assert "sàng lọc theo nguy cơ" in vi
