"""Reading and writing the lab's CSV tables: clear errors, and folders written whole.

Row numbers in messages are as a spreadsheet shows them: the header is row 1, so the first data
row is row 2. Every problem in a table is reported at once, and nothing is used from a table
with a problem.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from labopt.cells import restore_frame, write_csv
from labopt.csvfiles import CsvFileError, read_text_table
from labopt.errors import InputError
from labopt.files import Writer, write_output_folder
from labopt.numbers import NumberFormat, number_format, parse_column
from labopt.scenario.errors import Problem

MAX_SHOWN = 30


class LabInputError(InputError):
    """Input the lab workflow cannot use; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem], what: str = "the input"):
        self.problems = list(problems)
        n = len(self.problems)
        if n == 1:
            super().__init__(f"{self.problems[0]}; nothing was stored")
            return
        shown = "\n".join(f"  - {p}" for p in self.problems[:MAX_SHOWN])
        more = f"\n  ... and {n - MAX_SHOWN} more" if n > MAX_SHOWN else ""
        super().__init__(f"{n} problems in {what}; nothing was stored:\n{shown}{more}")


class Problems:
    """Collects problems while a table is checked; ``raise_if_any`` stops with all of them."""

    def __init__(self, source: str):
        self.source = source
        self.items: list[Problem] = []

    def add(
        self, message: str, row: int | None = None, column: str | None = None, value=None
    ) -> None:
        self.items.append(
            Problem(
                self.source,
                message,
                row=row,
                column=column,
                value=None if value is None else str(value),
            )
        )

    def add_rows(
        self,
        mask: np.ndarray,
        rows: np.ndarray,
        values,
        column: str,
        message: str,
        limit: int = MAX_SHOWN,
    ) -> None:
        """One problem per flagged row (at most ``limit``, then a count of the rest)."""
        bad = np.flatnonzero(mask)
        for i in bad[:limit]:
            self.add(message, int(rows[i]), column, values[i])
        if bad.size > limit:
            self.add(f"{bad.size - limit} more rows with the same problem", None, column)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, what: str | None = None) -> None:
        if self.items:
            raise LabInputError(self.items, what or self.source)


def _cells(values) -> np.ndarray:
    """Cells of a column as stripped text ('' for missing values), real numbers and booleans
    (an XLSX number or true/false cell, a JSON number) kept as they are."""
    arr = pd.Series(values).to_numpy(dtype=object)
    out = clean_text(arr)
    for i, v in enumerate(arr.tolist()):
        if isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)) and v == v:
            out[i] = v
    return out


def clean_text(values) -> np.ndarray:
    """Text of a column as stripped Python strings ('' for missing values), fast for large
    columns (pandas' string methods are several times slower here)."""
    arr = pd.Series(values).to_numpy(dtype=object)
    return np.array(
        [
            "" if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v).strip()
            for v in arr
        ],
        dtype=object,
    )


def sheet_rows(n: int) -> np.ndarray:
    """Spreadsheet row numbers of data rows 0..n-1 (header = row 1)."""
    return np.arange(2, n + 2)


def read_table(
    path: str | os.PathLike,
    required: Iterable[str],
    optional: Iterable[str] = (),
    *,
    data: bytes | None = None,
    numbers: Iterable[str] = (),
) -> pd.DataFrame:
    """Read a UTF-8 CSV, or the first sheet of an ``.xlsx`` workbook, as text columns with
    lower-case, stripped names; in the columns ``numbers``, a workbook's number cells stay
    numbers (a number format for text cannot misread them).

    ``data`` holds the file's bytes when it was uploaded rather than saved; ``path`` then only
    names it (its suffix chooses CSV or XLSX) in messages.

    Raises a LabInputError naming the file when it is missing, empty, unreadable or lacks a
    required column (``required`` may hold alternatives as ``"a|b"``: one of them must be
    present). Unknown columns are kept; callers decide whether to use them.
    """
    path = Path(path)
    if data is None and not path.is_file():
        raise LabInputError([Problem(str(path), "file not found")])
    numbers = list(numbers)
    frame = _read_text_frame(path, data, typed=bool(numbers))
    return text_table(frame, str(path), required, optional, numbers=numbers)


def text_table(
    df: pd.DataFrame,
    source: str,
    required: Iterable[str],
    optional: Iterable[str] = (),
    *,
    numbers: Iterable[str] = (),
) -> pd.DataFrame:
    """A table (read from a file, or records sent as JSON) as text columns with lower-case,
    stripped names, checked for repeated and missing columns as :func:`read_table` says; in
    the columns ``numbers``, real numbers stay numbers."""
    df = df.copy()
    df.columns = [str(c).strip().lower() for c in df.columns]
    problems = Problems(source)
    dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    for c in dup:
        problems.add("the column appears more than once", column=c)
    optional = list(optional)
    required = list(required)
    for req in required:
        names = req.split("|")
        if not any(n in df.columns for n in names):
            allowed = ", ".join([r.replace("|", " or ") for r in required] + optional)
            problems.add(
                f"missing column {' or '.join(repr(n) for n in names)}; the table "
                f"has {', '.join(map(repr, df.columns)) or 'no columns'}; expected "
                f"columns: {allowed}"
            )
    problems.raise_if_any()
    numbers = set(numbers)
    for j, c in enumerate(df.columns):
        df.isetitem(j, _cells(df.iloc[:, j]) if c in numbers else clean_text(df.iloc[:, j]))
    return df


