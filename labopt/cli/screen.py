"""`labopt screen ...`: how many samples a screening round needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from labopt.cells import write_csv, write_xlsx
from labopt.cli.common import (
    Force,
    Json,
    NumberFormatOption,
    console,
    err_console,
    fitted_table,
    parse_date_option,
    print_json,
    reports_errors,
)
from labopt.errors import InputError
from labopt.files import write_output_file
from labopt.notes import note_text
from labopt.numbers import NumberFormat, number_text
from labopt.numbers import number_format as _format
from labopt.scenario import load_scenario
from labopt.scenario.io import declared_number_format
from labopt.schedule.labels import check_lang
from labopt.screening import DEFAULT_SE, DEFAULT_SP, DEFAULT_SPECIFICITY
from labopt.screening.districts import ONE_PLACE, read_groups, rounds_on, rounds_table
from labopt.screening.precision import size_for_estimate
from labopt.screening.risk import RiskBasedSize, size_round
from labopt.screening.words import area, say

GroupsNumberFormat = Annotated[
    str | None,
    typer.Option(
        "--number-format",
        help="how numbers written as text in the groups file are read: en (1,234.5; the "
        "default) or vi (1.234,5); a share may be a percentage (10%)",
    ),
]


def parse_format(name: str | None) -> NumberFormat:
    """The number format an option names, an unknown one refused naming --number-format."""
    try:
        return _format(name)
    except InputError as exc:
        why = str(exc).split(": ", 1)[-1]
        raise InputError(f"--number-format: {why}", "--number-format") from None


Lang = Annotated[str, typer.Option(help="table labels: en or vi")]


app = typer.Typer(
    help="Screening: the samples and pools a round needs to detect infection.",
    no_args_is_help=True,
)


@contextmanager
def _options() -> Iterator[None]:
    """An InputError of the library named by its option (target_sensitivity: the option
    --target-sensitivity)."""
    try:
        yield
    except InputError as exc:
        name = exc.parameter or ""
        flag = "--" + name.replace("_", "-")
        if name and str(exc).startswith(f"{name}:"):
            raise InputError(flag + str(exc)[len(name) :], flag) from None
        raise


@app.command("size")
@reports_errors
def size(
    design_prevalence: Annotated[
        float,
        typer.Option(
            "--design-prevalence",
            help="the prevalence to detect if present, a fraction (0.01: 1 in 100)",
        ),
    ],
    target_sensitivity: Annotated[
        float,
        typer.Option(
            "--target-sensitivity",
            help="probability of flagging the population if it is infected at that prevalence",
        ),
    ] = 0.95,
    pool_size: Annotated[
        int, typer.Option("--pool-size", help="samples per pool (1: tested one by one)")
    ] = 1,
    se: Annotated[
        float, typer.Option("--se", help="sensitivity of one test of a pool")
    ] = DEFAULT_SE,
    sp: Annotated[
        float, typer.Option("--sp", help="specificity of one test of a pool")
    ] = DEFAULT_SP,
    population: Annotated[
        int | None,
        typer.Option("--population", help="people to sample from (default: many)"),
    ] = None,
    target_specificity: Annotated[
        float,
        typer.Option(
            "--target-specificity",
            help="with sp < 1: probability of not flagging a population with no infection",
        ),
    ] = DEFAULT_SPECIFICITY,
    groups: Annotated[
        Path | None,
        typer.Option(
            "--groups",
            help="CSV or XLSX of the place's risk groups (group, relative_risk, share, at_least, "
            "available): the fewest pools, riskiest groups first",
        ),
    ] = None,
    json: Json = False,
    number_format: GroupsNumberFormat = None,
    lang: Lang = "en",
) -> None:
    """The fewest samples (and pools) that flag a population infected at the design prevalence
    with the target sensitivity; with sp < 1, the number of positive pools that flags it."""
    check_lang(lang)
    fmt = parse_format(number_format)
    with _options():
        got = size_round(
            target_sensitivity,
            design_prevalence,
            groups=None if groups is None else read_groups(groups, fmt=fmt)[ONE_PLACE],
            population=population,
            pool_size=pool_size,
            se=se,
            sp=sp,
            target_specificity=target_specificity,
        )
    if json:
        print_json(got.to_dict())
        return
    _print_size(got, lang)
    if isinstance(got, RiskBasedSize):
        rows = [
            [
                x.group,
                number_text(x.relative_risk, lang, "g"),
                number_text(x.share, lang, "g"),
                number_text(x.effective_prevalence, lang, ".4g"),
                number_text(x.samples, lang),
                number_text(x.pools, lang),
            ]
            for x in got.groups
        ]
        headings = say("group_columns", lang).split("|")
        title = say("groups_title", lang)
        console.print(fitted_table(headings, rows, title=title, left=(0,)), crop=False)


def _print_size(got, lang: str = "en") -> None:
    t = Table(title=say("detection_title", lang), title_justify="left", show_header=False)
    t.add_row(say("samples", lang), number_text(got.samples, lang))
    t.add_row(say("pools", lang), say("pools_of", lang, pools=got.pools, size=got.pool_size))
    t.add_row(say("flagged_at", lang), say("flagged", lang, cutoff=got.positive_pools_cutoff))
    t.add_row(
        say("population_sensitivity", lang),
        number_text(got.population_sensitivity, lang, ".4f"),
    )
    t.add_row(
        say("population_specificity", lang),
        number_text(got.population_specificity, lang, ".4f"),
    )
    t.add_row(say("method", lang), note_text(got.method, lang))
    console.print(t)


@app.command("precision")
@reports_errors
def precision(
    prevalence: Annotated[
        float, typer.Option("--prevalence", help="the prevalence expected, a fraction")
    ],
    precision: Annotated[
        float,
        typer.Option(
            "--precision", help="half the confidence interval's width, a fraction (or a share)"
        ),
    ],
    relative: Annotated[
        bool, typer.Option("--relative", help="--precision is a share of the prevalence")
    ] = False,
    confidence: Annotated[float, typer.Option("--confidence", help="confidence level")] = 0.95,
    pool_size: Annotated[
        int | None,
        typer.Option("--pool-size", help="samples per pool (default: the one needing fewest)"),
    ] = None,
    max_pool_size: Annotated[
        int, typer.Option("--max-pool-size", help="the largest pool the lab allows")
    ] = 32,
    se: Annotated[
        float, typer.Option("--se", help="sensitivity of one test of a pool")
    ] = DEFAULT_SE,
    sp: Annotated[
        float, typer.Option("--sp", help="specificity of one test of a pool")
    ] = DEFAULT_SP,
    json: Json = False,
    lang: Lang = "en",
) -> None:
    """The samples and first-stage pools (reactions) that estimate a prevalence within
    ±precision at the confidence level, with the lab workflow's estimator; without
    --pool-size, the pool size needing the fewest reactions."""
    check_lang(lang)
    with _options():
        got = size_for_estimate(
            prevalence,
            precision,
            relative=relative,
            confidence=confidence,
            pool_size=pool_size,
            max_pool_size=max_pool_size,
            se=se,
            sp=sp,
        )
    if json:
        print_json(got.to_dict())
        return
    t = Table(title=say("estimate_title", lang), title_justify="left", show_header=False)
    t.add_row(say("samples", lang), number_text(got.samples, lang))
    t.add_row(
        say("pools_reactions", lang), say("pools_of", lang, pools=got.pools, size=got.pool_size)
    )
    t.add_row(say("precision", lang), say("half_width", lang, half_width=got.half_width))
    t.add_row(say("pool_positive", lang), number_text(got.pool_positive, lang, ".4f"))
    console.print(t)


@app.command("allocate")
@reports_errors
def allocate(
    scenario: Annotated[
        Path, typer.Argument(help="scenario folder (scenario.toml + CSV files) or .xlsx workbook")
    ],
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="a date of the scenario's horizon, YYYY-MM-DD (with --lang vi also "
            "DD/MM/YYYY; default: day 1)",
        ),
    ] = None,
    groups: Annotated[
        Path | None,
        typer.Option(
            "--groups",
            help="CSV or XLSX of risk groups (district, group, relative_risk, share, "
            "available, at_least; text numbers in the scenario's number format, a share may "
            "be 10%); a unit not listed is one group",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="write the table to this .csv or .xlsx file")
    ] = None,
    force: Force = False,
    json: Json = False,
    number_format: NumberFormatOption = None,
    lang: Lang = "en",
) -> None:
    """Each unit's screening round on a day: the samples and pools that detect infection at
    the design prevalence of its epidemic level and area type ([screening] settings) with
    its target sensitivity, against the screening the demand asks."""
    check_lang(lang)
    when = None if date is None else parse_date_option(date, lang=lang)
    if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"--out: a .csv or .xlsx file, got {out.name!r}", "--out")
    scn = load_scenario(scenario, number_format)
    by_unit = (
        None
        if groups is None
        else read_groups(
            groups,
            [d.code for d in scn.districts],
            fmt=parse_format(number_format or declared_number_format(scenario)),
        )
    )
    rounds = rounds_on(scn, when, by_unit, "--date")
    table = rounds_table(rounds)
    if out is not None:
        writer = (
            (lambda tmp: write_xlsx(tmp, {"screening": table}))
            if out.suffix.lower() == ".xlsx"
            else (lambda tmp: write_csv(table, tmp))
        )
        write_output_file(
            out, writer, force=force, what="--out", reads=[scenario, *([groups] if groups else [])]
        )
        err_console.print(say("wrote", lang, out=out), markup=False)
    if json:
        print_json(
            {
                "date": (when or scn.province.start_date).isoformat(),
                "units": [r.to_dict() for r in rounds],
            }
        )
        return
    day = when or scn.province.start_date
    title = say("rounds_title", lang, province=scn.province.name, date=day)
    rows = [
        [
            r.name,
            str(r.epidemic_level),
            area(r.area_type, lang),
            number_text(r.design_prevalence, lang, ".2%"),
            number_text(r.target_sensitivity, lang, ".0%"),
            number_text(r.samples, lang),
            say("pools_of", lang, pools=r.pools, size=r.pool_size),
            number_text(r.positive_pools_cutoff, lang),
            number_text(r.population_sensitivity, lang, ".3f"),
            number_text(r.asked, lang),
        ]
        for r in rounds
    ]
    headings = say("round_columns", lang).split("|")
    # a narrow terminal drops the target (the level sets it) rather than cut a figure
    table = fitted_table(headings, rows, title=title, left=(0, 2), optional=(4,))
    console.print(table, crop=False)
    totals = {
        "samples": sum(r.samples for r in rounds),
        "pools": sum(r.pools for r in rounds),
        "asked": sum(r.asked for r in rounds),
    }
    console.print(say("totals", lang, **totals), markup=False)
    for r in rounds:
        if r.note:
            note = note_text(r.note, lang)
            console.print(say("unit_note", lang, unit=r.name, note=note), markup=False)
