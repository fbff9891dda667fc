"""The first master of column generation (labopt.schedule.columns): the test arcs' boxes are
implied by the LP's rows (the whole LP's optimum keeps within them), and the arcs of the unit
streams the relaxed flow undercharges start the first master near the optimum."""

import numpy as np
import pytest

from labopt.scenario.synth import synthesize
from labopt.schedule import build_input, columns
from labopt.schedule.model import lp_model, plan_cost, weights
from labopt.schedule.pipeline import solve_lp


def week(seed, units=60, labs=25, days=5, candidates=8):
    scn = synthesize(units, labs, days=days, seed=seed, candidates=candidates)
    inp = build_input(scn)
    cfg = scn.settings.plan
    return inp, cfg, weights(inp, cfg)


@pytest.mark.parametrize(("seed", "labs"), [(0, 25), (1, 25), (0, 12), (1, 12)])
def test_the_arcs_boxes_hold_at_the_whole_lps_optimum_and_tighten_the_models(seed, labs):
    """With 12 labs the week is short of capacity: samples wait, and some arcs test more
    than their day's samples (those that waited from the day before count)."""
    inp, cfg, w = week(seed, labs=labs)
    whole = solve_lp(inp, cfg.model_copy(update={"solver": "glop"}), w)
    bound = columns.arc_bounds(inp, cfg)
    assert (whole.x <= bound * (1 + 1e-9) + 1e-6).all()
    if labs == 12:
        assert (whole.x > inp.demand[inp.pair_d] + 1e-6).any()
    # tighter than the model's own box (the unit's samples so far) on most arcs
    box = lp_model(inp, cfg, w).upper[: bound.size]
    assert (bound.ravel() < box - 1e-9).mean() > 0.5
    # and a lab filled by one arc meets its capacity bound
    c = plan_cost(inp, cfg.retest_reserve_sd)
    fill = inp.capacity[inp.pair_l][:, None, :] / c
    assert np.isclose(bound, fill).any()


@pytest.mark.parametrize(("seed", "labs"), [(3, 50), (0, 20), (3, 20)])
def test_column_generation_with_the_boxes_matches_the_whole_lp(seed, labs):
    inp, cfg, w = week(seed, units=120, labs=labs, candidates=15)
    whole = solve_lp(inp, cfg.model_copy(update={"solver": "glop"}), w)
    cg = columns.solve_lp_columns(inp, cfg, w)
    assert cg.status == "OPTIMAL"
    assert cg.objective == pytest.approx(whole.objective, rel=1e-9)


def test_only_unit_streams_the_relaxation_undercharges_are_seeded_by_reduced_cost():
    inp, cfg, w = week(0, units=120, labs=50, candidates=15)
    m = lp_model(inp, cfg, w)
    relaxed = columns.relaxation(inp, cfg, w)
    rc = m.obj[: m.nx] - m.A[:, : m.nx].T @ relaxed.duals
    picked = columns.undercharged_arcs(inp, cfg, w, m, rc).reshape(inp.npairs, inp.ns, inp.days)
    assert picked.any()
    # single-sample streams cost one reaction everywhere: the flow charges them exactly
    assert not picked[:, ~inp.poolable, :].any()
    within = np.broadcast_to(
        columns.SEED_WITHIN * w.waiting_day * w.stream[None, :, None], picked.shape
    )
    rc = rc.reshape(picked.shape)
    assert (rc[picked] <= within[picked]).all()
    # and not every arc of the pooled streams: those far above the flow's duals are left out
    assert (rc[:, inp.poolable, :] > within[:, inp.poolable, :]).any()


def pricing_iterations(inp, cfg, w):
    lines = []
    sol = columns.solve_lp_columns(inp, cfg, w, progress=lines.append)
    assert sol.status == "OPTIMAL"
    return sol.objective, sum(
        int(line.split("(")[1].split(" iterations")[0].replace(",", "")) for line in lines
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_the_undercharged_arcs_save_most_dual_simplex_iterations(seed, monkeypatch):
    inp, cfg, w = week(seed, units=120, labs=50, candidates=15)
    objective, seeded = pricing_iterations(inp, cfg, w)
    monkeypatch.setattr(columns, "SEED_WITHIN", -np.inf)
    objective_without, without = pricing_iterations(inp, cfg, w)
    assert objective == pytest.approx(objective_without, rel=1e-9)
    assert seeded < 0.6 * without
