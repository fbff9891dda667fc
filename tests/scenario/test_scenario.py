"""Scenario files: loading, every kind of bad file, CSV/XLSX round trips, synthetic scenarios."""

from pathlib import Path

import pandas as pd
import pytest

from labopt.scenario import ScenarioError, load_scenario, save_folder, save_xlsx
from labopt.scenario.schema import TABLES, markdown
from labopt.scenario.synth import synthesize
from labopt.scenario.travel import travel_table
from tests.scenario_files import TINY, copy_tiny, edit

# the scenario file reference of the documentation site
SCENARIO_REFERENCE = (
    Path(__file__).resolve().parents[2] / "docs" / "reference" / "scenario-files.md"
)


@pytest.fixture
def tiny(tmp_path):
    return copy_tiny(tmp_path)


def problems_of(path) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    return [str(p) for p in exc.value.problems]


def test_tiny_scenario_loads_with_diacritics_and_filled_prevalence():
    scn = load_scenario(TINY)
    assert scn.province.name == "Tỉnh Thử Nghiệm"
    assert [d.name for d in scn.districts] == ["Thành phố Á", "Huyện Bê"]
    assert scn.lab_by_id["hosp"].reactions_per_staff_shift == 150
    assert scn.lab_by_id["cdc"].reactions_per_staff_shift is None
    d = scn.demand.set_index(["day", "district", "stream"])["prevalence"]
    assert d[(1, "a", "screening")] == 0.01  # from prevalence.csv
    assert d[(2, "a", "screening")] == 0.02  # that day's override
    assert scn.stream_by_id["screening"].poolable
    assert scn.date_of(3).isoformat() == "2021-10-06"


@pytest.mark.parametrize(
    "table,old,new,expected",
    [
        (
            "districts.csv",
            "200000",
            "-5",
            "districts.csv, row 2, column 'population': value '-5': out of range",
        ),
        (
            "districts.csv",
            "mountainous",
            "hilly",
            "row 3, column 'area_type': value 'hilly': not an allowed value; allowed: concentrated_urban",
        ),
        (
            "districts.csv",
            ",3\n",
            ",7\n",
            "column 'epidemic_level': value '7': out of range; allowed: whole number, ≥ 1, ≤ 4",
        ),
        (
            "labs.csv",
            ",2,96,2.0,2,96,1.5,6,2,",
            ",2,96,2.0,2,96,abc,6,2,",
            "labs.csv, row 2, column 'extraction_run_hours': value 'abc': expected a number",
        ),
        (
            "labs.csv",
            "active,2,1,96,2.5",
            "running,2,1,96,2.5",
            "column 'status': value 'running': not an allowed value; allowed: active, standby",
        ),
        (
            "labs.csv",
            ",b,20.10",
            ",zz,20.10",
            "labs.csv, row 4, column 'district': value 'zz': unknown district code",
        ),
        (
            "labs.csv",
            "1,96,2.5,1,32,1.0,2,2,6,",
            "1,96,2.5,1,32,1.0,2,2,96,",
            "control wells must leave room for samples",
        ),
        (
            "labs.csv",
            "2,4,5000",
            "2.5,4,5000",
            "column 'shifts_per_day': value '2.5': expected a whole number",
        ),
        (
            "demand.csv",
            "3,b,screening,1000",
            "9,b,screening,1000",
            "demand.csv, row 13, column 'day': value '9': day is after the horizon (province.days = 3)",
        ),
        (
            "demand.csv",
            "2,b,reactive",
            "2,b,pcr",
            "column 'stream': value 'pcr': unknown stream id",
        ),
        (
            "demand.csv",
            "2,a,reactive,600",
            "1,a,reactive,600",
            "duplicate day=1, district=a, stream=reactive (first on row 2)",
        ),
        (
            "prevalence.csv",
            "b,screening,0.002\n",
            "",
            "no prevalence for district 'b', stream 'screening'",
        ),
        (
            "prevalence.csv",
            "0.05",
            "1.5",
            "column 'prevalence': value '1.5': out of range; allowed: number, ≥ 0, ≤ 1",
        ),
        (
            "deliveries.csv",
            "hosp,2",
            "nope,2",
            "deliveries.csv, row 2, column 'lab': value 'nope': unknown lab id",
        ),
        (
            "districts.csv",
            "epidemic_level",
            "epidemic_lvl",
            "column 'epidemic_lvl': unknown column; did you mean 'epidemic_level'?",
        ),
        (
            "scenario.toml",
            "max_stages = 2",
            "max_stages = 9",
            "scenario.toml, setting 'policy.max_stages': value '9': Input should be less than or equal to 4",
        ),
        ("scenario.toml", "days = 3", "days = three", "scenario.toml: not valid TOML"),
    ],
)
def test_each_kind_of_bad_file_is_reported_precisely(tiny, table, old, new, expected):
    edit(tiny / table, old, new)
    probs = problems_of(tiny)
    assert any(expected in p for p in probs), probs


