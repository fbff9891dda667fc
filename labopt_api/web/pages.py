"""The pages: sign-in, the provinces a key may see, and a unit's day (samples collected).

Every page checks its visitor server-side with the API's rules (labopt_api.security and the
stores); a form is saved with the same function as the API's upload of the same records, so
the two cannot disagree on what is valid.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import UploadFile as StarletteUpload

from labopt.daily.province import first_records
from labopt.daily.records import RecordError
from labopt.errors import InputError
from labopt.numbers import date_text, number_text
from labopt.scenario import scenario_from_data
from labopt.scenario.io import save_xlsx
from labopt.schedule.labels import column as column_label
from labopt.schedule.labels import render as render_item
from labopt.schedule.labels import value as code_word
from labopt_api.models import PlanJob
from labopt_api.protection import STATIC_PREFIX
from labopt_api.routers import batches as batches_api
from labopt_api.routers import daily as daily_api
from labopt_api.routers import plans as plans_api
from labopt_api.routers import scenarios as scenarios_api
from labopt_api.schemas import PlanRequest
from labopt_api.security import Principal
from labopt_api.store import Busy, NotFound, batches, daily_records, plans, scenarios
from labopt_api.web.flow_map import SIZE as MAP_SIZE
from labopt_api.web.flow_map import flow_map
from labopt_api.web.session import (
    LANG_COOKIE,
    check_key,
    form_token,
    from_this_site,
    retry_after,
    sign_in,
    sign_out,
    signed_in,
    token_ok,
)
from labopt_api.web.words import LANGS, say

router = APIRouter(include_in_schema=False)
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_env = Environment(
    loader=PackageLoader("labopt_api.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


async def _visitor(request: Request) -> tuple[Principal, str] | None:
    return await signed_in(request)


Visitor = Annotated[tuple[Principal, str] | None, Depends(_visitor)]


def page_lang(request: Request) -> str:
    """The page's language: ``?lang=`` if given, else the visitor's last choice, else en."""
    asked = request.query_params.get("lang", "")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(LANG_COOKIE, "")
    return kept if kept in LANGS else "en"


def render(
    request: Request,
    template: str,
    lang: str,
    visitor: tuple[Principal, str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in ``lang``; its forms carry the visitor's token."""
    html = _env.get_template(template).render(
        lang=lang,
        t=lambda key, **f: say(key, lang, **f),
        num=lambda x: number_text(round(x) if isinstance(x, float) else x, lang),
        num1=lambda x: number_text(x, lang, ",.1f"),
        day=lambda d: date_text(d, lang),
        code=lambda c: code_word(c, lang) or "",
        static=request.scope.get("root_path", "") + STATIC_PREFIX,
        path=request.url.path,
        lang_url=lambda code: _with_lang(request, code),
        token=form_token(visitor[1]) if visitor else "",
        who=visitor[0] if visitor else None,
        scopes=_scopes_text(visitor[0], lang) if visitor else "",
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["content-security-policy"] = PAGE_CSP
    if request.query_params.get("lang", "") in LANGS:  # remembered for the next pages
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


def _with_lang(request: Request, code: str) -> str:
    """This page's address in another language (its other parameters kept)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + "?" + urlencode([*query, ("lang", code)])


def form_lang(request: Request, form: Mapping[str, Any]) -> str:
    """The language of the page a form was filled in (its hidden field), else the page's."""
    said = str(form.get("lang", ""))
    return said if said in LANGS else page_lang(request)


def message(
    request: Request, lang: str, visitor: tuple[Principal, str] | None, status: int, text: str
) -> HTMLResponse:
    """A page that says one thing (a refusal, a page not found), with its status."""
    return render(request, "message.html", lang, visitor, status, text=text)


async def through_api(
    request: Request,
    lang: str,
    visitor: tuple[Principal, str] | None,
    work: Callable[[], Response],
) -> Response:
    """``work`` (a call of an API handler, with its own checks) in a worker thread; its
    refusals said as a page, in the API's words."""
    try:
        return await run_in_threadpool(work)
    except HTTPException as exc:
        return message(request, lang, visitor, exc.status_code, _detail(exc.detail))
    except NotFound:
        return message(request, lang, visitor, 404, say("no_such", lang))


def refusal(request: Request, form: Mapping[str, Any], lang: str) -> str | None:
    """Why a form must be refused (sent from another site, or without the visitor's
    token), else None: one rule for every form of the pages."""
    if not from_this_site(request):
        return say("cross_site", lang)
    if not token_ok(request, str(form.get("token", ""))):
        return say("expired", lang)
    return None


def _scopes_text(who: Principal, lang: str) -> str:
    if who.is_admin() or "*" in who.scopes:
        return say("everything", lang)
    return ", ".join(who.scopes)


# ---------------------------------------------------------------------- sign-in, home
@router.get("/", response_class=HTMLResponse)
async def home(request: Request, visitor: Visitor) -> Response:
    lang = page_lang(request)
    if visitor is None:
        return render(request, "signin.html", lang)
    who = visitor[0]
    rows = await run_in_threadpool(_readable, request, who)
    return render(request, "home.html", lang, visitor, scenarios=rows)


SHEETS_SHOWN = 5  # the newest daily plans whose dispatch sheets a home page lists


def _readable(request: Request, who: Principal) -> list[dict[str, Any]]:
    with request.app.state.db.sessions() as db:
        found = db.execute(scenarios.summaries(who)).mappings().all()
        # the dispatch sheets of the newest daily plans done (a lab's or unit's own rows)
        sheets = {
            r["id"]: [
                job
                for (job,) in db.execute(
                    plans.listing(who, r["id"])
                    .where(PlanJob.daily.is_(True), PlanJob.status == "done")
                    .limit(SHEETS_SHOWN)
                )
            ]
            for r in found
        }
    # units enter their day; coordinators may enter it for them
    return [
        {
            **r,
            "enters": who.role in ("admin", "coordinator", "district"),
            "plans": who.coordinates(r["province_code"]),
            "sheets": sheets[r["id"]],
        }
        for r in found
    ]


@router.get("/signin")
@router.get("/signout")
async def to_home(request: Request) -> Response:
    """The forms' addresses opened as pages (a reload, a bookmark): the home page."""
    lang = request.query_params.get("lang", "")
    return RedirectResponse("/" + (f"?lang={lang}" if lang in LANGS else ""), status_code=303)


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request) -> Response:
    lang = page_lang(request)
    if not from_this_site(request):
        return render(request, "signin.html", lang, status_code=403, error=say("cross_site", lang))
    wait = retry_after(request)
    if wait is not None:
        error = say("too_many", lang, seconds=wait)
        return render(request, "signin.html", lang, status_code=429, error=error)
    form = await request.form()
    key = str(form.get("key", "")).strip()
    if not key:
        return render(request, "signin.html", lang, status_code=422, error=say("no_key", lang))
    who = await check_key(request, key)
    if who is None:
        return render(request, "signin.html", lang, status_code=401, error=say("bad_key", lang))
    response = RedirectResponse("/", status_code=303)
    sign_in(request, response, key)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    form = await request.form()
    response = RedirectResponse("/", status_code=303)
    if refusal(request, form, "en") is None:
        sign_out(response)
    return response


