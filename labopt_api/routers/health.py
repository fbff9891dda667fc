"""Liveness (GET /livez), readiness (GET /readyz, and /healthz as before), no key; GET /metrics
(Prometheus text format).

``/livez`` never touches the database: it says the process answers (restart it if not).
``/readyz`` and ``/healthz`` also ask the database, within a bound: a JSON 503 with Retry-After
when it cannot be reached (take this server out of rotation until it answers again).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text

from labopt_api.db import Database
from labopt_api.deps import Caller, DbSession
from labopt_api.errors import database_unavailable
from labopt_api.schemas import ERRORS
from labopt_api.security import forbidden

router = APIRouter(tags=["health"], responses=ERRORS)
log = logging.getLogger("labopt.health")
READY_TIMEOUT_SECONDS = 3.0
NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"description": "the database cannot be reached"}
}


def _ping(db: Database) -> None:
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def _ready(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        await asyncio.wait_for(
            run_in_threadpool(_ping, request.app.state.db), READY_TIMEOUT_SECONDS
        )
    except TimeoutError:
        log.warning("readiness: the database did not answer within %g s", READY_TIMEOUT_SECONDS)
        return database_unavailable(
            f"the database did not answer within {READY_TIMEOUT_SECONDS:g} s"
        )
    except Exception as exc:  # noqa: BLE001 -- any failure: not ready
        log.warning("readiness: %s", exc)
        return database_unavailable(f"the database cannot be reached ({type(exc).__name__})")
    return {"status": "ok", "database": "ok"}


@router.get(
    "/livez",
    summary="Liveness: the process answers (no key, no database)",
    operation_id="health-live",
    response_model=None,
)
def livez() -> dict[str, Any]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the database answers (no key); 503 if not",
    responses=NOT_READY,
    operation_id="health-ready",
    response_model=None,
)
async def readyz(request: Request) -> Any:
    return await _ready(request)


@router.get(
    "/healthz",
    summary="As /readyz (no key); 503 when the database is down",
    responses=NOT_READY,
    operation_id="health-check",
    response_model=None,
)
async def healthz(request: Request) -> Any:
    return await _ready(request)


@router.get(
    "/metrics",
    summary="Prometheus metrics (admin or coordinator key)",
    response_class=Response,
    responses={200: {"content": {"text/plain; version=0.0.4": {}}}},
    operation_id="metrics-read",
)
def metrics(request: Request, who: Caller, db: DbSession) -> Response:
    if who.role not in ("admin", "coordinator"):
        raise forbidden("read metrics")
    return Response(
        request.app.state.metrics.render(db), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
