"""Plan tables, the shortfall and bottleneck report, and the JSON summary.

Tables (pandas DataFrames; samples and reactions per day):
- allocations: day, date, district, district_name, stream, lab, lab_name, samples, algorithm,
  config, pool_size, pools, reactions (expected, retests included), travel_hours;
- status: day, date, district, stream, demand, tested, waiting (at the end of the day),
  untested (spoiled that day), tested_within_turnaround, prevalence (the fraction positive the
  plan assumed for the unit's stream that day: its estimate, else the province's); with a
  backlog, waiting_before (waiting at the start of the day: waiting_before + demand = tested +
  waiting + untested, + not_collected with kits);
- labs: lab, lab_name, status, day, capacity (usable: the least of PCR, extraction, staff and
  the reagent on hand that day; 0 for a standby lab on a day it is not switched on),
  reactions (expected), reserve (for retest variability), utilisation (of the usable
  capacity), reagent_left (end of the day), switched_on (a standby lab testing samples that
  day), capacity_without_reagent (the least of PCR, extraction and staff), reagent_on_hand
  (start of the day, its delivery included), limit (what stops the lab running more that
  day), retest_sd, overflow_risk;
- days: day, date, single_samples_tested, pooled_samples_tested, single_target,
  pooled_target, reactions_used, reactions_capacity (the labs' usable capacity summed),
  reagent_left (the province's, end of the day), cause (why samples wait or a target is
  missed), then waiting_<stream> and untested_<stream> for every stream.

The shortfall report is a list of findings (dicts with a ``kind``), most pressing first:
reagent run-outs per day, then per day the targets missed and the streams whose samples wait
with their causes, standby labs to switch on and when, the lab-days where more capacity
would test more, and each lab's reagent run-out with its next delivery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr  # the normal CDF; scipy.stats is slow to import

from labopt.capacity.lab import extraction_reactions, pcr_reactions, staff_reactions
from labopt.capacity.pooled import design_table
from labopt.schedule.check import CheckReport
from labopt.schedule.labels import render, shipment_why
from labopt.schedule.model import block_overhead, plan_cost
from labopt.schedule.result import Plan
from labopt.schedule.supply import NATIONAL, lab_sent, net_received

# reactions: less reagent than one reaction counts as none, and a lab-day within one reaction
# of a limit is at that limit (plans are in whole samples; reagent and claims are fractional)
TOL = 1.0
# the causes of waiting samples, in the order they are named when their reactions tie
CAUSES = ("reagent", "standby", "travel", "capacity", "stage")
CAPACITY_LIMITS = ("pcr", "extraction", "staff")
MOST_STAGES = 4  # what policy.max_stages allows


@dataclass
class PlanReport:
    plan: Plan
    allocations: pd.DataFrame
    status: pd.DataFrame
    labs: pd.DataFrame
    days: pd.DataFrame
    shortfall: list[dict] = field(default_factory=list)
    check: CheckReport | None = None  # the independent check, when it ran
    # reagent shipments (labopt.schedule.supply), with names and why each is sent
    shipments: pd.DataFrame = field(default_factory=pd.DataFrame)
    # collection kit shipments, the same way (empty without a kits table)
    kit_shipments: pd.DataFrame = field(default_factory=pd.DataFrame)
    # screening by risk (labopt.schedule.screening): per unit, stream and day, and the
    # province's comparison with the demand as given (empty, None in the demand mode)
    screening: pd.DataFrame = field(default_factory=pd.DataFrame)
    screening_comparison: dict | None = None

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

    def standby_days(self) -> dict[str, list[int]]:
        """Per standby lab the plan uses, the days (1-based) it tests samples."""
        on = self.labs[self.labs["switched_on"]]
        return {
            str(lab): sorted(int(d) for d in g["day"]) for lab, g in on.groupby("lab", sort=False)
        }

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
                    "reagent_left": round(float(r["reagent_left"]), 1),
                    "cause": r["cause"] or None,
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
            "reagent": [
                dict(item, text=render(item, lang))
                for item in self.shortfall
                if item["kind"] == "reagent_day"
            ],
            "standby_days": self.standby_days(),
            "shipments": [
                dict(item, why=shipment_why(item, lang), text=render(item, lang))
                for item in self.shortfall
                if item["kind"] == "shipment"
            ],
            "national_supply": next(
                (dict(i, text=render(i, lang)) for i in self.shortfall if i["kind"] == "national"),
                None,
            ),
            "kit_shipments": [
                dict(item, why=shipment_why(item, lang), text=render(item, lang))
                for item in self.shortfall
                if item["kind"] == "kit_shipment"
            ],
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
            "screening": self.screening_summary(),
        }

    def screening_summary(self) -> dict | None:
        """Screening by risk (None in the demand mode): the province's comparison and, per
        unit and stream over the horizon, could collect, collect, tested, pools, reactions,
        infections expected and the days' lowest detection probability."""
        if self.screening_comparison is None:
            return None
        sums = ["could_collect", "collect", "tested", "pools", "reactions", "infections_expected"]
        g = self.screening.groupby(["district", "stream"], sort=False)
        units = g[sums].sum().join(g["detection_probability"].min().rename("lowest_detection"))
        rows = [
            {
                "district": d,
                "stream": s,
                **{k: int(r[k]) for k in sums[:4]},
                "reactions": round(float(r["reactions"]), 1),
                "infections_expected": round(float(r["infections_expected"]), 2),
                "lowest_detection_probability": float(r["lowest_detection"]),
            }
            for (d, s), r in units.iterrows()
        ]
        return {**self.screening_comparison, "units": rows}


