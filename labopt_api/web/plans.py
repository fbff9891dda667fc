"""Plans: requested, followed, cancelled and read (days, shortfall, map, tables, dispatch
sheets), and each day's plan against what happened."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labopt.errors import InputError
from labopt.notes import note_text
from labopt.scenario import Scenario, scenario_from_data
from labopt.schedule.labels import column as column_label
from labopt.schedule.labels import render as render_item
from labopt_api.routers import daily as daily_api
from labopt_api.routers import plans as plans_api
from labopt_api.schemas import PlanRequest
from labopt_api.security import Principal
from labopt_api.store import Busy, NotFound, district_days, plans, scenarios
from labopt_api.web.flow_map import SIZE as MAP_SIZE
from labopt_api.web.flow_map import flow_map
from labopt_api.web.page import (
    Visitor,
    detail_text,
    form_lang,
    message,
    number_asked,
    one_page,
    page_lang,
    refusal,
    render,
    through_api,
    whole_number,
)
from labopt_api.web.words import say

router = APIRouter(include_in_schema=False)


PLANS_SHOWN = 20  # the newest plans of a scenario listed on its page
REFRESH_SECONDS = 2  # a plan's page reloads itself this often while it is being solved


@router.get("/plans/{scenario_id}", response_class=HTMLResponse)
async def plans_page(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    view = await run_in_threadpool(
        _plans_view, request, visitor[0], scenario_id, request.query_params.get("page")
    )
    if view is None:
        return message(request, lang, visitor, 404, say("not_found", lang))
    return render(request, "plans.html", lang, visitor, **view)


@router.post("/plans/{scenario_id}", response_class=HTMLResponse)
async def plan_request(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    """A plan request, through the API's own handler (the same checks, queue and audit)."""
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    form = await request.form()
    view = await run_in_threadpool(
        _plans_view, request, visitor[0], scenario_id, request.query_params.get("page")
    )
    if view is None:
        return message(request, lang, visitor, 404, say("not_found", lang))
    view["typed"] = {k: str(form.get(k, "")) for k in ("start_date", "days", "daily")}
    lang = form_lang(request, form)
    why = refusal(request, form, lang)
    if why:
        return render(request, "plans.html", lang, visitor, 403, **view, error=why)
    days_text = str(form.get("days", "")).strip()
    days = whole_number(days_text, lang) if days_text else None
    if days_text and days is None:
        return render(
            request, "plans.html", lang, visitor, 422, **view, error=say("days_whole", lang)
        )
    try:
        body = PlanRequest(
            scenario_id=scenario_id,
            start_date=str(form.get("start_date", "")) or None,
            days=days,
            daily=form.get("daily") == "on",
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        why = "; ".join(e["msg"] for e in getattr(exc, "errors", list)()) or str(exc)
        return render(request, "plans.html", lang, visitor, 422, **view, error=why)
    plan_id, why, status = await run_in_threadpool(_submit, request, visitor[0], body)
    if plan_id is None:
        response = render(request, "plans.html", lang, visitor, status, **view, error=why)
        if status == 429:
            response.headers["retry-after"] = "10"
        return response
    return RedirectResponse(f"/plan/{plan_id}?lang={lang}", status_code=303)


def _submit(request: Request, who: Principal, body: PlanRequest) -> tuple[str | None, str, int]:
    """(the new plan's id, "", 303) or (None, why it was refused, the status to answer)."""
    with request.app.state.db.sessions() as db:
        try:
            out = plans_api.submit(body, request, who, db)
        except HTTPException as exc:
            return None, detail_text(exc.detail), exc.status_code
        except (InputError, NotFound, Busy) as exc:
            return None, detail_text(exc), 409 if isinstance(exc, Busy) else 422
    if isinstance(out, Response):  # the queue is full (429)
        return None, detail_text(json.loads(bytes(out.body))["detail"]), out.status_code
    return str(out.id), "", 303


def _plans_view(
    request: Request, who: Principal, scenario_id: str, page: str | None = None
) -> dict[str, Any] | None:
    with request.app.state.db.sessions() as db:
        try:
            record = scenarios.get(db, scenario_id)
        except NotFound:
            return None
        if not who.coordinates(record.province_code):
            return None
        at = number_asked(page)
        jobs, older = one_page(db, plans.listing(who, scenario_id), at, PLANS_SHOWN)
        return {
            "scenario_id": scenario_id,
            "name": record.name,
            "start": record.start_date,
            "jobs": jobs,
            "page": at,
            "older": older,
        }


@router.get("/plan/{plan_id}", response_class=HTMLResponse)
async def plan_page(request: Request, plan_id: str, visitor: Visitor) -> Response:
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    map_day = number_asked(request.query_params.get("day"))
    view = await run_in_threadpool(_plan_view, request, visitor[0], plan_id, lang, map_day)
    if view is None:
        return message(request, lang, visitor, 404, say("no_such", lang))
    response = render(request, "plan.html", lang, visitor, **view)
    if view["job"].status in ("queued", "running"):  # the page follows the plan
        response.headers["refresh"] = str(REFRESH_SECONDS)
    return response


def _plan_view(
    request: Request, who: Principal, plan_id: str, lang: str, map_day: int = 1
) -> dict | None:
    with request.app.state.db.sessions() as db:
        try:
            job = plans.get(db, plan_id)
        except NotFound:
            return None
        if not who.coordinates(job.province_code):
            return None
        names = plans.table_names(db, plan_id)
        map_day = min(map_day, len((job.summary or {}).get("days", [])) or 1)  # one of its days
        drawn, labs, units = None, [], []
        data = scenarios.get(db, job.scenario_id).data
        scn = scenario_from_data(data, source=f"scenario {job.scenario_id}")
        if job.status == "done" and {"allocations", "labs", "status"} <= set(names):
            drawn = flow_map(data, _table_rows(db, plan_id, "allocations"), map_day)
            labs = _on_day(_table_rows(db, plan_id, "labs"), map_day)
            units = _units_on_day(scn, _table_rows(db, plan_id, "status"), map_day, lang)
        date = job.start_date + dt.timedelta(days=map_day - 1)
        said = _units_said(db, scn, job.scenario_id, date)
    summary = job.summary or {}
    shortfall = [render_item(item, lang) for item in summary.get("shortfall", [])]
    return {
        "job": job,
        "summary": summary,
        "days": summary.get("days", []),
        "targets": summary.get("targets", {}),
        "shortfall": shortfall,
        "tables": [n for n in plans_api.TABLES if n in names],
        "map": drawn,
        "map_day": map_day,
        "map_size": MAP_SIZE,
        "labs": labs,
        "units": units,
        "said": said,
        "map_date": date,
    }


def _table_rows(db: Any, plan_id: str, name: str) -> pd.DataFrame:
    stored = plans.table(db, plan_id, name)
    return pd.DataFrame(stored.rows, columns=stored.columns)


def _on_day(rows: pd.DataFrame, day: int) -> list[dict[str, Any]]:
    return rows[rows["day"] == day].to_dict("records")


def _units_on_day(scn: Scenario, status: pd.DataFrame, day: int, lang: str) -> list[dict[str, Any]]:
    """Each unit's streams on ``day`` of the plan: samples asked, tested, waiting, untested,
    and the prevalence the plan assumed (a plan stored before it was kept: None)."""
    names = {d.code: d.name for d in scn.districts}
    streams = {s.id: s.named(lang) for s in scn.streams}
    rows = status[status["day"] == day].to_dict("records")
    for r in rows:
        r["unit"] = names.get(r["district"], r["district"])
        r["stream_name"] = streams.get(r["stream"], r["stream"])
        r.setdefault("prevalence", None)
    return rows


def _units_said(db: Any, scn: Scenario, scenario_id: str, date: dt.date) -> list[dict[str, Any]]:
    """The units' reports of ``date`` that give a level or notes (unit, level, notes)."""
    names = {d.code: d.name for d in scn.districts}
    return [
        {
            "unit": names.get(code, code),
            "level": payload.get("epidemic_level"),
            "notes": payload.get("notes"),
        }
        for code, payload in district_days.reports_on(db, scenario_id, date)
        if payload.get("epidemic_level") is not None or payload.get("notes")
    ]


@router.get("/plan/{plan_id}/tables/{name}")
async def plan_table(request: Request, plan_id: str, name: str, visitor: Visitor) -> Response:
    """A plan table as a file (``.xlsx`` or ``.csv``), through the API's own handler."""
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    who = visitor[0]
    return await through_api(request, lang, visitor, lambda: _table(request, who, plan_id, name))


def _table(request: Request, who: Principal, plan_id: str, name: str) -> Response:
    with request.app.state.db.sessions() as db:
        job = plans.get(db, plan_id)
        if not who.coordinates(job.province_code):
            raise NotFound(plan_id)
        return plans_api.table(plan_id, name, who, db, None)  # its own file name


@router.get("/plan/{plan_id}/dispatch")
async def plan_dispatch(request: Request, plan_id: str, visitor: Visitor) -> Response:
    """A daily plan's dispatch sheets (``?format=html``, printable, or ``xlsx``) through the
    API's own handler: a coordinator's whole province, a lab's or unit's own sheets."""
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    fmt = "xlsx" if request.query_params.get("format") == "xlsx" else "html"
    who = visitor[0]
    return await through_api(
        request, lang, visitor, lambda: _dispatch(request, who, plan_id, fmt, lang)
    )


def _dispatch(request: Request, who: Principal, plan_id: str, fmt: str, lang: str) -> Response:
    with request.app.state.db.sessions() as db:
        return plans_api.dispatch(plan_id, who, db, fmt, lang)  # type: ignore[arg-type]


@router.get("/history/{scenario_id}", response_class=HTMLResponse)
async def history_page(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    """Each past day's daily plan beside what happened (the API's history, a coordinator's):
    per date, samples collected, tested against planned, untested, waiting, turnaround and
    reactions; the notes on days without records."""
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    try:
        out = await run_in_threadpool(_history, request, visitor[0], scenario_id)
    except HTTPException as exc:
        return message(request, lang, visitor, exc.status_code, detail_text(exc.detail))
    except NotFound:
        return message(request, lang, visitor, 404, say("not_found", lang))
    if out is None:
        return message(request, lang, visitor, 404, say("not_found", lang))
    name, history = out
    columns = list(history.days[0]) if history.days else []
    heads = [
        column_label(c, lang) if lang == "vi" else c.replace("_", " ").capitalize() for c in columns
    ]
    return render(
        request,
        "history.html",
        lang,
        visitor,
        scenario_id=scenario_id,
        name=name,
        columns=columns,
        heads=heads,
        rows=history.days,
        notes=[note_text(n, lang) for n in history.notes],
    )


def _history(request: Request, who: Principal, scenario_id: str) -> tuple[str, Any] | None:
    with request.app.state.db.sessions() as db:
        record = scenarios.get(db, scenario_id)
        if not who.coordinates(record.province_code):
            return None
        out, notes = daily_api.history_out(db, record)
        return record.name, out.model_copy(update={"notes": notes})  # notes said per language


@router.post("/plan/{plan_id}/cancel")
async def plan_cancel(request: Request, plan_id: str, visitor: Visitor) -> Response:
    """Cancel a queued or running plan through the API's own handler."""
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    form = await request.form()
    lang = form_lang(request, form)
    why = refusal(request, form, lang)
    if why:
        return message(request, lang, visitor, 403, why)
    who = visitor[0]
    return await through_api(request, lang, visitor, lambda: _cancel(request, who, plan_id, lang))


def _cancel(request: Request, who: Principal, plan_id: str, lang: str) -> Response:
    with request.app.state.db.sessions() as db:
        plans_api.cancel(plan_id, request, who, db)
    return RedirectResponse(f"/plan/{plan_id}?lang={lang}", status_code=303)
