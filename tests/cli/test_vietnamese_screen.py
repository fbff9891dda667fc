"""`labopt screen size|precision|allocate --lang vi`: everything printed for a person is
Vietnamese, with Vietnamese numbers and dates, the library's methods and notes included; the
check is the vocabulary of tests/cli/test_vietnamese.py (every word of the screening texts in
English that their Vietnamese never uses must not appear), names and ids taken out first."""

from __future__ import annotations

import json
import shutil
import string
from pathlib import Path

import pandas as pd
import pytest

from labopt.cli import common
from labopt.notes import Note, note_text
from labopt.numbers import number_text
from labopt.scenario import load_scenario
from labopt.scenario.schema import AREA_TYPES
from labopt.screening import size_for_detection
from labopt.screening import words as screen_words
from labopt.screening.districts import unit_rounds
from labopt.screening.risk import RiskGroup, allocate_for_detection
from tests.cli.helpers import run
from tests.cli.test_vietnamese import ENGLISH, ENGLISH_NUMBER, scenario_words, vocabulary

EXAMPLES = Path(__file__).parents[2] / "labopt" / "examples"
THANH_HOA = EXAMPLES / "thanh_hoa"
TABLES = (screen_words.TEXT, screen_words.METHODS, screen_words.NOTES)


def texts(lang: str) -> list[str]:
    """Every text the screening commands may print in ``lang``."""
    out = [text for table in TABLES for text in table[lang].values()]
    if lang == "en":  # an English area type is its code with spaces
        out += [a.replace("_", " ") for a in AREA_TYPES]
    else:
        out += list(screen_words.AREAS[lang].values())
    return out


# the screening texts' English words, and the plan's, that no Vietnamese screening text uses
SCREEN_ENGLISH = (vocabulary(texts("en")) | ENGLISH) - vocabulary(texts("vi"))
# words a text and its translation share: a settings section
NAMES = {"screening"}
# the risk groups of the files below (data the user wrote)
GROUPS = ["market", "rest"]


def english_in(text: str, data: list[str]) -> tuple[set[str], list[str]]:
    """The English words and English-formatted numbers left in ``text`` once the user's own
    names are taken out."""
    for name in sorted(data, key=len, reverse=True):
        text = text.replace(name, " ")
    return vocabulary([text]) & SCREEN_ENGLISH, ENGLISH_NUMBER.findall(text)


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def kept_english(tables) -> list[tuple[str, set[str]]]:
    """The Vietnamese texts that keep a word of their English one (a text left English: the
    vocabulary check cannot see it, its words then count as Vietnamese)."""
    found = []
    for table in tables:
        for key, en in table["en"].items():
            shared = vocabulary([en]) & vocabulary([table["vi"][key]])
            if shared - NAMES:
                found.append((key, shared - NAMES))
    return found


def test_every_english_text_has_its_vietnamese_one():
    for table in TABLES:
        assert set(table["en"]) == set(table["vi"])
        for key, en in table["en"].items():
            assert fields(en) == fields(table["vi"][key]), key
    assert not kept_english(TABLES)
    for key in ("group_columns", "round_columns"):
        en, vi = (screen_words.TEXT[lang][key].split("|") for lang in ("en", "vi"))
        assert len(en) == len(vi), key
    assert set(screen_words.AREAS["vi"]) == set(AREA_TYPES)
    # the check can find English: words the English screening texts use
    assert {"samples", "pools", "sensitivity", "binomial", "rounds", "rural"} <= SCREEN_ENGLISH


def test_a_vietnamese_text_left_english_is_caught():
    for table in TABLES:
        for key, en in table["en"].items():
            if vocabulary([en]):  # not a text of fields and signs only ("± {half_width}")
                left = {**table, "vi": {**table["vi"], key: en}}
                assert kept_english([left]), key
    assert set(screen_words.AREAS["vi"].values()).isdisjoint(
        a.replace("_", " ") for a in AREA_TYPES
    )


