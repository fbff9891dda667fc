"""The plan report tells the truth: the binding cause of waiting samples (reagent, not
capacity, when the labs have run dry), usable capacity, standby labs on the days they test,
reagent run-outs with the next delivery, marginal advice only where the capacity dual says
it helps, and the same in Vietnamese."""

import dataclasses
import json
import math
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labopt.examples import EXAMPLES
from labopt.scenario import load_scenario
from labopt.schedule import build_report, plan_scenario
from labopt.schedule.labels import COLUMNS, TEMPLATES, VALUES, WORDS, column
from labopt.schedule.output import sheets, tables
from labopt.schedule.report import dual_threshold
from tests.cli.helpers import run
from tests.scenario_files import copy_tiny, edit


def thanh_hoa_without_supply(folder: Path) -> Path:
    """Thanh Hóa's week without its (assumed) store and routes: the labs have only their own
    reagent and deliveries, and run short, as the report must say."""
    shutil.copytree(EXAMPLES / "thanh_hoa", folder)
    for name in ("stores.csv", "store_arrivals.csv", "supply_routes.csv"):
        (folder / name).unlink(missing_ok=True)
    return folder


@pytest.fixture(scope="module")
def thanh_hoa_folder(tmp_path_factory):
    return thanh_hoa_without_supply(tmp_path_factory.mktemp("report") / "th")


@pytest.fixture(scope="module")
def thanh_hoa(thanh_hoa_folder):
    return plan_scenario(load_scenario(thanh_hoa_folder))


def standby_once(tmp_path: Path) -> Path:
    """The tiny scenario with its standby lab 'priv' moved into unit a (so it costs more than
    the unit's own labs) and a surge of urgent samples on day 2 only."""
    folder = copy_tiny(tmp_path)
    edit(folder / "labs.csv", "non_public,b,20.10,105.30", "non_public,a,19.82,105.79")
    edit(folder / "labs.csv", ",2,6,400,5,150", ",2,6,3000,5,150")  # hosp: reagent to spare
    edit(folder / "demand.csv", "1,a,screening,3000,", "1,a,screening,1000,")
    edit(folder / "demand.csv", "2,a,reactive,600,", "2,a,reactive,1500,")
    edit(folder / "demand.csv", "3,a,screening,4000,", "3,a,screening,1000,")
    return folder


def late_delivery(tmp_path: Path) -> Path:
    """The tiny scenario where the hospital's 100 reactions run out on day 1 of a surge and
    its next delivery comes on day 3."""
    folder = copy_tiny(tmp_path)
    edit(folder / "deliveries.csv", "hosp,2,500", "hosp,3,500")
    edit(folder / "labs.csv", ",2,6,400,5,150", ",2,6,100,5,150")
    edit(folder / "demand.csv", "1,a,screening,3000,", "1,a,screening,12000,")
    return folder


# ---------------------------------------------------------------- the binding cause
def day_item(rep, day: int) -> dict:
    """The report's item on the pooled target of a day."""
    return next(
        i
        for i in rep.shortfall
        if i["kind"] == "target" and i["day"] == day and i["stream_kind"] == "pooled"
    )


