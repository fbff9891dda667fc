"""A lab's day: the samples the day's daily plan sends it (its dispatch sheet), and what it
did, entered as the daily loop's records: samples tested per unit and stream (``tested``) and
the reactions it ran, with the reagent counted on its shelf (``reagent``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from labopt.daily.records import RECORDS
from labopt.errors import InputError
from labopt.pooling.designs import ALGORITHMS
from labopt.scenario import scenario_from_data
from labopt_api.routers import batches as batches_api
from labopt_api.routers import daily as daily_api
from labopt_api.schemas import BatchDesign
from labopt_api.security import Principal
from labopt_api.store import NotFound, daily_records, scenarios
from labopt_api.web.batches import batches_with
from labopt_api.web.page import (
    Visitor,
    check_form_rows,
    content_mark,
    day_form_page,
    day_form_save,
    day_of,
    day_sheet,
    detail_text,
    field_errors,
    form_lang,
    message,
    on_date,
    page_lang,
    record_form_rows,
    refusal,
    render,
    today,
    whole_number,
)
from labopt_api.web.words import say

router = APIRouter(include_in_schema=False)
# the form's boxes: tested|lab|unit|stream, used|lab, counted|lab (the number of "|" in each)
FIELDS = {"tested": 3, "used": 1, "counted": 1}


def _labs_of(who: Principal, province: str, labs: list[Any]) -> list[Any]:
    """The scenario's labs whose day ``who`` may see and record: a coordinator's every lab,
    a lab key's own."""
    if who.coordinates(province):
        return labs
    return [lab for lab in labs if lab.id in who.lab_ids(province)]


