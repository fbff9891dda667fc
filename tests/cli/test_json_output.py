"""Every command's --json output is one JSON object on stdout and nothing else (notes go into
the object; progress and warnings to stderr), also when the command has notes to give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import run

TINY = Path(__file__).parents[1] / "data" / "tiny"
THANH_HOA = Path(__file__).parents[2] / "labopt" / "examples" / "thanh_hoa"

COMMANDS = {
    "pool evaluate": ["pool", "evaluate", "-a", "D2", "-c", "10", "-p", "0.01"],
    "pool optimize": ["pool", "optimize", "-p", "0.01", "--max-size", "16"],
    # a limit no design meets: notes say which binds (exit 1, the object still whole)
    "pool optimize, notes": ["pool", "optimize", "-p", "0.2", "--min-sensitivity", "0.9999"],
    "pool optimize, a grid": ["pool", "optimize", "-p", "0.01,0.05", "--max-size", "8"],
    "pool evaluate, multiplex": [
        "pool",
        "evaluate",
        "-a",
        "D2",
        "-c",
        "8",
        "--joint",
        "0.9,0.05,0.03,0.02",
    ],
    "pool optimize, multiplex": ["pool", "optimize", "--joint", "0.9,0.05,0.03,0.02"],
    "pool frontier": ["pool", "frontier", "-p", "0.02", "--max-size", "16"],
    "pool simulate": ["pool", "simulate", "-a", "D2", "-c", "5", "-p", "0.02", "--samples", "2000"],
    "capacity": ["capacity", TINY],
    "plan": ["plan", TINY, "--days", "2"],
    "screen size": ["screen", "size", "--design-prevalence", "0.01", "--pool-size", "5"],
    "screen precision": ["screen", "precision", "--prevalence", "0.02", "--precision", "0.01"],
    "screen allocate": ["screen", "allocate", THANH_HOA],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_json_stdout_is_one_object(name):
    r = run(*COMMANDS[name], "--json")
    assert r.exit_code in (0, 1), r.output
    data = json.loads(r.stdout)  # the whole of stdout, nothing before or after
    assert isinstance(data, dict) and data
    if name == "pool optimize, notes":
        assert r.exit_code == 1 and data["notes"]


def test_the_daily_loops_json_is_one_object(tmp_path):
    ws = tmp_path / "ws"
    assert run("day", "init", ws, "--from", TINY).exit_code == 0
    for args in (["plan", ws, "--date", "2021-10-04", "--days", "2"], ["history", ws]):
        r = run("day", *args, "--json")
        assert r.exit_code == 0, r.output
        assert isinstance(json.loads(r.stdout), dict)
