"""Independent check of a plan, from the scenario files' values and the plan's tables only.

Shares no code with the planner's model (labopt.schedule.data/lp/plan, labopt.capacity):
lab capacity is recomputed here from the lab's fields, travel from the travel table or the
coordinates, and the reactions of each allocation from its stated pooling design with
labopt.pooling.evaluate (itself checked against binGroup2, an exact oracle and simulation).

Checks: every allocation goes to a lab the unit may send to, with a design the lab has
validated; lab-day expected reactions, counted in whole pools and arrays, within capacity
(its share that day where the scenario's lab_days lists one);
reagent never used before it is in stock; for every unit, stream and day, tested + waiting +
untested = samples available (waiting from the day before, or the scenario's backlog on day 1,
plus the day's demand), so over the horizon tested + untested + still waiting = backlog +
demand;
no sample waits longer than its stream allows, and none is untested before its wait limit
passes; and the urgency rule: no lab tests less urgent samples worth a reaction or more on a
day when a sample of a more urgent single-sample stream that it may test is left waiting or
untested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from labopt.pooling import evaluate
from labopt.scenario.model import Lab, Policy, Scenario

TOL = 1e-6


@dataclass
class CheckReport:
    violations: list[str] = field(default_factory=list)
    checked: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "violations": self.violations[:200],
            "violation_count": len(self.violations),
            "checked": self.checked,
        }


@lru_cache(maxsize=200_000)
def _reactions_per_sample(
    algorithm: str, config: str, prevalence: float, se: float, sp: float
) -> float:
    if algorithm == "IT":
        return 1.0
    return float(
        evaluate(algorithm, config, prevalence=prevalence, se=se, sp=sp).expected_tests_per_sample
    )


def _array_sides(config: str) -> tuple[int, int]:
    """(rows, columns) of an array's config: ``8x12``, or ``8`` for 8 x 8."""
    sides = [int(x) for x in config.lower().replace("×", "x").split("x")]
    return sides[0], sides[-1]


def _largest_pool(algorithm: str, config: str) -> int:
    head = config.split(":")[0]
    if algorithm == "A2M":
        rows, cols = _array_sides(head)
        return rows * cols
    if algorithm in ("A2", "IA2"):
        return max(_array_sides(head))
    if algorithm in ("ID2", "ID3", "ID4"):
        return max(int(x) for x in head.split(","))
    return int(head)


def _block(algorithm: str, config: str) -> tuple[int, int]:
    """(samples per block, first-stage reactions per block) of a design, from its config:
    a pool of k (D2/D3/D4), the pools of an ID2 block, an r x c array's rows and columns (A2)
    or its master pool (A2M); single samples (1, 1)."""
    head = config.split(":")[0]
    if algorithm == "IT":
        return 1, 1
    if algorithm in ("ID2", "ID3", "ID4"):
        pools = [int(x) for x in head.split(",")]
        return sum(pools), len(pools)
    if algorithm in ("A2", "A2M", "IA2"):
        rows, cols = _array_sides(head)
        return rows * cols, (1 if algorithm == "A2M" else rows + cols)
    return int(head), 1


def _lab_capacity(lab: Lab, policy: Policy) -> float:
    """Reactions a day without reagent, recomputed here from the lab's fields."""
    hours = min(24.0, lab.shifts_per_day * policy.shift_hours)
    pcr = (
        lab.pcr_machines
        * math.floor(hours / lab.run_hours + 1e-9)
        * (lab.wells_per_run - lab.control_wells_per_run)
    )
    ext = (
        lab.extraction_machines
        * math.floor(hours / lab.extraction_run_hours + 1e-9)
        * lab.extraction_samples_per_run
    )
    staff = (
        lab.staff_per_shift
        * lab.shifts_per_day
        * (lab.reactions_per_staff_shift or policy.reactions_per_staff_shift)
    )
    return float(min(pcr, ext, staff))