def test_thanh_hoa_day_7_names_reagent_with_the_labs_out(thanh_hoa, thanh_hoa_folder):
    rep = thanh_hoa
    day7 = rep.labs[rep.labs["day"] == 7]
    dry = set(day7[day7["reagent_left"] < 1]["lab"])
    assert len(dry) >= len(day7) // 2  # most labs have run dry: the case at stake
    item = day_item(rep, 7)
    reagent = next(c for c in item["causes"] if c["cause"] == "reagent")
    assert reagent["labs_in_reach"] == len(day7)  # every lab is within reach of a unit
    assert set(reagent["labs"]) == dry and reagent["labs_out"] == len(dry)
    # their idle capacity: at most what their machines and staff left unused
    idle = day7[day7["lab"].isin(dry)]
    most = (idle["capacity_without_reagent"] - idle["reactions"] - idle["reserve"]).clip(lower=0)
    assert 0 < reagent["reactions"] <= most.sum() + 1
    # the reagent left in the province, as the labs table has it
    assert reagent["province_left"] == pytest.approx(
        day7["reagent_left"].clip(lower=0).sum(), abs=1
    )
    # labs idle for lack of reagent come first; the others follow, all named
    assert item["cause"] == "reagent"
    assert {c["cause"] for c in item["causes"]} >= {"reagent", "capacity"}
    text = rep.shortfall_texts("en")[rep.shortfall.index(item)]
    assert f"reagent: out at {len(dry)} of {len(day7)} labs within reach" in text
    assert f"{len(dry)}/{len(day7)}" in rep.shortfall_texts("vi")[rep.shortfall.index(item)]
    assert rep.days.set_index("day").loc[7, "cause"] == item["cause"]
    # reagent run-outs come first, and the terminal says "reagent"
    assert rep.shortfall[0]["kind"] == "reagent_day"
    assert rep.to_dict()["reagent"][0]["text"] == rep.shortfall_texts()[0]
    r = run("plan", thanh_hoa_folder)
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())  # the terminal wraps long lines anywhere
    assert "labs run out of reagent" in said and f"reagent: out at {len(dry)} of" in said


def test_without_deliveries_reagent_is_the_cause_of_the_last_day(tmp_path):
    """Thanh Hóa's week without its deliveries: the labs run dry and day 7 says so, not
    "capacity" (the report used to count every lab's capacity whatever its reagent)."""
    folder = thanh_hoa_without_supply(tmp_path / "th")
    (folder / "deliveries.csv").write_text("lab,day,reactions\n", encoding="utf-8")
    rep = plan_scenario(load_scenario(folder))
    day7 = rep.labs[rep.labs["day"] == 7]
    dry = int((day7["reagent_left"] < 1).sum())
    assert dry >= len(day7) - 2
    item = day_item(rep, 7)
    assert item["cause"] == "reagent" and item["causes"][0]["labs_out"] == dry
    text = rep.shortfall_texts("en")[rep.shortfall.index(item)]
    assert f"Cause: reagent: out at {dry} of" in text and "capacity is short" not in text
    assert "Nguyên nhân: sinh phẩm" in rep.shortfall_texts("vi")[rep.shortfall.index(item)]
    assert rep.days.set_index("day").loc[7, "cause"] == "reagent"
    # the usable capacity of day 7 is what the reagent left allows, far below the machines'
    assert (
        rep.days.set_index("day").loc[7, "reactions_capacity"]
        < 0.5 * day7["capacity_without_reagent"].sum()
    )


def test_a_day_short_of_capacity_names_capacity_and_its_limits(thanh_hoa):
    """Day 3: every lab within reach is full and none has run dry: capacity, PCR first."""
    rep = thanh_hoa
    day3 = rep.labs[rep.labs["day"] == 3]
    assert (day3["reagent_left"] >= 1).all()
    item = next(i for i in rep.shortfall if i["day"] == 3 and i["kind"] in ("target", "stream"))
    assert item["cause"] == "capacity"
    first = item["causes"][0]
    full = day3[day3["limit"].isin(["pcr", "extraction", "staff"])]
    assert first["labs_full"] == len(full)
    assert first["by_limit"] == full["limit"].value_counts().to_dict()


def test_reagent_headline_adds_up_the_labs_that_run_out_that_day(thanh_hoa):
    rep = thanh_hoa
    labs = rep.labs
    first_dry = labs[labs["reagent_left"] < 1].groupby("lab")["day"].min()
    per_lab = [i for i in rep.shortfall if i["kind"] == "reagent"]
    for head in (i for i in rep.shortfall if i["kind"] == "reagent_day"):
        group = [i for i in per_lab if i["day"] == head["day"]]
        assert head["labs_out"] == len(group) == int((first_dry == head["day"]).sum())
        assert head["reactions_short"] == pytest.approx(
            sum(i["reactions_short"] for i in group), abs=0.2
        )
        assert head["largest"]["reactions_short"] == max(i["reactions_short"] for i in group)
    # a lab's shortfall is at most its idle capacity on the days it is out
    for item in per_lab:
        g = labs[(labs["lab"] == item["lab"]) & (labs["day"] >= item["day"])]
        idle = (g["capacity_without_reagent"] - g["reactions"] - g["reserve"]).clip(lower=0)
        assert item["reactions_short"] <= idle.sum() + 0.5


