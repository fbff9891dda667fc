"""`labopt capacity`, `labopt synth` and `labopt scenario ...`: scenario files and capacity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labopt.capacity import capacity_report, capacity_table
from labopt.capacity.words import code, say
from labopt.cli.common import (
    Force,
    Json,
    NumberFormatOption,
    console,
    err_console,
    fitted_table,
    print_json,
    reports_errors,
    starting_point_folder,
)
from labopt.files import write_output_folder
from labopt.notes import note_text
from labopt.numbers import date_text, fill, number_text
from labopt.scenario import load_scenario, save_scenario
from labopt.scenario.schema import markdown
from labopt.scenario.synth import synthesize
from labopt.scenario.template import scenario_template
from labopt.schedule.data import check_plannable
from labopt.schedule.labels import check_lang

app = typer.Typer(help="Scenario files: new, check, convert, document.", no_args_is_help=True)

# `labopt scenario check --lang`: its summary and warnings (the other scenario commands write
# and name files whose columns and settings are English keys, and speak English)
CHECK_TEXT = {
    "en": {
        "warning": "warning",
        "no_rows": "the demand table has no rows: a plan would have no samples to assign",
        "no_samples": "every demand row has 0 samples: a plan would have no samples to assign",
        "ok": "{scenario}: OK - {province}, {units:,|unit|units}, {labs:,|lab|labs} ({active:,} "
        "active), "
        "{days:|day|days} from {start}, {samples:,|sample|samples} requested",
    },
    "vi": {
        "warning": "cảnh báo",
        "no_rows": "bảng nhu cầu không có dòng nào: kế hoạch sẽ không có mẫu nào để phân bổ",
        "no_samples": "mọi dòng của bảng nhu cầu đều có 0 mẫu: kế hoạch sẽ không có "
        "mẫu nào để phân bổ",
        "ok": "{scenario}: hợp lệ - {province}, {units:,} địa phương, {labs:,} phòng xét "
        "nghiệm ({active:,} đang hoạt động), {days} ngày từ {start}, {samples:,} mẫu được "
        "yêu cầu",
    },
}

ScenarioPath = Annotated[
    Path, typer.Argument(help="scenario folder (scenario.toml + CSV files) or .xlsx workbook")
]


@reports_errors
def capacity(
    scenario: ScenarioPath,
    day: Annotated[int, typer.Option("--day", help="day of the horizon (1 = start)")] = 1,
    json: Json = False,
    lang: Annotated[str, typer.Option(help="report labels: en or vi")] = "en",
    number_format: NumberFormatOption = None,
) -> None:
    """Per-lab capacity, province totals against the targets, binding limits, what it takes."""
    check_lang(lang)
    scn = load_scenario(scenario, number_format)
    report = capacity_report(scn, day)
    if json:
        print_json(report.to_dict())
        return
    df = capacity_table(report, scn)
    date = date_text(report.date, lang)
    rows, styles = [], []
    for r in df.itertuples(index=False):
        figures = (r.pcr, r.extraction, r.staff, r.reagent, r.reactions)
        rows.append(
            [
                r.name,
                code(r.type, lang),
                code(r.status, lang),
                *(number_text(n, lang) for n in figures),
                code(r.binding, lang),
            ]
        )
        styles.append("dim" if r.status == "standby" else None)
    title = say("title", lang, province=scn.province.name, day=day, date=date)
    headings = say("columns", lang).split("|")
    console.print(
        fitted_table(headings, rows, title=title, left=(0, 1, 2, 8), optional=(1,), styles=styles),
        crop=False,
    )
    prov = report.to_dict()["province"]
    verdict = say("meets" if report.meets_targets else "misses", lang)
    console.print(
        say(
            "totals",
            lang,
            reactions=prov["reactions_per_day"],
            standby=prov["standby_reactions_per_day"],
            single=prov["single_samples_per_day"],
            pooled=prov["pooled_samples_per_day"],
            per_pooled=report.reactions_per_pooled_sample,
            single_target=report.single_target,
            pooled_target=report.pooled_target,
            needed=report.reactions_needed,
            verdict=verdict,
            after=prov["pooled_samples_after_single_target"],
        ),
        highlight=False,
        style="green" if report.meets_targets else None,
    )
    for b in report.binding():
        limit = code(b["limit"], lang)
        fields = {"limit": limit, "labs": len(b["labs"]), "reactions": b["reactions"]}
        console.print(say("binding", lang, **fields), highlight=False)
    for note in report.notes_in(lang):
        console.print(f"{say('note', lang)}: {note}", highlight=False, markup=False, style="yellow")
    if report.expansion is not None:
        console.print(f"\n[bold]{say('what_it_takes', lang)}[/]")
        for line in report.expansion.reasoning(lang):
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
def check(
    scenario: ScenarioPath,
    number_format: NumberFormatOption = None,
    lang: Annotated[str, typer.Option(help="summary and warnings: en or vi")] = "en",
) -> None:
    """Load and validate a scenario as `labopt plan` does; list every problem, or summarise
    it (with a warning when there is nothing to plan, and for each unit with samples and no
    lab within reach, which the plan leaves untested)."""
    check_lang(lang)
    text = CHECK_TEXT[lang]
    scn = load_scenario(scenario, number_format)
    warnings = [note_text(w, lang) for w in check_plannable(scn)]
    if scn.demand.empty:
        warnings.append(text["no_rows"])
    elif int(scn.demand["samples"].sum()) == 0:
        warnings.append(text["no_samples"])
    for warning in warnings:
        err_console.print(
            f"{text['warning']}: {warning}", style="yellow", highlight=False, markup=False
        )
    summary = fill(
        text["ok"],
        lang,
        scenario=str(scenario),
        province=scn.province.name,
        units=len(scn.districts),
        labs=len(scn.labs),
        active=sum(lab.status == "active" for lab in scn.labs),
        days=scn.province.days,
        start=scn.province.start_date,
        samples=int(scn.demand["samples"].sum()),
    )
    console.print(summary, highlight=False, markup=False)


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
