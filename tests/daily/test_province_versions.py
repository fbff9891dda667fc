"""The workspace's static province replaced mid-loop (`labopt day province`): a lab opened, one
closed; the old version kept; the records that no longer fit left out and named; a change that
would rewrite the state at the first date refused, with nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from labopt.cli.main import app
from labopt.daily.workspace import Workspace
from labopt.scenario import load_scenario

TINY = Path(__file__).parents[1] / "data" / "tiny"
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


@pytest.fixture
def ws(tmp_path):
    ws = tmp_path / "ws"
    assert run("day", "init", ws, "--from", TINY).exit_code == 0
    return ws


def edited(tmp_path: Path, name: str, edit) -> Path:
    """A copy of tiny with one table edited (edit(frame) -> frame) or its settings (str)."""
    folder = tmp_path / name
    shutil.copytree(TINY, folder)
    if isinstance(edit, tuple):
        table, change = edit
        df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        change(df).to_csv(folder / f"{table}.csv", index=False)
    else:
        toml = folder / "scenario.toml"
        toml.write_text(edit(toml.read_text(encoding="utf-8")), encoding="utf-8")
    return folder


def test_a_lab_opened_and_one_closed_apply_from_the_next_plan(ws, tmp_path):
    (tmp_path / "tested.csv").write_text(
        "lab,district,stream,samples\nhosp,a,reactive,50\ncdc,a,reactive,100\n"
    )
    r = run("day", "record", ws, "tested", tmp_path / "tested.csv", "--date", "2021-10-04")
    assert r.exit_code == 0, r.output
    before = load_scenario(ws / "province")

    def swap_labs(df):
        new = df[df["id"] == "cdc"].assign(id="new", name="Phòng xét nghiệm mới")
        return pd.concat([df[df["id"] != "hosp"], new], ignore_index=True)

    v2 = edited(tmp_path, "v2", ("labs", swap_labs))
    (v2 / "deliveries.csv").unlink()  # hosp's delivery: a record of the workspace now
    r = run("day", "province", ws, "--from", v2)
    assert r.exit_code == 0, r.output
    assert "province version 2" in r.output
    # the lab closed had a delivery and a day of tests: kept in the history, left out, named
    assert "2 current records no longer fit" in r.output
    assert "tested 2021-10-04 hosp: no lab hosp" in r.output
    assert "deliveries 2021-10-05 hosp: no lab hosp" in r.output
    kept = load_scenario(ws / "province-versions" / "1")
    assert [lab.id for lab in kept.labs] == [lab.id for lab in before.labs]
    w = Workspace(ws)
    assert w.version == 2 and json.loads((ws / "workspace.json").read_text())["province_version"]
    assert sorted(w.history("tested")["lab"]) == ["cdc", "hosp"]  # the history keeps it
    assert list(w.records().tested["lab"]) == ["cdc"]
    assert set(w.not_applied()["scope"]) == {"hosp"}
    # the next plan uses the new lab, never the closed one, and its check passes
    r = run("day", "plan", ws, "--date", "2021-10-05", "--days", "3", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["plan"]["check"]["ok"] and data["state"]["province_version"] == 2
    planned = pd.read_csv(ws / "plans" / "2021-10-05" / "planned.csv")
    assert "hosp" not in set(planned["lab"]) and "new" in set(planned["lab"])
    # a record for the closed lab is refused now, naming it
    (tmp_path / "late.csv").write_text("lab,district,stream,samples\nhosp,a,reactive,5\n")
    r = run("day", "record", ws, "tested", tmp_path / "late.csv", "--date", "2021-10-05")
    assert r.exit_code != 0 and "hosp" in r.output
    # and it can be replaced again: version 2 kept beside version 1
    r = run("day", "province", ws, "--from", TINY)
    assert r.exit_code == 0, r.output
    assert (ws / "province-versions" / "2" / "labs.csv").is_file()
    assert Workspace(ws).not_applied().empty
    assert sorted(Workspace(ws).records().tested["lab"]) == ["cdc", "hosp"]


@pytest.mark.parametrize(
    "edit, said",
    [
        (lambda t: t.replace("2021-10-04", "2021-10-06"), "its start date is 2021-10-06"),
        (
            ("labs", lambda df: df.assign(reagent_stock=df["reagent_stock"].replace("400", "900"))),
            "lab hosp's reagent_stock is 900, the workspace's is 400",
        ),
        (
            ("backlog", lambda df: df),
            "its backlog differs",
        ),
    ],
    ids=["start date", "reagent stock", "backlog"],
)
def test_a_change_to_the_first_dates_state_is_refused_and_nothing_written(ws, tmp_path, edit, said):
    if isinstance(edit, tuple) and edit[0] == "backlog":
        folder = tmp_path / "v2"
        shutil.copytree(TINY, folder)
        (folder / "backlog.csv").write_text("district,stream,age_days,samples\na,screening,1,30\n")
    else:
        folder = edited(tmp_path, "v2", edit)
    before = snapshot(ws)
    r = run("day", "province", ws, "--from", folder)
    assert r.exit_code != 0
    assert said in " ".join(r.output.split()), r.output
    assert snapshot(ws) == before
    assert not (ws / "province-versions").exists()


def test_a_units_kits_are_taken_once_and_never_changed_and_a_store_taken(ws, tmp_path):
    folder = tmp_path / "v2"
    shutil.copytree(TINY, folder)
    # unit b, limited by kits from now on, held enough at the first date for what it collected
    (folder / "kits.csv").write_text("holder,kits\nb,100000\n")
    r = run("day", "province", ws, "--from", folder)
    assert r.exit_code == 0 and "warning" not in r.output, r.output
    assert Workspace(ws).province.kits.to_dict("records") == [{"holder": "b", "kits": 100000}]
    before = snapshot(ws)
    (folder / "kits.csv").write_text("holder,kits\nb,100\n")  # the first date's kits: fixed
    r = run("day", "province", ws, "--from", folder)
    said = " ".join(r.output.split())
    assert r.exit_code != 0 and "its kits table gives other kits at the first date" in said
    assert "to b;" in said and "kit_counts" in said
    assert snapshot(ws) == before
    (folder / "kits.csv").write_text("holder,kits\nb,100000\n")
    # a store and its routes are carried: taken, the store's stock from the first date
    (folder / "stores.csv").write_text("id,name,reagent_stock\nstore,Kho,900\n")
    (folder / "supply_routes.csv").write_text(
        "source,target,lead_days,max_reactions\nstore,hosp,1,\n"
    )
    r = run("day", "province", ws, "--from", folder)
    assert r.exit_code == 0, r.output
    assert Workspace(ws).province.stores["reagent_stock"].tolist() == [900]
    # a store's stock at the first date is the state then, like a lab's: it cannot change
    (folder / "stores.csv").write_text("id,name,reagent_stock\nstore,Kho,100\n")
    r = run("day", "province", ws, "--from", folder)
    assert r.exit_code != 0 and "store store's reagent_stock is 100" in " ".join(r.output.split())


def test_its_dated_tables_are_not_taken_and_it_says_so(ws, tmp_path):
    folder = edited(
        tmp_path, "v2", ("demand", lambda df: df.assign(samples=df["samples"].replace("", "0")))
    )
    collected = Workspace(ws).records().collected
    r = run("day", "province", ws, "--from", folder)
    assert r.exit_code == 0, r.output
    assert "demand, deliveries rows were not taken" in " ".join(r.output.split())
    pd.testing.assert_frame_equal(Workspace(ws).records().collected, collected)


@pytest.fixture
def stored(tmp_path):
    """A workspace of tiny with a store (900 reactions) and routes store -> hosp (a day),
    store -> cdc (the same day), and the store's shipments of the first date recorded."""
    folder = tmp_path / "with_store"
    shutil.copytree(TINY, folder)
    (folder / "stores.csv").write_text("id,name,reagent_stock\nstore,Kho,900\n")
    (folder / "supply_routes.csv").write_text(
        "source,target,lead_days,max_reactions\nstore,hosp,1,\nstore,cdc,0,\n"
    )
    ws = tmp_path / "ws_store"
    assert run("day", "init", ws, "--from", folder).exit_code == 0
    (tmp_path / "sent.csv").write_text("source,target,reactions\nstore,hosp,300\n")
    r = run("day", "record", ws, "shipments", tmp_path / "sent.csv", "--date", "2021-10-04")
    assert r.exit_code == 0, r.output
    return ws, folder


