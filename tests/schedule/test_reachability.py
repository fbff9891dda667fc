"""Units that reach no lab are planned as unreachable, locally: the rest of the province is
planned as if they were not there. A unit's own labs are always allowed, even when travel.csv
leaves them out."""

import json

import numpy as np
import pandas as pd
import pytest

from labopt.scenario import load_scenario
from labopt.scenario.travel import haversine_km, travel_table
from labopt.schedule import build_input, check_plan, plan_scenario
from labopt.schedule.check import _allowed_pairs
from labopt.schedule.data import check_plannable
from tests.cli.helpers import run
from tests.scenario_files import copy_tiny, edit

# a mountain unit far to the north-west of the tiny scenario's labs (over 10 h by road)
FAR = "c,Huyện Xa,district,mountainous,30000,22.40,103.50,1\n"
FAR_DEMAND = [(1, 200, 400), (2, 150, 0), (3, 0, 350)]  # day, reactive, screening


def add_far_unit(folder):
    """The tiny scenario plus unit 'c', which no lab is within max_travel_hours of."""
    with open(folder / "districts.csv", "a", encoding="utf-8") as f:
        f.write(FAR)
    with open(folder / "prevalence.csv", "a", encoding="utf-8") as f:
        f.write("c,reactive,0.04\nc,screening,0.005\n")
    with open(folder / "demand.csv", "a", encoding="utf-8") as f:
        for day, reactive, screening in FAR_DEMAND:
            f.write(f"{day},c,reactive,{reactive},\n{day},c,screening,{screening},\n")


FAR_SAMPLES = sum(r + s for _, r, s in FAR_DEMAND)


def far_and_without(tmp_path, equal_pools=False):
    """(scenario with unit 'c', the same scenario without it)."""
    out = []
    for name, far in (("with", True), ("without", False)):
        folder = copy_tiny(tmp_path / name)
        if equal_pools:  # same pools and prevalence everywhere, no reserve: a min-cost flow
            edit(folder / "labs.csv", "400,5,150", "400,10,150")
            edit(folder / "demand.csv", "2,a,screening,4000,0.02", "2,a,screening,4000,")
            with (folder / "scenario.toml").open("a", encoding="utf-8") as f:
                f.write("\n[plan]\nretest_reserve_sd = 0.0\n")
        if far:
            add_far_unit(folder)
        out.append(load_scenario(folder))
    return out


def nearest_by_coordinates(scn, code):
    d = next(d for d in scn.districts if d.code == code)
    km = [float(haversine_km(d.lat, d.lon, lab.lat, lab.lon)) for lab in scn.labs]
    j = int(np.argmin(km))
    return scn.labs[j].id, km[j] * scn.transport.road_factor / scn.transport.speed_kmh


