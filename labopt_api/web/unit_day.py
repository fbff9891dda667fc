"""A unit's day: the samples it collected per stream, entered as the daily loop's records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labopt.daily.province import first_records
from labopt.daily.records import RecordError
from labopt.errors import InputError
from labopt.numbers import date_text
from labopt_api.models import PlanJob
from labopt_api.routers import daily as daily_api
from labopt_api.security import Principal
from labopt_api.store import NotFound, daily_records, plans, scenarios
from labopt_api.web.page import (
    Visitor,
    day_of,
    form_lang,
    message,
    page_lang,
    refusal,
    render,
    today,
    whole_number,
)
from labopt_api.web.words import say

router = APIRouter(include_in_schema=False)


@router.get("/day/{scenario_id}", response_class=HTMLResponse)
async def day_page(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    asked = request.query_params.get("date")
    date = day_of(asked) if asked else today()
    view = await run_in_threadpool(
        _day_view, request, visitor[0], scenario_id, date or today(), {}, lang
    )
    if view is None:
        return message(request, lang, visitor, 404, say("not_found", lang))
    error = say("bad_date", lang) if date is None else None
    return render(request, "day.html", lang, visitor, 422 if error else 200, **view, error=error)


@router.post("/day/{scenario_id}", response_class=HTMLResponse)
async def day_save(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    form = await request.form()
    lang = form_lang(request, form)
    date = day_of(str(form.get("date", "")))
    entered, problem = _entered(form, lang)
    shown = date or today()
    view = await run_in_threadpool(
        _day_view, request, visitor[0], scenario_id, shown, entered, lang
    )
    if view is None:
        return message(request, lang, visitor, 404, say("not_found", lang))
    why = refusal(request, form, lang)
    if why:
        return render(request, "day.html", lang, visitor, 403, **view, error=why)
    if date is None or problem:
        return render(
            request, "day.html", lang, visitor, 422, **view, error=problem or say("bad_date", lang)
        )
    outcome = await run_in_threadpool(
        _save_day, request, visitor[0], scenario_id, date, entered, lang
    )
    if not outcome["errors"] and not outcome.get("error"):  # saved: show what is recorded
        view = await run_in_threadpool(_day_view, request, visitor[0], scenario_id, date, {}, lang)
        if view is None:
            return message(request, lang, visitor, 404, say("not_found", lang))
    status = 403 if outcome.get("forbidden") else 422 if outcome.get("error") else 200
    return render(request, "day.html", lang, visitor, status, **view, **outcome)


def _entered(form: Any, lang: str) -> tuple[dict[str, str], str | None]:
    """The figures' boxes of a day's form (name -> text), or why the form is refused: a box
    this page does not have, or one sent twice with different figures."""
    entered: dict[str, str] = {}
    for name, value in form.multi_items():
        if not name.startswith("samples|"):
            continue
        if name.count("|") != 2 or "" in name.split("|"):
            return {}, say("bad_field", lang, name=name[:80])
        text = str(value)
        if entered.get(name, text) != text:
            return {}, say("twice", lang)
        entered[name] = text
    return entered, None


def _day_view(
    request: Request,
    who: Principal,
    scenario_id: str,
    date: dt.date,
    entered: Mapping[str, str],
    lang: str,
) -> dict[str, Any] | None:
    """What the day's page shows: per unit the key reports for, per stream, the samples
    recorded for ``date`` (or what was just entered), the scenario's own figure for it and
    the day before's."""
    with request.app.state.db.sessions() as db:
        try:
            record = scenarios.get(db, scenario_id)
        except NotFound:
            return None
        province = record.province_code
        if not scenarios.can_read(who, province):
            return None
        scn, recs = daily_records.records(db, record)
        uploaded = daily_records.stored(db, scenario_id)["collected"]
        asks = _plan_asks(db, who, scenario_id, date)
    units = [d for d in scn.districts if who.speaks_for(province, d.code)]
    names = {s.id: s.named(lang) for s in scn.streams}
    got = recs.collected
    day = date.isoformat()
    by_key = ["district", "stream"]
    recorded = _on(uploaded, day).set_index(by_key)["samples"]
    planned = _on(first_records(scn)["collected"], day).set_index(by_key)["samples"]
    before = date.toordinal() - 1
    last = got[got["date"] == dt.date.fromordinal(before).isoformat()]
    last = last.set_index(["district", "stream"])["samples"]
    rows = []
    for d in units:
        cells = []
        for s in scn.streams:
            name = f"samples|{d.code}|{s.id}"
            key = (d.code, s.id)
            value = entered.get(name)
            if value is None:
                value = str(int(recorded[key])) if key in recorded.index else ""
            cells.append(
                {
                    "name": name,
                    "id": f"s-{d.code}-{s.id}",
                    "stream": s.named(lang),
                    "value": value,
                    "yesterday": int(last[key]) if key in last.index else None,
                    "planned": int(planned[key]) if key in planned.index else None,
                }
            )
        mine = asks[asks["district"] == d.code] if len(asks) else asks
        asked = [
            {
                "stream": names.get(str(r.stream), str(r.stream)),
                "lab": str(r.lab_name),
                "samples": int(r.samples),
                "pool": int(r.pool_size),
            }
            for r in mine.itertuples(index=False)
        ]
        rows.append({"code": d.code, "name": d.name, "cells": cells, "asks": asked})
    return {
        "scenario_id": scenario_id,
        "province": scn.province.name,
        "date": date,
        "units": rows,
        "planned_day": len(asks) > 0,
    }


