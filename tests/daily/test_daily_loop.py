"""The daily loop: a workspace of dated records, the state carried to any date, each morning's
plan and sheets, the history of plans against actuals; from the library and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from labopt.capacity.lab import non_reagent_capacity
from labopt.cli.main import app
from labopt.daily.morning import plan_morning
from labopt.daily.records import RecordError
from labopt.daily.state import FORECAST_DAYS, adds_up, carry_to, day_scenario
from labopt.daily.workspace import Workspace, create
from labopt.errors import InputError
from labopt.scenario import load_scenario
from labopt.scenario.schema import KITS, STORE_ARRIVALS, STORES, SUPPLY_ROUTES
from labopt.schedule.pipeline import plan_scenario

TINY = Path(__file__).parents[1] / "data" / "tiny"
EXAMPLES = Path(__file__).parents[2] / "labopt" / "examples"
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def without_supply(scn):
    return replace(
        scn,
        stores=STORES.empty_frame(),
        store_arrivals=STORE_ARRIVALS.empty_frame(),
        supply_routes=SUPPLY_ROUTES.empty_frame(),
        kits=KITS.empty_frame(),
    )


def actuals(rep, rng, share_low=0.8, down=()):
    """Day 1 of a plan as the labs did it: each lab a random 80-100 % of each allocation
    (whole samples, ``down`` labs none) and the reactions that takes (whole reactions)."""
    a = rep.allocations[(rep.allocations["day"] == 1) & (rep.allocations["samples"] > 0)]
    share = {lab: (0.0 if lab in down else rng.uniform(share_low, 1.0)) for lab in a["lab"]}
    s = a["lab"].map(share).to_numpy(dtype=float)
    tested = a.assign(samples=np.floor(a["samples"].to_numpy() * s).astype(int))
    used = a.assign(used=a["reactions"].to_numpy() * s).groupby("lab", as_index=False)["used"].sum()
    used["used"] = used["used"].apply(math.ceil)
    return tested[["lab", "district", "stream", "samples"]], used


def test_thirty_days_of_thanh_hoa(tmp_path):
    """Thanh Hóa's week, its store and supply routes included, run for 30 days: each morning
    planned from the records; the units collect what the plan expects (their records for the
    week, then the forecast) within +-10 %; each lab tests 80-100 % of its plan, one lab is down
    on days 10-11, a delivery comes two days late, and the store sends what the plan says.
    Every day: the plan passes the independent check, no sample is lost or counted twice, and
    each lab's and the store's reagent is what was delivered and received minus what was run
    and sent, exactly."""
    scn = load_scenario(EXAMPLES / "thanh_hoa")
    assert len(scn.supply_routes) and len(scn.stores)
    ws = create(tmp_path / "ws", scn)
    rng = np.random.default_rng(7)
    first = ws.first
    stock = {lab.id: lab.reagent_stock for lab in scn.labs}
    store = dict(zip(scn.stores["id"], scn.stores["reagent_stock"].astype(int), strict=True))
    lead = scn.supply_routes.set_index(["source", "target"])["lead_days"]
    arriving: dict[tuple[str, str], int] = {}  # (date, lab): reactions shipped to arrive then
    shipped_total = 0
    down_lab = scn.labs[0].id
    # a delivery of 2,000 to the second lab planned for day 12, arriving on day 14
    late_lab = scn.labs[1].id
    day12 = (first + dt.timedelta(days=11)).isoformat()
    ws.record(
        "deliveries",
        pd.DataFrame({"date": [day12], "lab": [late_lab], "reactions": ["2000"]}),
        "plan",
    )
    # reagent every 2 days, 2 days of each lab's capacity (an assumption of the simulation):
    # to the first ten labs directly, for the others to the store, which the plan ships on
    direct, via_store = scn.labs[:10], scn.labs[10:]
    rows = [
        {
            "date": (first + dt.timedelta(days=d)).isoformat(),
            "lab": lab.id,
            "reactions": str(int(2 * non_reagent_capacity(lab, scn.policy))),
        }
        for d in range(2, 30, 2)
        for lab in direct
        if not (lab.id == late_lab and d == 11)
    ]
    ws.record("deliveries", pd.DataFrame(rows), "supply")
    to_store = sum(int(2 * non_reagent_capacity(lab, scn.policy)) for lab in via_store)
    (store_id,) = store
    rows = [
        {
            "date": (first + dt.timedelta(days=d)).isoformat(),
            "store": store_id,
            "reactions": to_store,
        }
        for d in range(2, 30, 2)
    ]
    ws.record("store_arrivals", pd.DataFrame(rows).astype(str), "national")
    came = int(scn.backlog["samples"].sum())
    done = spoiled = 0
    table = []
    for i in range(30):
        date = first + dt.timedelta(days=i)
        if i == 11:  # the morning of day 12: the delivery has not come, it is due on day 14
            day14 = (date + dt.timedelta(days=2)).isoformat()
            ws.record(
                "deliveries",
                pd.DataFrame({"date": [day12], "lab": [late_lab], "reactions": ["0"]}),
                "fix",
            )
            ws.record(
                "deliveries",
                pd.DataFrame({"date": [day14], "lab": [late_lab], "reactions": ["2000"]}),
                "late",
            )
        m = plan_morning(ws, date, days=3, write=False)
        rep = m.report
        assert rep.check.ok, (date, rep.check.violations[:3])
        if i >= scn.province.days:  # after the week: the units record what they collect
            st = rep.status[rep.status["day"] == 1]
            got = np.maximum(np.rint(st["demand"] * rng.uniform(0.9, 1.1, len(st))), 0)
            ws.record(
                "collected",
                pd.DataFrame(
                    {
                        "district": st["district"],
                        "stream": st["stream"],
                        "samples": got.astype(int).astype(str),
                    }
                ),
                "units",
                date,
            )
            rep = plan_morning(ws, date, days=3, write=False).report
            assert rep.check.ok
        if i in (9, 10):  # the lab reports in the morning that it is out today
            ws.record(
                "availability", pd.DataFrame({"lab": [down_lab], "available": ["0"]}), "lab", date
            )
            rep = plan_morning(ws, date, days=3, write=False).report
            assert rep.check.ok
            day1 = rep.allocations[rep.allocations["day"] == 1]
            assert day1[day1["lab"] == down_lab]["samples"].sum() == 0
        tested, used = actuals(rep, rng, down=(down_lab,) if i in (9, 10) else ())
        if len(tested):  # a day with nothing planned (no reagent left anywhere) has no upload
            ws.record("tested", tested.astype(str), "labs", date)
            ws.record("reagent", used.astype(str), "labs", date)
        # the store and labs send what the morning's plan says to send today
        sent = rep.shipments[(rep.shipments["day"] == 1) & (rep.shipments["reactions"] > 0)]
        sent = sent[["source", "target", "reactions"]].astype({"reactions": "int64"})
        if len(sent):
            ws.record("shipments", sent.astype(str), "store", date)
        shipped_total += int(sent["reactions"].sum())
        for r in sent.itertuples(index=False):
            when = (date + dt.timedelta(days=int(lead[(r.source, r.target)]))).isoformat()
            arriving[(when, r.target)] = arriving.get((when, r.target), 0) + int(r.reactions)
        carried = carry_to(ws.province, ws.records(), date + dt.timedelta(days=1))
        acc = carried.accounts[-1][1]
        sm = acc.samples
        assert (
            sm["waiting_before"] + sm["collected"] == sm["tested"] + sm["untested"] + sm["waiting"]
        ).all()
        # the turnaround: those tested on their collection day, and the days the others waited
        later = sm["tested"] - sm["tested_same_day"]
        assert (sm["tested_same_day"] <= sm["collected"]).all()
        longest = sm["stream"].map({s.id: s.max_wait_days for s in scn.streams})
        assert (later <= sm["waited_days"]).all() and (sm["waited_days"] <= later * longest).all()
        came += int(sm["collected"].sum())
        done += int(sm["tested"].sum())
        spoiled += int(sm["untested"].sum())
        waiting = int(carried.scenario.backlog["samples"].sum())
        assert came == done + spoiled + waiting
        delivered = ws.records().on("deliveries", date).set_index("lab")["reactions"]
        run_ = used.set_index("lab")["used"]
        out = sent.groupby("source")["reactions"].sum()
        for lab in scn.labs:
            stock[lab.id] += (
                int(delivered.get(lab.id, 0))
                + arriving.get((date.isoformat(), lab.id), 0)
                - int(run_.get(lab.id, 0))
                - int(out.get(lab.id, 0))
            )
        came_in = ws.records().on("store_arrivals", date).set_index("store")["reactions"]
        for s_id in store:
            store[s_id] += int(came_in.get(s_id, 0)) - int(out.get(s_id, 0))
        assert {lab.id: lab.reagent_stock for lab in carried.scenario.labs} == stock
        held = carried.scenario.stores
        assert dict(zip(held["id"], held["reagent_stock"].astype(int), strict=True)) == store
        urgent = [s.id for s in scn.streams if not s.poolable]
        st1 = rep.status[(rep.status["day"] == 1) & rep.status["stream"].isin(urgent)]
        # looking ahead from the carried state never costs today's urgent samples: a fresh
        # plan of today alone from the same state tests no more of them within turnaround
        state = carry_to(ws.province, ws.records(), date)
        fresh = plan_scenario(day_scenario(state.scenario, ws.records(), date, 1)).status
        fresh = fresh[(fresh["day"] == 1) & fresh["stream"].isin(urgent)]
        within = int(st1["tested_within_turnaround"].sum())
        assert within >= int(fresh["tested_within_turnaround"].sum()), date
        table.append(
            {
                "date": date.isoformat(),
                "collected": int(sm["collected"].sum()),
                "tested": int(sm["tested"].sum()),
                "urgent_within_turnaround_planned": within,
                "urgent_within_turnaround_fresh": int(fresh["tested_within_turnaround"].sum()),
                "tested_same_day": int(sm["tested_same_day"].sum()),
                "mean_wait_days": round(sm["waited_days"].sum() / max(sm["tested"].sum(), 1), 2),
                "untested": int(sm["untested"].sum()),
                "waiting": int(sm["waiting"].sum()),
                "reagent": sum(stock.values()),
                "store": sum(store.values()),
                "shipped": int(sent["reactions"].sum()),
            }
        )
    days = pd.DataFrame(table)
    down = ws.records().tested
    down = down[(down["lab"] == down_lab) & down["date"].isin(days["date"].iloc[9:11])]
    assert int(down["samples"].sum()) == 0
    assert days["tested"].iloc[-10:].min() > 0  # the loop keeps testing to the end
    assert shipped_total > 0  # the store's reagent reached the labs through the loop
    print("\n" + days.to_string(index=False))


def test_the_cli_loop_on_the_fixture(tmp_path):
    ws = tmp_path / "ws"
    r = run("day", "init", ws, "--from", TINY)
    assert r.exit_code == 0, r.output
    assert "first date 2021-10-04" in r.output
    r = run("day", "plan", ws, "--date", "2021-10-04", "--days", "3", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["state"] == {
        "date": "2021-10-04",
        "waiting_at_start": 0,
        "forecast_unit_stream_days": 0,
        "province_version": 1,
    }
    assert data["plan"]["check"]["ok"]
    plan = ws / "plans" / "2021-10-04"
    for name in ("dispatch.xlsx", "dispatch.html", "planned.csv", "status.csv", "plan.xlsx"):
        assert (plan / name).is_file(), name
    planned = pd.read_csv(plan / "planned.csv")
    # the sheets: per lab what planned.csv says, and the standby lab told to switch on
    totals = pd.read_excel(plan / "dispatch.xlsx", sheet_name="lab_totals").set_index("lab")
    per_lab = planned.groupby("lab")[["samples", "reactions"]].sum()
    assert totals["samples"].to_dict() == per_lab["samples"].to_dict()
    assert totals["reactions"].to_numpy() == pytest.approx(per_lab["reactions"].to_numpy(), abs=0.1)
    page = (plan / "dispatch.html").read_text(encoding="utf-8")
    assert ("switch it on today" in page) == bool(totals["switched_on"].any())
    assert totals.loc["priv", "switched_on"]  # tiny's standby lab is needed on day 1
    # the labs test all but 100 of cdc's screening samples and run what the plan expects
    tested = planned[["lab", "district", "stream", "samples"]].copy()
    cut = (tested["lab"] == "cdc") & (tested["stream"] == "screening")
    tested.loc[cut, "samples"] -= 100
    tested.to_csv(tmp_path / "tested.csv", index=False)
    used = (
        planned.groupby("lab", as_index=False)["reactions"]
        .sum()
        .rename(columns={"reactions": "used"})
    )
    used.to_csv(tmp_path / "reagent.csv", index=False)
    record = ("day", "record", ws, "tested", tmp_path / "tested.csv", "--date", "2021-10-04")
    r = run(*record)
    assert r.exit_code == 0 and "(upload 1)" in r.output and "replaces" not in r.output
    r = run(*record)  # the same file again: the same state, and it says what it replaced
    assert "(upload 2); it replaces the 4 rows recorded before for the same lab-days" in r.output
    r = run("day", "record", ws, "reagent", tmp_path / "reagent.csv", "--date", "2021-10-04")
    assert r.exit_code == 0, r.output
    r = run("day", "plan", ws, "--date", "2021-10-05", "--days", "3", "--json")
    data = json.loads(r.stdout)
    assert data["state"]["waiting_at_start"] == 100
    assert data["plan"]["totals"]["screening"]["waiting_at_start"] == 100
    assert data["plan"]["check"]["ok"]
    r = run("day", "history", ws, "--until", "2021-10-04", "--json")
    h = json.loads(r.stdout)
    assert h["days"] == [
        {
            "date": "2021-10-04",
            "collected": 4_600,
            "tested": 4_500,
            "planned_tested": 4_600,
            "untested": 0,
            "waiting": 100,
            "tested_same_day": 4_500,  # the first date: every sample tested is that day's
            "mean_wait_days": 0.0,
            "reactions_run": round(float(used["used"].sum()), 1),
            "planned_reactions": round(float(planned["reactions"].sum()), 1),
            "behind_plan": 100,  # the 100 screening samples the lab did not test
            "off_plan": 0,
        }
    ]
    units = pd.DataFrame(h["units"]).set_index(["district", "stream"])
    assert units.loc[("a", "screening"), ["tested", "planned_tested", "waiting"]].tolist() == [
        2_900,
        3_000,
        100,
    ]
    r = run("day", "history", ws, "--until", "2021-10-04")
    assert "4,500" in r.output and "4,600" in r.output


def test_an_upload_is_all_or_nothing_and_names_every_problem(tmp_path):
    ws = create(tmp_path / "ws", load_scenario(TINY))
    before = (ws.path / "records" / "tested.csv").read_bytes()
    bad = pd.DataFrame(
        {
            "date": [
                "2021-10-04",
                "2021-10-03",
                "2021-10-04",
                "2021-10-04",
                "4/10/2021",
                "2021-10-04",
            ],
            "lab": ["cdc", "cdc", "nolab", "cdc", "cdc", "cdc"],
            "district": ["a", "a", "a", "zz", "a", "a"],
            "stream": ["reactive", "screening", "reactive", "reactive", "screening", "reactive"],
            "samples": ["10", "5", "1", "1", "2", "-3"],
        }
    )
    with pytest.raises(RecordError) as err:
        ws.record("tested", bad, "tested.csv")
    text = str(err.value)
    for needle in (
        "tested.csv",
        "nothing was recorded",
        "row 3",  # before the first date
        "before the workspace's first date 2021-10-04",
        "'nolab'",
        "'zz'",
        "expected a date as YYYY-MM-DD",
        "row 7",  # negative samples
        "duplicate",
    ):
        assert needle in text, needle
    assert (ws.path / "records" / "tested.csv").read_bytes() == before


def test_a_lab_day_uploaded_again_replaces_it_whole_and_history_is_kept(tmp_path):
    ws = create(tmp_path / "ws", load_scenario(TINY))
    first = pd.DataFrame(
        {
            "lab": ["cdc", "cdc"],
            "district": ["a", "a"],
            "stream": ["reactive", "screening"],
            "samples": ["400", "2000"],
        }
    )
    again = pd.DataFrame(
        {"lab": ["cdc"], "district": ["a"], "stream": ["reactive"], "samples": ["450"]}
    )
    other = pd.DataFrame(
        {"lab": ["hosp"], "district": ["a"], "stream": ["screening"], "samples": ["300"]}
    )
    day = dt.date(2021, 10, 4)
    assert ws.record("tested", first, "t1", day).replaced == 0
    ws.record("tested", other, "t2", day)
    up = ws.record("tested", again, "t3", day)
    assert (up.number, up.replaced) == (3, 2)  # cdc's two rows of that day, not hosp's
    cur = ws.records().tested.sort_values("lab")
    assert cur[["lab", "stream", "samples"]].values.tolist() == [
        ["cdc", "reactive", 450],
        ["hosp", "screening", 300],
    ]
    assert len(ws.history("tested")) == 4 and ws.history("tested")["upload"].max() == 3
    ws.record("tested", again, "t3", day)  # the same upload again: the same state
    assert ws.records().tested.sort_values("lab").equals(cur)


def test_a_date_without_a_record_is_forecast_from_the_three_days_before(tmp_path):
    ws = create(tmp_path / "ws", load_scenario(TINY))
    # tiny's three days: a/reactive 500, 600, 800 -> (500 + 600 + 800) / 3 = 633 on 10-07
    m = plan_morning(ws, dt.date(2021, 10, 7), days=2, write=False)
    dem = m.report.plan.scenario.demand
    row = dem[(dem["district"] == "a") & (dem["stream"] == "reactive")]
    collected = ws.records().collected
    past = collected[(collected["district"] == "a") & (collected["stream"] == "reactive")]
    assert len(past) == FORECAST_DAYS
    assert row["samples"].tolist() == [round(past["samples"].sum() / 3)] * 2
    assert m.forecast == 8  # 2 units x 2 streams x 2 days
    # nothing tested on the three days: every sample of them waited or spoiled, all accounted
    notes = m.report.plan.notes
    assert sum("no tests recorded" in n for n in notes) == 3


def test_an_estimate_is_the_next_days_prevalence(tmp_path):
    ws = create(tmp_path / "ws", load_scenario(TINY))
    ws.record(
        "prevalence",
        pd.DataFrame({"district": ["a"], "stream": ["screening"], "prevalence": ["4%"]}),
        "estimate",
        dt.date(2021, 10, 4),
    )
    same_day = plan_morning(ws, dt.date(2021, 10, 4), days=1, write=False).report.plan.scenario
    next_day = plan_morning(ws, dt.date(2021, 10, 5), days=1, write=False).report.plan.scenario

    def prev(scn):
        p = scn.prevalence
        return float(p[(p["district"] == "a") & (p["stream"] == "screening")]["prevalence"].iloc[0])

    assert prev(same_day) == pytest.approx(
        float(
            load_scenario(TINY)
            .prevalence.query("district == 'a' and stream == 'screening'")["prevalence"]
            .iloc[0]
        )
    )
    assert prev(next_day) == pytest.approx(0.04)


def test_past_records_that_do_not_add_up_are_refused_naming_the_day(tmp_path):
    ws = create(tmp_path / "ws", load_scenario(TINY))
    ws.record(
        "tested",
        pd.DataFrame(
            {"lab": ["cdc"], "district": ["a"], "stream": ["reactive"], "samples": ["1200"]}
        ),
        "tested.csv",
        dt.date(2021, 10, 5),
    )
    with pytest.raises(
        InputError, match=r"records of 2021-10-05: tested: 1200 samples of a/reactive.*only 1100"
    ):
        plan_morning(ws, dt.date(2021, 10, 6), write=False)
    with pytest.raises(InputError, match="before the first date of the daily loop"):
        plan_morning(ws, dt.date(2021, 10, 1), write=False)


def kits_province(folder: Path) -> Path:
    """The tiny province with collection kits: unit a holds 3,500 (3,000 screening samples a
    day), a store 6,000 and 1,000 more on day 2, a kit route store -> a of 2 days."""
    shutil.copytree(TINY, folder)
    (folder / "stores.csv").write_text("id,name,reagent_stock\nstore,Kho,0\n")
    (folder / "supply_routes.csv").write_text("source,target,lead_days,max_reactions\nstore,a,2,\n")
    (folder / "kits.csv").write_text("holder,kits\na,3500\nstore,6000\n")
    (folder / "kit_arrivals.csv").write_text("day,holder,kits\n2,store,1000\n")
    return folder


def test_collection_kits_are_carried_in_a_workspace(tmp_path):
    """Five mornings on a province with kits: each day done as planned (samples collected as
    the kits allow, 80-100 % tested, the planned kit shipments sent, a count on day 1); the
    kits the loop carries equal a separate tally, the shipments on their way arrive after
    the route's lead time, and the dispatch sheets name the kits to send."""
    path = tmp_path / "ws"
    r = run("day", "init", path, "--from", kits_province(tmp_path / "kits"))
    assert r.exit_code == 0, r.output
    ws = Workspace(path)
    rng = np.random.default_rng(3)
    unit, store = 3500, 6000
    sent_on: dict[dt.date, int] = {}
    for i in range(5):
        date = dt.date(2021, 10, 4) + dt.timedelta(days=i)
        m = plan_morning(ws, date, write=i == 0)
        assert m.report.check.ok, m.report.check.violations[:5]
        rep = m.report
        st = rep.status[(rep.status["day"] == 1) & (rep.status["demand"] > 0)]
        took = st.assign(samples=st["demand"] - st["not_collected"])
        ws.record("collected", took[["district", "stream", "samples"]], "c", date)
        tested, used = actuals(rep, rng)
        ws.record("tested", tested, "t", date)
        ws.record("reagent", used, "r", date)
        ks = rep.kit_shipments[rep.kit_shipments["day"] == 1]
        if len(ks):
            ws.record("kit_shipments", ks[["source", "target", "kits"]], "k", date)
        # the truth, kept apart
        screening = took[took["stream"] == "screening"]
        unit += sent_on.get(date - dt.timedelta(days=2), 0)
        unit -= int(screening.loc[screening["district"] == "a", "samples"].sum())
        store += 1000 if i == 1 else 0
        sent_on[date] = int(ks["kits"].sum())
        store -= sent_on[date]
        if i == 0:  # a count on the shelf: 10 kits spoiled
            unit -= 10
            ws.record("kit_counts", pd.DataFrame({"holder": ["a"], "kits": [unit]}), "n", date)
        carried = carry_to(ws.province, ws.records(), date + dt.timedelta(days=1))
        held = dict(
            zip(carried.scenario.kits["holder"], carried.scenario.kits["kits"], strict=True)
        )
        assert held == {"a": unit, "store": store}, (date, held)
        if i == 0:
            sheet = pd.read_excel(path / "plans" / date.isoformat() / "dispatch.xlsx", "shipments")
            assert sheet["kits_sent"].sum() == sent_on[date] > 0
            assert set(sheet["target"]) == {"a"} and (sheet["reagent_sent"] == 0).all()
    assert sum(sent_on.values()) > 0 and unit >= 0
    # the last two days' shipments are on their way: kit arrivals of the next morning's plan
    nxt = day_scenario(carried.scenario, ws.records(), carried.date, 7)
    coming = nxt.kit_arrivals.set_index("day")["kits"].to_dict()
    expect = {
        1: sent_on[carried.date - dt.timedelta(days=2)],
        2: sent_on[carried.date - dt.timedelta(days=1)],
    }
    assert coming == {d: n for d, n in expect.items() if n}


