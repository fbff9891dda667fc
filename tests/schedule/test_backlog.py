"""Samples waiting at the start of day 1 (the scenario's backlog, by age): the plan starts from
them, their wait limit counts from their collection, and every one is accounted for."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest

from labopt.scenario import ScenarioError, load_scenario
from labopt.scenario.io import save_folder, save_xlsx, scenario_from_data, scenario_to_data
from labopt.schedule import check_plan, plan_scenario
from tests.schedule.test_coordinator_rules import one_lab


def with_backlog(scn, *rows):
    """rows: (district, stream, age_days, samples)."""
    df = pd.DataFrame(rows, columns=["district", "stream", "age_days", "samples"])
    return replace(scn, backlog=df.astype({"age_days": "int64", "samples": "int64"}))


def day_row(rep, stream: str, day: int, district: str = "a") -> pd.Series:
    st = rep.status
    return st[(st["stream"] == stream) & (st["day"] == day) & (st["district"] == district)].iloc[0]


def test_a_backlog_at_its_wait_limit_is_tested_first_or_untested_on_day_one(tmp_path):
    """368 reactions a day; 400 contacts (wait 1 day) collected the day before still waiting
    and 300 new ones: the 400 are tested first, 32 of them spoil on day 1 (their limit), and
    the 300 of day 1 wait for day 2; none of day 1's is called untested."""
    scn = load_scenario(one_lab(tmp_path / "s", days=3, urgent=300, screening=0))
    rep = plan_scenario(with_backlog(scn, ("a", "f1", 1, 400)))
    assert rep.check.ok, rep.check.violations[:5]
    d1 = day_row(rep, "f1", 1)
    assert (d1.waiting_before, d1.demand, d1.tested, d1.waiting, d1.untested) == (
        400,
        300,
        368,
        300,
        32,
    )
    assert d1.tested_within_turnaround == 0  # every sample tested on day 1 waited a day
    assert rep.to_dict()["totals"]["f1"]["waiting_at_start"] == 400


def test_a_young_backlog_waits_until_its_own_limit(tmp_path):
    """Screening samples wait 2 days: 9,000 collected the day before day 1 that the lab cannot
    all test on day 1 may wait to day 2 and spoil only then, never on day 1."""
    scn = load_scenario(one_lab(tmp_path / "s", days=3, urgent=0, screening=10))
    rep = plan_scenario(with_backlog(scn, ("a", "screen", 1, 9_000)))
    assert rep.check.ok, rep.check.violations[:5]
    d1, d2 = day_row(rep, "screen", 1), day_row(rep, "screen", 2)
    assert d1.untested == 0 and d1.waiting > 0
    assert d2.untested > 0
    # what is left of the backlog on day 2 is tested or spoils: only days 1-2's samples wait
    assert d2.waiting <= 20


def test_the_check_catches_a_backlog_called_untested_before_its_limit(tmp_path):
    scn = load_scenario(one_lab(tmp_path / "s", days=3, urgent=0, screening=10))
    scn = with_backlog(scn, ("a", "screen", 1, 9_000))
    rep = plan_scenario(scn)
    st = rep.status.copy()
    first = (st["day"] == 1) & (st["stream"] == "screen")
    st.loc[first, "untested"] += 5
    st.loc[first, "waiting"] -= 5
    bad = check_plan(scn, rep.allocations, st)
    assert any("only 0 have reached the stream's wait limit" in v for v in bad.violations)
    # and one that forgets the backlog
    st = rep.status.copy()
    st.loc[first, "waiting"] -= 100
    bad = check_plan(scn, rep.allocations, st)
    assert any("!= available" in v for v in bad.violations)


@pytest.mark.parametrize("method", ["network", "lp", "greedy"])
def test_every_solver_starts_from_the_backlog(tmp_path, method):
    """The min-cost flow, the LP and the greedy rule alike; network and LP at the same
    whole-sample plan (their relaxations differ by the flow's whole flow units per sample,
    about 1e-5 here, with or without a backlog)."""
    scn = load_scenario(one_lab(tmp_path / "s", days=4, urgent=300, screening=2_000))
    scn = scn.with_settings(plan={"retest_reserve_sd": 0.0})
    scn = with_backlog(scn, ("a", "f1", 1, 120), ("a", "screen", 1, 3_000), ("a", "screen", 2, 700))
    rep = plan_scenario(scn, method=method)
    assert rep.plan.method == method
    assert rep.check.ok, rep.check.violations[:5]
    st = rep.status
    came = st.groupby("stream")["demand"].sum() + pd.Series({"f1": 120, "screen": 3_700})
    done = st.groupby("stream")[["tested", "untested"]].sum().sum(axis=1)
    left = st[st["day"] == 4].groupby("stream")["waiting"].sum()
    assert (done + left == came).all()
    if method != "greedy":
        other = plan_scenario(scn, method="lp" if method == "network" else "network")
        assert rep.plan.objective == pytest.approx(other.plan.objective, rel=1e-9)
        assert rep.plan.lp_objective == pytest.approx(other.plan.lp_objective, rel=2e-5)