def _allowed_pairs(scn: Scenario) -> pd.DataFrame:
    """(district, lab) pairs a unit may send to, recomputed from the scenario: the travel
    table's (or the coordinates') pairs within max_travel_hours, and every unit's own labs."""
    lab_district = {lab.id: lab.district for lab in scn.labs}
    if scn.travel is not None:
        pairs = scn.travel[["district", "lab", "hours"]].copy()
    else:
        lat1 = np.radians([d.lat for d in scn.districts])[:, None]
        lon1 = np.radians([d.lon for d in scn.districts])[:, None]
        lat2 = np.radians([lab.lat for lab in scn.labs])[None, :]
        lon2 = np.radians([lab.lon for lab in scn.labs])[None, :]
        a = (
            np.sin((lat2 - lat1) / 2) ** 2
            + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        )
        km = 2 * 6371.0 * np.arcsin(np.sqrt(np.minimum(1.0, a)))
        pairs = pd.DataFrame(
            {
                "district": np.repeat([d.code for d in scn.districts], len(scn.labs)),
                "lab": np.tile([lab.id for lab in scn.labs], len(scn.districts)),
                "hours": (km * scn.transport.road_factor / scn.transport.speed_kmh).ravel(),
            }
        )
    near = pairs[pairs["hours"] <= scn.policy.max_travel_hours + 1e-9][["district", "lab"]]
    # a unit's own labs are allowed whatever the time, and whether or not travel.csv lists them
    own = pd.DataFrame({"district": list(lab_district.values()), "lab": list(lab_district)})
    return pd.concat([near, own], ignore_index=True).drop_duplicates(ignore_index=True)


def _young_backlog(backlog: pd.Series, st: pd.DataFrame, wait: np.ndarray) -> np.ndarray:
    """Per status row (day t): the backlog samples of its unit and stream still within their
    wait limit at the end of day t (age <= wait - t)."""
    if backlog.empty:
        return np.zeros(len(st))
    rows = st[["district", "stream", "day"]].assign(_wait=wait, _row=np.arange(len(st)))
    both = rows.merge(backlog.reset_index(), on=["district", "stream"])
    young = both[both["age_days"] <= both["_wait"] - both["day"]]
    per_row = young.groupby("_row")["samples"].sum()
    out = np.zeros(len(st))
    out[per_row.index.to_numpy()] = per_row.to_numpy(dtype=float)
    return out


def _spoiled_before_their_time(st: pd.DataFrame, wait: np.ndarray, backlog: pd.Series) -> list[str]:
    """Samples called untested before their wait limit passed. Each unit and stream's samples
    are followed as cohorts by day of collection, tested oldest first: on day t only what is
    left of the cohorts of day t - max_wait or older may be untested. ``st``: status rows
    sorted by unit, stream and day, with demand and allocated; ``wait``: each row's wait;
    ``backlog``: samples waiting at the start of day 1 by unit, stream and age (collected on
    day 1 - age)."""
    out: list[str] = []
    rows = st[["district", "stream", "day", "demand", "allocated", "untested"]].to_numpy()
    start: dict[tuple, list[list[float]]] = {}  # the backlog's cohorts, oldest first
    for (district, stream, age), n in backlog.sort_index(ascending=False).items():
        start.setdefault((district, stream), []).append([1 - int(age), float(n)])
    queue: list[list[float]] = []  # [day collected, samples left], oldest first
    key = None
    for (district, stream, day, demand, tested, untested), w in zip(rows, wait, strict=True):
        if (district, stream) != key:
            key = (district, stream)
            queue = [list(c) for c in start.get(key, [])]
        queue.append([day, float(demand)])
        for bag in (tested, None):  # tests take the oldest first, then the expired spoil
            if bag is None:
                old = sum(n for d, n in queue if d <= day - w)
                if untested > old + TOL:
                    out.append(
                        f"{district}/{stream} day {day}: {untested:g} samples untested, but "
                        f"only {old:g} have reached the stream's wait limit"
                    )
                bag = untested
            take = float(bag)
            while take > TOL and queue:
                n = min(queue[0][1], take)
                queue[0][1] -= n
                take -= n
                if queue[0][1] <= TOL:
                    queue.pop(0)
    return out