# ---------------------------------------------------------------------- a unit's day
@router.get("/day/{scenario_id}", response_class=HTMLResponse)
async def day_page(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    asked = request.query_params.get("date")
    date = day_of(asked) if asked else _today()
    view = await run_in_threadpool(
        _day_view, request, visitor[0], scenario_id, date or _today(), {}, lang
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
    shown = date or _today()
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


def _today() -> dt.date:
    return dt.date.today()


def day_of(text: str) -> dt.date | None:
    """A date typed or sent as YYYY-MM-DD between the years 1900 and 9000, else None (a day
    before or after it must still be a date)."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    return day if 1900 <= day.year <= 9000 else None


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


# a whole number as typed: plain digits, or grouped by thousands as the language writes them;
# at most 9 digits (a unit's samples of a day), so no text is too long to read
_GROUPED = {
    "en": re.compile(r"[0-9]{1,3}(,[0-9]{3}){1,2}"),
    "vi": re.compile(r"[0-9]{1,3}(\.[0-9]{3}){1,2}"),
}


def whole_number(text: str, lang: str) -> int | None:
    """``text`` as a whole number of samples (``8000``; ``8,000`` in English, ``8.000`` in
    Vietnamese), or None: a decimal, a sign, another grouping or more than 9 digits is not
    silently read."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text) if len(text) <= 9 else None
    if _GROUPED[lang].fullmatch(text):
        return int(text.replace("," if lang == "en" else ".", ""))
    return None


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


# ---------------------------------------------------------------------- plans
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
            return None, _detail(exc.detail), exc.status_code
        except (InputError, NotFound, Busy) as exc:
            return None, _detail(exc), 409 if isinstance(exc, Busy) else 422
    if isinstance(out, Response):  # the queue is full (429)
        return None, _detail(json.loads(bytes(out.body))["detail"]), out.status_code
    return str(out.id), "", 303


DETAIL_CHARS = 400  # an error's text shown on a page at most (it may echo what was sent)


def _detail(detail: Any) -> str:
    """An API error's ``detail`` as a sentence (a list of problems joined), capped."""
    if isinstance(detail, list):
        text = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    else:
        text = str(detail)
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def number_asked(text: str | None) -> int:
    """A whole number from 1 asked in the address (a list's page, 1 = the newest; a plan's
    day), or 1 when it is not one."""
    return int(text) if text and text.isdigit() and len(text) < 6 and int(text) > 0 else 1


def one_page(db: Any, query: Any, page: int, size: int) -> tuple[list[Any], bool]:
    """Page ``page`` of ``size`` rows of a newest-first listing, and whether older rows
    follow."""
    rows = [r[0] for r in db.execute(query.offset((page - 1) * size).limit(size + 1))]
    return rows[:size], len(rows) > size


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
        drawn = None
        if job.status == "done" and "allocations" in names:
            stored = plans.table(db, plan_id, "allocations")
            allocations = pd.DataFrame(stored.rows, columns=stored.columns)
            data = scenarios.get(db, job.scenario_id).data
            drawn = flow_map(data, allocations, map_day)
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
    }


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


# ---------------------------------------------------------------------- a lab's batches
BATCHES_SHOWN = 20  # the newest batches listed


def _may_see_batches(who: Principal) -> bool:
    return who.role in ("admin", "coordinator", "lab")


@router.get("/batches", response_class=HTMLResponse)
async def batches_page(request: Request, visitor: Visitor) -> Response:
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    if not _may_see_batches(visitor[0]):
        return message(request, lang, visitor, 404, say("no_such", lang))
    at = number_asked(request.query_params.get("page"))
    listed, older = await run_in_threadpool(_batches, request, visitor[0], at)
    return render(request, "batches.html", lang, visitor, batches=listed, page=at, older=older)


def _batches(request: Request, who: Principal, page: int = 1) -> tuple[list[Any], bool]:
    """One page of the batches ``who`` may see, newest first, and whether older ones exist."""
    with request.app.state.db.sessions() as db:
        rows, older = one_page(db, batches.listing(who), page, BATCHES_SHOWN)
        return [batches_api.batch_out(r) for r in rows], older


@router.post("/batches/{batch_id}/results", response_class=HTMLResponse)
async def batch_results(request: Request, batch_id: str, visitor: Visitor) -> Response:
    """A run's results from a CSV or XLSX file, through the API's own handler: decoded,
    stored, and the next run laid out; the page then lists the batch as it is now."""
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    form = await request.form()
    lang = form_lang(request, form)
    if not _may_see_batches(visitor[0]):
        return message(request, lang, visitor, 404, say("no_such", lang))
    at = number_asked(str(form.get("page", "")))
    listed, older = await run_in_threadpool(_batches, request, visitor[0], at)
    shown: dict[str, Any] = {"batches": listed, "page": at, "older": older}
    why = refusal(request, form, lang)
    if why:
        return render(request, "batches.html", lang, visitor, 403, **shown, error=why)
    upload = form.get("file")
    if not isinstance(upload, StarletteUpload) or not upload.filename:
        error = say("no_file", lang)
        return render(request, "batches.html", lang, visitor, 422, **shown, error=error)
    correct = form.get("correct") == "on"
    try:
        out = await run_in_threadpool(_upload, request, visitor[0], batch_id, upload, correct)
    except HTTPException as exc:
        error = say("results_refused", lang) + "\n" + _detail(exc.detail)
        return render(request, "batches.html", lang, visitor, exc.status_code, **shown, error=error)
    except NotFound:
        return message(request, lang, visitor, 404, say("no_such", lang))
    except InputError as exc:
        error = say("results_refused", lang) + "\n" + str(exc)
        return render(request, "batches.html", lang, visitor, 422, **shown, error=error)
    listed, older = await run_in_threadpool(_batches, request, visitor[0], at)
    shown = {"batches": listed, "page": at, "older": older}
    notice = say(
        "results_saved",
        lang,
        added=out.added,
        corrected=out.corrected,
        unchanged=out.unchanged,
        label=out.batch.label,
    )
    return render(request, "batches.html", lang, visitor, **shown, notice=notice, notes=out.notes)


def _upload(request: Request, who: Principal, batch_id: str, upload: Any, correct: bool) -> Any:
    with request.app.state.db.sessions() as db:
        return batches_api.upload_results(batch_id, request, who, db, upload, correct)


@router.get("/batches/{batch_id}/plates")
async def batch_plates(request: Request, batch_id: str, visitor: Visitor) -> Response:
    """The printable plate map of the run waiting for results (the API's page)."""
    return await _batch_file(request, batch_id, visitor, None)


@router.get("/batches/{batch_id}/tables/{name}")
async def batch_table(request: Request, batch_id: str, name: str, visitor: Visitor) -> Response:
    """A batch table as a file (``statuses.xlsx``, ``retest.csv``, ...), the API's."""
    return await _batch_file(request, batch_id, visitor, name)


async def _batch_file(
    request: Request, batch_id: str, visitor: tuple[Principal, str] | None, name: str | None
) -> Response:
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)

    def read() -> Response:
        with request.app.state.db.sessions() as db:
            if name is None:
                return batches_api.plate_map(batch_id, request, visitor[0], db, lang)  # type: ignore[arg-type]
            return batches_api.table(batch_id, name, request, visitor[0], db, None)

    return await through_api(request, lang, visitor, read)


