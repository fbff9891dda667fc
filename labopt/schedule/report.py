"""Plan tables, the shortfall and bottleneck report, and the JSON summary.

Tables (pandas DataFrames; samples and reactions per day):
- allocations: day, date, district, district_name, stream, lab, lab_name, samples, algorithm,
  config, pool_size, pools, reactions (expected, retests included), travel_hours;
- status: day, date, district, stream, demand, tested, waiting (at the end of the day),
  untested (spoiled that day), tested_within_turnaround;
- labs: lab, lab_name, status, day, capacity, reactions (expected), reserve (for retest
  variability), utilisation, reagent_left, switched_on;
- days: day, date, single_samples_tested, pooled_samples_tested, single_target,
  pooled_target, reactions_used, reactions_capacity, then waiting_<stream> and
  untested_<stream> for every stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from labopt.pooling.designs import Design
from labopt.schedule.check import CheckReport
from labopt.schedule.labels import render
from labopt.schedule.model import plan_cost
from labopt.schedule.result import Plan


@dataclass
class PlanReport:
    plan: Plan
    allocations: pd.DataFrame
    status: pd.DataFrame
    labs: pd.DataFrame
    days: pd.DataFrame
    shortfall: list[dict] = field(default_factory=list)
    check: CheckReport | None = None  # the independent check, when it ran

    @property
    def meets_targets(self) -> bool:
        d = self.days
        return bool(
            (
                (d["single_samples_tested"] >= d["single_target"])
                & (d["pooled_samples_tested"] >= d["pooled_target"])
            ).all()
        )

    def shortfall_texts(self, lang: str = "en") -> list[str]:
        return [render(item, lang) for item in self.shortfall]

    def to_dict(self, lang: str = "en") -> dict:
        plan = self.plan
        scn = plan.scenario
        streams = plan.input.stream_ids
        days = []
        for r in self.days.to_dict("records"):
            days.append(
                {
                    "day": int(r["day"]),
                    "date": r["date"],
                    "single_samples_tested": int(r["single_samples_tested"]),
                    "pooled_samples_tested": int(r["pooled_samples_tested"]),
                    "reactions_used": round(float(r["reactions_used"]), 1),
                    "reactions_capacity": int(r["reactions_capacity"]),
                    "backlog": {s: int(r[f"waiting_{s}"]) for s in streams},
                    "unmet": {s: int(r[f"untested_{s}"]) for s in streams},
                }
            )
        return {
            "status": plan.status,
            "method": plan.method,
            "optimality_gap": plan.gap,
            "scenario": scn.province.name,
            "days": days,
            "targets": {
                "single_samples_per_day": scn.policy.single_target_per_day,
                "pooled_samples_per_day": scn.policy.pooled_target_per_day,
            },
            "meets_targets": self.meets_targets,
            "shortfall": [dict(item, text=render(item, lang)) for item in self.shortfall],
            "totals": totals(self),
            "retest_headroom": headroom_summary(self),
            "objective": {
                "lp": plan.lp_objective,
                "plan": plan.objective,
                "weights": plan.weights.to_dict(streams),
            },
            "check": None if self.check is None else self.check.to_dict(),
            "solve_seconds": round(plan.timings.get("solve", 0.0), 4),
            "timings": {k: round(v, 4) for k, v in plan.timings.items()},
            "notes": plan.notes,
        }


def totals(rep: PlanReport) -> dict:
    st = rep.status
    out = {}
    for s, g in st.groupby("stream", sort=False):
        out[s] = {
            "demand": int(g["demand"].sum()),
            "tested": int(g["tested"].sum()),
            "untested": int(g["untested"].sum()),
            "waiting_at_end": int(g[g["day"] == g["day"].max()]["waiting"].sum()),
            "tested_within_turnaround": int(g["tested_within_turnaround"].sum()),
        }
    return out


def build_report(plan: Plan) -> PlanReport:
    inp, scn = plan.input, plan.scenario
    T, ns = inp.days, inp.ns
    dates = [scn.date_of(t + 1).isoformat() for t in range(T)]
    lab_names = {lab.id: lab.name for lab in scn.labs}
    unit_names = {d.code: d.name for d in scn.districts}

    # ---- allocations
    p_idx, s_idx, t_idx = np.nonzero(plan.x > 0)
    designs = [
        inp.design(int(p), int(s), int(t)) for p, s, t in zip(p_idx, s_idx, t_idx, strict=True)
    ]
    samples = plan.x[p_idx, s_idx, t_idx]
    alloc = pd.DataFrame(
        {
            "day": t_idx + 1,
            "date": [dates[t] for t in t_idx],
            "district": [inp.district_codes[inp.pair_d[p]] for p in p_idx],
            "stream": [inp.stream_ids[s] for s in s_idx],
            "lab": [inp.lab_ids[inp.pair_l[p]] for p in p_idx],
            "samples": samples.astype(int),
            "algorithm": [d.algorithm for d in designs],
            "config": [d.config for d in designs],
            "pool_size": [d.largest_pool for d in designs],
            "pools": [_first_stage(d, n) for d, n in zip(designs, samples, strict=False)],
            "reactions": np.round(samples * inp.cost[p_idx, s_idx, t_idx], 2),
            "travel_hours": np.round(inp.pair_hours[p_idx], 2),
            "_variance": inp.variance[p_idx, s_idx, t_idx],
        }
    )
    alloc.insert(3, "district_name", alloc["district"].map(unit_names))
    alloc.insert(6, "lab_name", alloc["lab"].map(lab_names))
    alloc = alloc.sort_values(["day", "district", "stream", "lab"]).reset_index(drop=True)
    variance = alloc.pop("_variance").to_numpy()  # the plan's own, per sample

    # ---- status per unit, stream, day (tested within turnaround: fresh samples, fast labs)
    tested = plan.tested()
    # a sample meets the turnaround when road time + its PCR rounds fit in turnaround_hours
    fast = ~inp.late
    fast_tested = np.zeros_like(tested)
    np.add.at(fast_tested, inp.pair_d, plan.x * fast)
    carry_in = np.concatenate([np.zeros((inp.nd, ns, 1)), plan.waiting[:, :, :-1]], axis=2)
    fresh = np.maximum(tested - carry_in, 0.0)
    share = np.divide(fast_tested, tested, out=np.zeros_like(tested), where=tested > 0)
    D, S, Tt = np.meshgrid(np.arange(inp.nd), np.arange(ns), np.arange(T), indexing="ij")
    status = (
        pd.DataFrame(
            {
                "day": Tt.ravel() + 1,
                "date": [dates[t] for t in Tt.ravel()],
                "district": np.array(inp.district_codes)[D.ravel()],
                "stream": np.array(inp.stream_ids)[S.ravel()],
                "demand": inp.demand.ravel().astype(int),
                "tested": tested.ravel().astype(int),
                "waiting": plan.waiting.ravel().astype(int),
                "untested": plan.untested.ravel().astype(int),
                "tested_within_turnaround": np.floor(fresh * share + 1e-9).ravel().astype(int),
            }
        )
        .sort_values(["day", "district", "stream"])
        .reset_index(drop=True)
    )

    # ---- labs per day
    used = plan.lab_reactions()
    claim = np.zeros_like(used)
    np.add.at(
        claim,
        inp.pair_l,
        (plan.x * plan_cost(inp, scn.settings.plan.retest_reserve_sd)).sum(axis=1),
    )
    reagent_left = inp.reagent_cum - np.cumsum(claim, axis=1)
    L, Lt = np.meshgrid(np.arange(inp.nl), np.arange(T), indexing="ij")
    switched = (used.sum(axis=1) > 0) & inp.standby
    labs = pd.DataFrame(
        {
            "lab": np.array(inp.lab_ids)[L.ravel()],
            "lab_name": [lab_names[inp.lab_ids[i]] for i in L.ravel()],
            "status": np.where(inp.standby[L.ravel()], "standby", "active"),
            "day": Lt.ravel() + 1,
            "capacity": inp.capacity.ravel().astype(int),
            "reactions": np.round(used.ravel(), 1),
            "reserve": np.round((claim - used).ravel(), 1),
            "utilisation": np.round(
                np.divide(
                    claim, inp.capacity, out=np.zeros_like(claim), where=inp.capacity > 0
                ).ravel(),
                4,
            ),
            "reagent_left": np.round(reagent_left.ravel(), 1),
            "switched_on": switched[L.ravel()],
        }
    )

    _retest_risk(alloc, variance, labs)

    # ---- days
    pooled_streams = inp.poolable
    rows = []
    for t in range(T):
        row = {
            "day": t + 1,
            "date": dates[t],
            "single_samples_tested": int(tested[:, ~pooled_streams, t].sum()),
            "pooled_samples_tested": int(tested[:, pooled_streams, t].sum()),
            "single_target": scn.policy.single_target_per_day,
            "pooled_target": scn.policy.pooled_target_per_day,
            "reactions_used": float(used[:, t].sum()),
            "reactions_capacity": int(
                inp.capacity[~inp.standby, t].sum() + inp.capacity[switched, t].sum()
            ),
        }
        for s, sid in enumerate(inp.stream_ids):
            row[f"waiting_{sid}"] = int(plan.waiting[:, s, t].sum())
            row[f"untested_{sid}"] = int(plan.untested[:, s, t].sum())
        rows.append(row)
    days = pd.DataFrame(rows)
    rep = PlanReport(plan, alloc, status, labs, days)
    rep.shortfall = shortfall(rep)
    return rep


def _first_stage(d: Design, samples: float) -> int:
    """First-stage reactions for that many samples (pools, or rows+columns of arrays)."""
    n = int(samples)
    if d.algorithm == "IT":
        return n
    if d.algorithm == "A2":
        return math.ceil(n / (d.first * d.first)) * 2 * d.first
    if d.algorithm == "A2M":
        return math.ceil(n / (d.first * d.first))
    return math.ceil(n / d.block_size)


def shortfall(rep: PlanReport) -> list[dict]:
    """Why targets are missed and what would close the gap most cheaply, in words and numbers."""
    plan, inp = rep.plan, rep.plan.input
    scn = plan.scenario
    out: list[dict] = []
    for r in rep.days.to_dict("records"):
        for kind, target_key, tested_key in (
            ("single", "single_target", "single_samples_tested"),
            ("pooled", "pooled_target", "pooled_samples_tested"),
        ):
            gap = r[target_key] - r[tested_key]
            if gap <= 0:
                continue
            mask = ~inp.poolable if kind == "single" else inp.poolable
            demand = int(inp.demand[:, mask, r["day"] - 1].sum())
            untested = int(
                sum(r[f"untested_{s}"] for s, m in zip(inp.stream_ids, mask, strict=False) if m)
            )
            waiting = int(
                sum(r[f"waiting_{s}"] for s, m in zip(inp.stream_ids, mask, strict=False) if m)
            )
            # capacity is the cause when a real share of the gap waits or goes untested
            cause = (
                "capacity" if untested + waiting >= max(1.0, 0.01 * gap) else "demand below target"
            )
            out.append(
                {
                    "kind": "target",
                    "day": r["day"],
                    "stream_kind": kind,
                    "target": int(r[target_key]),
                    "tested": int(r[tested_key]),
                    "gap": int(gap),
                    "demand": demand,
                    "untested": untested,
                    "waiting": waiting,
                    "cause": cause,
                }
            )
    out += bottlenecks(rep)
    used_by_lab = plan.lab_reactions().sum(axis=1)
    for li, lab in enumerate(scn.labs):
        if inp.standby[li] and used_by_lab[li] > 0:
            n = int(plan.x[inp.pair_l == li].sum())
            out.append({"kind": "standby", "lab": lab.id, "lab_name": lab.name, "samples": n})
    # reagent that runs out inside the horizon, and the capacity it leaves idle afterwards
    labs = rep.labs
    first_dry = (
        labs[labs["reagent_left"] < 1]
        .groupby("lab")["day"]
        .min()
        .reindex(labs["lab"].unique())
        .dropna()
    )
    for lab_id, day in first_dry[first_dry < inp.days].items():
        day = int(day)
        g = labs[labs["lab"] == lab_id]
        after = g[g["day"] > day]
        idle = float(
            (after["capacity"] - after["reactions"] - after["reserve"]).clip(lower=0).sum()
        )
        name = g["lab_name"].iloc[0]
        out.append(
            {
                "kind": "reagent",
                "lab": lab_id,
                "lab_name": name,
                "day": day,
                "idle_capacity_after": round(idle, 1),
            }
        )
    return out


def bottlenecks(rep: PlanReport, top: int = 10) -> list[dict]:
    """Full lab-days where one more reaction would test more samples, most urgent first.

    A lab-day is full when its planned reactions (with the retest reserve) reach its
    capacity. One more reaction there would test 1 / c more samples of the most urgent stream
    still waiting or untested that day in a unit that may send to it, where c is that
    sample's reactions at that lab. With the LP or the network simplex, the dual value of the
    lab-day's capacity is given too (objective units per reaction).
    """
    plan, inp = rep.plan, rep.plan.input
    scn = plan.scenario
    c = plan_cost(inp, scn.settings.plan.retest_reserve_sd)
    labs = rep.labs
    full = labs[labs["utilisation"] >= 0.999]
    pending = plan.waiting + plan.untested  # (nd, ns, T)
    w = plan.weights.stream
    lab_index = {lab: i for i, lab in enumerate(inp.lab_ids)}
    # samples pending in the units each lab serves: (nl, ns, T)
    reach = np.zeros((inp.nl, inp.nd))
    reach[inp.pair_l, inp.pair_d] = 1.0
    by_lab = np.einsum("ld,dst->lst", reach, pending)
    # samples one reaction tests at the lab, best unit: (nl, ns, T)
    rate = np.zeros((inp.nl, inp.ns, inp.days))
    np.maximum.at(rate, inp.pair_l, 1.0 / c)
    found = []
    for r in full.itertuples(index=False):
        li, t = lab_index[r.lab], r.day - 1
        value = by_lab[li, :, t] * w
        if value.max() < 1:
            continue
        s = int(np.argmax(value))  # the stream most at stake
        item = {
            "kind": "bottleneck",
            "lab": r.lab,
            "lab_name": r.lab_name,
            "day": int(r.day),
            "stream": inp.stream_ids[s],
            "pending_samples": int(by_lab[li, s, t]),
            "marginal_samples_per_reaction": round(float(rate[li, s, t]), 3),
        }
        if plan.capacity_dual is not None:
            item["lp_dual"] = round(float(-plan.capacity_dual[li, t]), 6)
        found.append((-float(value.max()), -float(rate[li, s, t]), item))
    found.sort(key=lambda x: (x[0], x[1]))
    return [item for _, _, item in found[:top]]


def _retest_risk(alloc: pd.DataFrame, variance: np.ndarray, labs: pd.DataFrame) -> None:
    """Add to the labs table the spread of each lab-day's reactions (retests vary) and the
    chance that they exceed the lab's capacity, i.e. use up the reserve and any unused
    capacity (normal approximation over independent pools). ``variance``: reactions^2 per
    sample of each allocation, the plan's own (labopt.schedule.data.retest_variance)."""
    is_pooled = (alloc["algorithm"] != "IT").to_numpy()
    pooled = alloc[is_pooled]
    if pooled.empty:
        labs["retest_sd"] = 0.0
        labs["overflow_risk"] = 0.0
        return
    var = variance[is_pooled]
    by_lab_day = (
        pooled.assign(var=var * pooled["samples"].to_numpy()).groupby(["lab", "day"])["var"].sum()
    )
    sd = np.sqrt(
        by_lab_day.reindex(
            pd.MultiIndex.from_frame(labs[["lab", "day"]]), fill_value=0.0
        ).to_numpy()
    )
    labs["retest_sd"] = np.round(sd, 2)
    slack = labs["capacity"].to_numpy() - labs["reactions"].to_numpy()  # reserve + unused
    with np.errstate(divide="ignore", invalid="ignore"):
        risk = np.where(sd > 0, norm.sf(slack / sd), 0.0)
    labs["overflow_risk"] = np.round(risk, 6)


def headroom_summary(rep: PlanReport) -> dict:
    """How much capacity the plan keeps for retest variability, and what it buys."""
    labs = rep.labs
    z = rep.plan.scenario.settings.plan.retest_reserve_sd
    worst = labs.loc[labs["overflow_risk"].idxmax()] if len(labs) else None
    return {
        "reserve_sd": z,
        "reserved_reactions": round(float(labs["reserve"].sum()), 1),
        "max_overflow_risk": None if worst is None else float(worst["overflow_risk"]),
        "max_risk_lab_day": None
        if worst is None
        else {"lab": worst["lab"], "day": int(worst["day"])},
    }
