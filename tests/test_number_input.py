"""Numbers, dates and CSV files as Vietnamese-locale spreadsheets write them: read by the
declared number format (en or vi) or refused with the cause named, never guessed."""

import copy
import csv
import functools
import io
import json
import re
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labopt.cli.main import app
from labopt.numbers import FORMATS, NumberTextError, parse_number
from labopt.scenario import (
    ScenarioError,
    load_scenario,
    save_xlsx,
    scenario_from_data,
    scenario_to_data,
)
from labopt.scenario.schema import TABLE_BY_NAME
from tests.scenario_files import FIXTURES, TINY, copy_tiny, edit

EN, VI = FORMATS["en"], FORMATS["vi"]
runner = CliRunner()


@pytest.fixture
def tiny(tmp_path):
    return copy_tiny(tmp_path)


def problems_of(path, **kw) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path, **kw)
    return [str(p) for p in exc.value.problems]


def vi_number(text: str, grouped: bool = True) -> str:
    """An en number written as a Vietnamese-locale spreadsheet shows it: 1.234,5."""
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return text
    whole, _, frac = text.partition(".")
    if grouped:
        whole = f"{int(whole):,}".replace(",", ".")
    return whole + ("," + frac if frac else "")


def cp1258(text: str) -> bytes:
    """Windows-1258 as Windows writes it: a letter it lacks precomposed becomes its base
    letter and a combining tone mark."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tones = "".join(m for m in parts if m in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", "".join(m for m in parts if m not in tones))
            out += (base + tones).encode("cp1258")
    return out


def to_vi_folder(src: Path, dst: Path, encoding: str = "utf-8-sig") -> Path:
    """The scenario as Excel writes it on a Vietnamese machine: ';'-separated CSV files with
    vi numbers, and number_format = "vi" declared."""
    shutil.copytree(src, dst)
    for f in dst.glob("*.csv"):
        rows = list(csv.reader(io.StringIO(f.read_text(encoding="utf-8-sig"))))
        out = io.StringIO()
        w = csv.writer(out, delimiter=";", lineterminator="\r\n")
        w.writerow(rows[0])
        for r in rows[1:]:
            w.writerow([vi_number(c) for c in r])
        f.write_bytes(
            cp1258(out.getvalue()) if encoding == "cp1258" else out.getvalue().encode(encoding)
        )
    toml = dst / "scenario.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace("[province]\n", '[province]\nnumber_format = "vi"\n', 1), encoding="utf-8"
    )
    return dst


# ---------------------------------------------------------------- the rules themselves
@given(st.integers(min_value=1000, max_value=10**15))
def test_vi_grouped_whole_numbers_read_exactly_under_vi_and_refused_under_en(n):
    vi = f"{n:,}".replace(",", ".")
    assert parse_number(vi, VI, whole=True) == n
    with pytest.raises(NumberTextError, match="thousands separator"):
        parse_number(vi, EN, whole=True)


@given(st.integers(min_value=1000, max_value=10**15))
def test_en_grouped_whole_numbers_read_exactly_under_en_and_refused_under_vi(n):
    en = f"{n:,}"
    assert parse_number(en, EN, whole=True) == n
    with pytest.raises(NumberTextError, match="thousands separator"):
        parse_number(en, VI, whole=True)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**4))
def test_decimals_read_the_same_in_both_formats_when_written_in_each(whole, frac):
    en = f"{whole:,}.{frac:04d}"
    vi = f"{whole:,}".replace(",", ".") + f",{frac:04d}"
    assert parse_number(en, EN) == parse_number(vi, VI) == float(f"{whole}.{frac:04d}")


@pytest.mark.parametrize(
    "text,fmt,whole,expected",
    [
        ("8,000", EN, True, 8000),
        ("1,234,567", EN, True, 1234567),
        ("8000", EN, True, 8000),
        ("8.0", EN, True, 8.0),
        ("1,234.5", EN, False, 1234.5),
        ("1e-05", EN, False, 1e-05),
        ("8.000", VI, True, 8000),
        ("1.234.567", VI, True, 1234567),
        ("1.234,5", VI, False, 1234.5),
        ("0,02", VI, False, 0.02),
        ("8.000", EN, False, 8.0),
    ],
)
def test_numbers_read_in_the_declared_format(text, fmt, whole, expected):
    assert parse_number(text, fmt, whole=whole) == expected


@pytest.mark.parametrize(
    "text,fmt,whole,cause",
    [
        ("8.000", EN, True, "ambiguous thousands separator"),
        ("12.000", EN, True, "ambiguous thousands separator"),
        ("1.234.567", EN, True, "'.' as the thousands separator"),
        ("8,00", EN, True, "decimal comma"),
        ("0,02", EN, False, "decimal comma"),
        ("8,000", VI, True, "ambiguous thousands separator"),
        ("0.02", VI, False, "decimal point"),
        ("8 000", EN, True, "spaces inside a number"),
        ("2%", EN, True, "percent sign is allowed only for fractions"),
        ("12,34,567", EN, True, "not a number"),
    ],
)
def test_ambiguous_or_foreign_numbers_are_refused_with_the_cause(text, fmt, whole, cause):
    with pytest.raises(NumberTextError, match=re.escape(cause)):
        parse_number(text, fmt, whole=whole)


# ---------------------------------------------------------------- scenario tables
def test_vi_thousands_in_a_count_column_is_refused_not_read_as_eight(tiny):
    edit(tiny / "labs.csv", ",4,5000,10,", ",4,8.000,10,")
    probs = problems_of(tiny)
    assert len(probs) == 1, probs
    assert "labs.csv, row 2, column 'reagent_stock': value '8.000'" in probs[0]
    assert "thousands separator" in probs[0] and 'number_format = "vi"' in probs[0]


ONE_ROW = {
    "stores": "id,name,reagent_stock\nkho,Kho,100\n",
    "store_arrivals": "day,store,reactions\n1,kho,100\n",
    "supply_routes": "source,target,lead_days,max_reactions\ncdc,hosp,1,\n",
    "kits": "holder,kits\na,100\n",
    "kit_arrivals": "day,holder,kits\n1,a,100\n",
    "backlog": "district,stream,age_days,samples\na,screening,1,100\n",
    "lab_days": "lab,day,available\ncdc,1,1\n",
}


@pytest.mark.parametrize(
    "table,column",
    [(t.name, c.name) for t in TABLE_BY_NAME.values() for c in t.columns if c.kind == "int"],
)
def test_every_count_column_refuses_vi_thousands_under_en(tiny, table, column):
    """Every whole-number column of every table (from the schema), not only reagent_stock."""
    path = tiny / f"{table}.csv"
    if not path.exists():  # an optional table the tiny scenario lacks: one valid row
        path.write_text(ONE_ROW[table], encoding="utf-8")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    j = rows[0].index(column)
    rows[1][j] = "1.000"  # read as 1 before: a thousand, or a small number?
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    probs = problems_of(tiny)
    mine = [p for p in probs if f"column '{column}'" in p and "row 2" in p]
    assert mine and "thousands separator" in mine[0], probs


@pytest.mark.parametrize("folder", [TINY, FIXTURES / "thanh_hoa", FIXTURES / "mai_son"])
def test_a_vi_locale_semicolon_folder_loads_equal_to_the_en_one(tmp_path, folder):
    vi = to_vi_folder(folder, tmp_path / "vi")
    assert load_scenario(vi).equals(load_scenario(folder))


@pytest.mark.parametrize("encoding", ["cp1258", "utf-16", "utf-16-le", "utf-8"])
def test_excel_encodings_are_read_with_their_diacritics(tmp_path, encoding):
    vi = to_vi_folder(TINY, tmp_path / "vi", encoding=encoding)
    scn = load_scenario(vi)
    assert [d.name for d in scn.districts] == ["Thành phố Á", "Huyện Bê"]
    assert scn.equals(load_scenario(TINY))


def test_number_format_option_reads_an_undeclared_vi_folder_and_must_agree(tmp_path):
    vi = to_vi_folder(TINY, tmp_path / "vi")
    edit(vi / "scenario.toml", 'number_format = "vi"\n', "")
    probs = problems_of(vi)
    assert len(probs) <= 6, probs  # one per file, not one per cell
    assert all("looks semicolon-separated" in p and 'number_format = "vi"' in p for p in probs), (
        probs
    )
    assert load_scenario(vi, number_format="vi").equals(load_scenario(TINY))
    result = runner.invoke(app, ["scenario", "check", str(vi), "--number-format", "vi"])
    assert result.exit_code == 0, result.output
    edit(vi / "scenario.toml", "[province]\n", '[province]\nnumber_format = "en"\n')
    probs = problems_of(vi, number_format="vi")
    assert "must agree" in probs[0], probs


def test_semicolon_file_under_en_is_one_root_problem_without_a_cascade(tiny):
    text = (tiny / "districts.csv").read_text(encoding="utf-8")
    (tiny / "districts.csv").write_text(text.replace(",", ";"), encoding="utf-8")
    probs = problems_of(tiny)
    assert len(probs) == 1, probs
    assert probs[0].startswith("districts.csv:") and "semicolon-separated" in probs[0]


def test_unreadable_units_file_is_listed_first_and_its_cascade_suppressed(tiny):
    (tiny / "districts.csv").write_bytes(b"code,name\x00\x00\xff\xfe")
    edit(tiny / "demand.csv", "1,a,reactive,500,", "1,a,reactive,lots,")
    probs = problems_of(tiny)
    assert probs[0].startswith("districts.csv:"), probs
    assert not any("unknown district code" in p for p in probs), probs
    assert any("value 'lots'" in p for p in probs), probs


def test_unquoted_decimal_comma_in_a_comma_file_names_the_cause(tiny):
    edit(tiny / "prevalence.csv", "a,screening,0.01", "a,screening,0,01")
    probs = problems_of(tiny)
    assert probs[0].startswith(
        "prevalence.csv: row 3 has more fields than the header (3): an unquoted decimal comma"
    ), probs


def test_fractions_decimal_comma_and_percent(tiny):
    edit(tiny / "prevalence.csv", "a,screening,0.01", 'a,screening,"0,01"')
    probs = problems_of(tiny)
    assert len(probs) == 1 and "value '0,01'" in probs[0] and "decimal comma" in probs[0]
    edit(tiny / "prevalence.csv", '"0,01"', "1%")
    scn = load_scenario(tiny)
    assert scn.prevalence.set_index(["district", "stream"])["prevalence"][
        ("a", "screening")
    ] == pytest.approx(0.01)
    edit(tiny / "prevalence.csv", "1%", "2")
    assert "out of range" in problems_of(tiny)[0]


def test_dates_dd_mm_yyyy_read_under_vi_and_refused_under_en(tiny):
    edit(tiny / "scenario.toml", "start_date = 2021-10-04", 'start_date = "04/10/2021"')
    probs = problems_of(tiny)
    assert len(probs) == 1 and "province.start_date" in probs[0], probs
    assert "cannot be told apart" in probs[0] and "yyyy-mm-dd" in probs[0]
    edit(tiny / "scenario.toml", "[province]\n", '[province]\nnumber_format = "vi"\n')
    for f in tiny.glob("*.csv"):  # the vi format reads the tables' decimals too
        rows = list(csv.reader(io.StringIO(f.read_text(encoding="utf-8"))))
        out = io.StringIO()
        csv.writer(out, delimiter=";").writerows(
            [rows[0]] + [[vi_number(c) for c in r] for r in rows[1:]]
        )
        f.write_text(out.getvalue(), encoding="utf-8")
    assert load_scenario(tiny).province.start_date.isoformat() == "2021-10-04"


def test_settings_written_as_text_follow_the_number_format(tiny):
    edit(tiny / "scenario.toml", "single_target_per_day = 1000", 'single_target_per_day = "8.000"')
    probs = problems_of(tiny)
    assert len(probs) == 1, probs
    assert "policy.single_target_per_day" in probs[0] and "thousands separator" in probs[0]


def test_xlsx_numeric_cells_are_not_affected_text_cells_are(tmp_path):
    book = save_xlsx(load_scenario(TINY), tmp_path / "t.xlsx")
    # numeric cells (0.05, 19.8, 2.5 ...) read the same whatever the declared format
    assert load_scenario(book, number_format="vi").equals(load_scenario(TINY))
    wb = openpyxl.load_workbook(book)
    col = [c.value for c in wb["labs"][1]].index("reagent_stock") + 1
    wb["labs"].cell(row=2, column=col).value = "8.000"  # a text cell
    wb.save(book)
    probs = problems_of(book)
    assert "sheet 'labs', row 2, column 'reagent_stock': value '8.000'" in probs[0], probs
    assert "thousands separator" in probs[0]
    assert load_scenario(book, number_format="vi").lab_by_id["cdc"].reagent_stock == 8000


def test_json_numbers_are_numbers_and_json_text_follows_the_rules():
    data = scenario_to_data(load_scenario(TINY))
    data["labs"][0]["reagent_stock"] = "8.000"
    with pytest.raises(ScenarioError, match="thousands separator"):
        scenario_from_data(data)
    data["labs"][0]["reagent_stock"] = 8000
    data["settings"]["province"]["number_format"] = "vi"
    assert scenario_from_data(data).lab_by_id["cdc"].reagent_stock == 8000


# ---------------------------------------------------------------- command-line numbers
@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["-p", "0,02"],
            "--prevalence: '0,02': '0,02' reads as the two values 0 and 02: a decimal "
            "comma? write 0.02",
        ),
        (["-p", "0,5"], "'0,5' reads as the two values 0 and 5: a decimal comma? write 0.5"),
        (["-p", "0.01,0,02"], "'0,02' reads as the two values 0 and 02"),
        (["-p", "0.02", "--se", "0,99"], "--se: '0,99': '0,99' reads as the two values 0 and 99"),
        (["-p", "1.5"], "--prevalence: '1.5' is not a fraction in [0, 1]"),
        (
            ["-p", "0.01,abc"],
            "--prevalence: 'abc' in '0.01,abc': expected a number with a decimal point",
        ),
        (["--risks", "0,05*20"], "--risks: '0,05*20': '0,05' reads as the two values 0 and 05"),
        (["--risks", "0.01*1000000000"], "--risks: more than 10,000 samples"),
        (["--risks", "0.01*" + "9" * 5000], "--risks: more than 10,000 samples"),
        (["--risks", "0.01*9000,0.02*1001"], "--risks: more than 10,000 samples"),
        (["--risks", "0.01*+5"], "--risks: '0.01*+5' is not 'value' or 'value*count'"),
    ],
)
def test_pool_options_refuse_decimal_commas_showing_the_users_text(args, message):
    result = runner.invoke(app, ["pool", "evaluate", "-a", "D2", "-c", "10", *args])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert message in text, text
    assert "np.float64" not in text


def test_pool_options_read_percentages_and_lists():
    a = runner.invoke(app, ["pool", "evaluate", "-a", "D2", "-c", "10", "-p", "2%", "--json"])
    b = runner.invoke(app, ["pool", "evaluate", "-a", "D2", "-c", "10", "-p", "0.02", "--json"])
    assert a.exit_code == 0 and a.output == b.output
    c = runner.invoke(
        app, ["pool", "evaluate", "-a", "D2", "-c", "10", "-p", "0.01,0.02", "--json"]
    )
    assert c.exit_code == 0 and len(json.loads(c.output)["results"]) == 2


def test_risk_file_with_decimal_commas_is_refused(tmp_path):
    f = tmp_path / "risks.csv"
    f.write_text("risk\n0,05\n0,01\n", encoding="utf-8")
    result = runner.invoke(app, ["pool", "evaluate", "-a", "ID2", "-c", "2,1", "--risks", str(f)])
    assert result.exit_code == 2
    assert "row 2: 2 fields but the header has 1: an unquoted decimal comma" in " ".join(
        result.output.split()
    )


def test_library_messages_show_numbers_plainly():
    from labopt.pooling import evaluate

    with pytest.raises(ValueError) as exc:
        evaluate("D2", "10", prevalence=np.array([0.0, 2.0]))
    assert str(exc.value) == "prevalence[1]: must be a probability in [0, 1], got 2.0"


# ---------------------------------------------------------------- the lab's input tables
def test_lab_results_read_excel_csv_variants_and_refuse_decimal_commas(tmp_path):
    from labopt.lab import LabBatch, LabInputError, make_manifest
    from labopt.lab.results import read_results

    samples = pd.DataFrame({"sample_id": [f"S{i:03d}" for i in range(20)]})
    b = LabBatch.start(make_manifest(samples, "D2", "10"))
    good = "pool_id;result;ct\r\nP0001;positive;32\r\nP0002;negative;\r\n"
    for encoding in ("utf-16", "utf-8-sig", "cp1258"):
        f = tmp_path / f"results-{encoding}.csv"
        f.write_bytes(good.encode(encoding))
        _, report = b.apply(read_results(f), source=f.name)
        assert report.added == 2
    f = tmp_path / "results.csv"
    f.write_text(good.replace(";32", ";32,5"), encoding="utf-8")
    with pytest.raises(
        LabInputError,
        match=r"row 2, column 'ct': value '32,5': not a number; "
        r"expected .*: decimal comma: this is 32.5",
    ):
        b.apply(read_results(f), source=f.name)
    f.write_text("pool_id,result,ct\nP0001,positive,32,5\n", encoding="utf-8")
    with pytest.raises(LabInputError, match="row 2 has more fields than the header"):
        read_results(f)
    f.write_text("pool_id,result,run\nP0001,positive,1.000\n", encoding="utf-8")
    with pytest.raises(LabInputError, match="ambiguous thousands separator"):
        b.apply(read_results(f), source=f.name)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_settings_file_saved_by_notepad_is_read(tiny, encoding):
    toml = tiny / "scenario.toml"
    toml.write_bytes(toml.read_text(encoding="utf-8").encode(encoding))
    assert load_scenario(tiny).province.name == "Tỉnh Thử Nghiệm"


@functools.cache
def tiny_data() -> dict:
    return scenario_to_data(load_scenario(TINY))


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1000, max_value=10**12))
def test_a_vi_written_reagent_stock_reads_exactly_under_vi_and_is_refused_under_en(n):
    data = copy.deepcopy(tiny_data())
    data["labs"][0]["reagent_stock"] = f"{n:,}".replace(",", ".")
    with pytest.raises(ScenarioError, match=r"ambiguous thousands separator|'\.' as the thousands"):
        scenario_from_data(data)
    data["settings"]["province"]["number_format"] = "vi"
    for lab in data["labs"]:  # JSON numbers are numbers in either format
        assert not isinstance(lab["run_hours"], str)
    assert scenario_from_data(data).lab_by_id["cdc"].reagent_stock == n


# ---------------------------------------------------------------- hostile cells and settings
def test_a_cell_beyond_the_csv_field_limit_is_refused_naming_file_row_and_column(tiny):
    edit(tiny / "districts.csv", "Huyện Bê", "x" * 140_000)
    probs = problems_of(tiny)
    assert len(probs) == 1, probs
    assert probs[0].startswith(
        "districts.csv: row 3, column 'name': a cell longer than 131,072 characters"
    ), probs[0][:300]
    # a 3 MB line without separators: the row is named even when the column cannot be
    (tiny / "demand.csv").write_bytes(b"day,district,stream,samples\n" + b"7" * 3_000_000)
    probs = problems_of(tiny)
    assert any(p.startswith("demand.csv: row 2") and "131,072" in p for p in probs), probs


def test_the_csv_modules_other_refusals_name_the_row(tiny):
    text = (tiny / "districts.csv").read_text(encoding="utf-8")
    # a NUL byte beyond the first 4 KiB, where the encoding is guessed
    lines = text.splitlines()
    bad = lines[:2] + [lines[2]] * 100 + [lines[2].replace("Huyện Bê", "Huy\0n")]
    (tiny / "districts.csv").write_text("\n".join(bad) + "\n", encoding="utf-8")
    probs = problems_of(tiny)
    assert probs == ["districts.csv: row 103 contains a NUL byte: not a CSV text file"], probs


def test_the_cli_refuses_a_huge_cell_without_a_traceback(tiny, tmp_path):
    edit(tiny / "districts.csv", "Huyện Bê", "x" * 140_000)
    r = runner.invoke(app, ["scenario", "check", str(tiny)])
    assert (r.exit_code != 0 and r.exception is None) or isinstance(r.exception, SystemExit)
    assert "row 3, column 'name': a cell longer than 131,072" in r.output, r.output[-500:]
    big = tmp_path / "big.csv"
    big.write_bytes(b"sample_id\n" + b"x" * 140_000 + b"\n")
    r = runner.invoke(
        app, ["batch", "make", str(big), "--out", str(tmp_path / "batch"), "-a", "D2", "-c", "10"]
    )
    assert isinstance(r.exception, SystemExit) or r.exception is None, r.exception
    assert "big.csv" in r.output and "row 2, column 'sample_id'" in r.output, r.output[-500:]
    assert not (tmp_path / "batch").exists()


def test_deeply_nested_toml_is_refused_naming_the_file(tiny):
    edit(tiny / "scenario.toml", "days = 3", "days = 3\n[x]\ny = " + "[" * 5000 + "]" * 5000)
    probs = problems_of(tiny)
    assert probs == [
        "scenario.toml: arrays or tables nested too deeply: settings are at most a few levels deep"
    ], probs
    r = runner.invoke(app, ["scenario", "check", str(tiny)])
    assert "scenario.toml: arrays or tables nested too deeply" in r.output, r.output[-500:]


@pytest.mark.parametrize("rows", [3, 600])  # the one-by-one and the vectorised reading
def test_full_width_digits_are_refused_whatever_the_table_size(tiny, rows):
    demand = tiny / "demand.csv"
    lines = demand.read_text(encoding="utf-8").splitlines()
    days = rows // 4 + 3
    body = [
        f"{i // 4 + 1},{'ab'[i % 2]},{('reactive', 'screening')[i // 2 % 2]},{i},"
        for i in range(rows)
    ]
    body[-1] = body[-1].rsplit(",", 2)[0] + ",７４５,"
    edit(tiny / "scenario.toml", "days = 3", f"days = {days}")
    demand.write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")
    probs = problems_of(tiny)
    assert len(probs) == 1, probs
    assert (
        f"demand.csv, row {rows + 1}, column 'samples': value '７４５': expected a whole number"
    ) in probs[0] and "digits other than 0-9" in probs[0], probs


def test_full_width_digits_in_a_small_table_are_not_read_as_a_number(tiny):
    edit(tiny / "labs.csv", ",5000,", ",１４０００,")
    probs = problems_of(tiny)
    assert len(probs) == 1 and "labs.csv, row 2, column 'reagent_stock'" in probs[0], probs
    for text in ("７４５", "٣", "1.５", "１e3"):
        with pytest.raises(NumberTextError, match="digits other than 0-9"):
            parse_number(text, EN)


@pytest.mark.parametrize(
    "setting,written",
    [
        ("single_target_per_day = 1000", "single_target_per_day = 8.000"),
        ("pooled_target_per_day = 5000", "pooled_target_per_day = 5.0"),
        ("days = 3", "days = 7.000"),
        ("reactions_per_staff_shift = 200", "reactions_per_staff_shift = 200.0"),
        ("max_stages = 2", "max_stages = 2.0"),
        ("max_wait_days = 1", "max_wait_days = 1.0"),
        ("priority = 3", "priority = 3.0"),
    ],
)
def test_a_toml_float_is_not_a_count(tiny, setting, written):
    edit(tiny / "scenario.toml", setting, written)
    probs = problems_of(tiny)
    assert len(probs) == 1, probs
    assert "expected a whole number" in probs[0] and "not a count" in probs[0], probs
    assert '"8.000" in quotes with number_format = "vi"' in probs[0]


def test_xlsx_whole_numeric_cells_are_counts_fractional_ones_refused(tmp_path):
    book = save_xlsx(load_scenario(TINY), tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(book)
    sheet = wb["scenario"]
    row = next(r for r in sheet.iter_rows() if r[0].value == "policy.single_target_per_day")
    row[1].value = 8.0
    wb.save(book)
    assert load_scenario(book).settings.policy.single_target_per_day == 8
    row[1].value = 8.5
    wb.save(book)
    probs = problems_of(book)
    assert len(probs) == 1 and "single_target_per_day" in probs[0], probs
    assert "fractional part" in probs[0]


@pytest.mark.parametrize(
    "table,old,new",
    [
        ("districts.csv", "200000", "3.45E+05"),
        ("labs.csv", ",5000,", ",1.4E+04,"),
        ("labs.csv", ",5000,", ",5e3,"),
    ],
)
def test_counts_in_scientific_notation_are_refused(tiny, table, old, new):
    edit(tiny / table, old, new)
    probs = problems_of(tiny)
    assert len(probs) == 1, probs
    assert f"value '{new.strip(',')}': expected a whole number" in probs[0], probs
    assert "scientific notation loses digits" in probs[0]


def test_fractions_and_settings_keep_or_refuse_exponents(tiny):
    assert parse_number("1e-05", EN) == 1e-05
    assert parse_number("3,5E-2", VI) == 0.035
    edit(tiny / "scenario.toml", "days = 3", 'days = "3E+00"')
    probs = problems_of(tiny)
    assert len(probs) == 1 and "province.days" in probs[0], probs
    assert "scientific notation loses digits" in probs[0]


@pytest.mark.parametrize(
    "written,message",
    [
        ('"2021-10-04x"', "value '2021-10-04x': expected a date yyyy-mm-dd"),
        ('"2021-10-04T23:00"', "value '2021-10-04T23:00': expected a date without a time of day"),
        ("2021-10-04T23:00:00", "expected a date without a time of day"),
        ("2021-10-04 23:00:00", "expected a date without a time of day"),
    ],
)
def test_date_messages_say_it_once_and_times_are_refused(tiny, written, message):
    edit(tiny / "scenario.toml", "start_date = 2021-10-04", f"start_date = {written}")
    probs = problems_of(tiny)
    assert len(probs) == 1 and message in probs[0], probs
    assert probs[0].count("expected a date") == 1, probs
    data = scenario_to_data(load_scenario(TINY))
    data["settings"]["province"]["start_date"] = "2021-10-04T23:00"
    with pytest.raises(ScenarioError, match="without a time of day"):
        scenario_from_data(data)


def test_refusals_show_every_digit_the_user_wrote(tiny):
    edit(tiny / "districts.csv", "105.78", '"105,7936"')
    probs = problems_of(tiny)
    assert "this is 105.7936 in the vi number format" in probs[0], probs
    with pytest.raises(NumberTextError, match=r"this is 1234567\.891 "):
        parse_number("1.234.567,891", EN)
