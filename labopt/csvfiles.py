"""CSV files as spreadsheets write them: the encoding and the separator, read or refused.

Encoding: UTF-8 (with or without a byte-order mark), UTF-16 (what Excel's "Unicode Text"
writes: with a byte-order mark, or without one when every other byte of the text is zero),
else Windows-1258 (cp1258, what Excel's plain "CSV" writes on Vietnamese Windows; its
decomposed tone marks are composed, NFC). Separator: the header row decides: ``,``, ``;`` or a
tab, whichever it contains (a header with two of them is refused). Every row must have at most
as many fields as the header (an unquoted decimal comma adds one); shorter rows are padded
with blanks. A cell may hold at most ``csv.field_size_limit()`` characters (131,072);  a NUL
byte, or anything else the csv module cannot split is refused naming the row.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
import unicodedata

import pandas as pd

from labopt.errors import InputError

SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
MAX_ROWS_NAMED = 5
MAX_CELL_CHARS = 131_072  # characters in a cell: no name, code or number is near this

# the whole file is in memory already: the csv module's own cell limit (131,072) would stop
# the reading with an error naming no cell, so cells are measured after reading instead
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class CsvFileError(InputError):
    """The file cannot be read as a table; the message names the cause."""


def decode(data: bytes) -> tuple[str, str]:
    """The text of a file and the name of its encoding."""
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return _decode(data[len(bom) :], name), name
    if b"\x00" in data[:4096]:
        head = data[:4096]
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even == 0:
            return _decode(data, "utf-16-le"), "utf-16-le"
        if even > len(head) // 4 and odd == 0:
            return _decode(data, "utf-16-be"), "utf-16-be"
        raise CsvFileError("contains NUL bytes and is not UTF-16 text: not a CSV file")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return unicodedata.normalize("NFC", data.decode("cp1258")), "cp1258"
    except UnicodeDecodeError:
        raise CsvFileError(
            "the text is neither UTF-8, UTF-16 nor Windows-1258 (cp1258): save it as 'CSV UTF-8'"
        ) from None


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            f"not valid {encoding.upper()} text although it starts like it "
            f"({exc.reason} at byte {exc.start})"
        ) from None


def separator(header: str) -> str:
    """The field separator the header row uses (a comma when it has a single column)."""
    found = [s for s in SEPARATORS if s in header]
    if len(found) > 1:
        names = " and ".join(f"{SEPARATORS[s]}s" for s in found)
        raise CsvFileError(f"the header row mixes {names}: use one separator")
    return found[0] if found else ","


def read_text_table(data: bytes, max_cell: int | None = MAX_CELL_CHARS) -> tuple[pd.DataFrame, str]:
    """All cells as text (stripped names), and the separator found; CsvFileError otherwise
    (also for a cell longer than ``max_cell`` characters, None: no limit)."""
    text, _ = decode(data)
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), None)
    if header is None:
        raise CsvFileError("the file is empty (a header row is required)")
    if "\0" in text:
        # the csv module keeps a NUL byte in a cell; no spreadsheet writes one
        row = text.count("\n", 0, text.index("\0")) + 1
        raise CsvFileError(f"row {row} contains a NUL byte: not a CSV text file")
    sep = separator(header)
    rows = _rows(text, sep)
    if not rows:
        raise CsvFileError("the file is empty (a header row is required)")
    if max_cell is not None:
        _refuse_long_cells(rows, max_cell)
    names = [c.strip() for c in rows[0]]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CsvFileError(f"the header row repeats column {', '.join(map(repr, repeated))}")
    body = rows[1:]
    long = [i + 2 for i, r in enumerate(body) if len(r) > len(names)]
    if long:
        shown = ", ".join(map(str, long[:MAX_ROWS_NAMED]))
        more = f" and {len(long) - MAX_ROWS_NAMED} more" if len(long) > MAX_ROWS_NAMED else ""
        hint = (
            "an unquoted decimal comma or thousands separator splits a number in two: "
            "write numbers without commas, quote those cells, or save the file "
            "semicolon-separated"
            if sep == ","
            else "a separator inside a cell?"
        )
        raise CsvFileError(
            f"row{'s' if len(long) > 1 else ''} {shown}{more} ha"
            f"{'ve' if len(long) > 1 else 's'} more fields than the header "
            f"({len(names)}): {hint}"
        )
    body = [r + [""] * (len(names) - len(r)) for r in body]
    return pd.DataFrame(body, columns=names, dtype=object), sep


def _rows(text: str, sep: str) -> list[list[str]]:
    """The non-blank rows; CsvFileError naming the row the csv module stops at."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        return [r for r in reader if "".join(r).strip()]
    except csv.Error as exc:
        raise CsvFileError(f"row {reader.line_num} cannot be read as CSV: {exc}") from None


def _refuse_long_cells(rows: list[list[str]], limit: int) -> None:
    header = [c.strip() for c in rows[0]]
    long = [
        (i + 1, header[j] if j < len(header) else f"#{j + 1}")
        for i, r in enumerate(rows)
        for j, c in enumerate(r)
        if len(c) > limit
    ]
    if long:
        shown = ", ".join(f"row {i}, column {c!r}" for i, c in long[:MAX_ROWS_NAMED])
        more = f" and {len(long) - MAX_ROWS_NAMED} more" if len(long) > MAX_ROWS_NAMED else ""
        raise CsvFileError(
            f"{shown}{more}: a cell longer than {limit:,} characters (no name, "
            f"code or number is): not a table of names, codes and numbers"
        )
