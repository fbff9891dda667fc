"""The frontier of pooling: the fewest reactions per sample for each number of PCR rounds and
each largest pool a lab may validate, beside the entropy floor.

What one more round buys (turnaround) and what a larger validated pool buys (dilution, lab
work), for one prevalence and one assay, so a coordinator can weigh them. Each cell is an
exact search of every family (:func:`labopt.pooling.optimize`) within its limits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from labopt.pooling.assay import SENSITIVITY, SPECIFICITY
from labopt.pooling.opchar import OperatingCharacteristics, binary_entropy
from labopt.pooling.search import SearchConstraints, optimize
from labopt.pooling.validation import check_int, check_probability

MAX_STAGES = 5  # the deepest hierarchy labopt searches (D5)


def pool_limits(max_size: int) -> list[int]:
    """The largest pools the frontier tries: powers of two from 2, and ``max_size`` itself."""
    limits = [2**k for k in range(1, 16) if 2**k < max_size]
    return [*limits, max_size] if max_size >= 2 else [1]


@dataclass(frozen=True)
class FrontierCell:
    """The best design with at most ``stages`` PCR rounds and pools of at most
    ``largest_pool`` samples (None when no design meets the accuracy limits)."""

    stages: int
    largest_pool: int
    best: OperatingCharacteristics | None

    def to_dict(self) -> dict:
        return {
            "stages": self.stages,
            "largest_pool": self.largest_pool,
            "best": None if self.best is None else self.best.to_dict(),
        }


@dataclass
class Frontier:
    """Every cell of the frontier, the entropy floor H(p) (bits per sample: no design without
    errors tests fewer reactions per sample) and the searches' notes."""

    prevalence: float
    entropy: float
    cells: list[FrontierCell]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "prevalence": self.prevalence,
            "entropy_floor": self.entropy,
            "cells": [c.to_dict() for c in self.cells],
            "notes": self.notes,
        }


def frontier(
    prevalence: float,
    *,
    se: float | Sequence[float] = SENSITIVITY,
    sp: float | Sequence[float] = SPECIFICITY,
    max_stages: int = MAX_STAGES,
    max_size: int = 64,
    min_sensitivity: float = 0.0,
    min_specificity: float = 0.0,
) -> Frontier:
    """The best design for each number of rounds 1..``max_stages`` and each largest pool of
    :func:`pool_limits` (``max_size``), under the accuracy limits."""
    p = check_probability(prevalence, "prevalence")
    check_int(max_stages, "max_stages", 1, MAX_STAGES)
    check_int(max_size, "max_size", 1, 10_000)
    cells: list[FrontierCell] = []
    notes: dict[str, str] = {}
    for stages in range(1, max_stages + 1):
        for limit in pool_limits(max_size):
            cons = SearchConstraints(
                max_size=limit,
                max_stages=stages,
                min_sensitivity=min_sensitivity,
                min_specificity=min_specificity,
            )
            res = optimize(p, se=se, sp=sp, constraints=cons, top=1)
            cells.append(FrontierCell(stages, limit, res.best))
            for n in res.notes if res.best is not None else []:
                # one note per family's search limit: the one for the largest pool tried
                family = getattr(n, "fields", {}).get("family", n)
                notes[family] = n
    return Frontier(p, float(binary_entropy(p)), cells, list(notes.values()))


def draw_frontier(front: Frontier, path: Path, words: dict[str, str], lang: str) -> None:
    """A chart of the frontier: reactions per sample against the largest pool, one line per
    number of rounds, the entropy floor dashed. ``words``: its title and labels."""
    from labopt.figures import new_figure, save_png
    from labopt.numbers import fill, number_text

    fig = new_figure(7.5, 4.5)
    ax = fig.add_subplot()
    # one by one (1 round) costs 1 reaction per sample whatever the pool: left out of the scale
    lowest: tuple[float, float] | None = None
    drawn = sorted({c.stages for c in front.cells})
    for stages in [s for s in drawn if s > 1] or drawn:
        row = [c for c in front.cells if c.stages == stages and c.best is not None]
        xs = [c.largest_pool for c in row]
        ys = [float(c.best.expected_tests_per_sample) for c in row if c.best is not None]
        ax.plot(xs, ys, marker="o", label=fill(words["rounds"], lang, stages=stages))
        if ys and (lowest is None or ys[-1] < lowest[1]):
            lowest = (xs[-1], ys[-1])
    if lowest is not None:  # the best the frontier reaches, written on it
        ax.annotate(number_text(lowest[1], lang, ".3f"), lowest, fontsize=8,
                    xytext=(0, -12), textcoords="offset points", ha="center")  # fmt: skip
    if front.entropy > 0:
        ax.axhline(front.entropy, color="#555555", linestyle="--", linewidth=1,
                   label=words["floor"])  # fmt: skip
    limits = sorted({c.largest_pool for c in front.cells})
    if len(limits) > 1 and lowest is not None:
        ax.set_xscale("log", base=2)
    ax.set_xticks(limits, [str(x) for x in limits])
    if lowest is None:  # no design meets the limits: the chart says so
        ax.text(0.5, 0.5, words["none"], transform=ax.transAxes, ha="center", va="center")
    ax.set_ylim(bottom=0)
    ax.margins(x=0.08, y=0.12)
    ax.yaxis.set_major_formatter(lambda v, _: number_text(v, lang, ".2f"))
    ax.set_xlabel(words["x"], fontsize=9)
    ax.set_ylabel(words["y"], fontsize=9)
    ax.set_title(words["title"], fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_png(fig, path)


def efficiency(cell: FrontierCell, entropy: float) -> float:
    """H(p) / ET of a cell (nan without a design)."""
    if cell.best is None:
        return math.nan
    return entropy / float(cell.best.expected_tests_per_sample)
