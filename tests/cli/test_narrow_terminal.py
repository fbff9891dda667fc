"""No command cuts a figure, a name or a heading with "…" in a narrow terminal, in either
language: tables drop their borders and wrap their cells at spaces (or drop the columns others
imply), and the lines of a table wider than the screen wrap in the terminal."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from labopt.cli import common
from tests.cli.helpers import run

EXAMPLES = Path(__file__).parents[2] / "labopt" / "examples"
THANH_HOA = EXAMPLES / "thanh_hoa"


def first_stage(folder: Path) -> Path:
    """First-stage results of two units: 3 positive pools of 20 in one, none in the other."""
    path = folder / "first_stage.csv"
    pd.DataFrame(
        {
            "size": [10] * 40,
            "result": ["positive"] * 3 + ["negative"] * 37,
            "district": ["a"] * 20 + ["b"] * 20,
            "stream": "screening",
        }
    ).to_csv(path, index=False)
    return path


COMMANDS = {
    "estimate": lambda tmp: ["estimate", first_stage(tmp), "--design"],
    "pool evaluate": lambda tmp: ["pool", "evaluate", "-a", "D3", "-c", "12:4,4,4", "-p", "0.01"],
    "pool optimize": lambda tmp: ["pool", "optimize", "-p", "0.01,0.05", "--max-size", "30"],
    "pool evaluate, multiplex": lambda tmp: [
        "pool",
        "evaluate",
        "-a",
        "D3",
        "-c",
        "9:3,3,3",
        "--joint",
        "0.9,0.05,0.03,0.02",
    ],
    "pool frontier": lambda tmp: ["pool", "frontier", "-p", "0.01", "--max-size", "64"],
    "pool simulate": lambda tmp: ["pool", "simulate", "-a", "A2", "-c", "8", "-p", "0.02"],
    "screen allocate": lambda tmp: ["screen", "allocate", THANH_HOA],
    "screen size": lambda tmp: (
        ["screen", "size", "--design-prevalence", "0.0005", "--sp", "1", "--population", "100000"]
    ),
    "screen precision": lambda tmp: (
        ["screen", "precision", "--prevalence", "0.02", "--precision", "0.005"]
    ),
    "capacity": lambda tmp: ["capacity", THANH_HOA],
    "plan": lambda tmp: ["plan", THANH_HOA, "--days", "2"],
}


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("columns", [60, 80])
@pytest.mark.parametrize("name", COMMANDS)
def test_nothing_is_cut_in_a_narrow_terminal(name, columns, lang, tmp_path, monkeypatch):
    monkeypatch.setattr(common.console, "_width", columns)
    r = run(*COMMANDS[name](tmp_path), "--lang", lang)
    assert r.exit_code == 0, r.output
    assert "…" not in r.stdout, r.stdout