# ---------------------------------------------------------------------- scenarios
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("/scenarios/upload", response_class=HTMLResponse)
async def scenario_upload(request: Request, visitor: Visitor) -> Response:
    """A new scenario from an XLSX workbook or a zip of CSV files, through the API's own
    handler (coordinators and administrators; the scenario's province must be theirs)."""
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    form = await request.form()
    lang = form_lang(request, form)
    who = visitor[0]

    async def home_with(status: int, **said: Any) -> Response:
        rows = await run_in_threadpool(_readable, request, who)
        return render(request, "home.html", lang, visitor, status, scenarios=rows, **said)

    why = refusal(request, form, lang)
    if why:
        return await home_with(403, error=why)
    upload = form.get("file")
    if not isinstance(upload, StarletteUpload) or not upload.filename:
        return await home_with(422, error=say("no_scenario_file", lang))
    try:
        made = await run_in_threadpool(_create_scenario, request, who, upload)
    except HTTPException as exc:
        return await home_with(exc.status_code, error=_detail(exc.detail))
    except InputError as exc:
        return await home_with(422, error=say("scenario_refused", lang) + "\n" + str(exc))
    return await home_with(200, notice=say("scenario_added", lang, name=made.name))


def _create_scenario(request: Request, who: Principal, upload: Any) -> Any:
    with request.app.state.db.sessions() as db:
        return scenarios_api.create_from_file(request, Response(), who, db, upload)


