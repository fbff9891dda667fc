"""GET /v1/audit: the audit trail, newest first (admin keys only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query

from labopt_api.deps import Caller, DbSession, Paging
from labopt_api.models import AuditEvent, AuditResource
from labopt_api.paging import page
from labopt_api.schemas import ERRORS, AuditPage
from labopt_api.security import forbidden
from labopt_api.store import audit
from labopt_api.stored_text import ONE_LINE

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERRORS)


def _out(e: AuditEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at,
        "key_id": e.key_id,
        "key_prefix": e.key_prefix,
        "key_role": e.key_role,
        "action": e.action,
        "resource": e.resource,
        "resource_id": e.resource_id,
        "detail": e.detail,
    }


@router.get(
    "",
    response_model=AuditPage,
    summary="The audit trail, newest first (admin)",
    operation_id="audit-list",
)
def list_events(
    params: Paging,
    who: Caller,
    db: DbSession,
    action: str | None = Query(
        None, max_length=40, pattern=r"^[a-z_.]+$", description="e.g. scenario.delete"
    ),
    resource: AuditResource | None = None,
    resource_id: str | None = Query(None, max_length=340, pattern=ONE_LINE),
    key_id: int | None = Query(None, ge=1, le=2**31 - 1),
    since: dt.datetime | None = Query(None, description="from this time on (ISO 8601)"),
    until: dt.datetime | None = Query(None, description="before this time"),
) -> dict[str, Any]:
    if not who.is_admin():
        raise forbidden("read the audit trail")
    q = audit.events(
        action=action,
        resource=resource,
        resource_id=resource_id,
        key_id=key_id,
        since=since,
        until=until,
    )
    return page(db, q, params, lambda rows: [_out(r[0]) for r in rows])
