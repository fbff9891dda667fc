"""The audit trail: who (key id, prefix and role) did what to which resource, and when.

:func:`record` adds the event to the caller's session, so it is committed in the same
transaction as the change it describes, or not at all. Events are never updated nor deleted:
the service has no endpoint for it. Admins read them with ``GET /v1/audit``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from labopt_api.models import ApiKey, AuditEvent, AuditResource, now
from labopt_api.security import Principal

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


def events(
    *,
    action: str | None = None,
    resource: AuditResource | None = None,
    resource_id: str | None = None,
    key_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Select:
    """The events matching every filter given, newest first (``until`` excluded)."""
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
    return q


def _aware(t: dt.datetime) -> dt.datetime:
    """UTC, as stored (SQLite keeps no zone: naive times are taken as UTC)."""
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
