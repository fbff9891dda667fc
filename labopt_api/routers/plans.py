"""Plans: queue one (202 at once), follow it, cancel it, read its tables as CSV or XLSX."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse

from labopt.scenario import scenario_from_data
from labopt.scenario.updates import plan_window
from labopt_api.deps import Caller, DbSession, Paging
from labopt_api.models import PlanJob, now
from labopt_api.paging import page
from labopt_api.responses import TABLE_CONTENT, table_format, table_response
from labopt_api.schemas import ERRORS, Page, PlanOut, PlanRequest
from labopt_api.security import Principal, forbidden, require_coordinator
from labopt_api.store import audit, plans, scenarios
from labopt_api.stored_text import ONE_LINE

router = APIRouter(prefix="/v1/plans", tags=["plans"], responses=ERRORS)
TABLES = ("allocations", "status", "labs", "days", "shortfall", "supply")
# stored only for some plans: the supply table, for scenarios with supply routes
OPTIONAL = {"supply": "its scenario has no supply routes, so the plan ships no reagent"}
LAB_TABLES = ("allocations", "labs")  # what a lab key may read, its own rows only


def _out(job: PlanJob, db: DbSession, with_summary: bool = True) -> PlanOut:
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
        tables=plans.table_names(db, job.id),
    )


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
    operation_id="plans-submit",
)
def submit(body: PlanRequest, request: Request, who: Caller, db: DbSession) -> Any:
    record = scenarios.get(db, body.scenario_id)
    require_coordinator(who, record.province_code, f"plan {record.province_code}")
    # the window is checked now (InputError: 422), not in the background
    scn = plan_window(scenario_from_data(record.data), body.start_date, body.days)
    settings = request.app.state.settings
    plan_id = uuid.uuid4().hex
    values: dict[str, Any] = {
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
    if not plans.enqueue(
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
    job = plans.get(db, plan_id)
    request.app.state.workers.notify()
    return _out(job, db)


@router.post(
    "/{plan_id}/cancel",
    response_model=PlanOut,
    summary="Cancel a queued or running plan (coordinator of its province, admin)",
    operation_id="plans-cancel",
)
def cancel(plan_id: str, request: Request, who: Caller, db: DbSession) -> PlanOut:
    """A queued plan is cancelled at once; a running one is stopped (its process killed within
    a heartbeat) and cancelled; a finished one (done, failed, cancelled) is 409."""
    job = plans.get(db, plan_id)
    require_coordinator(who, job.province_code, f"cancel plans of {job.province_code}")
    if not plans.cancel(db, job, who):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"plan {plan_id} is {job.status}: only a queued or running "
            "plan can be cancelled",
        )
    request.app.state.workers.cancelled(plan_id)
    return _out(job, db)


@router.get(
    "",
    response_model=Page[PlanOut],
    summary="List plans, newest first (without summaries)",
    operation_id="plans-list",
)
def list_plans(
    params: Paging,
    who: Caller,
    db: DbSession,
    scenario_id: str | None = Query(None, max_length=32, pattern=ONE_LINE),
) -> dict[str, Any]:
    return page(
        db,
        plans.listing(who, scenario_id),
        params,
        lambda rows: [_out(r[0], db, with_summary=False) for r in rows],
    )


@router.get(
    "/{plan_id}",
    response_model=PlanOut,
    summary="Status, progress and, when done, the summary and shortfall report",
    operation_id="plans-read",
)
def read(plan_id: str, who: Caller, db: DbSession) -> PlanOut:
    job = plans.get(db, plan_id)
    return _out(job, db, with_summary=_reader(who, job) == "full")


@router.get(
    "/{plan_id}/tables/{name}",
    summary="A plan table as CSV (default) or XLSX",
    responses=TABLE_CONTENT,
    operation_id="plans-table",
)
def table(
    plan_id: str,
    name: str,
    who: Caller,
    db: DbSession,
    accept: str | None = Header(None),
) -> Response:
    job = plans.get(db, plan_id)
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
    if name in OPTIONAL and name not in plans.table_names(db, plan_id):
        raise HTTPException(404, detail=f"plan {plan_id} has no {name} table: {OPTIONAL[name]}")
    row = plans.table(db, plan_id, name)
    df = pd.DataFrame(row.rows, columns=row.columns)
    if reader == "lab":
        df = df[df["lab"].isin(who.lab_ids(job.province_code))]
    return table_response(df, name, fmt)
