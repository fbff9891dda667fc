"""Everything `labopt plan --lang vi` writes for a person is Vietnamese, with Vietnamese number
and date formats: the terminal, plan.xlsx (headers and values), the comparisons and the daily
loop's dispatch page. The check is a vocabulary: every word of labopt's English texts that its
Vietnamese texts never use must not appear; scenario data (names, ids) is taken out first."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from labopt.capacity import words as capacity_words
from labopt.cli import common
from labopt.cli import day as day_cli
from labopt.cli import plan as plan_cli
from labopt.cli import scenario as scenario_cli
from labopt.daily import sheets as daily_sheets
from labopt.daily import state as daily_state
from labopt.lab import words as lab_words
from labopt.numbers import fill, number_text
from labopt.pooling import words as pool_words
from labopt.scenario import load_scenario
from labopt.schedule import compare, labels, notes
from labopt.screening import words as screen_words
from tests.cli.helpers import run

EXAMPLES = Path(__file__).parents[2] / "labopt" / "examples"

# numbers and dates only the English formats write: 1,234,567; 1,234.5; 0.5 or 0.1234 (a
# Vietnamese point is followed by groups of three); 2021-10-04 (Vietnamese: 04/10/2021)
ENGLISH_NUMBER = re.compile(
    r"\d,\d{3},\d{3}|\d,\d{3}\.\d|(?<![\d.,])\d+\.(?:\d{1,2}|\d{4,})(?!\d)|\d{4}-\d\d-\d\d"
)


def vocabulary(texts) -> set[str]:
    words: set[str] = set()
    for text in texts:
        text = re.sub(r"`[^`]*`", " ", re.sub(r"\{[^}]*\}", " ", text))  # commands: code
        words |= set(re.findall(r"[^\W\d_]{3,}", text.lower()))
    return words


def texts(lang: str) -> list[str]:
    """Every text labopt's plan, comparison and dispatch page may show in ``lang``."""
    out = [
        *labels.TEMPLATES[lang].values(),
        *labels.WORDS[lang].values(),
        *labels.VALUES[lang].values(),
        *labels.SOLVER_WORDS[lang].values(),
        *labels.COLUMNS.get(lang, {}).values(),
        *plan_cli.TEXT[lang].values(),
        *plan_cli.COLUMNS[lang],
        compare.GREEDY_TEXT[lang],
        compare.SUPPLY_TEXT[lang],
        *daily_sheets.TEXT[lang].values(),
        *daily_sheets.SHEET_NAMES.get(lang, {}).values(),
        *notes.NOTES[lang].values(),
        *daily_state.NOTES[lang].values(),
        *capacity_words.TEXT[lang].values(),
        *capacity_words.CODES[lang].values(),
        *labels.STAGES.get(lang, {}).values(),
        *pool_words.TEXT[lang].values(),
        *pool_words.NOTES[lang].values(),
        *pool_words.METRICS.get(lang, {}).values(),
        *scenario_cli.CHECK_TEXT[lang].values(),
        *day_cli.TEXT[lang].values(),
        *day_cli.KINDS.get(lang, {}).values(),
    ]
    if lang == "en":  # the English words that stand for codes in an English report
        out += ["OPTIMAL allocation variables", *labels.SOLVER_WORDS["vi"]]
    return out


ENGLISH = vocabulary(texts("en")) - vocabulary(texts("vi"))


def test_every_english_text_has_its_vietnamese_one():
    tables = (labels.TEMPLATES, labels.WORDS, labels.VALUES, plan_cli.TEXT, daily_sheets.TEXT)
    for table in (*tables, notes.NOTES, daily_state.NOTES, capacity_words.TEXT, pool_words.TEXT):
        assert set(table["en"]) == set(table["vi"])
    assert len(plan_cli.COLUMNS["en"]) == len(plan_cli.COLUMNS["vi"])
    assert set(compare.GREEDY_TEXT) == set(compare.SUPPLY_TEXT) == {"en", "vi"}
    # the check can find English: words the English report uses and the Vietnamese never does
    assert {"reagent", "samples", "optimal", "allocation", "capacity", "waiting"} <= ENGLISH


# words a text and its translation share: names of files, settings and codes
NAMES = {"csv", "shortfall", "supply", "screening", "policy", "max", "travel", "hours", "lab"}
NAMES |= {"days", "expansion", "pcr", "cdc", "pse", "psp", "pppv", "pnpv", "recollect"}
NAMES |= {"entropy"}  # a term Vietnamese writes as English does


