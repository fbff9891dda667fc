"""Daily updates to a scenario: a unit's own report for one day, and the planning window.

Each morning a district reports its risk level, its prevalence estimates and how many samples
it will send per stream (the Thanh Hóa dispatch asks district leaders to assess risk daily and
decide whom to sample, seed 002:25). These functions return a new Scenario; the original is
left unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

from labopt.errors import InputError
from labopt.scenario.io import scenario_from_data
from labopt.scenario.model import Scenario


@dataclass(frozen=True)
class DistrictDay:
    """One unit's report for one day. Streams not mentioned keep the scenario's values."""

    district: str
    date: dt.date
    epidemic_level: int | None = None
    prevalence: dict[str, float] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)


def day_of(scn: Scenario, date: dt.date, parameter: str = "date") -> int:
    """Day number (1 = start_date) of a calendar date inside the horizon; ``parameter`` names
    the date in the error otherwise."""
    day = (date - scn.province.start_date).days + 1
    if not 1 <= day <= scn.province.days:
        end = scn.date_of(scn.province.days)
        raise InputError(
            f"{parameter}: {date} is outside the scenario's horizon "
            f"{scn.province.start_date} .. {end}",
            parameter,
        )
    return day


def check_district_day(scn: Scenario, report: DistrictDay) -> None:
    """Raise ValueError naming the field when the report does not fit the scenario."""
    if report.district not in scn.district_by_code:
        raise InputError(f"district: unknown code {report.district!r}", "district")
    day_of(scn, report.date)
    if report.epidemic_level is not None and not 1 <= report.epidemic_level <= 4:
        raise InputError(
            f"epidemic_level: must be 1..4, got {report.epidemic_level}", "epidemic_level"
        )
    for name, values in (("prevalence", report.prevalence), ("samples", report.samples)):
        for stream, v in values.items():
            if stream not in scn.stream_by_id:
                raise InputError(
                    f"{name}.{stream}: unknown stream; streams: {', '.join(scn.stream_by_id)}",
                    f"{name}.{stream}",
                )
            if name == "prevalence" and not 0 <= v <= 1:
                raise InputError(
                    f"prevalence.{stream}: must be a fraction in [0, 1], got {v}",
                    f"prevalence.{stream}",
                )
            if name == "samples" and (v < 0 or int(v) != v):
                raise InputError(
                    f"samples.{stream}: must be a whole number >= 0, got {v}", f"samples.{stream}"
                )


def split_reports(
    scn: Scenario, reports: list[DistrictDay]
) -> tuple[list[DistrictDay], list[tuple[DistrictDay, str]]]:
    """The reports that fit the scenario, and those that do not with the reason: a report
    kept from an earlier version of the scenario may name a day outside its horizon now, or a
    unit or stream it no longer has. Such a report is history, not input."""
    fit, left = [], []
    for r in reports:
        try:
            check_district_day(scn, r)
        except ValueError as exc:
            left.append((r, str(exc)))
        else:
            fit.append(r)
    return fit, left


def apply_district_days(scn: Scenario, reports: list[DistrictDay]) -> Scenario:
    """The scenario with each report's samples and prevalence for its day (later reports in
    the list win), and the unit's epidemic level from the latest report."""
    demand = scn.demand.copy()
    key = demand.set_index(["day", "district", "stream"]).index
    districts = {d.code: d for d in scn.districts}
    added = []
    for r in reports:
        check_district_day(scn, r)
        day = day_of(scn, r.date)
        streams = set(r.samples) | set(r.prevalence)
        for stream in streams:
            idx = (day, r.district, stream)
            if idx in key:
                i = key.get_loc(idx)
                if stream in r.samples:
                    demand.iloc[i, demand.columns.get_loc("samples")] = int(r.samples[stream])
                if stream in r.prevalence:
                    demand.iloc[i, demand.columns.get_loc("prevalence")] = r.prevalence[stream]
            else:
                base = scn.prevalence[
                    (scn.prevalence["district"] == r.district)
                    & (scn.prevalence["stream"] == stream)
                ]["prevalence"]
                added.append(
                    {
                        "day": day,
                        "district": r.district,
                        "stream": stream,
                        "samples": int(r.samples.get(stream, 0)),
                        "prevalence": r.prevalence.get(stream, float(base.iloc[0])),
                    }
                )
        if r.epidemic_level is not None:
            districts[r.district] = districts[r.district].model_copy(
                update={"epidemic_level": r.epidemic_level}
            )
    if added:
        demand = pd.concat([demand, pd.DataFrame(added)], ignore_index=True)
        demand = demand.astype({"day": "int64", "samples": "int64"})
    return replace(scn, demand=demand, districts=[districts[d.code] for d in scn.districts])


