"""The files of a new scenario folder (`labopt scenario new`), generated from the scenario's
own declarations: the settings from the pydantic models of :mod:`labopt.scenario.model`, the
tables' columns from :mod:`labopt.scenario.schema`. Only the example values are written here,
so a setting or column added there appears in the template without an edit here.

The template is a minimal valid scenario, one unit, one lab and one stream, each marked
"replace with your own": ``labopt scenario check`` and ``labopt plan`` accept it as written.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import typing
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import tomli_w
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from labopt.cells import write_csv
from labopt.scenario.io import SETTINGS_FILE
from labopt.scenario.model import Province, Settings, Stream
from labopt.scenario.schema import TABLES, Column, Table, markdown
from labopt.scenario.settings_input import FORMAT_KEY

REPLACE = "replace with your own"

# sections written as active settings (every province sets its own); the others are written
# commented out, their defaults applying until a line is uncommented
ACTIVE_SECTIONS = ("province", "policy")

# example values where a setting has no default, or where its default would not suit a
# one-unit example (the Thanh Hóa surge targets)
EXAMPLE_SETTINGS: dict[str, dict[str, object]] = {
    "province": {"code": "my_province", "name": f"My province ({REPLACE})"},
    "policy": {"single_target_per_day": 0, "pooled_target_per_day": 1000},
}
EXAMPLE_STREAM: dict[str, object] = {
    "id": "screening",
    "name": f"Screening ({REPLACE})",
    "name_vi": f"Sàng lọc ({REPLACE})",
    "priority": 1,
    "poolable": True,
    "max_wait_days": 2,
}
UNIT = "unit1"
LAB = "lab1"
EXAMPLE_CELLS: dict[str, dict[str, object]] = {
    "districts": {
        "code": UNIT,
        "name": f"Example unit ({REPLACE})",
        "unit_type": "district",
        "area_type": "rural",
        "population": 100000,
        "lat": 21.0,
        "lon": 105.8,
        "epidemic_level": 2,
    },
    "labs": {
        "id": LAB,
        "name": f"Example lab ({REPLACE})",
        "facility_type": "district_medical_centre",
        "district": UNIT,
        "lat": 21.0,
        "lon": 105.8,
        "status": "active",
        "biosafety_level": 2,
        "pcr_machines": 1,
        "wells_per_run": 96,
        "run_hours": 2.0,
        "extraction_machines": 1,
        "extraction_samples_per_run": 96,
        "extraction_run_hours": 1.0,
        "staff_per_shift": 3,
        "shifts_per_day": 2,
        "control_wells_per_run": 4,
        "reagent_stock": 5000,
        "max_pool_size": 10,
    },
    "prevalence": {"district": UNIT, "stream": EXAMPLE_STREAM["id"], "prevalence": 0.01},
    "demand": {"district": UNIT, "stream": EXAMPLE_STREAM["id"], "samples": 1000},
}
# optional tables written with their header only (an empty table is valid); travel.csv is
# left out: present, it would be the complete list of allowed unit-lab pairs
EMPTY_TABLES = (
    "backlog",
    "deliveries",
    "lab_days",
    "stores",
    "store_arrivals",
    "supply_routes",
    "kits",
    "kit_arrivals",
)

Writer = Callable[[Path], None]


def scenario_template(start_date: dt.date | None = None) -> dict[str, Writer]:
    """The files of a new scenario folder: file name -> writer(path), as
    :func:`labopt.files.write_output_folder` takes them. ``start_date``: day 1 of the example
    horizon (default: today)."""
    start = start_date or dt.date.today()
    files: dict[str, Writer] = {
        SETTINGS_FILE: _text_writer(settings_toml(start)),
        "README.md": _text_writer(readme()),
    }
    days = int(Province.model_fields["days"].default)
    for table in TABLES:
        frame = _table(table, days)
        if frame is not None:
            files[f"{table.name}.csv"] = _csv_writer(frame)
    return files


def settings_toml(start_date: dt.date) -> str:
    """scenario.toml: every setting with its meaning, unit and allowed values as comments."""
    lines = [
        f"# {SETTINGS_FILE}: the settings of a labopt scenario, written by `labopt scenario new`.",
        "#",
        "# Replace the example values with your own. A line starting with '#' is a comment.",
        "# A setting written commented out ('# key = value') takes the value shown, its default:",
        "# remove the '#' and change the value to set it. The tables are the CSV files beside",
        "# this one (README.md lists their columns). Check the folder with",
        "# `labopt scenario check FOLDER`, then plan it with `labopt plan FOLDER`.",
    ]
    examples = {**EXAMPLE_SETTINGS, "province": {**EXAMPLE_SETTINGS["province"]}}
    examples["province"].setdefault("start_date", start_date)
    for section, model in _sections():
        active = section in ACTIVE_SECTIONS
        lines += ["", *_doc_comment(model)]
        if not active:
            lines.append("# (defaults apply; uncomment a line to change it)")
        lines.append(f"[{section}]")
        for name, field in model.model_fields.items():
            example = examples.get(section, {}).get(name, field.default)
            lines += _setting(name, field, example, active)
        if section == "province":
            lines += [
                "# how numbers written as text in these files are read: en (1,234.5; the "
                "default) or",
                "# vi (1.234,5 and dates dd/mm/yyyy)",
                f'# {FORMAT_KEY} = "en"',
            ]
    lines += [
        "",
        "# The demand streams: one [[streams]] block each (at least one). Their ids are used in",
        "# prevalence.csv and demand.csv.",
        "[[streams]]",
    ]
    for name, field in Stream.model_fields.items():
        lines += _setting(name, field, EXAMPLE_STREAM[name], active=True)
    return "\n".join(lines) + "\n"


def readme() -> str:
    """README.md of a new scenario folder: what to edit, then every table's columns."""
    tables = ", ".join(f"`{t.name}.csv`" for t in TABLES if not t.optional)
    optional = ", ".join(f"`{t.name}.csv`" for t in TABLES if t.optional)
    intro = f"""\
        # A new labopt scenario

        Written by `labopt scenario new`: a minimal valid scenario with one unit, one lab and one
        demand stream, each marked "{REPLACE}". Edit the files in a spreadsheet or a text
        editor:

        1. `{SETTINGS_FILE}`: the province, its targets and rules, and the demand streams;
           every setting is explained there.
        2. The tables: replace the example rows with your own (one header row, UTF-8,
           comma-separated).
           Required: {tables}.
           Optional: {optional}.
           `travel.csv` is left out: when present, it is the complete list of the unit-lab
           pairs allowed; when absent, travel times come from the coordinates.
        3. `labopt scenario check FOLDER` lists every problem at once, naming file, row and
           column; `labopt plan FOLDER` plans the horizon.

        `labopt scenario convert FOLDER scenario.xlsx` turns the folder into one workbook (and
        back). `labopt example --list` lists complete example scenarios to compare with.

        ## The tables

        """
    return textwrap.dedent(intro) + markdown()