def test_no_vietnamese_text_keeps_an_english_word_of_its_english_one():
    """A Vietnamese text left partly English (a heading not translated) is caught here, where
    the vocabulary check cannot see it (its words then count as Vietnamese)."""
    tables = [labels.TEMPLATES, labels.WORDS, labels.VALUES, labels.SOLVER_WORDS, plan_cli.TEXT]
    tables += [daily_sheets.TEXT, notes.NOTES, daily_state.NOTES, capacity_words.TEXT]
    tables += [capacity_words.CODES, pool_words.TEXT, pool_words.NOTES, scenario_cli.CHECK_TEXT]
    tables += [screen_words.TEXT, screen_words.METHODS, screen_words.NOTES, lab_words.TEXT]
    tables += [day_cli.TEXT]
    for table in tables:
        for key, en in table["en"].items():
            shared = vocabulary([en]) & vocabulary([table["vi"][key]])
            assert shared <= NAMES, (key, shared - NAMES)


def scenario_words(folder: Path) -> list[str]:
    """The scenario's own names and ids (data the user wrote, in either language)."""
    scn = load_scenario(folder)
    data = [x.name for x in scn.labs] + [x.id for x in scn.labs]
    data += [s.name for s in scn.streams] + [s.id for s in scn.streams]
    data += [d.name for d in scn.districts] + [d.code for d in scn.districts]
    data += [scn.province.name, *scn.stores.get("id", []), *scn.stores.get("name", [])]
    return sorted(set(data), key=len, reverse=True)


def english_in(text: str, data: list[str]) -> tuple[set[str], list[str]]:
    """The English words and English-formatted numbers left in ``text`` once the scenario's
    own names and ids are taken out."""
    for name in data:
        text = text.replace(name, " ")
    return vocabulary([text]) & ENGLISH, ENGLISH_NUMBER.findall(text)


@pytest.mark.parametrize("example", ["thanh_hoa", "thanh_hoa_variant"])
def test_the_plan_in_vietnamese_has_no_english(example, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # no wrapping in the middle of a number
    folder, out = EXAMPLES / example, tmp_path / "out"
    r = run("plan", folder, "--lang", "vi", "--out", out, "--compare")
    assert r.exit_code == 0, r.output
    data = scenario_words(folder)
    words, numbers = english_in(r.stdout.replace(str(out), " "), data)
    assert not words, words
    assert not numbers, numbers
    # the English run of the same plan does show English words and numbers: the check works
    en = run("plan", folder, "--compare")
    words, numbers = english_in(en.stdout, data)
    assert {"samples", "reactions"} <= words and numbers
    # every figure of the day table and the totals, as Vietnamese writes it, never as English
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    figures = [v for day in summary["days"] for k, v in day.items() if "tested" in k]
    figures += [v for total in summary["totals"].values() for v in total.values()]
    shown = [f for f in figures if isinstance(f, int) and f >= 1000]
    assert shown
    for f in shown:
        assert number_text(f, "vi") in r.stdout and number_text(f, "en") not in r.stdout, f
        assert number_text(f, "en") in en.stdout

    book = openpyxl.load_workbook(out / "plan.xlsx")
    for ws in book:
        header = [c.value for c in ws[1]]
        words, _ = english_in(" ".join(map(str, header)), data)
        assert not words, (ws.title, words)
        assert ws.freeze_panes == "A2", ws.title
        for j, name in enumerate(header, start=1):
            column = ws.cell(row=2, column=j)
            if name == "Ngày tháng":
                assert column.is_date and column.number_format == "dd/mm/yyyy"
            if isinstance(column.value, (int, float)) and not isinstance(column.value, bool):
                assert column.number_format in ("#,##0", "#,##0.0##", "0.0%"), (ws.title, name)
            assert ws.column_dimensions[column.column_letter].width >= 4
        cells = {
            c.value
            for row in ws.iter_rows(min_row=2, max_row=min(ws.max_row, 400))
            for c in row
            if isinstance(c.value, str)
        }
        words, _ = english_in(" ".join(sorted(cells)), data)
        assert not words, (ws.title, words)


def test_the_plans_notes_are_said_in_vietnamese(tmp_path, monkeypatch):
    """A unit beyond every lab: its note, in the terminal of a Vietnamese plan."""
    monkeypatch.setenv("COLUMNS", "250")
    folder = tmp_path / "far"
    shutil.copytree(EXAMPLES / "thanh_hoa", folder)
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        re.sub(r"max_travel_hours = 4.0", "max_travel_hours = 0.3", text), encoding="utf-8"
    )
    en = run("plan", folder, "--days", "2")
    assert en.exit_code == 0, en.output
    assert "note: unit '" in en.stdout and "but no lab within" in en.stdout
    vi = run("plan", folder, "--days", "2", "--lang", "vi")
    assert vi.exit_code == 0, vi.output
    assert "ghi chú: địa phương '" in vi.stdout
    words, numbers = english_in(vi.stdout, [*scenario_words(folder), "max_travel_hours"])
    assert not words and not numbers, (words, numbers)


