"""Scenarios: create (JSON or uploaded files), list, read, replace, delete; capacity; the
districts' daily input."""
from __future__ import annotations

import datetime as dt
import io
import tempfile
import uuid
import zipfile
import zlib
from pathlib import Path

from fastapi import APIRouter, Depends, File, HTTPException, Response, UploadFile, status
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labopt.capacity import capacity_report
from labopt.scenario import Scenario, load_scenario, scenario_from_data, scenario_to_data
from labopt.scenario.updates import DistrictDay, check_district_day
from labopt_api.deps import principal, session
from labopt_api.errors import value_error
from labopt_api.jobs import build_scenario
from labopt_api.models import DistrictDayRecord, LabBatchRecord, ScenarioRecord, now
from labopt_api.schemas import (ERRORS, DistrictDayIn, DistrictDayOut, ScenarioData,
                                ScenarioOut, ScenarioSummary)
from labopt_api.security import Principal, forbidden, require_coordinator
from labopt_api.uploads import check_scenario_file

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"], responses=ERRORS)


def summary(r: ScenarioRecord) -> ScenarioSummary:
    prov = r.data["settings"]["province"]
    return ScenarioSummary(id=r.id, province_code=r.province_code, name=r.name,
                           start_date=dt.date.fromisoformat(str(prov["start_date"])),
                           days=int(prov.get("days", 7)), units=len(r.data["districts"]),
                           labs=len(r.data["labs"]), version=r.version,
                           created_at=r.created_at, updated_at=r.updated_at)


def get_record(db: Session, scenario_id: str) -> ScenarioRecord:
    r = db.get(ScenarioRecord, scenario_id)
    if r is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no scenario {scenario_id!r}")
    return r


def can_read(p: Principal, province: str) -> bool:
    return p.coordinates(province) or bool(p.units(province))


def _batches(db: Session, scenario_id: str) -> int:
    return db.execute(select(func.count()).select_from(LabBatchRecord)
                      .where(LabBatchRecord.scenario_id == scenario_id)).scalar_one()


def _store(db: Session, scn: Scenario, record: ScenarioRecord | None = None) -> ScenarioRecord:
    data = scenario_to_data(scn)
    if record is None:
        record = ScenarioRecord(id=uuid.uuid4().hex, province_code=scn.province.code,
                                name=scn.province.name, data=data)
        db.add(record)
    else:
        if scn.province.code != record.province_code and _batches(db, record.id):
            raise HTTPException(status.HTTP_409_CONFLICT, detail=(
                f"scenario {record.id} has lab batches of province {record.province_code}; "
                f"their access follows the province, so it cannot become "
                f"{scn.province.code}: create a new scenario instead"))
        record.province_code = scn.province.code
        record.name = scn.province.name
        record.data = data
        record.version += 1
        record.updated_at = now()
    db.commit()
    return record


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
            raise ValueError(f"file: {name!r} is neither an .xlsx workbook nor a .zip of CSV "
                             f"files")
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
                raise ValueError(f"file: {m.filename!r} in {name!r} cannot be read: {exc}") \
                    from None
        tomls = list(root.rglob("scenario.toml"))
        folder = tomls[0].parent if len(tomls) == 1 else root
        return load_scenario(folder)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ScenarioSummary,
             summary="Create a scenario from JSON")
def create(body: ScenarioData, who: Principal = Depends(principal),
           db: Session = Depends(session)):
    scn = scenario_from_data(body.model_dump())
    require_coordinator(who, scn.province.code, f"create scenarios of {scn.province.code}")
    return summary(_store(db, scn))


@router.post("/upload", status_code=status.HTTP_201_CREATED, response_model=ScenarioSummary,
             summary="Create a scenario from an XLSX workbook or a zip of CSV files")
def create_from_file(file: UploadFile = File(...), who: Principal = Depends(principal),
                     db: Session = Depends(session)):
    if who.role not in ("admin", "coordinator"):
        raise forbidden("create scenarios")
    scn = _from_upload(file)
    require_coordinator(who, scn.province.code, f"create scenarios of {scn.province.code}")
    return summary(_store(db, scn))


@router.get("", response_model=list[ScenarioSummary], summary="List the scenarios you may see")
def list_scenarios(who: Principal = Depends(principal), db: Session = Depends(session)):
    rows = db.execute(select(ScenarioRecord).order_by(ScenarioRecord.created_at)).scalars()
    return [summary(r) for r in rows if can_read(who, r.province_code)]


@router.get("/{scenario_id}", response_model=ScenarioOut, summary="Read a scenario")
def read(scenario_id: str, who: Principal = Depends(principal),
         db: Session = Depends(session)):
    r = get_record(db, scenario_id)
    if not can_read(who, r.province_code):
        raise forbidden(f"read scenarios of {r.province_code}")
    return ScenarioOut(**summary(r).model_dump(), data=ScenarioData(**r.data))


