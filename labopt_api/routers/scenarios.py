"""Scenarios: create (JSON or uploaded files), list, read, replace (ETag / If-Match), delete;
capacity; the districts' daily input."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

from fastapi import (
    APIRouter,
    File,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)

from labopt.capacity import capacity_report
from labopt.errors import InputError
from labopt.scenario import Scenario, ScenarioError, load_scenario, scenario_from_data
from labopt.scenario.updates import DistrictDay, check_district_day, day_of
from labopt_api.deps import Caller, DbSession, Paging
from labopt_api.errors import field_error, json_scenario_detail, query_error
from labopt_api.models import DistrictDayRecord, ScenarioRecord, text_length
from labopt_api.paging import page
from labopt_api.schemas import (
    ERRORS,
    DistrictDayIn,
    DistrictDayOut,
    DistrictDayRecordOut,
    Page,
    ScenarioData,
    ScenarioOut,
    ScenarioReplaced,
    ScenarioSummary,
)
from labopt_api.security import Principal, forbidden, require_coordinator
from labopt_api.store import daily_records, district_days, scenarios
from labopt_api.stored_text import usable_id
from labopt_api.uploads import check_scenario_file

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"], responses=ERRORS)
MAX_NOTES = 20  # unapplied inputs listed one by one after a replacement
IF_MATCH = Header(
    None,
    description="the ETag of the version this change starts from: "
    "412 if the scenario changed since (without it, the "
    "last write wins)",
)


def summary(r: Any) -> ScenarioSummary:
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
        headers={"ETag": etag(r)},
    )


def _max_bytes(request: Request) -> int:
    return request.app.state.settings.max_body_bytes


def _create(db: DbSession, scn: Scenario, who: Principal, request: Request) -> ScenarioRecord:
    require_coordinator(who, scn.province.code, f"create scenarios of {scn.province.code}")
    return scenarios.create(db, scn, scenarios.stored_form(scn, _max_bytes(request)), who)


def _replace(
    db: DbSession,
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
    data = scenarios.stored_form(scn, _max_bytes(request))
    r = scenarios.lock(db, scenario_id)
    require_coordinator(who, r.province_code, f"replace scenarios of {r.province_code}")
    require_coordinator(who, scn.province.code, f"move a scenario to {scn.province.code}")
    if not _matches(if_match, r):
        raise _stale(r)
    if scn.province.code != r.province_code and scenarios.batch_count(db, r.id):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=(
                f"scenario {r.id} has lab batches of province {r.province_code}; "
                f"their access follows the province, so it cannot become "
                f"{scn.province.code}: create a new scenario instead"
            ),
        )
    moved = daily_records.routes_changed_under(db, scenario_from_data(r.data), scn, r.id)
    if moved:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=(
                "the daily records' shipments would change: "
                + "; ".join(moved[:MAX_NOTES])
                + " (keep the route and its lead time, unused from now on; to close a lab, "
                "record its availability as 0)"
            ),
        )
    left = district_days.not_applied(db, scn, r.id)
    unfit = daily_records.not_applied(db, scn, r.id)
    broken = daily_records.adds_up_under(db, scn, r.id)
    try:
        r = scenarios.replace(
            db,
            r,
            scn,
            data,
            who,
            district_days_not_applied=len(left),
            daily_records_not_applied=len(unfit),
        )
    except scenarios.Stale as exc:
        raise _stale(exc.record) from None
    response.headers["ETag"] = etag(r)
    notes = [f"{d.district} {d.date}: {why}" for d, why in left[:MAX_NOTES]]
    if len(left) > MAX_NOTES:
        notes.append(f"... and {len(left) - MAX_NOTES} more")
    if left:
        notes.insert(
            0,
            f"{len(left)} current unit inputs no longer fit the scenario: they "
            f"stay in the history and plans leave them out",
        )
    if unfit:
        notes.append(
            f"{len(unfit)} current rows of the daily records no longer fit the scenario: they "
            f"stay in the history, and daily plans and the history leave them out"
        )
        notes.extend(unfit[:MAX_NOTES])
        if len(unfit) > MAX_NOTES:
            notes.append(f"... and {len(unfit) - MAX_NOTES} more")
    if broken:
        notes.append(f"warning: under this scenario, {broken}")
    return ScenarioReplaced(
        **summary(r).model_dump(),
        district_days_not_applied=len(left),
        daily_records_not_applied=len(unfit),
        notes=notes,
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
            raise InputError(
                f"file: {name!r} is neither an .xlsx workbook nor a .zip of CSV files", "file"
            )
        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
        except zipfile.BadZipFile:
            raise InputError(f"file: {name!r} is not a valid zip archive", "file") from None
        members = [m for m in archive.infolist() if not m.is_dir()]
        for m in members:
            target = (root / m.filename).resolve()
            if root.resolve() not in target.parents:
                raise InputError(f"file: {name!r} contains an unsafe path {m.filename!r}", "file")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.write_bytes(archive.read(m))
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise InputError(
                    f"file: {m.filename!r} in {name!r} cannot be read: {exc}", "file"
                ) from None
        tomls = list(root.rglob("scenario.toml"))
        folder = tomls[0].parent if len(tomls) == 1 else root
        return load_scenario(folder)


def _from_json(body: ScenarioData) -> Scenario:
    """The scenario of a JSON body; its problems name the list items of the body's tables."""
    data = body.model_dump()
    try:
        return scenario_from_data(data)
    except ScenarioError as exc:
        tables = [k for k, v in data.items() if isinstance(v, list)]
        raise HTTPException(422, detail=json_scenario_detail(exc, tables)) from None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ScenarioSummary,
    summary="Create a scenario from JSON",
    operation_id="scenarios-create",
)
def create(
    body: ScenarioData, request: Request, response: Response, who: Caller, db: DbSession
) -> ScenarioSummary:
    r = _create(db, _from_json(body), who, request)
    response.headers["ETag"] = etag(r)
    return summary(r)