def totals(rep: PlanReport) -> dict:
    """Per stream, most urgent first (then in the scenario's order), over the horizon."""
    st = rep.status
    out = {}
    groups = dict(iter(st.groupby("stream", sort=False)))
    streams = sorted(rep.plan.scenario.streams, key=lambda x: x.priority)  # stable: ties kept
    for s in [x.id for x in streams if x.id in groups]:
        g = groups[s]
        first = g[g["day"] == g["day"].min()]
        out[s] = {
            "waiting_at_start": int(first["waiting_before"].sum()) if "waiting_before" in g else 0,
            "demand": int(g["demand"].sum()),
            "tested": int(g["tested"].sum()),
            "untested": int(g["untested"].sum()),
            "waiting_at_end": int(g[g["day"] == g["day"].max()]["waiting"].sum()),
            "tested_within_turnaround": int(g["tested_within_turnaround"].sum()),
        }
    return out


@dataclass(frozen=True)
class LabState:
    """Every lab-day of a plan, as (nl, T) arrays in reactions (``on``, ``out``: bool).

    on_hand is the reagent at the start of the day, that day's delivery included; left is
    what remains at its end after the day's expected reactions (the retest reserve is
    capacity held back on the day, not reagent spent). A lab is on when it is active, or when
    it is a standby lab that tests samples that day.
    """

    capacity: np.ndarray  # what PCR, extraction and staff allow, reagent aside
    used: np.ndarray  # expected reactions (retests included)
    claim: np.ndarray  # used + the retest reserve
    on_hand: np.ndarray
    left: np.ndarray
    delivered: np.ndarray  # reagent delivered that day (the first day: the stock too)
    on: np.ndarray

    @property
    def usable(self) -> np.ndarray:
        """Reactions the lab can run that day: min(capacity, reagent on hand), 0 when off."""
        return np.where(self.on, np.minimum(self.capacity, np.maximum(self.on_hand, 0.0)), 0.0)

    @property
    def out(self) -> np.ndarray:
        """No reagent left at the end of the day (less than one reaction)."""
        return self.left < TOL

    @property
    def idle(self) -> np.ndarray:
        """Capacity (PCR, extraction, staff) the day's claim leaves unused, reactions."""
        return np.maximum(self.capacity - self.claim, 0.0)

    @property
    def room(self) -> np.ndarray:
        """Reactions the lab could still run that day: capacity and reagent permitting."""
        return np.maximum(np.minimum(self.capacity - self.claim, self.on_hand - self.used), 0.0)

    @property
    def full(self) -> np.ndarray:
        """At its PCR, extraction or staff limit that day (within one reaction)."""
        return (self.capacity > 0) & (self.claim >= self.capacity - TOL)


def lab_state(plan: Plan) -> LabState:
    inp = plan.input
    used = plan.lab_reactions()
    claim = np.zeros_like(used)
    np.add.at(
        claim,
        inp.pair_l,
        (
            plan.x * plan_cost(inp, plan.scenario.settings.plan.retest_reserve_sd)
            + block_overhead(inp, plan.x)
        ).sum(axis=1),
    )
    cum = np.cumsum(used, axis=1)
    before = np.concatenate([np.zeros((inp.nl, 1)), cum[:, :-1]], axis=1)
    tested = np.zeros_like(used, dtype=bool)
    np.logical_or.at(tested, inp.pair_l, (plan.x > 0).any(axis=1))
    return LabState(
        capacity=inp.capacity.astype(float),
        used=used,
        claim=claim,
        on_hand=inp.reagent_cum - before,
        left=inp.reagent_cum - cum,
        delivered=np.diff(inp.reagent_cum, axis=1, prepend=0.0),
        on=~inp.standby[:, None] | tested,
    )


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
            "pools": [
                math.ceil(n / d.block_size - 1e-9) * d.first_stage_reactions
                for d, n in zip(designs, samples, strict=False)
            ],
            "reactions": np.round(plan.reactions()[p_idx, s_idx, t_idx], 2),
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
    carry_in = np.concatenate([inp.carried[:, :, None], plan.waiting[:, :, :-1]], axis=2)
    fresh = np.maximum(tested - carry_in, 0.0)
    share = np.divide(fast_tested, tested, out=np.zeros_like(tested), where=tested > 0)
    D, S, Tt = np.meshgrid(np.arange(inp.nd), np.arange(ns), np.arange(T), indexing="ij")
    columns = {
        "day": Tt.ravel() + 1,
        "date": [dates[t] for t in Tt.ravel()],
        "district": np.array(inp.district_codes)[D.ravel()],
        "stream": np.array(inp.stream_ids)[S.ravel()],
        # the samples the units ask for: those collected and any not collected
        "demand": (inp.demand if plan.uncollected is None else inp.demand + plan.uncollected)
        .ravel()
        .astype(int),
        "tested": tested.ravel().astype(int),
        "waiting": plan.waiting.ravel().astype(int),
        "untested": plan.untested.ravel().astype(int),
        "tested_within_turnaround": np.floor(fresh * share + 1e-9).ravel().astype(int),
        # what the designs were chosen for: the unit's estimate that day, else the province's
        "prevalence": inp.prevalence.ravel(),
    }
    if plan.uncollected is not None:  # collection kits limit some units
        columns["not_collected"] = plan.uncollected.ravel().astype(int)
    if inp.backlog is not None:  # samples waited before day 1: each row's own balance
        columns["waiting_before"] = np.rint(carry_in).ravel().astype(int)
    status = pd.DataFrame(columns).sort_values(["day", "district", "stream"]).reset_index(drop=True)

    # ---- labs per day
    st = lab_state(plan)
    usable = st.usable
    L, Lt = np.meshgrid(np.arange(inp.nl), np.arange(T), indexing="ij")
    labs = pd.DataFrame(
        {
            "lab": np.array(inp.lab_ids)[L.ravel()],
            "lab_name": [lab_names[inp.lab_ids[i]] for i in L.ravel()],
            "status": np.where(inp.standby[L.ravel()], "standby", "active"),
            "day": Lt.ravel() + 1,
            "capacity": np.round(usable.ravel(), 1),
            "reactions": np.round(st.used.ravel(), 1),
            "reserve": np.round((st.claim - st.used).ravel(), 1),
            "utilisation": np.round(_utilisation(st).ravel(), 4),
            "reagent_left": np.round(st.left.ravel(), 1),
            "switched_on": (inp.standby[:, None] & st.on).ravel(),
            "capacity_without_reagent": st.capacity.ravel().astype(int),
            "reagent_on_hand": np.round(st.on_hand.ravel(), 1),
            "limit": _limits(plan, st).ravel(),
        }
    )

    sup = inp.supply
    if sup is not None and sup.nr and plan.shipments is not None:
        # held at the start of the day (arrivals in), then used and sent: on hand - reactions
        # - sent = left
        sent = lab_sent(sup, plan.shipments, inp.nl)
        labs["reagent_on_hand"] = np.round((st.on_hand + sent).ravel(), 1)
        labs["reagent_sent"] = np.round(sent.ravel(), 1)
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
            "reactions_used": round(float(st.used[:, t].sum()), 1),
            "reactions_capacity": round(float(usable[:, t].sum())),
            "reagent_left": round(float(np.maximum(st.left[:, t], 0.0).sum()), 1),
        }
        for s, sid in enumerate(inp.stream_ids):
            row[f"waiting_{sid}"] = int(plan.waiting[:, s, t].sum())
            row[f"untested_{sid}"] = int(plan.untested[:, s, t].sum())
        rows.append(row)
    days = pd.DataFrame(rows)
    ctx = _Context.of(plan)
    days["cause"] = day_causes(ctx, days)
    rep = PlanReport(plan, alloc, status, labs, days)
    rep.shipments = shipments_report(plan, dates)
    rep.kit_shipments = kit_shipments_report(plan, dates)
    items = shortfall(rep, ctx)
    # shipments right after the reagent headlines: they are what to do about them
    first = sum(1 for item in items if item["kind"] == "reagent_day")
    supply = shipment_items(rep) + kit_items(rep)
    rep.shortfall = items[:first] + supply + items[first:]
    return rep


