"""The scheduler's input, as arrays: demand, designs and their reaction costs, lab capacity.

Indices: d = unit (district), s = stream, t = day (0-based here), l = lab, p = allowed
(unit, lab) pair. Pooled reaction costs depend on the receiving lab through the largest pool it
has validated, so every pair carries its own cost per sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from labopt.capacity.lab import non_reagent_capacity
from labopt.capacity.pooled import design_table
from labopt.errors import InputError
from labopt.pooling.designs import Design
from labopt.pooling.variance import reactions_variance_per_sample
from labopt.scenario.model import Policy, Scenario
from labopt.scenario.travel import coordinate_hours, travel_table
from labopt.schedule.notes import Note, note
from labopt.schedule.supply import Supply, supply_of

PROVINCIAL = ("provincial_cdc", "provincial_hospital")


class PlanInputError(InputError):
    """The scenario cannot be planned as it stands; the message says what to change."""


@dataclass
class PlanInput:
    scenario: Scenario
    days: int
    district_codes: list[str]
    stream_ids: list[str]
    lab_ids: list[str]
    demand: np.ndarray  # (nd, ns, T) samples collected
    prevalence: np.ndarray  # (nd, ns, T)
    poolable: np.ndarray  # (ns,) bool
    max_wait: np.ndarray  # (ns,) days
    priority: np.ndarray  # (ns,)
    pair_d: np.ndarray  # (np,) unit index of each allowed pair
    pair_l: np.ndarray  # (np,) lab index
    pair_hours: np.ndarray  # (np,) road time
    pair_same: np.ndarray  # (np,) bool: lab in the unit itself
    capacity: np.ndarray  # (nl, T) reactions a day (PCR, extraction, staff)
    reagent_cum: np.ndarray  # (nl, T) reagent received by the end of day t (cumulative)
    standby: np.ndarray  # (nl,) bool
    provincial: np.ndarray  # (nl,) bool
    lab_pool: np.ndarray  # (nl,) largest validated pool
    cost: np.ndarray  # (np, ns, T) expected reactions per sample, retests included
    late: np.ndarray  # (np, ns, T) bool: road + PCR rounds exceed the turnaround
    variance: np.ndarray  # (np, ns, T) variance of reactions per sample (retests vary)
    block: np.ndarray  # (np, ns, T) samples per block of the arc's design (1: single samples)
    first_stage: np.ndarray  # (np, ns, T) first-stage reactions of one block
    reserve_capacity: np.ndarray  # (nd,) smallest daily capacity among each unit's labs
    design_class: np.ndarray  # (nl,) index into pool_classes
    pool_classes: list[int]  # distinct validated pool sizes
    designs: dict[int, list[Design]]  # class index -> the Design of each flattened (d, s, t)
    # units with samples and no lab they may send to (no pairs: none of their samples is
    # tested): unit, name, samples, nearest_lab, hours (road time to it)
    unreachable: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # for the plan's notes, one per such unit
    supply: Supply | None = None  # stores and shipment routes (None: reagent stays where it is)
    # (nd, ns, A) samples waiting at the start of day 1 by age: [..., a - 1] collected a days
    # before day 1 (A: the longest max_wait; None: nothing waits at the start)
    backlog: np.ndarray | None = None

    @property
    def nd(self) -> int:
        return len(self.district_codes)

    @property
    def ns(self) -> int:
        return len(self.stream_ids)

    @property
    def nl(self) -> int:
        return len(self.lab_ids)

    @property
    def npairs(self) -> int:
        return self.pair_d.size

    @cached_property
    def carried(self) -> np.ndarray:
        """(nd, ns) samples waiting at the start of day 1 (the backlog's total)."""
        if self.backlog is None:
            return np.zeros((self.nd, self.ns))
        return self.backlog.sum(axis=2)

    @cached_property
    def arrivals(self) -> np.ndarray:
        """(nd, ns, T) samples that join each day's queue: those collected that day, and on day
        1 also those waiting from before."""
        out = self.demand.copy()
        out[:, :, 0] += self.carried
        return out

    @cached_property
    def cohorts(self) -> np.ndarray:
        """(nd, ns, A + T) samples by day of collection, oldest first: the backlog's ages A..1
        (what is left of them), then days 1..T."""
        if self.backlog is None:
            return self.demand
        return np.concatenate([self.backlog[:, :, ::-1], self.demand], axis=2)

    @cached_property
    def pairs_of_lab(self) -> list[np.ndarray]:
        """Pair indices of each lab."""
        order = np.argsort(self.pair_l, kind="stable")
        return np.split(order, np.searchsorted(self.pair_l[order], np.arange(1, self.nl)))

    @cached_property
    def pairs_of_unit(self) -> list[np.ndarray]:
        """Pair indices of each unit, nearest lab first."""
        order = np.lexsort((self.pair_hours, self.pair_d))
        return np.split(order, np.searchsorted(self.pair_d[order], np.arange(1, self.nd)))

    def design(self, p: int, s: int, t: int) -> Design:
        """The design a pair uses for a stream on a day (IT for streams that do not pool)."""
        if not self.poolable[s]:
            return Design("IT", 1)
        k = self.design_class[self.pair_l[p]]
        return self.designs[k][(self.pair_d[p] * self.ns + s) * self.days + t]


def batch_cap(demand: np.ndarray, max_wait: np.ndarray) -> np.ndarray:
    """(nd, ns, T) the most samples per block a unit and stream's designs may take: the most
    samples it may have to test on a day of the horizon (collected within the stream's wait
    limit), rounded down to a power of two (at least 2) so that few distinct caps need a
    design search. A unit with 50 samples does not open a 256-sample array whose first stage
    alone costs 32 reactions. The same on every day, so that a unit's costs stay the same
    from day to day when its prevalence does (the allocation can then be a network)."""
    T = demand.shape[2]
    cum = np.cumsum(demand, axis=2)
    avail = cum.copy()
    for s, w in enumerate(max_wait.astype(int)):
        if w + 1 < T:
            avail[:, s, w + 1 :] -= cum[:, s, : T - w - 1]
    most = avail.max(axis=2, keepdims=True, initial=0.0)
    return np.broadcast_to(2 ** np.floor(np.log2(np.maximum(most, 2.0))), demand.shape)


def retest_variance(design: Design, prevalence: float, policy: Policy) -> float:
    """Variance of a design's reactions per sample (reactions^2 per sample; retests vary).

    The plan only uses it for a safety margin, so the prevalence is rounded to 2 significant
    digits, which lets nearby prevalences share one (cached) evaluation."""
    return reactions_variance_per_sample(
        design.algorithm,
        design.config,
        float(f"{prevalence:.2g}"),
        policy.pooling_se,
        policy.pooling_sp,
    )


def build_input(scn: Scenario, days: int | None = None, national: bool = False) -> PlanInput:
    """Arrays for days 1..days of the scenario (default: its whole horizon). ``national``: with
    a national store holding all the reactions the labs could run over the days
    (labopt.schedule.supply.supply_of), to find what the province must receive."""
    T = _horizon(scn, days)
    dcodes = [d.code for d in scn.districts]
    di = {c: i for i, c in enumerate(dcodes)}
    streams = scn.streams
    si = {s.id: i for i, s in enumerate(streams)}
    labs = scn.labs
    li = {lab.id: i for i, lab in enumerate(labs)}
    nd, ns, nl = len(dcodes), len(streams), len(labs)

    dem = scn.demand[scn.demand["day"] <= T]
    D = np.zeros((nd, ns, T))
    P = np.zeros((nd, ns, T))
    base = scn.prevalence
    for d, s, p in base[["district", "stream", "prevalence"]].itertuples(index=False):
        P[di[d], si[s], :] = p
    dd = dem["district"].map(di).to_numpy(dtype=np.int64)
    ss = dem["stream"].map(si).to_numpy(dtype=np.int64)
    tt = dem["day"].to_numpy(dtype=int) - 1
    D[dd, ss, tt] = dem["samples"].to_numpy(dtype=float)
    P[dd, ss, tt] = dem["prevalence"].to_numpy(dtype=float)

    backlog = None
    if len(scn.backlog):
        _check_backlog(scn)
        ages = scn.backlog["age_days"].to_numpy(dtype=int)
        backlog = np.zeros((nd, ns, max(int(s.max_wait_days) for s in streams)))
        np.add.at(
            backlog,
            (
                scn.backlog["district"].map(di).to_numpy(),
                scn.backlog["stream"].map(si).to_numpy(),
                ages - 1,
            ),
            scn.backlog["samples"].to_numpy(dtype=float),
        )

    travel = travel_table(scn)
    pair_d = travel["district"].map(di).to_numpy(dtype=np.int64)
    pair_l = travel["lab"].map(li).to_numpy(dtype=np.int64)
    unreachable = unreachable_units(scn, T, travel)

    cap = np.zeros((nl, T))
    reagent = np.zeros((nl, T))
    deliveries = np.zeros((nl, T))
    for lab_id, day, r in scn.deliveries[["lab", "day", "reactions"]].itertuples(index=False):
        if day <= T:
            deliveries[li[lab_id], int(day) - 1] += r
    for i, lab in enumerate(labs):
        cap[i, :] = non_reagent_capacity(lab, scn.policy)
        reagent[i, :] = lab.reagent_stock + np.cumsum(deliveries[i])
    # a lab out of service (or part of it) on a day: its share of capacity then
    for lab_id, day, share in scn.lab_days[["lab", "day", "available"]].itertuples(index=False):
        if day <= T:
            cap[li[lab_id], int(day) - 1] *= share

    lab_pool = np.array([lab.max_pool_size for lab in labs])
    classes = sorted(set(lab_pool.tolist()))
    cls_of = {k: j for j, k in enumerate(classes)}
    design_class = np.array([cls_of[k] for k in lab_pool])
    poolable = np.array([s.poolable for s in streams])
    designs: dict[int, list[Design]] = {}
    et_by_class = np.ones((len(classes), nd, ns, T))
    var_by_class = np.zeros((len(classes), nd, ns, T))
    pol = scn.policy
    if poolable.any():
        # from the scenario's whole horizon, so that designs do not change with --days
        whole = np.zeros((nd, ns, scn.province.days))
        rows = scn.demand
        whole[
            rows["district"].map(di).to_numpy(dtype=np.int64),
            rows["stream"].map(si).to_numpy(dtype=np.int64),
            rows["day"].to_numpy(dtype=int) - 1,
        ] = rows["samples"].to_numpy(dtype=float)
        wait = np.array([s.max_wait_days for s in streams])
        block_cap = np.broadcast_to(batch_cap(whole, wait)[:, :, :1], (nd, ns, T)).ravel()
        for j, k in enumerate(classes):
            et = np.ones(nd * ns * T)
            class_designs: list[Design] = [Design("IT", 1)] * (nd * ns * T)
            for b in np.unique(block_cap):
                at = np.flatnonzero(block_cap == b)
                table = design_table(P.ravel()[at], k, pol, max_block=int(b))
                et[at] = table.expected_tests_per_sample
                for pos, chosen in zip(at.tolist(), table.designs, strict=True):
                    class_designs[pos] = chosen
            et_by_class[j] = np.where(poolable[None, :, None], et.reshape(nd, ns, T), 1.0)
            designs[j] = class_designs
            var = np.array(
                [retest_variance(d, p, pol) for d, p in zip(class_designs, P.ravel(), strict=True)]
            ).reshape(nd, ns, T)
            var_by_class[j] = np.where(poolable[None, :, None], var, 0.0)
    cost = et_by_class[design_class[pair_l], pair_d]  # (np, ns, T)
    variance = var_by_class[design_class[pair_l], pair_d]
    # turnaround: road time plus one PCR run per stage of the design
    stages = np.ones((len(classes), nd, ns, T))
    block = np.ones((len(classes), nd, ns, T))
    first = np.ones((len(classes), nd, ns, T))
    for j, class_designs in designs.items():
        stages[j] = np.array([d.stages for d in class_designs], dtype=float).reshape(nd, ns, T)
        block[j] = np.array([d.block_size for d in class_designs], dtype=float).reshape(nd, ns, T)
        first[j] = np.array([d.first_stage_reactions for d in class_designs], dtype=float).reshape(
            nd, ns, T
        )
    pooled = poolable[None, :, None]
    stages = np.where(pooled, stages[design_class[pair_l], pair_d], 1.0)
    block = np.where(pooled, block[design_class[pair_l], pair_d], 1.0)
    first = np.where(pooled, first[design_class[pair_l], pair_d], 1.0)
    run_hours = np.array([lab.run_hours for lab in labs])
    pair_hours = travel["hours"].to_numpy(dtype=float)
    late = (
        pair_hours[:, None, None] + stages * run_hours[pair_l][:, None, None]
        > scn.policy.turnaround_hours + 1e-9
    )
    reserve_cap = np.full(nd, np.inf)
    lab_cap = cap.max(axis=1)
    np.minimum.at(reserve_cap, pair_d, np.where(lab_cap[pair_l] > 0, lab_cap[pair_l], np.inf))
    reserve_cap = np.where(np.isfinite(reserve_cap), reserve_cap, 1.0)
    return PlanInput(
        scenario=scn,
        days=T,
        district_codes=dcodes,
        stream_ids=[s.id for s in streams],
        lab_ids=[lab.id for lab in labs],
        demand=D,
        prevalence=P,
        poolable=poolable,
        max_wait=np.array([s.max_wait_days for s in streams]),
        priority=np.array([s.priority for s in streams]),
        pair_d=pair_d,
        pair_l=pair_l,
        pair_hours=pair_hours,
        pair_same=travel["same_district"].to_numpy(dtype=bool),
        capacity=cap,
        reagent_cum=reagent,
        standby=np.array([lab.status == "standby" for lab in labs]),
        provincial=np.array([lab.facility_type in PROVINCIAL for lab in labs]),
        lab_pool=lab_pool,
        cost=np.ascontiguousarray(cost),
        late=late,
        variance=variance,
        block=block,
        first_stage=first,
        reserve_capacity=reserve_cap,
        design_class=design_class,
        pool_classes=classes,
        designs=designs,
        unreachable=unreachable,
        supply=supply_of(
            scn, [lab.id for lab in labs], dcodes, T, float(cap.sum()) if national else 0.0
        ),
        notes=[unreachable_note(scn, u) for u in unreachable],
        backlog=backlog,
    )


def check_plannable(scn: Scenario, days: int | None = None) -> list[str]:
    """Raise PlanInputError for what the planner refuses before solving: a number of days
    outside the horizon, samples in a scenario without any lab. Return the warnings the plan
    would carry as notes: each unit with samples and no lab it may send them to (planned as
    unreachable). ``labopt scenario check`` runs it too, so that a scenario it passes is one
    the plan accepts, and it shows the same warnings."""
    unreachable = unreachable_units(scn, _horizon(scn, days), travel_table(scn))
    return [unreachable_note(scn, u) for u in unreachable]


def _horizon(scn: Scenario, days: int | None) -> int:
    T = scn.province.days if days is None else int(days)
    if not 1 <= T <= scn.province.days:
        raise PlanInputError(
            f"days: must be between 1 and {scn.province.days} (the scenario's horizon), got {days}"
        )
    return T


def _check_backlog(scn: Scenario) -> None:
    """A backlog set in code (not loaded from files, which are checked as they are read):
    known units and streams, whole samples >= 0, ages 1 .. the stream's max_wait_days."""
    b = scn.backlog
    wait = {s.id: s.max_wait_days for s in scn.streams}
    for i, (d, s, age, n) in enumerate(
        b[["district", "stream", "age_days", "samples"]].itertuples(index=False), start=1
    ):
        where = f"backlog row {i} ({d}/{s}, age {age})"
        if d not in scn.district_by_code or s not in wait:
            raise InputError(f"backlog: {where}: unknown unit or stream", "backlog")
        if not 1 <= age <= wait[s]:
            raise InputError(
                f"backlog: {where}: a waiting sample of stream '{s}' is 1 to {wait[s]} days "
                f"old (max_wait_days)",
                "backlog",
            )
        if not (n >= 0 and float(n).is_integer()):
            raise InputError(f"backlog: {where}: samples must be a whole number >= 0", "backlog")


def unreachable_units(scn: Scenario, T: int, travel: pd.DataFrame) -> list[dict]:
    """Units with samples in days 1..T (or waiting at the start) and no lab they may send to
    (no row in ``travel``, the allowed pairs of travel_table), in the order of the districts
    table. Each: unit (code), name, samples (days 1..T and the backlog), nearest_lab and hours
    (road time to it, hours): the travel table's shortest for the unit if it lists any (all
    over the limit), else the coordinates' estimate.

    A scenario without any lab cannot be planned at all: PlanInputError when it has samples.
    """
    dem = scn.demand[scn.demand["day"] <= T]
    samples = pd.concat([dem, scn.backlog]).groupby("district")["samples"].sum()
    reachable = set(travel["district"])
    stranded = [d for d in scn.districts if samples.get(d.code, 0) > 0 and d.code not in reachable]
    if stranded and not scn.labs:
        raise PlanInputError(
            "cannot plan:\n  - "
            + "\n  - ".join(
                f"unit '{d.code}' ({d.name}) has {int(samples[d.code]):,} samples but the "
                f"scenario has no lab"
                for d in stranded
            )
        )
    estimate = coordinate_hours(scn) if stranded else pd.DataFrame()
    out = []
    for d in stranded:
        rows = estimate[estimate["district"] == d.code]
        if scn.travel is not None and (scn.travel["district"] == d.code).any():
            rows = scn.travel[scn.travel["district"] == d.code]
        j = int(np.argmin(rows["hours"].to_numpy()))
        out.append(
            {
                "unit": d.code,
                "name": d.name,
                "samples": int(samples[d.code]),
                "nearest_lab": str(rows["lab"].iloc[j]),
                "hours": float(rows["hours"].iloc[j]),
            }
        )
    return out


def unreachable_note(scn: Scenario, u: dict) -> Note:
    """The plan's note on a unit of unreachable_units: what happens to its samples, the
    nearest lab and its road time, and what to change."""
    in_table = scn.travel is not None and bool(
        ((scn.travel["district"] == u["unit"]) & (scn.travel["lab"] == u["nearest_lab"])).any()
    )
    if scn.travel is None or in_table:
        enough = math.ceil(u["hours"] * 100 - 1e-9) / 100  # rounded up: it must cover the time
        change = note("raise_limit", enough=enough)
    else:
        change = note("add_travel_row")
    return note(
        "unreachable",
        unit=u["unit"],
        name=u["name"],
        samples=u["samples"],
        limit=scn.policy.max_travel_hours,
        where="" if scn.travel is None else note("in_travel"),
        nearest_lab=u["nearest_lab"],
        lab_name=scn.lab_by_id[u["nearest_lab"]].name,
        hours=u["hours"],
        change=change,
    )
