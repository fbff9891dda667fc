"""API keys (admin only): create, list, revoke; each creation and revocation is audited."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from labopt_api import audit
from labopt_api.deps import principal, session
from labopt_api.errors import value_error
from labopt_api.models import NAME, ApiKey, now, text_length
from labopt_api.paging import PageParams, page, page_params
from labopt_api.schemas import ERRORS, KeyCreated, KeyIn, KeyOut, Page
from labopt_api.security import Principal, check_scopes, forbidden, hash_key, new_key
from labopt_api.stored_text import control_problem

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=ERRORS)


def _admin(who: Principal) -> None:
    if not who.is_admin():
        raise forbidden("manage keys")


def _check_text(label: str, scopes: list[str]) -> None:
    """The label and scopes as they can be stored (the API checks the same in KeyIn; the
    command line comes here directly)."""
    for name, value, limit in [("label", label, text_length(ApiKey.label))] + [
        ("scope", s, NAME) for s in scopes
    ]:
        if len(value) > limit:
            raise ValueError(f"{name}: {len(value)} characters; at most {limit}")
        if why := control_problem(value):
            raise ValueError(f"{name}: {why}")


def create_key(
    db: Session, role: str, scopes: list[str], label: str = "", who: Principal | None = None
) -> tuple[ApiKey, str]:
    """Store a new key (hashed) and return it with the clear key, shown once. ``who``: the
    admin key that creates it (None: the command line), for the audit trail."""
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


def _out(row: ApiKey) -> dict:
    return {
        "id": row.id,
        "prefix": row.prefix,
        "role": row.role,
        "scopes": row.scopes,
        "label": row.label,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyCreated)
def create(body: KeyIn, who: Principal = Depends(principal), db: Session = Depends(session)):
    _admin(who)
    try:
        row, key = create_key(db, body.role, body.scopes, body.label, who)
    except ValueError as exc:
        raise HTTPException(422, detail=[value_error(exc)]) from None
    return {**_out(row), "key": key}


@router.get("", response_model=Page[KeyOut], summary="List keys, oldest first")
def list_keys(
    params: PageParams = Depends(page_params),
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    _admin(who)
    return page(
        db, select(ApiKey).order_by(ApiKey.id), params, lambda rows: [_out(r[0]) for r in rows]
    )


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke(
    request: Request,
    key_id: int = Path(ge=1, le=2**31 - 1),
    who: Principal = Depends(principal),
    db: Session = Depends(session),
):
    _admin(who)
    if revoke_key(db, key_id, who) is None:
        raise HTTPException(404, detail=f"no key {key_id}")
    request.app.state.keys.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
