"""Check raw tables (all cells as text) against the schema, column by column, vectorised.

Every problem is collected with its file or sheet, row, column and value; the typed table is
returned only when the caller finds no problems at all.
"""

from __future__ import annotations

import datetime as dt
import difflib

import numpy as np
import pandas as pd

from labopt.numbers import VECTOR_FROM, NumberFormat, number_format, parse_column
from labopt.scenario.errors import Problem
from labopt.scenario.schema import Column, Table

MAX_PER_COLUMN = 100  # beyond this, one summary problem per column


def check_table(
    raw: pd.DataFrame,
    table: Table,
    source: str,
    problems: list[Problem],
    fmt: NumberFormat | None = None,
) -> pd.DataFrame:
    """Typed copy of ``raw`` (columns in schema order); appends problems found.

    Cells are text, or real numbers where the source has them (XLSX numeric cells, JSON
    numbers); text numbers are read in ``fmt`` (default en), see :mod:`labopt.numbers`."""
    fmt = fmt or number_format(None)
    raw = raw.rename(columns=lambda c: str(c).strip())
    known = set(table.column_names)
    for col in raw.columns:
        if col not in known:
            hint = difflib.get_close_matches(col, table.column_names, n=1)
            problems.append(
                Problem(
                    source,
                    "unknown column"
                    + (
                        f"; did you mean '{hint[0]}'?"
                        if hint
                        else f"; expected: {', '.join(table.column_names)}"
                    ),
                    column=col,
                )
            )
    out = {}
    for col in table.columns:
        if col.name not in raw.columns:
            if col.optional:
                out[col.name] = _blank(col, len(raw))
            else:
                problems.append(
                    Problem(
                        source, f"required column is missing ({col.description})", column=col.name
                    )
                )
            continue
        out[col.name] = _check_column(_cells(raw[col.name]), col, source, problems, fmt)
    typed = pd.DataFrame(out, columns=[c.name for c in table.columns if c.name in out])
    _check_key(typed, table, source, problems)
    return typed


def _blank(col: Column, n: int):
    if col.kind in ("int", "float"):
        return np.full(n, np.nan)
    return np.full(n, "", dtype=object)


def _report(problems, source, col: Column, rows: np.ndarray, values, message: str):
    report_rows(problems, source, col.name, rows, values, message)


def report_rows(
    problems: list[Problem], source: str, column: str, rows: np.ndarray, values, message: str
) -> None:
    """One problem per row of ``rows`` (0-based positions; ``values`` the column's cells), at
    most MAX_PER_COLUMN, then one counting the rest."""
    for i in rows[:MAX_PER_COLUMN]:
        problems.append(
            Problem(source, message, row=int(i) + 2, column=column, value=str(values[i]))
        )
    if rows.size > MAX_PER_COLUMN:
        problems.append(
            Problem(
                source,
                f"{rows.size - MAX_PER_COLUMN} more rows with the same problem",
                column=column,
            )
        )


def _cells(column: pd.Series) -> np.ndarray:
    """Text stripped; None and NaN blank; real numbers kept as they are."""
    values = column.to_numpy(dtype=object)
    if (
        len(values) > VECTOR_FROM and pd.api.types.infer_dtype(values, skipna=False) == "string"
    ):  # all text
        return column.str.strip().to_numpy(dtype=object)
    return np.array(
        [
            ""
            if c is None or (isinstance(c, float) and np.isnan(c))
            else c.strip()
            if isinstance(c, str)
            else c
            for c in values
        ],
        dtype=object,
    )


