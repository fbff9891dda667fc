"""`labopt batch ...` (make, decode) and `labopt estimate`: the lab's daily files.

Thin: parse the options, call :mod:`labopt.lab`, print a summary, write the files. A batch
lives in one folder (see :mod:`labopt.lab.batch`); every command writes its folder whole or
not at all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from labopt.cli.common import (
    Algorithm,
    Config,
    Force,
    Json,
    clean_json,
    console,
    err_console,
    fitted_table,
    fmt,
    parse_date_option,
    print_json,
    reports_errors,
)
from labopt.files import MARKER
from labopt.lab.batch import BATCH_TABLES, FILES, LabBatch
from labopt.lab.estimate import (
    design_prevalence,
    estimate_table,
    prevalence_frame,
    with_design,
)
from labopt.lab.field import DEFAULT_RECOLLECTION_HOURS, recollection_summary
from labopt.lab.manifest import make_manifest, read_manifest, read_samples
from labopt.lab.plates import PlateSpec, save_plate_pngs
from labopt.lab.results import read_results
from labopt.lab.tables import csv_writer, read_table, text_writer, write_folder
from labopt.lab.words import estimate_note, heading, say
from labopt.notes import note_text
from labopt.numbers import number_text
from labopt.pooling.assay import MAX_STAGES, SENSITIVITY, SPECIFICITY
from labopt.schedule.labels import check_lang

app = typer.Typer(
    help="Pool manifests, plate maps, result decoding and retest lists.", no_args_is_help=True
)

Plate = Annotated[int, typer.Option("--plate", help="plate format: 96 or 384 wells")]
Controls = Annotated[
    str,
    typer.Option(
        "--controls",
        help="control wells per plate, e.g. 'positive=1,negative=1,blank=1' "
        "(missing kinds: 0; 'none' for no controls)",
    ),
]
Order = Annotated[
    str, typer.Option("--order", help="fill order: column (A1, B1, ...) or row (A1, A2, ...)")
]
Map = Annotated[str, typer.Option("--map", help="printable plate map: html, png, both or none")]
MAPS = ("html", "png", "both", "none")


def old_name() -> None:
    """Pool manifests, plate maps, result decoding and retest lists (old name of `batch`)."""
    err_console.print(
        "note: `labopt pools` is now `labopt batch`; the old name will be removed in a "
        "later release",
        style="yellow",
        highlight=False,
        markup=False,
    )


def _check_map(value: str) -> str:
    v = value.strip().lower()
    if v not in MAPS:
        raise ValueError(f"--map: {value!r} is not a plate-map format; allowed: {', '.join(MAPS)}")
    return v


def _map_files(batch: LabBatch, kind: str, lang: str = "en") -> dict:
    """Writers of the latest run's plate maps (only when that run still has to be done)."""
    files = {}
    if kind in ("html", "both"):
        files["plates.html"] = text_writer(batch.plate_map_html(lang))
    layout = batch.pending_plates()
    if kind in ("png", "both") and len(layout):
        shown = batch.map_options(lang)

        def pngs(path: Path) -> None:
            path.mkdir(parents=True, exist_ok=True)
            save_plate_pngs(layout, batch.spec, path, batch.manifest.batch, **shown)

        files[f"plate_maps/run{batch.runs}"] = pngs
    return files


SUMMARY_ROWS = (
    "samples",
    "positive",
    "negative",
    "pending",
    "reactions_used",
    "reactions_next_run",
    "repeats_next_run",
    "plates_next_run",
    "recollect",
)


def _summary_table(summary: dict, title: str, lang: str = "en") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("")
    table.add_column(say("value", lang), justify="right")
    for key in SUMMARY_ROWS:
        if key in summary:
            table.add_row(say(key, lang), number_text(summary[key], lang))
    return table


