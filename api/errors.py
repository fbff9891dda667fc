"""Error responses: labopt's input errors become 422 with the field path."""
from __future__ import annotations

import logging
import re

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from labopt.lab.tables import LabInputError
from labopt.scenario import ScenarioError

log = logging.getLogger("labopt.api")
_PARAM = re.compile(r"^([A-Za-z_][\w.\[\]/]*)(?: \(stage \d+\))?(?: '[^']*')?: ")


def value_error(exc: ValueError, where: str = "body") -> dict:
    """One 422 detail item; the parameter named at the start of labopt's message becomes the
    last element of ``loc``."""
    msg = str(exc)
    m = _PARAM.match(msg)
    loc = [where] + ([m.group(1)] if m else [])
    return {"loc": loc, "msg": msg, "type": "value_error"}


def problems_detail(problems, kind: str) -> list[dict]:
    """422 detail items from labopt's problem lists: ``loc`` is [source, row, column]."""
    out = []
    for p in problems:
        loc = [p.source] + ([p.row] if p.row is not None else []) \
            + ([p.column] if p.column else [])
        item = {"loc": loc, "msg": p.message, "type": kind}
        if p.value is not None:
            item["input"] = p.value
        out.append(item)
    return out


async def handle_scenario_error(_: Request, exc: ScenarioError) -> JSONResponse:
    return JSONResponse({"detail": problems_detail(exc.problems, "scenario_error")},
                        status_code=422)


async def handle_lab_input_error(_: Request, exc: LabInputError) -> JSONResponse:
    """Bad lab input (samples, results): every problem, and nothing was stored."""
    return JSONResponse({"detail": problems_detail(exc.problems, "lab_input_error")},
                        status_code=422)


async def handle_value_error(_: Request, exc: ValueError) -> JSONResponse:
    return JSONResponse({"detail": [value_error(exc)]}, status_code=422)


def database_unavailable(detail: str) -> JSONResponse:
    """503 when the database cannot be reached: the client may try again shortly. The
    database's own message (addresses, names) goes to the log only."""
    return JSONResponse({"status": "unavailable", "database": "unavailable", "detail": detail},
                        status_code=503, headers={"Retry-After": "5"})


async def handle_database_down(_: Request, exc: OperationalError) -> JSONResponse:
    log.warning("database: %s", exc)
    return database_unavailable(f"the database cannot be reached ({type(exc.orig).__name__}); "
                                "try again shortly")