def test_missing_files_and_columns(tiny):
    (tiny / "labs.csv").unlink()
    df = pd.read_csv(tiny / "districts.csv").drop(columns=["lat"])
    df.to_csv(tiny / "districts.csv", index=False)
    probs = problems_of(tiny)
    assert any(p.startswith("labs.csv: missing: required table") for p in probs)
    assert any("districts.csv, column 'lat': required column is missing" in p for p in probs)


def test_all_problems_reported_at_once_and_nothing_loaded(tiny):
    edit(tiny / "districts.csv", "200000", "lots")
    edit(tiny / "labs.csv", "provincial_cdc", "cdc")
    edit(tiny / "demand.csv", "3,b,reactive,100", "3,q,reactive,-1")
    edit(tiny / "scenario.toml", "pooling_se = 0.95", "pooling_se = 0.005")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(tiny)
    text = str(exc.value)
    assert "nothing was loaded" in text
    for part in (
        "'population'",
        "'facility_type'",
        "'district': value 'q'",
        "'samples'",
        "pooling_se must exceed 1 - pooling_sp",
    ):
        assert part in text, part
    assert len(exc.value.problems) >= 5


def test_folder_xlsx_round_trip(tmp_path):
    scn = load_scenario(TINY)
    book = save_xlsx(scn, tmp_path / "tiny.xlsx")
    from_book = load_scenario(book)
    assert from_book.equals(scn)
    again = save_folder(from_book, tmp_path / "again")
    assert load_scenario(again).equals(scn)
    assert (again / "scenario.toml").read_text(encoding="utf-8").count("Thử Nghiệm") == 1


def test_xlsx_errors_name_the_sheet(tmp_path):
    scn = load_scenario(TINY)
    book = save_xlsx(scn, tmp_path / "t.xlsx")
    import openpyxl

    wb = openpyxl.load_workbook(book)
    wb["labs"]["J2"] = "lots"  # wells_per_run of the first lab
    wb.save(book)
    probs = problems_of(book)
    assert any(
        "t.xlsx, sheet 'labs', row 2, column 'wells_per_run': value 'lots'" in p for p in probs
    ), probs


