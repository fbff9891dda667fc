"""Tables as downloads: CSV by default, XLSX on request (``.xlsx`` suffix or Accept header);
text a spreadsheet would run as a formula is neutralised (:mod:`labopt.cells`)."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from fastapi import Response

from labopt.cells import write_csv, write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLE_CONTENT: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}, XLSX: {}}}}


def table_format(name: str, accept: str | None) -> tuple[str, str]:
    """(table name without suffix, 'csv' or 'xlsx')."""
    if name.endswith(".csv"):
        return name[:-4], "csv"
    if name.endswith(".xlsx"):
        return name[:-5], "xlsx"
    return name, "xlsx" if accept and XLSX in accept else "csv"


def table_response(df: pd.DataFrame, name: str, fmt: str) -> Response:
    if fmt == "xlsx":
        buf = io.BytesIO()
        write_xlsx(buf, {name[:31]: df})
        return Response(
            buf.getvalue(),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return Response(
        write_csv(df, float_format="%.10g"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
