"""Each past day's plan beside what happened: per day, per lab and per unit.

A day's plan is the one made for that date (day 1's samples and reactions per lab, unit and
stream: ``planned.csv`` in the workspace's ``plans/DATE/``, the ``planned`` table of the
service's daily plan); what happened is the records carried over
(labopt.daily.state). A day without a plan has blanks for the plan's columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from labopt.daily.state import Carried

PLANNED = "planned.csv"
PLANNED_COLUMNS = ["lab", "district", "stream", "samples", "reactions"]


def planned_table(rep) -> pd.DataFrame:
    """Day 1 of a plan per lab, unit and stream (samples, expected reactions), as
    ``planned.csv`` keeps it."""
    a = rep.allocations[rep.allocations["day"] == 1]
    return (
        a.groupby(["lab", "district", "stream"], as_index=False)[["samples", "reactions"]]
        .sum()
        .round({"reactions": 3})[PLANNED_COLUMNS]
    )


def planned_in(plans: Path) -> Callable[[dt.date], pd.DataFrame | None]:
    """The plan made for a date in a workspace's ``plans/`` folder (None: no plan)."""

    def planned(date: dt.date) -> pd.DataFrame | None:
        f = plans / date.isoformat() / PLANNED
        if not f.is_file():
            return None
        return pd.read_csv(f, dtype={"lab": str, "district": str, "stream": str})

    return planned


def history_tables(
    carried: Carried, records, planned: Callable[[dt.date], pd.DataFrame | None]
) -> dict[str, pd.DataFrame]:
    """Each day carried beside ``planned(date)``, the plan made for it (PLANNED_COLUMNS; None
    when no plan was made). ``days``: per date, samples collected, tested (and planned),
    untested, waiting at the end, the turnaround (tested the day they were collected, mean
    days waited), reactions run (and planned); ``labs``: per date and lab, samples tested and
    reactions run against the plan; ``units``: per date, unit and stream, the account, its
    turnaround and the samples planned. A day and a lab also have ``behind_plan`` and
    ``off_plan`` (see _deviation): both 0 where the plan was followed."""
    days, labs, units = [], [], []
    for date, acc in carried.accounts:
        plan = planned(date)
        sm = acc.samples
        used = float(acc.reagent["used"].sum())
        dev = _deviation(plan, records.on("tested", date))
        days.append(
            {
                "date": date.isoformat(),
                "collected": int(sm["collected"].sum()),
                "tested": int(sm["tested"].sum()),
                "planned_tested": np.nan if plan is None else int(plan["samples"].sum()),
                "untested": int(sm["untested"].sum()),
                "waiting": int(sm["waiting"].sum()),
                "tested_same_day": int(sm["tested_same_day"].sum()),
                "mean_wait_days": _mean_wait(sm["waited_days"].sum(), sm["tested"].sum()),
                "reactions_run": round(used, 1),
                "planned_reactions": np.nan
                if plan is None
                else round(float(plan["reactions"].sum()), 1),
                "behind_plan": np.nan if dev is None else int(dev["behind"].sum()),
                "off_plan": np.nan if dev is None else int(dev["off"].sum()),
            }
        )
        tested = records.on("tested", date).groupby("lab")["samples"].sum()
        run = acc.reagent.set_index("lab")["used"]
        p_lab = (
            plan.groupby("lab")[["samples", "reactions"]].sum()
            if plan is not None
            else pd.DataFrame(columns=["samples", "reactions"])
        )
        dev_lab = dev.groupby("lab")[["behind", "off"]].sum() if dev is not None else None
        for lab in sorted(set(tested.index) | set(run[run > 0].index) | set(p_lab.index)):
            labs.append(
                {
                    "date": date.isoformat(),
                    "lab": lab,
                    "tested": int(tested.get(lab, 0)),
                    "planned_tested": np.nan if plan is None else int(p_lab["samples"].get(lab, 0)),
                    "reactions_run": round(float(run.get(lab, 0.0)), 1),
                    "planned_reactions": np.nan
                    if plan is None
                    else round(float(p_lab["reactions"].get(lab, 0.0)), 1),
                    "behind_plan": np.nan
                    if dev_lab is None
                    else int(dev_lab["behind"].get(lab, 0)),
                    "off_plan": np.nan if dev_lab is None else int(dev_lab["off"].get(lab, 0)),
                }
            )
        p_unit = plan.groupby(["district", "stream"])["samples"].sum() if plan is not None else None
        for r in sm.itertuples(index=False):
            if not (r.waiting_before or r.collected or r.tested):
                continue
            units.append(
                {
                    "date": date.isoformat(),
                    "district": r.district,
                    "stream": r.stream,
                    "waiting_before": int(r.waiting_before),
                    "collected": int(r.collected),
                    "tested": int(r.tested),
                    "planned_tested": np.nan
                    if p_unit is None
                    else int(p_unit.get((r.district, r.stream), 0)),
                    "untested": int(r.untested),
                    "waiting": int(r.waiting),
                    "tested_same_day": int(r.tested_same_day),
                    "mean_wait_days": _mean_wait(r.waited_days, r.tested),
                }
            )
    return {
        "days": pd.DataFrame(days),
        "labs": pd.DataFrame(labs),
        "units": pd.DataFrame(units),
    }


def _mean_wait(days: float, tested: float) -> float:
    """The mean days a day's tested samples had waited since collection (NaN: none tested)."""
    return round(float(days) / float(tested), 2) if tested else np.nan


def _deviation(plan: pd.DataFrame | None, tested: pd.DataFrame) -> pd.DataFrame | None:
    """Per lab, unit and stream of a day: ``behind``, the samples the plan sent that lab and
    it did not test (they wait, or spoil, at a cost the next days' plans count), and ``off``,
    the samples it tested beyond the plan (from elsewhere, or from the day's backlog). None
    without a plan."""
    if plan is None:
        return None
    key = ["lab", "district", "stream"]
    p = plan.groupby(key)["samples"].sum()
    t = tested.groupby(key)["samples"].sum()
    both = pd.concat([p.rename("planned"), t.rename("tested")], axis=1).fillna(0)
    diff = both["planned"] - both["tested"]
    return pd.DataFrame(
        {"behind": diff.clip(lower=0), "off": (-diff).clip(lower=0)}, index=both.index
    ).reset_index()