def plan_window(scn: Scenario, start: dt.date | None = None, days: int | None = None) -> Scenario:
    """The scenario restricted to ``days`` days from ``start`` (default: its whole horizon),
    renumbered so that ``start`` is day 1. Reagent deliveries (to labs and to stores) before
    ``start`` are counted as in stock (the scenario's stock is that of its own start date:
    update it for a later plan).
    """
    start = scn.province.start_date if start is None else start
    first = day_of(scn, start, "start_date")
    left = scn.province.days - first + 1
    days = left if days is None else int(days)
    if not 1 <= days <= left:
        raise InputError(
            f"days: between 1 and {left} from {start} (the scenario ends on "
            f"{scn.date_of(scn.province.days)}), got {days}",
            "days",
        )
    if first == 1 and days == scn.province.days:
        return scn
    if first > 1 and len(scn.backlog):
        raise InputError(
            f"start_date: the scenario's backlog is what waits at the start of "
            f"{scn.province.start_date}; a plan from {start} needs the state of that day "
            f"(carry the scenario over day by day: labopt.scenario.carry.next_day)",
            "start_date",
        )
    shift = first - 1
    demand = days_window(scn.demand, shift, days)
    early, deliveries = arrivals_window(scn.deliveries, "lab", shift, days)
    labs = [
        lab.model_copy(update={"reagent_stock": lab.reagent_stock + int(early.get(lab.id, 0))})
        for lab in scn.labs
    ]
    lab_days = days_window(scn.lab_days, shift, days)
    early, store_arrivals = arrivals_window(scn.store_arrivals, "store", shift, days)
    stores = scn.stores.copy()
    stores["reagent_stock"] += stores["id"].map(early).fillna(0).astype("int64")
    early, kit_arrivals = arrivals_window(scn.kit_arrivals, "holder", shift, days, "kits")
    kits = with_kits(scn.kits, early)
    settings = scn.settings.model_copy(
        update={"province": scn.province.model_copy(update={"start_date": start, "days": days})}
    )
    return replace(
        scn,
        settings=settings,
        labs=labs,
        demand=demand,
        deliveries=deliveries,
        lab_days=lab_days,
        stores=stores,
        store_arrivals=store_arrivals,
        kits=kits,
        kit_arrivals=kit_arrivals,
    )


def with_kits(kits: pd.DataFrame, extra: pd.Series) -> pd.DataFrame:
    """The kits table with ``extra`` kits (per holder) added; a holder not listed gets a
    row."""
    held = kits.set_index("holder")["kits"].astype("int64")
    held = held.add(extra.astype("int64"), fill_value=0).astype("int64")
    return held.rename_axis("holder").reset_index()[["holder", "kits"]]


def days_window(table: pd.DataFrame, shift: int, days: int) -> pd.DataFrame:
    """The rows of days shift + 1 .. shift + days, renumbered from day 1."""
    out = table[(table["day"] > shift) & (table["day"] <= shift + days)].copy()
    out["day"] -= shift
    return out.reset_index(drop=True)


def arrivals_window(
    table: pd.DataFrame, at: str, shift: int, days: int, amount: str = "reactions"
) -> tuple[pd.Series, pd.DataFrame]:
    """What arrives before the window (``amount`` per ``at``: in stock on its first day), and
    the arrivals inside it, renumbered."""
    early = table[table["day"] <= shift].groupby(at)[amount].sum()
    return early, days_window(table, shift, days)


def planning_scenario(
    data: dict,
    reports: list[DistrictDay],
    start: dt.date | None,
    days: int | None,
    source: str,
) -> Scenario:
    """A stored scenario (its JSON form) with the districts' current reports that fit it (a
    report outside a replaced scenario's horizon stays in the history unapplied), cut to the
    planning window (``days`` from ``start``; default: the whole horizon)."""
    scn = scenario_from_data(data, source=source)
    applicable, _ = split_reports(scn, reports)
    scn = apply_district_days(scn, applicable)
    return plan_window(scn, start, days)
