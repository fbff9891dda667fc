"""The plan's screening mode ``by_risk``: how many screening samples each unit should collect.

With ``[plan] screening = "by_risk"``, the demand of the screening streams (the poolable
streams of the least urgent priority level) is what each unit *could* collect that day, not
what it must. When the province's reactions cannot test all of it, the plan says how many each
unit should collect, so that the screening reactions find the most infections.

The plan's LP decides it (labopt.schedule.model): a sample a unit could collect but is asked
not to costs, in the screening stream's tier, between one waiting day (so a lab with room tests
what units could collect) and 99 % of what collecting it to spoil costs, in proportion to the
infections it would find (``prevalence x Se^rounds``: its stream's prevalence that day, the
pool test's sensitivity at each PCR round of its unit's design). Where capacity, reagent or
travel is short, the samples left uncollected are thus those that find least per reaction;
samples are never collected to spoil or to wait past the plan's last day, and the wait limits
count collected samples. Urgent streams keep their tiers above screening. The whole-sample
plan collects what the LP keeps, rounded down; what whole pools still leave untested is not
collected either (only_what_is_tested). The plan is proven optimal and independently checked
as any plan, against the demand it asks the units to collect.

Reported per unit and day (``screening.csv``): what it could collect, what to collect, what the
plan tests, its pools, the reactions, the infections expected to be found, and the detection
probability: the chance that the unit's screening finds infection if it is present at the
design prevalence of its epidemic level and area type ([screening] settings). And for the
province, screening by risk against the plan of the demand as given (samples, reactions,
infections expected to be found).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from labopt.errors import InputError
from labopt.pooling.designs import Design
from labopt.scenario.model import Scenario
from labopt.schedule.data import PlanInput
from labopt.schedule.result import Plan
from labopt.screening.freedom import pool_positive

SCREENING_COLUMNS = [
    "day",
    "date",
    "district",
    "district_name",
    "stream",
    "could_collect",
    "collect",
    "tested",
    "pools",
    "reactions",
    "infections_expected",
    "design_prevalence",
    "detection_probability",
]


def screening_streams(scn: Scenario) -> list[str]:
    """Ids of the screening streams: the poolable streams of the least urgent priority level.
    Refused, naming the setting, when that level has none."""
    lowest = max(s.priority for s in scn.streams)
    ids = [s.id for s in scn.streams if s.priority == lowest and s.poolable]
    if not ids:
        raise InputError(
            f'plan.screening = "by_risk": the least urgent streams (priority {lowest}) are '
            f"not poolable, so there is no screening stream to divide; make the screening "
            f'stream the least urgent and poolable, or set plan.screening = "demand"',
            "plan.screening",
        )
    return ids


def screening_mask(inp: PlanInput) -> np.ndarray:
    """(ns,) bool: the plan input's screening streams (screening_streams)."""
    return np.isin(np.array(inp.stream_ids), screening_streams(inp.scenario))


def found_per_sample(inp: PlanInput) -> np.ndarray:
    """(nd, ns, T) infections found per sample tested: the stream's prevalence times the pool
    test's sensitivity at every PCR round of the design of the unit's cheapest arc."""
    se = inp.scenario.policy.pooling_se
    cheapest = np.full((inp.nd, inp.ns, inp.days), np.inf)
    rounds = np.ones((inp.nd, inp.ns, inp.days))
    for p in range(inp.npairs):
        d = int(inp.pair_d[p])
        better = inp.cost[p] < cheapest[d]
        if not better.any():
            continue
        cheapest[d] = np.where(better, inp.cost[p], cheapest[d])
        for s, t in zip(*np.nonzero(better), strict=True):
            rounds[d, s, t] = inp.design(p, int(s), int(t)).stages
    return inp.prevalence * se**rounds


@dataclass
class Division:
    """Screening by risk: what the units could collect and what the plan asks them to."""

    streams: np.ndarray  # (ns,) bool: the screening streams
    could: np.ndarray  # (nd, ns, T) samples each unit could collect
    collect: np.ndarray  # (nd, ns, T) samples to collect
    found: np.ndarray  # (nd, ns, T) infections found per sample tested


def division(plan: Plan) -> Division:
    """The division a plan made with screening by risk (the demand as given: all collected)."""
    inp = plan.input
    streams = screening_mask(inp)
    collect = np.rint(inp.demand).astype(np.int64)
    left = 0 if plan.not_collected is None else np.rint(plan.not_collected).astype(np.int64)
    return Division(streams, collect + left, collect, found_per_sample(inp))


