"""Limits on uploaded files, checked before they are parsed.

A small upload can expand to a lot of work: a 1 MB zip to 1 GiB of CSV, a 350 KB workbook to
two million cells, a CSV to more rows than a JSON batch may hold. Every upload (scenario zip or
XLSX, batch samples, lab results) is measured here first, from its zip directory and a
streaming count that stops at the limit, so that a refusal costs well under a second:

- 413 when the file is too big: more than ``MAX_MEMBERS`` files in a zip (an XLSX is one),
  more than ``MAX_EXPANDED_BYTES`` once uncompressed, or a workbook part over
  ``MAX_PART_BYTES``;
- 422 when a table has too many rows (``MAX_ROWS``, the same as a JSON list), columns or cells,
  or (lab tables) a cell longer than ``MAX_TEXT`` characters, the JSON fields' limit.

Python's zipfile never yields more than a member's declared size (a member that expands
further fails its CRC check and is refused as unreadable), so the declared sizes bound the work.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path

import numpy as np
import pandas as pd
from fastapi import HTTPException, UploadFile

from labopt.errors import InputError
from labopt.lab.tables import Problems, sheet_rows
from labopt_api.schemas import MAX_ROWS, MAX_TEXT

MAX_MEMBERS = 100  # files in a zip: a scenario's tables, a workbook's parts
MAX_EXPANDED_BYTES = 100 * 2**20  # every member of a zip, uncompressed (bytes)
MAX_PART_BYTES = 10 * 2**20  # a workbook part other than sheets and shared strings
MAX_COLUMNS = 50  # columns of a table (a CSV's header, a sheet's widest row)
MAX_CELLS = 8 * MAX_ROWS  # cells of a workbook (all sheets): MAX_ROWS of 8 columns
CHUNK = 2**20  # bytes read at a time when counting
MAX_UPLOAD_NAME = 200  # characters of an uploaded file's name

_EOCD = b"PK\x05\x06"


def too_big(name: str, what: str) -> HTTPException:
    return HTTPException(413, detail=f"file {name!r}: {what}")


def too_many(name: str, what: str) -> HTTPException:
    return HTTPException(
        422,
        detail=[{"loc": ["body", "file"], "type": "upload_limit", "msg": f"file {name!r}: {what}"}],
    )


# ---------------------------------------------------------------------- zip archives
def _declared_members(data: bytes) -> int | None:
    """Entries announced by the zip's end-of-central-directory record (None: not found), read
    before zipfile parses a central directory that could list millions of entries."""
    at = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        return None
    return struct.unpack_from("<H", data, at + 10)[0]


def open_zip(data: bytes, name: str) -> zipfile.ZipFile:
    """The archive, once its member count and uncompressed size are within the limits
    (413 otherwise; 422 when it is not a zip at all)."""
    declared = _declared_members(data)
    if declared is not None and declared > MAX_MEMBERS:  # 0xFFFF for a ZIP64 archive
        raise too_big(name, f"holds {declared:,} files; at most {MAX_MEMBERS} are accepted")
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise HTTPException(
            422,
            detail=[
                {
                    "loc": ["body", "file"],
                    "type": "value_error",
                    "msg": f"file: {name!r} is not a valid zip archive",
                }
            ],
        ) from None
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise too_big(name, f"holds {len(members):,} files; at most {MAX_MEMBERS} are accepted")
    expanded = sum(m.file_size for m in members)
    if expanded > MAX_EXPANDED_BYTES:
        raise too_big(
            name,
            f"expands to {expanded / 2**20:,.0f} MiB; at most "
            f"{MAX_EXPANDED_BYTES / 2**20:,.0f} MiB uncompressed are accepted",
        )
    return archive


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    try:
        with archive.open(info) as f:
            while chunk := f.read(CHUNK):
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise HTTPException(
            422,
            detail=[
                {
                    "loc": ["body", "file"],
                    "type": "value_error",
                    "msg": f"file: {info.filename!r} in {name!r} cannot be read: {exc}",
                }
            ],
        ) from None


# ---------------------------------------------------------------------- workbooks
_SHEET = re.compile(r"xl/worksheets/[^/]+\.xml$")
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?(?:worksheet|sst)[\s>]")


def _count(
    chunks: Iterator[bytes], names: tuple[bytes, ...], stop: Callable[[list[int]], bool]
) -> list[int]:
    """Start tags of each element name (``b"c"`` counts ``<c ...>``) in an XML stream, with
    the prefix of the document's root; a few other names starting alike (``<col>``) count too,
    a safe over-count. The stream is cut at tag starts so that no tag is split; counting stops
    as soon as ``stop(counts)`` is true."""
    counts = [0] * len(names)
    tokens = None
    carry = b""
    for chunk in chunks:
        text = carry + chunk
        if tokens is None:
            root = _ROOT.search(text[:65_536])
            # no recognisable root: count every tag start, the safest over-count
            tokens = [b"<" + ((root.group(1) or b"") + n if root else b"") for n in names]
        cut = text.rfind(b"<")
        if cut < 0 or len(text) - cut > 256:  # no tag start left open at the end
            carry = b""
        else:
            text, carry = text[:cut], text[cut:]
        for i, token in enumerate(tokens):
            counts[i] += text.count(token)
        if stop(counts):
            return counts
    for i, token in enumerate(tokens or ()):
        counts[i] += carry.count(token)
    return counts


def check_workbook(data: bytes, name: str) -> None:
    """An XLSX workbook's rows per sheet, cells and shared strings, counted from its XML."""
    archive = open_zip(data, name)
    cells = 0
    for info in archive.infolist():
        part = info.filename
        if _SHEET.match(part):

            def full(c: list[int], room: int = MAX_CELLS - cells) -> bool:
                return c[0] > MAX_ROWS + 1 or c[1] > room

            counts = _count(_chunks(archive, info, name), (b"row", b"c"), full)
            if counts[0] > MAX_ROWS + 1:
                raise too_many(
                    name,
                    f"sheet {part.rsplit('/', 1)[-1]} has more than "
                    f"{MAX_ROWS:,} rows below its header; at most "
                    f"{MAX_ROWS:,} are accepted (as in JSON)",
                )
            cells += counts[1]
        elif part == "xl/sharedStrings.xml":
            counts = _count(_chunks(archive, info, name), (b"si",), lambda c: c[0] > MAX_CELLS)
            if counts[0] > MAX_CELLS:
                raise too_many(
                    name,
                    f"more than {MAX_CELLS:,} distinct texts; at most "
                    f"{MAX_CELLS:,} cells are accepted",
                )
        elif info.file_size > MAX_PART_BYTES:
            raise too_big(
                name,
                f"part {part} is {info.file_size / 2**20:,.0f} MiB; at most "
                f"{MAX_PART_BYTES / 2**20:,.0f} MiB are accepted",
            )
        if cells > MAX_CELLS:
            raise too_many(
                name,
                f"more than {MAX_CELLS:,} cells; at most {MAX_CELLS:,} "
                f"({MAX_ROWS:,} rows of 8 columns) are accepted",
            )