def reagent_left_with_and_without(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """(with, without), each (nl, T) reactions: what each lab has left at the end of each day
    with the plan's shipments (the labs table's reagent_left), and without them (its own
    stock and deliveries minus the same plan's use: below zero where it would have run out)."""
    inp = plan.input
    left = inp.reagent_cum - np.cumsum(plan.lab_reactions(), axis=1)
    if inp.supply is None or plan.shipments is None:
        return left, left.copy()
    gained, _ = net_received(inp.supply, plan.shipments, inp.nl)
    return left, left - gained


def shipments_report(plan: Plan, dates: list[str]) -> pd.DataFrame:
    """The plan's shipments with dates, names and why: the first day the target would run out
    of reagent without any shipment, or the safety stock it keeps."""
    table = plan.shipments_table()
    sup, inp = plan.input.supply, plan.input
    if sup is None or plan.shipments is None or table.empty:
        return table.assign(why=pd.Series(dtype=object))
    _, own_left = reagent_left_with_and_without(plan)
    names = dict(zip(plan.scenario.stores["id"], plan.scenario.stores["name"], strict=True))
    names.update({lab.id: lab.name for lab in plan.scenario.labs})
    li = {lab: i for i, lab in enumerate(inp.lab_ids)}
    reason, run_out = [], []
    for r in table.itertuples(index=False):
        short = np.flatnonzero(own_left[li[r.target], r.arrival_day - 1 :] < -TOL)
        reason.append("run_out" if short.size else "cover" if sup.cover_days > 0 else "later")
        run_out.append(int(r.arrival_day + short[0]) if short.size else None)
    table.insert(1, "date", [dates[d - 1] for d in table["day"]])
    table.insert(3, "source_name", table["source"].map(names))
    table.insert(5, "target_name", table["target"].map(names))
    table["reason"] = reason
    table["run_out_day"] = pd.array(run_out, dtype="Int64")
    return table


def kit_shipments_report(plan: Plan, dates: list[str]) -> pd.DataFrame:
    """The plan's kit shipments with dates, names and why: the first day the unit would run
    out of kits without any kit shipment."""
    table = plan.kit_shipments_table()
    sup, inp = plan.input.supply, plan.input
    if sup is None or plan.kit_shipments is None or table.empty:
        return table.assign(run_out_day=pd.Series(dtype="Int64"))
    pool = np.flatnonzero(inp.poolable)
    collected = inp.demand[sup.kit_units][:, pool, :].sum(axis=1)  # (nku, T)
    own_left = np.cumsum(sup.unit_kits - collected, axis=1)
    ki = {inp.district_codes[u]: k for k, u in enumerate(sup.kit_units.tolist())}
    run_out = []
    for r in table.itertuples(index=False):
        short = np.flatnonzero(own_left[ki[r.target], r.arrival_day - 1 :] < 0)
        run_out.append(int(r.arrival_day + short[0]) if short.size else None)
    names = dict(zip(sup.store_ids, plan.scenario.stores["name"], strict=True))
    names.update({d.code: d.name for d in plan.scenario.districts})
    table.insert(1, "date", [dates[d - 1] for d in table["day"]])
    table.insert(3, "source_name", table["source"].map(names))
    table.insert(5, "target_name", table["target"].map(names))
    table["run_out_day"] = pd.array(run_out, dtype="Int64")
    return table


def kit_items(rep: PlanReport) -> list[dict]:
    """Kit shipments (kind "kit_shipment"), then per day the samples not collected for lack
    of kits (kind "uncollected", the units with most first)."""
    out = [
        {
            "kind": "kit_shipment",
            "day": int(r["day"]),
            "source": r["source"],
            "source_name": r["source_name"],
            "district": r["target"],
            "target_name": r["target_name"],
            "kits": int(r["kits"]),
            "arrival_day": int(r["arrival_day"]),
            "run_out_day": None if pd.isna(r["run_out_day"]) else int(r["run_out_day"]),
        }
        for r in rep.kit_shipments.to_dict("records")
    ]
    if "not_collected" not in rep.status.columns:
        return out
    names = {d.code: d.name for d in rep.plan.scenario.districts}
    lost = rep.status[rep.status["not_collected"] > 0]
    for day, g in lost.groupby("day"):
        per = g.groupby("district")["not_collected"].sum().sort_values(ascending=False)
        out.append(
            {
                "kind": "uncollected",
                "day": int(day),
                "samples": int(per.sum()),
                "units": [
                    {"district": str(d), "name": names[str(d)], "samples": int(n)}
                    for d, n in per.items()
                ],
                "top_name": names[str(per.index[0])],
                "top_samples": int(per.iloc[0]),
            }
        )
    return out


def national_item(plan: Plan, more: Plan) -> dict | None:
    """What the province must receive from the national level (kind "national"): ``more`` is
    the plan with a national store (labopt.schedule.supply.NATIONAL); per day the reactions it
    ships into the province, and per stream the samples tested beyond ``plan``. None when it
    ships nothing."""
    table = more.shipments_table()
    sent = table[table["source"] == NATIONAL].groupby("day")["reactions"].sum()
    if sent.sum() < 1:
        return None
    extra = more.tested().sum(axis=(0, 2)) - plan.tested().sum(axis=(0, 2))
    streams = plan.scenario.stream_by_id
    return {
        "kind": "national",
        "reactions": int(sent.sum()),
        "by_day": [
            {"day": int(d), "reactions": int(r), "cumulative": int(c)}
            for d, r, c in zip(sent.index, sent, sent.cumsum(), strict=True)
        ],
        "streams": {
            sid: int(np.rint(e)) for sid, e in zip(plan.input.stream_ids, extra, strict=True)
        },
        "stream_names": {sid: streams[sid].name for sid in plan.input.stream_ids},
        "stream_names_vi": {sid: streams[sid].named("vi") for sid in plan.input.stream_ids},
        "samples": int(np.rint(extra.sum())),
    }


def shipment_items(rep: PlanReport) -> list[dict]:
    """One shortfall item per shipment (kind "shipment"), in the order sent."""
    cover = rep.plan.input.supply.cover_days if rep.plan.input.supply is not None else 0.0
    return [
        {
            "kind": "shipment",
            "day": int(r["day"]),
            "source": r["source"],
            "source_name": r["source_name"],
            "lab": r["target"],
            "target_name": r["target_name"],
            "reactions": int(r["reactions"]),
            "arrival_day": int(r["arrival_day"]),
            "reason": r["reason"],
            "run_out_day": None if pd.isna(r["run_out_day"]) else int(r["run_out_day"]),
            "cover_days": cover,
        }
        for r in rep.shipments.to_dict("records")
    ]


def _utilisation(st: LabState) -> np.ndarray:
    """(nl, T) the share of the tighter limit in use: claimed reactions (expected and reserve)
    of the capacity, or expected reactions of the reagent on hand."""
    of_capacity = np.divide(
        st.claim, st.capacity, out=np.zeros_like(st.claim), where=st.capacity > 0
    )
    hand = np.maximum(st.on_hand, 0.0)
    of_reagent = np.divide(st.used, hand, out=np.zeros_like(st.used), where=hand > 0)
    return np.where(st.used > 0, np.maximum(of_capacity, of_reagent), of_capacity)


def _capacity_limit(plan: Plan) -> list[str]:
    """Per lab, which of PCR, extraction and staff sets its capacity (the first when tied)."""
    pol = plan.scenario.policy
    out = []
    for lab in plan.scenario.labs:
        values = (
            pcr_reactions(lab, pol),
            extraction_reactions(lab, pol),
            staff_reactions(lab, pol),
        )
        out.append(CAPACITY_LIMITS[int(np.argmin(values))])
    return out


def _limits(plan: Plan, st: LabState) -> np.ndarray:
    """(nl, T) what stops each lab-day running more: "off" (a standby lab not switched on),
    its capacity limit ("pcr", "extraction", "staff"), "reagent", both joined by "+", or ""
    when it has room."""
    cap = np.array(_capacity_limit(plan), dtype=object)[:, None]
    full = np.where(st.full, cap, "")
    dry = np.where(st.out, "reagent", "")
    both = np.where(st.full & st.out, full + "+" + dry, full + dry)
    return np.where(st.on, both, "off").astype(object)


# ------------------------------------------------------------------ the causes of waiting
@dataclass(frozen=True)
class _Context:
    """What the cause analysis shares between days and streams."""

    plan: Plan
    st: LabState
    # (nd, ns, T) waiting at the end of the day + untested that day (+ with screening by risk,
    # the samples the units could collect but are asked not to: pending_samples)
    pending: np.ndarray
    claim_cost: np.ndarray  # (np, ns, T) reactions a sample claims at each pair
    cheapest: np.ndarray  # (nd, ns, T) the least of them over the unit's labs (0: none)
    typical: np.ndarray  # (ns, T) their mean over all pairs: for units that reach no lab
    reach: np.ndarray  # (nl, nd) bool: the unit may send to the lab
    cap_limit: list[str]  # per lab: pcr, extraction or staff
    # (nl, T) bool: a store with reagent left could have shipped to the lab in time for the day
    refillable: np.ndarray
    _more_stages: dict = field(default_factory=dict)

    @classmethod
    def of(cls, plan: Plan) -> _Context:
        inp = plan.input
        c = plan_cost(inp, plan.scenario.settings.plan.retest_reserve_sd)
        cheapest = np.full((inp.nd, inp.ns, inp.days), np.inf)
        np.minimum.at(cheapest, inp.pair_d, c)
        reach = np.zeros((inp.nl, inp.nd), dtype=bool)
        reach[inp.pair_l, inp.pair_d] = True
        return cls(
            plan,
            lab_state(plan),
            pending_samples(plan),
            c,
            np.where(np.isfinite(cheapest), cheapest, 0.0),
            c.mean(axis=0) if inp.npairs else np.ones((inp.ns, inp.days)),
            reach,
            _capacity_limit(plan),
            _refillable(plan),
        )

    def lab_need(self, t: int, mask: np.ndarray) -> np.ndarray:
        """(nl,) reactions the samples waiting in the units each lab serves would claim there
        (streams in ``mask``, end of day t)."""
        inp = self.plan.input
        per_pair = (self.pending[inp.pair_d][:, mask, t] * self.claim_cost[:, mask, t]).sum(1)
        return np.bincount(inp.pair_l, weights=per_pair, minlength=inp.nl)

    def need(self, t: int, mask: np.ndarray) -> float:
        """Reactions the waiting samples of units that reach a lab would claim at their
        cheapest labs."""
        return float((self.pending[:, mask, t] * self.cheapest[:, mask, t]).sum())

    def more_stages_cost(self, t: int, streams: np.ndarray) -> np.ndarray | None:
        """(np, len(streams)) expected reactions per sample on day t of the poolable
        ``streams`` with one more PCR round allowed, where the plan allocates samples (the
        current cost elsewhere: only those cells count); None when the policy allows the most
        stages already. Designs are searched once per pool class and prevalence."""
        pol = self.plan.scenario.policy
        if pol.max_stages >= MOST_STAGES:
            return None
        inp = self.plan.input
        out = inp.cost[:, streams, t].copy()
        pi, si = np.nonzero(self.plan.x[:, streams, t] > 0)
        cls = inp.design_class[inp.pair_l[pi]]
        prev = inp.prevalence[inp.pair_d[pi], streams[si], t]
        more = pol.model_copy(update={"max_stages": pol.max_stages + 1})
        for k in np.unique(cls).tolist():
            known = self._more_stages.setdefault(k, {})
            sel = cls == k
            new = np.setdiff1d(prev[sel], np.fromiter(known, float, len(known)))
            if new.size:
                et = design_table(new, inp.pool_classes[k], more).expected_tests_per_sample
                known.update(zip(new.tolist(), et.tolist(), strict=True))
            out[pi[sel], si[sel]] = [known[p] for p in prev[sel].tolist()]
        return out


def _refillable(plan: Plan) -> np.ndarray:
    """(nl, T) bool: some store holding a reaction or more at the end of day t - lead could
    have sent reagent to the lab along a route in time for day t. Such a lab out of reagent
    is not short of it: the plan chose not to send more (its capacity binds the LP)."""
    inp, sup = plan.input, plan.input.supply
    out = np.zeros((inp.nl, inp.days), dtype=bool)
    if sup is None or sup.nr == 0:
        return out
    shipped = plan.shipments if plan.shipments is not None else np.zeros((sup.nr, inp.days))
    _, stores = net_received(sup, shipped, inp.nl)
    left = sup.store_stock + stores  # (nst, T) end of each day
    for r in np.flatnonzero(sup.source < sup.nst):
        lead = int(sup.lead[r])
        for t in range(lead, inp.days):
            if left[sup.source[r], t - lead] >= TOL:
                out[sup.target[r], t] = True
    return out


def causes(ctx: _Context, t: int, mask: np.ndarray) -> list[dict]:
    """Why samples of the streams in ``mask`` wait or go untested at the end of day t (0-based):
    each cause with its numbers, the binding one first; [] when none wait.

    Reactions are those the waiting samples would claim (expected plus the retest reserve),
    at most what they need at their cheapest labs. Among the labs within reach of the units
    where samples wait:
    - reagent: labs with no reagent left after the day; the capacity they leave unused;
    - standby: standby labs not switched on that day that hold reagent; what they could run;
    - capacity: labs at their PCR, extraction or staff limit with reagent left; the
      reactions still needed once reagent, standby labs, labs beyond reach and any room at
      labs within reach have given all they could;
    travel: the room at labs beyond reach of those units (max_travel_hours, travel.csv), and
    the samples of units that reach no lab at all (at the stream's mean reactions per
    sample); stage: with one more PCR round allowed (policy.max_stages), the reactions the
    day's pooled samples would save, and the samples they would test; spare: room left at
    labs within reach. The binding cause is the one with the most reactions among reagent,
    standby, travel and capacity; when none is short, the room left unused, else capacity.
    The stage limit is given beside reagent or capacity only: where reactions are short.
    """
    inp, st = ctx.plan.input, ctx.st
    waiting_in = ctx.pending[:, mask, t]
    units = waiting_in.sum(axis=1) >= 0.5
    if not units.any():
        return []
    need = ctx.need(t, mask)
    lab_need = ctx.lab_need(t, mask)
    within = ctx.reach[:, units].any(axis=1)
    stranded = units & ~ctx.reach.any(axis=0)  # units that reach no lab
    cap, claim, on_hand = st.capacity[:, t], st.claim[:, t], st.on_hand[:, t]
    out, on, full, room = st.out[:, t], st.on[:, t], st.full[:, t], st.room[:, t]
    lab_ids = np.array(inp.lab_ids)

    def capped(amounts: np.ndarray) -> float:
        return min(float(np.maximum(amounts, 0.0).sum()), need)

    dry = within & out & ~ctx.refillable[:, t]
    reagent = capped(np.where(dry, np.minimum(cap - claim, lab_need), 0.0))
    idle_standby = within & ~on & ~out & (cap > 0)
    standby = capped(np.where(idle_standby, np.minimum(np.minimum(cap, on_hand), lab_need), 0.0))
    at_cap = within & on & full & ~out
    has_room = within & on & ~full & ~out
    unused = np.where(has_room, room, 0.0)
    spare = capped(np.minimum(unused, lab_need))
    free = np.where(on, room, np.minimum(cap, np.maximum(on_hand, 0.0)))
    far = ~within & ~out & (free >= TOL)
    beyond = min(float(np.where(far, free, 0.0).sum()), need)
    stranded_samples = float(waiting_in[stranded].sum())
    stranded_need = float((waiting_in[stranded] * ctx.typical[mask, t]).sum())
    travel = beyond + stranded_need
    capacity = max(0.0, need - reagent - standby - beyond - spare)
    found = []
    if reagent >= TOL or dry.any():
        found.append(
            {
                "cause": "reagent",
                "reactions": round(reagent),
                "labs_out": int(dry.sum()),
                "labs_in_reach": int(within.sum()),
                "labs": lab_ids[dry].tolist(),
                "province_left": round(float(np.maximum(st.left[:, t], 0.0).sum())),
            }
        )
    if standby >= TOL:
        found.append(
            {
                "cause": "standby",
                "reactions": round(standby),
                "labs_off": int(idle_standby.sum()),
                "labs": lab_ids[idle_standby].tolist(),
            }
        )
    if beyond >= TOL or stranded.any():
        found.append(
            {
                "cause": "travel",
                "reactions": round(travel),
                "room_beyond_reach": round(beyond),
                "labs_beyond_reach": int(far.sum()) if beyond >= TOL else 0,
                "units_without_lab": int(stranded.sum()),
                "samples_without_lab": round(stranded_samples),
                "max_travel_hours": ctx.plan.scenario.policy.max_travel_hours,
            }
        )
    limits = [ctx.cap_limit[i] for i in np.flatnonzero(at_cap)]
    short_of_capacity = {
        "cause": "capacity",
        "reactions": round(capacity),
        "labs_full": int(at_cap.sum()),
        "labs_in_reach": int(within.sum()),
        "by_limit": {k: limits.count(k) for k in CAPACITY_LIMITS if k in limits},
        "labs": lab_ids[at_cap].tolist(),
    }
    if capacity >= TOL:
        found.append(short_of_capacity)
    # one more PCR round saves reactions: a lever only where reactions are short within reach
    # (reagent or capacity), not where samples cannot reach a lab or room stands unused
    stage = _stage_lever(ctx, t, mask) if reagent >= TOL or capacity >= TOL else None
    if stage is not None:
        found.append(stage)
    # room the plan leaves at labs within reach (reagent kept for later days, whole samples)
    if spare >= min(TOL, 0.5 * need) and spare > 0:
        found.append(
            {
                "cause": "spare",
                "reactions": round(spare),
                "room": round(float(unused.sum())),
                "labs": int((unused >= TOL).sum()),
            }
        )
    binding = [c for c in found if c["cause"] in CAUSES[:4] and c["reactions"] >= TOL]
    if binding:
        # labs standing idle for lack of reagent come first: they stop testing now, and
        # reagent is the quickest lever; else the cause that would test the most
        dry_first = [c for c in binding if c["cause"] == "reagent"]
        first = dry_first[0] if dry_first else max(binding, key=lambda c: c["reactions"])
    else:  # nothing short: room left unused, else the stage limit, else capacity
        order = ("spare", "stage", "travel", "capacity")
        ranked = [c for c in found if c["cause"] in order]
        if ranked:
            first = min(ranked, key=lambda c: order.index(c["cause"]))
        else:
            # less than a whole pool's room left at full labs: capacity, at least one reaction
            short_of_capacity["reactions"] = max(short_of_capacity["reactions"], math.ceil(need))
            found.append(short_of_capacity)
            first = short_of_capacity
    return [first] + [c for c in found if c is not first]


def _stage_lever(ctx: _Context, t: int, mask: np.ndarray) -> dict | None:
    """The reactions one more PCR round would save on day t's pooled samples (None if none)."""
    inp = ctx.plan.input
    pooled = mask & inp.poolable
    if not pooled.any() or ctx.pending[:, pooled, t].sum() < 0.5:
        return None
    streams = np.flatnonzero(pooled)
    then = ctx.more_stages_cost(t, streams)
    if then is None:
        return None
    x = ctx.plan.x[:, streams, t]
    now = inp.cost[:, streams, t]
    saved = float((x * np.maximum(now - then, 0.0)).sum())
    tested = float(x.sum())
    if saved < TOL or tested <= 0:
        return None
    per_sample = float((x * np.minimum(then, now)).sum()) / tested
    return {
        "cause": "stage",
        "reactions": round(saved),
        "max_stages": ctx.plan.scenario.policy.max_stages,
        "stages": ctx.plan.scenario.policy.max_stages + 1,
        "samples": int(saved / per_sample) if per_sample > 0 else 0,
    }


def pending_samples(plan: Plan) -> np.ndarray:
    """(nd, ns, T) samples a plan leaves waiting at the end of each day or untested that day,
    and with screening by risk those the units could collect but are asked not to: what more
    capacity or reagent would test."""
    pending = plan.waiting + plan.untested
    return pending if plan.not_collected is None else pending + plan.not_collected


def day_causes(ctx: _Context, days: pd.DataFrame) -> list[str]:
    """Per day, the binding cause of the samples waiting over all streams; "demand" when a
    target is missed with nothing waiting; "" when nothing is short."""
    everything = np.ones(ctx.plan.input.ns, dtype=bool)
    out = []
    for r in days.to_dict("records"):
        found = causes(ctx, int(r["day"]) - 1, everything)
        missed = (r["single_samples_tested"] < r["single_target"]) or (
            r["pooled_samples_tested"] < r["pooled_target"]
        )
        out.append(found[0]["cause"] if found else "demand" if missed else "")
    return out


# ------------------------------------------------------------------ the shortfall report
def shortfall(rep: PlanReport, ctx: _Context | None = None) -> list[dict]:
    """Why targets are missed and what would close the gap most cheaply, in words and numbers,
    most pressing first: reagent run-outs per day; per day the targets missed and the
    streams whose samples wait, with their causes (a target's item gives the causes of its
    kind's one waiting stream; other waiting streams get their own item); standby labs to
    switch on and on which days; full lab-days where more capacity would test more; each
    lab's run-out and its next delivery.
    """
    plan, inp = rep.plan, rep.plan.input
    scn = plan.scenario
    ctx = _Context.of(plan) if ctx is None else ctx
    outages = reagent_outages(ctx)
    out: list[dict] = _headlines(ctx, outages)
    names = scn.stream_by_id
    for r in rep.days.to_dict("records"):
        t = int(r["day"]) - 1
        pending = ctx.pending[:, :, t].sum(axis=0) >= 0.5  # (ns,) streams with samples waiting
        covered = np.zeros(inp.ns, dtype=bool)
        for kind, target_key, tested_key in (
            ("single", "single_target", "single_samples_tested"),
            ("pooled", "pooled_target", "pooled_samples_tested"),
        ):
            gap = r[target_key] - r[tested_key]
            if gap <= 0:
                continue
            mask = ~inp.poolable if kind == "single" else inp.poolable
            demand = int(inp.demand[:, mask, t].sum())
            untested = int(plan.untested[:, mask, t].sum())
            waiting = int(plan.waiting[:, mask, t].sum())
            left = _not_collected(plan, mask, t)
            found = causes(ctx, t, mask)
            # supply is the cause when a real share of the gap waits, goes untested or (by
            # risk) is not collected
            short = bool(found) and untested + waiting + left >= max(1.0, 0.01 * gap)
            if short and (pending & mask).sum() == 1:
                covered |= pending & mask  # its one stream's causes are the target's
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
                    "not_collected": left,
                    "cause": found[0]["cause"] if short else "demand below target",
                    "causes": found if short else [],
                }
            )
        for s, sid in enumerate(inp.stream_ids):
            if covered[s] or not pending[s]:
                continue
            found = causes(ctx, t, np.arange(inp.ns) == s)
            out.append(
                {
                    "kind": "stream",
                    "day": r["day"],
                    "stream": sid,
                    "stream_name": names[sid].name,
                    "stream_name_vi": names[sid].named("vi"),
                    "waiting": int(plan.waiting[:, s, t].sum()),
                    "untested": int(plan.untested[:, s, t].sum()),
                    "not_collected": _not_collected(plan, np.arange(inp.ns) == s, t),
                    "cause": found[0]["cause"],
                    "causes": found,
                }
            )
    out += _standby(rep)
    out += bottlenecks(rep)
    reported = [o for o in outages if o.pop("reported")]
    out += sorted(reported, key=lambda o: (o["day"], -o["reactions_short"]))
    return out


