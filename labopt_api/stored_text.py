"""What the service stores as text, checked before it reaches the database.

PostgreSQL refuses a NUL character in text and a value longer than its column; SQLite takes
both. Checking first gives the same 422 on both databases, naming the field and the limit. The
lengths are those of the model's columns (:func:`labopt_api.models.text_length`), so a longer
column in a migration is a longer limit here. Any other text of a scenario is capped too
(SCENARIO_TEXT), and so is the size of its stored JSON: a workbook's shared string is stored
once per cell, so a small upload could otherwise be a large row. An id from a path that
cannot be looked up (:func:`usable_id`) names nothing: 404.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from fastapi import HTTPException
from pydantic import AfterValidator, BeforeValidator
from sqlalchemy.orm import InstrumentedAttribute

from labopt.scenario import Problem, Scenario, ScenarioError
from labopt_api.models import (
    CODE,
    NAME,
    DistrictDayRecord,
    LabBatchRecord,
    ScenarioRecord,
    text_length,
)

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"  # the same rule as a pattern (query, form fields)
SAMPLE_ID = NAME  # sample ids live in the stored manifest, not in a column
SCENARIO_TEXT = NAME  # any other text of a scenario (names, notes): characters
SAMPLE_TEXT = ("sample_id", "stream", "district", "address_group")


def control_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as one-line text, or None."""
    m = CONTROL.search(value)
    if m is None:
        return None
    return (
        f"control character {m.group()!r} at position {m.start() + 1}; names, codes and "
        f"labels are one line of printable text"
    )


def _one_line(value: str) -> str:
    problem = control_problem(value)
    if problem:
        raise ValueError(problem)
    return value


OneLine = AfterValidator(_one_line)

# a note a person writes (a unit's day): lines and tabs, no other control character
NOTE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_NOTE = 1000  # characters of such a note


def _note(value: str) -> str:
    m = NOTE_CONTROL.search(value)
    if m:
        raise ValueError(
            f"control character {m.group()!r} at position {m.start() + 1}; a note is printable "
            f"text in lines"
        )
    return value


def _lines(value: Any) -> Any:
    """A browser sends a text box's line breaks as CR LF: one character each, before the
    note's length is counted."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


Note = AfterValidator(_note)
NoteLines = BeforeValidator(_lines)
"""The mark of a request field stored as text (no control characters), beside its length:
``Annotated[str, Field(max_length=...), OneLine]``."""


def usable_id(value: str, column: InstrumentedAttribute[str] = ScenarioRecord.id) -> bool:
    """Whether ``value`` can be looked up in ``column`` at all (else it names nothing: 404)."""
    return len(value) <= text_length(column) and not CONTROL.search(value)


# ---------------------------------------------------------------------- scenarios
def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k, f"{path}.{k}" if path else str(k))
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def _cells(data: dict) -> Iterator[tuple[str, int | None, str, str]]:
    """(table, row, column, text) of every text of a scenario's JSON form, keys included.
    Rows are counted as in the files (header = row 1); settings have no rows, their column is
    the setting's path (``streams[1].name``)."""
    for table, value in data.items():
        if isinstance(value, list):
            for i, row in enumerate(value):
                for column, text in _strings(row, ""):
                    yield table, i + 2, column, text
        else:
            for column, text in _strings(value, ""):
                yield table, None, column, text


def _too_long(source: str, row: int | None, column: str, value: str, limit: int) -> Problem | None:
    if len(value) > limit:
        return Problem(
            source,
            f"{len(value)} characters; at most {limit}",
            row=row,
            column=column,
            value=value[:40] + "...",
        )
    return None


def _limited(
    items: Iterable[tuple[str, int | None, str, str]], limit: int, problems: list[Problem]
) -> None:
    for source, row, column, value in items:
        if problem := _too_long(source, row, column, value, limit):
            problems.append(problem)
        elif why := control_problem(value):
            problems.append(Problem(source, why, row=row, column=column, value=value))


def check_scenario_text(scn: Scenario, data: dict) -> None:
    """Raise ScenarioError when a code or name of the scenario is longer than the column that
    stores it, or has control characters; or when any other text of it (``data``: its JSON
    form; names, notes, any string) is over SCENARIO_TEXT characters or holds NUL. Rows are
    counted as in the files (header = row 1)."""
    problems: list[Problem] = []
    prov = scn.province
    _limited(
        [("settings", None, "province.code", prov.code)],
        text_length(ScenarioRecord.province_code),
        problems,
    )
    _limited(
        [("settings", None, "province.name", prov.name)], text_length(ScenarioRecord.name), problems
    )
    _limited(
        [("districts", i + 2, "code", d.code) for i, d in enumerate(scn.districts)],
        text_length(DistrictDayRecord.district),
        problems,
    )
    _limited(
        [("labs", i + 2, "id", lab.id) for i, lab in enumerate(scn.labs)],
        text_length(LabBatchRecord.lab),
        problems,
    )
    _limited(
        [("settings", None, f"streams[{i}].id", s.id) for i, s in enumerate(scn.settings.streams)],
        CODE,
        problems,
    )
    told = {(p.source, p.row, p.column) for p in problems}
    for table, row, column, text in _cells(data):
        if (table, row, column) in told:
            continue
        if problem := _too_long(table, row, column, text, SCENARIO_TEXT):
            problems.append(problem)
        elif "\x00" in text:
            problems.append(
                Problem(
                    table,
                    "holds a NUL character (\\x00), which cannot be stored",
                    row=row,
                    column=column,
                    value=text[:40],
                )
            )
    if problems:
        raise ScenarioError(problems)


def check_scenario_size(data: dict, max_bytes: int) -> None:
    """413 when the scenario's JSON form (what is stored) is over ``max_bytes`` (UTF-8 bytes),
    the request body limit: a workbook's shared strings are stored once per cell, so a small
    upload can be a large scenario."""
    size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
    if size > max_bytes:
        raise HTTPException(
            413,
            detail=(
                f"the scenario takes {size / 2**20:.1f} MB as stored JSON; at most "
                f"{max_bytes / 2**20:.1f} MB, the request body limit (LABOPT_MAX_BODY_MB): a "
                f"workbook's repeated texts count once per cell"
            ),
        )


# ---------------------------------------------------------------------- lab samples
def sample_text_problems(samples: pd.DataFrame) -> list[tuple[np.ndarray, str, str]]:
    """(bad rows mask, column, message) for sample text that cannot be stored: control
    characters anywhere, sample ids over SAMPLE_ID characters."""
    out = []
    for column in SAMPLE_TEXT:
        if column not in samples.columns:
            continue
        values = samples[column].to_numpy(dtype=object)
        bad = np.array([CONTROL.search(v) is not None for v in values], dtype=bool)
        if bad.any():
            out.append(
                (
                    bad,
                    column,
                    "control characters (e.g. NUL, tab, line breaks) are not "
                    "allowed in sample text",
                )
            )
        if column == "sample_id":
            long = np.array([len(v) > SAMPLE_ID for v in values], dtype=bool)
            if long.any():
                out.append((long, column, f"a sample id has at most {SAMPLE_ID} characters"))
    return out
