"""API keys (admin only): create, list, revoke."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from labopt_api.deps import principal, session
from labopt_api.errors import value_error
from labopt_api.models import ApiKey, now
from labopt_api.schemas import ERRORS, KeyCreated, KeyIn, KeyOut
from labopt_api.security import Principal, check_scopes, forbidden, hash_key, new_key

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=ERRORS)


def _admin(who: Principal) -> None:
    if not who.is_admin():
        raise forbidden("manage keys")


def create_key(db: Session, role: str, scopes: list[str], label: str = "") -> tuple[ApiKey, str]:
    """Store a new key (hashed) and return it with the clear key, shown once."""
    scopes = check_scopes(role, scopes)
    key = new_key()
    row = ApiKey(key_hash=hash_key(key), prefix=key[:10], role=role, scopes=scopes,
                 label=label)
    db.add(row)
    db.commit()
    return row, key


def _out(row: ApiKey) -> dict:
    return {"id": row.id, "prefix": row.prefix, "role": row.role, "scopes": row.scopes,
            "label": row.label, "created_at": row.created_at, "revoked_at": row.revoked_at}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyCreated)
def create(body: KeyIn, who: Principal = Depends(principal), db: Session = Depends(session)):
    _admin(who)
    try:
        row, key = create_key(db, body.role, body.scopes, body.label)
    except ValueError as exc:
        raise HTTPException(422, detail=[value_error(exc)]) from None
    return {**_out(row), "key": key}


@router.get("", response_model=list[KeyOut])
def list_keys(who: Principal = Depends(principal), db: Session = Depends(session)):
    _admin(who)
    return [_out(r) for r in db.execute(select(ApiKey).order_by(ApiKey.id)).scalars()]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke(request: Request, key_id: int = Path(ge=1, le=2**31 - 1), who: Principal = Depends(principal),
           db: Session = Depends(session)):
    _admin(who)
    row = db.get(ApiKey, key_id)
    if row is None:
        raise HTTPException(404, detail=f"no key {key_id}")
    row.revoked_at = row.revoked_at or now()
    db.commit()
    request.app.state.keys.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