# ---------------------------------------------------------------- capacity and reagent columns
def lab_capacity(row: pd.Series, policy: dict) -> int:
    """min(PCR, extraction, staff) of a labs.csv row, from the formulas of docs/guide/scenarios."""
    hours = min(24.0, row["shifts_per_day"] * policy.get("shift_hours", 8.0))
    pcr = (
        row["pcr_machines"]
        * math.floor(hours / row["run_hours"] + 1e-9)
        * (row["wells_per_run"] - row["control_wells_per_run"])
    )
    extraction = (
        row["extraction_machines"]
        * math.floor(hours / row["extraction_run_hours"] + 1e-9)
        * row["extraction_samples_per_run"]
    )
    per_shift = row["reactions_per_staff_shift"]
    if pd.isna(per_shift):
        per_shift = policy.get("reactions_per_staff_shift", 250)
    staff = row["staff_per_shift"] * row["shifts_per_day"] * per_shift
    return int(min(pcr, extraction, staff))


@pytest.mark.parametrize("where", ["thanh_hoa", "standby_once", "late_delivery"])
def test_capacity_column_is_what_switched_on_labs_can_run_with_their_reagent(where, tmp_path):
    folder = {
        "thanh_hoa": lambda: thanh_hoa_without_supply(tmp_path / "th"),
        "standby_once": lambda: standby_once(tmp_path),
        "late_delivery": lambda: late_delivery(tmp_path),
    }[where]()
    rep = plan_scenario(load_scenario(folder))
    policy = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))["policy"]
    labs_csv = pd.read_csv(folder / "labs.csv")
    deliveries = pd.read_csv(folder / "deliveries.csv")
    T = int(rep.days["day"].max())
    a = rep.allocations
    # reagent is spent at the expected reactions of the samples tested (the allocations')
    spent = a.groupby(["lab", "day"])["reactions"].sum()
    expected_cap, expected_left = np.zeros(T), np.zeros(T)
    for _, lab in labs_csv.iterrows():
        cap = lab_capacity(lab, policy)
        got = deliveries[deliveries["lab"] == lab["id"]]
        used = np.array([spent.get((lab["id"], t), 0.0) for t in range(1, T + 1)])
        for t in range(1, T + 1):
            received = lab["reagent_stock"] + got[got["day"] <= t]["reactions"].sum()
            on_hand = received - used[: t - 1].sum()
            tests = ((a["lab"] == lab["id"]) & (a["day"] == t) & (a["samples"] > 0)).any()
            if lab["status"] == "active" or tests:
                expected_cap[t - 1] += min(cap, max(on_hand, 0.0))
            expected_left[t - 1] += max(received - used[:t].sum(), 0.0)
    tol = 1 + 0.01 * T * len(labs_csv)  # the allocations' reactions are rounded to 0.01
    assert rep.days["reactions_capacity"].to_numpy() == pytest.approx(expected_cap, abs=tol)
    assert rep.days["reagent_left"].to_numpy() == pytest.approx(expected_left, abs=tol)
    # the labs table's capacity adds up to the days'
    by_day = rep.labs.groupby("day")["capacity"].sum().to_numpy()
    assert by_day == pytest.approx(rep.days["reactions_capacity"].to_numpy(), abs=1)
    d = rep.to_dict()["days"]
    assert [x["reactions_capacity"] for x in d] == rep.days["reactions_capacity"].tolist()
    assert [x["reagent_left"] for x in d] == pytest.approx(rep.days["reagent_left"].tolist())


