"""Error responses.

- 422: labopt's typed input errors (:class:`labopt.errors.InputError` and its subclasses),
  each item's ``loc`` ending with the error's ``parameter``; a scenario's or a lab table's
  problems one item each, ``loc`` naming the file (or table), row and column; and FastAPI's
  own validation errors.
- 404 and 409 for the data layer's :class:`~labopt_api.store.NotFound` and
  :class:`~labopt_api.store.Busy`; 503 when the database cannot be reached.
- Anything else is a fault of the service, not of the input: a 500 that quotes the request id
  and nothing of the error (:class:`labopt_api.protection.RequestContext` logs it), even for a
  ValueError from deep in a library.

An error repeats at most a few hundred characters of the caller's input, and lists at most
MAX_ITEMS problems, so that a large bad request never gets a large answer."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from fastapi import HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from labopt.daily.records import RecordError
from labopt.errors import InputError
from labopt.lab.tables import LabInputError
from labopt.scenario import Problem, ScenarioError
from labopt_api.store import Busy, NotFound

MAX_ECHO = 200  # characters of the caller's input shown in an error item
MAX_MESSAGE = 1000  # characters of a message (which may quote the input)
MAX_ITEMS = 100  # error items in one answer; a last item counts the rest

log = logging.getLogger("labopt.api")
Where = Literal["body", "query", "path"]


def short(value: Any, limit: int = MAX_ECHO) -> Any:
    """The caller's input as an error shows it: itself when short, else its first ``limit``
    characters (as JSON text when it is not a string) and its length."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):  # JSON has no NaN or Infinity: echo them as text
        return value if math.isfinite(value) else str(value)
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    if len(text) <= limit:
        return value if isinstance(value, str) or _finite(value) else text
    return f"{text[:limit]}... ({len(text):,} characters)"


def _finite(value: Any) -> bool:
    """Whether ``value`` can be written as standard JSON (no NaN or Infinity inside)."""
    try:
        json.dumps(value, default=str, allow_nan=False)
    except ValueError:
        return False
    return True


def bounded(items: list[dict[str, Any]], total: int | None = None) -> list[dict[str, Any]]:
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


def input_error(exc: InputError, where: Where = "body") -> dict[str, Any]:
    """One 422 detail item: ``loc`` is [where, parameter] (just [where] when the error names
    no parameter)."""
    # a dotted parameter is a path: prevalence.screening -> ["body", "prevalence", "screening"]
    loc: list[str] = [where] + (exc.parameter.split(".") if exc.parameter else [])
    return {"loc": loc, "msg": short(str(exc), MAX_MESSAGE), "type": "value_error"}


def query_error(exc: InputError) -> dict[str, Any]:
    """A 422 item for a query parameter, named as one in the message too."""
    item = input_error(exc, where="query")
    name = exc.parameter
    if name and item["msg"].startswith(f"{name}:"):
        item["msg"] = f"query parameter '{name}'{item['msg'][len(name) :]}"
    return item


def field_error(
    field: str, msg: str, where: Where = "body", value: Any = None, *, has_value: bool = False
) -> HTTPException:
    """A 422 naming one request field that the service itself refuses (``value``: the input,
    shown shortened when ``has_value``)."""
    item: dict[str, Any] = {"loc": [where, field], "type": "value_error"}
    if has_value:
        item["input"] = short(value)
    item["msg"] = short(msg, MAX_MESSAGE)
    return HTTPException(422, detail=[item])


def problems_detail(problems: Iterable[Problem], kind: str) -> list[dict[str, Any]]:
    """422 detail items from labopt's problem lists: ``loc`` is [source, row, column]."""
    out = []
    for p in problems:
        loc: list[Any] = (
            [p.source]
            + ([p.row] if p.row is not None else [])
            + ([short(p.column)] if p.column else [])
        )
        item: dict[str, Any] = {"loc": loc, "msg": short(p.message, MAX_MESSAGE), "type": kind}
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


async def handle_input_error(_: Request, exc: InputError) -> JSONResponse:
    """Input the caller must correct: 422 naming the parameter."""
    return JSONResponse({"detail": [input_error(exc)]}, status_code=422)


async def handle_not_found(_: Request, exc: NotFound) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def handle_busy(_: Request, exc: Busy) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


def _json_items(
    problems: Iterable[Problem], kind: str, place: Callable[[Any], tuple[Any, bool]]
) -> list[dict[str, Any]]:
    """Problems of tables sent as JSON lists, ``loc`` under "body": ``place(source)`` gives the
    list's name and whether the source is such a list, whose sheet row 2 is item 0 (messages
    still count rows as a spreadsheet would)."""
    out = []
    for item in problems_detail(problems, kind):
        if item["loc"]:  # empty: the count of problems not shown
            source, *rest = item["loc"]
            name, is_list = place(source)
            if is_list and rest and isinstance(rest[0], int):
                rest[0] -= 2
            item["loc"] = ["body", name, *rest]
        out.append(item)
    return out


def json_rows_detail(
    exc: LabInputError | RecordError, field: str, kind: str = "lab_input_error"
) -> list[dict[str, Any]]:
    """Problems of one table sent as the JSON list ``field``."""
    return _json_items(exc.problems, kind, lambda _source: (field, True))


def json_scenario_detail(exc: ScenarioError, tables: Iterable[str]) -> list[dict[str, Any]]:
    """Problems of a scenario sent as JSON: ["body", table, item, column] for a table's rows;
    other problems keep their source under "body"."""
    names = set(tables)
    return _json_items(exc.problems, "scenario_error", lambda source: (source, source in names))


async def handle_request_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, with long inputs, field names and messages shortened (a 12 MB unknown
    field would otherwise come back whole)."""
    errors: Sequence[Any] = exc.errors()
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
