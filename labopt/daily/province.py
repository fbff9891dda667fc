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
from labopt.errors import InputError
from labopt.scenario.model import Scenario


def check_carried(scn: Scenario, what: str = "scenario") -> None:
    """InputError for what the loop does not carry from day to day yet (shipments, kits)."""
    if len(scn.supply_routes) or len(scn.kits):
        raise InputError(
            f"{what}: the daily loop does not carry reagent shipments or collection kits from "
            f"day to day yet; remove supply_routes.csv and kits.csv (or their sheets) to run "
            f"the daily loop on this province",
            "scenario",
        )


def static_part(scn: Scenario) -> Scenario:
    """The province without its dated tables (they are records in the loop)."""
    return replace(
        scn,
        demand=scn.demand.iloc[0:0],
        deliveries=scn.deliveries.iloc[0:0],
        lab_days=scn.lab_days.iloc[0:0],
    )


def first_records(scn: Scenario) -> dict[str, pd.DataFrame]:
    """The scenario's dated tables as records of each kind (RECORDS' columns, dates as ISO
    text): demand as collected samples (with the day's own prevalence where the demand table
    gives one), deliveries, and lab availability."""
    out = {kind: t.empty_frame() for kind, t in RECORDS.items()}
    dates = {day: scn.date_of(day).isoformat() for day in range(1, scn.province.days + 1)}

    def dated(table: pd.DataFrame, **columns) -> pd.DataFrame:
        return pd.DataFrame({"date": table["day"].map(dates), **columns}).reset_index(drop=True)

    d, ld, dl = scn.demand, scn.lab_days, scn.deliveries
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
    return out


def _own_prevalence(scn: Scenario) -> np.ndarray:
    """Each demand row's prevalence where it differs from the province's table (its own
    estimate), else NaN (blank: the table's)."""
    base = scn.prevalence.set_index(["district", "stream"])["prevalence"]
    d = scn.demand
    table = base.reindex(pd.MultiIndex.from_frame(d[["district", "stream"]])).to_numpy()
    own = d["prevalence"].to_numpy(dtype=float)
    return np.where(np.isclose(own, table, rtol=0, atol=1e-12), np.nan, own)


def merged_records(scn: Scenario, uploaded: dict[str, pd.DataFrame]) -> Records:
    """The current records of a loop kept as ``scn`` and the groups uploaded since (per kind,
    RECORDS' columns and UPLOAD, one upload per group): the scenario's first records, each
    group replaced by the uploaded one where there is one."""
    first = first_records(scn)
    out = {}
    for kind in RECORDS:
        base = first[kind].assign(**{UPLOAD: 0})
        up = uploaded.get(kind)
        if up is None or up.empty:
            both = base
        elif base.empty:
            both = up
        else:
            both = pd.concat([base, up], ignore_index=True)
        out[kind] = current(both, kind)
    return Records(**out)
