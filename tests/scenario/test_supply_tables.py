"""The reagent supply network in a scenario: stores, their arrivals from the national level and
the supply routes, collection kits and their arrivals (optional tables), and
policy.reagent_cover_days."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from labopt.scenario import (
    ScenarioError,
    load_scenario,
    save_folder,
    save_xlsx,
    scenario_from_data,
    scenario_to_data,
)
from labopt.scenario.schema import SUPPLY_TABLES
from labopt.scenario.updates import plan_window
from labopt_api.main import create_app
from tests.scenario_files import FIXTURES, TINY, copy_tiny, edit
from tests.service.conftest import Service, settings_for

SUPPLY_FILES = [f"{t.name}.csv" for t in SUPPLY_TABLES]


def with_supply(folder):
    """The tiny scenario (labs cdc, hosp, priv; 3 days) with two stores and their routes."""
    (folder / "stores.csv").write_text(
        "id,name,reagent_stock\nkho-cdc,Kho CDC tỉnh,20000\nkho-syt,Kho Sở Y tế,500\n",
        encoding="utf-8",
    )
    (folder / "store_arrivals.csv").write_text(
        "day,store,reactions\n2,kho-cdc,4000\n3,kho-syt,1000\n", encoding="utf-8"
    )
    (folder / "supply_routes.csv").write_text(
        "source,target,lead_days,max_reactions\n"
        "kho-cdc,cdc,1,\n"
        "kho-cdc,hosp,1,2500\n"
        "kho-syt,priv,2,\n"
        "cdc,hosp,0,1000.5\n"
        "kho-cdc,b,1,300\n",
        encoding="utf-8",
    )
    (folder / "kits.csv").write_text("holder,kits\nb,400\nkho-cdc,1000\n", encoding="utf-8")
    (folder / "kit_arrivals.csv").write_text(
        "day,holder,kits\n2,kho-cdc,600\n3,b,50\n", encoding="utf-8"
    )
    edit(folder / "scenario.toml", "[policy]\n", "[policy]\nreagent_cover_days = 1.5\n")
    return folder


def problems_of(path) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    return [str(p) for p in exc.value.problems]


def test_supply_tables_load_typed_and_round_trip_through_folder_and_workbook(tmp_path):
    scn = load_scenario(with_supply(copy_tiny(tmp_path)))
    assert scn.policy.reagent_cover_days == 1.5
    assert scn.stores.to_dict("records") == [
        {"id": "kho-cdc", "name": "Kho CDC tỉnh", "reagent_stock": 20000},
        {"id": "kho-syt", "name": "Kho Sở Y tế", "reagent_stock": 500},
    ]
    assert scn.store_arrivals["reactions"].tolist() == [4000, 1000]
    routes = scn.supply_routes
    assert routes["lead_days"].dtype == "int64"
    assert routes["lead_days"].tolist() == [1, 1, 2, 0, 1]
    assert routes["max_reactions"].isna().tolist() == [True, False, True, False, False]
    assert scn.kits.to_dict("records") == [
        {"holder": "b", "kits": 400},
        {"holder": "kho-cdc", "kits": 1000},
    ]
    assert routes["max_reactions"].iloc[3] == 1000.5
    assert scn.kit_arrivals.to_dict("records") == [
        {"day": 2, "holder": "kho-cdc", "kits": 600},
        {"day": 3, "holder": "b", "kits": 50},
    ]

    folder = save_folder(scn, tmp_path / "out")
    assert all((folder / name).exists() for name in SUPPLY_FILES)
    again = load_scenario(folder)
    assert again.equals(scn)
    book = load_scenario(save_xlsx(scn, tmp_path / "s.xlsx"))
    assert book.equals(scn)
    assert book.supply_routes["max_reactions"].isna().sum() == 2

    # equals compares the supply tables: a different stock is a different scenario
    changed = scn.stores.copy()
    changed.loc[0, "reagent_stock"] = 19999
    assert not replace(scn, stores=changed).equals(scn)


def test_a_scenario_without_supply_files_has_empty_tables_and_writes_none(tmp_path):
    scn = load_scenario(TINY)
    assert scn.policy.reagent_cover_days == 0.0
    for table in SUPPLY_TABLES:
        frame = getattr(scn, table.name)
        assert frame.empty and list(frame.columns) == table.column_names, table.name
    assert scn.stores["reagent_stock"].dtype == "int64"
    assert scn.supply_routes["max_reactions"].dtype == "float64"
    folder = save_folder(scn, tmp_path / "out")
    assert not any((folder / name).exists() for name in SUPPLY_FILES)
    assert "stores" not in scenario_to_data(scn)
    assert load_scenario(save_xlsx(scn, tmp_path / "s.xlsx")).equals(scn)


def test_every_bad_supply_value_is_reported_at_once_with_file_row_and_column(tmp_path):
    folder = copy_tiny(tmp_path)
    (folder / "stores.csv").write_text(
        "id,name,reagent_stock\n"
        "kho,Kho CDC,1000\n"
        "cdc,Kho trùng mã phòng xét nghiệm,10\n"  # row 3: a lab's id
        "kho,Kho lặp,10\n"  # row 4: repeated id
        "kho2,Kho âm,-5\n"  # row 5
        "kho3,Kho lẻ,12.5\n"  # row 6
        "b,Kho trùng mã địa phương,10\n",  # row 7: a unit's code
        encoding="utf-8",
    )
    (folder / "store_arrivals.csv").write_text(
        "day,store,reactions\n"
        "1,kho,100\n"
        "2,nowhere,100\n"  # row 3: unknown store
        "4,kho,100\n"  # row 4: after the 3-day horizon
        "0,kho2,100\n"  # row 5: before day 1
        "2,kho,0\n",  # row 6: nothing arrives
        encoding="utf-8",
    )
    (folder / "supply_routes.csv").write_text(
        "source,target,lead_days,max_reactions\n"
        "kho,cdc,1,\n"
        "ghost,cdc,1,\n"  # row 3: unknown source
        "kho,kho2,1,\n"  # row 4: to a store
        "kho,nolab,1,\n"  # row 5: unknown target
        "hosp,hosp,0,\n"  # row 6: to itself
        "kho,cdc,2,\n"  # row 7: repeated route
        "kho,hosp,-1,\n"  # row 8: negative lead time
        "kho,priv,1.5,\n"  # row 9: not whole
        "cdc,priv,0,0\n"  # row 10: largest shipment 0
        "hosp,priv,0,-3\n",  # row 11
        encoding="utf-8",
    )
    probs = problems_of(folder)
    expected = [
        "stores.csv, row 3, column 'id': value 'cdc': a store id must differ from every lab id",
        "stores.csv, row 4, column 'id': duplicate id=kho (first on row 2); each id may appear "
        "once",
        "stores.csv, row 5, column 'reagent_stock': value '-5': out of range; allowed: whole "
        "number, ≥ 0",
        "stores.csv, row 6, column 'reagent_stock': value '12.5': expected a whole number, ≥ 0",
        "stores.csv, row 7, column 'id': value 'b': a store id must differ from every unit code",
        "store_arrivals.csv, row 3, column 'store': value 'nowhere': unknown store id",
        "store_arrivals.csv, row 4, column 'day': value '4': day is after the horizon "
        "(province.days = 3)",
        "store_arrivals.csv, row 5, column 'day': value '0': out of range; allowed: whole "
        "number, ≥ 1",
        "store_arrivals.csv, row 6, column 'reactions': value '0': out of range; allowed: whole "
        "number, > 0",
        "supply_routes.csv, row 3, column 'source': value 'ghost': unknown store or lab id",
        "supply_routes.csv, row 4, column 'target': value 'kho2': a route ships to a lab "
        "(labs.id); this is a store id",
        "supply_routes.csv, row 5, column 'target': value 'nolab': unknown lab id",
        "supply_routes.csv, row 6, column 'target': value 'hosp': a route ships to another lab: "
        "target must differ from source",
        "supply_routes.csv, row 7, column 'target': duplicate source=kho, target=cdc (first on "
        "row 2); each source + target may appear once",
        "supply_routes.csv, row 8, column 'lead_days': value '-1': out of range; allowed: whole "
        "number, ≥ 0",
        "supply_routes.csv, row 9, column 'lead_days': value '1.5': expected a whole number, ≥ 0",
        "supply_routes.csv, row 10, column 'max_reactions': value '0': out of range; allowed: "
        "number, > 0 (blank allowed)",
        "supply_routes.csv, row 11, column 'max_reactions': value '-3': out of range; allowed: "
        "number, > 0 (blank allowed)",
    ]
    for text in expected:
        assert any(text in p for p in probs), (text, probs)
    # nothing else: each bad value once, no row reported for a problem it does not have
    assert len(probs) == len(expected), probs


def test_an_unreadable_stores_file_is_reported_once_not_through_every_reference(tmp_path):
    folder = with_supply(copy_tiny(tmp_path))
    (folder / "stores.csv").write_text(
        "id,name,reagent_stock\nkho-cdc,Kho CDC,20,000\n", encoding="utf-8"
    )
    probs = problems_of(folder)
    assert len(probs) == 1 and probs[0].startswith("stores.csv: "), probs


def test_reagent_cover_days_is_not_negative(tmp_path):
    folder = copy_tiny(tmp_path)
    edit(folder / "scenario.toml", "[policy]\n", "[policy]\nreagent_cover_days = -1\n")
    assert problems_of(folder) == [
        "scenario.toml, setting 'policy.reagent_cover_days': value '-1': Input should be greater than or equal to 0"
    ]


def test_supply_problems_in_a_workbook_name_the_sheet(tmp_path):
    scn = load_scenario(with_supply(copy_tiny(tmp_path)))
    routes = scn.supply_routes.copy()
    routes.loc[1, "target"] = "kho-syt"
    book = save_xlsx(replace(scn, supply_routes=routes), tmp_path / "bad.xlsx")
    assert problems_of(book) == [
        "bad.xlsx, sheet 'supply_routes', row 3, column 'target': value 'kho-syt': a route ships "
        "to a lab (labs.id); this is a store id"
    ]


def test_a_later_plan_window_counts_earlier_store_arrivals_as_stock(tmp_path):
    scn = load_scenario(with_supply(copy_tiny(tmp_path)))
    later = plan_window(scn, dt.date(2021, 10, 6))  # day 3 of 3
    stock = later.stores.set_index("id")["reagent_stock"]
    assert stock.to_dict() == {"kho-cdc": 24000, "kho-syt": 500}
    assert later.store_arrivals.to_dict("records") == [
        {"day": 1, "store": "kho-syt", "reactions": 1000}
    ]
    assert scn.stores["reagent_stock"].tolist() == [20000, 500]  # the original unchanged


def test_thanh_hoa_has_a_cdc_store_with_routes_to_every_lab():
    scn = load_scenario(FIXTURES / "thanh_hoa")
    assert scn.stores.to_dict("records") == [
        {"id": "cdc_store", "name": "Kho CDC Thanh Hóa", "reagent_stock": 20000}
    ]
    routes = scn.supply_routes
    from_store = routes[routes["source"] == "cdc_store"]
    assert sorted(from_store["target"]) == sorted(lab.id for lab in scn.labs)
    assert set(from_store["lead_days"]) == {1}
    between = routes[routes["source"] != "cdc_store"]
    same_unit = [
        scn.lab_by_id[s].district == scn.lab_by_id[t].district
        for s, t in zip(between["source"], between["target"], strict=True)
    ]
    assert len(between) == 7 * 6 + 2 * 1 and all(same_unit)
    assert scn.store_arrivals.empty


def test_the_service_stores_and_returns_a_scenario_with_its_supply_tables(tmp_path):
    scn = load_scenario(with_supply(copy_tiny(tmp_path)))
    body = json.loads(json.dumps(scenario_to_data(scn), default=str))
    assert body["supply_routes"][0]["max_reactions"] is None
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'labopt.db'}"))
    with TestClient(app) as client:
        service = Service(app, client)
        h = service.key("coordinator", "tiny")
        r = client.post("/v1/scenarios", headers=h, json=body)
        assert r.status_code == 201, r.text
        got = client.get(f"/v1/scenarios/{r.json()['id']}", headers=h).json()["data"]
        assert got["stores"] == body["stores"]
        assert got["supply_routes"] == body["supply_routes"]
        assert scenario_from_data(got).equals(scn)
        bad = {**body, "supply_routes": [{**body["supply_routes"][0], "target": "kho-cdc"}]}
        r = client.post("/v1/scenarios", headers=h, json=bad)
        assert r.status_code == 422
        assert "this is a store id" in r.text and "supply_routes" in r.text
    assert pd.isna(scn.supply_routes["max_reactions"].iloc[0])
