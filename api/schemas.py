"""Request and response schemas (apart from the storage models)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from labopt.pooling.designs import ALGORITHMS

def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite keeps no time zone: the service stores UTC, so say so
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


Timestamp = Annotated[dt.datetime, AfterValidator(_utc)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Accuracy = Annotated[float, Field(gt=0.0, le=1.0)]
MAX_GRID = 100_000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ pooling
class Dilution(_In):
    """Sensitivity falling with pool size (Ct-shift model); defaults fitted to Bateman et al."""

    ct_mean: float = Field(29.2, ge=0, le=60, description="mean Ct of positives (cycles)")
    ct_sd: float = Field(8.34, gt=0, le=30, description="sd of positives' Ct (cycles)")
    ct_cutoff: float = Field(40.0, ge=0, le=60, description="Ct cut-off (cycles)")
    efficiency: float = Field(1.0, gt=0, le=1, description="PCR efficiency")


class EvaluateRequest(_In):
    algorithm: Literal[ALGORITHMS]                                   # type: ignore[valid-type]
    config: str = Field("", max_length=10_000,
                        description="'10' (D2), '12:4,4,4' (D3), '8' (arrays), '20,10,5' (ID2)")
    prevalence: Fraction | Annotated[list[Fraction], Field(min_length=1, max_length=MAX_GRID)] \
        | None = Field(None, description="fraction positive; a list evaluates a grid")
    risks: Annotated[list[Fraction], Field(min_length=1, max_length=10_000)] | None = Field(
        None, description="individual risks of one block (instead of a prevalence)")
    se: Accuracy | Annotated[list[Accuracy], Field(min_length=1, max_length=4)] = 0.99
    sp: Accuracy | Annotated[list[Accuracy], Field(min_length=1, max_length=4)] = 0.99
    dilution: Dilution | None = None
    bingroup2_compat: bool = False


class DesignOut(BaseModel):
    algorithm: str
    config: str
    prevalence: float | None
    expected_tests_per_sample: float | None
    sensitivity: float | None
    specificity: float | None
    ppv: float | None
    npv: float | None
    stages: int
    efficiency: float | None
    largest_pool: int
    block_size: int
    se: list[float]
    sp: list[float]
    dilution: dict[str, float] | None = None


class DesignGridOut(BaseModel):
    results: list[DesignOut]


class OptimizeRequest(_In):
    prevalence: Fraction | Annotated[list[Fraction], Field(min_length=1, max_length=1000)] \
        | None = None
    risks: Annotated[list[Fraction], Field(min_length=1, max_length=10_000)] | None = None
    algorithm: Literal[("auto",) + ALGORITHMS] = "auto"              # type: ignore[valid-type]
    se: Accuracy | Annotated[list[Accuracy], Field(min_length=1, max_length=4)] = 0.99
    sp: Accuracy | Annotated[list[Accuracy], Field(min_length=1, max_length=4)] = 0.99
    min_size: int = Field(1, ge=1, le=10_000)
    max_size: int = Field(10, ge=1, le=10_000)
    max_stages: int = Field(3, ge=1, le=4)
    min_sensitivity: Fraction = 0.0
    min_specificity: Fraction = 0.0
    top: int = Field(10, ge=1, le=100)
    dilution: Dilution | None = None


class OptimizeOut(BaseModel):
    best: DesignOut | None
    ranking: list[DesignOut]
    configurations_evaluated: int
    search_seconds: float
    constraints: dict[str, float]
    algorithms: list[str]
    notes: list[str]


class OptimizeGridOut(BaseModel):
    results: list[OptimizeOut]


# ------------------------------------------------------------------ scenarios
class ScenarioData(_In):
    """A scenario in JSON: the same tables and settings as the files (see fixtures/README.md),
    tables as lists of row objects."""

    settings: dict[str, Any]
    districts: list[dict[str, Any]]
    labs: list[dict[str, Any]]
    prevalence: list[dict[str, Any]]
    demand: list[dict[str, Any]]
    deliveries: list[dict[str, Any]] = []
    travel: list[dict[str, Any]] | None = None


class ScenarioSummary(BaseModel):
    id: str
    province_code: str
    name: str
    start_date: dt.date
    days: int
    units: int
    labs: int
    version: int
    created_at: Timestamp
    updated_at: Timestamp


class ScenarioOut(ScenarioSummary):
    data: ScenarioData


class DistrictDayIn(_In):
    """A unit's report for one day: risk level, prevalence estimates, samples per stream."""

    epidemic_level: int | None = Field(None, ge=1, le=4)
    prevalence: dict[str, Fraction] = {}
    samples: dict[str, Annotated[int, Field(ge=0, le=10_000_000)]] = {}


class DistrictDayRecordOut(BaseModel):
    epidemic_level: int | None
    prevalence: dict[str, float]
    samples: dict[str, int]
    submitted_at: Timestamp
    submitted_by: int | None


class DistrictDayOut(BaseModel):
    scenario_id: str
    district: str
    date: dt.date
    current: DistrictDayRecordOut
    history: list[DistrictDayRecordOut]


# ------------------------------------------------------------------ plans
class PlanRequest(_In):
    scenario_id: str = Field(min_length=1, max_length=64)
    start_date: dt.date | None = Field(None, description="default: the scenario's start date")
    days: int | None = Field(None, ge=1, le=366, description="default: to the horizon's end")


class PlanOut(BaseModel):
    id: str
    scenario_id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    message: str
    error: str | None
    start_date: dt.date
    days: int
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    summary: dict[str, Any] | None = None
    tables: list[str] = []


# ------------------------------------------------------------------ keys
class KeyIn(_In):
    role: Literal["admin", "coordinator", "district", "lab"]
    scopes: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        [], max_length=1000)
    label: str = Field("", max_length=200)


class KeyOut(BaseModel):
    id: int
    prefix: str
    role: str
    scopes: list[str]
    label: str
    created_at: Timestamp
    revoked_at: Timestamp | None


class KeyCreated(KeyOut):
    key: str = Field(description="shown once; store it safely")


# ------------------------------------------------------------------ errors
class ErrorOut(BaseModel):
    """An error: a sentence, or for 422 a list of {loc, msg, type, ...} items."""

    detail: str | list[dict[str, Any]]


ERRORS = {code: {"model": ErrorOut, "description": text} for code, text in (
    (400, "the body is not well-formed (e.g. broken JSON)"),
    (401, "missing, unknown or revoked API key"),
    (403, "this key's role or scope does not allow it"),
    (404, "no such scenario, plan, unit input or key"),
    (409, "the plan is not done yet"),
    (413, "request body over the limit"),
    (422, "invalid input: each item names the field and what is allowed"),
    (429, "too many plans waiting; retry after the Retry-After seconds"),
)}
