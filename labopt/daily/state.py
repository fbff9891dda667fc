"""The province's state carried to a date, and the scenario a morning's plan starts from.

From the workspace's first date, each day is carried over as it really went
(labopt.scenario.carry.next_day): the samples its units collected, those its labs tested, the
reactions they ran and counted, the reagent the stores and labs shipped, the collection kits
the units used (one per poolable sample collected), received, counted and the stores sent. A
past day without a record counts as nothing collected, tested, run or shipped (the plan says so
in its notes). The morning's scenario then has the samples still waiting (by age), each lab's
and store's reagent and each kit holder's kits on hand, the shipments still on their way as
deliveries (kit arrivals) on the day they arrive, and the
look-ahead days' demand: what the units recorded for those dates, else the forecast rule
(FORECAST_DAYS).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from labopt.daily.records import Records
from labopt.errors import InputError
from labopt.notes import Note
from labopt.scenario.carry import DayAccount, next_day
from labopt.scenario.model import Scenario

# a unit-stream-date without a record in a plan's days is forecast as the mean of what the unit
# collected on the FORECAST_DAYS days before the plan's date (a day without a record: none)
FORECAST_DAYS = 3
DEMAND_COLUMNS = ["day", "district", "stream", "samples", "prevalence"]


@dataclass
class Carried:
    """The state at the start of ``date``: ``scenario`` is the province with its labs' stock
    and backlog as they are then; ``accounts`` each earlier day's account (date, DayAccount);
    ``notes`` what a coordinator should know (days without records)."""

    date: dt.date
    scenario: Scenario
    accounts: list[tuple[dt.date, DayAccount]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


NOTES = {
    "en": {
        "no_tests": "{day}: no tests recorded; the {samples:,|sample|samples} collected that day "
        "or "
        "waiting count as not tested",
        "no_reagent_record": "{day}: {labs} recorded tests but no reagent used; their stock is "
        "not reduced for that day",
        "not_adding_up": "the records do not add up: {error}. Plans from later dates are "
        "refused until a correction is recorded",
    },
    "vi": {
        "no_tests": "{day}: chưa nhập kết quả xét nghiệm; {samples:,} mẫu lấy trong ngày hoặc "
        "đang chờ được tính là chưa xét nghiệm",
        "no_reagent_record": "{day}: {labs} đã nhập kết quả xét nghiệm nhưng chưa nhập sinh phẩm "
        "đã dùng; tồn kho của các phòng này không bị trừ cho ngày đó",
        "not_adding_up": "số liệu đã nhập không khớp: {error}. Kế hoạch cho các ngày sau bị từ "
        "chối cho đến khi nhập số liệu sửa lại",
    },
}


def note(key: str, /, **fields) -> Note:
    """A note on the carried state: NOTES[lang][key] with ``fields``."""
    return Note("labopt.daily.state:NOTES", key, **fields)


def carry_to(province: Scenario, records: Records, date: dt.date) -> Carried:
    """The state at the start of ``date`` (not before the province's start date)."""
    first = province.province.start_date
    if date < first:
        raise InputError(
            f"date: {date} is before the first date of the daily loop, {first}", "date"
        )
    state = Carried(first, province)
    day = first
    while day < date:
        scn = day_scenario(state.scenario, records, day, 1, forecast=False)
        # per lab, unit and stream: a count beyond the samples there names the labs
        tested = records.on("tested", day)[["lab", "district", "stream", "samples"]]
        reagent = records.on("reagent", day)
        used = dict(zip(reagent["lab"], reagent["used"].astype(float), strict=True))
        counted = {
            lab: int(c)
            for lab, c in zip(reagent["lab"], reagent["counted"], strict=True)
            if pd.notna(c)
        }
        collected = int(records.on("collected", day)["samples"].sum())
        waiting = int(state.scenario.backlog["samples"].sum())
        if (collected or waiting) and tested.empty:
            state.notes.append(note("no_tests", day=day, samples=collected + waiting))
        silent = sorted(set(records.on("tested", day)["lab"]) - set(reagent["lab"]))
        if silent:
            state.notes.append(note("no_reagent_record", day=day, labs=", ".join(silent)))
        shipped = records.on("shipments", day)[["source", "target", "reactions"]]
        kits_shipped = records.on("kit_shipments", day)[["source", "target", "kits"]]
        kc = records.on("kit_counts", day)
        kits_counted = dict(zip(kc["holder"], kc["kits"].astype("int64"), strict=True))
        try:
            nxt, account = next_day(scn, tested, used, counted, shipped, kits_shipped, kits_counted)
        except InputError as exc:
            raise InputError(f"records of {day}: {exc}", exc.parameter) from None
        state.accounts.append((day, account))
        state.scenario = replace(
            province,
            labs=nxt.labs,
            backlog=nxt.backlog,
            stores=nxt.stores,
            kits=nxt.kits,
        )
        day += dt.timedelta(days=1)
    state.date = date
    return state


def adds_up(province: Scenario, records: Records, today: dt.date | None = None) -> str | None:
    """Why the records do not add up (tests beyond the samples there, reactions run or sent,
    or kits used or sent, beyond what there was without a count), carried through the last
    day such a fault can show on: the labs' last record, the last shipment or count, and the
    units' last collection and kit arrival up to yesterday (``today``: the date today; later
    ones are what units expect, not what happened); None when they do. A change to an earlier
    day (a correction, a withdrawal, a replaced province) can break a later one, so this is
    asked after each."""
    kinds = ("tested", "reagent", "shipments", "kit_shipments", "kit_counts")
    last = last_record(records, kinds) or province.province.start_date
    yesterday = (today or dt.date.today()) - dt.timedelta(days=1)
    units = last_record(records, ("collected", "kit_arrivals"))
    if units is not None:
        last = max(last, min(units, yesterday))
    try:
        carry_to(province, records, max(last, province.province.start_date) + dt.timedelta(1))
    except InputError as exc:
        return note("not_adding_up", error=str(exc))
    return None


def day_scenario(
    base: Scenario, records: Records, date: dt.date, days: int, *, forecast: bool = True
) -> Scenario:
    """``base`` (the province with its state at ``date``) for ``days`` days from ``date``: the
    recorded demand of those dates, the forecast where a unit-stream-date has none
    (``forecast``), the deliveries, the stores' arrivals and lab availability recorded for
    them, the shipments sent before ``date`` that arrive in them (as deliveries, kits as kit
    arrivals), the kit arrivals recorded for them, and the
    latest prevalence estimates recorded before ``date``."""
    dates = [date + dt.timedelta(days=i) for i in range(days)]
    day_of = {d.isoformat(): i + 1 for i, d in enumerate(dates)}
    rec = records.collected[records.collected["date"].isin(day_of)]
    demand = pd.DataFrame(
        {
            "day": rec["date"].map(day_of).astype("int64"),
            "district": rec["district"],
            "stream": rec["stream"],
            "samples": rec["samples"].astype("int64"),
            "own": rec["prevalence"].astype(float),
        }
    )
    if forecast:
        demand = pd.concat([demand, _forecast(base, records, date, dates, demand)])
    prevalence = _prevalence(base, records, date)
    base_prev = prevalence.set_index(["district", "stream"])["prevalence"]
    table = base_prev.reindex(pd.MultiIndex.from_frame(demand[["district", "stream"]]))
    own = demand["own"].to_numpy(dtype=float)
    demand["prevalence"] = np.where(np.isnan(own), table.to_numpy(dtype=float), own)
    dl = records.deliveries[records.deliveries["date"].isin(day_of)]
    deliveries = pd.concat(
        [
            pd.DataFrame(
                {
                    "lab": dl["lab"],
                    "day": dl["date"].map(day_of).astype("int64"),
                    "reactions": dl["reactions"].astype("int64"),
                }
            ),
            _in_transit(base, records.shipments, date, day_of).rename(
                columns={"target": "lab", "amount": "reactions"}
            ),
        ]
    )
    deliveries = deliveries.groupby(["lab", "day"], as_index=False)["reactions"].sum()
    sa = records.store_arrivals[records.store_arrivals["date"].isin(day_of)]
    store_arrivals = pd.DataFrame(
        {
            "day": sa["date"].map(day_of).astype("int64"),
            "store": sa["store"],
            "reactions": sa["reactions"].astype("int64"),
        }
    )
    ka = records.kit_arrivals[records.kit_arrivals["date"].isin(day_of)]
    kit_arrivals = pd.concat(
        [
            pd.DataFrame(
                {
                    "holder": ka["holder"],
                    "day": ka["date"].map(day_of).astype("int64"),
                    "kits": ka["kits"].astype("int64"),
                }
            ),
            _in_transit(base, records.kit_shipments, date, day_of).rename(
                columns={"target": "holder", "amount": "kits"}
            ),
        ]
    )
    kit_arrivals = (
        kit_arrivals.groupby(["holder", "day"], as_index=False)["kits"]
        .sum()
        .astype({"day": "int64", "kits": "int64"})
    )
    av = records.availability[records.availability["date"].isin(day_of)]
    lab_days = pd.DataFrame(
        {
            "lab": av["lab"],
            "day": av["date"].map(day_of).astype("int64"),
            "available": av["available"].astype(float),
        }
    )
    province = base.province.model_copy(update={"start_date": date, "days": days})
    return replace(
        base,
        settings=base.settings.model_copy(update={"province": province}),
        demand=demand[DEMAND_COLUMNS]
        .sort_values(["day", "district", "stream"])
        .reset_index(drop=True),
        deliveries=deliveries[deliveries["reactions"] > 0].reset_index(drop=True),
        store_arrivals=store_arrivals[store_arrivals["reactions"] > 0].reset_index(drop=True),
        kit_arrivals=kit_arrivals.loc[
            kit_arrivals["kits"] > 0, ["day", "holder", "kits"]
        ].reset_index(drop=True),
        lab_days=lab_days.reset_index(drop=True),
        prevalence=prevalence,
    )


def _in_transit(
    base: Scenario, shipments: pd.DataFrame, date: dt.date, day_of: dict[str, int]
) -> pd.DataFrame:
    """``shipments`` (records of reagent or kits) sent before ``date`` that reach their target
    on one of the days ``day_of`` (target, day, amount): the lead time is the route's in
    ``base``."""
    sh = shipments[shipments["date"] < date.isoformat()]
    amount = "reactions" if "reactions" in shipments.columns else "kits"
    if sh.empty:
        return pd.DataFrame({"target": [], "day": [], "amount": []})
    lead = base.supply_routes.set_index(["source", "target"])["lead_days"]
    days = lead.reindex(pd.MultiIndex.from_frame(sh[["source", "target"]])).to_numpy()
    sent = pd.to_datetime(sh["date"]).dt.date
    arrival = [
        (d + dt.timedelta(days=int(n))).isoformat() if n == n else ""
        for d, n in zip(sent, days, strict=True)
    ]
    day = pd.Series(arrival, index=sh.index).map(day_of)
    on = day.notna()
    return pd.DataFrame(
        {
            "target": sh.loc[on, "target"],
            "day": day[on].astype("int64"),
            "amount": sh.loc[on, amount].astype("int64"),
        }
    )


def forecast_rows(base: Scenario, records: Records, date: dt.date) -> pd.DataFrame:
    """Per unit and stream: the forecast for a date from ``date`` on (district, stream,
    samples): the mean of the FORECAST_DAYS days before ``date`` (those from the province's
    start date, the workspace's first date, on: earlier days were never recorded), rounded
    to whole samples; none on the first date."""
    first = base.province.start_date
    days = [date - dt.timedelta(days=i) for i in range(1, FORECAST_DAYS + 1)]
    before = {d.isoformat() for d in days if d >= first}
    rec = records.collected[records.collected["date"].isin(before)]
    sums = rec.groupby(["district", "stream"])["samples"].sum()
    units = [d.code for d in base.districts]
    streams = [s.id for s in base.streams]
    index = pd.MultiIndex.from_product([units, streams], names=["district", "stream"])
    mean = sums.reindex(index, fill_value=0) / max(len(before), 1)
    return mean.round().astype("int64").rename("samples").reset_index()


def _forecast(
    base: Scenario, records: Records, date: dt.date, dates: list[dt.date], have: pd.DataFrame
) -> pd.DataFrame:
    """Demand rows for the unit-stream-dates without a record."""
    per = forecast_rows(base, records, date)
    per = per[per["samples"] > 0].assign(own=np.nan)
    rows = []
    for i in range(len(dates)):
        rows.append(per.assign(day=i + 1))
    if not rows:
        return pd.DataFrame(columns=["day", "district", "stream", "samples", "own"])
    all_rows = pd.concat(rows, ignore_index=True)
    key = pd.MultiIndex.from_frame(have[["day", "district", "stream"]])
    missing = ~pd.MultiIndex.from_frame(all_rows[["day", "district", "stream"]]).isin(key)
    return all_rows[missing][["day", "district", "stream", "samples", "own"]]


def forecast_count(scn: Scenario, records: Records, date: dt.date) -> int:
    """Unit-stream-days of ``scn`` (a plan's scenario from ``date``) without a record: their
    demand is the forecast (none on the workspace's first date)."""
    days = scn.province.days
    dates = {(date + dt.timedelta(days=i)).isoformat() for i in range(days)}
    recorded = records.collected[records.collected["date"].isin(dates)]
    total = len(scn.districts) * len(scn.streams) * days
    return total - len(recorded.drop_duplicates(["date", "district", "stream"]))


def last_record(
    records: Records, kinds: tuple[str, ...] = ("collected", "tested", "reagent")
) -> dt.date | None:
    """The latest date a record of ``kinds`` is for (None: no record)."""
    dates = [getattr(records, kind)["date"].max() for kind in kinds]
    found = [d for d in dates if isinstance(d, str) and d]
    return dt.date.fromisoformat(max(found)) if found else None


def _prevalence(base: Scenario, records: Records, date: dt.date) -> pd.DataFrame:
    """The province's prevalence table with each unit-stream's latest estimate recorded before
    ``date``."""
    est = records.prevalence[records.prevalence["date"] < date.isoformat()]
    out = base.prevalence.copy()
    if est.empty:
        return out
    latest = est.sort_values("date").drop_duplicates(["district", "stream"], keep="last")
    new = latest.set_index(["district", "stream"])["prevalence"]
    key = pd.MultiIndex.from_frame(out[["district", "stream"]])
    found = new.reindex(key)
    out["prevalence"] = np.where(
        found.notna().to_numpy(), found.to_numpy(dtype=float), out["prevalence"].to_numpy()
    )
    return out