def test_kits_used_beyond_those_held_are_said_at_once_not_at_the_next_plan(tmp_path):
    """The scenario's demand becomes the units' collected records: unit a's screening
    samples outrun its 3,500 kits on the second day, which `day init` says at once. A
    collection beyond the kits is said when recorded for a past day, not for a coming one (what
    a unit expects to collect, which the plan may cut); withdrawing a kit arrival that covered
    a collection is said at once too."""
    r = run("day", "init", tmp_path / "ws", "--from", kits_province(tmp_path / "kits"))
    said = " ".join(r.output.split())
    assert r.exit_code == 0 and "warning: started, but the records do not add up" in said
    assert "records of 2021-10-05: kits: unit a collected 4,000 poolable samples" in said
    ws = Workspace(tmp_path / "ws")
    first = dt.date(2021, 10, 4)
    for i in range(3):  # a collects what its kits allow: 3,000 then 500, then nothing
        day = first + dt.timedelta(days=i)
        took = pd.DataFrame({"district": ["a"], "stream": ["screening"], "samples": [0]})
        took["samples"] = [3000, 500, 0][i]
        ws.record("collected", took, "c", day)
    assert adds_up(ws.province, ws.records(), today=first + dt.timedelta(days=3)) is None
    # 600 on a coming day is what a expects: no warning; once that day has passed, one
    late = first + dt.timedelta(days=5)
    more = pd.DataFrame({"district": ["a"], "stream": ["screening"], "samples": [600]})
    ws.record("collected", more, "c", late)
    assert adds_up(ws.province, ws.records(), today=late) is None
    why = adds_up(ws.province, ws.records(), today=late + dt.timedelta(days=1))
    assert why and "records of 2021-10-09: kits: unit a collected 600" in why
    # 600 kits arriving that day cover it; withdrawing them is said at once
    arrive = pd.DataFrame({"holder": ["a"], "kits": [600]})
    ws.record("kit_arrivals", arrive, "k", late)
    assert adds_up(ws.province, ws.records(), today=late + dt.timedelta(days=1)) is None
    r = run("day", "withdraw", tmp_path / "ws", "kit_arrivals", late.isoformat(), "a")
    assert r.exit_code == 0 and "unit a collected 600" in " ".join(r.output.split())


