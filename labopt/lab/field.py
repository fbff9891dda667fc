"""Field pooling: swabs pooled into one tube at collection, so positives mean going back.

Many places pool at collection: the collectors put several people's swabs into one tube
(people of one address group, e.g. a residential cluster or a household list). The tube is the
first-stage pool. Nobody's own specimen is left, so when a tube tests positive its people must
be **re-sampled**; their new swabs then go through the rest of the design in the lab (D2: each
new swab on its own; D3: the new swabs pooled into the design's sub-pools, and so on). A tube
that is *invalid* is simply re-run.

The re-collection list groups the people by district and address group, so a team can visit
each group once, and says how much the trip adds to the result's turnaround.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from labopt.errors import InputError
from labopt.numbers import shown
from labopt.pooling.designs import Design

DEFAULT_RECOLLECTION_HOURS = 24.0


def recollection_list(
    decoding, recollection_hours: float = DEFAULT_RECOLLECTION_HOURS
) -> pd.DataFrame:
    """The people to re-sample, grouped by district and address group.

    Parameters
    ----------
    decoding : Decoding
        Of a field-pooling manifest.
    recollection_hours : float
        Hours from the positive tube's result to the new swabs arriving at the lab.

    Returns
    -------
    pandas.DataFrame
        One row per person: ``district``, ``address_group``, ``sample_id``, ``stream`` (when
        known), ``field_pool`` (the positive tube), ``next_pool`` (the pool the new swab goes
        into), ``stage`` and ``added_delay_hours``; sorted by district, address group and
        manifest order. Empty for lab pooling.
    """
    m = decoding.manifest
    cols = [
        "district",
        "address_group",
        "sample_id",
        "stream",
        "field_pool",
        "next_pool",
        "stage",
        "added_delay_hours",
    ]
    flag = decoding.recollect_mask
    pools = decoding.to_run[flag]
    if not m.field or pools.size == 0:
        return pd.DataFrame({c: [] for c in cols})
    p, s = m.members(pools)
    smp = m.samples.iloc[s]
    out = pd.DataFrame(
        {
            "district": smp["district"].to_numpy(),
            "address_group": smp["address_group"].to_numpy(),
            "sample_id": smp["sample_id"].to_numpy(),
            "stream": smp["stream"].to_numpy() if "stream" in smp.columns else "",
            "field_pool": m.pool_id[m.parent[p]],
            "next_pool": m.pool_id[p],
            "stage": m.stage[p],
            "added_delay_hours": float(recollection_hours),
            "_order": s,
        }
    )
    out = out.sort_values(["district", "address_group", "_order"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)


def recollection_summary(recollect: pd.DataFrame) -> pd.DataFrame:
    """People to re-sample per district and address group (a team's visiting list)."""
    if recollect.empty:
        return pd.DataFrame({"district": [], "address_group": [], "people": [], "field_pools": []})
    g = recollect.groupby(["district", "address_group"], sort=True)
    return pd.DataFrame(
        {"people": g.size(), "field_pools": g["field_pool"].nunique()}
    ).reset_index()


@dataclass(frozen=True)
class Turnaround:
    """Hours from collection to result.

    Attributes
    ----------
    cleared : float
        A sample cleared by its first-stage pool: transport + one PCR run.
    worst_case : float
        A sample that goes through every stage (field pooling: including its re-collection).
    added_by_field : float
        What field pooling adds to the worst case (0 in the lab).
    """

    cleared: float
    worst_case: float
    added_by_field: float


def turnaround_hours(
    design: Design,
    run_hours: float,
    *,
    transport_hours: float = 0.0,
    field: bool = False,
    recollection_hours: float = DEFAULT_RECOLLECTION_HOURS,
) -> Turnaround:
    """Turnaround of a design, one PCR run per stage (as the plan counts it).

    In the lab every stage is one more run: worst case = transport + stages x run_hours.
    With field pooling a positive tube sends a team back: its people's results take, after
    the first run, ``recollection_hours`` for re-sampling and the trip back to the lab
    (transport included), then the remaining stages' runs.

    Parameters
    ----------
    design : Design
    run_hours : float
        One PCR run, loading included (hours).
    transport_hours : float
        Collection point to the lab (hours).
    field : bool
    recollection_hours : float
        Hours from a positive tube's result to the new swabs arriving at the lab.
    """
    for name, v in (
        ("run_hours", run_hours),
        ("transport_hours", transport_hours),
        ("recollection_hours", recollection_hours),
    ):
        if not np.isfinite(v) or v < 0:
            raise InputError(f"{name}: must be a number of hours ≥ 0, got {shown(v)}", name)
    stages = design.stages
    cleared = transport_hours + run_hours
    lab_worst = transport_hours + stages * run_hours
    added = recollection_hours if field and stages > 1 else 0.0
    return Turnaround(cleared=cleared, worst_case=lab_worst + added, added_by_field=added)
