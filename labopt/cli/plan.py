"""`labopt plan`: the main job. Assign every unit's samples to labs, day by day."""

from __future__ import annotations

import gc
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.status import Status
from rich.text import Text

from labopt.cli.common import (
    Force,
    Json,
    NumberFormatOption,
    console,
    err_console,
    fitted_table,
    print_json,
    reports_errors,
)
from labopt.files import check_output_file
from labopt.numbers import fill
from labopt.scenario import load_scenario
from labopt.schedule import independent_check, plan_scenario
from labopt.schedule.check import CheckReport
from labopt.schedule.compare import compare_with_greedy
from labopt.schedule.labels import check_lang, stage_text, summary_texts
from labopt.schedule.notes import NOTES, note_text
from labopt.schedule.output import write_outputs
from labopt.schedule.page import write_page
from labopt.schedule.summary import (
    COLUMNS,
    TEXT,
    day_rows,
    solver_line,
    stream_columns,
    stream_rows,
    title,
)

# the shortfall report's first lines (the most pressing: reagent run-outs, then the days)
SHORTFALL_LINES = 20


@reports_errors
def plan(
    scenario: Annotated[
        Path, typer.Argument(help="scenario folder (scenario.toml + CSV files) or .xlsx workbook")
    ],
    days: Annotated[
        int | None, typer.Option(help="days to plan (default: the scenario's horizon)")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="write CSV, XLSX, PNG charts and summary.json into this folder"),
    ] = None,
    json: Json = False,
    lang: Annotated[str, typer.Option(help="report labels: en or vi")] = "en",
    method: Annotated[
        str | None,
        typer.Option(help="auto (default), network, lp, or greedy (the by-hand baseline)"),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option(
            help="also run the greedy baseline and, with supply routes, the plan without "
            "shipments, and report the differences"
        ),
    ] = False,
    page: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="also write the one-page report (HTML: summary, shortfall, charts, day 1's "
            "dispatch; opens offline, prints on A4) to this file",
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="also print the solver's steps (its pricing rounds) on stderr"
        ),
    ] = False,
    force: Force = False,
    number_format: NumberFormatOption = None,
) -> None:
    """Plan the week: which pooling design and which lab for every unit, stream and day."""
    check_lang(lang)
    if page is not None:  # refused before any planning, not after the folder is written
        beside = [out] if out is not None else []
        check_output_file(page, force=force, what="--report", reads=[scenario], beside=beside)
    with _progress(shown=not json, lang=lang) as status:

        def say(msg: str) -> None:
            if status is not None:
                status.update(f"[bold]{stage_text(msg, lang)}...")

        # the solver's steps, as they come, for those who asked (stderr: stdout stays clean)
        detail = None
        if verbose:

            def detail(msg: str) -> None:
                err_console.print(note_text(msg, lang), highlight=False, markup=False)

        say("loading the scenario")
        scn = load_scenario(scenario, number_format)
        # with --out, the independent check runs while children write the workbook and charts
        report = plan_scenario(
            scn, days, method=method, progress=say, detail=detail, check=out is None
        )
        comparison = compare_with_greedy(scn, report) if compare else None
        files = []
        if out is not None:
            say("writing tables and charts; independent check")
            # the plan's objects live until the command ends: keep the collector from scanning
            # them again and again while the workbook's hundreds of thousands of cells are made
            gc.freeze()

            def check() -> None:
                report.check = independent_check(report)

            files = write_outputs(report, out, lang, force=force, reads=[scenario], meanwhile=check)
        if page is not None:
            say("writing the one-page report")
            written = write_page(report, page, lang, force=force, reads=[scenario])
    if json:
        data = report.to_dict(lang)
        if comparison is not None:
            data["baseline"] = comparison
        if out is not None:
            data["files"] = [str(f) for f in files]
        if page is not None:
            data["report"] = str(written)
        print_json(data)
    else:
        print_summary(report, lang, comparison)
        if out is not None:
            console.print(fill(TEXT[lang]["wrote"], lang, n=len(files), out=out), highlight=False)
        if page is not None:
            console.print(fill(TEXT[lang]["wrote_report"], lang, path=written), highlight=False)
    if isinstance(report.check, CheckReport) and not report.check.ok:
        raise typer.Exit(code=3)