@router.post(
    "/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=ScenarioSummary,
    summary="Create a scenario from an XLSX workbook or a zip of CSV files",
    operation_id="scenarios-upload",
)
def create_from_file(
    request: Request,
    response: Response,
    who: Caller,
    db: DbSession,
    file: UploadFile = File(...),
) -> ScenarioSummary:
    if who.role not in ("admin", "coordinator"):
        raise forbidden("create scenarios")
    r = _create(db, _from_upload(file), who, request)
    response.headers["ETag"] = etag(r)
    return summary(r)


@router.get(
    "",
    response_model=Page[ScenarioSummary],
    summary="List the scenarios you may see, oldest first (without their tables)",
    operation_id="scenarios-list",
)
def list_scenarios(params: Paging, who: Caller, db: DbSession) -> dict[str, Any]:
    return page(db, scenarios.summaries(who), params, lambda rows: [summary(r) for r in rows])


@router.get(
    "/{scenario_id}",
    response_model=ScenarioOut,
    summary="Read a scenario (its ETag: the version)",
    operation_id="scenarios-read",
)
def read(scenario_id: str, response: Response, who: Caller, db: DbSession) -> ScenarioOut:
    r = scenarios.get(db, scenario_id)
    if not scenarios.can_read(who, r.province_code):
        raise forbidden(f"read scenarios of {r.province_code}")
    response.headers["ETag"] = etag(r)
    return ScenarioOut(**summary(r).model_dump(), data=ScenarioData(**r.data))


@router.put(
    "/{scenario_id}",
    response_model=ScenarioReplaced,
    summary="Replace a scenario (If-Match: 412 when it changed since)",
    operation_id="scenarios-replace",
)
def replace(
    scenario_id: str,
    body: ScenarioData,
    request: Request,
    response: Response,
    who: Caller,
    db: DbSession,
    if_match: str | None = IF_MATCH,
) -> ScenarioReplaced:
    r = scenarios.get(db, scenario_id)
    require_coordinator(who, r.province_code, f"replace scenarios of {r.province_code}")
    scn = _from_json(body)
    return _replace(db, scenario_id, scn, who, if_match, response, request)


@router.put(
    "/{scenario_id}/upload",
    response_model=ScenarioReplaced,
    summary="Replace a scenario from an XLSX workbook or a zip of CSV files (If-Match as for PUT)",
    operation_id="scenarios-replace-upload",
)
def replace_from_file(
    scenario_id: str,
    request: Request,
    response: Response,
    who: Caller,
    db: DbSession,
    file: UploadFile = File(...),
    if_match: str | None = IF_MATCH,
) -> ScenarioReplaced:
    r = scenarios.get(db, scenario_id)
    require_coordinator(who, r.province_code, f"replace scenarios of {r.province_code}")
    scn = _from_upload(file)
    return _replace(db, scenario_id, scn, who, if_match, response, request)


