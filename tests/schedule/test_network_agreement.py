"""How closely the min-cost flow's optimum matches the LP's on network weeks (the figure
docs/explanation/checking.md gives): the flow counts samples in 1/100 reaction, so it agrees to
that rounding, far below 1e-5 on weeks of tens of units."""

import pytest

from labopt.scenario.synth import synthesize
from labopt.schedule import build_input
from labopt.schedule.flow import unit_costs
from labopt.schedule.model import weights
from labopt.schedule.network import solve_network
from labopt.schedule.pipeline import solve_lp


def network_week(seed, units, labs, days):
    """A synthetic week made a network: every lab validated for pools of 10, no reserve."""
    scn = synthesize(units, labs, days=days, seed=seed, candidates=min(3, labs))
    scn.labs[:] = [lab.model_copy(update={"max_pool_size": 10}) for lab in scn.labs]
    return scn.with_settings(plan={"retest_reserve_sd": 0.0})


@pytest.mark.parametrize(
    ("seed", "units", "labs", "days"),
    [(1, 12, 5, 3), (2, 12, 5, 3), (3, 12, 5, 3), (5, 60, 25, 4), (6, 60, 25, 4)],
)
def test_the_flows_optimum_matches_the_lps_to_its_rounding(seed, units, labs, days):
    inp = build_input(network_week(seed, units, labs, days))
    cfg = inp.scenario.settings.plan
    w = weights(inp, cfg)
    flow = solve_network(inp, cfg, w, unit_costs(inp, cfg.retest_reserve_sd))
    lp = solve_lp(inp, cfg.model_copy(update={"solver": "highs"}), w)
    assert flow.status == lp.status == "OPTIMAL"
    assert flow.objective == pytest.approx(lp.objective, rel=1e-7)