def test_kit_records_name_stores_units_with_kits_and_routes(tmp_path):
    ws = create(tmp_path / "ws", load_scenario(kits_province(tmp_path / "kits")))
    day = dt.date(2021, 10, 4)
    bad = pd.DataFrame(
        {"source": ["store", "cdc", "store"], "target": ["b", "a", "zz"], "kits": [5, 5, 5]}
    )
    with pytest.raises(RecordError) as err:
        ws.record("kit_shipments", bad, "ks.csv", day)
    said = str(err.value)
    assert "3 problems in ks.csv" in said and "nothing was recorded" in said
    assert "'b'" in said and "code of a unit in kits.csv" in said  # b is not limited by kits
    assert "'cdc'" in said and "unknown store id" in said  # a lab sends no kits
    assert "'zz'" in said
    with pytest.raises(RecordError, match=r"unknown store id or code of a unit in kits\.csv"):
        ws.record("kit_counts", pd.DataFrame({"holder": ["b"], "kits": [3]}), "n.csv", day)
    with pytest.raises(RecordError, match="kits"):
        ws.record("kit_arrivals", pd.DataFrame({"holder": ["a"], "kits": [-3]}), "n.csv", day)
    assert ws.records().kit_shipments.empty and ws.records().kit_counts.empty
    # the scenario's kit arrivals are the first records, dated
    arrivals = ws.records().kit_arrivals
    assert arrivals[["date", "holder", "kits"]].values.tolist() == [["2021-10-05", "store", 1000]]
    # a holder kit records name stays in kits.csv when the province is replaced
    ws.record("kit_counts", pd.DataFrame({"holder": ["a"], "kits": [300]}), "n.csv", day)
    folder = tmp_path / "v2"
    shutil.copytree(tmp_path / "kits", folder)
    (folder / "kits.csv").write_text("holder,kits\nstore,6000\n")
    with pytest.raises(InputError, match="its kits table leaves out a, which kit records name"):
        ws.replace_province(load_scenario(folder))


