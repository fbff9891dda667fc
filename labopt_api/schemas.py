"""Request and response schemas (apart from the storage models)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from labopt.lab.estimate import DesignAt
from labopt.pooling.assay import SEARCH_STAGES, SENSITIVITY, SPECIFICITY
from labopt.pooling.designs import ALGORITHMS
from labopt.screening import DEFAULT_SE, DEFAULT_SP, DEFAULT_SPECIFICITY
from labopt_api.models import (
    NAME,
    ApiKey,
    AuditResource,
    LabBatchRecord,
    ScenarioRecord,
    text_length,
)
from labopt_api.stored_text import MAX_NOTE, SAMPLE_ID, Note, NoteLines, OneLine


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite keeps no time zone: the service stores UTC, so say so
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


Timestamp = Annotated[dt.datetime, AfterValidator(_utc)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Accuracy = Annotated[float, Field(gt=0.0, le=1.0)]
MAX_GRID = 100_000
# one limit for a table however it comes (a JSON list or an uploaded file, see uploads.py)
MAX_ROWS = 200_000  # rows of a table: a batch's samples or results, a scenario table
MAX_TEXT = 200  # characters of a lab text field (sample id, pool id, ...) or cell
# dates the service plans and records for: a typo like year 9999 is refused, not overflowed
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
Day = Annotated[dt.date, Field(ge=FIRST_DAY, le=LAST_DAY)]


class _In(BaseModel):
    # NaN and Infinity (which Python's JSON reader accepts) are never a count, a probability
    # or a Ct value
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


Item = TypeVar("Item")
# a scenario, plan or batch id
Id = Annotated[str, Field(min_length=1, max_length=text_length(ScenarioRecord.id)), OneLine]


class Page(BaseModel, Generic[Item]):
    """One page of a list: ``items`` from ``offset`` on, at most ``limit`` of them, of
    ``total`` that the key may see."""

    items: list[Item]
    total: int
    limit: int
    offset: int


# ------------------------------------------------------------------ pooling
class Dilution(_In):
    """Sensitivity falling with pool size (Ct-shift model); defaults fitted to Bateman et al."""

    ct_mean: float = Field(29.2, ge=0, le=60, description="mean Ct of positives (cycles)")
    ct_sd: float = Field(8.34, gt=0, le=30, description="sd of positives' Ct (cycles)")
    ct_cutoff: float = Field(40.0, ge=0, le=60, description="Ct cut-off (cycles)")
    efficiency: float = Field(1.0, gt=0, le=1, description="PCR efficiency")


CONFIG_HELP = (
    "'10' (D2), '12:4,4,4' (D3), '16:8,8:4,4,4,4' (D4), '16:8,8:4,4,4,4:2,2,2,2,2,2,2,2' (D5), "
    "'h16' (halving, D2-D5), '8' or '8x12' (arrays: rows x columns; IA2 with risks, "
    "'8x12:spiral' in the spiral arrangement), "
    "'20,10,5' (ID2), '12,8:4,4,4,5,3' (ID3), '16:8,8:4,4,4,4' (ID4: pools, sub-pools, "
    "third-stage pools)"
)


class EvaluateRequest(_In):
    algorithm: Literal[ALGORITHMS]  # type: ignore[valid-type]
    config: str = Field(
        "",
        max_length=10_000,
        description=CONFIG_HELP,
    )
    prevalence: (
        Fraction | Annotated[list[Fraction], Field(min_length=1, max_length=MAX_GRID)] | None
    ) = Field(None, description="fraction positive; a list evaluates a grid")
    risks: Annotated[list[Fraction], Field(min_length=1, max_length=10_000)] | None = Field(
        None, description="individual risks of one block (instead of a prevalence)"
    )
    se: Accuracy | Annotated[list[Accuracy], Field(min_length=1, max_length=5)] = SENSITIVITY
    sp: Accuracy | Annotated[list[Accuracy], Field(min_length=1, max_length=5)] = SPECIFICITY
    dilution: Dilution | None = None
    bingroup2_compat: bool = False


class RiskGroupIn(_In):
    name: str = Field(min_length=1, max_length=100, description="the group, e.g. 'market'")
    relative_risk: float = Field(
        gt=0.0, le=1e6, strict=True, description="risk against any reference group"
    )
    share: float = Field(gt=0.0, le=1.0, strict=True, description="fraction of the place's people")
    available: int | None = Field(
        None, ge=0, le=10**9, description="people who can be sampled (null: as many as asked)"
    )
    at_least: int = Field(0, ge=0, le=10_000_000, description="samples it gives whatever its risk")


class GroupSampleOut(BaseModel):
    group: str
    relative_risk: float
    share: float
    effective_prevalence: float
    samples: int
    pools: int


class ScreeningSizeRequest(_In):
    design_prevalence: float = Field(
        gt=0.0, le=1.0, description="the prevalence to detect if present (0.01: 1 in 100)"
    )
    target_sensitivity: float = Field(
        0.95, ge=0.0, lt=1.0, description="probability of flagging an infected population"
    )
    pool_size: int = Field(1, ge=1, le=10_000, description="samples per pool (1: one by one)")
    se: Accuracy = Field(DEFAULT_SE, description="sensitivity of one test of a pool")
    sp: Fraction = Field(DEFAULT_SP, description="specificity of one test of a pool")
    population: int | None = Field(
        None, ge=1, le=10**9, description="people to sample from (null: many)"
    )
    target_specificity: float = Field(
        DEFAULT_SPECIFICITY,
        ge=0.0,
        lt=1.0,
        description="with sp < 1: not flagging a population with none",
    )
    groups: Annotated[list[RiskGroupIn], Field(min_length=1, max_length=100)] | None = Field(
        None,
        description="the place's risk groups (shares adding up to 1): the fewest pools, "
        "riskiest groups first; population is then each group's available",
    )


class ScreeningPrecisionRequest(_In):
    prevalence: float = Field(gt=0.0, lt=1.0, description="the prevalence expected")
    precision: float = Field(
        gt=0.0, le=1.0, description="half the interval's width (a share with relative)"
    )
    relative: bool = False
    confidence: float = Field(0.95, gt=0.0, lt=1.0)
    pool_size: int | None = Field(
        None, ge=1, le=10_000, description="null: the size needing the fewest reactions"
    )
    max_pool_size: int = Field(32, ge=1, le=10_000)
    se: Accuracy = Field(DEFAULT_SE, description="sensitivity of one test of a pool")
    sp: Fraction = Field(DEFAULT_SP, description="specificity of one test of a pool")


class ScreeningPrecisionOut(BaseModel):
    samples: int
    pools: int
    pool_size: int
    half_width: float
    pool_positive: float


class ScreeningSizeOut(BaseModel):
    samples: int
    pools: int
    pool_size: int
    positive_pools_cutoff: int
    population_sensitivity: float
    population_specificity: float
    method: str
    groups: list[GroupSampleOut] | None = None


class UnitRoundOut(BaseModel):
    district: str
    name: str
    epidemic_level: int
    area_type: str
    population: int
    design_prevalence: float
    target_sensitivity: float
    samples: int
    pools: int
    pool_size: int
    positive_pools_cutoff: int
    population_sensitivity: float
    population_specificity: float
    asked: int = Field(description="poolable streams' samples the demand asks that day")
    groups: list[GroupSampleOut]
    note: str


class ScreeningRoundsOut(BaseModel):
    scenario_id: str
    date: dt.date
    units: list[UnitRoundOut]


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
    prevalence: (
        Fraction | Annotated[list[Fraction], Field(min_length=1, max_length=1000)] | None
    ) = None
    risks: Annotated[list[Fraction], Field(min_length=1, max_length=10_000)] | None = None
    algorithm: Literal[("auto", *ALGORITHMS)] = "auto"  # type: ignore[valid-type]
    se: Accuracy | Annotated[list[Accuracy], Field(min_length=1, max_length=5)] = SENSITIVITY
    sp: Accuracy | Annotated[list[Accuracy], Field(min_length=1, max_length=5)] = SPECIFICITY
    min_size: int = Field(1, ge=1, le=10_000)
    max_size: int = Field(10, ge=1, le=10_000)
    max_stages: int = Field(SEARCH_STAGES, ge=1, le=5)
    min_sensitivity: Fraction = 0.0
    min_specificity: Fraction = 0.0
    square_arrays: bool = Field(False, description="search n x n arrays only (as binGroup2)")
    top: int = Field(10, ge=1, le=100)
    dilution: Dilution | None = None


class OptimizeOut(BaseModel):
    best: DesignOut | None
    ranking: list[DesignOut]
    configurations_evaluated: int
    search_seconds: float
    constraints: dict[str, bool | int | float]
    algorithms: list[str]
    notes: list[str]


class OptimizeGridOut(BaseModel):
    results: list[OptimizeOut]


class FrontierRequest(_In):
    """The fewest reactions per sample for each number of PCR rounds and each largest pool
    (2, 4, 8, ... and max_size), as `labopt pool frontier`."""

    prevalence: Fraction
    se: Accuracy = Field(SENSITIVITY, description="one value for every stage")
    sp: Accuracy = Field(SPECIFICITY, description="one value for every stage")
    max_stages: int = Field(5, ge=1, le=5)
    max_size: int = Field(
        64, ge=1, le=64, description="the largest pool tried (the CLI goes further)"
    )
    min_sensitivity: Fraction = 0.0
    min_specificity: Fraction = 0.0


class FrontierCellOut(BaseModel):
    stages: int
    largest_pool: int
    best: DesignOut | None


class FrontierOut(BaseModel):
    prevalence: float
    entropy_floor: float = Field(description="H(p), bits per sample")
    cells: list[FrontierCellOut]
    notes: list[str]


StageAccuracy = Accuracy | Annotated[list[Accuracy], Field(min_length=1, max_length=5)]
Joint = Annotated[
    list[Fraction],
    Field(
        min_length=4,
        max_length=4,
        description="each sample's probabilities of neither disease, disease 1 only, disease 2 "
        "only and both (binGroup2's p00, p10, p01, p11); they add up to 1",
    ),
]


class MultiplexEvaluateRequest(_In):
    """A hierarchical design or an array run with a two-disease (multiplex) assay."""

    algorithm: Literal["IT", "D2", "D3", "D4", "D5", "ID2", "ID3", "ID4", "A2", "A2M"]
    config: str = Field("", max_length=10_000, description="as for /v1/pooling/evaluate")
    joint: Joint
    se: StageAccuracy = Field(SENSITIVITY, description="both diseases: one value or per stage")
    sp: StageAccuracy = Field(SPECIFICITY, description="both diseases: one value or per stage")
    se2: StageAccuracy | None = Field(None, description="disease 2's sensitivity, if not se")
    sp2: StageAccuracy | None = Field(None, description="disease 2's specificity, if not sp")


class DiseaseOut(BaseModel):
    disease: int
    prevalence: float
    sensitivity: float | None
    specificity: float | None
    ppv: float | None
    npv: float | None


class MultiplexOut(BaseModel):
    algorithm: str
    config: str
    expected_tests_per_sample: float
    stages: int
    diseases: list[DiseaseOut]
    se: list[list[float]]
    sp: list[list[float]]


class MultiplexOptimizeRequest(_In):
    """The IT, D2, D3, A2 and A2M designs with the fewest reactions per sample for a
    two-disease assay; the limits hold for each disease."""

    joint: Joint
    se: StageAccuracy = SENSITIVITY
    sp: StageAccuracy = SPECIFICITY
    se2: StageAccuracy | None = None
    sp2: StageAccuracy | None = None
    min_size: int = Field(1, ge=1, le=10_000)
    max_size: int = Field(10, ge=1, le=10_000)
    max_stages: int = Field(SEARCH_STAGES, ge=1, le=4)
    min_sensitivity: Fraction = 0.0
    min_specificity: Fraction = 0.0
    square_arrays: bool = Field(False, description="search n x n arrays only (as binGroup2)")
    top: int = Field(10, ge=1, le=100)


class MultiplexOptimizeOut(BaseModel):
    best: MultiplexOut | None
    ranking: list[MultiplexOut]
    configurations_evaluated: int
    search_seconds: float
    constraints: dict[str, bool | int | float]
    notes: list[str]


# ------------------------------------------------------------------ scenarios
Rows = Annotated[list[dict[str, Any]], Field(max_length=MAX_ROWS)]


class ScenarioData(_In):
    """A scenario in JSON: the same tables and settings as the files (see
    labopt/examples/README.md), tables as lists of row objects."""

    settings: dict[str, Any]
    districts: Rows
    labs: Rows
    prevalence: Rows
    demand: Rows
    backlog: Rows = []
    deliveries: Rows = []
    lab_days: Rows = []
    travel: Rows | None = None
    stores: Rows = []
    store_arrivals: Rows = []
    supply_routes: Rows = []
    kits: Rows = []
    kit_arrivals: Rows = []


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


class ScenarioReplaced(ScenarioSummary):
    district_days_not_applied: int = Field(
        description="units' current inputs that no longer fit the scenario (a day outside its "
        "horizon, a unit or stream it lacks): kept in the history, not applied"
    )
    daily_records_not_applied: int = Field(
        0,
        description="current rows of the daily loop's records that no longer fit the scenario "
        "(a unit, lab or stream it lacks, a date before its start date): kept in the history, "
        "left out of daily plans and the history",
    )
    notes: list[str]


class DistrictDayIn(_In):
    """A unit's report for one day: risk level, prevalence estimates, samples per stream, and
    what the unit wants the coordinator to know."""

    epidemic_level: int | None = Field(None, ge=1, le=4)
    prevalence: dict[str, Fraction] = {}
    samples: dict[str, Annotated[int, Field(ge=0, le=10_000_000)]] = {}
    notes: Annotated[str, NoteLines, Field(max_length=MAX_NOTE), Note] = ""


class DistrictDayRecordOut(BaseModel):
    epidemic_level: int | None
    prevalence: dict[str, float]
    samples: dict[str, int]
    notes: str
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
    scenario_id: Id
    start_date: Day | None = Field(
        None, description="default: the scenario's start date; a daily plan needs it"
    )
    days: int | None = Field(
        None, ge=1, le=366, description="default: to the horizon's end (a daily plan: 7)"
    )
    daily: StrictBool = Field(
        False,
        description="plan from the daily records: the state they carry to start_date (samples "
        "waiting, reagent on hand), their demand and the forecast where none is recorded; "
        "the plan then has dispatch sheets",
    )


class PlanOut(BaseModel):
    id: str
    scenario_id: str
    daily: bool = False
    status: Literal["queued", "running", "done", "failed", "cancelled"]
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


# ------------------------------------------------------------------ daily records
class RecordsIn(_In):
    """One upload of daily records: rows with the columns of their kind (see the guide's
    "Daily loop" page), as numbers or text."""

    rows: Rows = Field(..., min_length=1)
    date: Day | None = Field(None, description="the date of rows without one")
    source: Annotated[
        str,
        Field(min_length=1, max_length=MAX_TEXT, description="named in messages and the audit"),
        OneLine,
    ] = "rows"


class RecordedOut(BaseModel):
    """An upload stored: its id ("" when it changed nothing), rows, the unit- or lab-days it
    covers (``groups``), how many of those it changed (0: the same upload again), the current
    rows it replaced (the scenario's own included), and ``warnings`` when the records no
    longer add up (tests beyond the samples there, reactions beyond the reagent): daily plans
    from later dates fail until a correction is recorded."""

    upload: str
    kind: str
    rows: int
    groups: int
    changed: int
    replaced: int
    dates: list[str]
    warnings: list[str] = []


class HistoryOut(BaseModel):
    """Each past day's plan beside what happened, as ``labopt day history --json`` gives it."""

    days: list[dict[str, Any]]
    labs: list[dict[str, Any]]
    units: list[dict[str, Any]]
    notes: list[str]


class WithdrawnOut(BaseModel):
    """A unit's or lab's day of records withdrawn: its rows stay in the history."""

    kind: str
    date: dt.date
    code: str
    rows: int
    warnings: list[str] = []


# ------------------------------------------------------------------ lab batches
Text = Annotated[str, Field(min_length=0, max_length=MAX_TEXT), OneLine]
SampleId = Annotated[str, Field(min_length=1, max_length=SAMPLE_ID), OneLine]
LabId = Annotated[str, Field(min_length=1, max_length=text_length(LabBatchRecord.lab)), OneLine]
Config = Annotated[str, Field(min_length=0, max_length=text_length(LabBatchRecord.config)), OneLine]
MAX_BATCH = MAX_ROWS


class PlateIn(_In):
    """Plate format, control wells on every plate and fill order (see ``labopt batch make``)."""

    wells: Literal[96, 384] = 96
    positive: int = Field(1, ge=0, le=383, description="positive-control wells per plate")
    negative: int = Field(1, ge=0, le=383, description="negative-control wells per plate")
    blank: int = Field(1, ge=0, le=383, description="extraction-blank wells per plate")
    order: Literal["column", "row"] = Field(
        "column", description="column: A1, B1, ...; row: A1, A2, ..."
    )


class SampleIn(_In):
    sample_id: SampleId
    stream: Text | None = None
    risk: Fraction | None = Field(
        None, description="individual risk (ID2, ID3, ID4 and IA2 designs)"
    )
    district: Text | None = None
    address_group: Text | None = Field(
        None, description="field pooling: a tube never mixes address groups"
    )


class BatchDesign(_In):
    """Which lab pools a batch of samples, under what label and date, with what design."""

    scenario_id: Id
    lab: LabId = Field(description="a lab id of the scenario")
    label: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="unique in the scenario; prefixed to pool and plate ids",
    )
    date: Day = Field(description="collection date of the samples")
    algorithm: Literal[ALGORITHMS]  # type: ignore[valid-type]
    config: Config = Field("", description=CONFIG_HELP)


