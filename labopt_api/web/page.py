"""What every page does: its visitor, its language, its rendering, its forms' checks (the
token, the site, figures as typed), and the API's refusals said as a page."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

import pandas as pd
from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from labopt.daily.records import RECORDS, RecordError
from labopt.daily.sheets import UNIT_COLUMNS
from labopt.errors import InputError
from labopt.numbers import date_text, number_text
from labopt.scenario import Scenario
from labopt.schedule.labels import stage_text
from labopt.schedule.labels import value as code_word
from labopt_api.models import PlanJob
from labopt_api.protection import STATIC_PREFIX
from labopt_api.security import Principal
from labopt_api.store import NotFound, daily_records, plans
from labopt_api.web.session import (
    LANG_COOKIE,
    form_token,
    from_this_site,
    signed_in,
    token_ok,
)
from labopt_api.web.words import LANGS, say

# the columns of a daily plan's tables the pages read (for a date without a daily plan)
DAY_COLUMNS = {
    "dispatch_units": UNIT_COLUMNS,
    "allocations": ["day", "district", "stream", "lab", "samples", "pool_size", "reactions"],
}

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
        pct=lambda p: number_text(100 * p, lang, ",.2f") + " %",
        day=lambda d: date_text(d, lang),
        code=lambda c: code_word(c, lang) or "",
        stage=lambda m: stage_text(m or "", lang),
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
        return message(request, lang, visitor, exc.status_code, detail_text(exc.detail))
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


def today() -> dt.date:
    return dt.date.today()


def day_of(text: str) -> dt.date | None:
    """A date typed or sent as YYYY-MM-DD between the years 1900 and 9000, else None (a day
    before or after it must still be a date)."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    return day if 1900 <= day.year <= 9000 else None


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


DETAIL_CHARS = 400  # an error's text shown on a page at most (it may echo what was sent)


def detail_text(detail: Any) -> str:
    """An API error's ``detail`` as a sentence (a list of problems joined), capped."""
    if isinstance(detail, list):
        text = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    else:
        text = str(detail)
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def number_asked(text: str | None) -> int:
    """A whole number from 1 asked in the address (a list's page, 1 = the newest; a plan's
    day), or 1 when it is not one."""
    if text and text.isascii() and text.isdigit() and len(text) < 6 and int(text) > 0:
        return int(text)
    return 1


def one_page(db: Any, query: Any, page: int, size: int) -> tuple[list[Any], bool]:
    """Page ``page`` of ``size`` rows of a newest-first listing, and whether older rows
    follow."""
    rows = [r[0] for r in db.execute(query.offset((page - 1) * size).limit(size + 1))]
    return rows[:size], len(rows) > size


def _form_rows(kind: str, rows: list[dict[str, str]]) -> pd.DataFrame:
    columns = [c.name for c in RECORDS[kind].columns]
    return pd.DataFrame(rows, columns=columns).fillna("").astype(str)


def _refused_rows(
    work: Callable[[], Any], rows: list[dict[str, str]], fields: list[str], lang: str
) -> dict[str, Any]:
    """{"done": what ``work`` returned}, or why the API's checks refused the rows, with the
    errors by the form's field names (``fields[i]`` holds row i's figure)."""
    try:
        return {"done": work()}
    except PermissionError as exc:
        return {"errors": {}, "error": say("forbidden", lang, why=exc), "forbidden": True}
    except RecordError as exc:
        errors = {
            fields[p.row - 2]: p.message
            for p in exc.problems
            if p.row is not None and 0 <= p.row - 2 < len(rows)
        }
        return {"errors": errors, "error": say("not_saved", lang) + "\n" + str(exc)}
    except InputError as exc:  # the form's rows are the API's: any other refusal, as said
        return {"errors": {}, "error": say("not_saved", lang) + "\n" + str(exc)}


def check_form_rows(
    scn: Scenario,
    kind: str,
    rows: list[dict[str, str]],
    fields: list[str],
    lang: str,
    may: Callable[[str], bool],
) -> dict[str, Any] | None:
    """Why the API would refuse ``rows`` (a form's figures as a file's text cells) as one
    upload of the daily records ``kind``, or None: checked before a form that stores
    several uploads stores any of them."""
    raw = _form_rows(kind, rows)
    out = _refused_rows(
        lambda: daily_records.checked(scn, kind, raw, FORM_SOURCE, may), rows, fields, lang
    )
    return None if "done" in out else out


