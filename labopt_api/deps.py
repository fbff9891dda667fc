"""Dependencies, named once: the database session (:data:`DbSession`), the caller's key
(:data:`Caller`) and a list's page (:data:`Paging`). A route takes them as parameters::

    def read(scenario_id: str, who: Caller, db: DbSession): ...
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from labopt_api.paging import PageParams, page_params
from labopt_api.protection import FailedAuth
from labopt_api.security import Principal, hash_key
from labopt_api.store import keys

bearer = HTTPBearer(auto_error=False, description="API key: Authorization: Bearer <key>")
header_key = APIKeyHeader(name="X-API-Key", auto_error=False)
KEY_CACHE_SECONDS = 5.0  # a key revoked from another process stops working within this


def session(request: Request) -> Iterator[Session]:
    yield from request.app.state.db.session()


class KeyCache:
    """Recently seen keys, so that a request does not need a database read to authenticate.
    Revoking through this process clears the entry at once."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Principal | None, float]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> tuple[Principal | None, float] | None:
        """(the key's principal or None when unknown or revoked, expiry), or None on a miss."""
        with self._lock:
            hit = self._entries.get(digest)
        if hit and hit[1] > time.monotonic():
            return hit
        return None

    def put(self, digest: str, who: Principal | None) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (who, time.monotonic() + KEY_CACHE_SECONDS)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _lookup(request: Request, digest: str) -> Principal | None:
    with request.app.state.db.sessions() as s:
        return keys.principal_for(s, digest)


async def known_key(request: Request, key: str) -> Principal | None:
    """The principal of ``key`` (None: unknown or revoked), from the cache or the database.
    The caller counts a failure against the client (:class:`FailedAuth`)."""
    digest = hash_key(key)
    cache: KeyCache = request.app.state.keys
    hit = cache.get(digest)
    if hit is not None:
        return hit[0]
    who = await run_in_threadpool(_lookup, request, digest)
    cache.put(digest, who)
    return who


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    x_api_key: Annotated[str | None, Depends(header_key)],
) -> Principal:
    failures: FailedAuth = request.app.state.failed_auth
    client = request.client.host if request.client else "-"
    wait = failures.retry_after(client)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
            detail=f"too many failed authentications from {client}; retry after {wait} s",
        )
    key = credentials.credentials if credentials else x_api_key
    if not key:
        failures.failed(client)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    who = await known_key(request, key)
    if who is None:
        failures.failed(client)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="unknown or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return who


DbSession = Annotated[Session, Depends(session)]
Caller = Annotated[Principal, Depends(principal)]
Paging = Annotated[PageParams, Depends(page_params)]