class BatchIn(BatchDesign):
    """A batch of samples in one lab, and the design to pool them with."""

    field: bool = Field(False, description="field pooling: swabs pooled at collection")
    recollection_hours: float = Field(
        24.0,
        ge=0,
        le=24 * 30,
        description="field pooling: hours to re-sample a positive tube's people",
    )
    plate: PlateIn = PlateIn.model_validate({})
    samples: list[SampleIn] = Field(min_length=1, max_length=MAX_BATCH)


class BatchOut(BaseModel):
    id: str
    scenario_id: str
    lab: str
    label: str
    date: dt.date
    algorithm: str
    config: str
    mode: Literal["lab", "field"]
    plate: dict[str, Any]
    recollection_hours: float
    samples: int
    runs: int
    summary: dict[str, Any] = Field(
        description="counts: positive, negative, pending, reactions used, next run"
    )
    version: int
    created_by: int | None
    created_at: Timestamp
    updated_at: Timestamp
    tables: list[str]


class ResultIn(_In):
    """One result: per pool (``pool_id``, optionally ``run``), per well (``plate`` and
    ``well``; control wells too) or per individually tested sample (``sample_id``)."""

    result: str = Field(
        min_length=1, max_length=40, description="positive, negative or invalid (aliases accepted)"
    )
    pool_id: Text | None = None
    plate: Text | None = None
    well: Annotated[str, Field(max_length=8)] | None = None
    sample_id: Text | None = None
    run: int | None = Field(None, ge=1, le=1000)
    ct: float | None = Field(None, description="cycle threshold, in (0, 60]")