def _read_text_frame(path: Path, data: bytes | None, typed: bool = False) -> pd.DataFrame:
    """The file's cells: text, or with ``typed`` a workbook's cells as openpyxl reads them."""
    source = io.BytesIO(data) if data is not None else path
    if path.suffix.lower() == ".xlsx":
        try:
            df = pd.read_excel(
                source,
                sheet_name=0,
                dtype=object if typed else str,
                keep_default_na=False,
                engine="openpyxl",
            )
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise LabInputError(
                [Problem(str(path), f"not a readable .xlsx workbook ({exc})")]
            ) from None
        if df.shape[1] == 0:
            raise LabInputError(
                [
                    Problem(
                        str(path),
                        "the first sheet is empty: expected a header row and one row per record",
                    )
                ]
            )
        return df
    try:
        raw = data if data is not None else path.read_bytes()
        # labopt's CSV files escape text that a spreadsheet would run as a formula: undone here
        return restore_frame(read_text_table(raw)[0])
    except CsvFileError as exc:
        if "empty" in str(exc):
            raise LabInputError(
                [
                    Problem(
                        str(path), "the file is empty: expected a header row and one row per record"
                    )
                ]
            ) from None
        raise LabInputError([Problem(str(path), str(exc))]) from None


def parse_numbers(
    values: pd.Series,
    problems: Problems,
    column: str,
    *,
    low: float,
    high: float,
    blank_ok: bool,
    low_open: bool = False,
    what: str = "a number",
    whole: bool = False,
    fmt: NumberFormat | None = None,
    percent: bool = False,
    switch: str | None = None,
) -> np.ndarray:
    """Floats from a text column (NaN for blanks when allowed), problems per row; ``whole``:
    only whole numbers are allowed (run numbers, counts); ``fmt``: how text numbers are
    written (default en); ``percent``: a fraction, ``10%`` read as 0.1; ``switch``: how the
    user sets the other format (see :func:`labopt.numbers.parse_number`). Real number cells
    (a workbook's, a JSON number) are taken as they are."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        num = values.to_numpy(dtype=float, na_value=np.nan)
        blank = np.isnan(num)
        shown = num
        why: dict[int, str] = {}
    else:
        shown = _cells(values)
        # numbers in the file's format (en: a decimal point), refused with the cause otherwise
        num, why = parse_column(
            shown, fmt or number_format("en"), whole=whole, percent=percent, switch=switch
        )
        blank = np.array([v == "" for v in shown.tolist()], dtype=bool)
    rows = sheet_rows(len(num))
    bound = f"{'>' if low_open else '≥'} {low:g} and ≤ {high:g}"
    if not blank_ok:
        problems.add_rows(blank, rows, shown, column, f"a value is required: {what} {bound}")
    not_num = ~blank & np.isnan(num)
    for k, i in enumerate(np.flatnonzero(not_num)):
        if k == MAX_SHOWN:
            problems.add(
                f"{int(not_num.sum()) - MAX_SHOWN} more rows with the same problem", None, column
            )
            break
        reason = f": {why[int(i)]}" if int(i) in why else ""
        problems.add(
            f"not a number; expected {what} {bound}{reason}", int(rows[i]), column, shown[i]
        )
    with np.errstate(invalid="ignore"):
        out = ~np.isnan(num) & ((num <= low if low_open else num < low) | (num > high))
    problems.add_rows(out, rows, shown, column, f"out of range; expected {what} {bound}")
    if whole:
        with np.errstate(invalid="ignore"):
            frac = ~np.isnan(num) & ~out & (num != np.floor(num))
        problems.add_rows(frac, rows, shown, column, f"not a whole number; expected {what}")
    return num


def duplicated_rows(
    keys: pd.Series | pd.DataFrame, problems: Problems, column: str, what: str
) -> None:
    """A problem for every repeat of a key, naming the row of its first occurrence."""
    dup = keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    frame = keys.to_frame() if isinstance(keys, pd.Series) else keys
    rows = sheet_rows(len(frame))
    first: dict = {}
    shown = 0
    for i in np.flatnonzero(dup):
        key = tuple(frame.iloc[i])
        label = key[0] if len(key) == 1 else "/".join(map(str, key))
        if key not in first:
            first[key] = rows[i]
            continue
        if shown < MAX_SHOWN:
            problems.add(
                f"duplicate {what} {label!r} (also on row {first[key]}); each "
                f"{what} may appear once",
                int(rows[i]),
                column,
            )
        shown += 1
    if shown > MAX_SHOWN:
        problems.add(f"{shown - MAX_SHOWN} more duplicate {what}s", None, column)


def write_folder(
    folder: str | os.PathLike,
    files: dict[str, Writer],
    keep_existing: bool = True,
    *,
    force: bool = False,
    adopt: Iterable[str] = (),
    what: str = "--out",
    kind: str = "",
    reads: Iterable[str | os.PathLike] = (),
) -> list[Path]:
    """Write ``files`` (name -> writer(path)) into ``folder`` so that it changes only when
    every file has been written, touching only labopt's own files there (see
    :func:`labopt.files.write_output_folder`, which explains ``force``, ``adopt``, ``what``,
    ``kind`` and ``reads``).

    With ``keep_existing`` labopt's other files already in the folder stay.
    Returns the paths written.
    """
    return write_output_folder(
        folder,
        files,
        force=force,
        keep_old=keep_existing,
        adopt=adopt,
        what=what,
        kind=kind,
        reads=reads,
    )


def csv_writer(df: pd.DataFrame) -> Writer:
    return lambda path: write_csv(df, path, float_format="%.10g")


def text_writer(text: str) -> Writer:
    return lambda path: path.write_text(text, encoding="utf-8")
