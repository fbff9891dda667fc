"""Scenarios: create (JSON or uploaded files), list, read, replace (ETag / If-Match), delete;
capacity; the districts' daily input."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import uuid
import zipfile
import zlib
from pathlib import Path

from fastapi import (
    APIRouter,
    Depends,
    File,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from sqlalchemy import false, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labopt.capacity import capacity_report
from labopt.scenario import Scenario, load_scenario, scenario_from_data, scenario_to_data
from labopt.scenario.updates import DistrictDay, check_district_day
from labopt_api import audit
from labopt_api.deps import principal, session
from labopt_api.district_days import (
    add_submission,
    archive,
    lock_scenario,
    not_applied,
    submissions,
    with_retries,
)
from labopt_api.errors import value_error
from labopt_api.jobs import build_scenario
from labopt_api.models import DistrictDayRecord, LabBatchRecord, ScenarioRecord, now, text_length
from labopt_api.paging import PageParams, page, page_params
from labopt_api.schemas import (
    ERRORS,
    DistrictDayIn,
    DistrictDayOut,
    Page,
    ScenarioData,
    ScenarioOut,
    ScenarioReplaced,
    ScenarioSummary,
)
from labopt_api.security import Principal, forbidden, require_coordinator
from labopt_api.stored_text import check_scenario_size, check_scenario_text, usable_id
from labopt_api.uploads import check_scenario_file

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"], responses=ERRORS)
MAX_FILES = 50
SUMMARY_COLUMNS = (
    ScenarioRecord.id,
    ScenarioRecord.province_code,
    ScenarioRecord.name,
    ScenarioRecord.start_date,
    ScenarioRecord.days,
    ScenarioRecord.units,
    ScenarioRecord.labs,
    ScenarioRecord.version,
    ScenarioRecord.created_at,
    ScenarioRecord.updated_at,
)


def summary(r) -> ScenarioSummary:
    """A record's (or a row of SUMMARY_COLUMNS') summary: its columns only, never ``data``."""
    return ScenarioSummary(
        id=r.id,
        province_code=r.province_code,
        name=r.name,
        start_date=r.start_date,
        days=r.days,
        units=r.units,
        labs=r.labs,
        version=r.version,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def etag(r: ScenarioRecord) -> str:
    """The scenario's entity tag: its version, which every replacement raises."""
    return f'"{r.version}"'


def _etag_header(r: ScenarioRecord) -> dict[str, str]:
    return {"ETag": etag(r)}


def get_record(db: Session, scenario_id: str) -> ScenarioRecord:
    r = db.get(ScenarioRecord, scenario_id) if usable_id(scenario_id) else None
    if r is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no scenario {scenario_id!r}")
    return r


def can_read(p: Principal, province: str) -> bool:
    return p.coordinates(province) or bool(p.units(province))


def readable(p: Principal):
    """The SQL condition for the scenarios ``p`` may read (the rule of can_read)."""
    if p.is_admin() or (p.role == "coordinator" and "*" in p.scopes):
        return true()
    if p.role == "coordinator":
        return ScenarioRecord.province_code.in_(p.scopes)
    provinces = sorted({s.split("/")[0] for s in p.scopes if "/" in s})
    return ScenarioRecord.province_code.in_(provinces) if provinces else false()


def _batches(db: Session, scenario_id: str) -> int:
    return db.execute(
        select(func.count())
        .select_from(LabBatchRecord)
        .where(LabBatchRecord.scenario_id == scenario_id)
    ).scalar_one()


def _columns(scn: Scenario) -> dict:
    """What a list shows of a scenario, kept in columns beside its JSON."""
    return {
        "province_code": scn.province.code,
        "name": scn.province.name,
        "start_date": scn.province.start_date,
        "days": scn.province.days,
        "units": len(scn.districts),
        "labs": len(scn.labs),
    }


def _stored(scn: Scenario, request: Request) -> dict:
    """The JSON form of ``scn`` as stored, once its texts and size are checked."""
    data = scenario_to_data(scn)
    check_scenario_text(scn, data)
    check_scenario_size(data, request.app.state.settings.max_body_bytes)
    return data


def _create(db: Session, scn: Scenario, who: Principal, request: Request) -> ScenarioRecord:
    data = _stored(scn, request)
    record = ScenarioRecord(id=uuid.uuid4().hex, data=data, version=1, **_columns(scn))
    db.add(record)
    audit.record(
        db,
        who,
        "scenario.create",
        "scenario",
        record.id,
        province=scn.province.code,
        name=scn.province.name,
    )
    db.commit()
    return record


