"""scenario.toml (or the workbook's 'scenario' and 'streams' sheets) to validated Settings.

Values written as text (a TOML string, an XLSX text cell) are read by the declared number
format like the tables' cells; TOML and XLSX numbers and dates are taken as they are. Problems
name the setting as written (``policy.max_stages``), streams by id or by their number counted
from 1, and a misspelled key gets the nearest known one.
"""

from __future__ import annotations

import datetime as dt
import difflib

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from labopt.numbers import NumberFormat, NumberTextError, number_format, parse_date, parse_number
from labopt.scenario.errors import Problem
from labopt.scenario.model import Settings, Stream

FORMAT_KEY = "number_format"  # [province] number_format: how the files write numbers


def read_settings(
    data: dict,
    source: str,
    problems: list[Problem],
    requested_format: str | None = None,
    streams_source: str | None = None,
    float_counts: bool = False,
) -> tuple[Settings | None, NumberFormat]:
    """Settings from the raw dict, and the number format the tables are to be read in.

    ``number_format`` is taken out of ``province`` (it describes the files, not the scenario):
    it must agree with ``requested_format`` (the command's --number-format) when both are
    given. ``streams_source``: where streams are listed when it is not ``source`` (a sheet);
    their problems then carry the sheet row. ``float_counts``: a whole float is a count (an
    XLSX cell: Excel stores every number as a float); elsewhere (a TOML or JSON float) a
    number with a decimal point is refused where a count is expected (``8.000`` may mean
    eight thousand).
    """
    # copies: the caller's dict (a stored JSON body) is left as it is
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    if isinstance(data.get("streams"), list):
        data["streams"] = [dict(s) if isinstance(s, dict) else s for s in data["streams"]]
    province = data.get("province")
    declared = province.pop(FORMAT_KEY, None) if isinstance(province, dict) else None
    fmt = _format(declared, requested_format, source, problems)
    reported: set[tuple] = set()
    original: dict[tuple, object] = {}
    for section, model in _sections():
        values = data.get(section)
        if isinstance(values, dict):
            for key, value in values.items():
                if key in model.model_fields:
                    original[(section, key)] = value
                    values[key] = _coerce(
                        value,
                        model,
                        key,
                        fmt,
                        source,
                        f"{section}.{key}",
                        problems,
                        reported,
                        (section, key),
                        float_counts=float_counts,
                    )
    streams = data.get("streams")
    if isinstance(streams, list):
        for i, stream in enumerate(streams):
            if isinstance(stream, dict):
                for key, value in stream.items():
                    if key in Stream.model_fields:
                        src, where, row = _stream_place(stream, i, key, source, streams_source)
                        original[("streams", i, key)] = value
                        stream[key] = _coerce(
                            value,
                            Stream,
                            key,
                            fmt,
                            src,
                            where,
                            problems,
                            reported,
                            ("streams", i, key),
                            row,
                            float_counts=float_counts,
                        )
    try:
        return Settings.model_validate(data), fmt
    except ValidationError as exc:
        errors = [e for e in exc.errors() if tuple(e["loc"]) not in reported]
        # a misspelled key is one problem, not also "Field required" for the key it meant
        meant = {
            (*tuple(e["loc"][:-1]), hint)
            for e in errors
            if e["type"] == "extra_forbidden" and (hint := _nearest(list(e["loc"]))) is not None
        }
        for err in errors:
            if err["type"] == "missing" and tuple(err["loc"]) in meant:
                continue
            if tuple(err["loc"]) in original:
                err = {**err, "input": original[tuple(err["loc"])]}
            problems.append(_problem(err, data, source, streams_source))
        return None, fmt


def _sections():
    """(name, model) of each settings section (province, policy, ...)."""
    for name, field in Settings.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield name, field.annotation


def _format(declared, requested, source: str, problems: list[Problem]) -> NumberFormat:
    try:
        fmt = number_format(declared)
    except NumberTextError as exc:
        problems.append(
            Problem(source, str(exc), column=f"province.{FORMAT_KEY}", value=str(declared))
        )
        fmt = number_format(None)
    if requested is None:
        return fmt
    wanted = number_format(requested)
    if declared is not None and wanted.name != fmt.name:
        problems.append(
            Problem(
                source,
                f"the files declare number format '{fmt.name}' but "
                f"'{wanted.name}' was asked for (--number-format): "
                f"they must agree",
                column=f"province.{FORMAT_KEY}",
                value=str(declared),
            )
        )
    return wanted