def library_texts() -> dict[str, str]:
    """Each method and note the library writes, by the key of its words."""
    scn = load_scenario(THANH_HOA)
    code = scn.districts[0].code
    groups = [RiskGroup("market", 5, 0.1), RiskGroup("rest", 1, 0.9)]
    got = {
        "binomial_one": size_for_detection(0.95, 0.01, pool_size=5, sp=1.0).method,
        "binomial_cutoff": size_for_detection(0.95, 0.01, pool_size=5).method,
        "exact": size_for_detection(0.95, 0.0005, sp=1.0, population=100_000).method,
        "risk_one": allocate_for_detection(groups, 0.95, 0.01, pool_size=5, sp=1.0).method,
        "risk_cutoff": allocate_for_detection(groups, 0.95, 0.01, pool_size=5).method,
    }
    for population, key, by_unit in (
        (0, "no_people", None),
        (300, "everyone", None),
        (50, "no_one_available", [RiskGroup("market", 5, 0.1, 0), RiskGroup("rest", 1, 0.9, 0)]),
        (100, "all_of_groups", groups),
    ):
        unit = scn.districts[0].model_copy(update={"population": population})
        small = type(scn)(**{**scn.__dict__, "districts": [unit, *scn.districts[1:]]})
        every = None if by_unit is None else {code: by_unit}
        got[key] = unit_rounds(small, 1, every, codes=[code])[0].note
    return got


def test_the_librarys_methods_and_notes_are_said_in_vietnamese():
    """Each of the library's methods and notes is a Note said in Vietnamese, its numbers in
    the Vietnamese format, and its English text as before."""
    got = library_texts()
    assert set(got) == set(screen_words.METHODS["en"]) | set(screen_words.NOTES["en"])
    for key, text in got.items():
        assert note_text(text, "en") == text
        vi = note_text(text, "vi")
        words, numbers = english_in(vi, [])
        assert not words and not numbers, (key, text, vi)
    assert "100.000" in note_text(got["exact"], "vi")
    assert "1.355" in note_text(got["everyone"], "vi")
    assert "0,9" in note_text(got["all_of_groups"], "vi")
    assert all(isinstance(text, Note) and text.key == key for key, text in got.items())


def both(*args: object):
    """The command in English and in Vietnamese, and its --json answer."""
    en, vi, data = run(*args), run(*args, "--lang", "vi"), run(*args, "--json", "--lang", "vi")
    for r in (en, vi, data):
        assert r.exit_code == 0, r.output
    assert json.loads(data.stdout) == json.loads(run(*args, "--json").stdout)
    return en.stdout, vi.stdout, json.loads(data.stdout)


def no_english(en: str, vi: str, data: list[str], figures: list[int]) -> None:
    """The Vietnamese output has no English word or number, the English one has (the check
    works), and each figure is written as Vietnamese writes it."""
    words, numbers = english_in(vi, data)
    assert not words, words
    assert not numbers, numbers
    words, _ = english_in(en, data)
    assert words, en
    shown = [f for f in figures if f >= 1000]
    assert shown
    for f in shown:
        assert number_text(f, "vi") in vi and number_text(f, "en") not in vi, f
        assert number_text(f, "en") in en


@pytest.fixture
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # no wrapping in the middle of a number


@pytest.mark.usefixtures("wide")
def test_screen_size_in_vietnamese(tmp_path):
    en, vi, got = both(
        "screen", "size", "--design-prevalence", "0.0005", "--sp", "1", "--population", "100000"
    )
    no_english(en, vi, [], [got["samples"], 100_000])
    assert "Vòng sàng lọc để phát hiện nhiễm" in vi and "0,9500" in vi
    assert "phân phối siêu bội" in vi
    # by risk groups: the groups' table too
    f = tmp_path / "g.csv"
    f.write_text("group,relative_risk,share,available\nmarket,5,0.1,2000\nrest,1,0.9,\n")
    args = ("screen", "size", "--design-prevalence", "0.001", "--pool-size", "5")
    en, vi, got = both(*args, "--groups", f)
    no_english(en, vi, GROUPS, [got["samples"], *(g["samples"] for g in got["groups"])])
    assert "Lấy mẫu từ từng nhóm" in vi and "0,1" in vi and "theo nguy cơ" in vi


