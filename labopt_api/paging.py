"""Paged lists: ``limit`` and ``offset`` query parameters, filtered in SQL, with the total."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Query
from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


def page_params(
    limit: int = Query(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"items per page (at most {MAX_LIMIT})"
    ),
    offset: int = Query(0, ge=0, le=2**31 - 1, description="items to skip (0: the first page)"),
) -> PageParams:
    return PageParams(limit, offset)


def page(
    db: Session,
    query: Select[Any],
    params: PageParams,
    items: Callable[[Sequence[Row[Any]]], list[Any]],
) -> dict[str, Any]:
    """{"items", "total", "limit", "offset"}: ``query`` (already filtered to what the caller
    may see, and ordered) counted, then cut to the page; ``items`` turns its rows into the
    response items."""
    total = db.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = db.execute(query.limit(params.limit).offset(params.offset)).all()
    return {"items": items(rows), "total": total, "limit": params.limit, "offset": params.offset}
