"""Sign-in, the home page (the provinces a key may see, their pages and sheets), and the
scenario files a coordinator adds or takes away."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from labopt.errors import InputError
from labopt.scenario import scenario_from_data
from labopt.scenario.io import save_xlsx
from labopt_api.models import PlanJob
from labopt_api.routers import scenarios as scenarios_api
from labopt_api.security import Principal
from labopt_api.store import NotFound, plans, scenarios
from labopt_api.web.page import (
    Visitor,
    detail_text,
    form_lang,
    message,
    page_lang,
    refusal,
    render,
)
from labopt_api.web.session import (
    check_key,
    from_this_site,
    retry_after,
    sign_in,
    sign_out,
)
from labopt_api.web.words import LANGS, say

router = APIRouter(include_in_schema=False)


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
            "labs": who.coordinates(r["province_code"]) or bool(who.lab_ids(r["province_code"])),
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
        return await home_with(exc.status_code, error=detail_text(exc.detail))
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