def _not_collected(plan: Plan, mask: np.ndarray, t: int) -> int:
    """Samples of the streams ``mask`` the units could collect on day t but are asked not to
    (screening by risk; 0 otherwise)."""
    return 0 if plan.not_collected is None else int(plan.not_collected[:, mask, t].sum())


def _standby(rep: PlanReport) -> list[dict]:
    """Each standby lab the plan uses, with the days to switch it on."""
    plan, inp = rep.plan, rep.plan.input
    days = rep.standby_days()
    out = []
    for li, lab in enumerate(plan.scenario.labs):
        if not inp.standby[li] or lab.id not in days:
            continue
        per_day = plan.x[inp.pair_l == li].sum(axis=(0, 1))
        out.append(
            {
                "kind": "standby",
                "lab": lab.id,
                "lab_name": lab.name,
                "samples": int(per_day.sum()),
                "days": days[lab.id],
                "samples_by_day": {int(d): int(per_day[d - 1]) for d in days[lab.id]},
            }
        )
    return out


def reagent_outages(ctx: _Context) -> list[dict]:
    """Each time a lab's reagent runs out (less than one reaction left at the end of a day),
    until its next delivery within the horizon, with the reactions it is short meanwhile.

    Reactions short on a day a lab is out: its capacity beyond what it ran, at most what the
    samples waiting that evening in the units it serves would claim there; when several labs
    could test the same waiting samples, their shares are scaled down to what those samples
    need in all (an estimate of what the labs would have run with the reagent). Scheduled
    deliveries (the scenario's, also after the plan's last day) give the next one.
    """
    plan, inp, st = ctx.plan, ctx.plan.input, ctx.st
    scn = plan.scenario
    T = inp.days
    everything = np.ones(inp.ns, dtype=bool)
    short = np.zeros((inp.nl, T))
    for t in range(T):
        need = ctx.need(t, everything)
        # a lab a store could have refilled is not short: the plan chose not to
        dry = st.out[:, t] & ~ctx.refillable[:, t]
        lack = np.where(dry, np.minimum(st.idle[:, t], ctx.lab_need(t, everything)), 0.0)
        total = lack.sum()
        short[:, t] = lack * (min(1.0, need / total) if total > 0 else 0.0)
    deliveries = scn.deliveries
    out = []
    for li, lab in enumerate(scn.labs):
        t = 0
        while t < T:
            if not st.out[li, t]:
                t += 1
                continue
            later = np.flatnonzero(st.delivered[li, t + 1 :] >= TOL)
            end = t + 1 + int(later[0]) if later.size else T  # first day with reagent again
            rows = deliveries[
                (deliveries["lab"] == lab.id)
                & (deliveries["day"] > t + 1)
                & (deliveries["reactions"] >= TOL)
            ]
            nxt = rows.sort_values("day").iloc[0] if len(rows) else None
            lacking = float(short[li, t:end].sum())
            idle = float(st.idle[li, t + 1 : end].sum())
            out.append(
                {
                    "kind": "reagent",
                    "lab": lab.id,
                    "lab_name": lab.name,
                    "day": t + 1,
                    "never_had": bool(t == 0 and inp.reagent_cum[li, 0] < TOL),
                    "out_until": end + 1 if end < T else None,
                    "reactions_short": round(lacking, 1),
                    "idle_capacity_after": round(idle, 1),
                    "next_delivery": None
                    if nxt is None
                    else {"day": int(nxt["day"]), "reactions": float(nxt["reactions"])},
                    "last_day": T,
                    # a run-out matters when labs lack it, or when it lasts to the last day
                    # (with shipments a lab ending the week empty got just what it needed)
                    "reported": lacking >= TOL
                    or (end >= T and (inp.supply is None or inp.supply.nr == 0)),
                }
            )
            t = end
    return out


