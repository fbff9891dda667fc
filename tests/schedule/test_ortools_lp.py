"""The OR-Tools adapter (labopt.schedule.ortools_lp): the private bulk helper only on tested
versions, the public API otherwise, with the same numbers."""

import numpy as np
import pytest
from ortools.linear_solver.python import model_builder

from labopt.examples import EXAMPLES
from labopt.scenario import load_scenario
from labopt.schedule import build_input, ortools_lp
from labopt.schedule.lp import solve_whole_lp
from labopt.schedule.model import weights


def test_versions_are_read_and_checked_against_the_tested_range():
    assert ortools_lp.version("9.15.6755") == (9, 15, 6755)
    assert ortools_lp.version("10.0rc1") == (10,)
    assert ortools_lp.tested(".".join(map(str, ortools_lp.TESTED_FROM)))
    assert not ortools_lp.tested("9.9.3963")
    assert not ortools_lp.tested(".".join(map(str, ortools_lp.TESTED_BELOW)))
    assert not ortools_lp.tested("garbage")


def test_the_installed_ortools_gets_the_helper_only_in_the_tested_range():
    """On a tested OR-Tools the private helper is used; on a newer one the public API (plans
    still work, more slowly; check the helper with it and widen TESTED_BELOW)."""
    helper = ortools_lp.bulk_helper(model_builder.Solver("glop"))
    if ortools_lp.tested():
        assert helper is not None, ortools_lp.ORTOOLS_VERSION
    else:
        assert helper is None, ortools_lp.ORTOOLS_VERSION


class NoHelper:
    """A solver without the private attribute (as a future OR-Tools may be)."""


def test_no_helper_without_the_private_attribute_or_on_an_untested_version(monkeypatch):
    assert ortools_lp.bulk_helper(NoHelper()) is None
    monkeypatch.setattr(ortools_lp, "ORTOOLS_VERSION", "99.0")
    assert ortools_lp.bulk_helper(model_builder.Solver("glop")) is None


@pytest.mark.parametrize("backend", ["glop", "highs"])
def test_public_api_gives_the_same_solution_as_the_bulk_helper(monkeypatch, backend):
    scn = load_scenario(EXAMPLES / "tra_vinh")
    inp = build_input(scn)
    cfg = scn.settings.plan
    w = weights(inp, cfg)
    bulk = solve_whole_lp(inp, cfg, w, backend)
    monkeypatch.setattr(ortools_lp, "ORTOOLS_VERSION", "99.0")  # untested: public API
    public = solve_whole_lp(inp, cfg, w, backend)
    assert bulk.optimal and public.optimal
    for name in ("x", "waiting", "untested", "capacity_dual", "reagent_dual"):
        assert np.array_equal(getattr(bulk, name), getattr(public, name)), name
    assert bulk.objective == public.objective


def test_public_api_reports_no_solution_as_none(monkeypatch):
    scn = load_scenario(EXAMPLES / "tra_vinh").with_settings(plan={"time_limit_seconds": 1e-9})
    inp = build_input(scn)
    cfg = scn.settings.plan
    monkeypatch.setattr(ortools_lp, "ORTOOLS_VERSION", "99.0")
    sol = solve_whole_lp(inp, cfg, weights(inp, cfg), "glop")
    assert not sol.optimal and np.isnan(sol.objective) and not sol.x.any()