# ---------------------------------------------------------------- standby labs
def test_standby_lab_needed_on_one_day_is_switched_on_that_day_only(tmp_path):
    rep = plan_scenario(load_scenario(standby_once(tmp_path)))
    a = rep.allocations
    tests_on = sorted(int(d) for d in a[(a["lab"] == "priv") & (a["samples"] > 0)]["day"].unique())
    all_days = rep.days["day"].tolist()
    assert tests_on and tests_on != all_days  # a lab switched on for part of the horizon
    priv = rep.labs[rep.labs["lab"] == "priv"].set_index("day")
    assert priv.index[priv["switched_on"]].tolist() == tests_on
    assert set(priv.loc[~priv["switched_on"], "limit"]) == {"off"}
    assert (priv.loc[~priv["switched_on"], "capacity"] == 0).all()
    item = next(i for i in rep.shortfall if i["kind"] == "standby" and i["lab"] == "priv")
    assert item["days"] == tests_on
    assert sum(item["samples_by_day"].values()) == item["samples"]
    assert rep.to_dict()["standby_days"] == {"priv": tests_on}
    en, vi = (rep.shortfall_texts(lang)[rep.shortfall.index(item)] for lang in ("en", "vi"))
    if len(tests_on) == 1:
        assert f"on day {tests_on[0]}:" in en and f"vào ngày {tests_on[0]}:" in vi
    for day in set(all_days) - set(tests_on):
        assert not re.search(rf"\b{day}\b", en.split(":")[0].split(" on ")[-1])
    # active labs are never "switched on": they need no switching
    assert not rep.labs[rep.labs["status"] == "active"]["switched_on"].any()


# ---------------------------------------------------------------- deliveries
def test_run_out_text_names_the_scheduled_delivery(tmp_path):
    scn = load_scenario(late_delivery(tmp_path))
    rep = plan_scenario(scn)
    hosp = [i for i in rep.shortfall if i["kind"] == "reagent" and i["lab"] == "hosp"]
    first = hosp[0]
    assert first["day"] == 1 and first["out_until"] == 3
    assert first["next_delivery"] == {"day": 3, "reactions": 500.0}
    assert first["reactions_short"] > 0
    i = rep.shortfall.index(first)
    en, vi = rep.shortfall_texts("en")[i], rep.shortfall_texts("vi")[i]
    assert "runs out on day 1" in en and "until the delivery of day 3 (500 reactions)" in en
    assert "unless a delivery arrives" not in en
    assert "đợt cấp ngày 3 (500 phản ứng)" in vi
    # no reagent and no capacity at the hospital on day 2, its capacity back on day 3
    h = rep.labs[rep.labs["lab"] == "hosp"].set_index("day")
    assert h.loc[2, "capacity"] == 0 and h.loc[3, "capacity"] > 0
    # planned for two days, the same delivery comes after the plan's last day
    short = plan_scenario(scn, days=2)
    item = next(i for i in short.shortfall if i["kind"] == "reagent" and i["lab"] == "hosp")
    assert item["out_until"] is None and item["next_delivery"]["day"] == 3
    text = short.shortfall_texts()[short.shortfall.index(item)]
    assert "next delivery: day 3 (500 reactions), after the plan's last day" in text


# ---------------------------------------------------------------- marginal value
def test_no_marginal_value_line_for_a_lab_day_whose_capacity_dual_is_zero(thanh_hoa):
    plan = thanh_hoa.plan
    assert plan.capacity_dual is not None
    threshold = dual_threshold(plan)
    lines = [i for i in thanh_hoa.shortfall if i["kind"] == "bottleneck"]
    assert lines and all(i["lp_dual"] >= threshold for i in lines)
    # a lab-day the report advises on, with its dual set to (almost) zero, is left out
    lab, day = lines[0]["lab"], lines[0]["day"]
    li = plan.input.lab_ids.index(lab)
    dual = plan.capacity_dual.copy()
    dual[li, day - 1] = -1e-5
    rep = build_report(dataclasses.replace(plan, capacity_dual=dual))
    advised = {(i["lab"], i["day"]) for i in rep.shortfall if i["kind"] == "bottleneck"}
    assert (lab, day) not in advised
    # and a lab-day full of capacity but out of reagent never gets advice, whatever its dual
    labs = thanh_hoa.labs
    dry_full = labs[(labs["reagent_left"] < 1) & labs["limit"].str.contains(r"\+")]
    if len(dry_full):
        r = dry_full.iloc[0]
        dual = plan.capacity_dual.copy()
        dual[plan.input.lab_ids.index(r["lab"]), int(r["day"]) - 1] = -100.0
        rep = build_report(dataclasses.replace(plan, capacity_dual=dual))
        advised = {(i["lab"], i["day"]) for i in rep.shortfall if i["kind"] == "bottleneck"}
        assert (r["lab"], int(r["day"])) not in advised