def test_a_note_pickles_and_stays_english_text():
    import pickle

    note = notes.note("time_limit", status="TIME_LIMIT", lp_gap=0.01, gap=0.02)
    assert (
        note == "solver status TIME_LIMIT: best plan found within the time limit; the LP's "
        "relative gap 1.00%, this whole-sample plan's 2.00%"
    )
    again = pickle.loads(pickle.dumps(note))
    assert again == note and notes.note_text(again, "vi") == notes.note_text(note, "vi")
    assert "dừng do hết thời gian" in notes.note_text(note, "vi") and "2,00%" in notes.note_text(
        note, "vi"
    )
    assert json.dumps([note]) == json.dumps([str(note)])


@pytest.mark.parametrize("example", ["thanh_hoa", "thanh_hoa_variant"])
def test_the_capacity_report_in_vietnamese_has_no_english(example, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    folder = EXAMPLES / example
    en = run("capacity", folder)
    vi = run("capacity", folder, "--lang", "vi")
    assert en.exit_code == 0 and vi.exit_code == 0, en.output + vi.output
    data = [*scenario_words(folder), "lab_days", "[expansion]"]
    words, numbers = english_in(vi.stdout, data)
    assert not words and not numbers, (words, numbers)
    words, numbers = english_in(en.stdout, data)
    assert {"reactions", "labs"} <= words and numbers  # the check finds English
    assert "phản ứng/ngày" in vi.stdout


def test_the_prevalence_estimates_in_vietnamese(tmp_path, monkeypatch):
    import pandas as pd

    monkeypatch.setenv("COLUMNS", "250")
    results = tmp_path / "first_stage.csv"
    pd.DataFrame(
        {
            "size": [10] * 40,
            "result": ["positive"] * 3 + ["negative"] * 37,
            "district": ["a"] * 20 + ["b"] * 20,
            "stream": "screening",
        }
    ).assign(result=lambda d: d["result"].where(d["district"] == "a", "negative")).to_csv(
        results, index=False
    )
    vi = run("estimate", results, "--design", "--lang", "vi")
    assert vi.exit_code == 0, vi.output
    english = ENGLISH | vocabulary(
        [*lab_words.TEXT["en"].values(), *lab_words.ESTIMATE_NOTES["vi"]]
    )
    english -= vocabulary(
        [*lab_words.TEXT["vi"].values(), *lab_words.ESTIMATE_NOTES["vi"].values()]
    )
    words = vocabulary([vi.stdout.replace("screening", " ")]) & english
    assert not words, words
    assert "không có mẫu gộp dương tính" in " ".join(vi.stdout.split())  # b: no positive pool
    assert "0,95" in vi.stdout and "0.95" not in vi.stdout


def test_the_days_dispatch_sheets_in_vietnamese(tmp_path, monkeypatch):
    """`labopt day plan --lang vi`: dispatch.html and dispatch.xlsx name the streams in
    Vietnamese, date shipments dd/mm/yyyy (real dates in the workbook), say có/không."""
    monkeypatch.setenv("COLUMNS", "250")
    ws = tmp_path / "ws"
    assert run("day", "init", ws, "--from", EXAMPLES / "thanh_hoa").exit_code == 0
    r = run("day", "plan", ws, "--date", "2021-10-04", "--lang", "vi")
    assert r.exit_code == 0, r.output
    folder = ws / "plans" / "2021-10-04"
    page = (folder / "dispatch.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", " ", page, flags=re.S))
    assert "Sàng lọc nhóm nguy cơ" in text and "Screening of risk" not in text
    words, numbers = english_in(text, scenario_words(EXAMPLES / "thanh_hoa"))
    assert not words and not numbers, (words, numbers)
    book = openpyxl.load_workbook(folder / "dispatch.xlsx")
    words, _ = english_in(" ".join(book.sheetnames), [])
    assert not words and len(book.sheetnames) == 4, book.sheetnames
    for ws_ in book:
        cells = [c for row in ws_.iter_rows(min_row=2) for c in row]
        assert not any(isinstance(c.value, bool) for c in cells), ws_.title
        assert not any(isinstance(c.value, str) and "Screening" in c.value for c in cells)
        for c in cells:
            if c.is_date:
                assert c.number_format == "dd/mm/yyyy"