def _urgency_violations(
    scn: Scenario, a: pd.DataFrame, st: pd.DataFrame, pairs: pd.DataFrame
) -> list[str]:
    """Lab-days that test less urgent samples claiming at least one expected reaction while a
    sample of a more urgent single-sample stream (one reaction) that the lab may test waits or
    spoils that day: the lab could have tested it in their place."""
    priority = {s.id: s.priority for s in scn.streams}
    single = [s for s in scn.streams if not s.poolable]
    out: list[str] = []
    if not single or a.empty:
        return out
    left = st[
        (st["waiting"] + st["untested"] >= 1 - TOL) & st["stream"].isin([s.id for s in single])
    ]
    if left.empty:
        return out
    a_pri = a["stream"].map(priority)
    for s in single:
        worse = a[a_pri > s.priority].groupby(["lab", "day"])["claim"].sum()
        worse = worse[worse >= 1 - TOL].rename("less_urgent").reset_index()
        if worse.empty:
            continue
        mine = left[left["stream"] == s.id].merge(pairs[["district", "lab"]], on="district")
        hit = mine.merge(worse, on=["lab", "day"])
        out += [
            f"day {r.day}: {r.lab} tests {r.less_urgent:.1f} reactions of samples less urgent "
            f"than {s.id} while {r.waiting + r.untested:g} {s.id} samples of {r.district} "
            f"that it may test are left waiting or untested"
            for r in hit.itertuples(index=False)
        ]
    return out


def _shipments(
    scn: Scenario, shipments: pd.DataFrame | None, days: int, v: list[str]
) -> tuple[dict, dict]:
    """Check the shipments against the supply routes and the stores' stock; returns the
    reactions sent and received per (node, day)."""
    sent: dict[tuple[str, int], float] = {}
    received: dict[tuple[str, int], float] = {}
    if shipments is None or shipments.empty:
        return sent, received
    routes = {
        (str(r.source), str(r.target)): r
        for r in getattr(scn, "supply_routes", pd.DataFrame()).itertuples(index=False)
    }
    per_route_day: dict[tuple[str, str, int], float] = {}
    for r in shipments.itertuples(index=False):
        where = f"shipment day {r.day} {r.source} -> {r.target}"
        route = routes.get((str(r.source), str(r.target)))
        q = float(r.reactions)
        if route is None:
            v.append(f"{where}: no supply route from {r.source} to {r.target}")
            continue
        if q <= 0 or q != round(q):
            v.append(f"{where}: {q:g} reactions is not a whole positive number")
        if int(r.arrival_day) != int(r.day) + int(route.lead_days):
            v.append(
                f"{where}: arrives day {r.arrival_day}, the route's lead time "
                f"({route.lead_days} d) gives day {int(r.day) + int(route.lead_days)}"
            )
        if not 1 <= int(r.day) <= int(r.arrival_day) <= days:
            v.append(f"{where}: sent or arriving outside days 1-{days}")
        key = (str(r.source), str(r.target), int(r.day))
        per_route_day[key] = per_route_day.get(key, 0.0) + q
        sent[(str(r.source), int(r.day))] = sent.get((str(r.source), int(r.day)), 0.0) + q
        at = (str(r.target), int(route.lead_days) + int(r.day))
        received[at] = received.get(at, 0.0) + q
    for (src, dst, day), q in per_route_day.items():
        most = pd.to_numeric(routes[(src, dst)].max_reactions, errors="coerce")
        if np.isfinite(most) and q > most + TOL:
            v.append(f"shipment day {day} {src} -> {dst}: {q:g} reactions, route limit {most:g}")
    arrivals = scn.store_arrivals.groupby(["store", "day"])["reactions"].sum().to_dict()
    for store in scn.stores.itertuples(index=False):
        stock = float(store.reagent_stock)
        for day in range(1, days + 1):
            stock += float(arrivals.get((store.id, day), 0.0))
            out = sent.get((str(store.id), day), 0.0)
            if out > stock + TOL * max(1.0, stock):
                v.append(f"store {store.id} day {day}: {out:g} reactions shipped, {stock:g} held")
            stock -= out
    return sent, received