def test_the_tail_of_a_plan_is_a_plan_from_its_carried_state(tmp_path):
    """Days 2..4 of a plan, as they stand, pass the independent check of the scenario that
    starts on day 2 with what was waiting at the end of day 1 (age 1), the reagent left and
    the demand and deliveries of days 2..4; and planning that scenario afresh tests at least
    as many urgent samples within its first day."""
    scn = load_scenario(
        one_lab(tmp_path / "s", days=4, urgent=420, screening=2_500, deliveries=((3, 900),))
    )
    rep = plan_scenario(scn)
    assert rep.check.ok
    end1 = rep.status[rep.status["day"] == 1]
    waiting = end1[end1["waiting"] > 0]
    backlog = [(r.district, r.stream, 1, int(r.waiting)) for r in waiting.itertuples()]
    left = rep.labs[rep.labs["day"] == 1].set_index("lab")["reagent_left"]
    labs = [lab.model_copy(update={"reagent_stock": math.ceil(left[lab.id])}) for lab in scn.labs]
    later = replace(
        scn,
        settings=scn.settings.model_copy(
            update={
                "province": scn.province.model_copy(
                    update={
                        "start_date": scn.date_of(2),
                        "days": scn.province.days - 1,
                    }
                )
            }
        ),
        labs=labs,
        demand=scn.demand[scn.demand["day"] > 1].assign(day=lambda d: d["day"] - 1),
        deliveries=scn.deliveries[scn.deliveries["day"] > 1].assign(day=lambda d: d["day"] - 1),
    )
    later = with_backlog(later, *backlog)
    tail_alloc = rep.allocations[rep.allocations["day"] > 1].assign(day=lambda d: d["day"] - 1)
    tail_status = rep.status[rep.status["day"] > 1].assign(day=lambda d: d["day"] - 1)
    tail = check_plan(later, tail_alloc, tail_status)
    assert tail.ok, tail.violations[:5]
    fresh = plan_scenario(later)
    assert fresh.check.ok
    urgent = fresh.status[(fresh.status["stream"] == "f1") & (fresh.status["day"] == 1)]
    assert int(urgent["tested"].sum()) >= int(
        tail_status.query("stream == 'f1' and day == 1")["tested"].sum()
    )


def write_backlog(folder, text: str):
    (folder / "backlog.csv").write_text(text, encoding="utf-8")


def test_a_bad_backlog_is_refused_naming_each_row(tmp_path):
    folder = one_lab(tmp_path / "s", days=3)
    write_backlog(
        folder,
        "district,stream,age_days,samples\n"
        "a,f1,2,10\n"  # contacts wait 1 day at most
        "a,screen,3,10\n"  # screening 2 days
        "zz,screen,1,10\n"
        "a,flu,1,10\n"
        "a,screen,0,10\n"
        "a,screen,1,-4\n"
        "a,screen,2,5\n"
        "a,screen,2,6\n",
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(folder)
    text = str(err.value)
    assert "backlog.csv" in text
    for needle in (
        "row 2",
        "waits at most 1 days",
        "row 3",
        "waits at most 2 days",
        "'zz'",
        "'flu'",
        "row 6",
        "row 7",
        "row 9",
    ):
        assert needle in text, needle


def test_a_backlog_round_trips_through_folder_workbook_and_json(tmp_path):
    scn = load_scenario(one_lab(tmp_path / "s", days=3))
    scn = with_backlog(scn, ("a", "f1", 1, 12), ("a", "screen", 2, 340))
    assert load_scenario(save_folder(scn, tmp_path / "f")).equals(scn)
    assert load_scenario(save_xlsx(scn, tmp_path / "w.xlsx")).equals(scn)
    assert scenario_from_data(scenario_to_data(scn)).equals(scn)
    plain = load_scenario(one_lab(tmp_path / "p", days=3))
    assert not (save_folder(plain, tmp_path / "g") / "backlog.csv").exists()


def test_a_unit_with_only_a_backlog_and_no_lab_in_reach_is_named(tmp_path):
    folder = one_lab(tmp_path / "s", days=2, urgent=0, screening=0)
    districts = folder / "districts.csv"
    districts.write_text(
        districts.read_text(encoding="utf-8")
        + "far,Far,district,mountainous,1000,22.80,104.00,2\n",
        encoding="utf-8",
    )
    (folder / "prevalence.csv").write_text(
        "district,stream,prevalence\na,f1,0.05\na,screen,0.01\nfar,f1,0.05\nfar,screen,0.01\n",
        encoding="utf-8",
    )
    write_backlog(folder, "district,stream,age_days,samples\nfar,f1,1,7\n")
    rep = plan_scenario(load_scenario(folder))
    assert rep.check.ok
    assert any("far" in n and "7" in n for n in rep.plan.notes)
    assert day_row(rep, "f1", 1, "far").untested == 7


def test_vietnamese_tables_name_the_waiting_before_column(tmp_path):
    from labopt.schedule.output import sheets, tables

    scn = load_scenario(one_lab(tmp_path / "s", days=2, urgent=300, screening=0))
    rep = plan_scenario(with_backlog(scn, ("a", "f1", 1, 40)))
    assert "waiting_before" in tables(rep, "vi")["status"].columns  # data: the English key
    assert "Chờ từ ngày trước" in sheets(rep, tables(rep, "vi"), "vi")["status"].columns


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("a", "f1", 0, 5), "1 to 1 days old"),
        (("a", "screen", 9, 5), "1 to 2 days old"),
        (("zz", "f1", 1, 5), "unknown unit or stream"),
        (("a", "flu", 1, 5), "unknown unit or stream"),
        (("a", "f1", 1, -5), "whole number"),
    ],
)
def test_a_backlog_set_in_code_is_checked_before_planning(tmp_path, row, message):
    from labopt.errors import InputError

    scn = load_scenario(one_lab(tmp_path / "s", days=2))
    with pytest.raises(InputError, match=message):
        plan_scenario(with_backlog(scn, row))


