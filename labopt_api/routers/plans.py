"""Plans: queue one (202 at once), follow it, cancel it, read its tables as CSV or XLSX, and a
daily plan's dispatch sheets."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse

from labopt.daily.morning import check_window
from labopt.daily.sheets import SHIPMENT_COLUMNS, dispatch_html, write_dispatch_xlsx
from labopt.errors import InputError
from labopt.scenario import scenario_from_data
from labopt.scenario.updates import plan_window
from labopt_api.deps import Caller, DbSession, Paging
from labopt_api.errors import field_error
from labopt_api.models import PlanJob, ScenarioRecord, now
from labopt_api.paging import page
from labopt_api.responses import TABLE_CONTENT, XLSX, table_format, table_response
from labopt_api.schemas import ERRORS, Page, PlanOut, PlanRequest
from labopt_api.security import Principal, forbidden, require_coordinator
from labopt_api.store import audit, daily_records, plans, scenarios
from labopt_api.stored_text import ONE_LINE

router = APIRouter(prefix="/v1/plans", tags=["plans"], responses=ERRORS)
DISPATCH = ("dispatch_labs", "dispatch_lab_totals", "dispatch_units", "dispatch_shipments")
TABLES = (
    "allocations",
    "status",
    "labs",
    "days",
    "shortfall",
    "supply",
    "screening",
    *DISPATCH,
    "planned",
)
NOT_DAILY = "it is not a daily plan (daily: true), which has dispatch sheets"
# stored only for some plans: the supply table, for scenarios with supply routes; screening, for
# screening by risk; the dispatch sheets and day 1 as planned, for daily plans
OPTIONAL = {
    "supply": "its scenario has no supply routes, so the plan ships no reagent",
    "screening": 'its scenario takes the screening demand as given (plan.screening = "demand")',
    **dict.fromkeys((*DISPATCH, "planned"), NOT_DAILY),
}
# what a lab key may read (its own labs' rows), and a unit's key (its own units' rows)
LAB_TABLES = ("allocations", "labs", *DISPATCH)
UNIT_TABLES = ("dispatch_units", "dispatch_shipments", "screening")
DAILY_DAYS = 7  # a daily plan's days by default


def _out(job: PlanJob, db: DbSession, with_summary: bool = True) -> PlanOut:
    return PlanOut(
        id=job.id,
        scenario_id=job.scenario_id,
        daily=job.daily,
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
    """'full' for coordinators, 'lab' for a lab of the province, 'unit' for a unit of the
    province (daily plans only); else 403."""
    if who.coordinates(job.province_code):
        return "full"
    if who.role == "lab" and who.lab_ids(job.province_code):
        return "lab"
    if who.role == "district" and job.daily and who.units(job.province_code):
        return "unit"
    raise forbidden(f"read plans of {job.province_code}")


def _mine(df: pd.DataFrame, who: Principal, job: PlanJob, reader: str) -> pd.DataFrame:
    """The rows of a plan table a lab's or unit's key may read: its own labs' or units' (a
    lab's shipments: those it sends or receives; a unit's: the kits it receives)."""
    if reader == "lab":
        labs = who.lab_ids(job.province_code)
        if "lab" not in df.columns:
            return df[df["source"].isin(labs) | df["target"].isin(labs)]
        return df[df["lab"].isin(labs)]
    if reader == "unit":
        units = who.units(job.province_code)
        return df[(df["district"] if "district" in df.columns else df["target"]).isin(units)]
    return df


def _window(body: PlanRequest, record: ScenarioRecord, db: DbSession) -> tuple[dt.date, int]:
    """The start and days of a plan request, checked now (422), not in the background."""
    if not body.daily:
        scn = plan_window(scenario_from_data(record.data), body.start_date, body.days)
        return scn.province.start_date, scn.province.days
    if body.start_date is None:
        raise field_error("start_date", "start_date: a daily plan needs its date (YYYY-MM-DD)")
    days = body.days or DAILY_DAYS
    scn, records = daily_records.records(db, record)
    try:
        check_window(scn.province.start_date, records, body.start_date, days)
    except InputError as exc:
        name = "days" if exc.parameter == "days" else "start_date"
        raise field_error(name, f"{name}:{str(exc).split(':', 1)[1]}") from None
    return body.start_date, days


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
    start, days = _window(body, record, db)
    settings = request.app.state.settings
    plan_id = uuid.uuid4().hex
    values: dict[str, Any] = {
        "id": plan_id,
        "scenario_id": record.id,
        "province_code": record.province_code,
        "start_date": start,
        "days": days,
        "daily": body.daily,
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
    if reader == "unit" and name not in UNIT_TABLES:
        raise forbidden(f"read the {name} table (a unit reads {', '.join(UNIT_TABLES)})")
    if job.status != "done":
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"plan {plan_id} is {job.status}, not done"
        )
    if name in OPTIONAL and name not in plans.table_names(db, plan_id):
        raise HTTPException(404, detail=f"plan {plan_id} has no {name} table: {OPTIONAL[name]}")
    return table_response(_mine(_stored(db, plan_id, name), who, job, reader), name, fmt)


def _stored(db: DbSession, plan_id: str, name: str) -> pd.DataFrame:
    if name == "dispatch_shipments" and name not in plans.table_names(db, plan_id):
        return pd.DataFrame(columns=SHIPMENT_COLUMNS)  # a daily plan stored before it existed
    row = plans.table(db, plan_id, name)
    return pd.DataFrame(row.rows, columns=row.columns)


@router.get(
    "/{plan_id}/dispatch",
    summary="A daily plan's dispatch sheets: a printable page (HTML) or a workbook (XLSX)",
    responses={200: {"content": {"text/html": {}, XLSX: {}}}},
    operation_id="plans-dispatch",
)
def dispatch(
    plan_id: str,
    who: Caller,
    db: DbSession,
    format: Literal["html", "xlsx"] = Query(
        "html", description="html: prints one page per lab and unit"
    ),
    lang: Literal["en", "vi"] = Query("en"),
) -> Response:
    """What each lab receives today and how to run it, where each unit sends its samples
    today, and the reagent and kits to send today: a coordinator's for the whole province, a
    lab's key its labs' sheets and the shipments they send or receive, a unit's key its units'
    and the kits they receive."""
    job = plans.get(db, plan_id)
    reader = _reader(who, job)
    if not job.daily:
        raise HTTPException(404, detail=f"plan {plan_id} has no dispatch sheets: {NOT_DAILY}")
    if job.status != "done":
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"plan {plan_id} is {job.status}, not done"
        )
    # a lab's sheets: what it receives; a unit's: where it sends; the coordinator's: both
    names = {
        "full": ("labs", "lab_totals", "units", "shipments"),
        "lab": ("labs", "lab_totals", "shipments"),
        "unit": ("units", "shipments"),
    }
    sheets = {
        k: _mine(_stored(db, plan_id, f"dispatch_{k}"), who, job, reader) for k in names[reader]
    }
    name = f"dispatch_{job.start_date.isoformat()}"
    if format == "xlsx":
        buf = io.BytesIO()
        write_dispatch_xlsx(sheets, buf, lang)
        return Response(
            buf.getvalue(),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    province = scenarios.get(db, job.scenario_id).data["settings"]["province"]["name"]
    return HTMLResponse(dispatch_html(sheets, province, job.start_date, lang))