@router.put("/{scenario_id}", response_model=ScenarioSummary, summary="Replace a scenario")
def replace(scenario_id: str, body: ScenarioData, who: Principal = Depends(principal),
            db: Session = Depends(session)):
    r = get_record(db, scenario_id)
    require_coordinator(who, r.province_code, f"replace scenarios of {r.province_code}")
    scn = scenario_from_data(body.model_dump())
    require_coordinator(who, scn.province.code, f"move a scenario to {scn.province.code}")
    return summary(_store(db, scn, r))


@router.put("/{scenario_id}/upload", response_model=ScenarioSummary,
            summary="Replace a scenario from an XLSX workbook or a zip of CSV files")
def replace_from_file(scenario_id: str, file: UploadFile = File(...),
                      who: Principal = Depends(principal), db: Session = Depends(session)):
    r = get_record(db, scenario_id)
    require_coordinator(who, r.province_code, f"replace scenarios of {r.province_code}")
    scn = _from_upload(file)
    require_coordinator(who, scn.province.code, f"move a scenario to {scn.province.code}")
    return summary(_store(db, scn, r))


@router.delete("/{scenario_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a scenario without lab batches, its district inputs and plans")
def delete(scenario_id: str, who: Principal = Depends(principal),
           db: Session = Depends(session)):
    r = get_record(db, scenario_id)
    require_coordinator(who, r.province_code, f"delete scenarios of {r.province_code}")
    refused = HTTPException(status.HTTP_409_CONFLICT, detail=(
        f"scenario {scenario_id} has lab batches; delete those without results first "
        f"(results are kept, so a scenario with results stays)"))
    if _batches(db, scenario_id):
        raise refused
    db.delete(r)
    try:
        db.commit()
    except IntegrityError:               # a batch created meanwhile
        db.rollback()
        raise refused from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{scenario_id}/capacity", summary="Capacity report for one day",
            response_model=dict)
def capacity(scenario_id: str, day: int = 1, expand: bool = True,
             who: Principal = Depends(principal), db: Session = Depends(session)):
    r = get_record(db, scenario_id)
    require_coordinator(who, r.province_code, f"read the capacity of {r.province_code}")
    scn = build_scenario(db, r)
    return capacity_report(scn, day, expand=expand).to_dict()


# ---------------------------------------------------------------------- district input
def _record_out(row: DistrictDayRecord) -> dict:
    return {"epidemic_level": row.payload.get("epidemic_level"),
            "prevalence": row.payload.get("prevalence", {}),
            "samples": row.payload.get("samples", {}),
            "submitted_at": row.submitted_at, "submitted_by": row.submitted_by}


def _day_out(db: Session, scenario_id: str, code: str, date: dt.date) -> DistrictDayOut:
    rows = db.execute(select(DistrictDayRecord).where(
        DistrictDayRecord.scenario_id == scenario_id, DistrictDayRecord.district == code,
        DistrictDayRecord.date == date).order_by(DistrictDayRecord.id.desc())).scalars().all()
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"no input from {code!r} for {date}")
    return DistrictDayOut(scenario_id=scenario_id, district=code, date=date,
                          current=_record_out(rows[0]),
                          history=[_record_out(r) for r in rows])


def _may_report(who: Principal, province: str, code: str) -> bool:
    return who.coordinates(province) or (who.role == "district" and code in
                                         who.units(province))


@router.put("/{scenario_id}/districts/{code}/days/{date}", response_model=DistrictDayOut,
            summary="A unit's risk level, prevalence and sample requests for one day")
def put_district_day(scenario_id: str, code: str, date: dt.date, body: DistrictDayIn,
                     who: Principal = Depends(principal), db: Session = Depends(session)):
    r = get_record(db, scenario_id)
    if not _may_report(who, r.province_code, code):
        raise forbidden(f"submit input for {r.province_code}/{code}")
    scn = scenario_from_data(r.data)
    report = DistrictDay(code, date, body.epidemic_level, body.prevalence, body.samples)
    try:
        check_district_day(scn, report)
    except ValueError as exc:
        raise HTTPException(422, detail=[value_error(exc)]) from None
    # the new submission replaces the earlier one; both stay in the history
    db.execute(update(DistrictDayRecord).where(
        DistrictDayRecord.scenario_id == scenario_id, DistrictDayRecord.district == code,
        DistrictDayRecord.date == date).values(current=False))
    db.add(DistrictDayRecord(scenario_id=scenario_id, district=code, date=date,
                             payload=body.model_dump(), current=True,
                             submitted_by=who.key_id))
    db.commit()
    return _day_out(db, scenario_id, code, date)


@router.get("/{scenario_id}/districts/{code}/days/{date}", response_model=DistrictDayOut,
            summary="A unit's input for one day, with its history")
def get_district_day(scenario_id: str, code: str, date: dt.date,
                     who: Principal = Depends(principal), db: Session = Depends(session)):
    r = get_record(db, scenario_id)
    if not _may_report(who, r.province_code, code):
        raise forbidden(f"read input of {r.province_code}/{code}")
    return _day_out(db, scenario_id, code, date)