# ---------------------------------------------------------------------- internals
def _sections():
    """(name, model) of each settings section, in the order of Settings."""
    for name, field in Settings.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield name, field.annotation


def _doc_comment(model: type[BaseModel]) -> list[str]:
    """The first paragraph of a section's docstring, as comment lines."""
    doc = (model.__doc__ or "").strip().split("\n\n")[0]
    text = " ".join(doc.split())
    return [f"# {line}" for line in textwrap.wrap(text, 88)] if text else []


def _setting(name: str, field: FieldInfo, value: object, active: bool) -> list[str]:
    """A setting's comment line and its line ``key = value`` (commented out unless active)."""
    about = "; ".join(x for x in (field.description, _allowed(field)) if x)
    default = field.default
    if (
        active
        and not field.is_required()
        and value != default
        and default is not None
        and not isinstance(default, BaseModel)
    ):
        about += f" (default {_toml_value(default)})"
    line = f"{name} = {_toml_value(value)}"
    comments = [f"# {c}" for c in textwrap.wrap(about, 88)] if about else []
    return [*comments, line if active else f"# {line}"]


def _allowed(field: FieldInfo) -> str:
    """The values a setting takes, from its type and bounds."""
    literal = typing.get_origin(field.annotation) is typing.Literal
    choices = typing.get_args(field.annotation) if literal else ()
    if choices:
        return "one of " + ", ".join(str(c) for c in choices)
    kind = {int: "whole number", float: "number", bool: "true or false", str: "text"}.get(
        field.annotation,  # type: ignore[arg-type]
        "date (yyyy-mm-dd)" if field.annotation is dt.date else "",
    )
    # pydantic keeps each bound as metadata with one attribute: ge, gt, le, lt or pattern
    signs = {"ge": "≥ ", "gt": "> ", "le": "≤ ", "lt": "< ", "pattern": "matching "}
    bounds = [
        f"{sign}{getattr(m, attr)}"
        for m in field.metadata
        for attr, sign in signs.items()
        if getattr(m, attr, None) is not None
    ]
    return ", ".join(x for x in (kind, *bounds) if x)


def _toml_value(value: object) -> str:
    """``value`` as TOML writes it (a string quoted, a date bare)."""
    return tomli_w.dumps({"v": value}).partition("=")[2].strip()


def _table(table: Table, days: int) -> pd.DataFrame | None:
    """A table with its example rows (or header only), or None for a table left out."""
    if table.name in EMPTY_TABLES:
        return pd.DataFrame(columns=table.column_names)
    example = EXAMPLE_CELLS.get(table.name)
    if example is None:
        return None
    row = {c.name: example.get(c.name, _cell(c)) for c in table.columns}
    rows = [{**row, "day": day} for day in range(1, days + 1)] if "day" in row else [row]
    return pd.DataFrame(rows, columns=table.column_names)


def _cell(column: Column) -> object:
    """A valid cell for a column without an example value: blank when allowed, else the
    first allowed value, the lower bound or zero."""
    if column.optional:
        return ""
    if column.kind == "enum":
        return column.allowed[0]
    if column.kind == "str":
        return REPLACE
    low = 0.0 if column.min is None else column.min + (1 if column.min_exclusive else 0)
    return int(low) if column.kind == "int" else low


def _text_writer(text: str) -> Writer:
    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write


def _csv_writer(frame: pd.DataFrame) -> Writer:
    def write(path: Path) -> None:
        write_csv(frame, path)

    return write
