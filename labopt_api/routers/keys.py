"""API keys (admin only): create, list, revoke; each creation and revocation is audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from labopt_api.deps import Caller, DbSession, Paging
from labopt_api.models import ApiKey
from labopt_api.paging import page
from labopt_api.schemas import ERRORS, KeyCreated, KeyIn, KeyOut, Page
from labopt_api.security import Principal, forbidden
from labopt_api.store import keys

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=ERRORS)


def _admin(who: Principal) -> None:
    if not who.is_admin():
        raise forbidden("manage keys")


def _out(row: ApiKey) -> dict[str, Any]:
    return {
        "id": row.id,
        "prefix": row.prefix,
        "role": row.role,
        "scopes": row.scopes,
        "label": row.label,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyCreated,
    summary="Create a key (the clear key is shown once)",
    operation_id="keys-create",
)
def create(body: KeyIn, who: Caller, db: DbSession) -> dict[str, Any]:
    _admin(who)
    row, key = keys.create_key(db, body.role, body.scopes, body.label, who)
    return {**_out(row), "key": key}


@router.get(
    "",
    response_model=Page[KeyOut],
    summary="List keys, oldest first",
    operation_id="keys-list",
)
def list_keys(params: Paging, who: Caller, db: DbSession) -> dict[str, Any]:
    _admin(who)
    return page(db, keys.all_keys(), params, lambda rows: [_out(r[0]) for r in rows])


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a key",
    operation_id="keys-revoke",
)
def revoke(
    request: Request,
    who: Caller,
    db: DbSession,
    key_id: int = Path(ge=1, le=2**31 - 1),
) -> Response:
    _admin(who)
    if keys.revoke_key(db, key_id, who) is None:
        raise HTTPException(404, detail=f"no key {key_id}")
    request.app.state.keys.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
