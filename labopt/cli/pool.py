"""`labopt pool ...`: evaluate, optimize and simulate pooling designs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from labopt.cli.common import (
    Algorithm,
    Config,
    Json,
    console,
    fmt,
    parse_floats,
    parse_risks,
    print_json,
    reports_errors,
    scalar_or_list,
)
from labopt.pooling import (
    DilutionModel,
    OperatingCharacteristics,
    SearchConstraints,
    evaluate,
    optimize,
    simulate,
)
from labopt.pooling.assay import SEARCH_STAGES, SENSITIVITY, SPECIFICITY

app = typer.Typer(
    help="Pooling designs: operating characteristics, optimal designs, simulation.",
    no_args_is_help=True,
)

Prevalence = Annotated[
    str | None,
    typer.Option(
        "--prevalence", "-p", help="fraction positive, e.g. 0.01; comma-separated for several"
    ),
]
Risks = Annotated[
    str | None,
    typer.Option(
        "--risks", help="individual risks for ID2: '0.05*20,0.005*80' or a CSV with a 'risk' column"
    ),
]
Se = Annotated[str, typer.Option("--se", help="sensitivity: one value, or one per stage")]
Sp = Annotated[str, typer.Option("--sp", help="specificity: one value, or one per stage")]
Dilution = Annotated[
    bool,
    typer.Option(
        "--dilution/--no-dilution", help="lower pool sensitivity with pool size (Ct-shift model)"
    ),
]
CtMean = Annotated[float, typer.Option(help="dilution model: mean Ct of positives (cycles)")]
CtSd = Annotated[float, typer.Option(help="dilution model: sd of positives' Ct (cycles)")]
CtCutoff = Annotated[float, typer.Option(help="dilution model: Ct cut-off / limit of detection")]

_DEFAULT_DILUTION = DilutionModel()


def _dilution(on: bool, mean: float, sd: float, cutoff: float) -> DilutionModel | None:
    return DilutionModel(ct_mean=mean, ct_sd=sd, ct_cutoff=cutoff) if on else None


def _prevalence_and_risks(prevalence: str | None, risks: str | None):
    if risks is not None and prevalence is not None:
        raise ValueError("--prevalence/--risks: give one of them, not both")
    if risks is not None:
        return None, parse_risks(risks)
    if prevalence is None:
        raise ValueError("--prevalence: required (or --risks for ID2)")
    return scalar_or_list(parse_floats(prevalence, "--prevalence", fraction=True)), None


def _oc_table(rows: list[OperatingCharacteristics], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for col in (
        "prevalence",
        "algorithm",
        "config",
        "reactions/sample",
        "samples/reaction",
        "PSe",
        "PSp",
        "PPPV",
        "PNPV",
        "stages",
        "largest pool",
        "H(p)/ET",
    ):
        table.add_column(
            col, justify="left" if col in ("algorithm", "config") else "right", no_wrap=True
        )
    for oc in rows:
        et = float(oc.expected_tests_per_sample)
        table.add_row(
            fmt(float(oc.prevalence), 4),
            oc.algorithm,
            oc.config,
            fmt(et),
            f"{1 / et:.2f}",
            fmt(float(oc.sensitivity)),
            fmt(float(oc.specificity)),
            fmt(float(oc.ppv)),
            fmt(float(oc.npv)),
            str(oc.stages),
            str(oc.design.largest_pool),
            fmt(float(oc.efficiency), 3),
        )
    return table


@app.command("evaluate")
@reports_errors
def evaluate_cmd(
    algorithm: Algorithm,
    config: Config = "",
    prevalence: Prevalence = None,
    risks: Risks = None,
    se: Se = f"{SENSITIVITY:g}",
    sp: Sp = f"{SPECIFICITY:g}",
    dilution: Dilution = False,
    ct_mean: CtMean = _DEFAULT_DILUTION.ct_mean,
    ct_sd: CtSd = _DEFAULT_DILUTION.ct_sd,
    ct_cutoff: CtCutoff = _DEFAULT_DILUTION.ct_cutoff,
    bingroup2_compat: Annotated[
        bool, typer.Option(help="reproduce binGroup2 1.3.3's A2M specificity term")
    ] = False,
    json: Json = False,
) -> None:
    """Operating characteristics of one design: reactions per sample, PSe, PSp, PPPV, PNPV."""
    p, r = _prevalence_and_risks(prevalence, risks)
    oc = evaluate(
        algorithm,
        config,
        prevalence=p,
        risks=r,
        se=scalar_or_list(parse_floats(se, "--se", fraction=True)),
        sp=scalar_or_list(parse_floats(sp, "--sp", fraction=True)),
        dilution=_dilution(dilution, ct_mean, ct_sd, ct_cutoff),
        bingroup2_compat=bingroup2_compat,
    )
    rows = oc.split()
    if json:
        print_json(
            rows[0].to_dict() if len(rows) == 1 else {"results": [row.to_dict() for row in rows]}
        )
        return
    console.print(_oc_table(rows, f"{oc.algorithm} {oc.config}"))


@app.command("optimize")
@reports_errors
def optimize_cmd(
    algorithm: Algorithm = "auto",
    prevalence: Prevalence = None,
    risks: Risks = None,
    se: Se = f"{SENSITIVITY:g}",
    sp: Sp = f"{SPECIFICITY:g}",
    min_size: Annotated[
        int, typer.Option(help="smallest allowed largest pool (samples per reaction)")
    ] = 1,
    max_size: Annotated[
        int, typer.Option(help="largest pool the lab has validated (samples per reaction)")
    ] = 10,
    max_stages: Annotated[
        int, typer.Option(help="PCR rounds allowed (turnaround)")
    ] = SEARCH_STAGES,
    min_sensitivity: Annotated[
        float, typer.Option(help="lowest acceptable pooling sensitivity")
    ] = 0.0,
    min_specificity: Annotated[
        float, typer.Option(help="lowest acceptable pooling specificity")
    ] = 0.0,
    top: Annotated[int, typer.Option(help="length of the ranked list")] = 10,
    dilution: Dilution = False,
    ct_mean: CtMean = _DEFAULT_DILUTION.ct_mean,
    ct_sd: CtSd = _DEFAULT_DILUTION.ct_sd,
    ct_cutoff: CtCutoff = _DEFAULT_DILUTION.ct_cutoff,
    json: Json = False,
) -> None:
    """Lowest-cost designs (fewest reactions per sample) under the lab's limits."""
    p, r = _prevalence_and_risks(prevalence, risks)
    cons = SearchConstraints(
        min_size=min_size,
        max_size=max_size,
        max_stages=max_stages,
        min_sensitivity=min_sensitivity,
        min_specificity=min_specificity,
    )
    result = optimize(
        p,
        risks=r,
        algorithm=algorithm,
        se=scalar_or_list(parse_floats(se, "--se", fraction=True)),
        sp=scalar_or_list(parse_floats(sp, "--sp", fraction=True)),
        constraints=cons,
        top=top,
        dilution=_dilution(dilution, ct_mean, ct_sd, ct_cutoff),
    )
    results = result if isinstance(result, list) else [result]
    if json:
        print_json(
            results[0].to_dict()
            if len(results) == 1
            else {"results": [res.to_dict() for res in results]}
        )
    elif len(results) == 1:
        res = results[0]
        console.print(
            _oc_table(
                res.ranking,
                f"Best designs ({', '.join(res.algorithms)}): "
                f"{res.configurations_evaluated:,} configurations "
                f"in {res.search_seconds * 1000:.1f} ms",
            )
        )
    else:
        best = [res.best for res in results if res.best is not None]
        total = sum(res.configurations_evaluated for res in results)
        secs = sum(res.search_seconds for res in results)
        console.print(
            _oc_table(
                best,
                f"Optimal design by prevalence (pool size {min_size}.."
                f"{max_size}, at most {max_stages} stages): {total:,} "
                f"configurations in {secs * 1000:.1f} ms",
            )
        )
    for res in results:  # with --json the notes are in the object
        for note in [] if json else res.notes:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
    if any(res.best is None for res in results):
        raise typer.Exit(code=1)


