"""`labopt scenario new DIR`: a commented scenario folder, generated from the scenario's own
declarations, that `labopt scenario check` and `labopt plan` accept as written."""

import datetime as dt
import json
import re
import tomllib

from labopt.files import MARKER, read_marker
from labopt.scenario import load_scenario
from labopt.scenario.model import Settings
from labopt.scenario.schema import TABLES
from labopt.scenario.template import settings_toml
from tests.cli.helpers import refused, run, snapshot


def test_the_new_folder_passes_check_and_plans(tmp_path):
    out = tmp_path / "province"
    r = run("scenario", "new", out)
    assert r.exit_code == 0, r.output
    written = set(read_marker(out))
    assert written == {
        "scenario.toml",
        "README.md",
        "districts.csv",
        "labs.csv",
        "prevalence.csv",
        "demand.csv",
        "backlog.csv",
        "deliveries.csv",
        "lab_days.csv",
        "stores.csv",
        "store_arrivals.csv",
        "supply_routes.csv",
        "kits.csv",
        "kit_arrivals.csv",
    }
    check = run("scenario", "check", out)
    assert check.exit_code == 0, check.output
    assert "OK" in check.output and "warning" not in check.output
    plan = run("plan", out, "--days", "2", "--json")
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.stdout)["check"]["ok"]


def test_every_table_and_column_of_the_schema_is_in_the_template(tmp_path):
    out = tmp_path / "new"
    assert run("scenario", "new", out).exit_code == 0
    for table in TABLES:
        path = out / f"{table.name}.csv"
        if table.name == "travel":  # present, it would be the only allowed pairs
            assert not path.exists()
            continue
        header = path.read_text(encoding="utf-8").partition("\n")[0]
        assert header.split(",") == table.column_names, table.name
        assert f"`{table.name}.csv`" in (out / "README.md").read_text(encoding="utf-8")
    scn = load_scenario(out)
    assert len(scn.districts) == len(scn.labs) == len(scn.streams) == 1
    assert all("replace with your own" in x.name for x in (*scn.districts, *scn.labs))


def test_every_setting_is_written_and_commented_lines_hold_the_defaults():
    text = settings_toml(dt.date(2025, 1, 6))
    for section, field in Settings.model_fields.items():
        if section == "streams":
            continue
        for name in field.annotation.model_fields:
            assert re.search(rf"^(# )?{name} = ", text, re.M), f"{section}.{name}"
    # every setting written commented out takes its default: uncommenting them changes nothing
    as_written = Settings.model_validate(tomllib.loads(text))
    uncommented = re.sub(r"^# ([a-z_]+ = )", r"\1", text, flags=re.M)
    data = tomllib.loads(uncommented)
    assert data["province"].pop("number_format") == "en"
    assert Settings.model_validate(data) == as_written
    assert as_written.province.start_date == dt.date(2025, 1, 6)


def test_a_folder_labopt_did_not_write_is_refused_and_force_writes_beside(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"four years of work")
    refused(run("scenario", "new", out), "not a labopt output folder", "thesis.docx", "--force")
    assert snapshot(out) == {"thesis.docx": b"four years of work"}
    r = run("scenario", "new", out, "--force")
    assert r.exit_code == 0, r.output
    assert (out / "thesis.docx").read_bytes() == b"four years of work"
    assert "thesis.docx" not in read_marker(out)
    assert run("scenario", "check", out).exit_code == 0


def test_a_scenario_labopt_wrote_is_not_replaced_without_force(tmp_path):
    """The user edits the new folder: writing it again would replace the edits."""
    out = tmp_path / "province"
    assert run("scenario", "new", out).exit_code == 0
    labs = out / "labs.csv"
    labs.write_text(labs.read_text(encoding="utf-8").replace("lab1", "my-lab"), encoding="utf-8")
    before = snapshot(out)
    refused(run("scenario", "new", out), "already holds files labopt wrote", MARKER, "--force")
    assert snapshot(out) == before
    assert run("scenario", "new", out, "--force").exit_code == 0
    assert "my-lab" not in labs.read_text(encoding="utf-8")
