"""Helpers shared by the CLI commands: value parsing, JSON output, error reporting."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import sys
from collections.abc import Callable, Collection, Iterable, Sequence
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from labopt.csvfiles import CsvFileError, decode, separator
from labopt.errors import InputError
from labopt.files import MARKER, OutputFolderError, read_marker
from labopt.numbers import NumberTextError, number_format, parse_date, parse_number
from labopt.pooling.designs import MAX_BLOCK

# Tables stay readable when piped to a file or a log: no wrapping at 80 columns, unless
# COLUMNS says how wide the reader's screen is. Errors piped are never wrapped: a log or a
# script reads them whole.
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def fitted_table(
    headings: Sequence[str],
    rows: Iterable[Sequence[str | Text]],
    *,
    title: str | None = None,
    left: Collection[int] = (),
    whole: Collection[int] = (),
    optional: Collection[int] = (),
    styles: Sequence[str | None] | None = None,
) -> Table:
    """A table with borders where the terminal is wide enough for it; on a narrower one,
    without borders, its headings and cells wrapped at their spaces: nothing is cut with "…"
    and no column is dropped but those in ``optional`` when even that is too wide (print it
    with ``crop=False``). Columns in ``whole`` (dates) never wrap; ``left``: left-aligned
    columns (others: right); ``styles``: one per row."""
    rows = [list(r) for r in rows]
    plain = [
        [Text.from_markup(c).plain if isinstance(c, str) else c.plain for c in r] for r in rows
    ]
    # the narrowest a column may get: its longest word (a number, a date), or for ``whole``
    # columns its longest cell, so that a cell wraps at its spaces and is never cut
    widths = [
        max(
            (len(r[i]) if i in whole else max(map(len, r[i].split() or [""])) for r in plain),
            default=0,
        )
        for i in range(len(headings))
    ]

    # a column's least width: its longest word, heading or cell
    least = [
        max(w, *(len(x) for x in str(h).split()), 1) for w, h in zip(widths, headings, strict=True)
    ]

    def build(narrow: bool, drop: Collection[int] = ()) -> Table:
        table = Table(
            title=title,
            title_justify="left",
            box=box.SIMPLE_HEAD if narrow else box.HEAVY_HEAD,
            padding=(0, 0 if narrow else 1),
            collapse_padding=narrow,
            show_edge=not narrow,
        )
        keep = [i for i in range(len(headings)) if i not in drop]
        for i in keep:
            heading = headings[i]
            table.add_column(
                heading,
                justify="left" if i in left else "right",
                no_wrap=i in whole or not narrow,
                overflow="fold",
                min_width=least[i] if narrow else None,
            )
        for i, row in enumerate(rows):
            table.add_row(*(row[j] for j in keep), style=styles[i] if styles else None)
        return table

    wide = build(False)
    need = Measurement.get(console, console.options.update(width=1_000_000), wide).maximum
    if need <= console.width:
        return wide
    drop = set(optional) if sum(least) + len(least) - 1 > console.width else set()
    narrow = build(True, drop)
    # wider than the screen even so: as wide as it must be (the terminal wraps its lines;
    # print it with crop=False) rather than a column dropped or cut
    need = sum(w for i, w in enumerate(least) if i not in drop) + len(least) - len(drop) - 1
    narrow.width = max(need, console.width)  # fixed: rich then shrinks to the least widths
    return narrow


Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="write into a non-empty folder that is not a labopt output (or over an "
        "existing workbook); labopt still replaces only its own files there "
        "(listed in the folder's .labopt-output)",
    ),
]


Algorithm = Annotated[
    str,
    typer.Option(
        "--algorithm",
        "-a",
        help="design family: IT, D2, D3, D4, D5, A2, A2M, ID2, ID3, ID4 or IA2 (pool optimize "
        "also takes auto: every family)",
    ),
]
Config = Annotated[
    str,
    typer.Option(
        "--config",
        "-c",
        help="'10' (D2), '12:4,4,4' (D3), '16:8,8:4,4,4,4' (D4), '16:8,8:4,4,4,4:2,2,2,2,2,2,2,2' "
        "(D5), 'h16' (halving, D2-D5), '8' (8x8 array), '8x12' (8 rows of 12; IA2 too, "
        "'8x12:spiral' for its spiral arrangement), "
        "'20,10,5' (ID2 pools), '12,8:4,4,4,5,3' (ID3 pools: sub-pools), "
        "'12,8:6,6,4,4:3,3,3,3,2,2,1,1,1,1' (ID4 pools: sub-pools: third-stage pools)",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="print one JSON object")]


NumberFormatOption = Annotated[
    str | None,
    typer.Option(
        "--number-format",
        help="how numbers written as text in the scenario files are read: en "
        "(1,234.5; the default) or vi (1.234,5 and dates dd/mm/yyyy); must "
        "agree with [province] number_format when the files declare it",
    ),
]


def starting_point_folder(folder: Path, what: str, force: bool) -> None:
    """Refuse a labopt output ``folder`` for a starting point the user will edit (a new
    scenario, an example copied out) unless ``force``: its files may have been edited since
    labopt wrote them, and writing it again would replace them. Any other folder is left to
    the rules of :mod:`labopt.files` (a non-empty folder labopt did not write is refused)."""
    if force or not folder.is_dir() or read_marker(folder) is None:
        return
    raise OutputFolderError(
        f"{what}: {folder} already holds files labopt wrote (listed in its {MARKER}), which may "
        f"have been edited since; labopt writes a starting point only into a new or empty "
        f"folder. Choose a new folder, or add --force to replace labopt's files there."
    )


class UsageError(ValueError):
    """A flag value the CLI cannot parse."""


def parse_date_option(text: str, parameter: str = "--date", lang: str = "en") -> dt.date:
    """A date option's value, YYYY-MM-DD (with ``lang`` vi also DD/MM/YYYY, as Vietnamese
    writes it); InputError naming the option otherwise."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        pass
    if lang == "vi":
        try:
            return parse_date(text, number_format("vi"))
        except NumberTextError:
            pass
    allowed = "YYYY-MM-DD" + (" or DD/MM/YYYY" if lang == "vi" else "")
    raise InputError(f"{parameter}: expected a date as {allowed}, got {text!r}", parameter)