@app.command("make")
@reports_errors
def make(
    samples: Annotated[
        Path,
        typer.Argument(
            help="CSV with a 'sample_id' column; optional 'stream', 'risk', 'district', "
            "'address_group'"
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="batch folder to create")],
    algorithm: Algorithm,
    config: Config = "",
    plate: Plate = 96,
    controls: Controls = "positive=1,negative=1,blank=1",
    order: Order = "column",
    field: Annotated[
        bool,
        typer.Option(
            "--field",
            help="field pooling: swabs pooled at collection (one tube per "
            "first-stage pool, per district and address group)",
        ),
    ] = False,
    recollection_hours: Annotated[
        float, typer.Option(help="field pooling: hours to re-sample a positive tube's people")
    ] = DEFAULT_RECOLLECTION_HOURS,
    batch: Annotated[
        str, typer.Option(help="label prefixed to pool and plate ids, e.g. TH0801")
    ] = "",
    plate_map: Map = "html",
    lab_id: Annotated[
        str, typer.Option("--lab", help="the lab that runs the batch, shown on its plate maps")
    ] = "",
    date: Annotated[
        str | None,
        typer.Option("--date", help="the day the batch starts, YYYY-MM-DD (default: today)"),
    ] = None,
    lang: Annotated[str, typer.Option(help="plate maps and summary: en or vi")] = "en",
    json: Json = False,
    force: Force = False,
) -> None:
    """Pool manifest and first-run plates for a batch of samples."""
    check_lang(lang)
    kind = _check_map(plate_map)
    day = dt.date.today() if date is None else parse_date_option(date, lang=lang)
    spec = PlateSpec.parse(plate, controls, order)
    if (out / FILES["manifest"]).exists():
        raise ValueError(f"--out: {out} already holds a batch (manifest.csv); choose a new folder")
    table = read_samples(samples)
    manifest = make_manifest(
        table, algorithm, config, field=field, batch=batch, source=str(samples)
    )
    lab = LabBatch.start(manifest, spec, recollection_hours, lab=lab_id, date=day.isoformat())
    files = lab.save(out, _map_files(lab, kind, lang), force=force, reads=[samples])
    summary = lab.summary()
    if json:
        print_json({**summary, "out": str(out), "files": sorted(str(f) for f in files)})
        return
    how = say("field" if field else "in_lab", lang)
    label = batch or say("unnamed", lang)
    title = say("summary", lang, batch=label, design=str(manifest.design), how=how)
    console.print(_summary_table(summary, title, lang))
    names = "manifest.csv, plates.csv, results_template.csv"
    names += ", plates.html" if kind in ("html", "both") else ""
    for folder in (Path(f) for f in files if Path(f).is_dir()):  # the plate maps' pictures
        pngs = len(list(folder.glob("*.png")))
        names += f", {folder.relative_to(out).as_posix()}/ ({pngs} PNG)"
    console.print(say("wrote", lang, out=out, files=names), highlight=False)


@app.command("decode")
@reports_errors
def decode(
    batch_path: Annotated[
        Path, typer.Argument(metavar="BATCH", help="batch folder (or its manifest.csv)")
    ],
    results: Annotated[
        Path,
        typer.Argument(
            help="CSV of this run's results: 'result' with 'pool_id' or 'plate'+'well'; "
            "optional 'ct', 'run'"
        ),
    ],
    correct: Annotated[
        bool,
        typer.Option(
            "--correct", help="allow changing results already recorded (kept in results_log.csv)"
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="write the updated batch here (default: update BATCH in place)"),
    ] = None,
    plate: Plate = 96,
    controls: Controls = "positive=1,negative=1,blank=1",
    order: Order = "column",
    plate_map: Map = "html",
    lang: Annotated[str, typer.Option(help="plate maps and summary: en or vi")] = "en",
    json: Json = False,
    force: Force = False,
) -> None:
    """Apply a run's results: final statuses, the retest list (or re-collection list) and
    the next run's plates. --plate/--controls/--order only matter for a bare manifest.csv
    without its batch folder."""
    check_lang(lang)
    kind = _check_map(plate_map)
    folder = batch_path.parent if batch_path.suffix.lower() == ".csv" else batch_path
    batch_folder = (folder / FILES["meta"]).is_file()
    if batch_folder:
        lab = LabBatch.load(folder)
        read_from = None
    else:
        read_from = (
            batch_path if batch_path.suffix.lower() == ".csv" else folder / FILES["manifest"]
        )
        lab = LabBatch.start(read_manifest(read_from), PlateSpec.parse(plate, controls, order))
    table = read_results(results)
    lab, report = lab.apply(table, source=results.name, corrections=correct)
    lab = lab.schedule_next()
    target = out or folder
    _check_manifest_kept(folder, target, lab)
    extra = _map_files(lab, kind, lang)
    # decode updates its own batch in place; written elsewhere, it must not land on its inputs
    reads = [] if out is None else [batch_path, results]
    files = lab.save(
        target,
        extra,
        force=force,
        what="--out" if out else "BATCH",
        adopt=_adopted(folder, target, lab, extra, batch_folder, read_from),
        reads=reads,
    )
    summary = lab.summary()
    recollect = lab.tables().get("recollect.csv")
    if json:
        print_json(
            {
                **summary,
                "applied": report.to_dict(),
                "out": str(target),
                "files": sorted(str(f) for f in files),
            }
        )
        return
    for note in report.notes:
        console.print(f"[yellow]{say('note', lang)}:[/] {note_text(note, lang)}", highlight=False)
    counts = {"added": report.added, "corrected": report.corrected}
    console.print(say("applied", lang, **counts, unchanged=report.unchanged), highlight=False)
    done = int(lab.log["run"].max()) if len(lab.log) else 0
    title = say("after_run", lang, batch=lab.manifest.batch or say("unnamed", lang), run=done)
    console.print(_summary_table(summary, title, lang))
    if recollect is not None and len(recollect):
        by_group = recollection_summary(recollect)
        fields = {"people": len(recollect), "groups": len(by_group)}
        line = say("recollect_people", lang, **fields, hours=lab.recollection_hours)
        console.print(line, highlight=False)
    names = "statuses.csv, retest.csv, plates.csv, pools.csv"
    names += ", recollect.csv" if lab.manifest.field else ""
    console.print(say("wrote", lang, out=target, files=names), highlight=False)