def _headlines(ctx: _Context, outages: list[dict]) -> list[dict]:
    """Per day: the labs whose reagent runs out that day, what they are short by the plan's
    last day, and the lab short of most."""
    T = ctx.plan.input.days
    out = []
    for day in sorted({o["day"] for o in outages if o["reported"]}):
        group = [o for o in outages if o["reported"] and o["day"] == day]
        top = max(group, key=lambda o: o["reactions_short"])
        out.append(
            {
                "kind": "reagent_day",
                "day": day,
                "labs_out": len(group),
                "labs": [o["lab"] for o in group],
                "reactions_short": round(sum(o["reactions_short"] for o in group), 1),
                "last_day": T,
                "largest": {
                    "lab": top["lab"],
                    "lab_name": top["lab_name"],
                    "reactions_short": top["reactions_short"],
                },
            }
        )
    return out


def dual_threshold(plan: Plan) -> float:
    """Objective units per reaction below which a lab-day's capacity dual is taken as zero.

    One more reaction that gets one more sample tested a day sooner is worth at least
    waiting_day x the smallest stream weight / the most reactions a sample claims. Half of
    that separates it from the solver's tolerance and from duals that only reroute samples
    (transport and reinforcement, which stay below one waiting day per sample)."""
    w = plan.weights
    c = plan_cost(plan.input, plan.scenario.settings.plan.retest_reserve_sd)
    cmax = float(c.max()) if c.size else 1.0
    return 0.5 * w.waiting_day * float(np.min(w.stream)) / max(cmax, 1e-12)


