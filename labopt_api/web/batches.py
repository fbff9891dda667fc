"""A lab's batches: counts, plate maps, statuses and retest lists, and a run's results sent
from a file."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from labopt.errors import InputError
from labopt.numbers import date_text
from labopt.scenario import scenario_from_data
from labopt_api.routers import batches as batches_api
from labopt_api.schemas import EstimateIn
from labopt_api.security import Principal
from labopt_api.store import NotFound, batches, scenarios
from labopt_api.web.page import (
    Visitor,
    day_of,
    detail_text,
    form_lang,
    message,
    number_asked,
    one_page,
    page_lang,
    refusal,
    render,
    through_api,
)
from labopt_api.web.words import say

router = APIRouter(include_in_schema=False)


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
    return await batches_with(request, lang, visitor, at)


async def batches_with(
    request: Request, lang: str, visitor: tuple[Principal, str], page: int = 1, **said: Any
) -> Response:
    """The batches' page (page ``page``, newest first) with what is ``said`` (a notice)."""
    listed, older = await run_in_threadpool(_batches, request, visitor[0], page)
    shown: dict[str, Any] = {"batches": listed, "page": page, "older": older, **said}
    return render(request, "batches.html", lang, visitor, **shown)


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
        error = say("results_refused", lang) + "\n" + detail_text(exc.detail)
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
    retest = await run_in_threadpool(_next_run, request, visitor[0], batch_id)
    return render(
        request,
        "batches.html",
        lang,
        visitor,
        **shown,
        notice=notice,
        notes=out.notes,
        next_run=retest,
        next_label=out.batch.label,
    )


def _upload(request: Request, who: Principal, batch_id: str, upload: Any, correct: bool) -> Any:
    with request.app.state.db.sessions() as db:
        return batches_api.upload_results(batch_id, request, who, db, upload, correct)


RETEST_SHOWN = 200  # pools of the next run listed on the page (the whole list: XLSX)


def _next_run(request: Request, who: Principal, batch_id: str) -> list[dict[str, Any]]:
    """The pools the decoded results send to the next run (the API's retest list), each
    with its stage and its samples, at most RETEST_SHOWN."""
    with request.app.state.db.sessions() as db:
        _, rows = batches_api.batch_table(db, request, who, batch_id, "retest")
    pools = []
    for pool_id, group in rows.groupby("pool_id", sort=False):
        pools.append(
            {
                "pool": pool_id,
                "stage": int(group["stage"].iloc[0]),
                "samples": [str(v) for v in group["sample_id"]],
            }
        )
        if len(pools) == RETEST_SHOWN:
            break
    return pools


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


@router.post("/estimates/{scenario_id}", response_class=HTMLResponse)
async def estimate(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    """Prevalence per unit and stream from the first-stage results of one collection date's
    batches, stored for the next day's plans, through the API's own handler (a
    coordinator's)."""
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
    date = day_of(str(form.get("date", "")))
    try:
        body = EstimateIn(date=date) if date is not None else None
    except ValueError:  # a date the API does not take (its years): said as the page's
        body = None
    if body is None:
        return render(
            request, "batches.html", lang, visitor, 422, **shown, error=say("bad_date", lang)
        )
    try:
        found = await run_in_threadpool(_estimate, request, visitor[0], scenario_id, body)
    except HTTPException as exc:
        error = say("estimate_refused", lang) + "\n" + detail_text(exc.detail)
        return render(request, "batches.html", lang, visitor, exc.status_code, **shown, error=error)
    except NotFound:
        return message(request, lang, visitor, 404, say("no_such", lang))
    out, names = found
    notice = say("estimated", lang, n=len(out.stored), date=date_text(out.for_date, lang))
    rows = [
        {
            **e,
            "unit": names["units"].get(e.get("district"), e.get("district", "")),
            "stream_name": names[lang].get(e.get("stream"), e.get("stream", "")),
        }
        for e in out.estimates
    ]
    return render(request, "batches.html", lang, visitor, **shown, notice=notice, estimates=rows)


def _estimate(
    request: Request, who: Principal, scenario_id: str, body: EstimateIn
) -> tuple[Any, dict[str, dict[str, str]]]:
    """The API's estimates, and the scenario's names of its units and streams (by language)."""
    with request.app.state.db.sessions() as db:
        out = batches_api.estimate(scenario_id, body, request, who, db)
        scn = scenario_from_data(scenarios.get(db, scenario_id).data, source=scenario_id)
    names = {
        "units": {d.code: d.name for d in scn.districts},
        **{lang: {s.id: s.named(lang) for s in scn.streams} for lang in ("en", "vi")},
    }
    return out, names
