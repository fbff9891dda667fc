"""`labopt pool ...`: evaluate, optimize and simulate pooling designs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from labopt.cli.common import (
    Algorithm,
    Config,
    Force,
    Json,
    console,
    err_console,
    fitted_table,
    parse_floats,
    parse_risks,
    print_json,
    reports_errors,
    scalar_or_list,
)
from labopt.errors import InputError
from labopt.files import check_output_file, write_output_file
from labopt.notes import note_text
from labopt.numbers import number_text
from labopt.pooling import (
    DilutionModel,
    OperatingCharacteristics,
    SearchConstraints,
    evaluate,
    optimize,
    simulate,
)
from labopt.pooling.assay import SEARCH_STAGES, SENSITIVITY, SPECIFICITY
from labopt.pooling.frontier import MAX_STAGES, draw_frontier, efficiency, frontier
from labopt.pooling.multiplex import evaluate_multiplex, joint_from_text
from labopt.pooling.multiplex_search import optimize_multiplex
from labopt.pooling.words import metric, say
from labopt.schedule.labels import check_lang

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
        "--risks",
        help="individual risks for ID2, ID3, ID4 and IA2: '0.05*20,0.005*80' or a CSV with a "
        "'risk' column",
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
Lang = Annotated[str, typer.Option(help="table labels and notes: en or vi")]
Joint = Annotated[
    str | None,
    typer.Option(
        "--joint",
        help="a two-disease (multiplex) assay: each sample's probabilities of neither disease, "
        "disease 1 only, disease 2 only, both, e.g. 0.95,0.02,0.02,0.01 (hierarchical designs)",
    ),
]
Se2 = Annotated[
    str | None, typer.Option("--se2", help="with --joint: disease 2's sensitivity (default: --se)")
]
Sp2 = Annotated[
    str | None, typer.Option("--sp2", help="with --joint: disease 2's specificity (default: --sp)")
]

_DEFAULT_DILUTION = DilutionModel()


def _dilution(on: bool, mean: float, sd: float, cutoff: float) -> DilutionModel | None:
    return DilutionModel(ct_mean=mean, ct_sd=sd, ct_cutoff=cutoff) if on else None


def _prevalence_and_risks(prevalence: str | None, risks: str | None):
    if risks is not None and prevalence is not None:
        raise ValueError("--prevalence/--risks: give one of them, not both")
    if risks is not None:
        return None, parse_risks(risks)
    if prevalence is None:
        raise ValueError("--prevalence: required (or --risks for ID2, ID3, ID4, IA2)")
    return scalar_or_list(parse_floats(prevalence, "--prevalence", fraction=True)), None


def _oc_table(rows: list[OperatingCharacteristics], title: str, lang: str = "en") -> Table:
    """The designs' operating characteristics, one row each; narrow terminals drop the
    columns others imply (samples per reaction, largest pool, H(p)/ET) rather than cut one."""

    def n(x: float, digits: int = 4) -> str:
        return "—" if math.isnan(x) else number_text(x, lang, f".{digits}f")

    body = []
    for oc in rows:
        et = float(oc.expected_tests_per_sample)
        body.append(
            [
                n(float(oc.prevalence)),
                oc.algorithm,
                oc.config,
                n(et),
                n(1 / et, 2),
                *(n(float(getattr(oc, m))) for m in ("sensitivity", "specificity", "ppv", "npv")),
                str(oc.stages),
                str(oc.design.largest_pool),
                n(float(oc.efficiency), 3),
            ]
        )
    headings = say("columns", lang).split("|")
    return fitted_table(headings, body, title=title, left=(1, 2), optional=(4, 10, 11))


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
    joint: Joint = None,
    se2: Se2 = None,
    sp2: Sp2 = None,
    json: Json = False,
    lang: Lang = "en",
) -> None:
    """Operating characteristics of one design: reactions per sample, PSe, PSp, PPPV, PNPV;
    with --joint, of a two-disease assay (each disease's accuracy)."""
    check_lang(lang)
    if joint is not None:
        if prevalence is not None or risks is not None or dilution or bingroup2_compat:
            raise InputError(
                "--joint: gives the samples' probabilities itself; leave out --prevalence, "
                "--risks, --dilution and --bingroup2-compat",
                "joint",
            )
        _multiplex(algorithm, config, joint, (se, se2), (sp, sp2), json, lang)
        return
    if se2 is not None or sp2 is not None:
        raise InputError("--se2/--sp2: only with --joint (a two-disease assay)", "se2")
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
    console.print(_oc_table(rows, f"{oc.algorithm} {oc.config}", lang), crop=False)


def _accuracy(values: tuple[str, str | None], flag: str) -> dict:
    """``se``/``se2`` (or ``sp``/``sp2``) of the multiplex functions from --se and --se2."""
    first = scalar_or_list(parse_floats(values[0], f"--{flag}", fraction=True))
    second = values[1]
    if second is not None:
        second = scalar_or_list(parse_floats(second, f"--{flag}2", fraction=True))
    return {flag: first, f"{flag}2": second}


def _multiplex(algorithm, config, joint, se, sp, json: bool, lang: str) -> None:
    oc = evaluate_multiplex(
        algorithm,
        config,
        joint=joint_from_text(parse_floats(joint, "--joint", fraction=True)),
        **_accuracy(se, "se"),
        **_accuracy(sp, "sp"),
    )
    if json:
        print_json(oc.to_dict())
        return

    def n(x: float) -> str:
        return "—" if math.isnan(x) else number_text(x, lang, ".4f")

    rows = [
        [
            say("disease", lang, k=k + 1),
            n(float(oc.prevalence[k])),
            *(n(float(v[k])) for v in (oc.sensitivity, oc.specificity, oc.ppv, oc.npv)),
        ]
        for k in range(2)
    ]
    title = say(
        "multiplex",
        lang,
        design=f"{oc.algorithm} {oc.config}",
        et=number_text(oc.expected_tests_per_sample, lang, ".4f"),
        stages=oc.stages,
    )
    headings = say("multiplex_columns", lang).split("|")
    console.print(fitted_table(headings, rows, title=title, left=(0,)), crop=False)


def _multiplex_search(joint, se, sp, cons, top: int, json: bool, lang: str) -> None:
    result = optimize_multiplex(
        joint_from_text(parse_floats(joint, "--joint", fraction=True)),
        **_accuracy(se, "se"),
        **_accuracy(sp, "sp"),
        constraints=cons,
        top=top,
    )
    if json:
        print_json(result.to_dict())
    else:

        def n(x: float) -> str:
            return "—" if math.isnan(x) else number_text(x, lang, ".4f")

        rows = [
            [
                oc.algorithm,
                oc.config,
                n(oc.expected_tests_per_sample),
                *(n(float(v[k])) for k in range(2) for v in (oc.sensitivity, oc.specificity)),
                str(oc.stages),
            ]
            for oc in result.ranking
        ]
        title = say(
            "multiplex_best",
            lang,
            configurations=result.configurations_evaluated,
            ms=result.search_seconds * 1000,
        )
        headings = say("multiplex_search_columns", lang).split("|")
        console.print(fitted_table(headings, rows, title=title, left=(0, 1)), crop=False)
        for note in result.notes:
            console.print(
                f"[yellow]{say('note', lang)}:[/] {note_text(note, lang)}", highlight=False
            )
    if result.best is None:
        raise typer.Exit(code=1)


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
    square_arrays: Annotated[
        bool, typer.Option(help="n x n arrays only (binGroup2's search); default: every r x c")
    ] = False,
    top: Annotated[int, typer.Option(help="length of the ranked list")] = 10,
    dilution: Dilution = False,
    ct_mean: CtMean = _DEFAULT_DILUTION.ct_mean,
    ct_sd: CtSd = _DEFAULT_DILUTION.ct_sd,
    ct_cutoff: CtCutoff = _DEFAULT_DILUTION.ct_cutoff,
    joint: Joint = None,
    se2: Se2 = None,
    sp2: Sp2 = None,
    json: Json = False,
    lang: Lang = "en",
) -> None:
    """Lowest-cost designs (fewest reactions per sample) under the lab's limits; with
    --joint, for a two-disease assay (IT, D2, D3, A2, A2M; the limits hold for each
    disease)."""
    check_lang(lang)
    cons = SearchConstraints(
        min_size=min_size,
        max_size=max_size,
        max_stages=max_stages,
        min_sensitivity=min_sensitivity,
        min_specificity=min_specificity,
        square_arrays=square_arrays,
    )
    if joint is not None:
        if prevalence is not None or risks is not None or dilution:
            raise InputError(
                "--joint: gives the samples' probabilities itself; leave out --prevalence, "
                "--risks and --dilution",
                "joint",
            )
        if algorithm.lower() != "auto":
            raise InputError(
                "--joint: the search covers IT, D2, D3, A2 and A2M; leave out -a", "joint"
            )
        _multiplex_search(joint, (se, se2), (sp, sp2), cons, top, json, lang)
        return
    if se2 is not None or sp2 is not None:
        raise InputError("--se2/--sp2: only with --joint (a two-disease assay)", "se2")
    p, r = _prevalence_and_risks(prevalence, risks)
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
        title = say(
            "best",
            lang,
            families=", ".join(res.algorithms),
            configurations=res.configurations_evaluated,
            ms=res.search_seconds * 1000,
        )
        console.print(_oc_table(res.ranking, title, lang), crop=False)
    else:
        best = [res.best for res in results if res.best is not None]
        title = say(
            "by_prevalence",
            lang,
            min_size=min_size,
            max_size=max_size,
            max_stages=max_stages,
            configurations=sum(res.configurations_evaluated for res in results),
            ms=sum(res.search_seconds for res in results) * 1000,
        )
        console.print(_oc_table(best, title, lang), crop=False)
    grid = p if isinstance(p, list) else [p]  # a grid's notes say which prevalence they are for
    for res, at in zip(results, grid, strict=False):  # with --json the notes are in the object
        where = f"p = {number_text(at, lang, 'g')}: " if len(results) > 1 else ""
        for note in [] if json else res.notes:
            console.print(
                f"[yellow]{say('note', lang)}:[/] {where}{note_text(note, lang)}", highlight=False
            )
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
    lang: Lang = "en",
) -> None:
    """Monte Carlo check of a design against its analytic operating characteristics."""
    check_lang(lang)
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

    def n(x: float, spec: str) -> str:  # undefined (PSe at p = 0), or z of a zero error
        return number_text(x, lang, spec) if math.isfinite(x) else "—"

    rows = []
    for m in sim.METRICS:
        e = getattr(sim, m)
        figures = (e.value, e.se, float(getattr(oc, m)))
        rows.append([metric(m, lang), *(n(x, ".5f") for x in figures), n(z[m], "+.2f")])
    title = say("simulated", lang, design=str(sim.design), samples=sim.samples, seed=seed)
    table = fitted_table(say("sim_columns", lang).split("|"), rows, title=title, left=(0,))
    console.print(table, crop=False)