def parse_floats(text: str, flag: str, fraction: bool = False) -> list[float]:
    """'0.99' or '0.95,0.99' -> floats; the flag name and the user's text are used in errors.

    Lists are comma-separated, so a number takes a decimal point. ``fraction``: values in
    [0, 1], ``2%`` allowed; two whole numbers like '0,02' or '0,5' are refused as a decimal
    comma (a list of the fractions 0 and 1 means nothing here)."""
    items = [x.strip() for x in text.split(",")]
    if fraction and len(items) == 2 and all(re.fullmatch(r"\d+", x) for x in items):
        raise UsageError(_decimal_comma(flag, text, *items))
    for k in range(1, len(items)):
        if re.fullmatch(r"0\d+", items[k]) and re.fullmatch(r"\d+", items[k - 1]):
            raise UsageError(_decimal_comma(flag, text, items[k - 1], items[k]))
    values = []
    for item in items:
        if not item:
            continue
        try:
            v = parse_number(item, number_format("en"), percent=fraction)
        except NumberTextError as exc:
            why = (
                f"expected a number with a decimal point and no thousands separator, "
                f"e.g. 0.02{' or 2%' * fraction}; a comma separates values"
                if "percent" not in str(exc)
                else str(exc)
            )
            raise UsageError(
                f"{flag}: {item!r} in {text!r}: {why}"
                if len(items) > 1
                else f"{flag}: {text!r}: {why}"
            ) from None
        if fraction and not 0 <= v <= 1:
            raise UsageError(f"{flag}: {item!r} is not a fraction in [0, 1] (e.g. 0.02 or 2%)")
        values.append(v)
    if not values:
        raise UsageError(f"{flag}: expected at least one number, got {text!r}")
    return values


def _decimal_comma(flag: str, text: str, a: str, b: str) -> str:
    return (
        f"{flag}: {text!r}: '{a},{b}' reads as the two values {a} and {b}: a decimal "
        f"comma? write {a}.{b} (a comma separates values in a list)"
    )


def scalar_or_list(values: list[float]):
    return values[0] if len(values) == 1 else values