@pytest.mark.parametrize(
    "command",
    [
        ["evaluate", "-a", "D2", "-c", "10", "-p", "0.01,0.02"],
        ["optimize", "-p", "0.02", "--max-size", "100", "--max-stages", "4", "--top", "3"],
        ["optimize", "-p", "0.01,0.05", "--min-sensitivity", "0.999"],
        ["simulate", "-a", "A2M", "-c", "8", "-p", "0.01", "--samples", "20000"],
        ["evaluate", "-a", "D3", "-c", "9:3,3,3", "--joint", "0.9,0.05,0.03,0.02"],
        ["optimize", "--joint", "0.9,0.05,0.03,0.02", "--max-size", "12"],
        ["frontier", "-p", "0.01", "--max-size", "32"],
    ],
    ids=[
        "evaluate",
        "optimize",
        "infeasible",
        "simulate",
        "multiplex",
        "multiplex search",
        "frontier",
    ],
)
@pytest.mark.parametrize("columns", ["80", "250"])
def test_the_pooling_commands_in_vietnamese(command, columns, monkeypatch):
    """`labopt pool ... --lang vi`: headings, titles, the simulation's metrics and the
    search's notes in Vietnamese, every figure with a decimal comma; the English run of the
    same command shows the English words and figures the check looks for."""
    monkeypatch.setattr(common.console, "_width", int(columns))
    vi = run("pool", *command, "--lang", "vi")
    en = run("pool", *command)
    assert vi.exit_code == en.exit_code and vi.exit_code in (0, 1), vi.output
    words, numbers = english_in(vi.stdout, [])
    assert not words and not numbers, (words, numbers)
    assert re.search(r"\b0,\d{3}", vi.stdout)  # 0,1954: decimals as Vietnamese writes them
    words, numbers = english_in(en.stdout, [])
    assert words and numbers
    if command[0] == "optimize":
        evaluated = re.search(r"([\d,]+) configurations", " ".join(en.stdout.split()))
        count = int(evaluated.group(1).replace(",", ""))
        assert number_text(count, "vi") in vi.stdout
    if "--min-sensitivity" in command:
        assert vi.exit_code == 1 and "ghi chú: p = 0,01: không có cấu hình" in " ".join(
            vi.stdout.split()
        )


def test_the_pooling_commands_refuse_an_unknown_language():
    r = run("pool", "evaluate", "-a", "D2", "-c", "10", "-p", "0.01", "--lang", "fr")
    assert r.exit_code == 2 and "lang" in r.output and "fr" in r.output


def test_the_scenario_check_in_vietnamese(tmp_path, monkeypatch):
    """`labopt scenario check --lang vi`: the summary and the warnings (a unit beyond every
    lab; a demand of zeros) in Vietnamese; English as before without --lang."""
    monkeypatch.setenv("COLUMNS", "250")
    folder = tmp_path / "far"
    shutil.copytree(EXAMPLES / "thanh_hoa", folder)
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("max_travel_hours = 4.0", "max_travel_hours = 0.3"), "utf-8")
    data = [*scenario_words(folder), "max_travel_hours", str(folder)]
    vi = run("scenario", "check", folder, "--lang", "vi")
    assert vi.exit_code == 0, vi.output
    assert "hợp lệ - Thanh Hóa" in vi.stdout and "444.200 mẫu" in vi.stdout
    assert "04/10/2021" in vi.stdout and "cảnh báo: địa phương '" in vi.stderr
    for out in (vi.stdout, vi.stderr):
        words, numbers = english_in(out, data)
        assert not words and not numbers, (words, numbers)
    en = run("scenario", "check", folder)
    assert "OK - Thanh Hóa" in en.stdout and "444,200 samples requested" in en.stdout
    assert "warning: unit '" in en.stderr
    demand = folder / "demand.csv"
    header = demand.read_text(encoding="utf-8").partition("\n")[0]
    demand.write_text(header + "\n", encoding="utf-8")
    vi = run("scenario", "check", folder, "--lang", "vi")
    assert vi.exit_code == 0 and "cảnh báo: bảng nhu cầu không có dòng" in vi.stderr


def _fields(template: str) -> set[tuple[str, str]]:
    """(field, format spec) of each replacement field of a template."""
    import string

    fields = string.Formatter().parse(template)  # a plural's words are the language's own
    return {(name, spec.split("|")[0]) for _, name, spec, _ in fields if name}


