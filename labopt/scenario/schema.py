"""The scenario's tables: every column with its type, unit and allowed values.

One declaration drives the loaders' checks (CSV and XLSX alike) and the column reference in
docs/reference/scenario-files.md (``labopt scenario schema`` prints it), so the documentation
cannot drift from what is enforced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import pandas as pd

AREA_TYPES = ("concentrated_urban", "non_concentrated_urban", "rural", "mountainous", "border")
UNIT_TYPES = ("city", "town", "district", "township", "ward", "commune")
FACILITY_TYPES = (
    "provincial_cdc",
    "provincial_hospital",
    "district_medical_centre",
    "non_public",
    "military",
    "mobile",
)
LAB_STATUSES = ("active", "standby")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str", "int", "float", "enum", "date" (ISO YYYY-MM-DD, kept as that text)
    description: str
    unit: str = ""
    optional: bool = False  # the column may be missing or its cells blank
    allowed: tuple[str, ...] = ()  # for enums
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False

    @property
    def is_fraction(self) -> bool:
        """A fraction may also be written as a percentage (2% = 0.02)."""
        return self.unit == "fraction"

    def allowed_text(self) -> str:
        if self.kind == "enum":
            return ", ".join(f"`{a}`" for a in self.allowed)
        lo = "" if self.min is None else f"{'>' if self.min_exclusive else '≥'} {self.min:g}"
        hi = "" if self.max is None else f"≤ {self.max:g}"
        if self.kind == "date":
            return "date YYYY-MM-DD" + (" (blank allowed)" if self.optional else "")
        kind = {"int": "whole number", "float": "number", "str": "text"}[self.kind]
        bounds = ", ".join(x for x in (lo, hi) if x)
        text = f"{kind}{', ' + bounds if bounds else ''}"
        if self.is_fraction:
            text += ", or a percentage such as 2%"
        return text + (" (blank allowed)" if self.optional else "")


@dataclass(frozen=True)
class Table:
    name: str  # districts -> districts.csv, or sheet "districts"
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # unique per row
    optional: bool = False  # the whole file/sheet may be absent

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def empty_frame(self) -> pd.DataFrame:
        """The table with no rows, its columns typed as a loaded table's are (an absent
        optional file)."""
        dtypes = {"int": "int64", "float": "float64"}
        return pd.DataFrame(
            {c.name: pd.Series(dtype=dtypes.get(c.kind, object)) for c in self.columns}
        )


class _Bounds(TypedDict):
    min: float
    max: float


_P: _Bounds = {"min": 0.0, "max": 1.0}  # a fraction

DISTRICTS = Table(
    "districts",
    "District-level units (huyện, thị xã, thành phố), or communes for a district scenario.",
    (
        Column("code", "str", "short identifier used by the other tables"),
        Column("name", "str", "official Vietnamese name with diacritics"),
        Column("unit_type", "enum", "administrative kind of the unit", allowed=UNIT_TYPES),
        Column(
            "area_type", "enum", "area class of the Thanh Hóa dispatch (002:26)", allowed=AREA_TYPES
        ),
        Column("population", "int", "residents", "persons", min=0),
        Column("lat", "float", "latitude of the unit's seat", "degrees", min=-90, max=90),
        Column("lon", "float", "longitude of the unit's seat", "degrees", min=-180, max=180),
        Column("epidemic_level", "int", "cấp độ dịch (1 low .. 4 very high)", min=1, max=4),
    ),
    key=("code",),
)

LABS = Table(
    "labs",
    "RT-PCR laboratories and their capacity inputs.",
    (
        Column("id", "str", "short identifier"),
        Column("name", "str", "name with diacritics"),
        Column("facility_type", "enum", "kind of facility", allowed=FACILITY_TYPES),
        Column("district", "str", "code of the unit where the lab is (districts.code)"),
        Column("lat", "float", "latitude", "degrees", min=-90, max=90),
        Column("lon", "float", "longitude", "degrees", min=-180, max=180),
        Column(
            "status",
            "enum",
            "active, or standby (switched on only when needed)",
            allowed=LAB_STATUSES,
        ),
        Column("biosafety_level", "int", "biosafety level of the lab", min=1, max=4),
        Column("pcr_machines", "int", "real-time PCR machines", "machines", min=0),
        Column("wells_per_run", "int", "wells per PCR plate", "wells", min=1),
        Column(
            "run_hours",
            "float",
            "one PCR run, loading included",
            "hours",
            min=0,
            min_exclusive=True,
            max=24,
        ),
        Column("extraction_machines", "int", "RNA extraction machines", "machines", min=0),
        Column("extraction_samples_per_run", "int", "tubes per extraction run", "tubes", min=1),
        Column(
            "extraction_run_hours",
            "float",
            "one extraction run",
            "hours",
            min=0,
            min_exclusive=True,
            max=24,
        ),
        Column("staff_per_shift", "int", "technicians on each shift", "persons", min=0),
        Column("shifts_per_day", "int", "shifts worked per day", "shifts", min=0, max=3),
        Column(
            "control_wells_per_run", "int", "wells kept for controls on each plate", "wells", min=0
        ),
        Column(
            "reagent_stock", "int", "reagent in stock at the start of day 1", "reactions", min=0
        ),
        Column(
            "max_pool_size",
            "int",
            "largest pool the lab has validated (1: no pooling)",
            "samples",
            min=1,
            max=100,
        ),
        Column(
            "reactions_per_staff_shift",
            "int",
            "reactions one technician prepares per shift (blank: policy default)",
            "reactions",
            optional=True,
            min=1,
        ),
    ),
    key=("id",),
)

PREVALENCE = Table(
    "prevalence",
    "Estimated prevalence per unit and demand stream.",
    (
        Column("district", "str", "districts.code"),
        Column("stream", "str", "stream id from scenario.toml"),
        Column("prevalence", "float", "fraction of samples positive", "fraction", **_P),
    ),
    key=("district", "stream"),
)

DEMAND = Table(
    "demand",
    "Samples requested per day, unit and stream.",
    (
        Column("day", "int", "day of the horizon (1 = start_date)", "day", min=1),
        Column("district", "str", "districts.code"),
        Column("stream", "str", "stream id from scenario.toml"),
        Column("samples", "int", "samples collected that day", "samples", min=0),
        Column(
            "prevalence",
            "float",
            "that day's estimate (blank: prevalence table)",
            "fraction",
            optional=True,
            **_P,
        ),
    ),
    key=("day", "district", "stream"),
)

BACKLOG = Table(
    "backlog",
    "Samples collected before day 1 and still waiting at its start (the state carried from "
    "the days before), by age: a sample of age 1 was collected the day before day 1. Tested "
    "oldest first like the others, it may wait at most its stream's max_wait_days from its "
    "collection, so a sample of age max_wait_days is tested on day 1 or is untested. Absent: "
    "nothing waits at the start.",
    (
        Column("district", "str", "districts.code"),
        Column("stream", "str", "stream id from scenario.toml"),
        Column(
            "age_days",
            "int",
            "days since collection at the start of day 1 (1 to the stream's max_wait_days)",
            "days",
            min=1,
        ),
        Column("samples", "int", "samples of that age still waiting", "samples", min=0),
    ),
    key=("district", "stream", "age_days"),
    optional=True,
)

DELIVERIES = Table(
    "deliveries",
    "Reagent deliveries, available from the start of their day.",
    (
        Column("lab", "str", "labs.id"),
        Column("day", "int", "day of arrival", "day", min=1),
        Column("reactions", "int", "reagent delivered", "reactions", min=0),
    ),
    key=("lab", "day"),
    optional=True,
)

LAB_DAYS = Table(
    "lab_days",
    "A lab's availability on a day of the horizon: the share of its capacity it can run that "
    "day (0: out of service, machines or staff out; 0.5: half of it). A day not listed is a "
    "full day.",
    (
        Column("lab", "str", "labs.id"),
        Column("day", "int", "day of the horizon", "day", min=1),
        Column("available", "float", "share of the lab's capacity", "fraction", **_P),
    ),
    key=("lab", "day"),
    optional=True,
)

TRAVEL = Table(
    "travel",
    "Road time from each unit to the labs it may send samples to. When this table is present "
    "its rows are the candidate pairs, allowed within the policy's max_travel_hours; when "
    "absent, times come from coordinates and every lab within max_travel_hours is allowed. "
    "Either way a unit may always send to its own labs (labs.district): one the table leaves "
    "out gets the time estimated from coordinates.",
    (
        Column("district", "str", "districts.code"),
        Column("lab", "str", "labs.id"),
        Column("hours", "float", "transport time", "hours", min=0),
    ),
    key=("district", "lab"),
    optional=True,
)

STORES = Table(
    "stores",
    "Provincial reserve stores (CDC warehouse, Department of Health) that ship reagent to labs "
    "along supply_routes; their ids must differ from the labs' ids.",
    (
        Column("id", "str", "short identifier (not a labs.id)"),
        Column("name", "str", "name with diacritics"),
        Column("reagent_stock", "int", "reagent on hand at the start of day 1", "reactions", min=0),
    ),
    key=("id",),
    optional=True,
)

STORE_ARRIVALS = Table(
    "store_arrivals",
    "Reagent expected at a store from the national level, available from the start of its "
    "day (as deliveries are for a lab).",
    (
        Column("day", "int", "day of arrival", "day", min=1),
        Column("store", "str", "stores.id"),
        Column("reactions", "int", "reagent arriving", "reactions", min=0, min_exclusive=True),
    ),
    key=("store", "day"),
    optional=True,
)

SUPPLY_ROUTES = Table(
    "supply_routes",
    "Who may ship to whom: reagent from a store or a lab to a lab; collection kits from a "
    "store to a unit (a district code as target). A shipment sent on day t can be used at the "
    "target from day t + lead_days. Without this table nothing is shipped.",
    (
        Column("source", "str", "stores.id or labs.id"),
        Column("target", "str", "labs.id (reagent) or districts.code (kits), not the source"),
        Column("lead_days", "int", "days from sending to use", "days", min=0),
        Column(
            "max_reactions",
            "float",
            "largest shipment on this route per day, reactions or kits (blank: no limit)",
            "reactions",
            optional=True,
            min=0,
            min_exclusive=True,
        ),
    ),
    key=("source", "target"),
    optional=True,
)

KITS = Table(
    "kits",
    "Collection kits (swab and transport medium) on hand at the start of day 1, at a unit or "
    "a store. A unit listed here collects no more samples of its poolable (screening) streams "
    "than the kits it holds and receives; units not listed are not limited by kits. Stores "
    "ship kits to units along supply_routes whose target is a unit.",
    (
        Column("holder", "str", "districts.code or stores.id"),
        Column("kits", "int", "kits on hand at the start of day 1", "kits", min=0),
    ),
    key=("holder",),
    optional=True,
)

KIT_ARRIVALS = Table(
    "kit_arrivals",
    "Collection kits arriving at a store (from the national level) or at a unit the kits "
    "table lists (kits on their way), usable from that day on.",
    (
        Column("day", "int", "day of arrival", "day", min=1),
        Column("holder", "str", "stores.id, or districts.code of a unit in kits"),
        Column("kits", "int", "kits arriving", "kits", min=0, min_exclusive=True),
    ),
    key=("holder", "day"),
    optional=True,
)

SUPPLY_TABLES = (STORES, STORE_ARRIVALS, SUPPLY_ROUTES, KITS, KIT_ARRIVALS)
TABLES = (
    DISTRICTS,
    LABS,
    PREVALENCE,
    DEMAND,
    BACKLOG,
    DELIVERIES,
    LAB_DAYS,
    TRAVEL,
    *SUPPLY_TABLES,
)
TABLE_BY_NAME = {t.name: t for t in TABLES}


def markdown() -> str:
    """Column reference of every table, as Markdown (kept in docs/reference/scenario-files.md)."""
    out = []
    for t in TABLES:
        opt = " (optional file)" if t.optional else ""
        out.append(
            f"### `{t.name}.csv`{opt}\n\n{t.description} Key: "
            f"{', '.join(f'`{k}`' for k in t.key)}.\n"
        )
        out.append("| column | meaning | unit | allowed values |\n|---|---|---|---|")
        for c in t.columns:
            out.append(f"| `{c.name}` | {c.description} | {c.unit or '—'} | {c.allowed_text()} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
