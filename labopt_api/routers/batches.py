"""Lab batches: create one (manifest and first plates), read its tables and plate map, upload
results (idempotent, all or nothing, every change kept), and feed prevalence estimates back
into the scenario for the next plan."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

import numpy as np
import pandas as pd
from fastapi import (
    APIRouter,
    File,
    Form,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import HTMLResponse

from labopt.lab.batch import LabBatch
from labopt.lab.estimate import (
    design_prevalence,
    estimate_table,
    planning_prevalence,
    with_design,
)
from labopt.lab.manifest import SAMPLE_COLUMNS, make_manifest, read_samples
from labopt.lab.plates import PlateSpec
from labopt.lab.results import RESULT_COLUMNS, read_results
from labopt.lab.tables import LabInputError, Problems, sheet_rows, text_table
from labopt.pooling.designs import Design
from labopt.scenario import Scenario, scenario_from_data
from labopt.scenario.updates import DistrictDay, check_district_day, day_of
from labopt_api.deps import Caller, DbSession, Paging
from labopt_api.errors import field_error, json_rows_detail
from labopt_api.models import LabBatchRecord, text_length
from labopt_api.paging import page
from labopt_api.responses import TABLE_CONTENT, table_format, table_response
from labopt_api.schemas import (
    ERRORS,
    FIRST_DAY,
    LAST_DAY,
    ApplyOut,
    BatchIn,
    BatchOut,
    EstimateIn,
    EstimateOut,
    Page,
    ResultsIn,
)
from labopt_api.security import Principal, forbidden, require_coordinator
from labopt_api.store import batches, daily_records, district_days, scenarios
from labopt_api.store.batches import Conflict, Gone, ManifestCache, change_batch, load_batch
from labopt_api.stored_text import ONE_LINE, sample_text_problems
from labopt_api.uploads import read_table_upload, upload_name

router = APIRouter(prefix="/v1/batches", tags=["lab batches"], responses=ERRORS)
estimates_router = APIRouter(prefix="/v1/scenarios", tags=["lab batches"], responses=ERRORS)
TABLES = (
    "manifest",
    "plates",
    "results_log",
    "pools",
    "statuses",
    "retest",
    "first_stage",
    "results_template",
    "recollect",
)


# ---------------------------------------------------------------------- access
def _batch(db: DbSession, batch_id: str, who: Principal, what: str) -> LabBatchRecord:
    record = batches.get(db, batch_id)
    if not batches.may_use_lab(who, record.province_code, record.lab):
        raise forbidden(f"{what} batches of {record.province_code}/{record.lab}")
    return record


def _manifests(request: Request) -> ManifestCache:
    return request.app.state.manifests


def batch_out(record: LabBatchRecord) -> BatchOut:
    names = [n for n in TABLES if n != "recollect" or record.mode == "field"]
    return BatchOut(
        id=record.id,
        scenario_id=record.scenario_id,
        lab=record.lab,
        label=record.label,
        date=record.date,
        algorithm=record.algorithm,
        config=record.config,
        mode=record.mode,
        plate=record.plate,
        recollection_hours=record.recollection_hours,
        samples=record.samples,
        runs=record.runs,
        summary=record.summary,
        version=record.version,
        created_by=record.created_by,
        created_at=record.created_at,
        updated_at=record.updated_at,
        tables=names,
    )


# ---------------------------------------------------------------------- create
def _check_samples(scn: Scenario, samples: pd.DataFrame, source: str) -> None:
    """Districts and streams named by samples must be the scenario's (their estimates feed
    its plan)."""
    problems = Problems(source)
    rows = sheet_rows(len(samples))
    known: dict[str, Any]
    for column, known in (("district", scn.district_by_code), ("stream", scn.stream_by_id)):
        if column not in samples.columns:
            continue
        values = samples[column].to_numpy(dtype=object)
        bad = np.array([v != "" and v not in known for v in values], dtype=bool)
        problems.add_rows(
            bad,
            rows,
            values,
            column,
            f"not a {column} of the scenario; allowed: "
            f"{', '.join(sorted(known)[:20])}{' ...' if len(known) > 20 else ''}",
        )
    for bad, column, message in sample_text_problems(samples):
        values = np.array([v[:40] for v in samples[column].to_numpy(dtype=object)], dtype=object)
        problems.add_rows(bad, rows, values, column, message)
    problems.raise_if_any()


def _check_pool_size(scn: Scenario, lab: str, design: Design) -> None:
    """A lab pools no more samples in one reaction than it has validated."""
    largest = design.largest_pool
    validated = scn.lab_by_id[lab].max_pool_size
    if largest > validated:
        raise field_error(
            "config",
            f"config: the design {design.algorithm} {design.config!r} pools {largest} samples "
            f"in one reaction, but lab {lab!r} has validated pools of at most {validated} "
            f"(max_pool_size in the scenario's labs table)",
            value=design.config,
            has_value=True,
        )


def _create(
    db: DbSession,
    who: Principal,
    *,
    scenario_id: str,
    lab: str,
    label: str,
    date: dt.date,
    algorithm: str,
    config: str,
    field: bool,
    recollection_hours: float,
    spec: PlateSpec,
    samples: pd.DataFrame,
    source: str,
) -> LabBatchRecord:
    scenario = scenarios.get(db, scenario_id)
    province = scenario.province_code
    if not batches.may_use_lab(who, province, lab):
        raise forbidden(f"create batches for {province}/{lab}")
    scn = scenario_from_data(scenario.data, source=f"scenario {scenario.id}")
    if lab not in scn.lab_by_id:
        raise field_error(
            "lab",
            f"lab: {lab!r} is not a lab of scenario {scenario.id}; labs: "
            f"{', '.join(sorted(scn.lab_by_id))}",
            value=lab,
            has_value=True,
        )
    taken = batches.label_user(db, scenario.id, label)
    if taken:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"label {label!r} is already used by batch {taken} of "
            f"this scenario; labels name pools and plates, so each "
            f"batch needs its own",
        )
    _check_samples(scn, samples, source)
    manifest = make_manifest(samples, algorithm, config, field=field, batch=label, source=source)
    _check_pool_size(scn, lab, manifest.design)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    batch = LabBatch.start(manifest, spec, recollection_hours, lab=lab, date=today)
    record, run = batches.new_record(
        batch,
        id=uuid.uuid4().hex,
        scenario_id=scenario.id,
        province_code=province,
        lab=lab,
        label=label,
        date=date,
        created_by=who.key_id,
    )
    if not batches.add(db, record, run):
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"label {label!r} is already used in this scenario"
        )
    return record


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchOut,
    summary="Create a batch: its pool manifest and the first run's plates",
    operation_id="batches-create",
)
def create(body: BatchIn, who: Caller, db: DbSession) -> BatchOut:
    rows = [s.model_dump(exclude_none=True) for s in body.samples]
    samples = text_table(
        pd.DataFrame.from_records(rows), "samples", ["sample_id"], SAMPLE_COLUMNS[1:]
    )
    spec = PlateSpec(**body.plate.model_dump())
    try:
        record = _create(
            db,
            who,
            scenario_id=body.scenario_id,
            lab=body.lab,
            label=body.label,
            date=body.date,
            algorithm=body.algorithm,
            config=body.config,
            field=body.field,
            recollection_hours=body.recollection_hours,
            spec=spec,
            samples=samples,
            source="samples",
        )
    except LabInputError as exc:
        raise HTTPException(422, detail=json_rows_detail(exc, "samples")) from None
    return batch_out(record)


@router.post(
    "/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchOut,
    summary="Create a batch from a CSV or XLSX file of samples",
    operation_id="batches-upload",
)
def create_from_file(
    who: Caller,
    db: DbSession,
    file: UploadFile = File(
        ..., description="'sample_id' column; optional stream, risk, district, address_group"
    ),
    scenario_id: str = Form(..., min_length=1, max_length=64),
    lab: str = Form(..., min_length=1, max_length=text_length(LabBatchRecord.lab)),
    label: str = Form(..., min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$"),
    # FastAPI's stubs type the bounds as numbers; pydantic compares dates as well
    date: dt.date = Form(..., ge=FIRST_DAY, le=LAST_DAY),  # type: ignore[arg-type]
    algorithm: str = Form(..., max_length=8),
    config: str = Form("", max_length=text_length(LabBatchRecord.config), pattern=ONE_LINE),
    field: bool = Form(False),
    recollection_hours: float = Form(24.0, ge=0, le=24 * 30),
    plate: int = Form(96, description="96 or 384"),
    controls: str = Form("positive=1,negative=1,blank=1", max_length=200),
    order: str = Form("column", max_length=10),
) -> BatchOut:
    return batch_from_file(
        who,
        db,
        file,
        scenario_id=scenario_id,
        lab=lab,
        label=label,
        date=date,
        algorithm=algorithm,
        config=config,
        field=field,
        recollection_hours=recollection_hours,
        plate=plate,
        controls=controls,
        order=order,
    )


def batch_from_file(
    who: Principal,
    db: DbSession,
    file: UploadFile,
    *,
    scenario_id: str,
    lab: str,
    label: str,
    date: dt.date,
    algorithm: str,
    config: str,
    field: bool = False,
    recollection_hours: float = 24.0,
    plate: int = 96,
    controls: str = "positive=1,negative=1,blank=1",
    order: str = "column",
) -> BatchOut:
    """A batch from a file of samples, its fields checked as the route's form checks them
    (the web app's lab's day calls it with a :class:`BatchDesign`)."""
    province = scenarios.get(db, scenario_id).province_code
    if not batches.may_use_lab(who, province, lab):  # before reading the file
        raise forbidden(f"create batches for {province}/{lab}")
    name = upload_name(file)
    spec = PlateSpec.parse(plate, controls, order)
    samples = read_table_upload(file, name, read_samples)
    record = _create(
        db,
        who,
        scenario_id=scenario_id,
        lab=lab,
        label=label,
        date=date,
        algorithm=algorithm,
        config=config,
        field=field,
        recollection_hours=recollection_hours,
        spec=spec,
        samples=samples,
        source=name,
    )
    return batch_out(record)


# ---------------------------------------------------------------------- read
@router.get(
    "",
    response_model=Page[BatchOut],
    summary="List the batches you may see, newest first",
    operation_id="batches-list",
)
def list_batches(
    params: Paging,
    who: Caller,
    db: DbSession,
    scenario_id: str | None = Query(None, max_length=32, pattern=ONE_LINE),
    lab: str | None = Query(None, max_length=100, pattern=ONE_LINE),
    date: dt.date | None = None,
) -> dict[str, Any]:
    q = batches.listing(who, scenario_id=scenario_id, lab=lab, date=date)
    return page(db, q, params, lambda rows: [batch_out(r[0]) for r in rows])


@router.get(
    "/{batch_id}",
    response_model=BatchOut,
    summary="A batch and its counts",
    operation_id="batches-read",
)
def read(batch_id: str, who: Caller, db: DbSession) -> BatchOut:
    return batch_out(_batch(db, batch_id, who, "read"))


def _results_log(db: DbSession, batch: LabBatch, stored: pd.DataFrame) -> pd.DataFrame:
    """The log with who sent each result (key id and label)."""
    log = batch.log_frame()
    ids = stored.set_index("seq")["submitted_by"]
    log["submitted_by"] = ids.reindex(log["seq"]).to_numpy()
    labels = batches.key_labels(db, [int(i) for i in ids.dropna().unique()])
    log["submitted_by_label"] = [labels.get(i, "") if i == i else "" for i in log["submitted_by"]]
    return log


@router.get(
    "/{batch_id}/tables/{name}",
    responses=TABLE_CONTENT,
    summary="A batch table as CSV (default) or XLSX",
    operation_id="batches-table",
)
def table(
    batch_id: str,
    name: str,
    request: Request,
    who: Caller,
    db: DbSession,
    accept: str | None = Header(None),
) -> Response:
    name, fmt = table_format(name, accept)
    record, df = batch_table(db, request, who, batch_id, name)
    return table_response(df, f"{record.label}_{name}", fmt)


def batch_table(
    db: DbSession, request: Request, who: Principal, batch_id: str, name: str
) -> tuple[LabBatchRecord, pd.DataFrame]:
    """A batch and its table ``name`` as data (the values as stored; a file of it escapes
    what a spreadsheet would read as a formula), for a key that may read the batch."""
    record = _batch(db, batch_id, who, "read")
    if name not in TABLES or (name == "recollect" and record.mode != "field"):
        names = [n for n in TABLES if n != "recollect" or record.mode == "field"]
        raise HTTPException(404, detail=f"no table {name!r}; tables: {', '.join(names)}")
    batch, stored = load_batch(db, record, _manifests(request))
    df = _results_log(db, batch, stored) if name == "results_log" else batch.tables()[f"{name}.csv"]
    return record, df


@router.get(
    "/{batch_id}/plates.html",
    responses={200: {"content": {"text/html": {}}}},
    summary="Printable plate map of the run waiting for results",
    operation_id="batches-plate-map",
)
def plate_map(
    batch_id: str,
    request: Request,
    who: Caller,
    db: DbSession,
    lang: Literal["en", "vi"] = Query("en", description="the page's language"),
) -> HTMLResponse:
    record = _batch(db, batch_id, who, "read")
    batch, _ = load_batch(db, record, _manifests(request))
    return HTMLResponse(batch.plate_map_html(lang))


@router.delete(
    "/{batch_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a batch that has no results yet",
    operation_id="batches-delete",
)
def delete(batch_id: str, who: Caller, db: DbSession) -> Response:
    record = _batch(db, batch_id, who, "delete")
    results = batches.result_count(db, batch_id)
    if results:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"batch {record.label} has {results} recorded results; "
            f"results are kept, so it cannot be deleted",
        )
    if not batches.delete(db, record, who):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"batch {record.label} received results meanwhile; "
            f"results are kept, so it cannot be deleted",
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------- results
def _apply(
    db: DbSession,
    request: Request,
    who: Principal,
    batch_id: str,
    table: pd.DataFrame,
    source: str,
    correct: bool,
) -> ApplyOut:
    _batch(db, batch_id, who, "upload results to")

    def change(batch: LabBatch, when: str) -> tuple[LabBatch, Any]:
        batch, report = batch.apply(table, source=source, corrections=correct, recorded_at=when)
        return batch.schedule_next(), report

    try:
        record, _, report, wrote = change_batch(
            db, batch_id, _manifests(request), change, who.key_id
        )
    except Conflict:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="the batch kept changing while these results were being "
            "recorded; send them again",
        ) from None
    except Gone:  # deleted while these results were checked
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no batch {batch_id!r}") from None
    return ApplyOut(**report.to_dict(), changed=wrote, batch=batch_out(record))


@router.post(
    "/{batch_id}/results",
    response_model=ApplyOut,
    summary="Record a run's results (JSON); sending the same results again changes nothing",
    operation_id="batches-results",
)
def post_results(
    batch_id: str, body: ResultsIn, request: Request, who: Caller, db: DbSession
) -> ApplyOut:
    rows = [r.model_dump(exclude_none=True) for r in body.results]
    try:
        table = text_table(pd.DataFrame.from_records(rows), body.source, *RESULT_COLUMNS)
        return _apply(db, request, who, batch_id, table, body.source, body.correct)
    except LabInputError as exc:
        raise HTTPException(422, detail=json_rows_detail(exc, "results")) from None


@router.post(
    "/{batch_id}/results/upload",
    response_model=ApplyOut,
    summary="Record a run's results from a CSV or XLSX file",
    operation_id="batches-results-upload",
)
def upload_results(
    batch_id: str,
    request: Request,
    who: Caller,
    db: DbSession,
    file: UploadFile = File(
        ...,
        description="'result' with 'pool_id' or "
        "'plate'+'well' or 'sample_id'; "
        "optional 'ct', 'run'",
    ),
    correct: bool = Form(False),
) -> ApplyOut:
    _batch(db, batch_id, who, "upload results to")  # before reading the file
    name = upload_name(file)
    table = read_table_upload(file, name, read_results)
    return _apply(db, request, who, batch_id, table, name, correct)


# ---------------------------------------------------------------------- estimates
def _estimate_batches(
    db: DbSession, scenario_id: str, body: EstimateIn, who: Principal
) -> list[LabBatchRecord]:
    if body.batch_ids is not None:
        repeated = sorted({i for i in body.batch_ids if body.batch_ids.count(i) > 1})
        if repeated:
            raise field_error(
                "batch_ids",
                f"batch_ids: {', '.join(map(repr, repeated))} named more than once; "
                f"each batch's results count once",
                value=repeated,
                has_value=True,
            )
        found = batches.find(db, body.batch_ids)
        missing = [
            i
            for i, r in zip(body.batch_ids, found, strict=True)
            if r is None or r.scenario_id != scenario_id
        ]
        if missing:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"no batch {', '.join(map(repr, missing))} in scenario {scenario_id}",
            )
        records = [r for r in found if r is not None]
    elif body.date is not None:
        records = batches.collected_on(db, who, scenario_id, body.date)
        if not records:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"no batch you may read was collected on {body.date} "
                f"in scenario {scenario_id}",
            )
    else:
        raise field_error("batch_ids", "batch_ids or date: name the batches")
    for r in records:
        if not batches.may_use_lab(who, r.province_code, r.lab):
            raise forbidden(f"read batches of {r.province_code}/{r.lab}")
    return records


def _store_estimates(
    db: DbSession,
    scenario_id: str,
    est: pd.DataFrame,
    for_date: dt.date,
    who: Principal,
    labels: list[str],
) -> list[str]:
    """Each district's estimates become its prevalence for ``for_date``: a new district-day
    submission merged with its current one (its other values stay); the old one is kept in
    the history."""
    missing = [c for c in ("district", "stream") if c not in est.columns]
    if missing or (est["district"] == "").any() or (est["stream"] == "").any():
        raise field_error(
            "store",
            "store: estimates are stored per district and stream, and some samples of these "
            "batches have no district or stream; send store=false, or give every sample its "
            "district and stream",
        )

    est = est.assign(prevalence=planning_prevalence(est))

    def build(scn: Scenario) -> list[district_days.Submission]:
        day_of(scn, for_date, "for_date")
        out = []
        for district, group in est.groupby("district", sort=True):
            current = district_days.current_row(db, scenario_id, str(district), for_date)
            payload = dict(current.payload) if current else {}
            prevalence = {
                **payload.get("prevalence", {}),
                **{s: float(p) for s, p in zip(group["stream"], group["prevalence"], strict=True)},
            }
            report = DistrictDay(
                str(district),
                for_date,
                payload.get("epidemic_level"),
                prevalence,
                payload.get("samples", {}),
            )
            check_district_day(scn, report)
            out.append(
                (
                    str(district),
                    for_date,
                    {**payload, "prevalence": prevalence, "estimated_from": labels},
                )
            )
        return out

    rows = district_days.submit(db, scenario_id, who, build, estimated_from=labels)
    return [r.district for r in rows]


def _record_daily_estimates(
    db: DbSession,
    scn: Scenario,
    scenario_id: str,
    est: pd.DataFrame,
    for_date: dt.date,
    who: Principal,
    labels: list[str],
) -> str | None:
    """The estimates as the daily loop's prevalence records, dated the day before
    ``for_date`` (so plans from ``for_date`` on use them), merged with each unit's current
    records of that day (its other streams stay); None where the loop cannot take them."""
    date = for_date - dt.timedelta(days=1)
    if date < scn.province.start_date:
        return None
    new = est[["district", "stream"]].assign(prevalence=planning_prevalence(est).to_numpy())
    _, recs = daily_records.records(db, scenarios.get(db, scenario_id))
    now = recs.on("prevalence", date)
    keep = now[now["district"].isin(set(new["district"]))]
    estimated = pd.MultiIndex.from_frame(new[["district", "stream"]])
    keep = keep[~pd.MultiIndex.from_frame(keep[["district", "stream"]]).isin(estimated)]
    rows = pd.concat([keep[["district", "stream", "prevalence"]], new], ignore_index=True)
    rows = rows.assign(prevalence=[repr(float(p)) for p in rows["prevalence"]])
    source = f"estimates from {', '.join(labels)}"[:200]
    up = daily_records.record(
        db, scenario_id, who, "prevalence", rows, source, lambda _code: True, date
    )
    return up.upload or None


@estimates_router.post(
    "/{scenario_id}/estimates",
    response_model=EstimateOut,
    summary="Prevalence per district and stream from batches' pooled "
    "results; stored for the next plan",
    operation_id="scenarios-estimates",
)
def estimate(
    scenario_id: str, body: EstimateIn, request: Request, who: Caller, db: DbSession
) -> EstimateOut:
    scenario = scenarios.get(db, scenario_id)
    if body.store:
        require_coordinator(
            who, scenario.province_code, f"store prevalence estimates for {scenario.province_code}"
        )
    records = _estimate_batches(db, scenario_id, body, who)
    scn = scenario_from_data(scenario.data, source=f"scenario {scenario.id}")
    se = body.se if body.se is not None else scn.policy.pooling_se
    sp = body.sp if body.sp is not None else scn.policy.pooling_sp
    frames = []
    for r in records:
        batch, _ = load_batch(db, r, _manifests(request))
        frames.append(batch.decoding.first_stage_frame())
    first = pd.concat(frames, ignore_index=True)
    if first.empty:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="these batches have no valid first-stage results yet"
        )
    keys = tuple(c for c in ("district", "stream") if (first[c] != "").any())
    est = estimate_table(
        first, se=se, sp=sp, level=body.level, by=keys, source="first-stage results"
    )
    if body.design_at is not None:
        est = with_design(
            est, design_prevalence(est, body.design_at), se=se, sp=sp, max_size=body.max_size
        )
    for_date = body.for_date or max(r.date for r in records) + dt.timedelta(days=1)
    labels = [r.label for r in records]
    stored, upload = [], None
    if body.store:
        stored = _store_estimates(db, scenario_id, est, for_date, who, labels)
        upload = _record_daily_estimates(db, scn, scenario_id, est, for_date, who, labels)
    rows = est.replace({np.nan: None}).to_dict("records")
    return EstimateOut(
        scenario_id=scenario_id,
        for_date=for_date,
        batches=labels,
        se=se,
        sp=sp,
        estimates=rows,
        stored=stored,
        daily_record=upload,
    )
