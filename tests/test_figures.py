"""PNG files of figures: the same pixels as matplotlib's savefig, drawn once."""

import io

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from labopt.figures import new_figure, save_png


def _chart() -> Figure:
    fig = new_figure(6, 3, dpi=80)
    ax = fig.add_subplot()
    ax.barh(range(5), [3, 1, 4, 1, 5], label="reactions")
    ax.set_yticks(range(5), [f"a lab with a long name {i}" for i in range(5)])
    fig.legend(loc="lower center")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_save_png_gives_savefigs_pixels_and_size(tmp_path):
    fig = _chart()
    ours, theirs = tmp_path / "ours.png", io.BytesIO()
    save_png(fig, ours)
    fig.savefig(theirs, format="png")
    a, b = _pixels(ours.read_bytes()), _pixels(theirs.getvalue())
    assert a.shape == b.shape == (3 * 80, 6 * 80, 4)
    assert np.array_equal(a, b)


def test_save_png_draws_the_figure_once(tmp_path, monkeypatch):
    fig = _chart()
    draws = []
    draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, r: draws.append(1) or draw(self, r))
    save_png(fig, tmp_path / "a.png")
    assert len(draws) == 1
    draws.clear()
    fig.savefig(tmp_path / "b.png")  # what it saves: a draw to lay out, then the drawing
    assert len(draws) == 2


def test_save_png_writes_into_a_buffer_and_takes_a_figure_of_any_canvas():
    fig = Figure(figsize=(2, 1), dpi=50)  # no canvas given: matplotlib's default one
    fig.add_subplot().plot([0, 1], [1, 0])
    buf = io.BytesIO()
    save_png(fig, buf)
    assert _pixels(buf.getvalue()).shape == (50, 100, 4)
