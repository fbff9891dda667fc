"""The dated records of a province workspace, their columns and their checks.

Every upload is kept (corrections keep the history): each row carries the upload it came from
(``upload``, a sequence number) and when it was recorded (``recorded_at``, UTC). The current
records are, for each group an upload covers (a lab's day for what labs report, a unit's day for
what units report), the rows of the latest upload that covers it: uploading a lab's day again
replaces that lab's day whole, so the same upload twice leaves the same state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np
import pandas as pd

from labopt.errors import InputError
from labopt.scenario.errors import Problem
from labopt.scenario.model import Scenario
from labopt.scenario.schema import Column, Table
from labopt.scenario.validate import check_reference, check_table, report_rows

_DATE = Column("date", "date", "the day the record is for")
_UNIT = Column("district", "str", "districts.code")
_STREAM = Column("stream", "str", "stream id")
_LAB = Column("lab", "str", "labs.id")

COLLECTED = Table(
    "collected",
    "Samples a unit collected on a past date, or will collect on today's or a later date, per "
    "stream. A date without a row for a unit and stream is forecast for a plan (the mean of "
    "the 3 days before the plan's date) and counts as none collected once it has passed.",
    (
        _DATE,
        _UNIT,
        _STREAM,
        Column("samples", "int", "samples", "samples", min=0),
        Column(
            "prevalence",
            "float",
            "that day's prevalence estimate (blank: the latest recorded before, else the "
            "province's)",
            "fraction",
            optional=True,
            min=0,
            max=1,
        ),
    ),
    key=("date", "district", "stream"),
)
TESTED = Table(
    "tested",
    "Samples a lab tested on a date (a result reported, positive, negative or final after "
    "retests), per unit and stream.",
    (_DATE, _LAB, _UNIT, _STREAM, Column("samples", "int", "samples tested", "samples", min=0)),
    key=("date", "lab", "district", "stream"),
)
REAGENT = Table(
    "reagent",
    "A lab's reagent on a date: reactions it ran (retests and invalid runs included), and "
    "optionally the reactions it counted on its shelf at the end of the day (a count replaces "
    "the stock labopt computes).",
    (
        _DATE,
        _LAB,
        Column("used", "float", "reactions run that day", "reactions", min=0),
        Column(
            "counted",
            "int",
            "reagent on the shelf at the end of the day",
            "reactions",
            optional=True,
            min=0,
        ),
    ),
    key=("date", "lab"),
)
DELIVERIES = Table(
    "deliveries",
    "Reagent a lab received on a date (or expects: a future date's delivery is planned with).",
    (_DATE, _LAB, Column("reactions", "int", "reagent received", "reactions", min=0)),
    key=("date", "lab"),
)
AVAILABILITY = Table(
    "availability",
    "A lab's share of its capacity on a date: 0 when it is out of service (machines or staff "
    "out), 0.5 with half of it; a date not recorded is a full day. Recorded for a coming "
    "date, the plans take it into account.",
    (
        _DATE,
        _LAB,
        Column("available", "float", "share of the lab's capacity", "fraction", min=0, max=1),
    ),
    key=("date", "lab"),
)
PREVALENCE = Table(
    "prevalence",
    "A unit's prevalence estimate on a date (from its pooled results, `labopt estimate`): the "
    "plans of the following days use it instead of the province's table.",
    (
        _DATE,
        _UNIT,
        _STREAM,
        Column("prevalence", "float", "fraction of samples positive", "fraction", min=0, max=1),
    ),
    key=("date", "district", "stream"),
)

SHIPMENTS = Table(
    "shipments",
    "Reagent a store or a lab sent to a lab on a date, along one of the province's supply "
    "routes: it leaves the source that day and can be used at the target from the date plus "
    "the route's lead_days. A morning's plan from a date leaves out shipments recorded for "
    "that date or later (it decides that day's shipments itself).",
    (
        _DATE,
        Column("source", "str", "stores.id or labs.id"),
        Column("target", "str", "labs.id (a supply route from the source)"),
        Column("reactions", "int", "reagent sent", "reactions", min=0),
    ),
    key=("date", "source", "target"),
)
STORE_ARRIVALS = Table(
    "store_arrivals",
    "Reagent a store received from the national level on a date (or expects: a future date's "
    "arrival is planned with).",
    (
        _DATE,
        Column("store", "str", "stores.id"),
        Column("reactions", "int", "reagent received", "reactions", min=0),
    ),
    key=("date", "store"),
)

_HOLDER = Column("holder", "str", "stores.id, or districts.code of a unit in kits.csv")
KIT_SHIPMENTS = Table(
    "kit_shipments",
    "Collection kits a store sent to a unit on a date, along one of the province's supply "
    "routes: they leave the store that day and can be used at the unit from the date plus the "
    "route's lead_days. A morning's plan from a date leaves out kit shipments recorded for that "
    "date or later (it decides that day's shipments itself).",
    (
        _DATE,
        Column("source", "str", "stores.id"),
        Column("target", "str", "districts.code of a unit in kits.csv (a supply route)"),
        Column("kits", "int", "kits sent", "kits", min=0),
    ),
    key=("date", "source", "target"),
)
KIT_ARRIVALS = Table(
    "kit_arrivals",
    "Collection kits a store or a unit received from outside the province's stores (the "
    "national level, a donation) on a date, or expects (a future date's arrival is planned "
    "with).",
    (_DATE, _HOLDER, Column("kits", "int", "kits received", "kits", min=0)),
    key=("date", "holder"),
)
KIT_COUNTS = Table(
    "kit_counts",
    "The collection kits a store or a unit counted at the end of a date: a count replaces the "
    "kits labopt computes (kits held + received - poolable samples collected - sent).",
    (_DATE, _HOLDER, Column("kits", "int", "kits on hand at the end of the day", "kits", min=0)),
    key=("date", "holder"),
)

RECORDS = {
    t.name: t
    for t in (
        COLLECTED,
        TESTED,
        REAGENT,
        DELIVERIES,
        AVAILABILITY,
        PREVALENCE,
        SHIPMENTS,
        STORE_ARRIVALS,
        KIT_SHIPMENTS,
        KIT_ARRIVALS,
        KIT_COUNTS,
    )
}
# what one upload replaces whole: a lab's day, or a unit's day
SCOPE = {
    "collected": ("date", "district"),
    "tested": ("date", "lab"),
    "reagent": ("date", "lab"),
    "deliveries": ("date", "lab"),
    "availability": ("date", "lab"),
    "prevalence": ("date", "district"),
    "shipments": ("date", "source"),
    "store_arrivals": ("date", "store"),
    "kit_shipments": ("date", "source"),
    "kit_arrivals": ("date", "holder"),
    "kit_counts": ("date", "holder"),
}
UPLOAD, RECORDED_AT = "upload", "recorded_at"
# records may be dated this many days after today (or the first date) at most
MAX_AHEAD_DAYS = 366


class RecordError(InputError):
    """Records refused; ``problems`` lists every problem found, nothing was recorded."""

    def __init__(self, source: str, problems: list[Problem]):
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        n = len(self.problems)
        super().__init__(
            f"{n} problem{'s' if n != 1 else ''} in {source}; nothing was recorded:\n{shown}"
            + (f"\n  ... and {more} more" if more > 0 else "")
        )


def check_records(
    kind: str,
    raw: pd.DataFrame,
    source: str,
    scn: Scenario,
    first: dt.date,
    date: dt.date | None = None,
) -> pd.DataFrame:
    """The typed rows of one upload of ``kind`` (text cells as read), every problem at once
    as a RecordError: columns and values as RECORDS[kind] says, units, streams and labs of the
    province, dates not before ``first`` (the workspace's first date). ``date`` fills the date
    of rows without one (a file without a date column)."""
    if kind not in RECORDS:
        raise InputError(f"kind: one of {', '.join(RECORDS)}; got {kind!r}", "kind")
    table = RECORDS[kind]
    raw = raw.rename(columns=lambda c: str(c).strip().lower())
    if (
        date is not None
        and "date" in raw.columns
        and (raw["date"].astype(str).str.strip() == "").all()
    ):
        raw = raw.drop(columns="date")  # a blank date column: the date beside applies
    if date is not None and "date" in raw.columns:
        raise InputError(
            f"date: {source} has dates of its own; give the dates there or the date beside "
            f"it, not both",
            "date",
        )
    if date is not None:
        raw = raw.assign(date=date.isoformat())
    elif "date" not in raw.columns:
        raise RecordError(
            source,
            [
                Problem(
                    source,
                    "no date column: give each row's date (YYYY-MM-DD) in a date column, or "
                    "the date of them all beside it (--date, or the service's date field)",
                )
            ],
        )
    problems: list[Problem] = []
    if raw.empty:
        problems.append(Problem(source, "no rows: nothing to record"))
    typed = check_table(raw, table, source, problems)
    names = table.column_names
    refs: list[tuple[str, set[str], str]] = [
        ("district", {d.code for d in scn.districts}, "unit code"),
        ("stream", {s.id for s in scn.streams}, "stream id"),
        ("lab", {lab.id for lab in scn.labs}, "lab id"),
    ]
    stores = {str(x) for x in scn.stores["id"]}
    if kind == "shipments":
        refs += [
            ("source", stores | {lab.id for lab in scn.labs}, "store or lab id"),
            ("target", {lab.id for lab in scn.labs}, "lab id"),
        ]
    if kind == "store_arrivals":
        refs.append(("store", stores, "store id"))
    kit_units = set(scn.kits["holder"]) - stores
    if kind == "kit_shipments":
        refs += [
            ("source", stores, "store id"),
            ("target", kit_units, "code of a unit in kits.csv"),
        ]
    if kind in ("kit_arrivals", "kit_counts"):
        refs.append(("holder", stores | kit_units, "store id or code of a unit in kits.csv"))
    for column, known, what in refs:
        if column in names:
            check_reference(typed, column, known, what, source, problems)
    if kind in ("shipments", "kit_shipments") and len(typed):
        routes = set(zip(scn.supply_routes["source"], scn.supply_routes["target"], strict=True))
        labs = {lab.id for lab in scn.labs}
        sources, targets = (stores | labs, labs) if kind == "shipments" else (stores, kit_units)
        off = [
            a in sources and b in targets and (a, b) not in routes
            for a, b in zip(typed["source"], typed["target"], strict=True)
        ]
        report_rows(
            problems,
            source,
            "target",
            np.flatnonzero(np.array(off, dtype=bool)),
            typed["target"].to_numpy(dtype=object),
            f"no supply route from the row's source to this "
            f"{'lab' if kind == 'shipments' else 'unit'} (supply_routes.csv)",
        )
    if "date" in typed.columns and len(typed):
        dates = typed["date"].to_numpy(dtype=object)
        valid = np.array([_iso(d) for d in dates], dtype=bool)
        early = valid & np.array([d < first.isoformat() for d in dates], dtype=bool)
        report_rows(
            problems,
            source,
            "date",
            np.flatnonzero(early),
            dates,
            f"before the workspace's first date {first.isoformat()} (its state then is the "
            f"province's starting state)",
        )
        last = (max(first, dt.date.today()) + dt.timedelta(days=MAX_AHEAD_DAYS)).isoformat()
        late = valid & np.array([d > last for d in dates], dtype=bool)
        report_rows(
            problems,
            source,
            "date",
            np.flatnonzero(late),
            dates,
            f"more than {MAX_AHEAD_DAYS} days ahead (after {last}): a mistyped year?",
        )
    if problems:
        raise RecordError(source, problems)
    for c in table.columns:
        if c.kind == "int" and not c.optional:
            typed[c.name] = typed[c.name].astype("int64")
    return typed


def _iso(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return False
    return True


def current(
    history: pd.DataFrame, kind: str, withdrawn: AbstractSet[tuple[str, str, int]] = frozenset()
) -> pd.DataFrame:
    """The current records of ``kind``: for each group SCOPE[kind], the rows of the latest
    upload covering it (without the upload columns), unless that upload was withdrawn for the
    group (``withdrawn``: (date, unit or lab, upload)): the group then has no record."""
    table = RECORDS[kind]
    if history.empty:
        return table.empty_frame()
    scope = list(SCOPE[kind])
    latest = history.groupby(scope)[UPLOAD].transform("max")
    out = history[history[UPLOAD] == latest]
    if withdrawn:
        keys = zip(out[scope[0]].astype(str), out[scope[1]].astype(str), out[UPLOAD], strict=True)
        out = out[[(d, c, int(u)) not in withdrawn for d, c, u in keys]]
    return out[table.column_names].reset_index(drop=True)


@dataclass(frozen=True)
class Records:
    """The current records of a workspace by kind (dates as ISO text)."""

    collected: pd.DataFrame
    tested: pd.DataFrame
    reagent: pd.DataFrame
    deliveries: pd.DataFrame
    availability: pd.DataFrame
    prevalence: pd.DataFrame
    shipments: pd.DataFrame
    store_arrivals: pd.DataFrame
    kit_shipments: pd.DataFrame
    kit_arrivals: pd.DataFrame
    kit_counts: pd.DataFrame

    def on(self, kind: str, date: dt.date) -> pd.DataFrame:
        df = getattr(self, kind)
        return df[df["date"] == date.isoformat()]