@pytest.mark.parametrize(
    "change, said",
    [
        (
            lambda f: (f / "supply_routes.csv").write_text(
                "source,target,lead_days,max_reactions\nstore,cdc,0,\n"
            ),
            "the route store -> hosp carried 300 reactions on 2021-10-04; the new province has "
            "none",
        ),
        (
            lambda f: (f / "supply_routes.csv").write_text(
                "source,target,lead_days,max_reactions\nstore,hosp,3,\nstore,cdc,0,\n"
            ),
            "with a lead of 1 days; the new province gives 3",
        ),
    ],
    ids=["route removed", "lead changed"],
)
def test_shipments_already_sent_keep_their_route(stored, tmp_path, change, said):
    ws, folder = stored
    new = tmp_path / "v2"
    shutil.copytree(folder, new)
    change(new)
    before = snapshot(ws)
    r = run("day", "province", ws, "--from", new)
    assert r.exit_code != 0 and said in " ".join(r.output.split()), r.output
    assert snapshot(ws) == before


def test_a_scenario_inside_the_workspace_is_refused_before_anything_is_written(ws):
    before = snapshot(ws)
    r = run("day", "province", ws, "--from", ws / "province")
    assert r.exit_code != 0 and "lies inside the workspace" in " ".join(r.output.split())
    assert snapshot(ws) == before and not (ws / "province-versions").exists()


