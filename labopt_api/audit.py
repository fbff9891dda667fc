"""The audit trail: who (key id, prefix and role) did what to which resource, and when.

:func:`record` adds the event to the caller's session, so it is committed in the same
transaction as the change it describes, or not at all. Events are never updated nor deleted:
the service has no endpoint for it. Admins read them with ``GET /v1/audit``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from labopt_api.deps import principal, session
from labopt_api.models import ApiKey, AuditEvent, now
from labopt_api.paging import PageParams, page, page_params
from labopt_api.schemas import ERRORS, AuditPage, AuditResource
from labopt_api.security import Principal, forbidden
from labopt_api.stored_text import ONE_LINE

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERRORS)
COMMAND_LINE = "cli"  # the role recorded for changes made with `labopt apikey ...`


def record(
    db: Session,
    who: Principal | None,
    action: str,
    resource: AuditResource,
    resource_id: str,
    **detail: Any,
) -> AuditEvent:
    """Add an event for ``action`` (e.g. "scenario.replace") by ``who`` (None: the command
    line, which has the database itself) to the session, for the caller's commit."""
    key = db.get(ApiKey, who.key_id) if who is not None else None
    event = AuditEvent(
        at=now(),
        key_id=who.key_id if who else None,
        key_prefix=key.prefix if key else "",
        key_role=who.role if who else COMMAND_LINE,
        action=action,
        resource=resource,
        resource_id=str(resource_id),
        detail=detail,
    )
    db.add(event)
    return event


def _out(e: AuditEvent) -> dict:
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


@router.get("", response_model=AuditPage, summary="The audit trail, newest first (admin)")
def list_events(
    action: str | None = Query(
        None, max_length=40, pattern=r"^[a-z_.]+$", description="e.g. scenario.delete"
    ),
    resource: AuditResource | None = None,
    resource_id: str | None = Query(None, max_length=340, pattern=ONE_LINE),
    key_id: int | None = Query(None, ge=1, le=2**31 - 1),
    since: dt.datetime | None = Query(None, description="from this time on (ISO 8601)"),
    until: dt.datetime | None = Query(None, description="before this time"),
    params: PageParams = Depends(page_params),
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    if not who.is_admin():
        raise forbidden("read the audit trail")
    q = select(AuditEvent).order_by(AuditEvent.id.desc())
    for column, value in (
        (AuditEvent.action, action),
        (AuditEvent.resource, resource),
        (AuditEvent.resource_id, resource_id),
        (AuditEvent.key_id, key_id),
    ):
        if value is not None:
            q = q.where(column == value)
    if since is not None:
        q = q.where(AuditEvent.at >= _aware(since))
    if until is not None:
        q = q.where(AuditEvent.at < _aware(until))
    return page(db, q, params, lambda rows: [_out(r[0]) for r in rows])


def _aware(t: dt.datetime) -> dt.datetime:
    """UTC, as stored (SQLite keeps no zone: naive times are taken as UTC)."""
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
