"""Every chart of a plan, drawn for two fixtures in both languages: its words are there, inside
the picture and not on top of each other, in the chosen language with its number format. The
pictures are kept as test artefacts (LABOPT_ARTEFACTS, default test-artefacts/charts) to look
at."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest

from labopt.scenario import load_scenario
from labopt.schedule import plan_scenario
from labopt.schedule.output import chart_days, chart_labs, chart_reagent, day_figures
from tests.cli.test_vietnamese import ENGLISH, vocabulary

EXAMPLES = Path(__file__).parents[2] / "labopt" / "examples"
ARTEFACTS = Path(os.environ.get("LABOPT_ARTEFACTS", Path(__file__).parents[2] / "test-artefacts"))
CHARTS = {"days": chart_days, "labs": chart_labs, "reagent": chart_reagent}


# the reagent chart is drawn for a scenario with supply routes (thanh_hoa) only
DRAWN = [("thanh_hoa", c) for c in CHARTS] + [("thanh_hoa_variant", c) for c in ("days", "labs")]
_REPORTS: dict = {}


def planned(name: str):
    if name not in _REPORTS:
        _REPORTS[name] = plan_scenario(load_scenario(EXAMPLES / name))
    return _REPORTS[name]


@pytest.fixture(params=["thanh_hoa", "thanh_hoa_variant"])
def report(request):
    return request.param, planned(request.param)


def texts_of(fig):
    """The figure's visible, non-empty texts with their boxes in pixels."""
    renderer = fig.canvas.get_renderer()
    out = []
    for text in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent")):
        if not text.get_visible() or not str(text.get_text()).strip():
            continue
        out.append((str(text.get_text()), text.get_window_extent(renderer)))
    return out


def test_the_reagent_chart_is_drawn_where_there_are_supply_routes(tmp_path):
    from labopt.schedule.output import write_outputs

    for name in ("thanh_hoa", "thanh_hoa_variant"):
        files = write_outputs(planned(name), tmp_path / name)
        has = planned(name).plan.input.supply is not None
        assert any(f.name == "reagent.png" for f in files) == has == (name == "thanh_hoa")


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("name, chart", DRAWN)
def test_each_chart_shows_its_words_inside_and_apart(name, chart, lang):
    rep = planned(name)
    folder = ARTEFACTS / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}_{chart}_{lang}.png"
    fig = CHARTS[chart](rep, path, lang)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    texts = texts_of(fig)
    assert len(texts) >= 5
    box = fig.bbox
    for text, extent in texts:  # inside the picture
        assert extent.x0 >= box.x0 - 1 and extent.x1 <= box.x1 + 1, (text, extent, box)
        assert extent.y0 >= box.y0 - 1 and extent.y1 <= box.y1 + 1, (text, extent, box)
    # tick labels of one axis never overlap each other
    for ax in fig.axes:
        for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
            boxes = [t.get_window_extent() for t in ticks if t.get_text().strip()]
            for a, b in itertools.pairwise(boxes):
                assert not a.overlaps(b), [t.get_text() for t in ticks]
    words = " ".join(t for t, _ in texts)
    for lab in rep.plan.scenario.labs:
        words = words.replace(lab.name, " ")
    words = words.replace(rep.plan.scenario.province.name, " ")
    if lang == "vi":
        assert not vocabulary([words]) & ENGLISH, vocabulary([words]) & ENGLISH
        assert not re.search(r"\d,\d{3}\b", words), words  # 8.000, not 8,000
    else:
        assert vocabulary([words]) & ENGLISH


def test_the_day_chart_shows_demand_waiting_and_untested(report):
    """Its bars add up to what the day had to test, from the plan's status table."""
    _, rep = report
    figures = day_figures(rep)
    st = rep.status
    assert figures["tested"].sum() == st["tested"].sum()
    assert figures["waiting"].sum() == st["waiting"].sum()
    assert figures["untested"].sum() == st["untested"].sum()
    assert figures["demand"].sum() == st["demand"].sum()
    fig = chart_days(rep, ARTEFACTS / "charts" / "days_check.png", "en")
    heights = sorted(round(p.get_height()) for ax in fig.axes for p in ax.patches if p.get_height())
    expected = [round(v) for k in ("tested", "waiting", "untested") for v in figures[k] if v]
    assert heights == sorted(expected)
