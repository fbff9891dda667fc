"""Figures without pyplot (no global state: safe in a server's threads) and their PNG files.

matplotlib is imported inside the functions, not at the top: it is slow to import and only
figures need it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(width: float, height: float, dpi: float = 100) -> Figure:
    """An empty figure of ``width`` x ``height`` inches at ``dpi`` dots per inch, drawn by Agg."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: str | os.PathLike) -> None:
    """``fig`` as a PNG file at its own size and dpi, the same pixels as ``fig.savefig(path)``.

    The figure is drawn once: after ``tight_layout`` matplotlib's savefig draws it a second
    time to lay it out again, which costs as much as the drawing itself on a large chart.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.image import imsave

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    imsave(path, canvas.buffer_rgba(), format="png", dpi=fig.dpi)