class ResultsIn(_In):
    results: list[ResultIn] = Field(min_length=1, max_length=MAX_BATCH)
    source: str = Field(
        "api",
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="kept with every result (e.g. the instrument's file name)",
    )
    correct: bool = Field(
        False,
        description="allow changing results already recorded; the old ones stay in the history",
    )


class ApplyOut(BaseModel):
    added: int = Field(description="results new to the batch")
    corrected: int = Field(description="results that replace a different earlier one")
    unchanged: int = Field(description="results already recorded (sent again)")
    notes: list[str]
    changed: bool = Field(description="false when the upload changed nothing (a repeat)")
    batch: BatchOut


class EstimateIn(_In):
    """Prevalence per district and stream from the first-stage results of some batches."""

    batch_ids: list[Id] | None = Field(
        None, min_length=1, max_length=1000, description="default: every batch of ``date``"
    )
    date: Day | None = Field(
        None, description="the batches' collection date (when batch_ids is not given)"
    )
    for_date: Day | None = Field(
        None, description="the day whose design the estimates feed; default: the day after"
    )
    se: Accuracy | None = Field(None, description="default: the scenario's pooling_se")
    sp: Accuracy | None = Field(None, description="default: the scenario's pooling_sp")
    level: float = Field(0.95, gt=0.5, lt=1.0, description="confidence level")
    store: bool = Field(
        True,
        description="store each district's estimates as its prevalence "
        "for for_date, so that the next plan uses them (and as the daily loop's "
        "prevalence records): the estimate, or its upper bound where it is 0",
    )
    design_at: DesignAt | None = Field(
        None, description="add the lowest-cost design at the estimate or at its upper bound"
    )
    max_size: int = Field(10, ge=1, le=100, description="largest validated pool (design)")


