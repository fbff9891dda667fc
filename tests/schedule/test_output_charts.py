"""The plan's charts (labopt.schedule.output): the lab utilisation chart names each lab up to
NAMED_LABS labs and keeps that height beyond, whatever the number of labs; the reagent chart
shows the labs with the largest shipments, a panel each."""

import struct

import pandas as pd
import pytest

from labopt.scenario.synth import synthesize
from labopt.schedule import plan_scenario
from labopt.schedule.output import (
    NAMED_LABS,
    REAGENT_LABS,
    chart_labs,
    chart_reagent,
    reagent_series,
)
from tests.schedule.test_supply import synthesized_with_supply


def png_size(path):
    """(width, height) in pixels, from the PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("labs", [20, 40, NAMED_LABS + 60])
def test_the_utilisation_chart_grows_with_the_labs_it_names_only(labs, tmp_path):
    rep = plan_scenario(synthesize(2 * labs, labs, days=2, seed=1, candidates=4), check=False)
    used = rep.labs.groupby("lab")["reactions"].sum()
    shown = int((used > 0).sum())
    chart_labs(rep, tmp_path / "labs.png")
    width, height = png_size(tmp_path / "labs.png")
    assert width == 800
    expected = max(3.0, 0.28 * min(shown, NAMED_LABS) + 1.5) * 100
    assert height == pytest.approx(expected, abs=1)
    if labs > NAMED_LABS:
        assert shown > NAMED_LABS  # the chart is capped, not the week small


def test_the_reagent_chart_shows_the_labs_with_the_largest_shipments_first(tmp_path):
    rep = plan_scenario(synthesized_with_supply(1))
    ships = rep.shipments
    moved = pd.concat(
        [ships.groupby("source")["reactions"].sum(), ships.groupby("target")["reactions"].sum()]
    )
    moved = moved[~moved.index.isin(rep.plan.input.supply.store_ids)].groupby(level=0).sum()
    shown = list(dict.fromkeys(reagent_series(rep)["lab"]))
    assert 0 < len(shown) <= REAGENT_LABS
    assert set(shown) <= set(moved.index)
    assert moved[shown].is_monotonic_decreasing
    assert moved[shown].iloc[-1] >= max(moved.drop(shown), default=0)
    chart_reagent(rep, tmp_path / "reagent.png")
    cols = min(4, len(shown))
    rows = -(-len(shown) // cols)
    assert png_size(tmp_path / "reagent.png") == (
        round((3.0 * cols + 0.5) * 100),
        round((2.2 * rows + 1.2) * 100),
    )
