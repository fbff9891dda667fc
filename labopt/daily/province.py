"""A scenario as the start of a daily loop: its static part, and its dated tables (demand,
deliveries, lab availability) as the first records.

The CLI's workspace (labopt.daily.workspace) and the service keep these the same way: the
province's start date is the loop's first date, its labs' stock and its backlog are the state
at the start of that day.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from labopt.daily.records import RECORDS, UPLOAD, Records, current
from labopt.scenario.model import Scenario


def static_part(scn: Scenario) -> Scenario:
    """The province without its dated tables (they are records in the loop)."""
    return replace(
        scn,
        demand=scn.demand.iloc[0:0],
        deliveries=scn.deliveries.iloc[0:0],
        lab_days=scn.lab_days.iloc[0:0],
        store_arrivals=scn.store_arrivals.iloc[0:0],
        kit_arrivals=scn.kit_arrivals.iloc[0:0],
    )


def first_records(scn: Scenario) -> dict[str, pd.DataFrame]:
    """The scenario's dated tables as records of each kind (RECORDS' columns, dates as ISO
    text): demand as collected samples (with the day's own prevalence where the demand table
    gives one), deliveries, lab availability, the stores' arrivals and kit arrivals."""
    out = {kind: t.empty_frame() for kind, t in RECORDS.items()}
    dates = {day: scn.date_of(day).isoformat() for day in range(1, scn.province.days + 1)}

    def dated(table: pd.DataFrame, **columns) -> pd.DataFrame:
        return pd.DataFrame({"date": table["day"].map(dates), **columns}).reset_index(drop=True)

    d, ld, dl, sa = scn.demand, scn.lab_days, scn.deliveries, scn.store_arrivals
    ka = scn.kit_arrivals
    if len(d):
        out["collected"] = dated(
            d,
            district=d["district"],
            stream=d["stream"],
            samples=d["samples"].astype("int64"),
            prevalence=_own_prevalence(scn),
        )
    if len(ld):
        out["availability"] = dated(ld, lab=ld["lab"], available=ld["available"].astype(float))
    if len(dl):
        out["deliveries"] = dated(dl, lab=dl["lab"], reactions=dl["reactions"].astype("int64"))
    if len(sa):
        out["store_arrivals"] = dated(
            sa, store=sa["store"], reactions=sa["reactions"].astype("int64")
        )
    if len(ka):
        out["kit_arrivals"] = dated(ka, holder=ka["holder"], kits=ka["kits"].astype("int64"))
    return out


def _own_prevalence(scn: Scenario) -> np.ndarray:
    """Each demand row's prevalence where it differs from the province's table (its own
    estimate), else NaN (blank: the table's)."""
    base = scn.prevalence.set_index(["district", "stream"])["prevalence"]
    d = scn.demand
    table = base.reindex(pd.MultiIndex.from_frame(d[["district", "stream"]])).to_numpy()
    own = d["prevalence"].to_numpy(dtype=float)
    return np.where(np.isclose(own, table, rtol=0, atol=1e-12), np.nan, own)


def unfit(scn: Scenario, kind: str, rows: pd.DataFrame) -> pd.Series:
    """Per row of records of ``kind``: why it no longer fits ``scn`` (a unit, lab, stream,
    store, unit limited by kits or supply route it lacks, a date before its start date), ""
    where it fits. Records
    stored before the scenario was replaced can be such rows."""
    why = pd.Series("", index=rows.index, dtype=object)
    if rows.empty:
        return why
    labs = {lab.id for lab in scn.labs}
    stores = set(scn.stores["id"])
    kit_units = set(scn.kits["holder"]) - stores
    kits = kind.startswith("kit_")
    known = {
        "district": {d.code for d in scn.districts},
        "lab": labs,
        "stream": {s.id for s in scn.streams},
        "store": stores,
        "source": stores if kits else stores | labs,
        "target": kit_units if kits else labs,
        "holder": stores | kit_units,
    }
    for column in RECORDS[kind].column_names:
        if column in known:
            bad = ~rows[column].isin(known[column])
            why[bad & (why == "")] = f"no {column} " + rows.loc[bad, column].astype(str)
    if kind in ("shipments", "kit_shipments"):
        routes = pd.MultiIndex.from_frame(scn.supply_routes[["source", "target"]])
        off = ~pd.MultiIndex.from_frame(rows[["source", "target"]]).isin(routes)
        why[off & (why == "")] = (
            "no supply route " + rows.loc[off, "source"] + " -> " + rows.loc[off, "target"]
        )
    early = rows["date"].astype(str) < scn.province.start_date.isoformat()
    why[early & (why == "")] = f"before the start date {scn.province.start_date}"
    return why


def routes_changed(old: Scenario, new: Scenario, records: Records) -> list[str]:
    """The supply routes that shipments (of reagent or kits) already recorded went along and
    that ``new`` (to replace ``old``) lacks or gives another lead time: what was sent, and when
    it arrived, would change. One line per route, naming its first shipment."""
    sh = pd.concat(
        [
            records.shipments.assign(amount=records.shipments["reactions"], unit="reactions"),
            records.kit_shipments.assign(amount=records.kit_shipments["kits"], unit="kits"),
        ]
    )
    if sh.empty:
        return []
    before = old.supply_routes.set_index(["source", "target"])["lead_days"]
    after = new.supply_routes.set_index(["source", "target"])["lead_days"]
    out = []
    for (source, target), rows in sh.groupby(["source", "target"], sort=True):
        first = rows.sort_values("date").iloc[0]
        sent = f"carried {int(first['amount']):,} {first['unit']} on {first['date']}"
        if (source, target) not in after.index:
            out.append(f"the route {source} -> {target} {sent}; the new province has none")
        elif (source, target) in before.index and int(after[(source, target)]) != int(
            before[(source, target)]
        ):
            out.append(
                f"the route {source} -> {target} {sent} with a lead of "
                f"{int(before[(source, target)])} days; the new province gives "
                f"{int(after[(source, target)])}"
            )
    return out


def merged_records(scn: Scenario, uploaded: dict[str, pd.DataFrame]) -> Records:
    """The current records of a loop kept as ``scn`` and the groups uploaded since (per kind,
    RECORDS' columns and UPLOAD, one upload per group): the scenario's first records, each
    group replaced by the uploaded one where there is one. Uploaded rows that no longer fit
    the scenario (:func:`unfit`) are left out."""
    first = first_records(scn)
    out = {}
    for kind in RECORDS:
        base = first[kind].assign(**{UPLOAD: 0})
        up = uploaded.get(kind)
        if up is not None and len(up):
            up = up[(unfit(scn, kind, up) == "").to_numpy()]
        if up is None or up.empty:
            both = base
        elif base.empty:
            both = up
        else:
            both = pd.concat([base, up], ignore_index=True)
        out[kind] = current(both, kind)
    return Records(**out)
