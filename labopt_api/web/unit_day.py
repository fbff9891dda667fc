"""A unit's day: the samples it collected per stream, entered as the daily loop's records, and
its epidemic level and notes for the coordinator, entered as the unit's report of that day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from labopt.daily.province import first_records
from labopt.errors import InputError
from labopt.scenario import scenario_from_data
from labopt.scenario.updates import DistrictDay, check_district_day
from labopt_api.routers import daily as daily_api
from labopt_api.routers import scenarios as scenarios_api
from labopt_api.schemas import DistrictDayIn
from labopt_api.security import Principal
from labopt_api.store import NotFound, daily_records, district_days, scenarios
from labopt_api.web.page import (
    Visitor,
    check_form_rows,
    content_mark,
    day_form_page,
    day_form_save,
    day_sheet,
    detail_text,
    field_errors,
    on_date,
    record_form_rows,
    whole_number,
)
from labopt_api.web.words import say

router = APIRouter(include_in_schema=False)


@router.get("/day/{scenario_id}", response_class=HTMLResponse)
async def day_page(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    return await day_form_page(request, scenario_id, visitor, "day.html", _day_view)


@router.post("/day/{scenario_id}", response_class=HTMLResponse)
async def day_save(request: Request, scenario_id: str, visitor: Visitor) -> Response:
    return await day_form_save(
        request, scenario_id, visitor, "day.html", FIELDS, _day_view, _save_day
    )


# the day's boxes: samples|unit|stream, level|unit, notes|unit (the number of "|" in each name)
FIELDS = {"samples": 2, "level": 1, "notes": 1}
LEVELS = ("1", "2", "3", "4")  # a unit's epidemic level (the scenario's districts.csv)


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
    the day before's; the unit's epidemic level and notes of that day (or those in force)."""
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
        _, asks = day_sheet(db, who, scenario_id, date, "dispatch_units")
        units = [d for d in scn.districts if who.speaks_for(province, d.code)]
        reports = _reports(db, record, [d.code for d in units], date)
        mark = _day_mark(db, record, reports, date)
        warnings = daily_api.adds_up_warnings(db, record)  # until a correction is recorded
    got = recs.collected
    day = date.isoformat()
    by_key = ["district", "stream"]
    recorded = on_date(uploaded, day).set_index(by_key)["samples"]
    planned = on_date(first_records(scn)["collected"], day).set_index(by_key)["samples"]
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
                "stream": str(r.stream_vi if lang == "vi" else r.stream),
                "lab": str(r.lab_name),
                "samples": int(r.samples),
                "pool": int(r.pool_size),
            }
            for r in mine.itertuples(index=False)
        ]
        said = reports[d.code]
        rows.append(
            {
                "code": d.code,
                "name": d.name,
                "cells": cells,
                "asks": asked,
                "level": entered.get(f"level|{d.code}", str(said["level"])),
                "level_today": said["today"],
                "notes": entered.get(f"notes|{d.code}", said["notes"]),
            }
        )
    return {
        "scenario_id": scenario_id,
        "province": scn.province.name,
        "date": date,
        "units": rows,
        "planned_day": len(asks) > 0,
        "seen": mark,
        "warnings": warnings,
    }


def _day_mark(db: Any, record: Any, reports: Mapping[str, Mapping[str, Any]], date: dt.date) -> str:
    """The mark of what the day's page shows of the units of ``reports`` (:func:`_reports`)
    on ``date``: their uploaded samples, and the level and notes shown (what else the records
    hold is kept by a save)."""
    got = on_date(daily_records.stored(db, record.id)["collected"], date.isoformat())
    got = got[got["district"].isin(list(reports))] if len(got) else got
    rows = sorted(got[["district", "stream", "samples"]].astype(str).values.tolist())
    shown = {u: (r["level"], r["notes"]) for u, r in reports.items()}
    return content_mark(rows, shown)


def _reports(db: Any, record: Any, codes: list[str], date: dt.date) -> dict[str, dict[str, Any]]:
    """Per unit of the scenario among ``codes``: its report of ``date`` (the payload, or {}),
    the epidemic level it gave that day (or None), the level in force (that day's, else the
    latest report's, else the scenario's) and that day's notes."""
    in_force = district_days.build_scenario(db, record).district_by_code
    out = {}
    for code in codes:
        if code not in in_force:
            continue
        row = district_days.current_row(db, record.id, code, date)
        payload = dict(row.payload) if row else {}
        today_level = payload.get("epidemic_level")
        out[code] = {
            "payload": payload,
            "today": today_level,
            "level": today_level or in_force[code].epidemic_level,
            "notes": payload.get("notes", ""),
        }
    return out