def test_a_folder_that_is_not_a_workspace_is_named(tmp_path):
    r = run("day", "plan", tmp_path, "--date", "2021-10-04")
    assert r.exit_code == 2 and "is not a labopt workspace" in r.output
    r = run("day", "plan", tmp_path, "--date", "4.10.2021")
    assert r.exit_code == 2


# ------------------------------------------------------------ what a review found
def test_init_never_replaces_a_workspace(tmp_path):
    ws = tmp_path / "ws"
    assert run("day", "init", ws, "--from", TINY).exit_code == 0
    Workspace(ws).record(
        "tested",
        pd.DataFrame({"lab": ["cdc"], "district": ["a"], "stream": ["reactive"], "samples": ["5"]}),
        "t",
        dt.date(2021, 10, 4),
    )
    before = (ws / "records" / "tested.csv").read_bytes()
    for extra in ([], ["--force"]):
        r = run("day", "init", ws, "--from", TINY, *extra)
        assert r.exit_code == 2 and "is a workspace already" in r.output
    assert (ws / "records" / "tested.csv").read_bytes() == before


def _record_delivery(args):
    path, k = args
    Workspace(path).record(
        "deliveries",
        pd.DataFrame({"lab": ["cdc"], "reactions": [str(k)]}),
        f"d{k}",
        dt.date(2021, 10, 4) + dt.timedelta(days=k),
    )