# ---------------------------------------------------------------------- CSV
def _csv_lines(chunks: Iterator[bytes], name: str) -> int:
    """Lines of a CSV stream, stopping past the row limit (a cell with a line break counts
    twice: a safe over-count); 422 over the row, column or cell limit."""
    lines = 0
    header = None
    last = b"\n"
    for chunk in chunks:
        if header is None:
            header = chunk[: 64 * 1024]
        lines += chunk.count(b"\n")
        last = chunk[-1:] or last
        if lines > MAX_ROWS + 1:
            break
    lines += last != b"\n"
    if lines > MAX_ROWS + 1:
        raise too_many(
            name,
            f"more than {MAX_ROWS:,} rows below the header; at most "
            f"{MAX_ROWS:,} are accepted (as in JSON): split the file",
        )
    first = (header or b"").split(b"\n", 1)[0]
    columns = 1 + max(first.count(b","), first.count(b";"), first.count(b"\t"))
    if columns > MAX_COLUMNS:
        raise too_many(
            name, f"{columns:,} columns in the header; at most {MAX_COLUMNS} are accepted"
        )
    if lines * columns > MAX_CELLS:
        raise too_many(
            name, f"{lines:,} rows of {columns} columns; at most {MAX_CELLS:,} cells are accepted"
        )
    return lines


def check_csv(data: bytes, name: str) -> None:
    _csv_lines(iter((data,)), name)


# ---------------------------------------------------------------------- uploads
def check_scenario_file(data: bytes, name: str) -> None:
    """A scenario upload: an XLSX workbook, or a zip of scenario.toml and CSV tables (other
    names are left to the caller to refuse)."""
    lower = name.lower()
    if lower.endswith(".xlsx"):
        check_workbook(data, name)
    elif lower.endswith(".zip"):
        archive = open_zip(data, name)
        for info in archive.infolist():
            if info.filename.lower().endswith(".csv"):
                _csv_lines(_chunks(archive, info, name), f"{name}/{info.filename}")


def check_table_file(data: bytes, name: str) -> None:
    """A lab table upload (samples, results): a CSV file or an XLSX workbook."""
    if name.lower().endswith(".xlsx"):
        check_workbook(data, name)
    else:
        check_csv(data, name)


def check_cells(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Refuse column names and cells longer than MAX_TEXT characters (as the JSON fields);
    every such cell is named (422). Returns the table."""
    problems = Problems(source)
    for column in df.columns:
        if len(str(column)) > MAX_TEXT:
            problems.add(
                f"column name of {len(str(column)):,} characters; at most {MAX_TEXT}",
                row=1,
                value=str(column),
            )
        values = df[column].to_numpy(dtype=object)
        lengths = np.fromiter(
            (len(v) if isinstance(v, str) else 0 for v in values), dtype=np.int64, count=len(values)
        )
        problems.add_rows(
            lengths > MAX_TEXT,
            sheet_rows(len(df)),
            values,
            str(column)[:MAX_TEXT],
            f"longer than {MAX_TEXT} characters",
        )
    problems.raise_if_any()
    return df


def read_table_upload(
    upload: UploadFile, name: str, reader: Callable[..., pd.DataFrame]
) -> pd.DataFrame:
    """An uploaded lab table, checked (sizes, rows, cells) before ``reader(name, data=...)``
    parses it, and its cells' lengths after."""
    data = upload.file.read()
    check_table_file(data, name)
    return check_cells(reader(name, data=data), name)


def upload_name(upload: UploadFile, allowed: tuple[str, ...] = (".csv", ".xlsx")) -> str:
    """The uploaded file's name as stored and named in messages: no folders, no control
    characters (PostgreSQL refuses NUL), at most MAX_UPLOAD_NAME characters; InputError when
    its suffix is not one of ``allowed``."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", Path(upload.filename or "").name)[:MAX_UPLOAD_NAME]
    name = name or "upload.csv"
    if Path(name).suffix.lower() not in allowed:
        raise InputError(f"file: {name!r} is not a {' or '.join(allowed)} file", "file")
    return name
