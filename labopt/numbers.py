"""Numbers and dates written as text, read by a declared format and never by guessing.

Two number formats: ``en`` (the default: ``1,234.5``) and ``vi`` (what a Vietnamese-locale
spreadsheet writes: ``1.234,5``, dates dd/mm/yyyy). A text either reads exactly in the declared
format or is refused with the cause named (a thousands separator of the other format, a
decimal comma, spaces). Rules, also in labopt/examples/README.md:

- a number is an optional sign, then digits, either plain (``8000``) or grouped by the
  thousands separator in groups of exactly three (``8,000``, ``1,234,567``; the first group
  1-3 digits without a leading zero), then optionally the decimal separator and digits;
  plain numbers may carry an exponent (``1e-05``); digits are ASCII ``0-9`` only (a
  full-width ``７４５`` is refused, not read);
- a count (a whole-number column) must be whole; and it must not read as a grouped whole
  number of the other format (``8.000`` under en, ``8,000`` under vi): one spreadsheet's eight
  thousand is the other's eight, so such a count is refused instead of read as a small number;
- a fraction may be written as a percentage (``2%`` or ``2 %`` -> 0.02); elsewhere ``%`` is
  refused;
- a date is ``yyyy-mm-dd``; under vi also ``dd/mm/yyyy``; under en a slashed date is refused
  (dd/mm and mm/dd cannot be told apart); a date with a time of day other than midnight is
  refused (the time would be dropped).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import string
from dataclasses import dataclass

import numpy as np
import pandas as pd

from labopt.errors import InputError


@dataclass(frozen=True)
class NumberFormat:
    name: str
    thousands: str
    decimal: str
    example: str

    @property
    def other(self) -> NumberFormat:
        return FORMATS["vi" if self.name == "en" else "en"]


FORMATS = {
    "en": NumberFormat("en", ",", ".", "1,234.5"),
    "vi": NumberFormat("vi", ".", ",", "1.234,5"),
}
DEFAULT_FORMAT = "en"
HOW_TO_SET = 'number_format = "{name}" in [province] of scenario.toml (or --number-format {name})'


class NumberTextError(InputError):
    """A text that is not a number (or date) in the declared format; the message says why."""


def number_format(name: str | None) -> NumberFormat:
    """The format called ``name`` (None: the default, en)."""
    if name is None:
        return FORMATS[DEFAULT_FORMAT]
    key = str(name).strip().lower()
    if key not in FORMATS:
        raise NumberTextError(f"number_format: one of {', '.join(FORMATS)}, got {str(name)!r}")
    return FORMATS[key]


def _patterns(fmt: NumberFormat) -> tuple[re.Pattern, re.Pattern]:
    t, d = re.escape(fmt.thousands), re.escape(fmt.decimal)
    number = re.compile(
        rf"^(?P<sign>[+-]?)(?:(?P<grouped>[1-9][0-9]{{0,2}}(?:{t}[0-9]{{3}})+)(?:{d}(?P<gdec>[0-9]+))?"
        rf"|(?P<plain>[0-9]+)(?:{d}(?P<pdec>[0-9]*))?(?P<exp>[eE][+-]?[0-9]+)?"
        rf"|{d}(?P<odec>[0-9]+)(?P<oexp>[eE][+-]?[0-9]+)?)$"
    )
    grouped_whole = re.compile(rf"^[+-]?[1-9][0-9]{{0,2}}(?:{t}[0-9]{{3}})+$")
    return number, grouped_whole


_PATTERNS = {name: _patterns(fmt) for name, fmt in FORMATS.items()}
VECTOR_FROM = 500  # cells: below this, pandas' vectorised calls cost more than a loop
_PLAIN_INT = re.compile(r"^[+-]?[0-9]+$")
_SIMPLE_EN = re.compile(r"^[+-]?[0-9]+(?:\.[0-9]+)?$")
_PERCENT = re.compile(r"^(?P<body>.*?)\s*%$")
_EXPONENT = re.compile(r"[0-9][eE][+-]?[0-9]")


def _read(text: str, fmt: NumberFormat) -> float | None:
    """The value of ``text`` in ``fmt``, or None when it is not a number there."""
    m = _PATTERNS[fmt.name][0].match(text)
    if m is None:
        return None
    if m["grouped"] is not None:
        body = m["grouped"].replace(fmt.thousands, "") + ("." + m["gdec"] if m["gdec"] else "")
    elif m["plain"] is not None:
        body = m["plain"] + ("." + m["pdec"] if m["pdec"] else "") + (m["exp"] or "")
    else:
        body = "0." + m["odec"] + (m["oexp"] or "")
    return float(m["sign"] + body)


def parse_number(
    text: str,
    fmt: NumberFormat,
    *,
    whole: bool = False,
    percent: bool = False,
    switch: str | None = HOW_TO_SET,
) -> float:
    """The number written as ``text`` in ``fmt``; NumberTextError names the cause.

    ``whole``: a count (whole numbers only, refused when it reads as a grouped whole number
    of the other format); ``percent``: a fraction, ``2%`` allowed and read as 0.02;
    ``switch``: how the user declares the other format (``{name}`` is filled in), or None
    where the format is fixed.
    """
    s = str(text).strip()
    scale = 1.0
    m = _PERCENT.match(s)
    if m is not None:
        if not percent:
            raise NumberTextError("a percent sign is allowed only for fractions")
        s, scale = m["body"], 0.01
    if _PLAIN_INT.match(s):
        return float(s) * scale
    if whole and _EXPONENT.search(s):
        raise NumberTextError(
            "scientific notation loses digits (Excel shows 345172 as "
            "3.45E+05): format the column as a number in the spreadsheet "
            "and write the count in full"
        )
    value = _read(s, fmt)
    if value is None:
        raise NumberTextError(_why_not(s, fmt, switch))
    # the other format's thousands pattern matched, so the text reads in that format too
    if (
        whole
        and _PATTERNS[fmt.other.name][1].match(s)
        and (other := _read(s, fmt.other)) is not None
    ):
        raise NumberTextError(
            f"ambiguous thousands separator: in the {fmt.name} number format "
            f"'{fmt.decimal}' is the decimal separator, so this would be {_g(value)}, but it "
            f"reads as {_g(other)} with '{fmt.other.thousands}' separating "
            f"thousands ({fmt.other.name} format); write {_g(other)} without "
            f"separators" + _or_set(switch, fmt.other)
        )
    if not math.isfinite(value):
        raise NumberTextError("not a finite number")
    return value * scale


def shown(value) -> str:
    """A value as a message shows it: numbers plainly (``2.0``, not ``np.float64(2.0)``), text
    in quotes."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value)