def test_a_unit_added_with_samples_waiting_at_the_first_date_is_refused(ws, tmp_path):
    folder = tmp_path / "v2"
    shutil.copytree(TINY, folder)
    with (folder / "districts.csv").open("a") as f:
        row = (folder / "districts.csv").read_text().splitlines()[1].split(",")
        f.write(",".join(["new", *row[1:]]) + "\n")
    with (folder / "prevalence.csv").open("a") as f:
        for line in (TINY / "prevalence.csv").read_text().splitlines()[1:]:
            if line.startswith("a,"):
                f.write("new," + line[2:] + "\n")
    (folder / "backlog.csv").write_text("district,stream,age_days,samples\nnew,screening,1,500\n")
    before = snapshot(ws)
    r = run("day", "province", ws, "--from", folder)
    assert r.exit_code != 0 and "its backlog differs" in " ".join(r.output.split()), r.output
    assert snapshot(ws) == before
    (folder / "backlog.csv").unlink()  # without it, the unit is added
    r = run("day", "province", ws, "--from", folder)
    assert r.exit_code == 0, r.output
    assert "new" in {d.code for d in Workspace(ws).province.districts}


def test_a_shipment_beyond_the_stores_stock_warns_when_recorded(stored, tmp_path):
    ws, _ = stored
    (tmp_path / "more.csv").write_text("source,target,reactions\nstore,cdc,700\n")
    r = run("day", "record", ws, "shipments", tmp_path / "more.csv", "--date", "2021-10-05")
    assert r.exit_code == 0
    said = " ".join(r.output.split())
    assert (
        "warning" in said and "store store sent 700 reactions on 2021-10-05 with only 600" in said
    )


def test_a_store_arrival_of_the_new_province_is_said_not_taken(stored, tmp_path):
    ws, folder = stored
    (folder / "store_arrivals.csv").write_text("day,store,reactions\n2,store,999\n")
    r = run("day", "province", ws, "--from", folder)
    assert r.exit_code == 0, r.output
    assert "store_arrivals rows were not taken" in " ".join(r.output.split())


def test_a_shipment_to_a_store_is_one_problem(stored, tmp_path):
    ws, _ = stored
    (tmp_path / "bad.csv").write_text("source,target,reactions\nstore,store,5\n")
    r = run("day", "record", ws, "shipments", tmp_path / "bad.csv", "--date", "2021-10-05")
    assert r.exit_code != 0
    assert "1 problem in" in r.output and "unknown lab id" in r.output