def test_writing_is_all_or_nothing(tmp_path, monkeypatch):
    scn = load_scenario(TINY)
    target = save_folder(scn, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    calls = {"n": 0}
    original = pd.DataFrame.to_csv

    def failing(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return original(self, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_csv", failing)
    with pytest.raises(OSError):
        save_folder(scn, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary leftovers


def test_synthetic_scenario_is_reproducible_and_valid(tmp_path):
    a = synthesize(40, 15, days=3, seed=5)
    b = synthesize(40, 15, days=3, seed=5)
    c = synthesize(40, 15, days=3, seed=6)
    assert a.equals(b) and not a.equals(c)
    loaded = load_scenario(save_folder(a, tmp_path / "s"))
    assert loaded.equals(a)
    t = travel_table(loaded)
    assert t.groupby("district").size().max() == 15


def test_travel_derived_from_coordinates_and_limited():
    scn = load_scenario(TINY)
    t = travel_table(scn).set_index(["district", "lab"])["hours"]
    # a -> priv: ~ 62 km straight line x 1.35 / 40 km/h
    assert t[("a", "priv")] == pytest.approx(62.0 * 1.35 / 40, rel=0.03)
    assert ("a", "cdc") in t.index and t[("a", "cdc")] == 0


def test_scenario_reference_documents_every_column():
    text = SCENARIO_REFERENCE.read_text(encoding="utf-8")
    assert markdown() in text, "regenerate the column reference with `labopt scenario schema`"
    for table in TABLES:
        for col in table.column_names:
            assert f"`{col}`" in text


def test_scenario_reference_documents_every_setting():
    from labopt.scenario.model import Settings

    text = SCENARIO_REFERENCE.read_text(encoding="utf-8")
    toml_part = text[text.index("## `scenario.toml`") : text.index("## Tables")]
    for section, info in Settings.model_fields.items():
        if section == "streams":  # a list, documented in its own row
            continue
        for key in info.annotation.model_fields:
            assert f"`{section}.{key}`" in toml_part or f"`.{key}`" in toml_part, (
                f"{section}.{key} is not documented in {SCENARIO_REFERENCE}"
            )


def test_missing_key_columns_are_problems_not_crashes(tiny):
    df = pd.read_csv(tiny / "districts.csv").drop(columns=["code"])
    df.to_csv(tiny / "districts.csv", index=False)
    pd.read_csv(tiny / "labs.csv").drop(columns=["wells_per_run"]).to_csv(
        tiny / "labs.csv", index=False
    )
    probs = problems_of(tiny)
    assert any("column 'code': required column is missing" in p for p in probs)
    assert any("column 'wells_per_run': required column is missing" in p for p in probs)


def test_json_scenarios_with_blank_keys_or_huge_numbers_are_problems_not_crashes():
    from labopt.scenario import scenario_from_data

    data = {
        "settings": {},
        "districts": [{}],
        "labs": [{}],
        "prevalence": [{}],
        "demand": [{"odd": [None]}],
        "deliveries": [{}, {}],
        "travel": [{}],
    }
    with pytest.raises(ScenarioError) as exc:
        scenario_from_data(data)
    assert len(exc.value.problems) > 10
    import json

    from labopt.scenario import scenario_to_data

    good = json.loads(json.dumps(scenario_to_data(load_scenario(TINY)), default=str))
    good["districts"][0]["population"] = 10**30
    with pytest.raises(ScenarioError, match="population"):
        scenario_from_data(good)


# ------------------------------------------------ keys, sheets and streams as the user wrote them
def test_misspelled_settings_get_did_you_mean_and_no_cascade(tiny):
    edit(tiny / "scenario.toml", "max_stages = 2", "max_stagse = 2")
    edit(tiny / "scenario.toml", "max_wait_days = 2", "max_wait_day = 2")
    probs = problems_of(tiny)
    assert probs == [
        "scenario.toml, setting 'policy.max_stagse': unknown setting; did you mean 'max_stages'?",
        "scenario.toml, setting 'streams.screening.max_wait_day': unknown setting; did you "
        "mean 'max_wait_days'?",
    ], probs
    edit(tiny / "scenario.toml", "[policy]", "[polcy]")
    assert "scenario.toml, setting 'polcy': unknown setting; did you mean 'policy'?" in problems_of(
        tiny
    )


def test_stream_problems_name_the_stream_by_id_or_by_its_number_from_one(tiny):
    edit(tiny / "scenario.toml", "priority = 3", "priority = 0")
    probs = problems_of(tiny)
    assert probs[0].startswith(
        "scenario.toml, setting 'streams.screening.priority': value "
        "'0': Input should be greater than or equal to 1"
    ), probs
    edit(tiny / "scenario.toml", 'id = "screening"\n', "")
    assert any("setting 'streams.#2.priority'" in p for p in problems_of(tiny))


def test_xlsx_missing_sheet_lists_the_sheets_found(tmp_path):
    import openpyxl

    book = save_xlsx(load_scenario(TINY), tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(book)
    wb["demand"].title = "demands"
    wb["streams"]["D2"] = "0"  # priority of the first stream, as text
    wb.save(book)
    probs = problems_of(book)
    assert probs[0] == (
        "t.xlsx: missing sheet 'demand' (Samples requested per day, unit and "
        "stream.); the workbook has 'scenario', 'streams', 'districts', 'labs', "
        "'prevalence', 'demands', 'deliveries'; did you mean 'demands'?"
    ), probs
    assert probs[1].startswith("t.xlsx, sheet 'streams', row 2, column 'priority': value '0'")


def test_misspelled_table_column_gets_did_you_mean(tiny):
    edit(tiny / "labs.csv", ",reagent_stock,", ",reagent_stok,")
    probs = problems_of(tiny)
    assert probs[0] == (
        "labs.csv, column 'reagent_stok': unknown column; did you mean 'reagent_stock'?"
    ), probs


# ------------------------------------------------ `scenario check` warns of what `plan` notes
def test_check_warns_on_a_unit_that_reaches_no_lab_and_plan_goes_ahead(tiny):
    from typer.testing import CliRunner

    from labopt.cli.main import app

    edit(tiny / "scenario.toml", "[policy]", "[policy]\nmax_travel_hours = 0.5")
    edit(tiny / "labs.csv", "non_public,b,20.10,105.30", "non_public,a,19.82,105.79")
    runner = CliRunner()
    check = runner.invoke(app, ["scenario", "check", str(tiny)])
    plan = runner.invoke(app, ["plan", str(tiny), "--json"])
    assert check.exit_code == plan.exit_code == 0, (check.output, plan.output)
    text = " ".join(check.output.split())
    assert "warning: unit 'b' (Huyện Bê) has 3,300 samples but no lab within" in text
    assert ": OK -" in text


def test_check_warns_on_an_empty_demand_table(tiny):
    from typer.testing import CliRunner

    from labopt.cli.main import app

    (tiny / "demand.csv").write_text("day,district,stream,samples,prevalence\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["scenario", "check", str(tiny)])
    assert result.exit_code == 0, result.output
    assert "warning: the demand table has no rows" in result.output