@app.command("frontier")
@reports_errors
def frontier_cmd(
    prevalence: Annotated[
        str, typer.Option("--prevalence", "-p", help="fraction positive, e.g. 0.01 or 1%")
    ],
    se: Annotated[
        str, typer.Option("--se", help="sensitivity, one value for every stage")
    ] = f"{SENSITIVITY:g}",
    sp: Annotated[
        str, typer.Option("--sp", help="specificity, one value for every stage")
    ] = f"{SPECIFICITY:g}",
    max_size: Annotated[
        int, typer.Option(help="the largest pool to try (samples per reaction)")
    ] = 64,
    max_stages: Annotated[int, typer.Option(help="the most PCR rounds to try")] = MAX_STAGES,
    min_sensitivity: Annotated[
        float, typer.Option(help="lowest acceptable pooling sensitivity")
    ] = 0.0,
    min_specificity: Annotated[
        float, typer.Option(help="lowest acceptable pooling specificity")
    ] = 0.0,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="also draw the frontier into this PNG file")
    ] = None,
    force: Force = False,
    json: Json = False,
    lang: Lang = "en",
) -> None:
    """The fewest reactions per sample for each number of PCR rounds and each largest pool,
    beside the entropy floor H(p): what one more round, or a larger validated pool, buys."""
    check_lang(lang)
    if chart is not None:
        if chart.suffix.lower() != ".png":
            raise InputError(f"--chart: a .png file, got {chart.name!r}", "--chart")
        check_output_file(chart, force=force, what="--chart")
    values = {}
    for flag, text in (("--prevalence", prevalence), ("--se", se), ("--sp", sp)):
        got = parse_floats(text, flag, fraction=True)
        if len(got) != 1:  # the frontier compares designs of 1 to 4 rounds: one value each
            raise InputError(f"{flag}: one value, got {len(got)}", flag)
        values[flag] = got[0]
    p = values["--prevalence"]
    front = frontier(
        p,
        se=values["--se"],
        sp=values["--sp"],
        max_stages=max_stages,
        max_size=max_size,
        min_sensitivity=min_sensitivity,
        min_specificity=min_specificity,
    )
    if chart is not None:
        words = {k: say(f"frontier_{k}", lang) for k in ("floor", "x", "y", "none")}
        words["rounds"] = TEXT_ROUNDS[lang]
        words["title"] = say("frontier_title", lang, p=p, h=front.entropy)
        write_output_file(chart, lambda path: draw_frontier(front, path, words, lang),
                          force=force, what="--chart")  # fmt: skip
    feasible = any(c.best is not None for c in front.cells)
    if json:
        print_json(front.to_dict())
        if not feasible:
            raise typer.Exit(code=1)
        return

    def n(x: float, spec: str = ".4f") -> str:
        return "—" if math.isnan(x) else number_text(x, lang, spec)

    rows = []
    for c in front.cells:
        if c.stages == 1 and c.largest_pool != front.cells[0].largest_pool:
            continue  # one by one, one row: the pool size does not matter
        oc = c.best
        rows.append(
            [
                str(c.stages),
                number_text(1 if c.stages == 1 else c.largest_pool, lang),
                "—" if oc is None else f"{oc.algorithm} {oc.config}",
                "—" if oc is None else n(float(oc.expected_tests_per_sample)),
                "—" if oc is None else n(float(oc.sensitivity)),
                "—" if oc is None else n(float(oc.specificity)),
                n(efficiency(c, front.entropy), ".3f"),
            ]
        )
    title = say("frontier_title", lang, p=p, h=front.entropy)
    headings = say("frontier_columns", lang).split("|")
    console.print(fitted_table(headings, rows, title=title, left=(2,)), crop=False)
    for note in front.notes:
        console.print(f"[yellow]{say('note', lang)}:[/] {note_text(note, lang)}", highlight=False)
    if chart is not None:
        err_console.print(say("wrote_chart", lang, path=str(chart)), highlight=False, markup=False)
    if not feasible:  # as optimize: nothing meets the limits
        raise typer.Exit(code=1)


# the chart's legend for a line: "{stages} rounds" (a template, filled by the chart)
TEXT_ROUNDS = {"en": "at most {stages:|round|rounds}", "vi": "tối đa {stages} vòng PCR"}
