"""Read and write scenarios: a folder (scenario.toml + CSV files) or one XLSX workbook.

Both forms hold the same content and load to the same :class:`Scenario`. Loading checks
everything first and raises one :class:`ScenarioError` listing every problem; nothing is
returned from a partly bad scenario. Writing goes to a temporary file or folder that replaces
the target only when complete, and touches only labopt's own files (:mod:`labopt.files`); text
a spreadsheet would run as a formula is escaped in the CSV files and unescaped on reading
(:mod:`labopt.cells`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from labopt.cells import restore_frame, write_csv, write_xlsx
from labopt.csvfiles import CsvFileError, decode, read_text_table
from labopt.files import Writer, write_output_file, write_output_folder
from labopt.numbers import HOW_TO_SET, NumberFormat, number_format
from labopt.scenario.errors import Problem, ScenarioError
from labopt.scenario.model import District, Lab, Scenario, Settings
from labopt.scenario.schema import (
    BACKLOG,
    DELIVERIES,
    DEMAND,
    DISTRICTS,
    LAB_DAYS,
    LABS,
    PREVALENCE,
    SUPPLY_TABLES,
    TABLES,
    TRAVEL,
    Table,
)
from labopt.scenario.settings_input import FORMAT_KEY, read_settings
from labopt.scenario.validate import check_reference, check_table, report_rows

SETTINGS_FILE = "scenario.toml"
SETTINGS_SHEET = "scenario"
STREAMS_SHEET = "streams"
STREAM_FIELDS = ("id", "name", "name_vi", "priority", "poolable", "max_wait_days")


# ---------------------------------------------------------------------------- loading
def load_scenario(path: str | os.PathLike, number_format: str | None = None) -> Scenario:
    """Load a scenario folder or ``.xlsx`` workbook; raise ScenarioError listing problems.

    ``number_format`` ("en" or "vi", see :mod:`labopt.numbers`) says how numbers written as
    text are read; it must agree with ``[province] number_format`` when the files declare it.
    """
    path = Path(path)
    if not path.exists():
        raise ScenarioError([Problem(str(path), "no such file or folder")])
    reader: _FolderReader | _WorkbookReader
    if path.is_dir():
        reader = _FolderReader(path)
    elif path.suffix.lower() == ".xlsx":
        reader = _WorkbookReader(path)
    else:
        raise ScenarioError(
            [
                Problem(
                    str(path),
                    "a scenario is a folder (scenario.toml + CSV files) or an .xlsx workbook",
                )
            ]
        )
    return _load(reader, str(path), number_format)


def declared_number_format(path: str | os.PathLike) -> str | None:
    """The number format a scenario's files declare (``[province] number_format``), or None
    (for files read with it, such as a groups file beside the scenario)."""
    path = Path(path)
    reader = _FolderReader(path) if path.is_dir() else _WorkbookReader(path)
    data = reader.settings([])
    province = (data or {}).get("province")
    declared = province.get(FORMAT_KEY) if isinstance(province, dict) else None
    return None if declared is None else str(declared)


def _load(reader, source: str, requested_format: str | None) -> Scenario:
    if requested_format is not None:
        number_format(requested_format)  # a bad --number-format stops here, named
    problems: list[Problem] = []
    settings, fmt = _settings(reader, problems, requested_format)
    raw = {t.name: reader.table(t, problems, fmt) for t in TABLES}
    typed = {
        name: check_table(df, TABLE_BY[name], reader.source(name), problems, fmt)
        for name, df in raw.items()
        if df is not None
    }
    _cross_checks(settings, typed, reader, problems)
    if problems or settings is None:
        # a whole file's or column's problem first: row problems often follow from it
        raise ScenarioError(
            sorted(problems, key=lambda p: (p.row is not None, p.column is not None))
        )
    return _build(settings, typed, source)


TABLE_BY = {t.name: t for t in TABLES}


class _FolderReader:
    def __init__(self, folder: Path):
        self.folder = folder

    def source(self, table: str) -> str:
        return f"{table}.csv"

    def settings(self, problems) -> dict | None:
        f = self.folder / SETTINGS_FILE
        if not f.exists():
            problems.append(
                Problem(
                    SETTINGS_FILE,
                    "missing: the scenario needs its settings file (province, policy, streams)",
                )
            )
            return None
        try:
            # Notepad saves with a byte-order mark, or in UTF-16: decoded like the CSV files
            return tomllib.loads(decode(f.read_bytes())[0])
        except CsvFileError as exc:
            problems.append(Problem(SETTINGS_FILE, str(exc)))
        except tomllib.TOMLDecodeError as exc:
            problems.append(Problem(SETTINGS_FILE, f"not valid TOML: {exc}"))
        except RecursionError:
            # tomllib reads nested arrays and tables recursively
            problems.append(
                Problem(
                    SETTINGS_FILE,
                    "arrays or tables nested too deeply: settings are at most a few levels deep",
                )
            )
        return None

    def table(self, table: Table, problems, fmt: NumberFormat) -> pd.DataFrame | None:
        f = self.folder / f"{table.name}.csv"
        if not f.exists():
            if not table.optional:
                problems.append(Problem(f.name, f"missing: required table ({table.description})"))
            return None
        try:
            df, sep = read_text_table(f.read_bytes())
        except CsvFileError as exc:
            problems.append(Problem(f.name, str(exc)))
            return None
        if sep == ";" and fmt.decimal != ",":
            # Excel writes ';' where ',' is the decimal separator: its numbers need "vi"
            problems.append(
                Problem(
                    f.name,
                    "this file looks semicolon-separated, as Excel "
                    "writes CSV where ',' is the decimal separator; "
                    "set " + HOW_TO_SET.format(name="vi") + " to read "
                    "it (1.234,5), or save it comma-separated",
                )
            )
            return None
        # labopt's CSV files escape text a spreadsheet would run as a formula: undone here
        return restore_frame(df)


class _WorkbookReader:
    def __init__(self, path: Path):
        self.path = path
        try:
            # numeric cells stay numbers (not affected by the number format), text stays text
            self.sheets = pd.read_excel(
                path, sheet_name=None, dtype=object, keep_default_na=False, engine="openpyxl"
            )
        except Exception as exc:  # noqa: BLE001 (openpyxl raises many types for a broken workbook)
            raise ScenarioError(
                [Problem(path.name, f"cannot be read as an XLSX workbook: {exc}")]
            ) from None

    def source(self, table: str) -> str:
        return f"{self.path.name}, sheet '{table}'"

    def settings(self, problems) -> dict | None:
        if SETTINGS_SHEET not in self.sheets or STREAMS_SHEET not in self.sheets:
            for name in (SETTINGS_SHEET, STREAMS_SHEET):
                if name not in self.sheets:
                    problems.append(Problem(self.path.name, self._missing(name, "settings")))
            return None
        sheet = self.sheets[SETTINGS_SHEET]
        if list(sheet.columns[:2]) != ["key", "value"]:
            problems.append(
                Problem(self.source(SETTINGS_SHEET), "expected two columns: key, value")
            )
            return None
        data: dict = {}
        for i, (key, value) in enumerate(zip(sheet["key"], sheet["value"], strict=False), start=2):
            section, _, name = str(key).strip().partition(".")
            if not name:
                problems.append(
                    Problem(
                        self.source(SETTINGS_SHEET),
                        "key must be section.name, e.g. policy.max_stages",
                        row=i,
                        column="key",
                        value=str(key),
                    )
                )
                continue
            if not _blank(value):
                data.setdefault(section, {})[name] = _strip(value)
        streams = self.sheets[STREAMS_SHEET]
        data["streams"] = [
            {str(k).strip(): _strip(v) for k, v in row.items() if not _blank(v)}
            for row in streams.to_dict("records")
        ]
        return data

    def _missing(self, name: str, what: str) -> str:
        found = list(self.sheets)
        hint = difflib.get_close_matches(name, found, n=1, cutoff=0.6)
        return (
            f"missing sheet '{name}' ({what}); the workbook has "
            f"{', '.join(repr(s) for s in found) or 'no sheets'}"
            + (f"; did you mean '{hint[0]}'?" if hint else "")
        )

    def table(self, table: Table, problems, fmt: NumberFormat) -> pd.DataFrame | None:
        if table.name not in self.sheets:
            if not table.optional:
                problems.append(
                    Problem(self.path.name, self._missing(table.name, table.description))
                )
            return None
        return self.sheets[table.name]


class _DataReader:
    """A scenario given as one JSON-like dict: {"settings": {...}, "districts": [records],
    "labs": [...], "prevalence": [...], "demand": [...], "deliveries": [...], "travel":
    [...] or null, and optionally "backlog", "lab_days", "stores", "store_arrivals",
    "supply_routes", "kits", "kit_arrivals": [...]}.
    Problems name the table and the item (row = index + 2, as in a sheet)."""

    def __init__(self, data: dict, source: str):
        self.data = data
        self.path = Path(source)

    def source(self, table: str) -> str:
        return table

    def settings(self, problems) -> dict | None:
        settings = self.data.get("settings")
        if not isinstance(settings, dict):
            problems.append(
                Problem("settings", "required: an object with province, policy, streams, ...")
            )
            return None
        return settings

    def table(self, table: Table, problems, fmt: NumberFormat) -> pd.DataFrame | None:
        records = self.data.get(table.name)
        if records is None:
            if not table.optional:
                problems.append(
                    Problem(table.name, f"missing: required table ({table.description})")
                )
            return None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            problems.append(Problem(table.name, "expected a list of objects, one per row"))
            return None
        columns = list(dict.fromkeys(k for r in records for k in r)) or table.column_names
        return pd.DataFrame(
            [{k: _json_cell(r.get(k)) for k in columns} for r in records],
            columns=columns,
            dtype=object,
        )


def _json_cell(v):
    """JSON numbers stay numbers (not affected by the number format); the rest is text."""
    if v is None:
        return ""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    return str(v)


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""


def _strip(v):
    return v.strip() if isinstance(v, str) else v


def scenario_from_data(data: dict, source: str = "request") -> Scenario:
    """Validate and build a scenario from its JSON form; ScenarioError lists every problem."""
    if not isinstance(data, dict):
        raise ScenarioError([Problem(source, "expected a JSON object")])
    return _load(_DataReader(data, source), source, None)


def scenario_to_data(scn: Scenario) -> dict:
    """The JSON form of a scenario (the inverse of scenario_from_data)."""
    out: dict[str, Any] = {"settings": scn.settings.model_dump(mode="json")}
    for name, df in _tables(scn).items():
        out[name] = [{k: _json_value(v) for k, v in row.items()} for row in df.to_dict("records")]
    out.setdefault("travel", None)
    return out


def _json_value(v):
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _settings(
    reader, problems, requested_format: str | None
) -> tuple[Settings | None, NumberFormat]:
    data = reader.settings(problems)
    if data is None:
        return None, number_format(requested_format)
    source = (
        SETTINGS_FILE
        if isinstance(reader, _FolderReader)
        else "settings"
        if isinstance(reader, _DataReader)
        else reader.source(SETTINGS_SHEET)
    )
    streams = reader.source(STREAMS_SHEET) if isinstance(reader, _WorkbookReader) else None
    return read_settings(
        data,
        source,
        problems,
        requested_format,
        streams,
        float_counts=isinstance(reader, _WorkbookReader),
    )


def _cross_checks(settings: Settings | None, typed: dict, reader, problems: list[Problem]) -> None:
    """References between tables; those needing the settings, or a table or key column that
    could not be read, are skipped (their root problem is already listed, and every row
    referring to them would only repeat it)."""

    def values(table: str, column: str) -> set | None:
        df = typed.get(table)
        return set(df[column]) if df is not None and column in df.columns else None

    def has(table: str, *columns: str) -> bool:
        return table in typed and all(c in typed[table].columns for c in columns)

    districts = values("districts", "code")
    labs = values("labs", "id")
    streams = {s.id for s in settings.streams} if settings else None
    days = settings.province.days if settings else None
    src = reader.source
    if "labs" in typed:
        lab_df = typed["labs"]
        check_reference(lab_df, "district", districts, "district code", src("labs"), problems)
    if has("labs", "control_wells_per_run", "wells_per_run"):
        bad = np.flatnonzero(
            (lab_df["control_wells_per_run"] >= lab_df["wells_per_run"]).to_numpy()
        )
        for i in bad:
            problems.append(
                Problem(
                    src("labs"),
                    "control wells must leave room for samples "
                    "(control_wells_per_run < wells_per_run)",
                    row=int(i) + 2,
                    column="control_wells_per_run",
                    value=str(lab_df["control_wells_per_run"].iloc[i]),
                )
            )
    for name in ("prevalence", "demand", "backlog"):
        if name in typed:
            check_reference(
                typed[name], "district", districts, "district code", src(name), problems
            )
            if streams is not None:
                check_reference(
                    typed[name],
                    "stream",
                    streams,
                    "stream id (scenario streams: " + ", ".join(sorted(streams)) + ")",
                    src(name),
                    problems,
                )
    for name in ("demand", "deliveries", "lab_days", "store_arrivals", "kit_arrivals"):
        if has(name, "day") and days is not None:
            late = np.flatnonzero((typed[name]["day"] > days).to_numpy())
            for i in late[:100]:
                problems.append(
                    Problem(
                        src(name),
                        f"day is after the horizon (province.days = {days})",
                        row=int(i) + 2,
                        column="day",
                        value=str(int(typed[name]["day"].iloc[i])),
                    )
                )
    if has("backlog", "stream", "age_days") and settings is not None:
        _backlog_ages(typed["backlog"], settings, src("backlog"), problems)
    for name in ("deliveries", "lab_days"):
        if name in typed:
            check_reference(typed[name], "lab", labs, "lab id", src(name), problems)
    if "travel" in typed:
        check_reference(
            typed["travel"], "district", districts, "district code", src("travel"), problems
        )
        check_reference(typed["travel"], "lab", labs, "lab id", src("travel"), problems)
    _supply_checks(typed, labs, districts, src, problems)
    if has("prevalence", "district", "stream") and districts and streams is not None:
        have = set(
            zip(typed["prevalence"]["district"], typed["prevalence"]["stream"], strict=False)
        )
        missing = [(d, s) for d in sorted(districts) for s in sorted(streams) if (d, s) not in have]
        for d, s in missing[:100]:
            problems.append(
                Problem(
                    src("prevalence"),
                    f"no prevalence for district '{d}', "
                    f"stream '{s}' (one row per district "
                    f"and stream is required)",
                )
            )
        if len(missing) > 100:
            problems.append(
                Problem(
                    src("prevalence"), f"{len(missing) - 100} more missing district/stream rows"
                )
            )


def _backlog_ages(
    backlog: pd.DataFrame, settings: Settings, source: str, problems: list[Problem]
) -> None:
    """A waiting sample is at most its stream's max_wait_days old at the start of day 1: an
    older one passed its wait limit before day 1 (untested then, not waiting now)."""
    wait = {s.id: s.max_wait_days for s in settings.streams}
    limit = backlog["stream"].map(wait).to_numpy(dtype=float)  # NaN: unknown stream, reported
    ages = backlog["age_days"].to_numpy(dtype=float)
    for i in np.flatnonzero(ages > limit)[:100]:
        stream = backlog["stream"].iloc[i]
        problems.append(
            Problem(
                source,
                f"a sample of stream '{stream}' waits at most {wait[stream]} days "
                f"(max_wait_days); one {int(ages[i])} days old passed its limit before day 1: "
                f"count it as untested then, not as waiting",
                row=int(i) + 2,
                column="age_days",
                value=str(int(ages[i])),
            )
        )


def _supply_checks(
    typed: dict, labs: set | None, districts: set | None, src, problems: list[Problem]
) -> None:
    """The supply network's references: store ids apart from lab ids, arrivals at known
    stores, routes from a store or lab to another lab (reagent) or from a store to a unit
    (kits), kits held by known units and stores. ``labs``/``districts`` None: unreadable."""
    if "stores" in typed:
        stores = set(typed["stores"]["id"]) if "id" in typed["stores"].columns else None
    else:  # an absent file is no store; an unreadable one is reported on its own
        unreadable = any(p.source == src("stores") and p.row is None for p in problems)
        stores = None if unreadable else set()
    taken = ((labs, "lab id (labs.id)"), (districts, "unit code (districts.code)"))
    for other, what in taken:  # a store's id names it alone
        if stores is not None and other is not None and "stores" in typed:
            ids = typed["stores"]["id"]
            report_rows(
                problems,
                src("stores"),
                "id",
                np.flatnonzero(ids.isin(other).to_numpy()),
                ids.to_numpy(dtype=object),
                f"a store id must differ from every {what}",
            )
    if "store_arrivals" in typed:
        check_reference(
            typed["store_arrivals"], "store", stores, "store id", src("store_arrivals"), problems
        )
    if "kits" in typed:
        holders = None if stores is None or districts is None else stores | districts
        check_reference(
            typed["kits"], "holder", holders, "unit code or store id", src("kits"), problems
        )
    if "kit_arrivals" in typed:
        # kits reach a store, or a unit whose collection the kits table limits
        kits = typed.get("kits")
        listed = set(kits["holder"]) if kits is not None and "holder" in kits.columns else set()
        takers = None if stores is None or districts is None else stores | (districts & listed)
        check_reference(
            typed["kit_arrivals"],
            "holder",
            takers,
            "store id or the code of a unit listed in kits",
            src("kit_arrivals"),
            problems,
        )
    routes = typed.get("supply_routes")
    if routes is None:
        return
    nodes = None if stores is None or labs is None else stores | labs
    check_reference(routes, "source", nodes, "store or lab id", src("supply_routes"), problems)
    if "target" not in routes.columns:
        return
    targets = routes["target"].to_numpy(dtype=object)
    if stores is not None and labs is not None:
        # a store is filled from the national level (store_arrivals), never by a route
        report_rows(
            problems,
            src("supply_routes"),
            "target",
            np.flatnonzero(routes["target"].isin(stores - labs).to_numpy()),
            targets,
            "a route ships to a lab (labs.id); this is a store id",
        )
    units = districts or set()
    if labs is not None and districts is not None and "source" in routes.columns:
        to_unit = routes["target"].isin(units - labs).to_numpy()
        report_rows(
            problems,
            src("supply_routes"),
            "source",
            np.flatnonzero(to_unit & routes["source"].isin(labs - (stores or set())).to_numpy()),
            routes["source"].to_numpy(dtype=object),
            "kits go to a unit from a store (stores.id), not from a lab",
        )
        report_rows(
            problems,
            src("supply_routes"),
            "target",
            np.flatnonzero(routes["target"].isin(units & labs).to_numpy()),
            targets,
            "this id is both a lab id and a unit code: a route's target must be one or the other",
        )
    known = None if labs is None else labs | (stores or set()) | units
    check_reference(routes, "target", known, "lab id or unit code", src("supply_routes"), problems)
    if "source" in routes.columns:
        same = (routes["source"] == routes["target"]) & (routes["source"] != "")
        report_rows(
            problems,
            src("supply_routes"),
            "target",
            np.flatnonzero(same.to_numpy()),
            targets,
            "a route ships to another lab: target must differ from source",
        )


def _ints(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    df = df.copy()
    for col in table.columns:
        if col.kind == "int" and col.name in df:
            s = df[col.name]
            df[col.name] = s.astype("int64") if not s.isna().any() else s.astype("Int64")
        elif col.kind in ("str", "enum") and col.name in df:
            df[col.name] = df[col.name].astype(object)
    return df


def _build(settings: Settings, typed: dict, source: str) -> Scenario:
    d_df = _ints(typed["districts"], DISTRICTS)
    l_df = _ints(typed["labs"], LABS)
    districts = [District.model_construct(**r) for r in _records(d_df)]
    # the rows were validated column by column already; model_construct takes them as they are
    lab_rows: list[dict[str, Any]] = [
        {k: (None if _isnull(v) else v) for k, v in r.items()} for r in _records(l_df)
    ]
    labs = [Lab.model_construct(**r) for r in lab_rows]
    prevalence = _ints(typed["prevalence"], PREVALENCE)
    demand = _ints(typed["demand"], DEMAND)
    base = prevalence.set_index(["district", "stream"])["prevalence"]
    fill = base.reindex(pd.MultiIndex.from_arrays([demand["district"], demand["stream"]]))
    demand["prevalence"] = np.where(
        demand["prevalence"].isna(), fill.to_numpy(), demand["prevalence"].to_numpy(dtype=float)
    )
    optional = {
        t.name: _ints(typed[t.name], t) if t.name in typed else t.empty_frame()
        for t in (DELIVERIES, BACKLOG, LAB_DAYS, *SUPPLY_TABLES)
    }
    travel = _ints(typed["travel"], TRAVEL) if "travel" in typed else None
    return Scenario(
        settings=settings,
        districts=districts,
        labs=labs,
        prevalence=prevalence,
        demand=demand,
        travel=travel,
        source=source,
        **optional,
    )


def _records(df: pd.DataFrame) -> list[dict]:
    cols = list(df.columns)
    out = []
    for row in zip(*(df[c].tolist() for c in cols), strict=False):
        out.append(
            {
                c: (v.item() if isinstance(v, np.generic) else v)
                for c, v in zip(cols, row, strict=False)
            }
        )
    return out


def _isnull(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


# ---------------------------------------------------------------------------- writing
def _tables(scn: Scenario) -> dict[str, pd.DataFrame]:
    districts = pd.DataFrame(
        [d.model_dump() for d in scn.districts], columns=DISTRICTS.column_names
    )
    labs = pd.DataFrame([lab.model_dump() for lab in scn.labs], columns=LABS.column_names)
    labs["reactions_per_staff_shift"] = labs["reactions_per_staff_shift"].astype("Int64")
    out = {
        "districts": districts,
        "labs": labs,
        "prevalence": scn.prevalence,
        "demand": scn.demand,
        "deliveries": scn.deliveries,
    }
    if scn.travel is not None:
        out["travel"] = scn.travel
    for name in ("backlog", "lab_days"):  # absent is empty
        if len(getattr(scn, name)):
            out[name] = getattr(scn, name)
    # written only when the scenario has a supply network: absent is empty
    out.update({t.name: getattr(scn, t.name) for t in SUPPLY_TABLES if len(getattr(scn, t.name))})
    return out


def _settings_dict(scn: Scenario) -> dict:
    # TOML has no null: a setting left unset (a stream's name_vi) is left out
    return scn.settings.model_dump(mode="python", exclude_none=True)


def save_folder(
    scn: Scenario,
    folder: str | os.PathLike,
    *,
    force: bool = False,
    what: str = "--out",
    reads: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write scenario.toml and the CSV tables; the folder changes only when complete, and
    only labopt's files in it (``force``, ``reads``: see
    :func:`labopt.files.write_output_folder`)."""

    def settings(path: Path) -> None:
        with path.open("wb") as fh:
            tomli_w.dump(_settings_dict(scn), fh)

    files: dict[str, Writer] = {SETTINGS_FILE: settings}
    for name, df in _tables(scn).items():
        files[f"{name}.csv"] = (lambda frame: lambda path: write_csv(frame, path))(df)
    write_output_folder(folder, files, force=force, what=what, kind="scenario", reads=reads)
    return Path(folder)


