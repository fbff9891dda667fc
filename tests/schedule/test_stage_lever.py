"""The report's stage lever ("with one more PCR round, the day's pooled samples would save N
reactions"), against a direct computation cell by cell with labopt.capacity.pooled.best_design:
the lever searches designs only where the plan allocates samples, once per pool class and
prevalence, and must give the same figures."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from labopt.capacity.pooled import best_design
from labopt.scenario.synth import synthesize
from labopt.schedule import plan_scenario
from labopt.schedule.report import _Context, _stage_lever


def test_the_stage_lever_is_the_saving_of_one_more_round_where_samples_are_allocated():
    scn = synthesize(60, 12, days=3, seed=1)
    pol = scn.policy.model_copy(update={"max_stages": 2})
    scn = replace(scn, settings=scn.settings.model_copy(update={"policy": pol}))
    rep = plan_scenario(scn)
    ctx = _Context.of(rep.plan)
    inp, x = rep.plan.input, rep.plan.x
    more = pol.model_copy(update={"max_stages": 3})
    found = 0
    for t in range(inp.days):
        lever = _stage_lever(ctx, t, np.ones(inp.ns, dtype=bool))
        saved = tested = spent = 0.0
        for p, s in zip(*np.nonzero(x[:, :, t] > 0), strict=True):
            if not inp.poolable[s]:
                continue
            size = inp.pool_classes[inp.design_class[inp.pair_l[p]]]
            then = best_design(inp.prevalence[inp.pair_d[p], s, t], size, more)[1]
            now = inp.cost[p, s, t]
            saved += x[p, s, t] * max(now - then, 0.0)
            tested += x[p, s, t]
            spent += x[p, s, t] * min(then, now)
        if saved < 1e-6:
            assert lever is None
            continue
        found += 1
        assert lever["reactions"] == round(saved)
        assert lever["samples"] == int(saved / (spent / tested))
        assert (lever["max_stages"], lever["stages"]) == (2, 3)
    assert found == inp.days  # every day of this week has a saving to name
