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
COLUMNS = ["day", "source", "target", "reactions", "arrival_day"]


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

    @property
    def nst(self) -> int:
        return len(self.store_ids)

    @property
    def nr(self) -> int:
        return int(self.source.size)

    def node_name(self, node: int, lab_ids: list[str]) -> str:
        return self.store_ids[node] if node < self.nst else lab_ids[node - self.nst]

    def sendable(self, days: int) -> np.ndarray:
        """(nr, T) bool: a shipment sent that day arrives within the horizon."""
        return (np.arange(days)[None, :] + self.lead[:, None]) < days


def supply_of(scn, lab_ids: list[str], days: int) -> Supply | None:
    """The scenario's supply network over ``days`` days, or None when it has no route."""
    routes = getattr(scn, "supply_routes", None)
    if routes is None or routes.empty:
        return None
    stores = scn.stores
    store_ids = [str(s) for s in stores["id"]]
    si = {s: i for i, s in enumerate(store_ids)}
    li = {lab: len(store_ids) + i for i, lab in enumerate(lab_ids)}
    stock = np.zeros((len(store_ids), days))
    stock[:, 0] = stores["reagent_stock"].to_numpy(dtype=float) if len(stores) else 0.0
    for store, day, r in scn.store_arrivals[["store", "day", "reactions"]].itertuples(index=False):
        if int(day) <= days:
            stock[si[store], int(day) - 1] += float(r)
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
        cover_days=float(getattr(scn.policy, "reagent_cover_days", 0.0)),
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