def only_what_is_tested(
    inp: PlanInput, waiting: np.ndarray, untested: np.ndarray, streams: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Screening by risk, after whole pools: the samples of the ``streams`` a whole-sample plan
    leaves untested or still waiting on its last day are not collected either. Returns the
    demand collected, waiting and untested (nd, ns, T) without them. Oldest first: a sample
    untested on day t was collected the stream's wait limit before and waited every day since;
    those waiting on the last day are the latest collected."""
    demand, b, u = inp.demand.copy(), waiting.copy(), untested.copy()
    days = inp.days
    for s in np.flatnonzero(streams).tolist():
        w = int(inp.max_wait[s])
        for t in range(w, days):
            gone = u[:, s, t].copy()
            demand[:, s, t - w] -= gone
            b[:, s, t - w : t] -= gone[:, None]
            u[:, s, t] = 0.0
        late = b[:, s, -1].copy()
        for c in range(days - 1, -1, -1):
            gone = np.minimum(late, demand[:, s, c])
            demand[:, s, c] -= gone
            b[:, s, c:] -= gone[:, None]
            late -= gone
    return demand, b, u


def tested_by_unit(plan: Plan) -> np.ndarray:
    """(nd, ns, T) samples each unit has tested on each day."""
    inp = plan.input
    out = np.zeros((inp.nd, inp.ns, inp.days))
    np.add.at(out, inp.pair_d, plan.x)
    return out


def divided_scenario(scn: Scenario, inp: PlanInput, div: Division) -> Scenario:
    """The scenario with each unit's screening demand replaced by what it should collect."""
    d = scn.demand.copy()
    code = {c: i for i, c in enumerate(inp.district_codes)}
    sid = {s: i for i, s in enumerate(inp.stream_ids)}
    rows = d["day"] <= inp.days
    rows &= d["stream"].isin([inp.stream_ids[s] for s in np.flatnonzero(div.streams)])
    at = d.index[rows]
    di = d.loc[at, "district"].map(code).to_numpy()
    si = d.loc[at, "stream"].map(sid).to_numpy()
    ti = d.loc[at, "day"].to_numpy() - 1
    d.loc[at, "samples"] = div.collect[di, si, ti]
    return replace(scn, demand=d)


def screening_table(plan: Plan, div: Division, allocations: pd.DataFrame) -> pd.DataFrame:
    """One row per unit, screening stream and day (see the module docstring)."""
    inp, scn = plan.input, plan.scenario
    cfg = scn.settings.screening
    se = scn.policy.pooling_se
    tested = tested_by_unit(plan)
    units = {u.code: u for u in scn.districts}
    ids = [inp.stream_ids[s] for s in np.flatnonzero(div.streams)]
    a = allocations[allocations["stream"].isin(ids)]
    by = dict(iter(a.groupby(["district", "stream", "day"], sort=False)))
    rows = []
    for t in range(inp.days):
        for s in np.flatnonzero(div.streams).tolist():
            sid = inp.stream_ids[s]
            for d, code in enumerate(inp.district_codes):
                unit = units[code]
                p_star = cfg.design_prevalence(unit.epidemic_level, unit.area_type)
                g = by.get((code, sid, t + 1))
                pools, reactions, missed = 0, 0.0, 1.0
                if g is not None:
                    for r in g.itertuples():
                        stages = Design.parse(r.algorithm, r.config).stages
                        pools += int(r.pools)
                        reactions += float(r.reactions)
                        miss = 1.0 - pool_positive(int(r.pool_size), p_star, se**stages)
                        missed *= miss ** int(r.pools)
                rows.append(
                    {
                        "day": t + 1,
                        "date": scn.date_of(t + 1).isoformat(),
                        "district": code,
                        "district_name": unit.name,
                        "stream": sid,
                        "could_collect": int(div.could[d, s, t]),
                        "collect": int(div.collect[d, s, t]),
                        "tested": int(np.rint(tested[d, s, t])),
                        "pools": pools,
                        "reactions": round(reactions, 2),
                        "infections_expected": round(
                            float(tested[d, s, t] * div.found[d, s, t]), 2
                        ),
                        "design_prevalence": p_star,
                        "detection_probability": round(1.0 - missed, 4),
                    }
                )
    return pd.DataFrame(rows, columns=SCREENING_COLUMNS)


def comparison(fixed: Plan, by_risk: Plan, div: Division) -> dict:
    """Screening on the demand as given against screening by risk, for the province."""

    def figures(plan: Plan) -> dict:
        tested = tested_by_unit(plan)[:, div.streams, :]
        reactions = (plan.x * plan.input.cost)[:, div.streams, :].sum()
        return {
            "samples_tested": int(np.rint(tested.sum())),
            "reactions": round(float(reactions), 1),
            "infections_expected": round(float((tested * div.found[:, div.streams, :]).sum()), 1),
        }

    return {
        "streams": [fixed.input.stream_ids[s] for s in np.flatnonzero(div.streams)],
        "could_collect": int(div.could[:, div.streams, :].sum()),
        "collect": int(div.collect[:, div.streams, :].sum()),
        "demand_as_given": figures(fixed),
        "by_risk": figures(by_risk),
    }