@router.get("/scenarios/{scenario_id}/scenario.xlsx")
async def scenario_download(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    """The scenario as the workbook ``labopt scenario convert`` writes (it loads back)."""
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    data = await run_in_threadpool(_workbook, request, visitor[0], scenario_id)
    if data is None:
        return message(request, lang, visitor, 404, say("not_found", lang))
    return Response(
        data,
        media_type=XLSX_TYPE,
        headers={"content-disposition": f'attachment; filename="scenario_{scenario_id}.xlsx"'},
    )


def _workbook(request: Request, who: Principal, scenario_id: str) -> bytes | None:
    with request.app.state.db.sessions() as db:
        try:
            record = scenarios.get(db, scenario_id)
        except NotFound:
            return None
        if not who.coordinates(record.province_code):
            return None
        scn = scenario_from_data(record.data, source=f"scenario {scenario_id}")
    with tempfile.TemporaryDirectory() as tmp:
        path = save_xlsx(scn, Path(tmp) / "scenario.xlsx")
        return path.read_bytes()


# ---------------------------------------------------------------------- history
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
        return message(request, lang, visitor, exc.status_code, _detail(exc.detail))
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
        notes=history.notes,
    )


def _history(request: Request, who: Principal, scenario_id: str) -> tuple[str, Any] | None:
    with request.app.state.db.sessions() as db:
        record = scenarios.get(db, scenario_id)
        if not who.coordinates(record.province_code):
            return None
        return record.name, daily_api.history_json(scenario_id, who, db, None)


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