def _coerce(
    value,
    model: type[BaseModel],
    key: str,
    fmt: NumberFormat,
    source: str,
    where: str,
    problems: list[Problem],
    reported: set,
    loc: tuple,
    row=None,
    *,
    float_counts: bool = False,
):
    """A text number or date read by the number format; other values as they are."""
    annotation = model.model_fields[key].annotation
    label = "column" if row else "setting"
    if annotation is int and isinstance(value, float) and not float_counts:
        problems.append(
            Problem(
                source,
                f"expected a whole number: {value!r} is a number with a "
                f"decimal point, not a count; write the count without "
                f'one (eight thousand: 8000, or "8.000" in quotes '
                f'with number_format = "vi")',
                row=row,
                column=where,
                value=str(value),
                label=label,
            )
        )
        reported.add(loc)
        return value
    try:
        if annotation in (int, float) and isinstance(value, str):
            fraction = any(getattr(m, "le", None) == 1 for m in model.model_fields[key].metadata)
            return parse_number(value, fmt, whole=annotation is int, percent=fraction)
        if annotation is dt.date and isinstance(value, (str, dt.date)):
            return parse_date(value, fmt)
    except NumberTextError as exc:
        # the date messages say what a date is; the number ones say why the text is not one
        kinds: dict[type | None, str] = {
            int: "expected a whole number: ",
            float: "expected a number: ",
        }
        kind = kinds.get(annotation, "")
        problems.append(
            Problem(source, f"{kind}{exc}", row=row, column=where, value=str(value), label=label)
        )
        reported.add(loc)
        return value
    if annotation is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # an XLSX number cell where text is expected: a code "101"
    return value


def _stream_place(stream: dict, i: int, key: str, source: str, streams_source: str | None):
    """Where a stream's field is, as the user sees it: by id, else the stream's number."""
    sid = stream.get("id")
    name = f"streams.{sid}" if isinstance(sid, str) and sid.strip() else f"streams.#{i + 1}"
    if streams_source is not None:
        return streams_source, key or None, i + 2
    return source, f"{name}.{key}" if key else name, None


def _problem(err: ErrorDetails, data: dict, source: str, streams_source: str | None) -> Problem:
    loc = list(err["loc"])
    value = err.get("input")
    value = None if isinstance(value, (dict, list)) else str(value)
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown setting" + _did_you_mean(loc)
        value = None
    row = None
    if loc[:1] == ["streams"] and len(loc) >= 2 and isinstance(loc[1], int):
        streams = data.get("streams") or []
        stream = streams[loc[1]] if loc[1] < len(streams) else {}
        src, where, row = _stream_place(
            stream if isinstance(stream, dict) else {},
            loc[1],
            ".".join(str(x) for x in loc[2:]),
            source,
            streams_source,
        )
        return Problem(
            src, msg, row=row, column=where, value=value, label="column" if row else "setting"
        )
    return Problem(
        source, msg, column=".".join(str(x) for x in loc) or None, value=value, label="setting"
    )


def _did_you_mean(loc: list) -> str:
    """The nearest known key to a misspelled one, or the known keys."""
    hint = _nearest(loc)
    if hint:
        return f"; did you mean '{hint}'?"
    known = _known(loc[:-1])
    return f"; known: {', '.join(known)}" if known else ""


def _nearest(loc: list) -> str | None:
    hint = difflib.get_close_matches(str(loc[-1]), _known(loc[:-1]), n=1, cutoff=0.6)
    return hint[0] if hint else None


def _known(parent: list) -> list[str]:
    """The keys allowed under ``parent`` (a settings section, a stream, or the top)."""
    if not parent:
        return list(Settings.model_fields)
    if parent[0] == "streams":
        return list(Stream.model_fields)
    field = Settings.model_fields.get(str(parent[0]))
    model = None if field is None else field.annotation
    if len(parent) > 1 or not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return list(model.model_fields) + ([FORMAT_KEY] if parent[0] == "province" else [])