def record_form_rows(
    db: Any,
    record: Any,
    who: Principal,
    kind: str,
    rows: list[dict[str, str]],
    fields: list[str],
    lang: str,
    may: Callable[[str], bool],
) -> dict[str, Any]:
    """Store ``rows`` (a form's figures as a file's text cells) as one upload of the daily
    records ``kind``, all or nothing, with the API's own checks: {"upload": ...}, or why not
    with the errors by the form's field names (``fields[i]`` holds row i's figure)."""
    raw = _form_rows(kind, rows)
    out = _refused_rows(
        lambda: daily_records.record(db, record.id, who, kind, raw, FORM_SOURCE, may),
        rows,
        fields,
        lang,
    )
    return {"upload": out["done"]} if "done" in out else out


def saved_page(request: Request, done: Mapping[str, int], date: dt.date, lang: str) -> Response:
    """After a day's form is saved, its page again (a GET: reloading it, or going back to it,
    sends nothing twice), saying what was saved (``done``: saved rows, unchanged, reports)."""
    said = urlencode({k: int(v) for k, v in done.items() if v})
    query = f"date={date.isoformat()}&lang={lang}" + (f"&{said}" if said else "")
    return RedirectResponse(f"{request.url.path}?{query}", status_code=303)


def saved_notice(request: Request, date: dt.date, lang: str) -> str | None:
    """What :func:`saved_page` says was saved, from its address."""
    got = {k: request.query_params.get(k, "") for k in ("saved", "unchanged", "reports")}
    n = {k: int(v) if v.isascii() and v.isdigit() and len(v) < 7 else 0 for k, v in got.items()}
    when = date_text(date, lang)
    parts = [
        say("saved", lang, n=n["saved"], date=when) if n["saved"] else "",
        say("unchanged", lang) if n["unchanged"] else "",
        say("report_saved", lang, n=n["reports"], date=when) if n["reports"] else "",
    ]
    return " ".join(p for p in parts if p) or None


def form_boxes(
    form: Any, fields: Mapping[str, int], lang: str
) -> tuple[dict[str, str], str | None]:
    """A day's form's boxes (name -> text) of the kinds ``fields`` names (kind -> the number
    of "|" in its boxes' names: ``samples|unit|stream`` has 2), or why the form is refused: a
    box this page does not have, or one sent twice with different figures."""
    entered: dict[str, str] = {}
    for name, value in form.multi_items():
        kind = name.split("|")[0]
        if kind not in fields:
            continue
        if name.count("|") != fields[kind] or "" in name.split("|"):
            return {}, say("bad_field", lang, name=name[:80])
        text = str(value)
        if entered.get(name, text) != text:
            return {}, say("twice", lang)
        entered[name] = text
    return entered, None


def on_date(rows: pd.DataFrame, day: str) -> pd.DataFrame:
    """The daily records of ``rows`` dated ``day`` (YYYY-MM-DD)."""
    return rows[rows["date"].astype(str) == day] if len(rows) else rows.iloc[0:0]


def outcome_status(outcome: Mapping[str, Any]) -> int:
    """The status of a page that answers a form: 403 refused, 409 out of date, 422 not
    saved, else 200."""
    if outcome.get("forbidden"):
        return 403
    if outcome.get("stale"):
        return 409
    return 422 if outcome.get("error") else 200


FORM_SOURCE = "the day's form"  # a form's upload, as named in messages and the audit