def test_uploads_at_the_same_time_are_all_kept(tmp_path):
    import multiprocessing

    create(tmp_path / "ws", load_scenario(TINY))
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map(_record_delivery, [(tmp_path / "ws", k) for k in range(1, 9)])
    hist = Workspace(tmp_path / "ws").history("deliveries")
    assert sorted(hist["upload"]) == list(range(1, 10))  # the scenario's, then 8 uploads
    assert sorted(hist[hist["upload"] > 1]["reactions"].tolist()) == list(range(1, 9))


def test_a_day_without_any_demand_is_planned(tmp_path):
    ws = create(tmp_path / "ws", load_scenario(TINY))
    ws.record(
        "collected",
        pd.DataFrame(
            {"district": ["a", "b"], "stream": ["reactive", "reactive"], "samples": ["0", "0"]}
        ),
        "c",
        dt.date(2021, 10, 20),
    )
    m = plan_morning(ws, dt.date(2021, 10, 20), days=2, write=False)
    assert m.report.check.ok
    assert int(m.report.status["demand"].sum()) == 0


def test_plan_dates_far_from_the_records_are_refused(tmp_path):
    ws = create(tmp_path / "ws", load_scenario(TINY))
    with pytest.raises(InputError, match=r"days after the labs' last record"):
        plan_morning(ws, dt.date(2026, 10, 4), write=False)
    bad = pd.DataFrame({"lab": ["cdc"], "reactions": ["5"], "date": ["9999-12-31"]})
    with pytest.raises(RecordError, match="a mistyped year"):
        ws.record("deliveries", bad, "d.csv")


