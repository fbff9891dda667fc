"""Carrying a scenario over a day (labopt.scenario.carry): day after day from what was really
tested, no sample lost or counted twice, reagent exactly as run, the wait limit from each
sample's collection day."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labopt.errors import InputError
from labopt.scenario import load_scenario
from labopt.scenario.carry import next_day
from labopt.scenario.synth import synthesize
from labopt.scenario.updates import plan_window
from labopt.schedule import plan_scenario
from tests.schedule.test_coordinator_rules import one_lab
from tests.schedule.test_supply import kits_case

TINY = Path(__file__).parents[1] / "data" / "tiny"


def simulate(scn, days: int, seed: int = 0, low: float = 0.8):
    """Plan each morning from the carried state; each lab tests a random 80-100 % of what its
    day-1 plan asks (whole samples) and runs the reactions that takes (whole reactions); carry
    the day over. Checks every day's plan independently and every day's accounting."""
    rng = np.random.default_rng(seed)
    stock = {lab.id: lab.reagent_stock for lab in scn.labs}
    came = done = spoiled = 0
    came += int(scn.backlog["samples"].sum())
    rows = []
    for day in range(days):
        rep = plan_scenario(scn)
        assert rep.check.ok, (day, rep.check.violations[:5])
        a = rep.allocations[rep.allocations["day"] == 1]
        share = {lab.id: rng.uniform(low, 1.0) for lab in scn.labs}
        s = a["lab"].map(share).to_numpy()
        tested = a.assign(samples=np.floor(a["samples"].to_numpy() * s).astype(int))
        used = a.assign(r=a["reactions"].to_numpy() * s).groupby("lab")["r"].sum().apply(math.ceil)
        delivered = scn.deliveries[scn.deliveries["day"] == 1].groupby("lab")["reactions"].sum()
        nxt, acc = next_day(scn, tested[["district", "stream", "samples"]], used.to_dict())
        # the truth, kept apart: whole reactions in, whole reactions out
        for lab in scn.labs:
            stock[lab.id] += int(delivered.get(lab.id, 0)) - int(used.get(lab.id, 0))
            assert next(x for x in nxt.labs if x.id == lab.id).reagent_stock == stock[lab.id]
        sm = acc.samples
        assert (
            sm["waiting_before"] + sm["collected"] == sm["tested"] + sm["untested"] + sm["waiting"]
        ).all()
        assert int(nxt.backlog["samples"].sum()) == int(sm["waiting"].sum())
        assert int(sm["tested"].sum()) == int(tested["samples"].sum())
        came += int(sm["collected"].sum())
        done += int(sm["tested"].sum())
        spoiled += int(sm["untested"].sum())
        assert came == done + spoiled + int(nxt.backlog["samples"].sum())
        rows.append(
            {
                "date": scn.province.start_date,
                "collected": int(sm["collected"].sum()),
                "tested": int(sm["tested"].sum()),
                "untested": int(sm["untested"].sum()),
                "waiting": int(sm["waiting"].sum()),
            }
        )
        scn = nxt
    return scn, pd.DataFrame(rows)


def test_a_week_day_by_day_on_one_lab(tmp_path):
    scn = load_scenario(one_lab(tmp_path / "s", days=8, urgent=400, screening=2_500))
    last, days = simulate(scn, 7)
    assert last.province.start_date == scn.date_of(8)
    assert days["tested"].sum() > 0 and days["waiting"].iloc[-1] > 0
    # a lab that tests less than planned leaves more waiting, never fewer samples in all
    assert (days["collected"] == 2_900).all()


def test_a_synthesized_province_day_by_day():
    scn = synthesize(30, 12, days=6, seed=3, candidates=5)
    simulate(scn, 5, seed=1, low=0.6)


def test_the_fixture_day_by_day_with_its_delivery():
    scn = load_scenario(TINY)
    last, _ = simulate(scn, 2, seed=2)
    assert last.province.days == 1


def test_samples_past_their_limit_spoil_oldest_first(tmp_path):
    """Contacts wait one day: of 400 waiting from the day before and 300 collected, 350 are
    tested (the 400 first); 50 of the old ones spoil, the 300 wait, one day old."""
    scn = load_scenario(one_lab(tmp_path / "s", days=3, urgent=300, screening=0))
    scn = replace(scn, backlog=backlog(("a", "f1", 1, 400)))
    nxt, acc = next_day(
        scn, pd.DataFrame({"district": ["a"], "stream": ["f1"], "samples": [350]}), {"lab": 350}
    )
    row = acc.samples.set_index(["district", "stream"]).loc[("a", "f1")]
    assert (row.waiting_before, row.collected, row.tested, row.untested, row.waiting) == (
        400,
        300,
        350,
        50,
        300,
    )
    assert nxt.backlog.to_dict("records") == [
        {"district": "a", "stream": "f1", "age_days": 1, "samples": 300}
    ]
    # the turnaround: the 350 tested had all waited a day, none was collected that day
    assert (row.tested_same_day, row.waited_days) == (0, 350)
    # the next day 500 tested: the 300 a day old first, then 200 of that day's 300
    _, acc2 = next_day(
        nxt, pd.DataFrame({"district": ["a"], "stream": ["f1"], "samples": [500]}), {"lab": 500}
    )
    row = acc2.samples.set_index(["district", "stream"]).loc[("a", "f1")]
    assert (row.tested, row.tested_same_day, row.waited_days, row.waiting) == (500, 200, 300, 100)


def backlog(*rows):
    return pd.DataFrame(rows, columns=["district", "stream", "age_days", "samples"]).astype(
        {"age_days": "int64", "samples": "int64"}
    )


def test_text_numbers_are_read_and_a_bad_count_is_refused(tmp_path):
    scn = load_scenario(one_lab(tmp_path / "s", days=3, urgent=400, screening=0, reagent=1_000))
    tested = pd.DataFrame({"district": ["a"], "stream": ["f1"], "samples": ["368"]})
    nxt, acc = next_day(scn, tested, {"lab": "368"}, {"lab": "600"})
    assert nxt.labs[0].reagent_stock == 600 and acc.samples["tested"].sum() == 368
    for count in (5.9, float("inf"), -1, 10**30, None):
        with pytest.raises(InputError, match="reagent_counted: 'lab' must be a whole number"):
            next_day(scn, tested, {"lab": 368}, {"lab": count})


def test_a_count_on_the_shelf_replaces_the_computed_stock(tmp_path):
    scn = load_scenario(one_lab(tmp_path / "s", days=3, reagent=1_000))
    none = pd.DataFrame(columns=["district", "stream", "samples"])
    nxt, acc = next_day(scn, none, {"lab": 300}, {"lab": 650})
    assert nxt.labs[0].reagent_stock == 650
    r = acc.reagent.iloc[0]
    assert (r.on_hand, r.used, r.left, r.counted) == (1_000, 300, 650, 650)


@pytest.mark.parametrize(
    ("tested", "used", "message"),
    [
        ({"district": ["a"], "stream": ["f1"], "samples": [1_000]}, {}, "only 400 were there"),
        ({"district": ["zz"], "stream": ["f1"], "samples": [1]}, {}, "unknown 'zz'"),
        ({"district": ["a"], "stream": ["flu"], "samples": [1]}, {}, "unknown 'flu'"),
        ({"district": ["a"], "stream": ["f1"], "samples": [-1]}, {}, "row 1 must be a whole"),
        ({"district": ["a"], "stream": ["f1"], "samples": [1.5]}, {}, "row 1 must be a whole"),
        ({"district": ["a"] * 2, "stream": ["f1"] * 2, "samples": [10, -5]}, {}, "row 2 must"),
        ({"district": ["a"], "stream": ["f1"], "samples": [np.nan]}, {}, "row 1 must be a whole"),
        ({"district": ["a"], "stream": ["f1"], "samples": [True]}, {}, "row 1 must be a whole"),
        ({"district": ["a"], "stream": ["f1"], "samples": [10**20]}, {}, "row 1 must be a whole"),
        ({"district": [], "stream": [], "samples": []}, {"nolab": 3}, "unknown lab 'nolab'"),
        ({"district": [], "stream": [], "samples": []}, {"lab": -3}, "'lab' must be a number"),
        ({"district": [], "stream": [], "samples": []}, {"lab": "x"}, "'lab' must be a number"),
        ({"district": [], "stream": [], "samples": []}, {"lab": 5_000}, "only 1000 on hand"),
    ],
)
def test_bad_actuals_are_refused_naming_what_is_wrong(tmp_path, tested, used, message):
    scn = load_scenario(one_lab(tmp_path / "s", days=3, urgent=400, screening=0, reagent=1_000))
    with pytest.raises(InputError, match=message):
        next_day(scn, pd.DataFrame(tested), used)


def with_store(scn):
    """tiny with a store of 1,000 reactions and routes store -> hosp (same day), store -> cdc
    (a day), cdc -> priv (same day)."""
    return replace(
        scn,
        stores=pd.DataFrame({"id": ["store"], "name": ["Kho"], "reagent_stock": [1_000]}),
        store_arrivals=pd.DataFrame({"day": [1, 2], "store": ["store"] * 2, "reactions": [50, 70]}),
        supply_routes=pd.DataFrame(
            {
                "source": ["store", "store", "cdc"],
                "target": ["hosp", "cdc", "priv"],
                "lead_days": [0, 1, 0],
                "max_reactions": [np.nan] * 3,
            }
        ),
    )


def shipments(*rows):
    return pd.DataFrame(rows, columns=["source", "target", "reactions"])


def test_shipments_leave_their_source_and_reach_their_lab_after_the_lead_time():
    scn = with_store(load_scenario(TINY))
    stock = {lab.id: lab.reagent_stock for lab in scn.labs}
    none = pd.DataFrame(columns=["district", "stream", "samples"])
    sent = shipments(("store", "hosp", 300), ("store", "cdc", 200), ("cdc", "priv", 100))
    nxt, acc = next_day(scn, none, {"cdc": 40, "hosp": 10}, shipped=sent)
    left = {lab.id: lab.reagent_stock for lab in nxt.labs}
    assert left["hosp"] == stock["hosp"] + 300 - 10  # the same day
    assert left["cdc"] == stock["cdc"] - 40 - 100  # its own shipment out; 200 arrive tomorrow
    assert left["priv"] == stock["priv"] + 100
    # the store: its stock and day 1's arrival, less what it sent; day 2's arrival still due
    assert nxt.stores["reagent_stock"].tolist() == [1_000 + 50 - 500]
    assert nxt.store_arrivals[["day", "reactions"]].values.tolist() == [[1, 70]]
    assert acc.stores.to_dict("records") == [
        {"store": "store", "on_hand": 1_050, "shipped": 500, "left": 550}
    ]
    # the shipment on its way is a delivery of the next day (with tiny's own to hosp)
    d = nxt.deliveries.set_index("lab")["reactions"]
    assert d["cdc"] == 200 and d["hosp"] == 500
    r = acc.reagent.set_index("lab")
    assert r.loc["cdc", "shipped"] == 100 and r.loc["priv", "on_hand"] == stock["priv"] + 100
    # every reaction is somewhere: labs + store + on the way = before + arrivals - used
    assert sum(left.values()) + 550 + 200 == sum(stock.values()) + 1_000 + 50 - 50


@pytest.mark.parametrize(
    "sent, message",
    [
        (shipments(("store", "hosp", 1_051)), "store store sent 1,051 reactions .* only 1,050"),
        (shipments(("cdc", "priv", 4_990)), "cdc ran 40 reactions and sent 4,990"),
        (shipments(("hosp", "cdc", 5)), "row 1: no supply route from 'hosp' to 'cdc'"),
        (shipments(("store", "hosp", 2.5)), "shipped.reactions: row 1 must be a whole number"),
    ],
    ids=["store short", "lab short", "off route", "half a reaction"],
)
def test_shipments_that_cannot_be_are_refused_naming_them(sent, message):
    scn = with_store(load_scenario(TINY))
    none = pd.DataFrame(columns=["district", "stream", "samples"])
    with pytest.raises(InputError, match=message):
        next_day(scn, none, {"cdc": 40}, shipped=sent)


def kits_scenario(tmp_path, lead: int = 2):
    """One lab, unit a collecting 500 screening samples a day with 700 collection kits, a store
    holding 2,000 kits and 0 reactions, a kit route store -> a of ``lead`` days."""
    folder = kits_case(tmp_path / "k", unit_kits=700, store_kits=2000)
    routes = folder / "supply_routes.csv"
    routes.write_text(f"source,target,lead_days,max_reactions\ncdc,a,{lead},\n", encoding="utf-8")
    return load_scenario(folder)


def test_collection_kits_are_carried_day_by_day_with_shipments_on_their_way(tmp_path):
    """Each morning's plan from the carried state, its day 1 done as planned (samples collected
    as the kits allow, the kit shipments sent): the kits at the unit and the store equal a
    separate tally every day, shipments reach the unit after their lead time, and every plan
    passes the independent check."""
    scn = kits_scenario(tmp_path, lead=2)
    unit, store = 700, 2000
    arriving: dict[int, int] = {}  # day (0-based) -> kits reaching the unit that morning
    total_shipped = 0
    for day in range(7):
        rep = plan_scenario(scn)
        assert rep.check.ok, (day, rep.check.violations[:5])
        st = rep.status[rep.status["day"] == 1]
        collected = st.assign(samples=st["demand"] - st["not_collected"])
        took = collected.set_index(["district", "stream"])["samples"]
        d = scn.demand
        key = pd.MultiIndex.from_frame(d[["district", "stream"]])
        took = took.reindex(key).to_numpy()
        scn = replace(scn, demand=d.assign(samples=np.where(d["day"] == 1, took, d["samples"])))
        a = rep.allocations[rep.allocations["day"] == 1]
        ks = rep.kit_shipments
        ks = ks[ks["day"] == 1][["source", "target", "kits"]]
        nxt, acc = next_day(
            scn,
            a[["district", "stream", "samples"]],
            a.groupby("lab")["reactions"].sum().apply(math.ceil).to_dict(),
            kits_shipped=ks,
        )
        # the truth, kept apart
        unit += arriving.pop(day, 0) - int(collected["samples"].sum())
        sent = int(ks["kits"].sum())
        store -= sent
        total_shipped += sent
        if sent:
            arriving[day + 2] = arriving.get(day + 2, 0) + sent
        assert unit >= 0 and store >= 0
        held = dict(zip(nxt.kits["holder"], nxt.kits["kits"], strict=True))
        assert held == {"a": unit, "cdc": store}, (day, held)
        k = acc.kits.set_index("holder")
        assert int(k.loc["a", "left"]) == unit and int(k.loc["cdc", "shipped"]) == sent
        on_way = nxt.kit_arrivals.groupby("day")["kits"].sum().to_dict()
        assert on_way == {d - day: n for d, n in arriving.items() if d - day <= nxt.province.days}
        scn = nxt
    assert total_shipped > 0


def test_kits_counted_replace_the_computed_kits_and_misuse_is_refused(tmp_path):
    scn = kits_scenario(tmp_path, lead=1)
    none = pd.DataFrame(columns=["district", "stream", "samples"])
    # 500 screening samples collected on day 1 with 700 kits: 200 left, a count says 150
    nxt, acc = next_day(scn, none, {}, kits_counted={"a": 150})
    assert dict(zip(nxt.kits["holder"], nxt.kits["kits"], strict=True))["a"] == 150
    assert acc.kits.set_index("holder").loc["a", "counted"] == 150
    few = replace(scn, kits=pd.DataFrame({"holder": ["a", "cdc"], "kits": [100, 2000]}))
    with pytest.raises(
        InputError,
        match=r"unit a collected 500 poolable samples on 2021-10-04 with only 100 collection "
        r"kits on hand; enter the samples it really collected \(collected\), or the kits it "
        r"counted \(kit_counts\)",
    ):
        next_day(few, none, {})
    nxt, _ = next_day(few, none, {}, kits_counted={"a": 0})  # the count settles it
    assert dict(zip(nxt.kits["holder"], nxt.kits["kits"], strict=True))["a"] == 0
    sent = pd.DataFrame({"source": ["cdc"], "target": ["a"], "kits": [2500]})
    with pytest.raises(InputError, match="store cdc sent 2,500 kits"):
        next_day(scn, none, {}, kits_shipped=sent)
    off = pd.DataFrame({"source": ["cdc"], "target": ["L1"], "kits": [5]})
    with pytest.raises(InputError, match=r"kits_shipped: row 1: .* none from 'cdc' to 'L1'"):
        next_day(scn, none, {}, kits_shipped=off)
    with pytest.raises(InputError, match="kits_counted: 'zz' is not a store nor a unit"):
        next_day(scn, none, {}, kits_counted={"zz": 1})
    half = pd.DataFrame({"source": ["cdc"], "target": ["a"], "kits": [2.5]})
    with pytest.raises(InputError, match=r"kits_shipped\.kits: row 1 must be a whole number"):
        next_day(scn, none, {}, kits_shipped=half)


def test_a_plan_window_after_day_one_refuses_a_backlog(tmp_path):
    scn = load_scenario(one_lab(tmp_path / "s", days=3))
    scn = replace(scn, backlog=backlog(("a", "f1", 1, 5)))
    with pytest.raises(InputError, match="backlog is what waits at the start of 2021-10-04"):
        plan_window(scn, scn.date_of(2))
    assert plan_window(scn, scn.date_of(1), 2).backlog.equals(scn.backlog)