def _plan_asks(db: Any, who: Principal, scenario_id: str, date: dt.date) -> pd.DataFrame:
    """Where the newest daily plan for ``date`` sends each unit's samples that day (its
    dispatch_units rows), or no rows when no daily plan for that date is done."""
    newest = db.execute(
        plans.listing(who, scenario_id)
        .where(PlanJob.daily.is_(True), PlanJob.status == "done", PlanJob.start_date == date)
        .limit(1)
    ).first()
    if newest is None or "dispatch_units" not in plans.table_names(db, newest[0].id):
        return pd.DataFrame(columns=["district", "stream", "lab_name", "samples", "pool_size"])
    stored = plans.table(db, newest[0].id, "dispatch_units")
    return pd.DataFrame(stored.rows, columns=stored.columns)


def _on(rows: pd.DataFrame, day: str) -> pd.DataFrame:
    return rows[rows["date"].astype(str) == day] if len(rows) else rows.iloc[0:0]


def _save_day(
    request: Request,
    who: Principal,
    scenario_id: str,
    date: dt.date,
    entered: Mapping[str, str],
    lang: str,
) -> dict[str, Any]:
    """Record the figures entered as the units' ``collected`` records of ``date`` (all or
    nothing, as the API's upload); the errors by field name. A unit's day is recorded whole:
    a box left empty keeps the figure recorded before, and every row keeps its prevalence."""
    errors: dict[str, str] = {}
    typed: dict[tuple[str, str], int] = {}
    for name, text in entered.items():
        _, unit, stream = name.split("|")
        if not text.strip():
            continue
        n = whole_number(text, lang)
        if n is None:
            errors[name] = say("whole", lang)
        else:
            typed[unit, stream] = n
    if errors:
        return {"errors": errors, "error": say("not_saved", lang)}
    if not typed:
        return {"errors": {}, "error": say("nothing", lang)}
    with request.app.state.db.sessions() as db:
        try:
            record = scenarios.get(db, scenario_id)
        except NotFound:
            return {"errors": {}, "error": say("not_found", lang)}
        province = record.province_code
        _, recs = daily_records.records(db, record)
        got = recs.collected
        on_day = got[
            (got["date"] == date.isoformat()) & got["district"].isin({u for u, _ in typed})
        ]
        rows = []
        for r in on_day.itertuples(index=False):  # what the units' day holds, kept
            key = (r.district, r.stream)
            rows.append(_row(date, key, typed.pop(key, int(r.samples)), r.prevalence))
        rows += [_row(date, key, n, None) for key, n in typed.items()]
        raw = pd.DataFrame(rows, columns=["date", "district", "stream", "samples", "prevalence"])
        try:
            up = daily_records.record(
                db,
                scenario_id,
                who,
                "collected",
                raw.astype(str),
                "the day's form",
                lambda code: who.speaks_for(province, code),
            )
        except PermissionError as exc:
            return {"errors": {}, "error": say("forbidden", lang, why=exc), "forbidden": True}
        except RecordError as exc:
            for p in exc.problems:
                if p.row is not None and 0 <= p.row - 2 < len(rows):
                    r = rows[p.row - 2]
                    errors[f"samples|{r['district']}|{r['stream']}"] = p.message
            return {"errors": errors, "error": say("not_saved", lang) + "\n" + str(exc)}
        except InputError as exc:  # the form's rows are the API's: any other refusal, as said
            return {"errors": {}, "error": say("not_saved", lang) + "\n" + str(exc)}
        warnings = daily_api.adds_up_warnings(db, record)
    if not up.changed:
        return {"errors": {}, "notice": say("unchanged", lang), "warnings": warnings}
    saved = say("saved", lang, n=up.rows, date=date_text(date, lang))
    return {"errors": {}, "notice": saved, "warnings": warnings}


def _row(date: dt.date, key: tuple[str, str], samples: int, prevalence: Any) -> dict[str, str]:
    """A collected row as a file's text cells (a prevalence not given: blank)."""
    blank = prevalence is None or (isinstance(prevalence, float) and prevalence != prevalence)
    return {
        "date": date.isoformat(),
        "district": key[0],
        "stream": key[1],
        "samples": str(samples),
        "prevalence": "" if blank else repr(float(prevalence)),
    }