def content_mark(*parts: Any) -> str:
    """A short mark of what a form showed (its figures and reports): a form sent back with
    another mark was filled in on a page that is out of date."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def field_errors(exc: Any, lang: str) -> dict[str, str]:
    """A pydantic ValidationError's errors by field name, in ``lang`` for the kinds a form
    meets (too long, not the form asked for, not one of the choices), else as pydantic says."""
    out = {}
    for e in getattr(exc, "errors", list)():
        if not e.get("loc"):
            continue
        ctx = e.get("ctx") or {}
        kind = {
            "string_too_long": ("too_long", {"n": ctx.get("max_length", 0)}),
            "too_long": ("too_long", {"n": ctx.get("max_length", 0)}),
            "string_pattern_mismatch": ("bad_form", {}),
            "literal_error": ("one_of", {"choices": ctx.get("expected", "")}),
            "string_too_short": ("required", {}),
            "missing": ("required", {}),
            "value_error": ("printable", {}),
        }.get(e["type"])
        out[str(e["loc"][0])] = say(kind[0], lang, **kind[1]) if kind else e["msg"]
    return out


def day_sheet(db: Any, who: Principal, scenario_id: str, date: dt.date, name: str) -> Any:
    """The newest daily plan done for ``date`` that ``who`` may read, and its table ``name``
    (``dispatch_units``, ``allocations``) as a DataFrame: (None, no rows) when there is none.
    The caller keeps the rows ``who`` may see."""
    newest = db.execute(
        plans.listing(who, scenario_id)
        .where(PlanJob.daily.is_(True), PlanJob.status == "done", PlanJob.start_date == date)
        .limit(1)
    ).first()
    if newest is None or name not in plans.table_names(db, newest[0].id):
        return None, pd.DataFrame(columns=DAY_COLUMNS[name])
    stored = plans.table(db, newest[0].id, name)
    return newest[0], pd.DataFrame(stored.rows, columns=stored.columns)


DayView = Callable[..., "dict[str, Any] | None"]  # (request, who, scenario id, date, boxes, lang)
DaySave = Callable[..., "dict[str, Any]"]  # (request, who, scenario id, date, boxes, seen, lang)


async def day_form_page(
    request: Request,
    scenario_id: str,
    visitor: tuple[Principal, str] | None,
    template: str,
    view: DayView,
) -> Response:
    """A day's form page (a unit's day, a lab's day) for ``?date=`` (default today), with what
    the last save said."""
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    asked = request.query_params.get("date")
    date = day_of(asked) if asked else today()
    shown = await run_in_threadpool(
        view, request, visitor[0], scenario_id, date or today(), {}, lang
    )
    if shown is None:
        return message(request, lang, visitor, 404, say("not_found", lang))
    error = say("bad_date", lang) if date is None else None
    notice = None if date is None else saved_notice(request, date, lang)
    status = 422 if error else 200
    return render(request, template, lang, visitor, status, **shown, error=error, notice=notice)


async def day_form_save(
    request: Request,
    scenario_id: str,
    visitor: tuple[Principal, str] | None,
    template: str,
    fields: Mapping[str, int],
    view: DayView,
    save: DaySave,
) -> Response:
    """A day's form sent: refused (another site, no token, a bad date or box) with the page
    and what was typed; saved by ``save``, then the page again by a GET; or why not."""
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    form = await request.form()
    lang = form_lang(request, form)
    date = day_of(str(form.get("date", "")))
    entered, problem = form_boxes(form, fields, lang)
    shown = await run_in_threadpool(
        view, request, visitor[0], scenario_id, date or today(), entered, lang
    )
    if shown is None:
        return message(request, lang, visitor, 404, say("not_found", lang))
    why = refusal(request, form, lang)
    if why:
        return render(request, template, lang, visitor, 403, **shown, error=why)
    if date is None or problem:
        error = problem or say("bad_date", lang)
        return render(request, template, lang, visitor, 422, **shown, error=error)
    seen = str(form.get("seen", ""))
    outcome = await run_in_threadpool(
        save, request, visitor[0], scenario_id, date, entered, seen, lang
    )
    if "done" in outcome:
        return saved_page(request, outcome["done"], date, lang)
    if outcome.get("stale"):  # sent from a page out of date: show what is recorded now
        shown = await run_in_threadpool(view, request, visitor[0], scenario_id, date, {}, lang)
        if shown is None:
            return message(request, lang, visitor, 404, say("not_found", lang))
    answer = {**shown, **outcome}  # why the form was not saved, over the page as it is
    return render(request, template, lang, visitor, outcome_status(outcome), **answer)