def _adopted(
    folder: Path,
    target: Path,
    lab: LabBatch,
    extra: dict,
    batch_folder: bool,
    read_from: Path | None,
) -> list[str]:
    """The files of a batch folder (or bare manifest) that decode just read and checked: they
    count as labopt's when the folder has no .labopt-output marker (made by an earlier
    labopt), so the batch is updated in place as before. Only a folder that holds nothing but
    a batch's files, with a manifest of exactly labopt's columns, is adopted: anything else
    (a user's file, a manifest with columns added by hand) makes it the user's folder."""
    if os.path.abspath(folder) != os.path.abspath(target) or (folder / MARKER).exists():
        return []
    names = (
        [*lab.tables(), FILES["meta"], *extra]
        if batch_folder
        else [FILES["manifest"]]
        if read_from is not None and read_from.name == FILES["manifest"]
        else []
    )
    if (
        not names
        or not _only_batch_files(folder)
        or _header(folder / FILES["manifest"]) != list(lab.manifest.to_frame().columns)
    ):
        return []
    return names


def _check_manifest_kept(folder: Path, target: Path, lab: LabBatch) -> None:
    """Refuse to update a batch in place when its manifest.csv has columns labopt does not
    write (added by hand): rewriting it would drop them."""
    if os.path.abspath(folder) != os.path.abspath(target):
        return
    path = folder / FILES["manifest"]
    added = [c for c in _header(path) if c not in set(lab.manifest.to_frame().columns)]
    if added:
        raise ValueError(
            f"BATCH: {path} has columns labopt does not write ("
            f"{', '.join(map(repr, added[:5]))}); updating the batch in place "
            f"would drop them. Write the updated batch elsewhere with --out, or "
            f"move those columns to a file of your own."
        )


def _only_batch_files(folder: Path) -> bool:
    """Whether every entry of ``folder`` is a name labopt's batch writes."""
    known = {*FILES.values(), *BATCH_TABLES, "plates.html"}
    for entry in folder.iterdir():
        if entry.name == "plate_maps" and entry.is_dir() and not entry.is_symlink():
            if not all(
                run.is_dir()
                and not run.is_symlink()
                and run.name.startswith("run")
                and all(
                    p.suffix == ".png" and p.is_file() and not p.is_symlink() for p in run.iterdir()
                )
                for run in entry.iterdir()
            ):
                return False
        elif entry.name not in known or not entry.is_file() or entry.is_symlink():
            return False
    return True


def _header(path: Path) -> list[str]:
    """The column names in a CSV file's first line ([] when unreadable)."""
    try:
        return list(pd.read_csv(path, nrows=0, dtype=str).columns)
    except (OSError, ValueError):
        return []