@router.get("/lab/{scenario_id}", response_class=HTMLResponse)
async def lab_page(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    return await day_form_page(request, scenario_id, visitor, "lab.html", _lab_view)


@router.post("/lab/{scenario_id}", response_class=HTMLResponse)
async def lab_save(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    return await day_form_save(
        request, scenario_id, visitor, "lab.html", FIELDS, _lab_view, _save_lab_day
    )


def _lab_view(
    request: Request,
    who: Principal,
    scenario_id: str,
    date: dt.date,
    entered: Mapping[str, str],
    lang: str,
) -> dict[str, Any] | None:
    """What the lab's day shows, per lab the key may see: the samples the day's daily plan
    sends it (unit, stream, samples, design), a box per unit and stream for the samples tested
    (those the plan sends and those recorded), the reactions run and the reagent counted."""
    with request.app.state.db.sessions() as db:
        try:
            record = scenarios.get(db, scenario_id)
        except NotFound:
            return None
        province = record.province_code
        if not (who.coordinates(province) or who.lab_ids(province)):
            return None
        scn, _ = daily_records.records(db, record)
        uploaded = daily_records.stored(db, scenario_id)
        plan, planned = day_sheet(db, who, scenario_id, date, "allocations")
        shown = [lab.id for lab in _labs_of(who, province, scn.labs)]
        mark = _lab_mark(db, scenario_id, shown, date)
        warnings = daily_api.adds_up_warnings(db, record)  # until a correction is recorded
    # day 1 of the daily plan: what it sends each lab (stream ids, unlike the printed sheet)
    arrivals = planned[(planned["day"] == 1) & (planned["samples"] > 0)]
    day = date.isoformat()
    tested = on_date(uploaded["tested"], day)
    reagent = on_date(uploaded["reagent"], day).set_index("lab")
    units = {d.code: d.name for d in scn.districts}
    streams = {s.id: s.named(lang) for s in scn.streams}
    labs = []
    for lab in _labs_of(who, province, scn.labs):
        sent = arrivals[arrivals["lab"] == lab.id] if len(arrivals) else arrivals
        done = tested[tested["lab"] == lab.id].set_index(["district", "stream"])["samples"]
        coming = {(str(r.district), str(r.stream)): r for r in sent.itertuples(index=False)}
        typed = {
            (parts[2], parts[3])
            for name in entered
            if (parts := name.split("|"))[0] == "tested" and parts[1] == lab.id
        }  # what was sent is shown back, with its error
        keys = sorted(
            set(coming) | set(done.index) | typed, key=lambda k: (units.get(k[0], k[0]), k[1])
        )
        boxes = []
        for unit, stream in keys:
            name = f"tested|{lab.id}|{unit}|{stream}"
            value = entered.get(name)
            if value is None:
                value = str(int(done[unit, stream])) if (unit, stream) in done.index else ""
            r = coming.get((unit, stream))
            boxes.append(
                {
                    "name": name,
                    "id": f"t-{lab.id}-{unit}-{stream}",
                    "unit": units.get(unit, unit),
                    "stream": streams.get(stream, stream),
                    "value": value,
                    "sent": None if r is None else int(r.samples),
                    "pool": None if r is None else int(r.pool_size),
                }
            )
        held = reagent.loc[lab.id] if lab.id in reagent.index else None
        counted = None if held is None or pd.isna(held["counted"]) else int(held["counted"])
        labs.append(
            {
                "id": lab.id,
                "name": lab.name,
                "boxes": boxes,
                "sent": int(sent["samples"].sum()) if len(sent) else 0,
                "reactions": float(sent["reactions"].sum()) if len(sent) else 0.0,
                "used": entered.get(
                    f"used|{lab.id}", "" if held is None else _reagent_text(held["used"], lang)
                ),
                "counted": entered.get(
                    f"counted|{lab.id}", "" if counted is None else str(counted)
                ),
            }
        )
    return {
        "scenario_id": scenario_id,
        "province": scn.province.name,
        "date": date,
        "labs": labs,
        "plan": plan,
        "algorithms": ALGORITHMS,
        "seen": mark,
        "warnings": warnings,
    }


def _save_lab_day(
    request: Request,
    who: Principal,
    scenario_id: str,
    date: dt.date,
    entered: Mapping[str, str],
    seen: str,
    lang: str,
) -> dict[str, Any]:
    """Record each lab's figures typed as its ``tested`` and ``reagent`` records of ``date``
    (the API's own checks, both kinds checked before either is stored; a lab's day is
    recorded whole: a box left empty, or showing the figure recorded, keeps it); the errors
    by field name. A form from a page that no longer shows what is recorded is refused."""
    with request.app.state.db.sessions() as db:
        try:
            record = scenarios.get(db, scenario_id)
        except NotFound:
            return {"errors": {}, "error": say("not_found", lang)}
        province = record.province_code

        def may(code: str) -> bool:
            return who.coordinates(province) or code in who.lab_ids(province)

        scn = scenario_from_data(record.data, source=f"scenario {scenario_id}")
        uploaded = daily_records.stored(db, scenario_id)
        day = date.isoformat()
        held = on_date(uploaded["reagent"], day).set_index("lab")
        errors: dict[str, str] = {}
        tested: dict[str, dict[tuple[str, str], int]] = {}
        reagent: dict[str, dict[str, float]] = {}
        for name, text in entered.items():
            kind, lab, *rest = name.split("|")
            shown = (
                _reagent_text(held.loc[lab][kind], lang)
                if lab in held.index and kind != "tested"
                else ""
            )
            if not text.strip() or (kind != "tested" and text.strip() == shown):
                continue  # kept as recorded
            n = whole_number(text, lang)
            if n is None:
                errors[name] = say("whole" if kind == "tested" else "whole_reactions", lang)
            elif kind == "tested":
                tested.setdefault(lab, {})[rest[0], rest[1]] = n
            else:
                reagent.setdefault(lab, {})[kind] = n
        if errors:
            return {"errors": errors, "error": say("not_saved", lang)}
        if not tested and not reagent:
            if entered:  # the page's form as it was shown
                return {"errors": {}, "done": {"unchanged": 1}}
            return {"errors": {}, "error": say("nothing", lang)}
        refused = sorted({lab for lab in (*tested, *reagent) if not may(lab)})
        if refused:
            why = f"record tested and reagent records for {', '.join(refused)}"
            return {"errors": {}, "error": say("forbidden", lang, why=why), "forbidden": True}
        shown_labs = [lab.id for lab in _labs_of(who, province, scn.labs)]
        if seen != _lab_mark(db, scenario_id, shown_labs, date):
            return {"errors": {}, "error": say("stale", lang), "stale": True}
        reagent_rows, reagent_fields = [], []
        for lab, figures in reagent.items():
            old = held.loc[lab] if lab in held.index else None
            used = figures.get("used", None if old is None else float(old["used"]))
            if used is None:
                return {
                    "errors": {f"used|{lab}": say("used_first", lang)},
                    "error": say("not_saved", lang),
                }
            counted = figures.get("counted")
            if counted is None and old is not None and not pd.isna(old["counted"]):
                counted = int(old["counted"])
            reagent_rows.append(
                {
                    "date": day,
                    "lab": lab,
                    "used": repr(used),
                    "counted": "" if counted is None else str(int(counted)),
                }
            )
            reagent_fields.append(f"used|{lab}")
        rows: list[dict[str, str]] = []
        fields: list[str] = []
        on_day = on_date(uploaded["tested"], day)
        for lab, typed in tested.items():  # each lab's day whole: the other rows kept
            for r in on_day[on_day["lab"] == lab].itertuples(index=False):
                typed.setdefault((r.district, r.stream), int(r.samples))
            for (unit, stream), n in typed.items():
                rows.append(
                    {"date": day, "lab": lab, "district": unit, "stream": stream, "samples": str(n)}
                )
                fields.append(f"tested|{lab}|{unit}|{stream}")
        kinds = [
            (kind, kind_rows, kind_fields)
            for kind, kind_rows, kind_fields in (
                ("tested", rows, fields),
                ("reagent", reagent_rows, reagent_fields),
            )
            if kind_rows
        ]
        for kind, kind_rows, kind_fields in kinds:  # both checked before either is stored
            problem = check_form_rows(scn, kind, kind_rows, kind_fields, lang, may)
            if problem:
                return problem
        saved = []
        for kind, kind_rows, kind_fields in kinds:
            out = record_form_rows(db, record, who, kind, kind_rows, kind_fields, lang, may)
            if "upload" not in out:
                return out
            saved.append(out["upload"])
    if not any(up.changed for up in saved):
        return {"errors": {}, "done": {"unchanged": 1}}
    return {"errors": {}, "done": {"saved": sum(up.rows for up in saved if up.changed)}}


def _reagent_text(value: Any, lang: str) -> str:
    """A recorded figure of reagent as its box shows it (blank: none; 12.5 reactions used, as
    the API may record them, with the language's decimal mark)."""
    if value is None or pd.isna(value):
        return ""
    text = f"{float(value):g}"
    return text.replace(".", ",") if lang == "vi" else text


def _lab_mark(db: Any, scenario_id: str, labs: list[str], date: dt.date) -> str:
    """The mark of what the lab's day shows of ``labs``: their tested and reagent records of
    ``date``."""
    stored = daily_records.stored(db, scenario_id)
    parts = []
    for kind in ("tested", "reagent"):
        got = on_date(stored[kind], date.isoformat())
        got = got[got["lab"].isin(labs)] if len(got) else got
        names = [c.name for c in RECORDS[kind].columns]
        parts.append(sorted(got[names].astype(str).values.tolist()))
    return content_mark(*parts)


# ---------------------------------------------------------------------- a batch of the day
BATCH_FIELDS = ("lab", "label", "algorithm", "config")


@router.post("/lab/{scenario_id}/batch", response_class=HTMLResponse)
async def make_batch(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    """A batch of the day's samples from a CSV or XLSX file (``sample_id``; optional stream,
    district, risk, address_group), pooled with the design chosen, through the API's own
    handler: its pool manifest and first run's plate map, then listed on the batches' page."""
    lang = page_lang(request)
    if visitor is None:
        return RedirectResponse("/", status_code=303)
    form = await request.form()
    lang = form_lang(request, form)
    date = day_of(str(form.get("date", "")))
    typed = {k: str(form.get(k, "")).strip() for k in BATCH_FIELDS}
    view = await run_in_threadpool(
        _lab_view, request, visitor[0], scenario_id, date or today(), {}, lang
    )
    if view is None:
        return message(request, lang, visitor, 404, say("not_found", lang))
    shown = {**view, "batch": typed}

    def refused(status: int, error: str, errors: dict[str, str] | None = None) -> Response:
        return render(
            request, "lab.html", lang, visitor, status, **shown, batch_error=error,
            batch_errors=errors or {},
        )  # fmt: skip

    why = refusal(request, form, lang)
    if why:
        return refused(403, why)
    if date is None:
        return refused(422, say("bad_date", lang))
    try:
        design = BatchDesign(scenario_id=scenario_id, date=date, **typed)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        errors = field_errors(exc, lang)
        if "date" in errors:  # the page's date, not a box of the form
            return refused(422, say("batch_not_made", lang) + "\n" + say("bad_batch_date", lang))
        return refused(422, say("batch_not_made", lang), errors)
    upload = form.get("file")
    if not isinstance(upload, StarletteUpload) or not upload.filename:
        return refused(422, say("batch_not_made", lang), {"file": say("no_samples_file", lang)})
    try:
        made = await run_in_threadpool(_create_batch, request, visitor[0], design, upload)
    except HTTPException as exc:
        return refused(
            exc.status_code, say("batch_not_made", lang) + "\n" + detail_text(exc.detail)
        )
    except NotFound:
        return message(request, lang, visitor, 404, say("not_found", lang))
    except InputError as exc:
        return refused(422, say("batch_not_made", lang) + "\n" + str(exc))
    notice = say("batch_made", lang, label=made.label, n=made.samples)
    return await batches_with(request, lang, visitor, notice=notice)


def _create_batch(request: Request, who: Principal, design: BatchDesign, upload: Any) -> Any:
    with request.app.state.db.sessions() as db:
        return batches_api.batch_from_file(who, db, upload, **design.model_dump())
