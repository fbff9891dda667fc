"""GET /healthz (no key) and GET /metrics (Prometheus text format)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from labopt_api.deps import principal, session
from labopt_api.schemas import ERRORS
from labopt_api.security import Principal, forbidden

router = APIRouter(tags=["health"], responses=ERRORS)


@router.get("/healthz", summary="Liveness and database check (no key needed)")
def healthz(db: Session = Depends(session)):
    db.execute(text("SELECT 1"))
    return {"status": "ok", "database": "ok"}


@router.get("/metrics", summary="Prometheus metrics (admin or coordinator key)",
            response_class=Response,
            responses={200: {"content": {"text/plain; version=0.0.4": {}}}})
def metrics(request: Request, who: Principal = Depends(principal),
            db: Session = Depends(session)):
    if who.role not in ("admin", "coordinator"):
        raise forbidden("read metrics")
    return Response(request.app.state.metrics.render(db),
                    media_type="text/plain; version=0.0.4; charset=utf-8")
