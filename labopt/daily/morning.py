"""The morning's plan: the state the records carry to a date, the look-ahead scenario from it,
the plan, and its files (the plan's tables and charts, the dispatch sheets and ``planned.csv``)
in the workspace's ``plans/DATE/``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from labopt.cells import write_csv
from labopt.daily.history import PLANNED, planned_table
from labopt.daily.records import Records
from labopt.daily.sheets import dispatch_tables, write_dispatch_html, write_dispatch_xlsx
from labopt.daily.state import carry_to, day_scenario, forecast_count, last_record
from labopt.daily.workspace import Workspace
from labopt.errors import InputError
from labopt.scenario.model import Scenario
from labopt.schedule.labels import check_lang
from labopt.schedule.output import write_outputs
from labopt.schedule.pipeline import Progress, plan_scenario
from labopt.schedule.report import PlanReport

MAX_DAYS = 60
# a plan's date at most this many days after the last record: the state would be carried over
# days of which nothing is known (a mistyped year would carry it for years)
MAX_GAP_DAYS = 31


@dataclass
class DayPlan:
    """A morning's plan: the report (its notes begin with the carried days' notes), the
    samples waiting at the start of the day, and the unit-stream-days of demand forecast (no
    record yet)."""

    date: dt.date
    report: PlanReport
    waiting_at_start: int
    forecast: int


@dataclass
class Morning(DayPlan):
    """A morning's plan of a workspace, with the files written."""

    files: list[Path] = field(default_factory=list)


def check_window(first: dt.date, records: Records, date: dt.date, days: int) -> None:
    """InputError unless ``days`` is within 1..MAX_DAYS and ``date`` is neither before the
    loop's first date nor more than MAX_GAP_DAYS after the labs' last record (tested or
    reagent; the first date without one)."""
    if not 1 <= days <= MAX_DAYS:
        raise InputError(f"days: between 1 and {MAX_DAYS}, got {days}", "days")
    if date < first:
        raise InputError(
            f"date: {date} is before the first date of the daily loop, {first}", "date"
        )
    # what the labs tested and ran is what carries the state: samples collected on later
    # dates (units' forecasts, a mistyped year) do not make the days between them known
    last = last_record(records, ("tested", "reagent")) or first
    if (date - last).days > MAX_GAP_DAYS:
        raise InputError(
            f"date: {date} is {(date - last).days} days after the labs' last record ({last}); "
            f"the state would be carried over days of which nothing is known. Record those "
            f"days first, or check the date",
            "date",
        )


def plan_day(
    province: Scenario,
    records: Records,
    date: dt.date,
    days: int = 7,
    progress: Progress | None = None,
    deadline: float | None = None,
) -> DayPlan:
    """Plan ``days`` days from ``date`` from the state the records carry to it (``province``:
    the static part, its start date the loop's first date)."""
    check_window(province.province.start_date, records, date, days)
    carried = carry_to(province, records, date)
    scn = day_scenario(carried.scenario, records, date, days)
    report = plan_scenario(scn, progress=progress, deadline=deadline)
    report.plan.notes = carried.notes + report.plan.notes
    return DayPlan(
        date, report, int(scn.backlog["samples"].sum()), forecast_count(scn, records, date)
    )


def plan_morning(
    ws: Workspace, date: dt.date, days: int = 7, lang: str = "en", write: bool = True
) -> Morning:
    """Plan ``days`` days from ``date`` from the workspace's records; with ``write``, the
    files go to ``plans/DATE/`` (a plan for that date made again replaces them)."""
    check_lang(lang)
    day = plan_day(ws.province, ws.records(), date, days)
    report = day.report
    files: list[Path] = []
    if write:
        sheets = dispatch_tables(report)
        name = ws.province.province.name
        files = write_outputs(
            report,
            ws.path / "plans" / date.isoformat(),
            lang,
            extra={
                "dispatch.xlsx": lambda p: write_dispatch_xlsx(sheets, p, lang),
                "dispatch.html": lambda p: write_dispatch_html(sheets, name, date, p, lang),
                PLANNED: lambda p: write_csv(planned_table(report), p),
            },
        )
    return Morning(date, report, day.waiting_at_start, day.forecast, files)