def _collection(
    scn: Scenario, st: pd.DataFrame, kit_shipments: pd.DataFrame | None, days: int, v: list[str]
) -> None:
    """Samples not collected only at units the kits table lists, of poolable streams, whole
    and at most the demand; each unit's collected poolable samples within the kits it held
    and received (kit_arrivals and shipments), day by day; kit shipments from stores to units
    along routes, within the stores' kits and arrivals."""
    kits = {str(h): float(k) for h, k in zip(scn.kits["holder"], scn.kits["kits"], strict=True)}
    units = {d.code for d in scn.districts}
    poolable = {s.id: s.poolable for s in scn.streams}
    nc = st["not_collected"].to_numpy(dtype=float)
    bad = (nc < 0) | (nc != np.round(nc)) | (nc > st["demand"].to_numpy() + TOL)
    bad |= (nc > 0) & ~(st["district"].isin(kits) & st["stream"].map(poolable)).to_numpy()
    v += [
        f"day {r.day}, {r.district}/{r.stream}: {r.not_collected} not collected (only whole "
        f"poolable samples at a unit with a kits row, at most the demand {r.demand:g})"
        for r in st[bad].itertuples(index=False)
    ]
    routes = {
        (str(r.source), str(r.target)): r
        for r in scn.supply_routes.itertuples(index=False)
        if str(r.target) in units
    }
    received: dict[tuple[str, int], float] = {}
    for holder, day, n in scn.kit_arrivals[["holder", "day", "kits"]].itertuples(index=False):
        received[(str(holder), int(day))] = received.get((str(holder), int(day)), 0.0) + float(n)
    sent: dict[tuple[str, int], float] = {}
    for r in (kit_shipments if kit_shipments is not None else pd.DataFrame()).itertuples(
        index=False
    ):
        where = f"kit shipment day {r.day} {r.source} -> {r.target}"
        route = routes.get((str(r.source), str(r.target)))
        if route is None:
            v.append(f"{where}: no supply route from {r.source} to unit {r.target}")
            continue
        if int(r.arrival_day) != int(r.day) + int(route.lead_days) or int(r.arrival_day) > days:
            v.append(f"{where}: arrives day {r.arrival_day}, not day + lead time within 1-{days}")
        most = pd.to_numeric(route.max_reactions, errors="coerce")
        if np.isfinite(most) and float(r.kits) > most + TOL:
            v.append(f"{where}: {r.kits} kits, route limit {most:g}")
        at = (str(r.target), int(r.arrival_day))
        received[at] = received.get(at, 0.0) + float(r.kits)
        sent[(str(r.source), int(r.day))] = sent.get((str(r.source), int(r.day)), 0.0) + float(
            r.kits
        )
    for store in scn.stores["id"].astype(str):
        have = kits.get(store, 0.0)
        for day in range(1, days + 1):
            have += received.get((store, day), 0.0) - sent.get((store, day), 0.0)
            if have < -TOL:
                v.append(f"store {store} day {day}: {-have:g} kits shipped beyond its kits")
                break
    pooled = st[st["stream"].map(poolable)]
    collected = (
        (pooled["demand"] - pooled["not_collected"])
        .groupby([pooled["district"], pooled["day"]])
        .sum()
    )
    for unit in sorted(units & set(kits)):
        have = kits[unit]
        for day in range(1, days + 1):
            have += received.get((unit, day), 0.0) - float(collected.get((unit, day), 0.0))
            if have < -TOL:
                v.append(f"{unit} day {day}: {-have:g} more poolable samples collected than kits")
                break


