"""Reagent shipments chosen by the plan (labopt.schedule.supply): lead times, a lab giving
stock away, a store running dry, the safety stock, and the independent check of shipments."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from labopt.cli.main import app
from labopt.examples import EXAMPLES
from labopt.scenario import ScenarioError, load_scenario
from labopt.scenario.synth import synthesize
from labopt.schedule import build_input, check_plan, make_plan, plan_scenario
from labopt.schedule.compare import compare_with_greedy
from labopt.schedule.model import weights
from labopt.schedule.output import reagent_series
from labopt.schedule.pipeline import solve_lp
from labopt.schedule.supply import Supply, settle, whole_kits
from tests.schedule.test_coordinator_rules import one_lab

URGENT = 368  # the one lab's reactions a day: every urgent sample takes one


def with_supply(
    folder: Path,
    *,
    stores: str = "id,name,reagent_stock\ncdc,CDC store,5000\n",
    arrivals: str = "day,store,reactions\n",
    routes: str = "source,target,lead_days,max_reactions\ncdc,lab,1,\n",
) -> Path:
    (folder / "stores.csv").write_text(stores, encoding="utf-8")
    (folder / "store_arrivals.csv").write_text(arrivals, encoding="utf-8")
    (folder / "supply_routes.csv").write_text(routes, encoding="utf-8")
    return folder


def urgent_tested(rep) -> list[int]:
    st = rep.status[rep.status["stream"] == "f1"]
    return st.groupby("day")["tested"].sum().tolist()


def test_without_a_store_the_lab_runs_dry_and_with_one_it_tests_every_day(tmp_path):
    folder = one_lab(tmp_path / "s", reagent=800, screening=0)
    before = plan_scenario(load_scenario(folder))
    assert sum(urgent_tested(before)) == 800 // URGENT * URGENT + 800 % URGENT  # reagent-bound
    rep = plan_scenario(load_scenario(with_supply(folder)))
    assert urgent_tested(rep) == [URGENT] * 7
    assert rep.check.ok, rep.check.violations
    ships = rep.shipments
    assert (ships["arrival_day"] == ships["day"] + 1).all()
    assert ships["reactions"].sum() == 7 * URGENT - 800  # no more than the week needs
    assert len(ships) == 1  # the store can spare it all on day 1: one shipment, not six
    assert (ships["source"] == "cdc").all() and (ships["target"] == "lab").all()


def test_a_long_lead_time_ships_early_enough(tmp_path):
    folder = with_supply(
        one_lab(tmp_path / "s", reagent=2 * URGENT, screening=0),
        routes="source,target,lead_days,max_reactions\ncdc,lab,2,\n",
    )
    rep = plan_scenario(load_scenario(folder))
    assert urgent_tested(rep) == [URGENT] * 7
    ships = rep.shipments
    assert (ships["arrival_day"] == ships["day"] + 2).all() and ships["day"].min() == 1
    assert rep.check.ok, rep.check.violations


def test_a_store_running_dry_ships_what_it_has_and_its_arrivals(tmp_path):
    folder = with_supply(
        one_lab(tmp_path / "s", reagent=URGENT, screening=0),
        stores="id,name,reagent_stock\ncdc,CDC store,400\n",
        arrivals="day,store,reactions\n5,cdc,300\n",
    )
    rep = plan_scenario(load_scenario(folder))
    assert rep.shipments["reactions"].sum() == 700
    assert sum(urgent_tested(rep)) == URGENT + 700
    # nothing shipped from the arrival before it arrives
    assert rep.shipments.loc[rep.shipments["day"] < 5, "reactions"].sum() <= 400
    assert rep.check.ok, rep.check.violations
    texts = rep.shortfall_texts()
    assert any(t.startswith("Ship ") and "from CDC store to Lab" in t for t in texts)
    assert any("run out of reagent" in t or "runs out of reagent" in t for t in texts)


def test_a_route_limit_caps_each_days_shipment(tmp_path):
    folder = with_supply(
        one_lab(tmp_path / "s", reagent=URGENT, screening=0),
        routes="source,target,lead_days,max_reactions\ncdc,lab,1,200\n",
    )
    rep = plan_scenario(load_scenario(folder))
    assert rep.shipments.groupby("day")["reactions"].sum().max() <= 200
    assert rep.check.ok, rep.check.violations


def two_labs(folder: Path, *, giver_stock: int, taker_stock: int) -> Path:
    """Lab ``lab`` in unit a (urgent demand) and lab ``giver`` in unit b (no demand) with a
    route from the giver to the lab."""
    one_lab(folder, reagent=taker_stock, screening=0)
    with (folder / "districts.csv").open("a", encoding="utf-8") as fh:
        fh.write("b,B,district,rural,100000,20.50,105.00,1\n")
    with (folder / "prevalence.csv").open("a", encoding="utf-8") as fh:
        fh.write("b,f1,0.05\nb,screen,0.01\n")
    with (folder / "labs.csv").open("a", encoding="utf-8") as fh:
        fh.write(
            f"giver,Giver,district_medical_centre,b,20.50,105.00,active,2,1,96,2.0,4,96,1.0,4,1,4,"
            f"{giver_stock},10,\n"
        )
    return with_supply(
        folder,
        stores="id,name,reagent_stock\n",
        routes="source,target,lead_days,max_reactions\ngiver,lab,0,\n",
    )


def test_a_lab_gives_the_stock_it_cannot_use(tmp_path):
    folder = two_labs(tmp_path / "s", giver_stock=3000, taker_stock=0)
    scn = load_scenario(folder)
    rep = plan_scenario(scn)
    assert urgent_tested(rep) == [URGENT] * 7
    ships = rep.shipments
    assert (ships["source"] == "giver").all() and ships["reactions"].sum() == 7 * URGENT
    assert (ships["arrival_day"] == ships["day"]).all()  # lead time 0: usable the same day
    assert rep.check.ok, rep.check.violations


def test_the_safety_stock_is_kept_where_stock_allows_and_never_holds_back_a_test(tmp_path):
    # at most two days' use a day on the route: shipments cannot all merge into the first
    folder = with_supply(
        one_lab(tmp_path / "s", reagent=URGENT, screening=500),
        routes=f"source,target,lead_days,max_reactions\ncdc,lab,1,{2 * URGENT}\n",
    )
    plain = plan_scenario(load_scenario(folder))
    toml = folder / "scenario.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            "[policy]\n", "[policy]\nreagent_cover_days = 1.0\n"
        ),
        encoding="utf-8",
    )
    covered = plan_scenario(load_scenario(folder))
    assert covered.status["tested"].sum() == plain.status["tested"].sum()
    assert urgent_tested(covered) == [URGENT] * 7
    used = covered.labs.set_index("day")["reactions"]
    left = covered.labs.set_index("day")["reagent_left"]
    # a day's use left over at the end of each day a shipment can reach (day 1: none can, the
    # lead time is a day) but the last, while the store has stock
    assert (left.loc[2:6] >= used.loc[2:6] - 1).all()
    assert (plain.labs.set_index("day")["reagent_left"].loc[2:6] < used.loc[2:6] - 1).any()
    assert covered.check.ok, covered.check.violations


def test_the_check_catches_infeasible_shipments(tmp_path):
    folder = with_supply(
        one_lab(tmp_path / "s", reagent=URGENT, screening=0),
        stores="id,name,reagent_stock\ncdc,CDC store,1000\n",
        routes="source,target,lead_days,max_reactions\ncdc,lab,1,500\n",
    )
    scn = load_scenario(folder)
    rep = plan_scenario(scn)
    assert rep.check.ok
    bad = pd.DataFrame(
        {
            "day": [1, 2, 3, 6],
            "source": ["cdc", "cdc", "nowhere", "cdc"],
            "target": ["lab", "lab", "lab", "lab"],
            "reactions": [600, 900, 10, 100],
            "arrival_day": [2, 2, 4, 9],
        }
    )
    found = "\n".join(check_plan(scn, rep.allocations, rep.status, bad).violations)
    assert "route limit 500" in found  # day 1: 600 on a route of at most 500
    assert "store cdc day 2: 900 reactions shipped" in found  # more than the store holds
    assert "no supply route from nowhere to lab" in found
    assert "arrives day 2, the route's lead time (1 d) gives day 3" in found
    assert "outside days 1-7" in found
    # and the lab using reagent a shipment never brought
    fewer = rep.shipments.assign(reactions=rep.shipments["reactions"] // 2)
    found = "\n".join(check_plan(scn, rep.allocations, rep.status, fewer).violations)
    assert "reagent in stock" in found


def test_outputs_json_and_vietnamese(tmp_path):
    folder = with_supply(one_lab(tmp_path / "s", reagent=URGENT, screening=0))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["plan", str(folder), "--out", str(out), "--no-compare"])
    assert r.exit_code == 0, r.output
    assert "Reagent shipments:" in r.output and "Ship " in r.output
    supply = pd.read_csv(out / "supply.csv")
    assert list(supply.columns) == [
        "day",
        "date",
        "resource",
        "source",
        "source_name",
        "target",
        "target_name",
        "quantity",
        "arrival_day",
        "why",
    ]
    assert (supply["resource"] == "reagent").all()  # a code in the CSV, words in plan.xlsx
    sheet = pd.read_excel(out / "plan.xlsx", sheet_name="supply")
    assert (sheet["Resource"] == "reagent").all()
    assert supply["why"].str.contains("would run out on day").all()
    assert "supply" in pd.ExcelFile(out / "plan.xlsx").sheet_names
    assert (out / "reagent.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = CliRunner().invoke(app, ["plan", str(folder), "--json", "--no-compare", "--lang", "vi"])
    data = json.loads(r.stdout)
    assert data["shipments"] and data["shipments"][0]["text"].startswith("Chuyển ")
    assert sum(s["reactions"] for s in data["shipments"]) == supply["quantity"].sum()


def test_a_scenario_without_routes_writes_no_supply_table(tmp_path):
    folder = one_lab(tmp_path / "s", reagent=URGENT, screening=0)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["plan", str(folder), "--out", str(out), "--no-compare"])
    assert r.exit_code == 0, r.output
    assert not (out / "supply.csv").exists()
    # each lab's reagent over the week is drawn whether or not there are shipments
    assert (out / "lab_utilisation.png").exists() and (out / "reagent.png").exists()


def test_the_reagent_chart_series_with_and_without_the_shipments(tmp_path):
    folder = with_supply(one_lab(tmp_path / "s", reagent=800, screening=0))
    rep = plan_scenario(load_scenario(folder))
    series = reagent_series(rep).set_index("day")
    assert set(series["lab"]) == {"lab"}  # the one lab receiving shipments
    left = rep.labs.set_index("day")["reagent_left"]
    assert series["with"].to_numpy() == pytest.approx(left.to_numpy(), abs=0.05)
    arrived = rep.shipments.groupby("arrival_day")["reactions"].sum()
    received = arrived.reindex(range(1, 8), fill_value=0).cumsum()
    assert (series["without"] == series["with"] - received).all()
    # without the shipments the lab's 800 reactions last two days and a bit of the third
    assert (series["without"] < 0).tolist() == [False, False, True, True, True, True, True]
    assert series.loc[7, "without"] == pytest.approx(800 - 7 * URGENT, abs=1)


def synthesized_with_supply(seed: int, districts: int = 30, labs: int = 12):
    """A synthesized week whose labs hold little reagent, a store and random routes (stores
    and labs to labs, lead times 0-2 days, some limited)."""
    rng = np.random.default_rng(seed)
    scn = synthesize(districts, labs, days=5, seed=seed, candidates=3)
    scn.labs[:] = [
        lab.model_copy(update={"reagent_stock": int(rng.integers(0, 2000))}) for lab in scn.labs
    ]
    ids = [lab.id for lab in scn.labs]
    rows = [("cdc", t, int(rng.integers(0, 3)), np.nan) for t in ids]
    for _ in range(labs):
        a, b = rng.choice(ids, 2, replace=False)
        rows.append((a, b, int(rng.integers(0, 2)), float(rng.integers(100, 800))))
    routes = pd.DataFrame(rows, columns=["source", "target", "lead_days", "max_reactions"])
    return replace(
        scn,
        stores=pd.DataFrame({"id": ["cdc"], "name": ["CDC"], "reagent_stock": [15_000]}),
        store_arrivals=pd.DataFrame({"day": [3], "store": ["cdc"], "reactions": [5_000]}),
        supply_routes=routes.drop_duplicates(["source", "target"]),
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_column_generation_and_the_whole_lp_agree_with_shipments(seed):
    scn = synthesized_with_supply(seed)
    inp = build_input(scn)
    assert inp.supply is not None
    cfg = scn.settings.plan
    w = weights(inp, cfg)
    whole = solve_lp(inp, cfg.model_copy(update={"solver": "highs"}), w)
    cg = solve_lp(inp, cfg.model_copy(update={"solver": "columns"}), w)
    assert whole.status == cg.status == "OPTIMAL"
    assert cg.objective == pytest.approx(whole.objective, rel=1e-6)
    assert whole.shipments is not None and whole.shipments.sum() > 0
    rep = plan_scenario(scn)
    assert rep.plan.method == "lp" and rep.check.ok, rep.check.violations
    assert len(rep.shipments) > 0


def test_the_network_method_is_refused_with_supply_routes(tmp_path):
    scn = load_scenario(with_supply(one_lab(tmp_path / "s", reagent=URGENT, screening=0)))
    with pytest.raises(ValueError, match="no supply routes"):
        make_plan(scn, method="network")


def kits_case(folder: Path, *, unit_kits: int, store_kits: int | None) -> Path:
    """The one lab with room for every screening sample (no urgent ones), 500 screening
    samples a day, and ``unit_kits`` collection kits at the unit; with ``store_kits``, a store
    holding them and a route to the unit (lead time 1 day)."""
    one_lab(folder, urgent=0, screening=500)
    if store_kits is None:
        with_supply(
            folder,
            stores="id,name,reagent_stock\n",
            routes="source,target,lead_days,max_reactions\n",
        )
        (folder / "kits.csv").write_text(f"holder,kits\na,{unit_kits}\n", encoding="utf-8")
    else:
        with_supply(
            folder,
            stores="id,name,reagent_stock\ncdc,CDC store,0\n",
            routes="source,target,lead_days,max_reactions\ncdc,a,1,\n",
        )
        (folder / "kits.csv").write_text(
            f"holder,kits\na,{unit_kits}\ncdc,{store_kits}\n", encoding="utf-8"
        )
    return folder


def test_kits_limit_collection_and_a_store_ships_them_in_time(tmp_path):
    rep = plan_scenario(load_scenario(kits_case(tmp_path / "s", unit_kits=1000, store_kits=1200)))
    assert rep.check.ok, rep.check.violations
    st = rep.status
    assert st["demand"].sum() == 3500 and st["not_collected"].sum() == 3500 - 2200
    assert st["tested"].sum() == 2200  # every sample collected is tested
    kits = rep.kit_shipments
    assert kits["kits"].sum() == 1200 and (kits["arrival_day"] == kits["day"] + 1).all()
    # the unit's 1,000 kits last two days: the store's arrive by day 3
    assert kits["arrival_day"].min() <= 3
    texts = rep.shortfall_texts()
    assert any(
        t.startswith("Ship 1,200 collection kits") or "collection kits from" in t for t in texts
    )
    assert any("not collected for lack of collection kits" in t for t in texts)
    assert rep.to_dict()["kit_shipments"][0]["text"].startswith("Ship ")


def test_kits_without_a_store_cap_collection_at_the_units_kits(tmp_path):
    rep = plan_scenario(load_scenario(kits_case(tmp_path / "s", unit_kits=700, store_kits=None)))
    assert rep.check.ok, rep.check.violations
    assert rep.status["not_collected"].sum() == 3500 - 700
    assert rep.status["tested"].sum() == 700 and rep.kit_shipments.empty


def test_the_check_catches_samples_collected_beyond_the_kits(tmp_path):
    scn = load_scenario(kits_case(tmp_path / "s", unit_kits=1000, store_kits=1200))
    rep = plan_scenario(scn)
    more = rep.status.assign(not_collected=0)  # as if every sample were collected
    found = "\n".join(
        check_plan(
            scn, rep.allocations, more, rep.plan.shipments_table(), rep.plan.kit_shipments_table()
        ).violations
    )
    assert "more poolable samples collected than kits" in found
    ships = rep.plan.kit_shipments_table().assign(kits=5000)
    found = "\n".join(
        check_plan(scn, rep.allocations, rep.status, rep.plan.shipments_table(), ships).violations
    )
    assert "kits shipped beyond its kits" in found


def collected_by_day(rep) -> pd.Series:
    st = rep.status
    return (st["demand"] - st["not_collected"]).groupby(st["day"]).sum()


def test_kits_arriving_at_a_unit_are_collected_with_from_their_day_only(tmp_path):
    folder = kits_case(tmp_path / "s", unit_kits=700, store_kits=None)
    (folder / "kit_arrivals.csv").write_text("day,holder,kits\n4,a,1000\n", encoding="utf-8")
    rep = plan_scenario(load_scenario(folder))
    assert rep.check.ok, rep.check.violations
    by_day = collected_by_day(rep)
    assert by_day.sum() == 1700 and rep.status["tested"].sum() == 1700
    assert by_day.loc[1:3].sum() <= 700  # the 1,000 are there from day 4 only
    scn = load_scenario(folder)
    # without the arrival, the same plan collects beyond the kits: the check says so
    found = "\n".join(
        check_plan(
            replace(scn, kit_arrivals=scn.kit_arrivals.iloc[0:0]),
            rep.allocations,
            rep.status,
            rep.plan.shipments_table(),
            rep.plan.kit_shipments_table(),
        ).violations
    )
    assert "more poolable samples collected than kits" in found


def test_kits_arriving_at_a_store_are_shipped_on_from_their_day(tmp_path):
    folder = kits_case(tmp_path / "s", unit_kits=500, store_kits=0)
    (folder / "kit_arrivals.csv").write_text("day,holder,kits\n3,cdc,2000\n", encoding="utf-8")
    rep = plan_scenario(load_scenario(folder))
    assert rep.check.ok, rep.check.violations
    kits = rep.kit_shipments
    assert kits["kits"].sum() <= 2000 and kits["day"].min() >= 3
    # day 3's shipment is usable on day 4: 500 own kits, then 2,000 over days 4-7
    assert collected_by_day(rep).sum() == 500 + kits["kits"].sum()
    assert kits["kits"].sum() == 2000


def test_kit_arrivals_name_a_store_or_a_unit_the_kits_table_lists(tmp_path):
    folder = kits_case(tmp_path / "s", unit_kits=500, store_kits=0)
    (folder / "kit_arrivals.csv").write_text(
        "day,holder,kits\n3,nowhere,20\n3,L1,5\n9,cdc,5\n2,a,0\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(folder)
    text = str(err.value)
    assert "kit_arrivals.csv" in text and "nowhere" in text and "L1" in text
    assert "after the horizon" in text and "kits" in text


def test_kits_in_supply_csv_and_vietnamese(tmp_path):
    folder = kits_case(tmp_path / "s", unit_kits=1000, store_kits=1200)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["plan", str(folder), "--out", str(out), "--lang", "vi"])
    assert r.exit_code == 0, r.output
    supply = pd.read_csv(out / "supply.csv")  # data: English keys and codes
    assert set(supply["resource"]) == {"kits"} and supply["quantity"].sum() == 1200
    sheet = pd.read_excel(out / "plan.xlsx", sheet_name="Chuyển sinh phẩm, dụng cụ")  # Vietnamese
    assert set(sheet["Loại"]) == {"bộ dụng cụ lấy mẫu"} and sheet["Số lượng"].sum() == 1200
    assert "không được lấy do thiếu bộ dụng cụ" in " ".join(r.output.split())


def test_what_it_takes_names_the_reagent_the_province_must_receive_by_day(tmp_path):
    folder = with_supply(
        one_lab(tmp_path / "s", reagent=URGENT, screening=500),
        stores="id,name,reagent_stock\ncdc,CDC store,400\n",
    )
    rep = plan_scenario(load_scenario(folder))
    need = rep.to_dict()["national_supply"]
    # a week of urgent samples, less the lab's stock and the store's
    assert need["reactions"] == 7 * URGENT - URGENT - 400
    assert need["streams"]["f1"] == need["reactions"] and need["streams"]["screen"] == 0
    days = need["by_day"]
    assert days[-1]["cumulative"] == need["reactions"] and days[-1]["day"] == 7
    # just in time: by each day no more than the days up to it need
    for d in days:
        assert d["cumulative"] <= d["day"] * URGENT - URGENT - 400 + 1
    assert rep.shortfall_texts()[2].startswith("What it takes: the province must receive 1,808")
    assert rep.shortfall_texts("vi")[2].startswith("Cần bổ sung: tỉnh phải nhận 1.808")


def test_no_what_it_takes_when_the_stores_suffice(tmp_path):
    rep = plan_scenario(load_scenario(with_supply(one_lab(tmp_path / "s", reagent=URGENT))))
    assert rep.to_dict()["national_supply"] is None


def test_compare_with_and_without_shipments_on_one_lab(tmp_path):
    folder = with_supply(one_lab(tmp_path / "s", reagent=800, screening=0))
    scn = load_scenario(folder)
    rep = plan_scenario(scn)
    cmp_ = compare_with_greedy(scn, rep)["supply"]
    assert cmp_["urgent_streams"] == ["f1"] and cmp_["without_check_ok"]
    with_, without = cmp_["with"], cmp_["without"]
    assert with_["tested"] == 7 * URGENT and without["tested"] == 800  # reagent-bound
    assert with_["urgent_within_turnaround"] == 7 * URGENT
    assert without["urgent_within_turnaround"] == 800
    assert cmp_["more_tested"] == 7 * URGENT - 800
    assert with_["reagent_left"] == rep.days["reagent_left"].tolist()
    assert without["reagent_left"] == [800 - URGENT, 800 - 2 * URGENT] + [0.0] * 5
    # the store ships what the lab lacks; without routes it keeps its 5,000 reactions
    assert with_["store_left"][-1] == 5000 - (7 * URGENT - 800)
    assert without["store_left"] == [5000.0] * 7
    assert "2,576 samples tested against 800 (+1,776)" in cmp_["text"]["en"]
    assert "2.576 mẫu được xét nghiệm so với 800" in cmp_["text"]["vi"]
    r = CliRunner().invoke(app, ["plan", str(folder), "--json", "--compare"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["baseline"]["supply"]["more_tested"] == 7 * URGENT - 800
    r = CliRunner().invoke(app, ["plan", str(folder), "--compare", "--lang", "vi"])
    assert "Có các đợt chuyển sinh phẩm so với không có" in r.output


def test_compare_without_routes_has_no_supply_part(tmp_path):
    scn = load_scenario(one_lab(tmp_path / "s", reagent=800, screening=0))
    cmp_ = compare_with_greedy(scn, plan_scenario(scn))
    assert cmp_["supply"] is None and "shipments" not in cmp_["text"]["en"]


def test_thanh_hoa_tests_more_with_its_shipments_than_without():
    scn = load_scenario(EXAMPLES / "thanh_hoa")
    rep = plan_scenario(scn)
    cmp_ = compare_with_greedy(scn, rep)["supply"]
    assert cmp_["urgent_streams"] == ["reactive", "symptomatic"] and cmp_["without_check_ok"]
    with_, without = cmp_["with"], cmp_["without"]
    assert with_["tested"] > without["tested"]
    assert with_["urgent_within_turnaround"] >= without["urgent_within_turnaround"]
    assert with_["untested"] <= without["untested"]
    assert without["store_left"] == [20_000.0] * 7 and with_["store_left"][-1] < 20_000
    assert len(with_["reagent_left"]) == len(without["reagent_left"]) == 7


def test_thanh_hoa_with_its_store_names_capacity_not_reagent():
    """The store still holds reagent at the end of the week: a lab that ends a day empty could
    have been refilled, so the report blames capacity (the labs are full), not reagent."""
    rep = plan_scenario(load_scenario(EXAMPLES / "thanh_hoa"))
    assert rep.check.ok, rep.check.violations
    assert len(rep.shipments) > 0
    assert not [i for i in rep.shortfall if i["kind"] in ("reagent_day", "reagent")]
    assert rep.days.set_index("day").loc[7, "cause"] == "capacity"
    assert rep.status["untested"].sum() == 0


def test_labs_table_on_hand_counts_what_a_lab_sends_that_day(tmp_path):
    rep = plan_scenario(load_scenario(two_labs(tmp_path / "s", giver_stock=3000, taker_stock=0)))
    giver = rep.labs[rep.labs["lab"] == "giver"].set_index("day")
    assert giver.loc[1, "reagent_on_hand"] == 3000
    assert giver["reagent_sent"].sum() == 7 * URGENT and giver.loc[1, "reagent_sent"] > 0
    left = giver["reagent_on_hand"] - giver["reactions"] - giver["reagent_sent"]
    assert (abs(left - giver["reagent_left"]) < 0.2).all()


def test_settling_tops_up_the_safety_stock_the_rounding_used_and_merges_shipments():
    """settle(): one store (100 reactions), one lab with cover 1 day, a route of lead 1.
    The lab ends day 2 with nothing left after using 40: 40 more arrive by day 2, sent on day 1;
    a later shipment on the same route joins the first when the store can spare it."""
    sup = Supply(
        store_ids=["s"],
        store_stock=np.full((1, 4), 100.0),
        source=np.array([0]),
        target=np.array([0]),
        lead=np.array([1]),
        limit=np.array([np.inf]),
        cover_days=1.0,
        kit_units=np.zeros(0, dtype=np.int64),
        unit_kits=np.zeros((0, 4)),
        store_kits=np.zeros((1, 4)),
        kit_source=np.zeros(0, dtype=np.int64),
        kit_target=np.zeros(0, dtype=np.int64),
        kit_lead=np.zeros(0, dtype=np.int64),
        kit_limit=np.zeros(0),
    )
    own = np.full((1, 4), 50.0)  # the lab's own reagent, all on day 1
    used = np.array([[10.0, 40.0, 0.0, 0.0]])
    w = np.array([[0.0, 0.0, 20.0, 0.0]])  # the LP's: 20 sent on day 3
    out = settle(sup, w, own, used)
    assert out[0, 0] == 40 + 20 and out[0, 2] == 0  # topped up, then merged into day 1
    sup.cover_days = 0.0
    store_short = replace(sup, store_stock=np.array([[10.0, 10.0, 30.0, 30.0]]))
    kept = settle(store_short, np.array([[10.0, 0.0, 20.0, 0.0]]), own, used)
    assert kept.tolist() == [[10.0, 0.0, 20.0, 0.0]]  # the store gets the 20 only on day 3


def test_whole_kits_cut_a_store_to_what_it_holds_each_day_and_never_add_kits():
    """A store holding 10 kits and 3 more on day 3 ships 6, 6, 2 (the LP's) to one unit
    (lead 0): 12 by day 2 is 2 too many, cut from day 2; day 3 is then within its 13."""
    sup = Supply(
        store_ids=["s"],
        store_stock=np.zeros((1, 3)),
        source=np.zeros(0, dtype=np.int64),
        target=np.zeros(0, dtype=np.int64),
        lead=np.zeros(0, dtype=np.int64),
        limit=np.zeros(0),
        cover_days=1.0,
        kit_units=np.array([0]),
        unit_kits=np.zeros((1, 3)),
        store_kits=np.array([[10.0, 0.0, 3.0]]),
        kit_source=np.array([0]),
        kit_target=np.array([0]),
        kit_lead=np.array([0]),
        kit_limit=np.array([np.inf]),
    )
    demand = np.full((1, 1, 3), 20.0)
    y, collected = whole_kits(
        sup,
        demand,
        np.array([True]),
        np.array([3]),
        np.array([[6.0, 6.0, 2.0]]),
        np.zeros((1, 1, 3)),
    )
    assert y.tolist() == [[6.0, 4.0, 2.0]]
    assert np.cumsum(y).tolist() == [6.0, 10.0, 12.0]  # within 10, 10, 13 held
    assert collected[0, 0].tolist() == [6.0, 4.0, 2.0]  # each day's kits, no more