def _check_column(
    cells: np.ndarray, col: Column, source: str, problems: list[Problem], fmt: NumberFormat
):
    if len(cells) > VECTOR_FROM and pd.api.types.infer_dtype(cells, skipna=False) == "string":
        text = cells
        lower = pd.Series(cells, dtype=object).str.lower().to_numpy(dtype=object)
        blank = (cells == "") | (lower == "nan")
    else:
        text = np.array([c if isinstance(c, str) else str(c) for c in cells], dtype=object)
        blank = np.array(
            [isinstance(c, str) and (c == "" or c.lower() == "nan") for c in cells], dtype=bool
        )
    if not col.optional and blank.any():
        _report(
            problems,
            source,
            col,
            np.flatnonzero(blank),
            text,
            f"a value is required ({col.allowed_text()})",
        )
    if col.kind == "str":
        return text
    if col.kind == "date":
        return _dates(cells, text, blank, col, source, problems)
    if col.kind == "enum":
        bad = ~blank & ~pd.Series(text).isin(col.allowed).to_numpy()
        if bad.any():
            _report(
                problems,
                source,
                col,
                np.flatnonzero(bad),
                text,
                f"not an allowed value; allowed: {', '.join(col.allowed)}",
            )
        return text
    values, errors = parse_column(cells, fmt, whole=col.kind == "int", percent=col.is_fraction)
    refused = np.zeros(len(values), dtype=bool)
    refused[list(errors)] = True
    bad = ~blank & ~refused & ~np.isfinite(values)
    if col.kind == "int":
        frac = np.isfinite(values) & (values != np.round(values))
        bad |= frac | (np.abs(values) > 2**53)  # beyond exact whole numbers
    rows = np.flatnonzero(bad | refused)
    for i in rows[:MAX_PER_COLUMN]:
        why = f": {errors[i]}" if i in errors else ""
        problems.append(
            Problem(
                source,
                f"expected a {col.allowed_text()}{why}",
                row=int(i) + 2,
                column=col.name,
                value=text[i],
            )
        )
    if rows.size > MAX_PER_COLUMN:
        problems.append(
            Problem(
                source,
                f"{rows.size - MAX_PER_COLUMN} more rows with the same problem",
                column=col.name,
            )
        )
    values[bad | refused] = np.nan
    ok = np.isfinite(values)
    out_of_range = np.zeros(len(values), dtype=bool)
    if col.min is not None:
        out_of_range |= ok & ((values <= col.min) if col.min_exclusive else (values < col.min))
    if col.max is not None:
        out_of_range |= ok & (values > col.max)
    if out_of_range.any():
        _report(
            problems,
            source,
            col,
            np.flatnonzero(out_of_range),
            text,
            f"out of range; allowed: {col.allowed_text()}",
        )
    values = np.where(blank, np.nan, values)
    return values


def _dates(
    cells: np.ndarray,
    text: np.ndarray,
    blank: np.ndarray,
    col: Column,
    source: str,
    problems: list[Problem],
) -> np.ndarray:
    """ISO dates as text (YYYY-MM-DD); a workbook's date cells are taken as their date."""
    out = np.array(text, dtype=object)
    bad = []
    for i, c in enumerate(cells):
        if blank[i]:
            continue
        if isinstance(c, dt.datetime):
            if c.time() != dt.time():
                bad.append(i)
            out[i] = c.date().isoformat()
        elif isinstance(c, dt.date):
            out[i] = c.isoformat()
        else:
            try:
                out[i] = dt.date.fromisoformat(str(c)).isoformat()
            except ValueError:
                # a workbook's date cell read as text: "2021-10-04 00:00:00"
                try:
                    stamp = dt.datetime.fromisoformat(str(c))
                except ValueError:
                    bad.append(i)
                    continue
                if stamp.time() != dt.time():
                    bad.append(i)
                out[i] = stamp.date().isoformat()
    _report(problems, source, col, np.array(bad, dtype=int), text, "expected a date as YYYY-MM-DD")
    return out


def _check_key(typed: pd.DataFrame, table: Table, source: str, problems: list[Problem]):
    """Each key may appear once (rows with a blank key part are reported elsewhere)."""
    if not all(k in typed.columns for k in table.key) or typed.empty:
        return
    keys = typed[list(table.key)]
    blank = keys.isna().any(axis=1).to_numpy() | (keys == "").any(axis=1).to_numpy()
    first_row: dict[tuple, int] = {}
    reported = 0
    for i, key in enumerate(keys.itertuples(index=False, name=None)):
        if blank[i]:
            continue
        if key not in first_row:
            first_row[key] = i
            continue
        if reported < MAX_PER_COLUMN:
            text = ", ".join(f"{k}={_show(v)}" for k, v in zip(table.key, key, strict=False))
            problems.append(
                Problem(
                    source,
                    f"duplicate {text} (first on row "
                    f"{first_row[key] + 2}); each "
                    f"{' + '.join(table.key)} may appear once",
                    row=i + 2,
                    column=table.key[-1],
                )
            )
        reported += 1


def _show(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def check_reference(
    typed: pd.DataFrame,
    column: str,
    allowed: set | None,
    what: str,
    source: str,
    problems: list[Problem],
) -> None:
    """Every value of ``column`` must be one of ``allowed`` (codes defined elsewhere; None:
    their table could not be read, which is reported on its own)."""
    if allowed is None or column not in typed.columns or typed.empty:
        return
    values = typed[column].to_numpy(dtype=object)
    bad = np.flatnonzero(~typed[column].isin(allowed).to_numpy() & (values != ""))
    for i in bad[:MAX_PER_COLUMN]:
        problems.append(
            Problem(source, f"unknown {what}", row=int(i) + 2, column=column, value=str(values[i]))
        )
    if bad.size > MAX_PER_COLUMN:
        problems.append(
            Problem(source, f"{bad.size - MAX_PER_COLUMN} more unknown {what}s", column=column)
        )
