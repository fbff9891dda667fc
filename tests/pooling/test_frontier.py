"""The frontier: the best design for each number of rounds and each largest pool."""

from __future__ import annotations

import json

import pytest

from labopt.pooling.frontier import frontier, pool_limits
from tests.cli.helpers import refused, run


@pytest.mark.parametrize("p", [0.005, 0.01, 0.02, 0.05])
def test_more_rounds_or_larger_pools_never_cost_more_and_each_cell_keeps_its_limits(p):
    front = frontier(p, se=0.99, sp=0.99, max_size=64)
    cell = {(c.stages, c.largest_pool): c.best for c in front.cells}
    limits = pool_limits(64)
    assert limits == [2, 4, 8, 16, 32, 64]
    for (stages, limit), best in cell.items():
        assert best is not None and best.stages <= stages and best.design.largest_pool <= limit
        et = float(best.expected_tests_per_sample)
        if stages > 1:
            assert et <= float(cell[stages - 1, limit].expected_tests_per_sample) + 1e-12
        if limit > 2:
            smaller = limits[limits.index(limit) - 1]
            assert et <= float(cell[stages, smaller].expected_tests_per_sample) + 1e-12
    assert cell[1, 2].algorithm == "IT"


@pytest.mark.parametrize("p", [0.01, 0.05])
def test_with_a_perfect_test_no_cell_beats_the_entropy_floor(p):
    """Identifying every positive without errors takes at least H(p) tests per sample."""
    front = frontier(p, se=1.0, sp=1.0, max_size=64)
    assert all(float(c.best.expected_tests_per_sample) >= front.entropy for c in front.cells)


def test_accuracy_limits_leave_cells_empty_rather_than_break_them():
    front = frontier(0.02, se=0.99, sp=0.99, max_size=16, min_sensitivity=0.975)
    free = frontier(0.02, se=0.99, sp=0.99, max_size=16)
    for c, f in zip(front.cells, free.cells, strict=True):  # the limit binds where D3/D4 win
        assert float(c.best.sensitivity) >= 0.975
        assert c.best.expected_tests_per_sample >= f.best.expected_tests_per_sample - 1e-12
    assert any(float(f.best.sensitivity) < 0.975 for f in free.cells)
    none = frontier(0.02, se=0.99, sp=0.99, max_size=16, min_sensitivity=0.995)
    assert all(c.best is None for c in none.cells)


def test_the_command_gives_the_librarys_frontier_and_its_chart(tmp_path):
    args = ["pool", "frontier", "-p", "0.02", "--se", "0.99", "--sp", "0.99", "--max-size", "32"]
    r = run(*args, "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    lib = frontier(0.02, se=0.99, sp=0.99, max_size=32)
    assert [c["best"]["config"] for c in got["cells"]] == [c.best.config for c in lib.cells]
    chart = tmp_path / "frontier.png"
    r = run(*args, "--chart", chart, "--lang", "vi")
    assert r.exit_code == 0, r.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "giới hạn entropy là 0,1414" in " ".join(r.stdout.split())
    refused(run(*args, "--chart", chart), "--chart", "--force")  # not over a file without it
    refused(run(*args, "--chart", tmp_path / "f.pdf"), "--chart", ".png")


def test_a_frontier_nothing_meets_exits_1_with_its_table_and_chart(tmp_path):
    chart = tmp_path / "none.png"
    args = ["pool", "frontier", "-p", "2%", "--max-size", "16", "--min-sensitivity", "0.999"]
    r = run(*args, "--chart", chart)
    assert r.exit_code == 1 and chart.is_file(), r.output
    assert r.stdout.count("—") >= 6
    refused(run("pool", "frontier", "-p", "0.01", "--se", "0.9,0.95"), "--se", "one value")


def test_each_search_limit_is_noted_once():
    front = frontier(0.01, max_size=1000)
    families = [n.fields["family"] for n in front.notes]
    assert sorted(families) == ["D3", "D4", "D5"] and all("1000" in n for n in front.notes)
