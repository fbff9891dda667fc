"""Helpers shared by the CLI commands: value parsing, JSON output, error reporting."""
from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

# Tables stay readable when piped to a file or a log: no wrapping at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


NumberFormatOption = Annotated[str | None, typer.Option(
    "--number-format", help="how numbers written as text in the scenario files are read: en "
                            "(1,234.5; the default) or vi (1.234,5 and dates dd/mm/yyyy); must "
                            "agree with [province] number_format when the files declare it")]


class UsageError(ValueError):
    """A flag value the CLI cannot parse."""


def parse_floats(text: str, flag: str) -> list[float]:
    """'0.99' or '0.95,0.99' -> floats; the flag name is used in errors."""
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"{flag}: expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise UsageError(f"{flag}: expected at least one number")
    return values


def scalar_or_list(values: list[float]):
    return values[0] if len(values) == 1 else values


def parse_risks(text: str) -> list[float]:
    """Individual risks: '0.05*20,0.005*80' (value*count items) or a CSV file with a column
    named 'risk' (or a single unnamed column)."""
    path = Path(text)
    if path.suffix.lower() in (".csv", ".txt") or path.exists():
        return _risks_from_file(path)
    out: list[float] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        value, _, count = item.partition("*")
        try:
            v = float(value)
            n = int(count) if count else 1
        except ValueError:
            raise UsageError(f"--risks: {item!r} is not 'value' or 'value*count'") from None
        if n < 1:
            raise UsageError(f"--risks: count in {item!r} must be at least 1")
        out.extend([v] * n)
    if not out:
        raise UsageError("--risks: no risks given")
    return out


def _risks_from_file(path: Path) -> list[float]:
    if not path.exists():
        raise UsageError(f"--risks: file {path} does not exist")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise UsageError(f"{path}: the file is empty")
    header = [h.strip().lower() for h in rows[0]]
    col, start = (header.index("risk"), 1) if "risk" in header else (0, 0)
    out = []
    for line, row in enumerate(rows[start:], start=start + 1):
        if not row or not "".join(row).strip():
            continue
        try:
            out.append(float(row[col]))
        except (ValueError, IndexError):
            raise UsageError(
                f"{path}, row {line}, column 'risk': expected a number in [0, 1], got "
                f"{row[col] if col < len(row) else ''!r}") from None
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
            err_console.print(Text("error: ", style="bold red") + Text(str(exc)),
                              highlight=False)
            raise typer.Exit(code=2) from None
    return wrapper


def fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}f}"