@app.command("simulate")
@reports_errors
def simulate_cmd(
    algorithm: Algorithm,
    config: Config = "",
    prevalence: Prevalence = None,
    risks: Risks = None,
    se: Se = f"{SENSITIVITY:g}",
    sp: Sp = f"{SPECIFICITY:g}",
    samples: Annotated[int, typer.Option(help="samples to simulate")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="random seed (reproducible)")] = 0,
    dilution: Dilution = False,
    ct_mean: CtMean = _DEFAULT_DILUTION.ct_mean,
    ct_sd: CtSd = _DEFAULT_DILUTION.ct_sd,
    ct_cutoff: CtCutoff = _DEFAULT_DILUTION.ct_cutoff,
    json: Json = False,
) -> None:
    """Monte Carlo check of a design against its analytic operating characteristics."""
    p, r = _prevalence_and_risks(prevalence, risks)
    kw = {
        "prevalence": p,
        "risks": r,
        "se": scalar_or_list(parse_floats(se, "--se", fraction=True)),
        "sp": scalar_or_list(parse_floats(sp, "--sp", fraction=True)),
        "dilution": _dilution(dilution, ct_mean, ct_sd, ct_cutoff),
    }
    sim = simulate(algorithm, config, samples=samples, seed=seed, **kw)
    oc = evaluate(algorithm, config, **kw)
    z = sim.z_scores(oc)
    if json:
        print_json({"simulation": sim.to_dict(), "analytic": oc.to_dict(), "z": z})
        return
    table = Table(
        title=f"{sim.design}: {sim.samples:,} simulated samples, seed {seed}", title_justify="left"
    )
    for col in ("metric", "simulated", "std. error", "analytic", "z"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for m in sim.METRICS:
        e = getattr(sim, m)
        table.add_row(
            m, fmt(e.value, 5), fmt(e.se, 5), fmt(float(getattr(oc, m)), 5), f"{z[m]:+.2f}"
        )
    console.print(table)
