"""Plans: queue one (202 at once), follow it, cancel it, read its tables as CSV or XLSX."""

from __future__ import annotations

import uuid

import pandas as pd
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import false, select, true, update
from sqlalchemy.orm import Session, defer

from labopt.scenario import scenario_from_data
from labopt.scenario.updates import plan_window
from labopt_api import audit
from labopt_api.deps import principal, session
from labopt_api.errors import value_error
from labopt_api.jobs import enqueue
from labopt_api.models import PlanJob, PlanTable, now
from labopt_api.paging import PageParams, page, page_params
from labopt_api.responses import TABLE_CONTENT, table_format, table_response
from labopt_api.routers.scenarios import get_record
from labopt_api.schemas import ERRORS, Page, PlanOut, PlanRequest
from labopt_api.security import Principal, forbidden, require_coordinator
from labopt_api.stored_text import ONE_LINE, usable_id

router = APIRouter(prefix="/v1/plans", tags=["plans"], responses=ERRORS)
TABLES = ("allocations", "status", "labs", "days", "shortfall")
LAB_TABLES = ("allocations", "labs")  # what a lab key may read, its own rows only


def _out(job: PlanJob, db: Session, with_summary: bool = True) -> PlanOut:
    names = db.execute(select(PlanTable.name).where(PlanTable.plan_id == job.id)).scalars()
    return PlanOut(
        id=job.id,
        scenario_id=job.scenario_id,
        status=job.status,
        progress=job.progress,
        message=job.message,
        error=job.error,
        start_date=job.start_date,
        days=job.days,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        summary=job.summary if with_summary else None,
        tables=sorted(names),
    )


def _job(db: Session, plan_id: str) -> PlanJob:
    job = db.get(PlanJob, plan_id) if usable_id(plan_id, PlanJob.id) else None
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no plan {plan_id!r}")
    return job


def _reader(who: Principal, job: PlanJob) -> str:
    """'full' for coordinators, 'lab' for a lab of the province; else 403."""
    if who.coordinates(job.province_code):
        return "full"
    if who.role == "lab" and who.lab_ids(job.province_code):
        return "lab"
    raise forbidden(f"read plans of {job.province_code}")


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PlanOut,
    summary="Queue a plan; it is solved in the background",
)
def submit(
    body: PlanRequest,
    request: Request,
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    record = get_record(db, body.scenario_id)
    require_coordinator(who, record.province_code, f"plan {record.province_code}")
    try:  # the window is checked now, not in the background
        scn = plan_window(scenario_from_data(record.data), body.start_date, body.days)
    except ValueError as exc:
        raise HTTPException(422, detail=[value_error(exc)]) from None
    settings = request.app.state.settings
    plan_id = uuid.uuid4().hex
    values = {
        "id": plan_id,
        "scenario_id": record.id,
        "province_code": record.province_code,
        "start_date": scn.province.start_date,
        "days": scn.province.days,
        "status": "queued",
        "progress": 0.0,
        "message": "queued",
        "requested_by": who.key_id,
        "created_at": now(),
    }
    if not enqueue(
        db,
        values,
        settings.plan_queue_size,
        then=lambda: audit.record(
            db,
            who,
            "plan.request",
            "plan",
            plan_id,
            scenario_id=record.id,
            start_date=values["start_date"].isoformat(),
            days=values["days"],
        ),
    ):
        return JSONResponse(
            {
                "detail": f"{settings.plan_queue_size} plans are already waiting "
                "(LABOPT_PLAN_QUEUE_SIZE); try again shortly"
            },
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": "10"},
        )
    job = db.get(PlanJob, plan_id)
    request.app.state.workers.notify()
    return _out(job, db)


@router.post(
    "/{plan_id}/cancel",
    response_model=PlanOut,
    summary="Cancel a queued or running plan (coordinator of its province, admin)",
)
def cancel(
    plan_id: str,
    request: Request,
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    """A queued plan is cancelled at once; a running one is stopped (its process killed within
    a heartbeat) and cancelled; a finished one (done, failed, cancelled) is 409."""
    job = _job(db, plan_id)
    require_coordinator(who, job.province_code, f"cancel plans of {job.province_code}")
    res = db.execute(
        update(PlanJob)
        .where(PlanJob.id == plan_id, PlanJob.status.in_(("queued", "running")))
        .values(
            status="cancelled",
            message="cancelled",
            finished_at=now(),
            error=f"cancelled by key {who.key_id}",
        )
    )
    db.commit()
    db.refresh(job)
    if res.rowcount != 1:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"plan {plan_id} is {job.status}: only a queued or running "
            "plan can be cancelled",
        )
    request.app.state.workers.cancelled(plan_id)
    return _out(job, db)


def _readable_plans(who: Principal):
    """The SQL condition for the plans ``who`` may list (coordinators: their provinces; a lab:
    its province), the rule of _reader."""
    if who.is_admin() or (who.role == "coordinator" and "*" in who.scopes):
        return true()
    if who.role == "coordinator":
        return PlanJob.province_code.in_(who.scopes)
    if who.role == "lab":
        return PlanJob.province_code.in_(sorted({s.split("/")[0] for s in who.scopes}))
    return false()


@router.get(
    "", response_model=Page[PlanOut], summary="List plans, newest first (without summaries)"
)
def list_plans(
    scenario_id: str | None = Query(None, max_length=32, pattern=ONE_LINE),
    params: PageParams = Depends(page_params),
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    q = (
        select(PlanJob)
        .options(defer(PlanJob.summary))
        .where(_readable_plans(who))
        .order_by(PlanJob.created_at.desc(), PlanJob.id)
    )
    if scenario_id is not None:
        q = q.where(PlanJob.scenario_id == scenario_id)
    return page(db, q, params, lambda rows: [_out(r[0], db, with_summary=False) for r in rows])


@router.get(
    "/{plan_id}",
    response_model=PlanOut,
    summary="Status, progress and, when done, the summary and shortfall report",
)
def read(plan_id: str, who: Principal = Depends(principal), db: Session = Depends(session)):
    job = _job(db, plan_id)
    return _out(job, db, with_summary=_reader(who, job) == "full")


@router.get(
    "/{plan_id}/tables/{name}",
    summary="A plan table as CSV (default) or XLSX",
    responses=TABLE_CONTENT,
)
def table(
    plan_id: str,
    name: str,
    who: Principal = Depends(principal),
    db: Session = Depends(session),
    accept: str | None = Header(None),
):
    job = _job(db, plan_id)
    reader = _reader(who, job)
    name, fmt = table_format(name, accept)
    if name not in TABLES:
        raise HTTPException(404, detail=f"no table {name!r}; tables: {', '.join(TABLES)}")
    if reader == "lab" and name not in LAB_TABLES:
        raise forbidden(f"read the {name} table (a lab reads {', '.join(LAB_TABLES)})")
    if job.status != "done":
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"plan {plan_id} is {job.status}, not done"
        )
    row = db.execute(
        select(PlanTable).where(PlanTable.plan_id == plan_id, PlanTable.name == name)
    ).scalar_one()
    df = pd.DataFrame(row.rows, columns=row.columns)
    if reader == "lab":
        df = df[df["lab"].isin(who.lab_ids(job.province_code))]
    return table_response(df, name, fmt)