# ---------------------------------------------------------------- Vietnamese
def vocabulary(texts) -> set[str]:
    words: set[str] = set()
    for text in texts:
        words |= set(re.findall(r"[^\W\d_]{3,}", re.sub(r"\{[^}]*\}", " ", text).lower()))
    return words


def test_vietnamese_texts_have_no_english_for_the_new_items(thanh_hoa, tmp_path):
    english = vocabulary([*TEMPLATES["en"].values(), *VALUES["en"].values()]) - vocabulary(
        [*TEMPLATES["vi"].values(), *VALUES["vi"].values()]
    )
    assert {"reagent", "delivery", "capacity", "switch"} <= english
    reports = [thanh_hoa, plan_scenario(load_scenario(late_delivery(tmp_path)))]
    reports.append(plan_scenario(load_scenario(standby_once(tmp_path / "s"))))
    kinds = set()
    for rep in reports:
        scn = rep.plan.scenario
        data = [lab.name for lab in scn.labs] + [lab.id for lab in scn.labs]
        data += [s.name for s in scn.streams] + [s.id for s in scn.streams]
        data += [d.name for d in scn.districts]
        for item, en, vi in zip(
            rep.shortfall, rep.shortfall_texts("en"), rep.shortfall_texts("vi"), strict=True
        ):
            if item["kind"] == "bottleneck":
                continue
            kinds.add(item["kind"])
            for name in sorted(data, key=len, reverse=True):
                en, vi = en.replace(name, " "), vi.replace(name, " ")
            assert vocabulary([en]) & english, en  # the check can find English
            assert not vocabulary([vi]) & english, vi
        days = sheets(rep, tables(rep, "vi"), "vi")["days"]
        assert set(days[column("cause", "vi")]) <= {"", *VALUES["vi"].values()}
    assert {"reagent_day", "reagent", "target", "stream", "standby"} <= kinds


def test_both_languages_are_complete(thanh_hoa):
    assert set(TEMPLATES["en"]) == set(TEMPLATES["vi"])
    assert set(VALUES["en"]) == set(VALUES["vi"])
    assert set(WORDS["en"]) == set(WORDS["vi"])
    for name, df in tables(thanh_hoa, "en").items():
        for c in df.columns:
            assert column(c, "vi") != c, f"{name}: column {c} has no Vietnamese label"
    assert set(COLUMNS["vi"].values()) >= {column("reagent_left", "vi"), column("cause", "vi")}
    limits = set(thanh_hoa.labs["limit"]) - {""}
    assert {p for v in limits for p in v.split("+")} <= set(VALUES["vi"])


def test_summary_json_keeps_its_keys_and_adds_the_new_ones(thanh_hoa):
    out = json.loads(json.dumps(thanh_hoa.to_dict("vi")))
    assert {"days", "shortfall", "totals", "meets_targets", "reagent", "standby_days"} <= set(out)
    day = out["days"][-1]
    assert {"reactions_used", "reactions_capacity", "reagent_left", "cause", "backlog"} <= set(day)
    assert day["cause"] == thanh_hoa.days["cause"].iloc[-1]
    assert all(i["kind"] == "reagent_day" and "hết sinh phẩm" in i["text"] for i in out["reagent"])
    kinds = {i["kind"] for i in out["shortfall"]}
    assert {"target", "standby", "reagent", "reagent_day"} <= kinds