def test_every_translation_formats_each_figure_as_its_english_text_does():
    """A Vietnamese text that rounds a figure differently from the English one can say the
    wrong thing (0.31 h said as 0,3 h, the limit it asks to raise): every field of every
    translated template has the English template's format spec."""
    tables = [labels.TEMPLATES, labels.WORDS, plan_cli.TEXT, daily_sheets.TEXT, notes.NOTES]
    tables += [daily_state.NOTES, capacity_words.TEXT, pool_words.TEXT, pool_words.NOTES]
    tables += [scenario_cli.CHECK_TEXT, screen_words.TEXT, screen_words.METHODS]
    tables += [screen_words.NOTES, lab_words.TEXT, day_cli.TEXT]
    for table in tables:
        for key, en in table["en"].items():
            assert _fields(table["vi"][key]) == _fields(en), key


def test_the_daily_loops_lab_commands_in_vietnamese(tmp_path, monkeypatch):
    """`labopt day init / record / withdraw / plan --lang vi`: their messages in Vietnamese,
    dates given and shown as dd/mm/yyyy; a record that does not add up warned in Vietnamese."""
    monkeypatch.setenv("COLUMNS", "250")
    ws = tmp_path / "ws"
    folder = EXAMPLES / "thanh_hoa"
    data = [*scenario_words(folder), str(ws / "plans" / "2021-10-04"), str(ws), str(tmp_path)]
    r = run("day", "init", ws, "--from", folder, "--lang", "vi")
    assert r.exit_code == 0, r.output
    assert "Không gian làm việc" in r.stdout and "ngày đầu 04/10/2021" in r.stdout
    lab = load_scenario(folder).labs[0].id
    (tmp_path / "tested.csv").write_text(
        f"lab,district,stream,samples\n{lab},thanh-hoa-city,reactive,100000\n", "utf-8"
    )
    r = run("day", "record", ws, "tested", tmp_path / "tested.csv", "--date", "05/10/2021",
            "--lang", "vi")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "Đã ghi 1 dòng mẫu đã xét nghiệm cho 05/10/2021" in r.stdout
    assert "cảnh báo: đã ghi, nhưng số liệu đã nhập không khớp" in " ".join(r.stderr.split())
    r = run("day", "withdraw", ws, "tested", "05/10/2021", lab, "--lang", "vi")
    assert r.exit_code == 0, r.output
    assert "Đã rút bản ghi mẫu đã xét nghiệm" in r.stdout
    outputs = [run("day", "init", tmp_path / "ws2", "--from", folder, "--lang", "vi").stdout]
    outputs.append(run("day", "plan", ws, "--date", "04/10/2021", "--days", "1",
                       "--lang", "vi").stdout)  # fmt: skip
    for out in outputs:
        words, numbers = english_in(out, data)
        assert not words and not numbers, (words, numbers)
    en = run("day", "withdraw", ws, "tested", "05/10/2021", lab)
    assert en.exit_code == 2 and "YYYY-MM-DD" in en.output  # English takes ISO dates only


NOUNS = ("samples", "reactions", "labs", "units", "plates", "rows", "days", "pools", "kits")


def test_english_texts_say_one_lab_and_two_labs():
    """A count is followed by the word for one or for many ({n:,|lab|labs}): "1 reactions",
    "1 plates" and "lab(s)" are not written."""
    assert fill("{n:,|lab|labs}, {m:,.0f|reaction|reactions}", "en", n=1, m=2000.4) == (
        "1 lab, 2,000 reactions"
    )
    assert fill("{n:,.0f|reaction|reactions}", "en", n=0.7) == "1 reaction"
    # fields that are not counts: "single", 0.123, a list of tables
    words = r"(?!what\b|per_pooled\b|et\b|tables\b)"
    # a count: a field without a decimal format (0.0808 reactions per sample is a rate)
    spec = r"(:[^}|.]*(\.0f)?)?"
    counted = re.compile(r"\{" + words + r"\w+" + spec + r"\} (" + "|".join(NOUNS) + r")\b|\(s\)")
    tables = [labels.TEMPLATES, plan_cli.TEXT, daily_sheets.TEXT, notes.NOTES, daily_state.NOTES]
    tables += [capacity_words.TEXT, pool_words.TEXT, screen_words.TEXT, screen_words.NOTES]
    tables += [lab_words.TEXT, day_cli.TEXT, scenario_cli.CHECK_TEXT]
    for table in tables:
        for key, en in table["en"].items():
            assert not counted.search(en), (key, en)