@router.delete(
    "/{scenario_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a scenario without lab batches, and its plans; with units' "
    "inputs or daily records only with force=true (they are kept in the audit trail)",
    operation_id="scenarios-delete",
)
def delete(
    scenario_id: str,
    who: Caller,
    db: DbSession,
    force: bool = Query(
        False,
        description="delete although units have submitted "
        "input or daily records were uploaded; they and the scenario "
        "are kept in the audit event",
    ),
    if_match: str | None = IF_MATCH,
) -> Response:
    r = scenarios.get(db, scenario_id)
    require_coordinator(who, r.province_code, f"delete scenarios of {r.province_code}")
    refused = HTTPException(
        status.HTTP_409_CONFLICT,
        detail=(
            f"scenario {scenario_id} has lab batches; delete those without results first "
            f"(results are kept, so a scenario with results stays)"
        ),
    )
    r = scenarios.lock(db, scenario_id)  # no input or replacement meanwhile
    if not _matches(if_match, r):
        raise _stale(r)
    if scenarios.batch_count(db, scenario_id):
        raise refused
    inputs = district_days.submissions(db, scenario_id)
    records = daily_records.count(db, scenario_id)
    if (inputs or records) and not force:
        held = [
            *([f"{inputs} district-day submissions from its units"] if inputs else []),
            *([f"{records} uploads of daily records"] if records else []),
        ]
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=(
                f"scenario {scenario_id} holds {' and '.join(held)}; send force=true to "
                f"delete it anyway (they are kept in the audit trail)"
            ),
        )
    kept: dict[str, Any] = {"scenario": r.data} if inputs or records else {}
    if inputs:
        kept["district_days"] = district_days.archive(db, scenario_id)
    if records:
        kept["daily_records"] = daily_records.archive(db, scenario_id)
    if not scenarios.delete(db, r, who, forced=bool(inputs or records), **kept):
        raise refused
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{scenario_id}/capacity",
    summary="Capacity report for one day",
    response_model=dict,
    operation_id="scenarios-capacity",
)
def capacity(
    scenario_id: str,
    who: Caller,
    db: DbSession,
    day: int = Query(1, ge=1, le=366, description="day of the horizon (1: its start date)"),
    expand: bool = True,
) -> dict[str, Any]:
    r = scenarios.get(db, scenario_id)
    require_coordinator(who, r.province_code, f"read the capacity of {r.province_code}")
    scn = district_days.build_scenario(db, r)
    try:
        return capacity_report(scn, day, expand=expand).to_dict()
    except InputError as exc:
        raise HTTPException(422, detail=[query_error(exc)]) from None


# ---------------------------------------------------------------------- district input
def _record_out(row: DistrictDayRecord) -> DistrictDayRecordOut:
    return DistrictDayRecordOut(
        epidemic_level=row.payload.get("epidemic_level"),
        prevalence=row.payload.get("prevalence", {}),
        samples=row.payload.get("samples", {}),
        notes=row.payload.get("notes", ""),
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
    )


def _day_out(db: DbSession, scenario_id: str, code: str, date: dt.date) -> DistrictDayOut:
    rows = district_days.history(db, scenario_id, code, date)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no input from {code!r} for {date}")
    return DistrictDayOut(
        scenario_id=scenario_id,
        district=code,
        date=date,
        current=_record_out(next((r for r in rows if r.current), rows[0])),
        history=[_record_out(r) for r in rows],
    )


@router.put(
    "/{scenario_id}/districts/{code}/days/{date}",
    response_model=DistrictDayOut,
    summary="A unit's risk level, prevalence and sample requests for one day",
    operation_id="district-days-submit",
)
def put_district_day(
    scenario_id: str,
    code: str,
    date: dt.date,
    body: DistrictDayIn,
    who: Caller,
    db: DbSession,
) -> DistrictDayOut:
    r = scenarios.get(db, scenario_id)
    if not who.speaks_for(r.province_code, code):
        raise forbidden(f"submit input for {r.province_code}/{code}")
    if not usable_id(code, DistrictDayRecord.district):  # e.g. a scenario stored before
        raise field_error(  # codes were checked
            "code",
            f"code: at most {text_length(DistrictDayRecord.district)} characters of printable text",
            where="path",
        )
    payload = body.model_dump()
    report = DistrictDay(code, date, body.epidemic_level, body.prevalence, body.samples)

    def build(scn: Scenario) -> list[district_days.Submission]:
        try:
            day_of(scn, date)
            if code not in scn.district_by_code:
                raise InputError(f"code: unknown district {code!r}", "code")
        except InputError as exc:  # the date and the district code are the path's
            raise field_error(str(exc.parameter), str(exc), where="path") from None
        check_district_day(scn, report)
        return [(code, date, payload)]

    district_days.submit(db, scenario_id, who, build)
    return _day_out(db, scenario_id, code, date)


@router.get(
    "/{scenario_id}/districts/{code}/days/{date}",
    response_model=DistrictDayOut,
    summary="A unit's input for one day, with its history",
    operation_id="district-days-read",
)
def get_district_day(
    scenario_id: str, code: str, date: dt.date, who: Caller, db: DbSession
) -> DistrictDayOut:
    r = scenarios.get(db, scenario_id)
    if not who.speaks_for(r.province_code, code):
        raise forbidden(f"read input of {r.province_code}/{code}")
    return _day_out(db, scenario_id, code, date)