def test_workbook_date_cells_are_dates(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(["date", "lab", "reactions"])
    sheet.append([dt.datetime(2021, 10, 5), "cdc", 300])
    wb.save(tmp_path / "d.xlsx")
    create(tmp_path / "ws", load_scenario(TINY))
    r = run("day", "record", tmp_path / "ws", "deliveries", tmp_path / "d.xlsx")
    assert r.exit_code == 0, r.output
    cur = Workspace(tmp_path / "ws").records().deliveries
    assert ("2021-10-05", "cdc", 300) in set(
        cur[["date", "lab", "reactions"]].itertuples(index=False, name=None)
    )


def test_a_date_given_twice_is_refused_and_records_that_do_not_add_up_are_warned(tmp_path):
    create(tmp_path / "ws", load_scenario(TINY))
    f = tmp_path / "t.csv"
    f.write_text(
        "date,lab,district,stream,samples\n2021-10-04,cdc,a,reactive,99999\n", encoding="utf-8"
    )
    r = run("day", "record", tmp_path / "ws", "tested", f, "--date", "2021-10-05")
    assert r.exit_code == 2 and "not both" in r.output
    r = run("day", "record", tmp_path / "ws", "tested", f)
    assert r.exit_code == 0
    assert "warning: recorded, but the records do not add up" in r.output
    assert "99999 samples of a/reactive" in r.output


def test_init_keeps_each_days_own_prevalence_and_the_labs_out(tmp_path):
    """tiny's demand gives a/screening 2 % on day 2 (the table 1 %), and a lab_days row puts
    cdc out on day 1: the workspace plans both as labopt plan does."""
    folder = tmp_path / "s"
    import shutil

    shutil.copytree(TINY, folder)
    (folder / "lab_days.csv").write_text("lab,day,available\ncdc,1,0\n", encoding="utf-8")
    scn = load_scenario(folder)
    ws = create(tmp_path / "ws", scn)
    day2 = plan_morning(ws, dt.date(2021, 10, 5), days=1, write=False).report.plan.scenario
    dem = day2.demand.set_index(["district", "stream"])["prevalence"]
    own = scn.demand.set_index(["day", "district", "stream"])["prevalence"]
    assert dem[("a", "screening")] == pytest.approx(own[(2, "a", "screening")])
    day1 = plan_morning(ws, dt.date(2021, 10, 4), days=1, write=False).report
    a = day1.allocations
    assert a[a["lab"] == "cdc"]["samples"].sum() == 0


def test_no_forecast_on_the_first_date_and_from_the_days_recorded_after(tmp_path):
    scn = load_scenario(TINY)
    ws = create(tmp_path / "ws", scn)
    m = plan_morning(ws, dt.date(2021, 10, 4), days=5, write=False)
    dem = m.report.plan.scenario.demand
    assert set(dem["day"]) == {1, 2, 3}  # the recorded days; none forecast from nothing
    assert m.forecast == 2 * 2 * 2  # days 4-5 of 2 units x 2 streams have no record
    m = plan_morning(ws, dt.date(2021, 10, 5), days=4, write=False)
    dem = m.report.plan.scenario.demand
    row = dem[(dem["day"] == 3) & (dem["district"] == "a") & (dem["stream"] == "reactive")]
    assert row["samples"].tolist() == [500]  # the one day before (10-04), not 500 / 3


def test_a_day_recorded_for_the_wrong_date_is_withdrawn_from_the_cli(tmp_path):
    ws_path = tmp_path / "ws"
    assert run("day", "init", ws_path, "--from", TINY).exit_code == 0
    f = tmp_path / "tested.csv"
    f.write_text("lab,district,stream,samples\ncdc,a,reactive,3\n", encoding="utf-8")
    r = run("day", "record", ws_path, "tested", f, "--date", "2022-10-04")  # 2021 meant
    assert r.exit_code == 0, r.output
    ws = Workspace(ws_path)
    assert len(ws.records().tested) == 1
    r = run("day", "withdraw", ws_path, "tested", "2022-10-04", "cdc")
    assert (
        r.exit_code == 0 and "Withdrew the tested record of cdc for 2022-10-04 (1 row)" in r.output
    )
    assert ws.records().tested.empty
    assert len(ws.history("tested")) == 1  # kept
    r = run("day", "withdraw", ws_path, "tested", "2022-10-04", "cdc")
    assert r.exit_code != 0 and "withdrawn already" in r.output
    r = run("day", "withdraw", ws_path, "tested", "2021-10-04", "cdc")
    assert r.exit_code != 0 and "no tested record of cdc for 2021-10-04" in r.output
    # recorded again afterwards: the new upload is current
    assert run("day", "record", ws_path, "tested", f, "--date", "2021-10-04").exit_code == 0
    assert ws.records().tested["date"].tolist() == ["2021-10-04"]
    # a later upload keeps the withdrawal list
    r = run("day", "record", ws_path, "tested", f, "--date", "2021-10-05")
    assert r.exit_code == 0 and (ws_path / "records" / "withdrawn.csv").is_file()
    assert ws.records().tested["date"].tolist() == ["2021-10-04", "2021-10-05"]
    # a withdrawal that breaks a later day warns, as a correction does: the reagent of a
    # delivery withdrawn had been run
    stock = next(lab.reagent_stock for lab in load_scenario(TINY).labs if lab.id == "cdc")
    d = tmp_path / "d.csv"
    d.write_text("lab,reactions\ncdc,10000\n", encoding="utf-8")
    assert run("day", "record", ws_path, "deliveries", d, "--date", "2021-10-05").exit_code == 0
    u = tmp_path / "u.csv"
    u.write_text(f"lab,used\ncdc,{stock + 9000}\n", encoding="utf-8")
    r = run("day", "record", ws_path, "reagent", u, "--date", "2021-10-05")
    assert r.exit_code == 0 and "warning" not in r.output, r.output
    r = run("day", "withdraw", ws_path, "deliveries", "2021-10-05", "cdc")
    assert r.exit_code == 0 and "warning: withdrawn, but the records do not add up" in r.output
    assert "2021-10-05" in r.output
    r = run("day", "history", ws_path, "--until", "2021-10-01")
    assert r.exit_code != 0 and "--until: 2021-10-01 is before the first date" in r.output


def test_history_of_a_workspace_started_today(tmp_path):
    scn = load_scenario(TINY)
    today = replace(
        scn,
        settings=scn.settings.model_copy(
            update={"province": scn.province.model_copy(update={"start_date": dt.date.today()})}
        ),
    )
    create(tmp_path / "ws", today)
    r = run("day", "history", tmp_path / "ws", "--json")
    assert r.exit_code == 0, r.output
    assert [d["date"] for d in json.loads(r.stdout)["days"]] == [dt.date.today().isoformat()]