def _save_day(
    request: Request,
    who: Principal,
    scenario_id: str,
    date: dt.date,
    entered: Mapping[str, str],
    seen: str,
    lang: str,
) -> dict[str, Any]:
    """Record the figures entered as the units' ``collected`` records of ``date`` (as the
    API's upload), and a unit's epidemic level and notes, where they changed, as its report
    of ``date`` (the API's handler): all checked before any is stored; the errors by field
    name. A unit's day is recorded whole: a box left empty keeps the figure recorded before,
    and every row keeps its prevalence; the report keeps what it held. A form filled in on a
    page that no longer shows what is recorded (``seen``) is refused: it would put back what
    another person changed meanwhile."""
    errors: dict[str, str] = {}
    typed: dict[tuple[str, str], int] = {}
    said: dict[str, dict[str, Any]] = {}  # unit -> the level and notes as sent
    for name, text in entered.items():
        kind, unit, *rest = name.split("|")
        if kind == "level":
            if text.strip() not in ("", *LEVELS):
                errors[name] = say("level_choice", lang)
            elif text.strip():
                said.setdefault(unit, {})["epidemic_level"] = int(text)
        elif kind == "notes":
            try:
                said.setdefault(unit, {})["notes"] = DistrictDayIn(notes=text).notes
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                errors[name] = field_errors(exc, lang).get("notes", str(exc))
        elif text.strip():
            n = whole_number(text, lang)
            if n is None:
                errors[name] = say("whole", lang)
            else:
                typed[unit, rest[0]] = n
    if errors:
        return {"errors": errors, "error": say("not_saved", lang)}
    with request.app.state.db.sessions() as db:
        try:
            record = scenarios.get(db, scenario_id)
        except NotFound:
            return {"errors": {}, "error": say("not_found", lang)}
        province = record.province_code
        named = set(said) | {u for u, _ in typed}
        refused = sorted(u for u in named if not who.speaks_for(province, u))
        if refused:  # a unit this key does not report for
            why = f"submit input for {province}/{refused[0]}"
            return {"errors": {}, "error": say("forbidden", lang, why=why), "forbidden": True}
        scn = scenario_from_data(record.data, source=f"scenario {scenario_id}")
        mine = _reports(
            db, record, [d.code for d in scn.districts if who.speaks_for(province, d.code)], date
        )
        if seen != _day_mark(db, record, mine, date):
            return {"errors": {}, "error": say("stale", lang), "stale": True}
        reports = {u: mine[u] for u in said if u in mine}
        unknown = sorted(set(said) - set(reports))
        if unknown:  # not a unit of the scenario (the page shows only its own)
            name = next(n for n in entered if n.split("|")[1] == unknown[0])
            return {"errors": {}, "error": say("bad_field", lang, name=name[:80])}
        bodies = _changed_reports(said, reports)
        if not typed and not bodies:
            if said:  # the page's form as it was shown
                return {"errors": {}, "done": {"unchanged": 1}}
            return {"errors": {}, "error": say("nothing", lang)}
        rows = _collected_rows(db, record, date, typed)
        fields = [f"samples|{r['district']}|{r['stream']}" for r in rows]

        def may(code: str) -> bool:
            return who.speaks_for(province, code)

        if rows:  # everything is checked before anything is stored
            problem = check_form_rows(scn, "collected", rows, fields, lang, may)
            if problem:
                return problem
        for unit, body in bodies.items():
            try:
                check_district_day(
                    scn, DistrictDay(unit, date, body.epidemic_level, body.prevalence, body.samples)
                )
            except InputError as exc:
                return {"errors": {}, "error": say("not_saved", lang) + "\n" + str(exc)}
        up = None
        if rows:
            out = record_form_rows(db, record, who, "collected", rows, fields, lang, may)
            if "upload" not in out:
                return out
            up = out["upload"]
        for unit, body in bodies.items():
            try:
                scenarios_api.put_district_day(scenario_id, unit, date, body, who, db)
            except HTTPException as exc:
                return {
                    "errors": {},
                    "error": say("not_saved", lang) + "\n" + detail_text(exc.detail),
                }
    done = {"reports": len(bodies)}
    if up is not None:
        done.update({"saved": up.rows} if up.changed else {"unchanged": 1})
    return {"errors": {}, "done": done}


def _changed_reports(
    said: Mapping[str, Mapping[str, Any]], reports: Mapping[str, Mapping[str, Any]]
) -> dict[str, DistrictDayIn]:
    """The reports to submit: a unit's level, where it differs from the level shown (the
    one in force), and its notes, where they differ from the day's; the report keeps what
    else it holds (its own level, samples and prevalence)."""
    out = {}
    for unit, new in said.items():
        was = reports[unit]
        payload = was["payload"]
        level = new.get("epidemic_level", was["level"])
        notes = new.get("notes", was["notes"])
        if level == was["level"] and notes == was["notes"]:
            continue
        out[unit] = DistrictDayIn(
            epidemic_level=level if level != was["level"] else payload.get("epidemic_level"),
            prevalence=payload.get("prevalence", {}),
            samples=payload.get("samples", {}),
            notes=notes,
        )
    return out


def _collected_rows(
    db: Any, record: Any, date: dt.date, typed: dict[tuple[str, str], int]
) -> list[dict[str, str]]:
    """The units' ``collected`` rows of ``date`` with the figures typed, the others of those
    units' day kept (an upload replaces a unit's day whole)."""
    typed = dict(typed)
    _, recs = daily_records.records(db, record)
    got = recs.collected
    on_day = got[(got["date"] == date.isoformat()) & got["district"].isin({u for u, _ in typed})]
    rows = []
    for r in on_day.itertuples(index=False):  # what the units' day holds, kept
        key = (r.district, r.stream)
        rows.append(_row(date, key, typed.pop(key, int(r.samples)), r.prevalence))
    return rows + [_row(date, key, n, None) for key, n in typed.items()]


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