def check_plan(
    scn: Scenario,
    allocations: pd.DataFrame,
    status: pd.DataFrame,
    shipments: pd.DataFrame | None = None,
    kit_shipments: pd.DataFrame | None = None,
) -> CheckReport:
    """Check a plan given as tables.

    allocations: day, district, stream, lab, samples, algorithm, config.
    status: day, district, stream, tested, waiting, untested (one row per unit, stream and
    day of the plan).
    shipments: day, source, target, reactions, arrival_day (reagent sent along the scenario's
    supply routes; none when omitted); kit_shipments: day, source, target, kits, arrival_day
    (collection kits from stores to units). With a kits table, status has not_collected: the
    samples a unit did not collect, which must fit what its kits allow.
    """
    rep = CheckReport()
    v = rep.violations
    pol = scn.policy
    days = int(status["day"].max()) if len(status) else 0
    a = allocations[["day", "district", "stream", "lab", "samples", "algorithm", "config"]].copy()
    # ---- every allocation: whole samples, reachable lab, allowed and validated design
    bad = a[(a["samples"] < 0) | (a["samples"] != np.round(a["samples"]))]
    v += [
        f"day {r.day}, {r.district}/{r.stream} -> {r.lab}: {r.samples} is not a whole "
        f"number of samples"
        for r in bad.itertuples(index=False)
    ]
    ok_pairs = _allowed_pairs(scn)[["district", "lab"]].assign(_ok=True)
    a = a.merge(ok_pairs, on=["district", "lab"], how="left")
    v += [
        f"day {r.day}, {r.district}/{r.stream} -> {r.lab}: lab not reachable from the unit "
        f"(travel limit {pol.max_travel_hours:g} h)"
        for r in a[a["_ok"].isna()].itertuples(index=False)
    ]
    poolable = {s.id: s.poolable for s in scn.streams}
    pooled_bad = a[~a["stream"].map(poolable) & (a["algorithm"] != "IT")]
    v += [
        f"day {r.day}, {r.district}/{r.stream}: stream may not be pooled, got {r.algorithm}"
        for r in pooled_bad.itertuples(index=False)
    ]
    max_pool = {lab.id: lab.max_pool_size for lab in scn.labs}
    largest = [
        1 if alg == "IT" else _largest_pool(alg, cfg)
        for alg, cfg in zip(a["algorithm"], a["config"], strict=False)
    ]
    over = np.asarray(largest) > a["lab"].map(max_pool).to_numpy()
    v += [
        f"day {r.day}, {r.district}/{r.stream} -> {r.lab}: {r.algorithm} {r.config} pools "
        f"more samples than the lab has validated ({max_pool[r.lab]})"
        for r in a[over].itertuples(index=False)
    ]
    # ---- reactions claimed: the design's expected reactions (+ retest reserve if pooled)
    # a day's prevalence is its demand row's, else the district-stream's base prevalence
    # (samples waiting from earlier days are tested on days without a demand row)
    prev = scn.demand.set_index(["day", "district", "stream"])["prevalence"]
    base = scn.prevalence.set_index(["district", "stream"])["prevalence"]
    on_day = prev.reindex(pd.MultiIndex.from_frame(a[["day", "district", "stream"]])).to_numpy()
    fallback = base.reindex(pd.MultiIndex.from_frame(a[["district", "stream"]])).to_numpy()
    a["prevalence"] = np.where(np.isnan(on_day), fallback, on_day)
    per = np.array(
        [
            _reactions_per_sample(alg, cfg, float(p), pol.pooling_se, pol.pooling_sp)
            for alg, cfg, p in zip(a["algorithm"], a["config"], a["prevalence"], strict=False)
        ]
    )
    # expected reactions (no reserve) in whole blocks: a partial last pool or array runs its
    # whole first stage
    shape = np.array(
        [_block(alg, cfg) for alg, cfg in zip(a["algorithm"], a["config"], strict=False)],
        dtype=float,
    ).reshape(-1, 2)
    n = a["samples"].to_numpy(dtype=float)
    size, first_stage = shape[:, 0], shape[:, 1]
    a["claim"] = np.ceil(n / size - 1e-9) * first_stage + n * (per - first_stage / size)
    used = a.groupby(["lab", "day"])["claim"].sum().to_dict()  # dicts: fast lookups
    delivered = scn.deliveries.groupby(["lab", "day"])["reactions"].sum().to_dict()
    sent, received = _shipments(scn, shipments, days, v)
    available = scn.lab_days.set_index(["lab", "day"])["available"].to_dict()
    for lab in scn.labs:
        full = _lab_capacity(lab, pol)
        stock = float(lab.reagent_stock)
        for day in range(1, days + 1):
            cap = full * float(available.get((lab.id, day), 1.0))
            stock += float(delivered.get((lab.id, day), 0.0))
            stock += received.get((lab.id, day), 0.0)
            u = float(used.get((lab.id, day), 0.0))
            out = sent.get((lab.id, day), 0.0)
            if u > cap + TOL * max(1.0, cap):
                v.append(f"{lab.id} day {day}: {u:.1f} reactions planned, capacity {cap:.0f}")
            if u + out > stock + TOL * max(1.0, stock):
                v.append(
                    f"{lab.id} day {day}: {u:.1f} reactions planned and {out:.0f} shipped, "
                    f"only {stock:.1f} reagent in stock"
                )
            stock -= u + out
    # ---- accounting for every unit, stream and day
    keep = ["day", "district", "stream", "tested", "waiting", "untested"]
    kits = "not_collected" in status.columns
    st = status[keep + (["not_collected"] if kits else [])].copy()
    st = st.sort_values(["district", "stream", "day"]).reset_index(drop=True)
    dem = scn.demand.set_index(["day", "district", "stream"])["samples"]
    st["demand"] = dem.reindex(
        pd.MultiIndex.from_frame(st[["day", "district", "stream"]]), fill_value=0
    ).to_numpy(dtype=float)
    if kits:  # the samples collected: what the kits allowed
        _collection(scn, st, kit_shipments, days, v)
        st["demand"] -= st["not_collected"]
    alloc_tested = a.groupby(["day", "district", "stream"])["samples"].sum()
    st["allocated"] = alloc_tested.reindex(
        pd.MultiIndex.from_frame(st[["day", "district", "stream"]]), fill_value=0
    ).to_numpy(dtype=float)
    grp = st.groupby(["district", "stream"], sort=False)
    first_day = grp.cumcount().to_numpy() == 0
    # the scenario's backlog: samples waiting at the start of day 1, by age
    backlog = scn.backlog.groupby(["district", "stream", "age_days"])["samples"].sum()
    before = backlog.groupby(level=[0, 1]).sum()
    keys = pd.MultiIndex.from_frame(st[["district", "stream"]])
    st["carry_in"] = np.where(
        first_day,
        before.reindex(keys, fill_value=0).to_numpy(dtype=float),
        grp["waiting"].shift(1, fill_value=0.0).to_numpy(),
    )
    st["cum_demand"] = grp["demand"].cumsum()
    wait = st["stream"].map({s.id: s.max_wait_days for s in scn.streams}).to_numpy()
    # demand collected within the wait limit: days t-wait+1 .. t, and the backlog's samples
    # collected then (age a: day 1 - a, so those of age <= wait - t)
    cum = st["cum_demand"].to_numpy()
    pos = np.arange(len(st)) - grp.cumcount().to_numpy()  # first row of each group
    idx = np.arange(len(st)) - wait
    older = np.where(idx >= pos, cum[np.clip(idx, 0, None)], 0.0)
    fresh = cum - older + _young_backlog(backlog, st, wait)
    expected_rows = len(scn.districts) * len(scn.streams) * days
    if len(st) != expected_rows:
        v.append(
            f"status has {len(st)} rows; expected one per unit, stream and day ({expected_rows})"
        )
    mismatch = (st["tested"] - st["allocated"]).abs() > TOL
    v += [
        f"{r.district}/{r.stream} day {r.day}: status says {r.tested} tested, allocations "
        f"{r.allocated}"
        for r in st[mismatch].itertuples(index=False)
    ]
    negative = (st[["tested", "waiting", "untested"]] < -TOL).any(axis=1)
    v += [
        f"{r.district}/{r.stream} day {r.day}: negative count"
        for r in st[negative].itertuples(index=False)
    ]
    balance = (
        st["allocated"] + st["waiting"] + st["untested"] - (st["carry_in"] + st["demand"])
    ).abs() > TOL
    v += [
        f"{r.district}/{r.stream} day {r.day}: tested {r.allocated} + waiting {r.waiting} + "
        f"untested {r.untested} != available {r.carry_in + r.demand}"
        for r in st[balance].itertuples(index=False)
    ]
    too_old = st["waiting"].to_numpy() > fresh + TOL
    v += [
        f"{r.district}/{r.stream} day {r.day}: {r.waiting} samples waiting beyond the "
        f"stream's wait limit"
        for r in st[too_old].itertuples(index=False)
    ]
    v += _spoiled_before_their_time(st, wait, backlog)
    v += _urgency_violations(scn, a, st, ok_pairs)
    totals = grp.agg(
        tested=("allocated", "sum"),
        untested=("untested", "sum"),
        demand=("demand", "sum"),
        waiting=("waiting", "last"),
    )
    came = totals["demand"] + before.reindex(totals.index, fill_value=0).astype(float)
    off = (totals["tested"] + totals["untested"] + totals["waiting"] - came).abs()
    v += [
        f"{d}/{s}: tested + untested + still waiting != waiting at the start + demand over "
        f"the horizon"
        for (d, s) in off[off > TOL].index
    ]
    rep.checked = {
        "allocations": len(allocations),
        "status_rows": len(status),
        "lab_days": len(scn.labs) * days,
    }
    return rep
