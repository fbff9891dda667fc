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
from labopt.schedule.output import (
    chart_days,
    chart_lab_week,
    chart_labs,
    chart_map,
    chart_reagent,
    day_figures,
    lab_week,
)
from tests.cli.test_vietnamese import ENGLISH, vocabulary

EXAMPLES = Path(__file__).parents[2] / "labopt" / "examples"
ARTEFACTS = Path(os.environ.get("LABOPT_ARTEFACTS", Path(__file__).parents[2] / "test-artefacts"))
CHARTS = {
    "days": chart_days,
    "labs": chart_labs,
    "lab_week": chart_lab_week,
    "map": chart_map,
    "reagent": chart_reagent,
}


DRAWN = [(name, c) for name in ("thanh_hoa", "thanh_hoa_variant") for c in CHARTS]
_REPORTS: dict = {}


def planned(name: str):
    if name not in _REPORTS:
        _REPORTS[name] = plan_scenario(load_scenario(EXAMPLES / name))
    return _REPORTS[name]


@pytest.fixture(params=["thanh_hoa", "thanh_hoa_variant"])
def report(request):
    return request.param, planned(request.param)


def shown_ticks(axis):
    """An axis's tick labels that are drawn: those at locations within its view."""
    low, high = sorted(axis.get_view_interval())
    span = (high - low) * 1e-9
    return [
        label
        for loc, label in zip(axis.get_ticklocs(), axis.get_ticklabels(), strict=False)
        if low - span <= loc <= high + span and label.get_text().strip()
    ]


def texts_of(fig):
    """The figure's drawn, non-empty texts with their boxes in pixels (tick labels only
    where their tick is in view: matplotlib keeps, undrawn, those beyond the limits)."""
    renderer = fig.canvas.get_renderer()
    ticks = {
        id(t) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) for t in axis.get_ticklabels()
    }
    drawn = [t for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) for t in shown_ticks(axis)]
    out = []
    for text in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent")):
        if id(text) in ticks or not text.get_visible() or not str(text.get_text()).strip():
            continue
        out.append((str(text.get_text()), text.get_window_extent(renderer)))
    out += [(str(t.get_text()), t.get_window_extent(renderer)) for t in drawn]
    return out


def test_the_reagent_chart_shows_shipments_where_there_are_supply_routes(tmp_path):
    for name in ("thanh_hoa", "thanh_hoa_variant"):
        fig = chart_reagent(planned(name), tmp_path / f"{name}.png", "en")
        lines = {len(ax.get_lines()) for ax in fig.axes}
        # the zero line, with the shipments, and without them where there are routes
        assert lines == ({3} if planned(name).plan.input.supply is not None else {2})


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
        for ticks in (shown_ticks(ax.xaxis), shown_ticks(ax.yaxis)):
            boxes = [t.get_window_extent() for t in ticks]
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


def test_each_labs_week_adds_up_to_its_capacity(report):
    """Reactions by stream, reserve and idle capacity by reason make up each lab's capacity
    without reagent over the week; a lab whose reagent never cut a day has none idle for
    want of it."""
    _, rep = report
    week = lab_week(rep).set_index("lab")
    labs = rep.labs
    streams = list(rep.plan.input.stream_ids)
    used = rep.allocations.groupby("lab")["reactions"].sum()
    for lab, row in week.iterrows():
        days = labs[labs["lab"] == lab]
        total = row[[*streams, "reserve", "no_reagent", "standby_off", "not_needed"]].sum()
        # the labs table rounds reactions and reserve to 0.1: a full day may show 0.05 over
        assert total == pytest.approx(days["capacity_without_reagent"].sum(), abs=0.1 * len(days))
        assert row[streams].sum() == pytest.approx(used.get(lab, 0.0), abs=1e-6)
        starved = days["capacity"] < days["capacity_without_reagent"]  # reagent cut the day
        if not starved.any():
            assert row["no_reagent"] == pytest.approx(0.0, abs=0.1 * len(days))
    assert (week["standby_off"] > 0).any() == bool(
        ((labs["status"] == "standby") & ~labs["switched_on"].astype(bool)).any()
    )