@pytest.mark.parametrize(
    ("method", "equal_pools"), [("lp", False), ("network", True), ("greedy", False)]
)
def test_a_unit_beyond_every_lab_is_planned_as_unreachable(tmp_path, method, equal_pools):
    scn, alone = far_and_without(tmp_path, equal_pools)
    rep = plan_scenario(scn, method=method)
    ref = plan_scenario(alone, method=method)
    assert rep.plan.method == method
    assert rep.check is not None and rep.check.ok, rep.check.violations[:5]

    # the other units are planned exactly as without unit 'c'
    cols = ["day", "district", "stream", "tested", "waiting", "untested"]
    others = rep.status[rep.status["district"] != "c"][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(others, ref.status[cols].reset_index(drop=True))
    assert "c" not in set(rep.allocations["district"])

    # unit 'c': nothing tested; every sample waits, then is untested or still waiting
    far = rep.status[rep.status["district"] == "c"]
    assert len(far) == scn.province.days * len(scn.streams)
    assert far["tested"].sum() == 0
    last = far[far["day"] == far["day"].max()]
    assert far["untested"].sum() + last["waiting"].sum() == FAR_SAMPLES
    assert far["untested"].sum() > 0  # the reactive stream waits one day at most

    lab, hours = nearest_by_coordinates(scn, "c")
    assert hours > scn.policy.max_travel_hours
    note = next(n for n in rep.plan.notes if "unit 'c'" in n)
    assert f"has {FAR_SAMPLES:,} samples but no lab within" in note
    name = scn.lab_by_id[lab].name
    assert f"the nearest lab is '{lab}' ({name}) at about {hours:.2f} h" in note
    assert "max_travel_hours" in note


def test_the_input_lists_the_unreachable_unit_with_no_pairs(tmp_path):
    scn, _ = far_and_without(tmp_path)
    inp = build_input(scn)
    c = inp.district_codes.index("c")
    assert c not in set(inp.pair_d.tolist())
    assert inp.pairs_of_unit[c].size == 0
    # every pair is still found under its own unit (the split around the empty unit)
    assert sorted(np.concatenate(inp.pairs_of_unit).tolist()) == list(range(inp.npairs))
    for d, pairs in enumerate(inp.pairs_of_unit):
        assert (inp.pair_d[pairs] == d).all()
    assert np.isfinite(inp.reserve_capacity).all() and (inp.reserve_capacity > 0).all()
    lab, hours = nearest_by_coordinates(scn, "c")
    [u] = inp.unreachable
    assert u == {
        "unit": "c",
        "name": "Huyện Xa",
        "samples": FAR_SAMPLES,
        "nearest_lab": lab,
        "hours": pytest.approx(hours),
    }
    assert len(inp.notes) == 1 and "unit 'c' (Huyện Xa)" in inp.notes[0]
    assert check_plannable(scn) == inp.notes


def test_a_unit_without_samples_is_not_reported(tmp_path):
    folder = copy_tiny(tmp_path)
    with open(folder / "districts.csv", "a", encoding="utf-8") as f:
        f.write(FAR)
    with open(folder / "prevalence.csv", "a", encoding="utf-8") as f:
        f.write("c,reactive,0.04\nc,screening,0.005\n")
    inp = build_input(load_scenario(folder))
    assert inp.unreachable == [] and inp.notes == []


def test_a_scenario_without_any_lab_is_still_refused(tmp_path):
    folder = copy_tiny(tmp_path)
    labs = (folder / "labs.csv").read_text(encoding="utf-8").splitlines()[0]
    (folder / "labs.csv").write_text(labs + "\n", encoding="utf-8")
    (folder / "deliveries.csv").write_text("lab,day,reactions\n", encoding="utf-8")
    r = run("plan", folder)
    assert r.exit_code == 2, r.output
    assert "unit 'a' (Thành phố Á) has 12,800 samples but the scenario has no lab" in r.output


def test_plan_and_scenario_check_pass_with_the_note(tmp_path):
    folder = copy_tiny(tmp_path)
    add_far_unit(folder)
    check = run("scenario", "check", folder)
    assert check.exit_code == 0, check.output
    text = " ".join(check.output.split())
    assert f"warning: unit 'c' (Huyện Xa) has {FAR_SAMPLES:,} samples but no lab within" in text
    assert ": OK -" in text

    plan = run("plan", folder)
    assert plan.exit_code == 0, plan.output
    text = " ".join(plan.output.split())
    assert f"note: unit 'c' (Huyện Xa) has {FAR_SAMPLES:,} samples but no lab within" in text
    assert "the nearest lab is 'priv'" in text

    out = run("plan", folder, "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert any("unit 'c'" in n for n in doc["notes"]), doc["notes"]


# ------------------------------------------------ own labs missing from travel.csv
def tiny_with_travel(tmp_path):
    """Tiny with a travel table that leaves out unit 'b''s own lab 'priv', and a travel limit
    that no other lab meets from 'b': its own lab is all it has."""
    folder = copy_tiny(tmp_path)
    edit(folder / "scenario.toml", "[policy]", "[policy]\nmax_travel_hours = 1.0")
    (folder / "travel.csv").write_text(
        "district,lab,hours\na,cdc,0.1\na,hosp,0.2\nb,cdc,2.5\nb,hosp,2.5\n", encoding="utf-8"
    )
    return load_scenario(folder)


def test_own_lab_left_out_of_the_travel_table_is_allowed(tmp_path):
    scn = tiny_with_travel(tmp_path)
    assert check_plannable(scn) == []
    pairs = travel_table(scn)
    own = pairs[(pairs["district"] == "b") & (pairs["lab"] == "priv")]
    assert len(own) == 1 and bool(own["same_district"].iloc[0])
    # the coordinates' estimate, as without a travel table (unit b and priv share a place)
    b = next(d for d in scn.districts if d.code == "b")
    priv = next(lab for lab in scn.labs if lab.id == "priv")
    km = float(haversine_km(b.lat, b.lon, priv.lat, priv.lon))
    expect = km * scn.transport.road_factor / scn.transport.speed_kmh
    assert own["hours"].iloc[0] == pytest.approx(expect)
    # rows the table has are kept as they are; pairs over the limit are still left out
    assert set(map(tuple, pairs[["district", "lab"]].to_numpy())) == {
        ("a", "cdc"),
        ("a", "hosp"),
        ("b", "priv"),
    }
    allowed = _allowed_pairs(scn)
    assert set(map(tuple, allowed[["district", "lab"]].to_numpy())) == {
        ("a", "cdc"),
        ("a", "hosp"),
        ("b", "priv"),
    }

    rep = plan_scenario(scn)
    assert rep.check is not None and rep.check.ok, rep.check.violations[:5]
    b_alloc = rep.allocations[rep.allocations["district"] == "b"]
    assert set(b_alloc["lab"]) == {"priv"} and b_alloc["samples"].sum() > 0
    assert not any("no lab within" in n for n in rep.plan.notes)


def test_check_allows_an_own_lab_the_travel_table_leaves_out(tmp_path):
    scn = tiny_with_travel(tmp_path)
    rep = plan_scenario(scn)
    status = rep.status
    alloc = rep.allocations
    assert check_plan(scn, alloc, status).ok
    # and still refuses a lab beyond the limit that is not the unit's own
    moved = alloc[alloc["district"] == "b"].head(1).assign(lab="cdc", samples=1)
    bad = check_plan(scn, pd.concat([alloc, moved], ignore_index=True), status)
    assert any("b/" in v and "-> cdc: lab not reachable" in v for v in bad.violations)


def test_the_suggested_travel_limit_reaches_the_unit(tmp_path):
    folder = copy_tiny(tmp_path)
    add_far_unit(folder)
    [note] = check_plannable(load_scenario(folder))
    limit = note.split("raise max_travel_hours to ")[1].split(" h")[0]
    edit(folder / "scenario.toml", "[policy]", f"[policy]\nmax_travel_hours = {limit}")
    assert check_plannable(load_scenario(folder)) == []
    edit(folder / "scenario.toml", f"max_travel_hours = {limit}", "max_travel_hours = 10.6")
    assert len(check_plannable(load_scenario(folder))) == 1  # 0.1 h short of it


@pytest.mark.parametrize("listed", [True, False])
def test_the_note_with_a_travel_table(tmp_path, listed):
    folder = copy_tiny(tmp_path)
    add_far_unit(folder)
    rows = "a,cdc,0.1\na,hosp,0.2\nb,priv,0.0\nb,cdc,2.0\nb,hosp,2.0\n"
    if listed:  # a road to hosp, longer than the limit; none to priv, nearer as the crow flies
        rows += "c,hosp,6.5\nc,cdc,7.25\n"
    (folder / "travel.csv").write_text("district,lab,hours\n" + rows, encoding="utf-8")
    scn = load_scenario(folder)
    [u] = build_input(scn).unreachable
    [note] = check_plannable(scn)
    assert "no lab within policy.max_travel_hours = 4 h in travel.csv" in note
    if listed:
        assert (u["nearest_lab"], u["hours"]) == ("hosp", 6.5)
        assert note.endswith(
            "at about 6.50 h: raise max_travel_hours to 6.50 h or more to test them there"
        )
    else:
        lab, hours = nearest_by_coordinates(scn, "c")
        assert (u["nearest_lab"], u["hours"]) == (lab, pytest.approx(hours))
        name = scn.lab_by_id[lab].name
        assert (
            f"the nearest lab is '{lab}' ({name}) at about {hours:.2f} h: add a travel.csv row"
            in note
        )
    rep = plan_scenario(scn)
    assert rep.check is not None and rep.check.ok, rep.check.violations[:5]
    assert rep.status[rep.status["district"] == "c"]["tested"].sum() == 0


def test_no_stage_advice_where_samples_cannot_reach_a_lab(tmp_path):
    """Samples of a unit beyond every lab wait while the labs have room: one more PCR round
    would save reactions nobody is short of, so the report does not offer it."""
    folder = copy_tiny(tmp_path)
    add_far_unit(folder)
    rep = plan_scenario(load_scenario(folder))
    items = [i for i in rep.shortfall if i["kind"] in ("stream", "target") and i.get("causes")]
    assert items  # the far unit's samples wait
    for item in items:
        names = [c["cause"] for c in item["causes"]]
        if "capacity" not in names and "reagent" not in names:
            assert "stage" not in names, item