@reports_errors
def estimate(
    results: Annotated[
        list[Path],
        typer.Argument(
            help="CSV files of first-stage pool results (columns 'size', 'result', "
            "optional 'district', 'stream'), or batch folders (their "
            "first_stage.csv)"
        ),
    ],
    se: Annotated[float, typer.Option(help="pool test sensitivity")] = SENSITIVITY,
    sp: Annotated[float, typer.Option(help="pool test specificity")] = SPECIFICITY,
    level: Annotated[float, typer.Option(help="confidence level")] = 0.95,
    by: Annotated[str, typer.Option(help="grouping columns, comma-separated")] = "district,stream",
    design: Annotated[
        bool, typer.Option("--design", help="add the lowest-cost design at each estimate")
    ] = False,
    max_size: Annotated[int, typer.Option(help="--design: largest validated pool")] = 10,
    max_stages: Annotated[int, typer.Option(help="--design: PCR rounds allowed")] = MAX_STAGES,
    design_at: Annotated[
        str,
        typer.Option(
            help="--design: optimise at the 'estimate' or at the interval's 'upper' "
            "bound (cautious: smaller pools when data are sparse)"
        ),
    ] = "estimate",
    out: Annotated[
        Path | None,
        typer.Option(
            help="write estimates.csv, estimates.json and prevalence.csv (the "
            "scenario's format) here"
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="table labels: en or vi")] = "en",
    json: Json = False,
    force: Force = False,
) -> None:
    """Prevalence per district and stream from pooled results (maximum likelihood with
    Se/Sp, unequal pool sizes, 95 % score interval)."""
    check_lang(lang)
    keys = tuple(c.strip().lower() for c in by.split(",") if c.strip())
    tables = []
    for path in results:
        src = path / "first_stage.csv" if path.is_dir() else path
        table = read_table(src, ["size|pool_size", "result"])
        est = estimate_table(table, se=se, sp=sp, level=level, by=keys, source=str(src))
        tables.append(table)
    if len(tables) > 1:  # each file checked on its own above (errors name it)
        est = estimate_table(
            pd.concat(tables, ignore_index=True).fillna(""),
            se=se,
            sp=sp,
            level=level,
            by=keys,
            source="results",
        )
    at = design_prevalence(est, design_at, what="--design-at")  # checked with or without --design
    if design:
        est = with_design(est, at, se=se, sp=sp, max_size=max_size, max_stages=max_stages)
    files = []
    if out is not None:
        payload = {"estimates.csv": csv_writer(est), "estimates.json": text_writer(json_dumps(est))}
        if {"district", "stream"} <= set(est.columns):
            payload["prevalence.csv"] = csv_writer(prevalence_frame(est))
        files = write_folder(out, payload, force=force, kind="estimate", reads=results)
    if json:
        print_json({"estimates": est.to_dict("records"), "files": [str(f) for f in files]})
        return
    title = say("estimate_title", lang, level=level, se=se, sp=sp)
    shown = [c for c in est.columns if c not in ("se", "sp", "level")]
    rows = []
    for r in est.to_dict("records"):
        cells = []
        for c in shown:
            v = r[c]
            if c == "note":
                cells.append(estimate_note(str(v), lang))
            elif isinstance(v, float):
                cells.append(number_text(v, lang, ".4f") if np.isfinite(v) else fmt(v, 4))
            elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                cells.append(number_text(v, lang))
            else:
                cells.append(str(v))
        rows.append(cells)
    left = [i for i, c in enumerate(shown) if c in (*keys, "note", "algorithm", "config")]
    # a narrow terminal drops the samples (pools times their size) rather than cut a figure
    optional = [i for i, c in enumerate(shown) if c == "samples"]
    headings = [heading(c, lang) for c in shown]
    table = fitted_table(headings, rows, title=title, left=left, optional=optional)
    console.print(table, crop=False)
    if out is not None:
        names = "estimates.csv, estimates.json"
        names += ", prevalence.csv" if "prevalence.csv" in payload else ""
        console.print(say("wrote_estimates", lang, out=out, files=names), highlight=False)


def json_dumps(df: pd.DataFrame) -> str:
    return json.dumps(clean_json(df.to_dict("records")), indent=2, ensure_ascii=False)