def _matches(if_match: str | None, r: ScenarioRecord) -> bool:
    """Whether an If-Match header allows changing ``r`` (no header: always)."""
    if if_match is None:
        return True
    tags = {t.strip() for t in if_match.split(",")}
    return "*" in tags or etag(r) in tags


def _stale(r: ScenarioRecord) -> HTTPException:
    return HTTPException(
        status.HTTP_412_PRECONDITION_FAILED,
        detail=(
            f"scenario {r.id} is at version {r.version} (ETag {etag(r)}), not the one in "
            f"If-Match: read it again and re-apply your change"
        ),
        headers=_etag_header(r),
    )


def _replace(
    db: Session,
    scenario_id: str,
    scn: Scenario,
    who: Principal,
    if_match: str | None,
    response: Response,
    request: Request,
) -> ScenarioReplaced:
    """Replace the stored scenario. The row is locked while it is checked and written (two
    replacements, or a replacement and a unit's input, are written one after the other), and
    an If-Match naming another version gets 412."""
    data = _stored(scn, request)
    r = lock_scenario(db, scenario_id) if usable_id(scenario_id) else None
    if r is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no scenario {scenario_id!r}")
    require_coordinator(who, r.province_code, f"replace scenarios of {r.province_code}")
    require_coordinator(who, scn.province.code, f"move a scenario to {scn.province.code}")
    if not _matches(if_match, r):
        raise _stale(r)
    if scn.province.code != r.province_code and _batches(db, r.id):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=(
                f"scenario {r.id} has lab batches of province {r.province_code}; "
                f"their access follows the province, so it cannot become "
                f"{scn.province.code}: create a new scenario instead"
            ),
        )
    version = r.version + 1
    moved = db.execute(
        update(ScenarioRecord)
        .where(ScenarioRecord.id == r.id, ScenarioRecord.version == r.version)
        .values(data=data, version=version, updated_at=now(), **_columns(scn))
    )
    if moved.rowcount != 1:  # SQLite: replaced since it was read
        db.rollback()
        raise _stale(db.get(ScenarioRecord, scenario_id, populate_existing=True))
    left = not_applied(db, scn, r.id)
    audit.record(
        db,
        who,
        "scenario.replace",
        "scenario",
        r.id,
        version=version,
        province=scn.province.code,
        name=scn.province.name,
        district_days_not_applied=len(left),
    )
    db.commit()
    r = db.get(ScenarioRecord, scenario_id, populate_existing=True)
    response.headers["ETag"] = etag(r)
    notes = [f"{d.district} {d.date}: {why}" for d, why in left[:20]]
    if len(left) > 20:
        notes.append(f"... and {len(left) - 20} more")
    if left:
        notes.insert(
            0,
            f"{len(left)} current unit inputs no longer fit the scenario: they "
            f"stay in the history and plans leave them out",
        )
    return ScenarioReplaced(
        **summary(r).model_dump(), district_days_not_applied=len(left), notes=notes
    )