def parse_risks(text: str) -> list[float]:
    """Individual risks: '0.05*20,0.005*80' (value*count items) or a CSV file with a column
    named 'risk' (or a single unnamed column)."""
    path = Path(text)
    try:
        is_file = path.suffix.lower() in (".csv", ".txt") or path.exists()
    except OSError:  # too long for a file name: a list
        is_file = False
    if is_file:
        risks = _risks_from_file(path)
        if len(risks) > MAX_BLOCK:
            raise UsageError(
                f"--risks: {path} holds {len(risks):,} risks; a batch pooled by risk holds at "
                f"most {MAX_BLOCK:,}"
            )
        return risks
    out: list[float] = []
    items = [x.strip() for x in text.split(",")]
    for k in range(1, len(items)):
        if re.fullmatch(r"0\d+(\*\d+)?", items[k]) and re.fullmatch(r"\d+", items[k - 1]):
            raise UsageError(
                _decimal_comma("--risks", text, items[k - 1], items[k].partition("*")[0])
            )
    for item in items:
        if not item:
            continue
        value, _, count = item.partition("*")
        try:
            v = parse_number(value, number_format("en"), percent=True)
            digits = count.strip()
            if count and not (digits.isascii() and digits.isdigit()):
                raise ValueError(count)
            # a count too long to be a batch is over the bound below, whatever its value
            n = (int(digits) if len(digits) <= 6 else MAX_BLOCK + 1) if count else 1
        except ValueError:
            raise UsageError(
                f"--risks: {item!r} is not 'value' or 'value*count' (a decimal "
                f"point, items separated by commas)"
            ) from None
        if n < 1:
            raise UsageError(f"--risks: count in {item!r} must be at least 1")
        if len(out) + n > MAX_BLOCK:
            raise UsageError(
                f"--risks: more than {MAX_BLOCK:,} samples; a batch pooled by risk holds at most "
                f"{MAX_BLOCK:,}"
            )
        if not 0 <= v <= 1:
            raise UsageError(
                f"--risks: {value.strip()!r} in {item!r} is not a risk in [0, 1]"
                + (
                    ": a decimal comma? write 0.05*20 (a comma separates items)"
                    if re.fullmatch(r"\d+", value.strip())
                    else ""
                )
            )
        out.extend([v] * n)
    if not out:
        raise UsageError("--risks: no risks given")
    return out


def _risks_from_file(path: Path) -> list[float]:
    if not path.exists():
        raise UsageError(f"--risks: file {path} does not exist")
    try:
        text, _ = decode(path.read_bytes())
        rows = [
            r
            for r in csv.reader(
                io.StringIO(text, newline=""), delimiter=separator(text.partition("\n")[0])
            )
            if any(c.strip() for c in r)
        ]
    except CsvFileError as exc:
        raise UsageError(f"{path}: {exc}") from None
    if not rows:
        raise UsageError(f"{path}: the file is empty")
    header = [h.strip().lower() for h in rows[0]]
    col, start = (header.index("risk"), 1) if "risk" in header else (0, 0)
    width = len(rows[0])
    for line, row in enumerate(rows[start:], start=start + 1):
        if len(row) > width or (start == 0 and width > 1):
            raise UsageError(
                f"{path}, row {line}: {len(row)} fields"
                + (f" but the header has {width}" if start else " and no 'risk' column")
                + ": an unquoted decimal comma? write risks with a decimal point (0.05)"
            )
    out = []
    for line, row in enumerate(rows[start:], start=start + 1):
        if not row or not "".join(row).strip():
            continue
        cell = row[col] if col < len(row) else ""
        try:
            v = parse_number(cell, number_format("en"), percent=True)
        except NumberTextError as exc:
            raise UsageError(
                f"{path}, row {line}, column 'risk': value {cell!r}: expected a "
                f"number in [0, 1]: {exc}"
            ) from None
        if not 0 <= v <= 1:
            raise UsageError(
                f"{path}, row {line}, column 'risk': value {cell!r}: expected a number in [0, 1]"
            )
        out.append(v)
    if not out:
        raise UsageError(f"{path}: no risks found")
    return out


def clean_json(obj):
    """NaN and infinities are not JSON: write them as null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    return obj


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(clean_json(obj), ensure_ascii=False, indent=2) + "\n")


def reports_errors(func: Callable) -> Callable:
    """Turn input errors into one clear line on stderr and exit status 2."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ValueError, OSError) as exc:
            err_console.print(Text("error: ", style="bold red") + Text(str(exc)), highlight=False)
            raise typer.Exit(code=2) from None

    return wrapper


def fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}f}"
