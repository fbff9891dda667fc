"""`labopt capacity`, `labopt synth` and `labopt scenario ...`: scenario files and capacity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from labopt.capacity import capacity_report, capacity_table
from labopt.cli.common import (
    Force,
    Json,
    NumberFormatOption,
    console,
    err_console,
    print_json,
    reports_errors,
    starting_point_folder,
)
from labopt.files import write_output_folder
from labopt.scenario import load_scenario, save_scenario
from labopt.scenario.schema import markdown
from labopt.scenario.synth import synthesize
from labopt.scenario.template import scenario_template
from labopt.schedule.data import check_plannable

app = typer.Typer(help="Scenario files: new, check, convert, document.", no_args_is_help=True)

ScenarioPath = Annotated[
    Path, typer.Argument(help="scenario folder (scenario.toml + CSV files) or .xlsx workbook")
]


@reports_errors
def capacity(
    scenario: ScenarioPath,
    day: Annotated[int, typer.Option("--day", help="day of the horizon (1 = start)")] = 1,
    json: Json = False,
    number_format: NumberFormatOption = None,
) -> None:
    """Per-lab capacity, province totals against the targets, binding limits, what it takes."""
    scn = load_scenario(scenario, number_format)
    report = capacity_report(scn, day)
    if json:
        print_json(report.to_dict())
        return
    df = capacity_table(report, scn)
    t = Table(
        title=f"{scn.province.name}: lab capacity on day {day} ({report.date}), reactions/day",
        title_justify="left",
    )
    for col in (
        "lab",
        "type",
        "status",
        "PCR",
        "extraction",
        "staff",
        "reagent",
        "capacity",
        "binding",
    ):
        t.add_column(
            col,
            justify="left" if col in ("lab", "type", "status", "binding") else "right",
            no_wrap=True,
        )
    for r in df.itertuples(index=False):
        style = "dim" if r.status == "standby" else None
        t.add_row(
            r.name,
            r.type,
            r.status,
            f"{r.pcr:,}",
            f"{r.extraction:,}",
            f"{r.staff:,}",
            f"{r.reagent:,}",
            f"{r.reactions:,}",
            r.binding,
            style=style,
        )
    console.print(t)
    prov = report.to_dict()["province"]
    ok = "[green]meets[/]" if report.meets_targets else "[red]does not meet[/]"
    console.print(
        f"Active labs: {prov['reactions_per_day']:,} reactions/day (standby labs: "
        f"{prov['standby_reactions_per_day']:,} more).\n"
        f"That is {prov['single_samples_per_day']:,} single samples/day, or "
        f"{prov['pooled_samples_per_day']:,} pooled samples/day at "
        f"{report.reactions_per_pooled_sample:.3f} reactions per pooled sample (each unit's "
        f"optimal design, retests included).\n"
        f"Targets: {report.single_target:,} single + {report.pooled_target:,} pooled a day need "
        f"{report.reactions_needed:,} reactions: the province {ok} them; after the single "
        f"target, {prov['pooled_samples_after_single_target']:,} pooled samples/day fit.",
        highlight=False,
    )
    for b in report.binding():
        console.print(
            f"Binding limit {b['limit']}: {len(b['labs'])} lab(s), "
            f"{b['reactions']:,} reactions/day",
            highlight=False,
        )
    for note in report.notes:
        console.print(f"note: {note}", highlight=False, markup=False, style="yellow")
    if report.expansion is not None:
        console.print("\n[bold]What it takes[/]")
        for line in report.expansion.reasoning():
            console.print(line, highlight=False, markup=False)


@reports_errors
def synth(
    districts: Annotated[int, typer.Option(help="number of units")] = 700,
    labs: Annotated[int, typer.Option(help="number of labs")] = 300,
    days: Annotated[int, typer.Option(help="days in the horizon")] = 7,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    candidates: Annotated[int, typer.Option(help="nearest labs each unit may send to")] = 15,
    out: Annotated[Path, typer.Option(help="output folder or .xlsx")] = Path("synth"),
    force: Force = False,
) -> None:
    """Write a reproducible synthetic scenario (made-up data) for scale tests."""
    scn = synthesize(districts, labs, days, seed, candidates)
    path = save_scenario(scn, out, force=force)
    travel = 0 if scn.travel is None else len(scn.travel)
    console.print(
        f"wrote {path}: {districts} units, {labs} labs, {days} days, "
        f"{len(scn.demand):,} demand rows, {travel:,} travel pairs",
        highlight=False,
    )


@app.command("new")
@reports_errors
def new(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="folder to write (new or empty)")],
    force: Force = False,
) -> None:
    """Write a new scenario folder to fill in: scenario.toml with every setting explained,
    the tables with their columns and one example unit, lab and stream (marked "replace with
    your own"), and a README.md. It passes `labopt scenario check` as written. A folder
    labopt wrote before is replaced only with --force (it may hold edits)."""
    starting_point_folder(folder, "DIR", force)
    files = write_output_folder(
        folder, scenario_template(), force=force, what="DIR", kind="scenario"
    )
    console.print(
        f"wrote {folder}/: {', '.join(sorted(f.name for f in files))}\n"
        f"Replace the example values with your own (README.md there says how), then run "
        f"`labopt scenario check {folder}`.",
        highlight=False,
        markup=False,
    )


@app.command("check")
@reports_errors
def check(scenario: ScenarioPath, number_format: NumberFormatOption = None) -> None:
    """Load and validate a scenario as `labopt plan` does; list every problem, or summarise
    it (with a warning when there is nothing to plan, and for each unit with samples and no
    lab within reach, which the plan leaves untested)."""
    scn = load_scenario(scenario, number_format)
    for warning in check_plannable(scn):
        err_console.print(f"warning: {warning}", style="yellow", highlight=False, markup=False)
    if scn.demand.empty:
        err_console.print(
            "warning: the demand table has no rows: a plan would have no samples to assign",
            style="yellow",
            highlight=False,
            markup=False,
        )
    elif int(scn.demand["samples"].sum()) == 0:
        err_console.print(
            "warning: every demand row has 0 samples: a plan would have no samples to assign",
            style="yellow",
            highlight=False,
            markup=False,
        )
    active = sum(lab.status == "active" for lab in scn.labs)
    console.print(
        f"{scenario}: OK - {scn.province.name}, {len(scn.districts)} units, "
        f"{len(scn.labs)} labs ({active} active), {scn.province.days} days from "
        f"{scn.province.start_date}, {int(scn.demand['samples'].sum()):,} samples "
        f"requested",
        highlight=False,
    )


@app.command("convert")
@reports_errors
def convert(
    source: ScenarioPath,
    target: Annotated[Path, typer.Argument(help="folder or .xlsx to write")],
    force: Force = False,
    number_format: NumberFormatOption = None,
) -> None:
    """Convert between a CSV folder and an XLSX workbook (same content; numbers are written
    in the en format)."""
    scn = load_scenario(source, number_format)
    written = save_scenario(scn, target, force=force, what="TARGET", reads=[source])
    console.print(f"wrote {written}", highlight=False)


@app.command("schema")
def schema() -> None:
    """Print the column reference of every scenario table (Markdown)."""
    typer.echo(markdown(), nl=False)