def _progress(shown: bool, lang: str) -> AbstractContextManager[Status | None]:
    """A spinner on stderr naming the current step (none with --json: nothing but the object)."""
    if not shown:
        return nullcontext()
    return Console(stderr=True).status(f"[bold]{stage_text('starting', lang)}...", spinner="dots")


def print_summary(rep, lang: str, comparison=None) -> None:
    t = TEXT[lang]
    plan = rep.plan
    console.print(title(rep, lang), style="bold", highlight=False)
    console.print(solver_line(rep, lang), highlight=False)
    rows = []
    for row in day_rows(rep, lang):
        cells = [Text(c) for c in row.cells]
        for i, met in ((2, row.single_met), (3, row.pooled_met)):  # the tested figure
            cells[i].stylize("green" if met else "red", 0, cells[i].plain.index(" /"))
        rows.append(cells)
    last = len(COLUMNS[lang]) - 1
    console.print(fitted_table(COLUMNS[lang], rows, left=(0, 1, last), whole=(0, 1)), crop=False)
    console.print(
        fitted_table(
            stream_columns(rep, lang), stream_rows(rep, lang), title=t["totals"], left=(0,)
        ),
        crop=False,
    )
    console.print(
        t["meets"] if rep.meets_targets else t["misses"],
        highlight=False,
        style="green" if rep.meets_targets else "yellow",
    )
    if not rep.shipments.empty:
        console.print(
            fill(
                t["shipments"],
                lang,
                n=len(rep.shipments),
                reactions=int(rep.shipments["reactions"].sum()),
            ),
            highlight=False,
        )
    if "not_collected" in rep.status.columns:
        console.print(
            fill(
                t["kit_shipments"],
                lang,
                n=len(rep.kit_shipments),
                kits=int(rep.kit_shipments["kits"].sum()),
                lost=int(rep.status["not_collected"].sum()),
            ),
            highlight=False,
        )
    if rep.screening_comparison is not None:
        sc = rep.screening_comparison
        by, fixed = sc["by_risk"], sc["demand_as_given"]
        console.print(
            fill(
                t["screening"],
                lang,
                collect=sc["collect"],
                could=sc["could_collect"],
                tested=by["samples_tested"],
                reactions=by["reactions"],
                found=by["infections_expected"],
                found0=fixed["infections_expected"],
                reactions0=fixed["reactions"],
            ),
            highlight=False,
        )
    texts = summary_texts(rep.shortfall, lang)
    if texts:
        console.print(f"\n[bold]{t['shortfall']}[/]")
        for line in texts[:SHORTFALL_LINES]:
            console.print(f"  - {line}", highlight=False, markup=False)
        if len(texts) > SHORTFALL_LINES:
            console.print(fill(t["more"], lang, n=len(texts) - SHORTFALL_LINES), highlight=False)
    for note in plan.notes:
        said = f"{NOTES[lang]['note']}: {note_text(note, lang)}"
        console.print(said, style="yellow", highlight=False, markup=False)
    if comparison is not None:
        console.print("\n" + comparison["text"][lang], highlight=False, markup=False)
    if rep.check is not None:
        c = rep.check
        if c.ok:
            console.print(
                fill(
                    t["check_ok"],
                    lang,
                    allocations=c.checked["allocations"],
                    rows=c.checked["status_rows"],
                    labdays=c.checked["lab_days"],
                ),
                style="green",
                highlight=False,
            )
        else:
            console.print(fill(t["check_bad"], lang, n=len(c.violations)), style="bold red")
            for v in c.violations[:10]:
                console.print(f"  - {v}", highlight=False, markup=False)