@pytest.mark.usefixtures("wide")
def test_screen_precision_in_vietnamese():
    en, vi, got = both("screen", "precision", "--prevalence", "0.02", "--precision", "0.005")
    no_english(en, vi, [], [got["samples"]])
    assert "Vòng sàng lọc để ước tính tỷ lệ nhiễm" in vi
    assert f"± {number_text(got['half_width'], 'vi', '.4g')}" in vi
    assert f"({got['pool_size']} mẫu/mẫu gộp)" in vi


@pytest.mark.usefixtures("wide")
def test_screen_allocate_in_vietnamese_with_its_notes(tmp_path):
    """Units with no people, fewer people than the round, and groups that cannot reach the
    target: every note Vietnamese, as the table, the totals and the date."""
    folder = tmp_path / "small"
    shutil.copytree(THANH_HOA, folder)
    table = pd.read_csv(folder / "districts.csv")
    table.loc[:3, "population"] = [0, 300, 100, 50]
    table.to_csv(folder / "districts.csv", index=False)
    codes = table["code"].tolist()
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "district,group,relative_risk,share,available\n"
        f"{codes[2]},market,5,0.1,\n{codes[2]},rest,1,0.9,\n"
        f"{codes[3]},market,5,0.1,0\n{codes[3]},rest,1,0.9,0\n"
    )
    out = tmp_path / "rounds.csv"
    en, vi, got = both("screen", "allocate", folder, "--groups", groups)
    units = got["units"]
    assert all(u["note"] for u in units[:4])
    figures = [sum(u[k] for u in units) for k in ("samples", "pools", "asked")]
    no_english(en, vi, [*scenario_words(folder), *GROUPS], figures + [u["asked"] for u in units])
    assert "Các vòng sàng lọc, Thanh Hóa, 04/10/2021" in vi and "2021-10-04" in en
    assert "đô thị tập trung" in vi and "miền núi" in vi and "[screening]" in vi
    for note in ("không có dân", "xét nghiệm toàn bộ", "xét nghiệm tất cả họ", "không ai"):
        assert note in vi, note
    # the table written with --out keeps its English keys; the line saying so is Vietnamese
    r = run("screen", "allocate", folder, "--lang", "vi", "--out", out)
    assert r.exit_code == 0, r.output
    assert f"đã ghi {out}" in " ".join(r.stderr.split())
    assert "samples" in pd.read_csv(out).columns


@pytest.mark.parametrize(
    "args",
    [
        ("size", "--design-prevalence", "0.01"),
        ("precision", "--prevalence", "0.02", "--precision", "0.005"),
        ("allocate", THANH_HOA),
    ],
)
def test_an_unknown_language_is_refused(args):
    r = run("screen", *args, "--lang", "fr")
    assert r.exit_code != 0
    assert "lang" in r.output and "'fr'" in r.output and "en, vi" in r.output


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("columns", ["60", "80", "120"])
def test_the_screening_tables_cut_nothing_in_a_narrow_terminal(lang, columns, monkeypatch):
    """Every unit's name and every figure of `screen allocate` is whole at any width: cells
    wrap at their spaces, none ends in "…"."""
    monkeypatch.setattr(common.console, "_width", int(columns))
    r = run("screen", "allocate", THANH_HOA, "--lang", lang)
    assert r.exit_code == 0, r.output
    assert "…" not in r.stdout
    text = " ".join(r.stdout.split())
    scn = load_scenario(THANH_HOA)
    asked = scn.demand[(scn.demand["day"] == 1) & (scn.demand["stream"] == "screening")]
    for n in asked.groupby("district")["samples"].sum():
        assert number_text(n, lang) in text
