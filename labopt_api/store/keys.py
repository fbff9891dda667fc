"""API keys in the database: create (stored hashed), look up, list, revoke; creation and
revocation are audited. Used by the API (admin keys) and by ``labopt apikey``."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from labopt.errors import InputError
from labopt_api.models import NAME, ApiKey, now, text_length
from labopt_api.security import Principal, check_scopes, hash_key, new_key
from labopt_api.store import audit
from labopt_api.stored_text import control_problem


def _check_text(label: str, scopes: list[str]) -> None:
    """The label and scopes as they can be stored (the API checks the same in KeyIn; the
    command line comes here directly)."""
    for name, field, value, limit in [("label", "label", label, text_length(ApiKey.label))] + [
        ("scope", "scopes", s, NAME) for s in scopes
    ]:
        if len(value) > limit:
            raise InputError(f"{name}: {len(value)} characters; at most {limit}", field)
        if why := control_problem(value):
            raise InputError(f"{name}: {why}", field)


def create_key(
    db: Session, role: str, scopes: list[str], label: str = "", who: Principal | None = None
) -> tuple[ApiKey, str]:
    """Store a new key (hashed) and return it with the clear key, shown once. ``who``: the
    admin key that creates it (None: the command line), for the audit trail. InputError for a
    role, scope or label that cannot be stored."""
    scopes = check_scopes(role, scopes)
    _check_text(label, scopes)
    key = new_key()
    row = ApiKey(key_hash=hash_key(key), prefix=key[:10], role=role, scopes=scopes, label=label)
    db.add(row)
    db.flush()
    audit.record(
        db,
        who,
        "key.create",
        "key",
        str(row.id),
        prefix=row.prefix,
        role=role,
        scopes=scopes,
        label=label,
    )
    db.commit()
    return row, key


def revoke_key(db: Session, key_id: int, who: Principal | None = None) -> ApiKey | None:
    """Revoke a key (None: no such key); audited, as create_key."""
    row = db.get(ApiKey, key_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = now()
        audit.record(db, who, "key.revoke", "key", str(row.id), prefix=row.prefix, role=row.role)
    db.commit()
    return row


def principal_for(db: Session, digest: str) -> Principal | None:
    """The principal of the key with this hash, None when unknown or revoked."""
    row = db.execute(select(ApiKey).where(ApiKey.key_hash == digest)).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.id, row.role, tuple(row.scopes or ()))


def all_keys() -> Select:
    """Every key, oldest first (only admins list keys: no filter)."""
    return select(ApiKey).order_by(ApiKey.id)