def save_xlsx(
    scn: Scenario,
    path: str | os.PathLike,
    *,
    force: bool = False,
    what: str = "--out",
    reads: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write one workbook: sheets 'scenario' (key, value), 'streams' and one per table. An
    existing file is replaced only with ``force``."""
    settings = _settings_dict(scn)
    rows = [
        (f"{section}.{key}", _cell(value))
        for section in ("province", "policy", "transport", "expansion", "plan", "screening")
        for key, value in settings[section].items()
    ]
    sheets = {
        SETTINGS_SHEET: pd.DataFrame(rows, columns=["key", "value"]),
        STREAMS_SHEET: pd.DataFrame(settings["streams"], columns=STREAM_FIELDS),
        **_tables(scn),
    }
    return write_output_file(
        path, lambda tmp: write_xlsx(tmp, sheets), force=force, what=what, reads=reads
    )


def _cell(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def save_scenario(
    scn: Scenario,
    path: str | os.PathLike,
    *,
    force: bool = False,
    what: str = "--out",
    reads: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write to ``path``: an ``.xlsx`` workbook, or else a folder (``force``: see
    :func:`save_folder` and :func:`save_xlsx`)."""
    save = save_xlsx if str(path).lower().endswith(".xlsx") else save_folder
    return save(scn, path, force=force, what=what, reads=reads)
