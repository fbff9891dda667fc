"""The scenario: a province's units, labs, demand and policy (pydantic models + tables).

Units: times in hours unless a name says days; capacities per day; prevalence and accuracy
as fractions; reagent in reactions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from labopt.pooling.assay import MAX_STAGES, SENSITIVITY, SPECIFICITY
from labopt.scenario.schema import (
    AREA_TYPES,
    BACKLOG,
    FACILITY_TYPES,
    KIT_ARRIVALS,
    KITS,
    LAB_DAYS,
    LAB_STATUSES,
    STORE_ARRIVALS,
    STORES,
    SUPPLY_ROUTES,
    UNIT_TYPES,
)

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Province(BaseModel):
    model_config = _STRICT
    code: str = Field(min_length=1, description="identifier, e.g. the fixture folder name")
    name: str = Field(min_length=1, description="name with diacritics")
    level: Literal["province", "district"] = "province"
    start_date: dt.date = Field(description="calendar date of day 1")
    days: int = Field(default=7, ge=1, le=366, description="planning horizon (days)")


class Stream(BaseModel):
    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="identifier used in the tables")
    name: str
    name_vi: str | None = Field(
        default=None, description="the name in Vietnamese reports (--lang vi); default: name"
    )
    priority: int = Field(ge=1, le=99, description="1 = most urgent")
    poolable: bool = Field(description="samples of this stream may be pooled")
    max_wait_days: int = Field(ge=0, le=30, description="days a sample may wait before it spoils")

    def named(self, lang: str) -> str:
        """The name a report in ``lang`` gives the stream."""
        return self.name_vi or self.name if lang == "vi" else self.name


class Policy(BaseModel):
    """Targets and operating rules. Defaults: the Thanh Hóa surge target (seed 002:26);
    every other default is an illustrative assumption."""

    model_config = _STRICT
    single_target_per_day: int = Field(
        default=8000, ge=0, description="single samples/day (002:26)"
    )
    pooled_target_per_day: int = Field(
        default=80000, ge=0, description="pooled samples/day (002:26)"
    )
    turnaround_hours: float = Field(
        default=24.0, gt=0, description="sample to result target (hours)"
    )
    max_travel_hours: float = Field(
        default=4.0, gt=0, description="longest allowed sample transport"
    )
    shift_hours: float = Field(default=8.0, gt=0, le=24, description="hours in a lab shift")
    reactions_per_staff_shift: int = Field(default=250, ge=1, description="technician productivity")
    pooling_se: float = Field(
        default=SENSITIVITY, gt=0, le=1, description="pooled assay sensitivity per stage"
    )
    pooling_sp: float = Field(
        default=SPECIFICITY, gt=0, le=1, description="pooled assay specificity per stage"
    )
    max_stages: int = Field(
        default=MAX_STAGES, ge=1, le=4, description="PCR rounds allowed for pooled samples"
    )
    reagent_cover_days: float = Field(
        default=0.0,
        ge=0,
        description="safety stock each lab should keep, in days of its expected use: the plan "
        "ships reagent to keep this cover where stock allows; it never holds back testing for it",
    )

    @model_validator(mode="after")
    def _informative_assay(self):
        if self.pooling_se <= 1 - self.pooling_sp:
            raise ValueError("pooling_se must exceed 1 - pooling_sp")
        return self


class Transport(BaseModel):
    """How travel times are derived from coordinates when no travel table is given."""

    model_config = _STRICT
    road_factor: float = Field(
        default=1.35, ge=1.0, le=5.0, description="road km per straight-line km"
    )
    speed_kmh: float = Field(
        default=40.0, gt=0, le=200, description="average transport speed (km/h)"
    )


class Expansion(BaseModel):
    """Relative effort of each way to add capacity, used to find the smallest additions that
    close a gap ("what it takes"), and how far each may go. Illustrative assumptions: a
    coordinator should set them to local costs (money, or days to arrange)."""

    model_config = _STRICT
    standby_lab: float = Field(default=10.0, ge=0, description="switch on one standby lab")
    extra_shift: float = Field(default=3.0, ge=0, description="one more shift a day at one lab")
    pcr_machine: float = Field(default=20.0, ge=0, description="one more PCR machine")
    extraction_machine: float = Field(default=15.0, ge=0, description="one more extraction machine")
    technician: float = Field(default=1.0, ge=0, description="one more technician on every shift")
    reagent_per_1000: float = Field(
        default=1.0, ge=0, description="1,000 more reactions of reagent"
    )
    max_pcr_machines: int = Field(default=4, ge=0, description="machines a lab can add at most")
    max_extraction_machines: int = Field(default=4, ge=0)
    max_technicians: int = Field(
        default=20, ge=0, description="technicians per shift a lab can add"
    )


class Planning(BaseModel):
    """Weights and limits of the daily assignment (labopt.schedule). Illustrative defaults.

    The objective is in tiers, most urgent priority level first: within a level, untested
    samples, then waiting days (and results past the turnaround); then transport time and
    reinforcement; last, earlier tests before later ones (labopt.schedule.model.weights).
    ``priority_base`` and ``untested`` are floors: each is raised as far as needed for its tier
    to outweigh everything below it. The transport and reinforcement costs are per sample and
    stay below one waiting day.
    """

    model_config = _STRICT
    priority_base: float = Field(
        default=12.0,
        ge=1.0,
        description="smallest weight ratio between two priority levels (raised as needed)",
    )
    untested: float = Field(
        default=2.0,
        gt=0,
        description="smallest weight of an untested sample, in waiting days of its stream "
        "(raised as needed)",
    )
    waiting_day: float = Field(
        default=1.0, gt=0, description="tier weight of a sample waiting a day"
    )
    transport_per_hour: float = Field(
        default=0.01, ge=0, description="per sample and hour on the road"
    )
    cross_district: float = Field(default=0.05, ge=0, description="per sample sent out of its unit")
    provincial_backup: float = Field(
        default=0.05, ge=0, description="per sample tested by a provincial lab of another unit"
    )
    standby: float = Field(default=0.1, ge=0, description="per sample tested by a standby lab")
    retest_reserve_sd: float = Field(
        default=2.0,
        ge=0,
        le=6,
        description="capacity kept for retest variability, in standard "
        "deviations of the retest reactions of a lab filled with "
        "that design (2: overflow about 2.3 % of lab-days)",
    )
    method: Literal["auto", "network", "lp"] = Field(
        default="auto",
        description="network (min-cost flow) when every sample of a unit and stream "
        "costs the same reactions at every lab and day, else LP",
    )
    solver: Literal["auto", "glop", "highs", "columns"] = Field(
        default="auto",
        description="LP backend: OR-Tools' GLOP or HiGHS on the whole LP, or HiGHS "
        "by column generation over the test arcs (auto: GLOP for small "
        "LPs, column generation for large)",
    )
    flow_solver: Literal["simplex", "ortools"] = Field(
        default="simplex",
        description="min-cost flow backend: labopt's network simplex, or OR-Tools' "
        "cost scaling (same optimum; the simplex is several times "
        "faster on national-size weeks)",
    )
    time_limit_seconds: float = Field(default=60.0, gt=0, description="solver time limit")
    screening: Literal["demand", "by_risk"] = Field(
        default="demand",
        description="demand: the screening streams' demand is what units collect; by_risk: "
        "what they could collect, and the plan says how many each should, to find the most "
        "infections with the reactions left after urgent streams",
    )


class Screening(BaseModel):
    """How many samples each unit's active screening round needs (`labopt screen allocate`):
    the design prevalence to detect and the probability of detecting it (target sensitivity),
    by the unit's epidemic level (1 low .. 4 very high); the design prevalence is multiplied
    by the factor of the unit's area type. Illustrative assumptions, not from the documents
    (they give no criteria for the levels): a coordinator sets them."""

    model_config = _STRICT
    design_prevalence_1: float = Field(
        default=0.01, gt=0, lt=1, description="design prevalence at epidemic level 1"
    )
    design_prevalence_2: float = Field(
        default=0.01, gt=0, lt=1, description="design prevalence at epidemic level 2"
    )
    design_prevalence_3: float = Field(
        default=0.01, gt=0, lt=1, description="design prevalence at epidemic level 3"
    )
    design_prevalence_4: float = Field(
        default=0.01, gt=0, lt=1, description="design prevalence at epidemic level 4"
    )
    target_sensitivity_1: float = Field(
        default=0.80, gt=0, lt=1, description="probability of detection at epidemic level 1"
    )
    target_sensitivity_2: float = Field(
        default=0.90, gt=0, lt=1, description="probability of detection at epidemic level 2"
    )
    target_sensitivity_3: float = Field(
        default=0.95, gt=0, lt=1, description="probability of detection at epidemic level 3"
    )
    target_sensitivity_4: float = Field(
        default=0.99, gt=0, lt=1, description="probability of detection at epidemic level 4"
    )
    concentrated_urban: float = Field(
        default=0.5, gt=0, le=10, description="factor on the design prevalence, concentrated urban"
    )
    non_concentrated_urban: float = Field(
        default=0.75,
        gt=0,
        le=10,
        description="factor on the design prevalence, non-concentrated urban",
    )
    rural: float = Field(
        default=1.0, gt=0, le=10, description="factor on the design prevalence, rural"
    )
    mountainous: float = Field(
        default=1.0, gt=0, le=10, description="factor on the design prevalence, mountainous"
    )
    border: float = Field(
        default=0.5, gt=0, le=10, description="factor on the design prevalence, border"
    )
    pool_size: int = Field(default=5, ge=1, le=128, description="samples per screening pool")
    target_specificity: float = Field(
        default=0.95,
        gt=0,
        lt=1,
        description="probability of not flagging a unit with no infection (pool Sp < 1)",
    )

    def design_prevalence(self, level: int, area_type: str) -> float:
        """The design prevalence of a unit at this epidemic level in this area type (at most
        0.5: a round is sized to find infection, not to count it)."""
        base = getattr(self, f"design_prevalence_{level}")
        return min(0.5, base * getattr(self, area_type))

    def target_sensitivity(self, level: int) -> float:
        return getattr(self, f"target_sensitivity_{level}")


class Settings(BaseModel):
    """Everything in scenario.toml."""

    model_config = _STRICT
    province: Province
    policy: Policy = Policy()
    transport: Transport = Transport()
    expansion: Expansion = Expansion()
    plan: Planning = Planning()
    screening: Screening = Screening()
    streams: list[Stream] = Field(min_length=1)

    @field_validator("streams")
    @classmethod
    def _unique_ids(cls, streams: list[Stream]):
        ids = [s.id for s in streams]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"stream ids must be unique; repeated: {', '.join(dup)}")
        return streams


class District(BaseModel):
    model_config = _STRICT
    code: str
    name: str
    unit_type: Literal[UNIT_TYPES]  # type: ignore[valid-type]
    area_type: Literal[AREA_TYPES]  # type: ignore[valid-type]
    population: int
    lat: float
    lon: float
    epidemic_level: int


class Lab(BaseModel):
    model_config = _STRICT
    id: str
    name: str
    facility_type: Literal[FACILITY_TYPES]  # type: ignore[valid-type]
    district: str
    lat: float
    lon: float
    status: Literal[LAB_STATUSES]  # type: ignore[valid-type]
    biosafety_level: int
    pcr_machines: int
    wells_per_run: int
    run_hours: float
    extraction_machines: int
    extraction_samples_per_run: int
    extraction_run_hours: float
    staff_per_shift: int
    shifts_per_day: int
    control_wells_per_run: int
    reagent_stock: int
    max_pool_size: int
    reactions_per_staff_shift: int | None = None

    @property
    def standby(self) -> bool:
        return self.status == "standby"


@dataclass(eq=False)
class Scenario:
    """A validated scenario. Build it with :func:`labopt.scenario.load_scenario`.

    Tables (pandas DataFrames, columns as in :mod:`labopt.scenario.schema`): ``prevalence``,
    ``demand`` (``prevalence`` column filled from the prevalence table where blank),
    ``deliveries``, ``travel`` (None: derive from coordinates), ``backlog`` (samples waiting at
    the start of day 1, by age; empty when none), ``lab_days`` (a lab's share of its capacity
    on a day; a day not listed: 1), and the reagent supply
    network: ``stores``, ``store_arrivals``, ``supply_routes``, ``kits`` and ``kit_arrivals``
    (empty when the
    scenario has none; ``supply_routes.max_reactions`` NaN: no limit).
    """

    settings: Settings
    districts: list[District]
    labs: list[Lab]
    prevalence: pd.DataFrame
    demand: pd.DataFrame
    deliveries: pd.DataFrame
    travel: pd.DataFrame | None = None
    backlog: pd.DataFrame = field(default_factory=BACKLOG.empty_frame)
    lab_days: pd.DataFrame = field(default_factory=LAB_DAYS.empty_frame)
    stores: pd.DataFrame = field(default_factory=STORES.empty_frame)
    store_arrivals: pd.DataFrame = field(default_factory=STORE_ARRIVALS.empty_frame)
    supply_routes: pd.DataFrame = field(default_factory=SUPPLY_ROUTES.empty_frame)
    kits: pd.DataFrame = field(default_factory=KITS.empty_frame)
    kit_arrivals: pd.DataFrame = field(default_factory=KIT_ARRIVALS.empty_frame)
    source: str = field(default="", compare=False)

    @property
    def province(self) -> Province:
        return self.settings.province

    @property
    def policy(self) -> Policy:
        return self.settings.policy

    @property
    def transport(self) -> Transport:
        return self.settings.transport

    @property
    def streams(self) -> list[Stream]:
        return self.settings.streams

    @cached_property
    def district_by_code(self) -> dict[str, District]:
        return {d.code: d for d in self.districts}

    @cached_property
    def lab_by_id(self) -> dict[str, Lab]:
        return {lab.id: lab for lab in self.labs}

    @cached_property
    def stream_by_id(self) -> dict[str, Stream]:
        return {s.id: s for s in self.streams}

    def with_settings(self, **sections: dict) -> Scenario:
        """A copy with some settings changed, e.g. ``with_settings(plan={"solver": "highs"})``
        (validated; the original is left as it is)."""
        data = self.settings.model_dump()
        for section, values in sections.items():
            if section not in data or not isinstance(data[section], dict):
                raise ValueError(f"settings: unknown section {section!r}")
            data[section] = {**data[section], **values}
        return replace(self, settings=Settings.model_validate(data))

    def date_of(self, day: int) -> dt.date:
        return self.province.start_date + dt.timedelta(days=day - 1)

    def equals(self, other: Scenario) -> bool:
        """Same settings, units, labs and table contents (row order ignored)."""
        if (
            self.settings != other.settings
            or self.districts != other.districts
            or self.labs != other.labs
        ):
            return False
        for name in TABLE_FIELDS:
            a, b = getattr(self, name), getattr(other, name)
            if (a is None) != (b is None):
                return False
            if a is not None and not _same_table(a, b):
                return False
        return True


TABLE_FIELDS = (
    "prevalence",
    "demand",
    "deliveries",
    "travel",
    "backlog",
    "lab_days",
    "stores",
    "store_arrivals",
    "supply_routes",
    "kits",
    "kit_arrivals",
)


def _same_table(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    cols = list(a.columns)
    a = a.sort_values(cols[:3]).reset_index(drop=True)
    b = b.sort_values(cols[:3]).reset_index(drop=True)
    try:
        pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-12)
    except AssertionError:
        return False
    return True