def _from_upload(upload: UploadFile) -> Scenario:
    """An XLSX workbook, or a zip of scenario.toml + CSV files (at the root or in one folder)."""
    name = Path(upload.filename or "upload").name
    content = upload.file.read()
    check_scenario_file(content, name)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if name.lower().endswith(".xlsx"):
            path = root / name
            path.write_bytes(content)
            return load_scenario(path)
        if not name.lower().endswith(".zip"):
            raise ValueError(f"file: {name!r} is neither an .xlsx workbook nor a .zip of CSV files")
        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
        except zipfile.BadZipFile:
            raise ValueError(f"file: {name!r} is not a valid zip archive") from None
        members = [m for m in archive.infolist() if not m.is_dir()]
        for m in members:
            target = (root / m.filename).resolve()
            if root.resolve() not in target.parents:
                raise ValueError(f"file: {name!r} contains an unsafe path {m.filename!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.write_bytes(archive.read(m))
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise ValueError(
                    f"file: {m.filename!r} in {name!r} cannot be read: {exc}"
                ) from None
        tomls = list(root.rglob("scenario.toml"))
        folder = tomls[0].parent if len(tomls) == 1 else root
        return load_scenario(folder)


IF_MATCH = Header(
    None,
    description="the ETag of the version this change starts from: "
    "412 if the scenario changed since (without it, the "
    "last write wins)",
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ScenarioSummary,
    summary="Create a scenario from JSON",
)
def create(
    body: ScenarioData,
    request: Request,
    response: Response,
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    scn = scenario_from_data(body.model_dump())
    require_coordinator(who, scn.province.code, f"create scenarios of {scn.province.code}")
    r = _create(db, scn, who, request)
    response.headers["ETag"] = etag(r)
    return summary(r)


@router.post(
    "/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=ScenarioSummary,
    summary="Create a scenario from an XLSX workbook or a zip of CSV files",
)
def create_from_file(
    request: Request,
    response: Response,
    file: UploadFile = File(...),
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    if who.role not in ("admin", "coordinator"):
        raise forbidden("create scenarios")
    scn = _from_upload(file)
    require_coordinator(who, scn.province.code, f"create scenarios of {scn.province.code}")
    r = _create(db, scn, who, request)
    response.headers["ETag"] = etag(r)
    return summary(r)


@router.get(
    "",
    response_model=Page[ScenarioSummary],
    summary="List the scenarios you may see, oldest first (without their tables)",
)
def list_scenarios(
    params: PageParams = Depends(page_params),
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    q = (
        select(*SUMMARY_COLUMNS)
        .where(readable(who))
        .order_by(ScenarioRecord.created_at, ScenarioRecord.id)
    )
    return page(db, q, params, lambda rows: [summary(r) for r in rows])


@router.get(
    "/{scenario_id}", response_model=ScenarioOut, summary="Read a scenario (its ETag: the version)"
)
def read(
    scenario_id: str,
    response: Response,
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    r = get_record(db, scenario_id)
    if not can_read(who, r.province_code):
        raise forbidden(f"read scenarios of {r.province_code}")
    response.headers["ETag"] = etag(r)
    return ScenarioOut(**summary(r).model_dump(), data=ScenarioData(**r.data))


@router.put(
    "/{scenario_id}",
    response_model=ScenarioReplaced,
    summary="Replace a scenario (If-Match: 412 when it changed since)",
)
def replace(
    scenario_id: str,
    body: ScenarioData,
    request: Request,
    response: Response,
    if_match: str | None = IF_MATCH,
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    r = get_record(db, scenario_id)
    require_coordinator(who, r.province_code, f"replace scenarios of {r.province_code}")
    scn = scenario_from_data(body.model_dump())
    return _replace(db, scenario_id, scn, who, if_match, response, request)


@router.put(
    "/{scenario_id}/upload",
    response_model=ScenarioReplaced,
    summary="Replace a scenario from an XLSX workbook or a zip of CSV files (If-Match as for PUT)",
)
def replace_from_file(
    scenario_id: str,
    request: Request,
    response: Response,
    file: UploadFile = File(...),
    if_match: str | None = IF_MATCH,
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    r = get_record(db, scenario_id)
    require_coordinator(who, r.province_code, f"replace scenarios of {r.province_code}")
    scn = _from_upload(file)
    return _replace(db, scenario_id, scn, who, if_match, response, request)


@router.delete(
    "/{scenario_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a scenario without lab batches, and its plans; with units' "
    "inputs only with force=true (they are kept in the audit trail)",
)
def delete(
    scenario_id: str,
    force: bool = Query(
        False,
        description="delete although units have submitted "
        "input; their submissions and the scenario "
        "are kept in the audit event",
    ),
    if_match: str | None = IF_MATCH,
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    r = get_record(db, scenario_id)
    require_coordinator(who, r.province_code, f"delete scenarios of {r.province_code}")
    refused = HTTPException(
        status.HTTP_409_CONFLICT,
        detail=(
            f"scenario {scenario_id} has lab batches; delete those without results first "
            f"(results are kept, so a scenario with results stays)"
        ),
    )
    r = lock_scenario(db, scenario_id)  # no input or replacement meanwhile
    if r is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no scenario {scenario_id!r}")
    if not _matches(if_match, r):
        raise _stale(r)
    if _batches(db, scenario_id):
        raise refused
    inputs = submissions(db, scenario_id)
    if inputs and not force:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=(
                f"scenario {scenario_id} holds {inputs} district-day submissions from its units; "
                f"send force=true to delete it anyway (they are kept in the audit trail)"
            ),
        )
    audit.record(
        db,
        who,
        "scenario.delete",
        "scenario",
        r.id,
        province=r.province_code,
        name=r.name,
        version=r.version,
        forced=bool(inputs),
        **({"scenario": r.data, "district_days": archive(db, scenario_id)} if inputs else {}),
    )
    db.delete(r)
    try:
        db.commit()
    except IntegrityError:  # a batch created meanwhile
        db.rollback()
        raise refused from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{scenario_id}/capacity", summary="Capacity report for one day", response_model=dict)
def capacity(
    scenario_id: str,
    day: int = Query(1, ge=1, le=366, description="day of the horizon (1: its start date)"),
    expand: bool = True,
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    r = get_record(db, scenario_id)
    require_coordinator(who, r.province_code, f"read the capacity of {r.province_code}")
    scn = build_scenario(db, r)
    try:
        return capacity_report(scn, day, expand=expand).to_dict()
    except ValueError as exc:
        raise HTTPException(422, detail=[query_error(exc)]) from None


def query_error(exc: ValueError) -> dict:
    """A 422 item for a query parameter: named as one in the message too."""
    item = value_error(exc, where="query")
    if len(item["loc"]) > 1:
        name = item["loc"][-1]
        item["msg"] = f"query parameter '{name}'{item['msg'][len(name) :]}"
    return item


# ---------------------------------------------------------------------- district input
def _record_out(row: DistrictDayRecord) -> dict:
    return {
        "epidemic_level": row.payload.get("epidemic_level"),
        "prevalence": row.payload.get("prevalence", {}),
        "samples": row.payload.get("samples", {}),
        "submitted_at": row.submitted_at,
        "submitted_by": row.submitted_by,
    }


def _day_out(db: Session, scenario_id: str, code: str, date: dt.date) -> DistrictDayOut:
    rows = (
        db.execute(
            select(DistrictDayRecord)
            .where(
                DistrictDayRecord.scenario_id == scenario_id,
                DistrictDayRecord.district == code,
                DistrictDayRecord.date == date,
            )
            .order_by(DistrictDayRecord.id.desc())
        )
        .scalars()
        .all()
        if usable_id(code, DistrictDayRecord.district)
        else []
    )
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no input from {code!r} for {date}")
    return DistrictDayOut(
        scenario_id=scenario_id,
        district=code,
        date=date,
        current=_record_out(next((r for r in rows if r.current), rows[0])),
        history=[_record_out(r) for r in rows],
    )


def _may_report(who: Principal, province: str, code: str) -> bool:
    return who.coordinates(province) or (who.role == "district" and code in who.units(province))


@router.put(
    "/{scenario_id}/districts/{code}/days/{date}",
    response_model=DistrictDayOut,
    summary="A unit's risk level, prevalence and sample requests for one day",
)
def put_district_day(
    scenario_id: str,
    code: str,
    date: dt.date,
    body: DistrictDayIn,
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    r = get_record(db, scenario_id)
    if not _may_report(who, r.province_code, code):
        raise forbidden(f"submit input for {r.province_code}/{code}")
    if not usable_id(code, DistrictDayRecord.district):  # e.g. a scenario stored before
        raise HTTPException(
            422,
            detail=[
                {  # codes were checked
                    "loc": ["path", "code"],
                    "type": "value_error",
                    "msg": f"code: at most {text_length(DistrictDayRecord.district)} characters of "
                    f"printable text",
                }
            ],
        )
    payload = body.model_dump()
    report = DistrictDay(code, date, body.epidemic_level, body.prevalence, body.samples)

    def attempt() -> None:
        # checked against the scenario as it is under the lock, not as first read
        locked = lock_scenario(db, scenario_id)
        if locked is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no scenario {scenario_id!r}")
        try:
            check_district_day(scenario_from_data(locked.data), report)
        except ValueError as exc:
            raise HTTPException(422, detail=[value_error(exc)]) from None
        row = add_submission(db, scenario_id, code, date, payload, who.key_id)
        audit.record(
            db,
            who,
            "district_day.submit",
            "district_day",
            f"{scenario_id}/{code}/{date}",
            submission=row.id,
        )
        db.commit()

    with_retries(db, attempt)
    return _day_out(db, scenario_id, code, date)


@router.get(
    "/{scenario_id}/districts/{code}/days/{date}",
    response_model=DistrictDayOut,
    summary="A unit's input for one day, with its history",
)
def get_district_day(
    scenario_id: str,
    code: str,
    date: dt.date,
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    r = get_record(db, scenario_id)
    if not _may_report(who, r.province_code, code):
        raise forbidden(f"read input of {r.province_code}/{code}")
    return _day_out(db, scenario_id, code, date)
