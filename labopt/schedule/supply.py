"""Reagent shipments: the province's stores and the routes between stores and labs, as arrays
for the plan, and the whole shipments a plan sends.

A shipment of z reactions sent on day t along a route of lead time L leaves its source's stock
on day t and can be used at its target from day t + L (within the horizon: a shipment that
would arrive after it is not sent). Stores hold reagent received from the national level
(their stock on day 1 and their arrivals); labs hold their own stock and deliveries, and may
pass reagent on along a route that starts at them.

Priorities (labopt.schedule.model): shipments cost a small fraction of the plan's preference
for testing earlier, so reagent moves only to let samples be tested (urgent first, as the
plan's tiers say) or, cheaper still, to keep a lab's safety stock (``reagent_cover_days`` of
its use that day) where stock allows; among shipments the plan prefers fewer reactions moved
and shorter lead times. Keeping cover is worth less than testing a sample a day earlier, so
the plan never holds back a test for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# per reaction, as shares of the plan's preference for testing a reaction's worth of the
# least urgent samples one day earlier (Weights.earlier): a day of missing cover, and a
# shipment (times 1 + its lead time)
COVER_SHARE = 0.1
SHIP_SHARE = 0.01
# "what it takes": a national store with all the reagent the labs could run, shipping to any
# lab on the day (what each lab must hold by then); its shipments cost this many times a
# route's, so the province's own stock goes first
NATIONAL = "national"
NATIONAL_COST = 10.0
COLUMNS = ["day", "source", "target", "reactions", "arrival_day"]
KIT_COLUMNS = ["day", "source", "target", "kits", "arrival_day"]


@dataclass
class Supply:
    """The supply network over a plan's T days. Nodes: stores 0..ns-1, then labs ns..ns+nl-1
    (in the plan's lab order)."""

    store_ids: list[str]
    store_stock: np.ndarray  # (nst, T) reactions received by the end of day t (cumulative)
    source: np.ndarray  # (nr,) node of each route's source
    target: np.ndarray  # (nr,) lab index of each route's target
    lead: np.ndarray  # (nr,) days
    limit: np.ndarray  # (nr,) largest shipment a day (inf: none)
    cover_days: float  # safety stock, days of a lab's use that day
    # collection kits: the units whose poolable samples need them (the kits table lists them),
    # their kits and the stores' on day 1, and the routes that carry kits (store -> unit)
    kit_units: np.ndarray  # (nku,) unit index
    unit_kits: np.ndarray  # (nku, T) kits arriving on each day, day 1's stock included
    store_kits: np.ndarray  # (nst, T) kits, the same way
    kit_source: np.ndarray  # (nkr,) store index
    kit_target: np.ndarray  # (nkr,) index into kit_units
    kit_lead: np.ndarray  # (nkr,) days
    kit_limit: np.ndarray  # (nkr,) largest shipment a day (inf: none)

    # (nr,) a route's cost per reaction, times (None: 1); a national route's (NATIONAL) also
    # falls day by day, so it ships just in time and "by day D" is the day it is needed
    cost_factor: np.ndarray | None = None
    national: np.ndarray | None = None  # (nr,) bool

    @property
    def nku(self) -> int:
        return int(self.kit_units.size)

    @property
    def nkr(self) -> int:
        return int(self.kit_source.size)

    @property
    def nst(self) -> int:
        return len(self.store_ids)

    @property
    def nr(self) -> int:
        return int(self.source.size)

    def node_name(self, node: int, lab_ids: list[str]) -> str:
        return self.store_ids[node] if node < self.nst else lab_ids[node - self.nst]

    def sendable(self, days: int) -> np.ndarray:
        """(nr, T) bool: a reagent shipment sent that day arrives within the horizon."""
        return arrives(self.lead, days)


def arrives(lead: np.ndarray, days: int) -> np.ndarray:
    """(routes, T) bool: a shipment sent that day on a route of ``lead`` days arrives within
    the horizon."""
    return (np.arange(days)[None, :] + lead[:, None]) < days


def supply_of(
    scn, lab_ids: list[str], unit_codes: list[str], days: int, national: float = 0.0
) -> Supply | None:
    """The scenario's supply network over ``days`` days, or None when it has no route and
    no kits. ``national`` > 0: with a national store (NATIONAL) holding that many reactions."""
    routes = scn.supply_routes
    if routes.empty and scn.kits.empty and scn.kit_arrivals.empty:
        return None
    stores = scn.stores
    if national > 0:
        stores = pd.concat(
            [
                stores,
                pd.DataFrame({"id": [NATIONAL], "name": [NATIONAL], "reagent_stock": [national]}),
            ],
            ignore_index=True,
        )
        extra = pd.DataFrame(
            {"source": NATIONAL, "target": lab_ids, "lead_days": 0, "max_reactions": np.nan}
        )
        routes = pd.concat([routes, extra], ignore_index=True)
    store_ids = [str(s) for s in stores["id"]]
    si = {s: i for i, s in enumerate(store_ids)}
    li = {lab: len(store_ids) + i for i, lab in enumerate(lab_ids)}
    stock = np.zeros((len(store_ids), days))
    stock[:, 0] = stores["reagent_stock"].to_numpy(dtype=float) if len(stores) else 0.0
    for store, day, r in scn.store_arrivals[["store", "day", "reactions"]].itertuples(index=False):
        if int(day) <= days:
            stock[si[store], int(day) - 1] += float(r)
    kits = dict(zip(scn.kits["holder"], scn.kits["kits"], strict=True))
    units = [i for i, code in enumerate(unit_codes) if code in kits]
    ki = {unit_codes[u]: k for k, u in enumerate(units)}
    unit_kits = np.zeros((len(units), days))
    unit_kits[:, 0] = [float(kits[unit_codes[u]]) for u in units]
    store_kits = np.zeros((len(store_ids), days))
    store_kits[:, 0] = [float(kits.get(s, 0)) for s in store_ids]
    for holder, day, n in scn.kit_arrivals[["holder", "day", "kits"]].itertuples(index=False):
        if int(day) <= days:
            at = (unit_kits, ki[holder]) if holder in ki else (store_kits, si[holder])
            at[0][at[1], int(day) - 1] += float(n)
    to_units = routes[routes["source"].isin(si) & routes["target"].isin(ki)]
    kit_limit = pd.to_numeric(to_units["max_reactions"], errors="coerce").to_numpy(dtype=float)
    keep = routes["source"].map(lambda s: s in si or s in li) & routes["target"].isin(li)
    routes = routes[keep]
    limit = pd.to_numeric(routes["max_reactions"], errors="coerce").to_numpy(dtype=float)
    return Supply(
        store_ids=store_ids,
        store_stock=np.cumsum(stock, axis=1),
        source=np.array([si[s] if s in si else li[s] for s in routes["source"]], dtype=np.int64),
        target=np.array([li[t] - len(store_ids) for t in routes["target"]], dtype=np.int64),
        lead=routes["lead_days"].to_numpy(dtype=np.int64),
        limit=np.where(np.isfinite(limit), limit, np.inf),
        cover_days=float(scn.policy.reagent_cover_days),
        kit_units=np.array(units, dtype=np.int64),
        unit_kits=unit_kits,
        store_kits=store_kits,
        kit_source=np.array([si[s] for s in to_units["source"]], dtype=np.int64),
        kit_target=np.array([ki[t] for t in to_units["target"]], dtype=np.int64),
        kit_lead=to_units["lead_days"].to_numpy(dtype=np.int64),
        kit_limit=np.where(np.isfinite(kit_limit), kit_limit, np.inf),
        cost_factor=np.where(routes["source"] == NATIONAL, NATIONAL_COST, 1.0),
        national=(routes["source"] == NATIONAL).to_numpy(),
    )


def net_received(sup: Supply, z: np.ndarray, nl: int) -> tuple[np.ndarray, np.ndarray]:
    """(labs (nl, T), stores (nst, T)): reagent each node gains by the end of day t from
    shipments ``z`` (nr, T) sent on each day, cumulative: arrivals in minus shipments out."""
    T = z.shape[1]
    labs = np.zeros((nl, T))
    stores = np.zeros((sup.nst, T))
    for r in range(sup.nr):
        for t in np.flatnonzero(z[r] > 0):
            q = z[r, t]
            src = int(sup.source[r])
            if src < sup.nst:
                stores[src, t] -= q
            else:
                labs[src - sup.nst, t] -= q
            labs[sup.target[r], t + sup.lead[r]] += q
    return np.cumsum(labs, axis=1), np.cumsum(stores, axis=1)


def lab_sent(sup: Supply, z: np.ndarray, nl: int) -> np.ndarray:
    """(nl, T) reactions each lab sends along its routes on each day."""
    out = np.zeros((nl, z.shape[1]))
    mine = sup.source >= sup.nst
    np.add.at(out, sup.source[mine] - sup.nst, z[mine])
    return out


def whole_shipments(sup: Supply, z: np.ndarray, reagent_cum: np.ndarray) -> np.ndarray:
    """(nr, T) whole reactions from the LP's shipments ``z``: rounded down, then cut (latest
    first) wherever a source would send reagent it does not hold, stores and labs alike (a
    lab's own use is left to the rounding, which keeps within what the lab holds)."""
    w = np.floor(z + 1e-6)
    w[~sup.sendable(z.shape[1])] = 0.0
    nl = reagent_cum.shape[0]
    for _ in range(4 * sup.nr * z.shape[1] + 1):
        labs, stores = net_received(sup, w, nl)
        held = np.vstack([sup.store_stock + stores, reagent_cum + labs])
        short = np.argwhere(held < -1e-9)
        if short.size == 0:
            return w
        node, t = (int(v) for v in short[0])
        missing = -held[node, t]
        for r in np.flatnonzero(sup.source == node):
            for d in range(t, -1, -1):
                cut = min(w[r, d], np.ceil(missing - 1e-9))
                w[r, d] -= cut
                missing -= cut
                if missing <= 1e-9:
                    break
            if missing <= 1e-9:
                break
    raise AssertionError("shipments could not be cut to the stock")  # pragma: no cover


def shipments_table(sup: Supply, w: np.ndarray, lab_ids: list[str]) -> pd.DataFrame:
    """One row per shipment (whole reactions > 0): day sent, source, target, reactions and the
    day it can be used (1-based days)."""
    r, t = np.nonzero(w > 0)
    return pd.DataFrame(
        {
            "day": t + 1,
            "source": [sup.node_name(int(sup.source[i]), lab_ids) for i in r],
            "target": [lab_ids[int(sup.target[i])] for i in r],
            "reactions": w[r, t].astype(np.int64),
            "arrival_day": t + 1 + sup.lead[r],
        },
        columns=COLUMNS,
    ).sort_values(["day", "source", "target"], ignore_index=True)


def whole_kits(
    sup: Supply,
    inp_demand: np.ndarray,
    poolable: np.ndarray,
    priority: np.ndarray,
    kit_ships: np.ndarray,
    uncollected: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(kit shipments (nkr, T), samples collected (nd, ns, T)) in whole kits and samples from
    the LP's: shipments rounded down and cut (latest first) where a store would send kits it
    does not hold; at each kit unit, the LP's collected samples rounded down, then fewer of
    the least urgent poolable streams wherever the unit would collect more than the kits it
    has received."""
    T = kit_ships.shape[1]
    y = np.floor(kit_ships + 1e-6)
    y[~arrives(sup.kit_lead, T)] = 0.0
    for st in range(sup.nst):
        mine = np.flatnonzero(sup.kit_source == st)
        held = np.cumsum(sup.store_kits[st])
        sent = np.cumsum(y[mine].sum(axis=0))
        for late in np.flatnonzero(sent > held + 1e-9).tolist():
            missing = np.cumsum(y[mine].sum(axis=0))[late] - held[late]
            for r in mine:
                for day in range(late, -1, -1):
                    cut = max(min(y[r, day], missing), 0.0)
                    y[r, day] -= cut
                    missing -= cut
    collected = inp_demand.copy()
    pool = np.flatnonzero(poolable)
    order = pool[np.argsort(-priority[pool], kind="stable")]  # least urgent first
    received = np.zeros((sup.nku, T))
    for route in range(sup.nkr):
        lead = int(sup.kit_lead[route])
        received[sup.kit_target[route], lead:] += y[route, : T - lead]
    for k, unit in enumerate(sup.kit_units.tolist()):
        lp = np.floor(inp_demand[unit][pool] - uncollected[k] + 1e-6)
        collected[unit, pool] = np.clip(lp, 0, None)
        have = np.cumsum(sup.unit_kits[k] + received[k])
        used = 0.0
        for t in range(T):
            used += collected[unit, pool, t].sum()
            excess = used - have[t]
            for s in order:
                if excess <= 1e-9:
                    break
                cut = min(collected[unit, s, t], np.ceil(excess - 1e-9))
                collected[unit, s, t] -= cut
                used -= cut
                excess -= cut
    return y, collected


def kit_shipments_table(sup: Supply, y: np.ndarray, unit_codes: list[str]) -> pd.DataFrame:
    """One row per kit shipment (whole kits > 0): day sent, store, unit, kits and the day
    they can be used (1-based days)."""
    r, t = np.nonzero(y > 0)
    return pd.DataFrame(
        {
            "day": t + 1,
            "source": [sup.store_ids[int(sup.kit_source[i])] for i in r],
            "target": [unit_codes[int(sup.kit_units[sup.kit_target[i]])] for i in r],
            "kits": y[r, t].astype(np.int64),
            "arrival_day": t + 1 + sup.kit_lead[r],
        },
        columns=KIT_COLUMNS,
    ).sort_values(["day", "source", "target"], ignore_index=True)


def settle(sup: Supply, w: np.ndarray, own: np.ndarray, used: np.ndarray) -> np.ndarray:
    """The whole shipments ``w`` (routes, T) once the whole-sample plan is known, ``own``
    (nl, T) being each lab's reagent received by the end of each day without shipments and
    ``used`` (nl, T) its reactions that day:

    1. a lab left below its safety stock at the end of a day (cover_days x that day's use)
       gets what is missing from a store that still holds it, along a route that arrives in
       time (the rounding may use more reagent than the LP did);
    2. a route's shipments are merged into its first one wherever the source can spare the
       reagent that much earlier: fewer shipments, each lab holding its reagent sooner.

    No source ever sends more than it holds, and no lab holds less than before."""
    w = w.copy()
    T = w.shape[1]
    route_store = sup.source < sup.nst

    def held() -> np.ndarray:  # (nodes, T) end of each day: stores' stock, labs' left
        labs, stores = net_received(sup, w, own.shape[0])
        return np.vstack([sup.store_stock + stores, own + labs - np.cumsum(used, axis=1)])

    if sup.cover_days > 0:
        for t in range(T):
            for lab in range(own.shape[0]):
                h = held()
                missing = sup.cover_days * used[lab, t] - h[sup.nst + lab, t]
                for r in np.flatnonzero(route_store & (sup.target == lab)).tolist():
                    send = t - int(sup.lead[r])
                    if missing < 0.5 or send < 0:
                        continue
                    room = min(h[sup.source[r], send:].min(), sup.limit[r] - w[r, send])
                    q = np.floor(min(missing, room) + 1e-9)
                    if q >= 1:
                        w[r, send] += q
                        missing -= q
                        h = held()
    for r in range(sup.nr):
        if sup.national is not None and sup.national[r]:
            continue  # what the province must receive, day by day: just in time
        days = np.flatnonzero(w[r] > 0)
        first = int(days[0]) if days.size else 0
        for d in days[1:].tolist():
            h = held()
            q = w[r, d]
            spare = h[sup.source[r], first:d].min() if d > first else np.inf
            if spare >= q - 1e-9 and w[r, first] + q <= sup.limit[r] + 1e-9:
                w[r, first] += q
                w[r, d] = 0.0
            else:
                first = d
    return w