def _g(x: float) -> str:
    """A number in full: whole numbers without a point, others with every digit read."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 2**53 else repr(float(x))


def _or_set(switch: str | None, fmt: NumberFormat) -> str:
    return "" if switch is None else ", or set " + switch.format(name=fmt.name)


def _why_not(s: str, fmt: NumberFormat, switch: str | None) -> str:
    other = fmt.other
    if any(c.isdigit() and not c.isascii() for c in s):
        return (
            "digits other than 0-9 (full-width or another script's digits): type the "
            "number with the digits 0-9"
        )
    if re.search(r"[0-9]\s+[0-9]", s):
        return (
            f"spaces inside a number; write it without spaces (the {fmt.name} number "
            f"format separates thousands with '{fmt.thousands}')"
        )
    alt = _read(s, other)
    if alt is not None:
        if other.decimal in s and not _PATTERNS[other.name][1].match(s):
            what = "decimal comma" if other.decimal == "," else "decimal point"
        else:
            what = f"'{other.thousands}' as the thousands separator"
        return (
            f"{what}: this is {_g(alt)} in the {other.name} number format "
            f"({other.example}), but numbers here are read in the {fmt.name} format "
            f"({fmt.example}: '{fmt.thousands}' separates thousands, '{fmt.decimal}' "
            f"decimals); write it as {_write(alt, fmt)}" + _or_set(switch, other)
        )
    return f"not a number in the {fmt.name} number format (e.g. {fmt.example})"


def _write(x: float, fmt: NumberFormat) -> str:
    text = _g(x) if float(x).is_integer() else repr(float(x))
    return text.replace(".", fmt.decimal)


def parse_column(
    cells,
    fmt: NumberFormat,
    *,
    whole: bool = False,
    percent: bool = False,
    switch: str | None = HOW_TO_SET,
) -> tuple[np.ndarray, dict[int, str]]:
    """Values of a column (NaN for blank or refused cells) and the reason for each refused
    cell by position. Cells are text (read by ``fmt``) or real numbers (an XLSX numeric cell,
    a JSON number: taken as they are); ``''`` is blank."""
    values = np.full(len(cells), np.nan)
    errors: dict[int, str] = {}
    fast = np.zeros(len(cells), dtype=bool)
    if len(cells) > VECTOR_FROM:
        # most cells are plain numbers: read those at once, the rest one by one
        series = pd.Series(cells, dtype=object)
        is_text = series.map(type).eq(str).to_numpy()
        simple = _SIMPLE_EN if (fmt.name == "en" and not whole) else _PLAIN_INT
        fast[is_text] = series[is_text].str.fullmatch(simple.pattern).to_numpy(dtype=bool)
        values[fast] = pd.to_numeric(series[fast]).to_numpy(dtype=float)
    for i in np.flatnonzero(~fast).tolist():
        cell = cells[i]
        if isinstance(cell, (bool, np.bool_)):
            errors[i] = "expected a number, got a true/false value"
        elif isinstance(cell, (int, float, np.integer, np.floating)):
            values[i] = float(cell)
            if not math.isfinite(values[i]):
                errors[i] = "not a finite number"
        elif isinstance(cell, (dt.date, dt.time)):
            errors[i] = "expected a number, got a date or time"
        else:
            text = str(cell).strip()
            if text == "" or text.lower() == "nan":
                continue
            try:
                values[i] = parse_number(text, fmt, whole=whole, percent=percent, switch=switch)
            except NumberTextError as exc:
                errors[i] = str(exc)
    return values, errors


_SLASHED = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")


def parse_date(value, fmt: NumberFormat) -> dt.date:
    """A calendar date: a date (or midnight datetime) as it is, text ``yyyy-mm-dd``, or under
    vi ``dd/mm/yyyy``; NumberTextError names the cause otherwise."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise NumberTextError(
                "expected a date without a time of day (the time would be dropped)"
            )
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    m = _SLASHED.match(text)
    if m is not None:
        if fmt.name != "vi":
            raise NumberTextError(
                "a date with slashes is dd/mm/yyyy or mm/dd/yyyy and the two cannot be told "
                f"apart: write it as yyyy-mm-dd, or set {HOW_TO_SET.format(name='vi')} to read "
                "dd/mm/yyyy"
            )
        day, month, year = (int(g) for g in m.groups())
    else:
        m = re.match(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]00:00(?::00)?)?$", text)
        if m is None:
            timed = re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]", text)
            raise NumberTextError(
                "expected a date without a time of day (the time would be dropped)"
                if timed
                else "expected a date yyyy-mm-dd" + (" or dd/mm/yyyy" if fmt.name == "vi" else "")
            )
        year, month, day = (int(g) for g in m.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise NumberTextError(f"not a calendar date ({exc})") from None


# ---- writing: numbers and dates in the reader's language ----------------------------------
# A report in Vietnamese writes 8.000 and 0,5 and dates dd/mm/yyyy; in English 8,000, 0.5 and
# yyyy-mm-dd (ISO, which no English reader misreads). The language picks the number format.

_SWAP = str.maketrans({",": ".", ".": ","})


def number_text(x: float | np.number, lang: str = "en", spec: str = ",") -> str:
    """``x`` formatted by the format ``spec`` (default: whole, grouped by thousands) in
    ``lang``'s number format: ``number_text(8000.5, "vi", ",.1f") == "8.000,5"``."""
    text = format(x, spec)
    return text.translate(_SWAP) if lang == "vi" else text


def date_text(day: dt.date | str, lang: str = "en") -> str:
    """A date as ``lang`` writes it: en ``2021-10-04``, vi ``04/10/2021`` (a text yyyy-mm-dd
    is read first)."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return day.strftime("%d/%m/%Y") if lang == "vi" else day.isoformat()


class _Filler(string.Formatter):
    """str.format with every number and date field in the language's format."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value, format_spec: str) -> str:
        if isinstance(value, dt.date) and not format_spec:
            return date_text(value, self.lang)
        if "|" in format_spec:  # "{n:,|lab|labs}": the number, then the word it takes
            spec, one, many = format_spec.split("|")
            text = self.format_field(value, spec)
            return f"{text} {one if text == '1' else many}"
        text = super().format_field(value, format_spec)
        numeric = isinstance(value, (int, float, np.integer, np.floating))
        if numeric and not isinstance(value, (bool, np.bool_)) and self.lang == "vi":
            return text.translate(_SWAP)
        return text


_FILLERS = {name: _Filler(name) for name in FORMATS}


def fill(template: str, lang: str, /, **fields) -> str:
    """``template.format(**fields)`` with numbers and dates written as ``lang`` writes them:
    ``fill("{n:,} samples", "vi", n=8000) == "8.000 samples"``. A field ``{n:,|lab|labs}``
    writes the number and the word for one or for many: "1 lab", "2 labs"."""
    return _FILLERS[lang].vformat(template, (), fields)
