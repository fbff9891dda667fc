"""Error responses: labopt's input errors become 422 with the field path. An error repeats at
most a few hundred characters of the caller's input, and lists at most MAX_ITEMS problems, so
that a large bad request never gets a large answer."""

from __future__ import annotations

import json
import logging
import re

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from labopt.lab.tables import LabInputError
from labopt.scenario import ScenarioError

MAX_ECHO = 200  # characters of the caller's input shown in an error item
MAX_MESSAGE = 1000  # characters of a message (which may quote the input)
MAX_ITEMS = 100  # error items in one answer; a last item counts the rest

log = logging.getLogger("labopt.api")
_PARAM = re.compile(r"^([A-Za-z_][\w.\[\]/]*)(?: \(stage \d+\))?(?: '[^']*')?: ")


def short(value, limit: int = MAX_ECHO):
    """The caller's input as an error shows it: itself when short, else its first ``limit``
    characters (as JSON text when it is not a string) and its length."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    if len(text) <= limit:
        return value
    return f"{text[:limit]}... ({len(text):,} characters)"


def bounded(items: list, total: int | None = None) -> list:
    """At most MAX_ITEMS of ``items`` (``total`` of them in all), then one that counts the
    others."""
    total = len(items) if total is None else total
    if total <= MAX_ITEMS:
        return items
    return [
        *items[:MAX_ITEMS],
        {
            "loc": [],
            "type": "too_many_errors",
            "msg": f"{total - MAX_ITEMS:,} more problems not shown",
        },
    ]


def value_error(exc: ValueError, where: str = "body") -> dict:
    """One 422 detail item; the parameter named at the start of labopt's message becomes the
    last element of ``loc``."""
    msg = short(str(exc), MAX_MESSAGE)
    m = _PARAM.match(msg)
    loc = [where] + ([m.group(1)] if m else [])
    return {"loc": loc, "msg": msg, "type": "value_error"}


def problems_detail(problems, kind: str) -> list[dict]:
    """422 detail items from labopt's problem lists: ``loc`` is [source, row, column]."""
    out = []
    for p in problems:
        loc = (
            [p.source]
            + ([p.row] if p.row is not None else [])
            + ([short(p.column)] if p.column else [])
        )
        item = {"loc": loc, "msg": short(p.message, MAX_MESSAGE), "type": kind}
        if p.value is not None:
            item["input"] = short(p.value)
        out.append(item)
    return bounded(out)


async def handle_scenario_error(_: Request, exc: ScenarioError) -> JSONResponse:
    return JSONResponse(
        {"detail": problems_detail(exc.problems, "scenario_error")}, status_code=422
    )


async def handle_lab_input_error(_: Request, exc: LabInputError) -> JSONResponse:
    """Bad lab input (samples, results): every problem, and nothing was stored."""
    return JSONResponse(
        {"detail": problems_detail(exc.problems, "lab_input_error")}, status_code=422
    )


async def handle_value_error(_: Request, exc: ValueError) -> JSONResponse:
    return JSONResponse({"detail": [value_error(exc)]}, status_code=422)


async def handle_request_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, with long inputs, field names and messages shortened (a 12 MB unknown
    field would otherwise come back whole)."""
    errors = exc.errors()
    items = []
    for error in errors[:MAX_ITEMS]:
        item = {
            **error,
            "loc": [short(x) for x in error.get("loc", ())],
            "msg": short(str(error.get("msg", "")), MAX_MESSAGE),
        }
        if "input" in error:
            item["input"] = short(error["input"])
        if "ctx" in error:
            item["ctx"] = {
                k: short(v if isinstance(v, (str, int, float, bool)) or v is None else str(v))
                for k, v in error["ctx"].items()
            }
        items.append(item)
    return JSONResponse({"detail": jsonable_encoder(bounded(items, len(errors)))}, status_code=422)


def database_unavailable(detail: str) -> JSONResponse:
    """503 when the database cannot be reached: the client may try again shortly. The
    database's own message (addresses, names) goes to the log only."""
    return JSONResponse(
        {"status": "unavailable", "database": "unavailable", "detail": detail},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def handle_database_down(_: Request, exc: OperationalError) -> JSONResponse:
    log.warning("database: %s", exc)
    return database_unavailable(
        f"the database cannot be reached ({type(exc.orig).__name__}); try again shortly"
    )
