"""The plan's screening mode by_risk: the division of each day's screening reactions among units
(checked against brute force and an interval condition written here), and the Thanh Hóa surge
week planned by risk against the demand as given."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labopt.errors import InputError
from labopt.pooling.designs import Design
from labopt.scenario import load_scenario
from labopt.schedule import plan_scenario
from labopt.schedule.screening import divide
from tests.cli.helpers import run

EXAMPLES = Path(__file__).parents[2] / "labopt" / "examples"


def by_risk(scn):
    plan = scn.settings.plan.model_copy(update={"screening": "by_risk"})
    return replace(scn, settings=scn.settings.model_copy(update={"plan": plan}))


def value(take, found):
    return float((take * found).sum())


def feasible(take, cost, budget, wait) -> bool:
    """Whether samples collected on day t, each tested on a day of [t, t + wait], fit the days'
    budgets (shares of a sample may go to different days): for every run of days [a, b], the
    reactions of the samples whose whole window lies in it fit its budget (Hall's condition
    for interval windows)."""
    days = take.shape[2]
    need = take * cost  # (nd, ns, T)
    for a in range(days):
        for b in range(a, days):
            inside = 0.0
            for s in range(take.shape[1]):
                for t in range(a, b + 1):
                    if min(t + int(wait[s]), days - 1) <= b:
                        inside += need[:, s, t].sum()
            if inside > budget[a : b + 1].sum() + 1e-6:
                return False
    return True


@pytest.mark.parametrize("seed", range(60))
def test_the_division_finds_the_most_infections_within_one_sample_per_item(seed):
    rng = np.random.default_rng(seed)
    nd, days = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    wait = np.array([int(rng.integers(0, 2))])
    could = rng.integers(0, 4, (nd, 1, days))
    cost = rng.choice([0.2, 0.5, 1.0, 1.7], (nd, 1, days))
    found = rng.choice([0.0, 0.01, 0.03, 0.1], (nd, 1, days))
    budget = rng.choice([0.0, 0.7, 1.5, 3.0], days)
    take = divide(found, cost, could, budget, wait)
    assert (take >= 0).all() and (take <= could).all()
    assert feasible(take, cost, budget, wait)
    best = max(
        value(np.array(c).reshape(could.shape), found)
        for c in itertools.product(*[range(int(k) + 1) for k in could.ravel()])
        if feasible(np.array(c).reshape(could.shape), cost, budget, wait)
    )
    assert value(take, found) <= best + 1e-9
    assert value(take, found) >= best - found.sum() - 1e-9  # rounding: < 1 sample per item


def test_the_division_prefers_infections_per_reaction_and_takes_all_when_it_can():
    found = np.array([[[0.01]], [[0.05]], [[0.02]]])
    cost = np.array([[[0.2]], [[1.0]], [[0.2]]])  # found per reaction: 0.05, 0.05, 0.1
    could = np.array([[[100]], [[100]], [[100]]])
    take = divide(found, cost, could, np.array([30.0]), np.array([0]))
    assert take[2, 0, 0] == 100  # the most per reaction first: 20 reactions
    assert take[1, 0, 0] * 1.0 + take[0, 0, 0] * 0.2 <= 10 + 1e-9  # the other ten shared
    assert (divide(found, cost, could, np.array([1e9]), np.array([0])) == could).all()
    assert (divide(found, cost, could, np.array([0.0]), np.array([0])) == 0).all()


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
    # urgent streams: the same as on the demand as given, every day
    for s in ("reactive", "symptomatic"):
        a = fixed.status[fixed.status["stream"] == s].groupby("day")["tested"].sum()
        b = risk.status[risk.status["stream"] == s].groupby("day")["tested"].sum()
        assert (a == b).all(), s


def test_a_plan_that_tests_all_the_units_could_collect_is_kept():
    scn = load_scenario(EXAMPLES / "quang_ninh")
    fixed, risk = plan_scenario(scn), plan_scenario(by_risk(scn))
    cmp = risk.screening_comparison
    assert cmp["collect"] == cmp["could_collect"] == int(risk.screening["tested"].sum())
    assert cmp["by_risk"] == cmp["demand_as_given"]
    assert fixed.allocations.equals(risk.allocations)


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