# ---------------------------------------------------------------- labs out of service
def test_a_lab_out_of_service_on_a_day_runs_nothing_then(tmp_path):
    """lab_days: the lab has none of its capacity on day 2 and half on day 3; the check
    holds a plan to the same (and refuses the plan made without it)."""
    folder = one_lab(tmp_path / "s", days=3, urgent=300, screening=1_000)
    (folder / "lab_days.csv").write_text(
        "lab,day,available\nlab,2,0\nlab,3,50%\n", encoding="utf-8"
    )
    scn = load_scenario(folder)
    rep = plan_scenario(scn)
    assert rep.check.ok, rep.check.violations[:3]
    labs = rep.labs.set_index("day")
    assert labs.loc[2, "reactions"] == 0
    assert labs.loc[3, "reactions"] <= 0.5 * labs.loc[1, "capacity_without_reagent"] + 1e-6
    full = plan_scenario(replace(scn, lab_days=scn.lab_days.iloc[0:0]))
    bad = check_plan(scn, full.allocations, full.status)
    assert any("lab day 2" in v and "capacity 0" in v for v in bad.violations)


def test_bad_lab_days_are_refused_naming_each_row(tmp_path):
    folder = one_lab(tmp_path / "s", days=3)
    (folder / "lab_days.csv").write_text(
        "lab,day,available\nlab,4,0\nnolab,1,0\nlab,2,1.5\nlab,1,0\nlab,1,1\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(folder)
    text = str(err.value)
    for needle in ("lab_days.csv", "after the horizon", "'nolab'", "row 4", "duplicate"):
        assert needle in text, needle


def test_lab_days_round_trip(tmp_path):
    folder = one_lab(tmp_path / "s", days=3)
    (folder / "lab_days.csv").write_text("lab,day,available\nlab,2,0.25\n", encoding="utf-8")
    scn = load_scenario(folder)
    assert load_scenario(save_folder(scn, tmp_path / "f")).equals(scn)
    assert load_scenario(save_xlsx(scn, tmp_path / "w.xlsx")).equals(scn)
    assert scenario_from_data(scenario_to_data(scn)).equals(scn)


def test_the_capacity_report_holds_a_lab_to_its_share_of_the_day(tmp_path):
    from labopt.capacity import capacity_report

    folder = one_lab(tmp_path / "s", days=3)
    (folder / "lab_days.csv").write_text("lab,day,available\nlab,2,0.5\nlab,3,0\n", "utf-8")
    scn = load_scenario(folder)
    full, half, out = (capacity_report(scn, day, expand=False) for day in (1, 2, 3))
    r1, r2, r3 = (rep.labs[0] for rep in (full, half, out))
    assert (r2.pcr, r2.extraction, r2.staff) == (r1.pcr // 2, r1.extraction // 2, r1.staff // 2)
    assert r3.reactions == 0
    assert any("50% of its capacity on day 2" in n for n in half.notes)
    assert not any("lab_days" in n for n in full.notes)
