"""The plan's CSV tables as a person reads them: whole days, rounded reactions."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from labopt.scenario import load_scenario
from labopt.schedule import plan_scenario
from labopt.schedule.compare import compare_with_greedy, difference_words
from labopt.schedule.labels import summary_texts
from tests.cli.helpers import run

THANH_HOA = Path(__file__).parents[2] / "labopt" / "examples" / "thanh_hoa"
TINY = Path(__file__).parents[1] / "data" / "tiny"


def test_the_plans_tables_write_whole_days_and_rounded_reactions(tmp_path):
    r = run("plan", THANH_HOA, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    short = (tmp_path / "out" / "shortfall.csv").read_text().splitlines()
    assert short[1].split(",")[1] == "1"  # day 1, not 1.0
    days = (tmp_path / "out" / "days.csv").read_text().splitlines()
    header = days[0].split(",")
    for line in days[1:]:
        cells = dict(zip(header, line.split(","), strict=False))
        assert len(cells["reactions_used"].partition(".")[2]) <= 1, cells["reactions_used"]


def test_the_streams_are_listed_most_urgent_first():
    data = json.loads(run("plan", THANH_HOA, "--days", "2", "--json").stdout)
    assert list(data["totals"]) == ["reactive", "symptomatic", "screening"]  # priority 1, 2, 3
    text = run("plan", THANH_HOA, "--days", "2").stdout
    assert text.index("Reactive") < text.index("Symptomatic") < text.index("Screening of risk")


@pytest.mark.parametrize(
    "lang, n, said",
    [("en", 2100, "2,100 more"), ("en", -2100, "2,100 fewer"), ("en", 0, "as many"),
     ("vi", 2100, "thêm 2.100"), ("vi", -3397, "ít hơn 3.397"), ("vi", 0, "bằng nhau")],
)  # fmt: skip
def test_differences_are_said_in_words_not_signs(lang, n, said):
    assert difference_words(lang, n) == said


def test_the_greedy_comparison_names_the_streams_and_has_no_signs():
    scn = load_scenario(TINY)
    cmp_ = compare_with_greedy(scn, plan_scenario(scn))
    for lang, text in cmp_["text"].items():
        first = text.splitlines()[0]
        assert "+" not in first and " -" not in first, first
        for s in scn.streams:
            if not s.poolable:
                assert s.name in first, (lang, first)


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_day_table_fits_an_80_column_terminal(lang, monkeypatch):
    from labopt.cli import common

    monkeypatch.setattr(common.console, "_width", 80)
    assert common.console.width == 80
    text = run("plan", THANH_HOA, "--lang", lang).stdout
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in text  # nothing cut short: headings and cells wrap at their spaces
    dates = [f"2021-10-{d:02d}" if lang == "en" else f"{d:02d}/10/2021" for d in range(4, 11)]
    for day, date in enumerate(dates, start=1):  # each day's row holds its whole date
        assert any(line.split()[:2] == [str(day), date] for line in lines if line.strip()), date
    assert "80,000" in text if lang == "en" else "80.000" in text


def test_days_below_target_by_demand_are_one_line_and_small_waits_another():
    rep = plan_scenario(load_scenario(THANH_HOA))
    items = rep.shortfall
    below = [i for i in items if i["kind"] == "target" and i["cause"] == "demand below target"]
    single = [i for i in below if i["stream_kind"] == "single"]
    assert len(single) == 5  # days 1, 2, 5, 6, 7
    for lang, start in (
        ("en", "Days 1–2 and 5–7: every single sample"),
        ("vi", "Các ngày 1–2 và 5–7: đã xét nghiệm mọi mẫu đơn"),
    ):
        lines = summary_texts(items, lang)
        assert sum(line.startswith(start) for line in lines) == 1, lines
        assert len(lines) == len(items) - len(below) + 2  # single and pooled: a line each
    # a day's few waiting samples: one line for all of them, with their sum
    small = [
        {"kind": "stream", "day": d, "stream": "s", "stream_name": "S", "waiting": 10,
         "untested": 0, "cause": "travel", "causes": []}
        for d in (2, 3)
    ]  # fmt: skip
    lines = summary_texts(small, "en")
    assert lines == [
        "Days 2–3: fewer than 50 samples waiting or untested a day for reasons listed in "
        "shortfall.csv (20 in all)"
    ]


def test_progress_names_stages_and_the_solvers_steps_are_for_verbose(tmp_path):
    """The progress display hears the stages a person understands (each with its Vietnamese);
    the solver's pricing rounds go to ``detail`` only, printed by --verbose on stderr."""
    from dataclasses import replace

    from labopt.schedule.labels import STAGES

    scn = load_scenario(THANH_HOA)
    plan_cfg = scn.settings.plan.model_copy(update={"solver": "columns", "method": "lp"})
    scn = replace(scn, settings=scn.settings.model_copy(update={"plan": plan_cfg}))
    stages: list[str] = []
    details: list[str] = []
    plan_scenario(scn, 3, progress=stages.append, detail=details.append)
    assert stages and all(s in STAGES["vi"] for s in stages), stages
    assert not any("pricing" in s for s in stages)
    assert details and all(d.startswith("pricing round") for d in details)
    folder = tmp_path / "columns"
    shutil.copytree(THANH_HOA, folder)
    with (folder / "scenario.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[plan]\nsolver = "columns"\nmethod = "lp"\n')
    quiet = run("plan", folder, "--days", "3")
    assert quiet.exit_code == 0, quiet.output
    assert "pricing round" not in quiet.output
    loud = run("plan", folder, "--days", "3", "--verbose")
    assert "pricing round 1" in loud.stderr and "pricing round" not in loud.stdout
    loud = run("plan", folder, "--days", "3", "--verbose", "--lang", "vi")
    assert "vòng sinh cột 1" in loud.stderr and "pricing" not in loud.stderr
    # a plan solved whole says so too
    whole = run("plan", THANH_HOA, "--days", "2", "--verbose", "--method", "lp")
    assert "the whole LP solved in" in whole.stderr
    # the CLI's own stages (loading, writing) are translated too
    for stage in ("loading the scenario", "writing tables and charts", "starting"):
        assert stage in STAGES["vi"]


@pytest.mark.parametrize("width", [80, 100, 145])
@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_capacity_table_fits_the_terminal_without_cutting(lang, width, monkeypatch):
    from labopt.cli import common
    from labopt.numbers import number_text

    monkeypatch.setattr(common.console, "_width", width)
    r = run("capacity", THANH_HOA, "--lang", lang)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in r.stdout
    data = json.loads(run("capacity", THANH_HOA, "--json").stdout)
    for lab in data["labs"]:  # each lab's figures whole on its row (a name may wrap)
        shown = [number_text(lab[k], lang) for k in ("pcr", "extraction", "staff", "reagent")]
        assert any(all(f in line for f in shown) for line in lines), (lab, shown)


def test_the_pipe_takes_the_width_columns_gives(tmp_path):
    """Piped, a table is 200 columns wide unless COLUMNS says how wide the screen is."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "80"}
    cmd = [sys.executable, "-m", "labopt.cli.main", "plan", str(THANH_HOA), "--days", "2"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    env.pop("COLUMNS")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    assert max(len(line) for line in out.splitlines()) > 80


def test_a_run_out_with_nothing_short_says_so_instead_of_zero_reactions_short():
    rep = plan_scenario(load_scenario(THANH_HOA.parent / "mai_son"))
    days = [i for i in rep.shortfall if i["kind"] == "reagent_day"]
    assert any(i["reactions_short"] < 0.5 for i in days)  # the case this is about
    for lang in ("en", "vi"):
        for line in rep.shortfall_texts(lang):
            assert not re.search(r"\b0 (reactions short|phản ứng)", line), line
    said = " ".join(rep.shortfall_texts("en"))
    assert "nothing goes untested for it by day 7" in said
