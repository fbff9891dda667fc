"""The plan's screening mode ``by_risk``: screening samples divided among units by risk.

With ``[plan] screening = "by_risk"``, the demand of the screening streams (the poolable
streams of the least urgent priority level) is what each unit *could* collect that day, not
what it must. The province's reactions often cannot test all of it: the plan then says how many
each unit should collect, so that the screening reactions find the most infections.

How, in three steps:

1. The plan on the demand as given (every sample the units could collect). Its tiers test the
   more urgent streams first, so the reactions it spends on screening on each day are what the
   province can give screening that day, after urgent samples, within capacity, reagent and
   travel: the day's **screening budget** (expected reactions).
2. The budget of each day is divided among units and screening streams: a sample of unit d
   finds ``prevalence x Se^stages`` infections on average (its stream's prevalence that day,
   the pool test's sensitivity at each PCR round of its unit's design) and costs the fewest
   expected reactions it costs at any of the unit's labs. Units are taken by infections found
   per reaction, most first, each up to what it could collect (a fractional knapsack: the
   greedy order is optimal; in whole samples it is within one sample's worth of the best).
3. The plan on that demand: the plan the units follow, proven optimal and independently
   checked as any plan. Urgent streams keep what they had (their demand is unchanged and
   outranks screening).

Reported per unit and day (``screening.csv``): what it could collect, what to collect, what the
plan tests, its pools, the reactions, the infections expected to be found, and the detection
probability: the chance that the unit's screening finds infection if it is present at the
design prevalence of its epidemic level and area type ([screening] settings). And for the
province, screening by risk against the demand as given (samples, reactions, infections
expected to be found).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from labopt.errors import InputError
from labopt.pooling.designs import Design
from labopt.scenario.model import Scenario
from labopt.schedule.data import PlanInput
from labopt.schedule.flow import fewest_reactions
from labopt.schedule.result import Plan
from labopt.screening.freedom import pool_positive

MODES = ("demand", "by_risk")
# share of a sample's value lost per day it waits before its test: same-day tests win ties
LATER = 0.01

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


def divide(
    found: np.ndarray,
    per_sample: np.ndarray,
    could: np.ndarray,
    budget: np.ndarray,
    wait: np.ndarray,
) -> np.ndarray:
    """Samples to collect (nd, nsc, T) that find the most infections within each day's
    ``budget`` (T,) reactions: a sample collected on day t may be tested that day or up to
    ``wait`` (nsc,) days later (each day later counts LATER of its value less), costs
    ``per_sample`` reactions and finds ``found`` infections; at most ``could`` per unit,
    stream and day. An LP (HiGHS), its collections then rounded down to whole samples (within
    one sample per unit, stream and day of the LP's optimum)."""
    days = could.shape[2]
    items = np.argwhere((could > 0) & np.isfinite(per_sample) & (per_sample >= 0))
    take = np.zeros(could.shape, dtype=np.int64)
    if items.size == 0:
        return take
    cols_item, cols_day = [], []
    for k, (_d, s, t) in enumerate(items.tolist()):
        for tau in range(t, min(t + int(wait[s]), days - 1) + 1):
            cols_item.append(k)
            cols_day.append(tau)
    item = np.array(cols_item)
    day = np.array(cols_day)
    d_, s_, t_ = items[item, 0], items[item, 1], items[item, 2]
    value = found[d_, s_, t_] * (1.0 - LATER * (day - t_))
    cost = per_sample[d_, s_, t_]
    n = item.size
    rows = sp.vstack(
        [
            sp.csr_matrix((np.ones(n), (item, np.arange(n))), shape=(len(items), n)),
            sp.csr_matrix((cost, (day, np.arange(n))), shape=(days, n)),
        ]
    )
    upper = np.concatenate([could[items[:, 0], items[:, 1], items[:, 2]], budget])
    res = linprog(-value, A_ub=rows, b_ub=upper, bounds=(0, None), method="highs")
    if res.status != 0:  # pragma: no cover - a bounded, feasible LP (0 is a solution)
        raise RuntimeError(f"screening division: the LP stopped ({res.message})")
    per_item = np.zeros(len(items))
    np.add.at(per_item, item, res.x)
    take[items[:, 0], items[:, 1], items[:, 2]] = np.floor(per_item + 1e-6).astype(np.int64)
    return np.minimum(take, could)


@dataclass
class Division:
    """What step 2 decided and the figures the report needs (see the module docstring)."""

    streams: np.ndarray  # (ns,) bool: the screening streams
    could: np.ndarray  # (nd, ns, T) samples each unit could collect
    collect: np.ndarray  # (nd, ns, T) samples to collect
    budget: np.ndarray  # (T,) expected reactions the plan on the demand gives screening
    found: np.ndarray  # (nd, ns, T) infections found per sample tested


def screening_budget(plan: Plan, streams: np.ndarray) -> np.ndarray:
    """(T,) expected reactions a plan spends on the streams ``streams`` each day."""
    return (plan.x * plan.input.cost)[:, streams, :].sum(axis=(0, 1))


def division(plan: Plan) -> Division:
    """Step 2 on the plan of the demand as given."""
    inp = plan.input
    ids = screening_streams(inp.scenario)
    streams = np.isin(np.array(inp.stream_ids), ids)
    budget = screening_budget(plan, streams)
    found = found_per_sample(inp)
    could = np.rint(inp.demand).astype(np.int64)
    collect = could.copy()
    if not (plan.untested[:, streams, :].any() or plan.waiting[:, streams, -1].any()):
        return Division(streams, could, collect, budget, found)  # all of it is tested
    collect[:, streams, :] = divide(
        found[:, streams, :],
        reactions_per_sample(plan)[:, streams, :],
        could[:, streams, :],
        budget,
        inp.max_wait[streams],
    )
    return Division(streams, could, collect, budget, found)


def reactions_per_sample(plan: Plan) -> np.ndarray:
    """(nd, ns, T) expected reactions per sample of each unit and stream: what its samples cost
    in the plan that day (at the labs it used), else over the horizon, else the fewest at any
    of its labs on the day (inf: it reaches none)."""
    inp = plan.input
    fewest = np.full((inp.nd, inp.ns, inp.days), np.inf)
    for t in range(inp.days):
        fewest[:, :, t] = fewest_reactions(inp, inp.cost[:, :, t : t + 1])
    spent = np.zeros((inp.nd, inp.ns, inp.days))
    np.add.at(spent, inp.pair_d, plan.x * inp.cost)
    tested = tested_by_unit(plan)
    with np.errstate(divide="ignore", invalid="ignore"):
        day = np.where(tested > 0, spent / tested, np.nan)
        mean = spent.sum(axis=2) / tested.sum(axis=2)
    per = np.where(np.isnan(day), mean[:, :, None], day)
    return np.where(np.isnan(per), fewest, per)


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


def tested_by_unit(plan: Plan) -> np.ndarray:
    """(nd, ns, T) samples each unit has tested on each day."""
    inp = plan.input
    out = np.zeros((inp.nd, inp.ns, inp.days))
    np.add.at(out, inp.pair_d, plan.x)
    return out


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
        "budget_reactions": [round(float(b), 1) for b in div.budget],
        "demand_as_given": figures(fixed),
        "by_risk": figures(by_risk),
    }
