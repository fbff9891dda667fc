"""Error responses: labopt's input errors become 422 with the field path."""
from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import JSONResponse

from labopt.scenario import ScenarioError

_PARAM = re.compile(r"^([A-Za-z_][\w.\[\]/]*)(?: \(stage \d+\))?(?: '[^']*')?: ")


def value_error(exc: ValueError, where: str = "body") -> dict:
    """One 422 detail item; the parameter named at the start of labopt's message becomes the
    last element of ``loc``."""
    msg = str(exc)
    m = _PARAM.match(msg)
    loc = [where] + ([m.group(1)] if m else [])
    return {"loc": loc, "msg": msg, "type": "value_error"}


def scenario_problems(exc: ScenarioError) -> list[dict]:
    out = []
    for p in exc.problems:
        loc = [p.source] + ([p.row] if p.row is not None else []) \
            + ([p.column] if p.column else [])
        item = {"loc": loc, "msg": p.message, "type": "scenario_error"}
        if p.value is not None:
            item["input"] = p.value
        out.append(item)
    return out


async def handle_scenario_error(_: Request, exc: ScenarioError) -> JSONResponse:
    return JSONResponse({"detail": scenario_problems(exc)}, status_code=422)


async def handle_value_error(_: Request, exc: ValueError) -> JSONResponse:
    return JSONResponse({"detail": [value_error(exc)]}, status_code=422)
