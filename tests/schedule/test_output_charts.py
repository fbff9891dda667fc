"""The plan's charts (labopt.schedule.output): the lab utilisation chart names each lab up to
NAMED_LABS labs and keeps that height beyond, whatever the number of labs."""

import struct

import pytest

from labopt.scenario.synth import synthesize
from labopt.schedule import plan_scenario
from labopt.schedule.output import NAMED_LABS, chart_labs


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
