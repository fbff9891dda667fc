"""`labopt screen ...`: how many samples a screening round needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from labopt.cli.common import Json, console, print_json, reports_errors
from labopt.errors import InputError
from labopt.screening import DEFAULT_SE, DEFAULT_SP, DEFAULT_SPECIFICITY, size_for_detection
from labopt.screening.precision import size_for_estimate

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
    json: Json = False,
) -> None:
    """The fewest samples (and pools) that flag a population infected at the design prevalence
    with the target sensitivity; with sp < 1, the number of positive pools that flags it."""
    with _options():
        got = size_for_detection(
            target_sensitivity,
            design_prevalence,
            pool_size=pool_size,
            se=se,
            sp=sp,
            population=population,
            target_specificity=target_specificity,
        )
    if json:
        print_json(got.to_dict())
        return
    t = Table(title="Screening round for detection", title_justify="left", show_header=False)
    t.add_row("samples", f"{got.samples:,}")
    t.add_row("pools", f"{got.pools:,} of {got.pool_size}")
    t.add_row("flagged at", f"{got.positive_pools_cutoff:,} positive pool(s) or more")
    t.add_row("population sensitivity", f"{got.population_sensitivity:.4f}")
    t.add_row("population specificity", f"{got.population_specificity:.4f}")
    t.add_row("method", got.method)
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
) -> None:
    """The samples and first-stage pools (reactions) that estimate a prevalence within
    ±precision at the confidence level, with the lab workflow's estimator; without
    --pool-size, the pool size needing the fewest reactions."""
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
    t = Table(title="Screening round for an estimate", title_justify="left", show_header=False)
    t.add_row("samples", f"{got.samples:,}")
    t.add_row("pools (reactions)", f"{got.pools:,} of {got.pool_size}")
    t.add_row("precision", f"± {got.half_width:.4g}")
    t.add_row("a pool positive with probability", f"{got.pool_positive:.4f}")
    console.print(t)