def bottlenecks(rep: PlanReport, top: int = 10) -> list[dict]:
    """Lab-days where one more reaction of capacity would test more samples, most urgent first.

    A lab-day qualifies when it is at its PCR, extraction or staff limit with reagent left
    after the day, samples wait or go untested in the units it serves, and, when the solver
    gives duals (the LP, the network simplex), its capacity dual is at least
    dual_threshold: below it more capacity there would test nothing more. One more reaction
    there would test 1 / c more samples of the most urgent stream still waiting or untested
    that day in a unit that may send to it, where c is that sample's reactions at that lab.
    The dual is given too (objective units per reaction).
    """
    plan, inp = rep.plan, rep.plan.input
    scn = plan.scenario
    c = plan_cost(inp, scn.settings.plan.retest_reserve_sd)
    st = lab_state(plan)
    pending = pending_samples(plan)  # (nd, ns, T)
    w = plan.weights.stream
    # samples pending in the units each lab serves: (nl, ns, T)
    reach = np.zeros((inp.nl, inp.nd))
    reach[inp.pair_l, inp.pair_d] = 1.0
    by_lab = np.einsum("ld,dst->lst", reach, pending)
    # samples one reaction tests at the lab, best unit: (nl, ns, T)
    rate = np.zeros((inp.nl, inp.ns, inp.days))
    np.maximum.at(rate, inp.pair_l, 1.0 / c)
    useful = st.on & st.full & ~st.out
    if plan.capacity_dual is not None:
        useful &= -plan.capacity_dual >= dual_threshold(plan)
    names = {lab.id: lab.name for lab in scn.labs}
    found = []
    for li, t in zip(*np.nonzero(useful), strict=True):
        value = by_lab[li, :, t] * w
        if value.max() < 1:
            continue
        s = int(np.argmax(value))  # the stream most at stake
        lab = inp.lab_ids[li]
        item = {
            "kind": "bottleneck",
            "lab": lab,
            "lab_name": names[lab],
            "day": int(t) + 1,
            "stream": inp.stream_ids[s],
            "stream_name": scn.stream_by_id[inp.stream_ids[s]].name,
            "stream_name_vi": scn.stream_by_id[inp.stream_ids[s]].named("vi"),
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
        risk = np.where(sd > 0, ndtr(-slack / sd), 0.0)
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