class EstimateOut(BaseModel):
    scenario_id: str
    for_date: dt.date
    batches: list[str]
    se: float
    sp: float
    estimates: list[dict[str, Any]]
    stored: list[str] = Field(description="districts whose prevalence for for_date was stored")
    daily_record: str | None = Field(
        None,
        description="the upload of the daily loop's prevalence records dated the day before "
        "for_date (plans from for_date on use them); null when nothing was stored, or the "
        "loop cannot take them (a date before the scenario's start, reagent shipments)",
    )


# ------------------------------------------------------------------ keys
Scope = Annotated[str, Field(min_length=1, max_length=NAME), OneLine]
KeyLabel = Annotated[str, Field(min_length=0, max_length=text_length(ApiKey.label)), OneLine]


class KeyIn(_In):
    role: Literal["admin", "coordinator", "district", "lab"]
    scopes: list[Scope] = Field([], max_length=1000)
    label: KeyLabel = ""


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


# ------------------------------------------------------------------ audit


class AuditEventOut(BaseModel):
    id: int
    at: Timestamp
    key_id: int | None = Field(description="the key that acted (None: the command line)")
    key_prefix: str
    key_role: str = Field(description="its role then, or 'cli' for the command line")
    action: str = Field(
        description="e.g. scenario.create, scenario.replace, scenario.delete, "
        "key.create, key.revoke, batch.delete, "
        "district_day.submit, plan.request"
    )
    resource: AuditResource
    resource_id: str
    detail: dict[str, Any]


AuditPage = Page[AuditEventOut]


# ------------------------------------------------------------------ errors
class ErrorOut(BaseModel):
    """An error: a sentence, or for 422 a list of {loc, msg, type, ...} items."""

    detail: str | list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (400, "the body is not well-formed (e.g. broken JSON)"),
        (401, "missing, unknown or revoked API key"),
        (403, "this key's role or scope does not allow it"),
        (404, "no such scenario, plan, batch, unit input or key"),
        (
            409,
            "the plan is not done yet; a batch label in use; a batch with results; a "
            "scenario with lab batches or (without force) district inputs",
        ),
        (412, "If-Match names a version of the scenario that is no longer the current one"),
        (413, "request body over the limit"),
        (422, "invalid input: each item names the field and what is allowed"),
        (429, "too many plans waiting; retry after the Retry-After seconds"),
    )
}
