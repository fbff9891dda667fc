"""Write a plan: CSV tables, one XLSX workbook, PNG charts and a JSON summary.

Every file is written to a staging folder first and the output folder changes only when all
are complete (a crash leaves the previous outputs, never half of them); only labopt's own files
in it are replaced (:mod:`labopt.files`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labopt.cells import write_csv, write_xlsx
from labopt.figures import new_figure, save_png
from labopt.files import Beside, Writer, write_output_folder
from labopt.numbers import date_text, number_text
from labopt.schedule.labels import check_lang, column, shipment_why, value, word
from labopt.schedule.report import PlanReport, reagent_left_with_and_without

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TABLES = ("allocations", "status", "labs", "days")
NAMED_LABS = 60  # the utilisation chart names each lab up to this many labs
NUMBERED_LABS = 30  # and writes each lab-day's share up to this many
REAGENT_LABS = 8  # the reagent chart's panels: the labs with the largest shipments


PERCENT_COLUMNS = (
    "utilisation",
    "overflow_risk",
    "design_prevalence",
    "detection_probability",
    "prevalence",
)
DATE_COLUMNS = ("date", "arrival_date")


def tables(rep: PlanReport, lang: str = "en") -> dict[str, pd.DataFrame]:
    """The plan's tables as data: columns and values are labopt's stable English keys and
    codes in every language (the CSV files, the service); only sentences (the shortfall's
    text, a shipment's why) are in ``lang``. :func:`sheets` gives them as a person reads
    them."""
    check_lang(lang)
    out = {name: getattr(rep, name) for name in TABLES}
    out["shortfall"] = pd.DataFrame(
        [
            {
                "kind": item["kind"],
                "day": item.get("day"),
                "lab": item.get("lab"),
                "cause": item.get("cause"),
                "text": text,
            }
            for item, text in zip(rep.shortfall, rep.shortfall_texts(lang), strict=False)
        ],
        columns=["kind", "day", "lab", "cause", "text"],
    ).astype({"day": "Int64"})  # a finding of no one day has none: 1, not 1.0
    if rep.plan.input.supply is not None:  # the scenario has supply routes or kits
        out["supply"] = supply_table(rep, lang)
    if rep.screening_comparison is not None:  # screening by risk
        out["screening"] = rep.screening
    return out


def sheets(rep: PlanReport, data: Mapping[str, pd.DataFrame], lang: str) -> dict[str, pd.DataFrame]:
    """:func:`tables` as plan.xlsx shows them: headers, codes and yes/no in ``lang``, the
    per-stream columns named by the streams' names, dates as dates."""
    streams = {s.id: s.named(lang) for s in rep.plan.scenario.streams}

    def label(name: str) -> str:
        return column(name, lang) if lang == "vi" else name.replace("_", " ").capitalize()

    def header(name: str) -> str:
        for prefix in ("waiting", "untested"):
            sid = name[len(prefix) + 1 :]
            if name.startswith(prefix + "_") and sid in streams:
                return f"{label(prefix)}: {streams[sid]}"
        return label(name)

    out = {}
    for name, df in data.items():
        df = df.copy()
        for c in df.columns:
            if c in DATE_COLUMNS:
                df[c] = [dt.date.fromisoformat(v) if isinstance(v, str) else v for v in df[c]]
            elif c in CODED_COLUMNS or (c == "stream" and name != "days"):
                words = {**streams} if c == "stream" else {}
                df[c] = df[c].map(
                    lambda v, w=words: w.get(v) or value(v, lang) if isinstance(v, str) else v
                )
            elif pd.api.types.is_bool_dtype(df[c]):
                df[c] = df[c].map({True: word("yes", lang), False: word("no", lang)})
        out[name] = df.rename(columns=header)
    return out


# columns whose values are codes a person reads as words
CODED_COLUMNS = ("limit", "cause", "status", "kind", "resource")


def write_outputs(
    rep: PlanReport,
    out_dir: str | os.PathLike,
    lang: str = "en",
    charts: bool = True,
    *,
    force: bool = False,
    reads: Iterable[str | os.PathLike] = (),
    extra: Mapping[str, Writer] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> list[Path]:
    """Write every output into ``out_dir``; returns the files written. Only labopt's files
    there are replaced (``force``, ``reads``, ``meanwhile``: see
    :func:`labopt.files.write_output_folder`; the workbook and charts do not read the report's
    check, summary.json does). ``extra``: more files to write with them (name -> writer), e.g.
    dispatch sheets."""
    data = tables(rep, lang)
    files = {f"{name}.csv": _csv(df) for name, df in data.items()}
    files["plan.xlsx"] = Beside(lambda path: write_plan_xlsx(path, rep, data, lang))
    files["summary.json"] = _summary(rep, lang)
    if charts:  # drawn one after the other in a child beside the workbook's
        for name, draw in CHARTS.items():
            files[name] = Beside(_chart(draw, rep, lang), group="charts")
    files.update(extra or {})
    return sorted(
        write_output_folder(
            out_dir, files, force=force, kind="plan", reads=reads, meanwhile=meanwhile
        )
    )


SHEET_NAMES = {
    "vi": {
        "allocations": "Phân bổ",
        "status": "Trạng thái",
        "labs": "Phòng xét nghiệm",
        "days": "Từng ngày",
        "shortfall": "Thiếu hụt",
        "supply": "Chuyển sinh phẩm, dụng cụ",
        "screening": "Sàng lọc",
    }
}


def write_plan_xlsx(path: Path, rep: PlanReport, data: Mapping[str, pd.DataFrame], lang: str):
    """plan.xlsx: a sheet per table of :func:`tables` as :func:`sheets` shows them, named in
    ``lang``."""
    names = SHEET_NAMES.get(lang, {})
    shown = {names.get(k, k): df for k, df in sheets(rep, data, lang).items()}
    percent = [
        h
        for df, raw in zip(shown.values(), data.values(), strict=True)
        for h, c in zip(df.columns, raw.columns, strict=True)
        if c in PERCENT_COLUMNS
    ]
    write_xlsx(path, shown, percent=percent, date_format=DATE_FORMATS[lang])


DATE_FORMATS = {"en": "yyyy-mm-dd", "vi": "dd/mm/yyyy"}

SUPPLY_COLUMNS = [
    "day",
    "date",
    "resource",
    "source",
    "source_name",
    "target",
    "target_name",
    "quantity",
    "arrival_day",
    "why",
]


def supply_table(rep: PlanReport, lang: str = "en") -> pd.DataFrame:
    """Every shipment, reagent (reactions) then collection kits, in the order sent."""
    rows = []
    for item in rep.shortfall:
        if item["kind"] not in ("shipment", "kit_shipment"):
            continue
        kits = item["kind"] == "kit_shipment"
        rows.append(
            {
                "day": item["day"],
                "date": rep.plan.scenario.date_of(item["day"]).isoformat(),
                "resource": "kits" if kits else "reagent",
                "source": item["source"],
                "source_name": item["source_name"],
                "target": item["district"] if kits else item["lab"],
                "target_name": item["target_name"],
                "quantity": item["kits"] if kits else item["reactions"],
                "arrival_day": item["arrival_day"],
                "why": shipment_why(item, lang),
            }
        )
    return pd.DataFrame(rows, columns=SUPPLY_COLUMNS)


def _chart(draw: Callable[[PlanReport, Path, str], Figure], rep: PlanReport, lang: str) -> Writer:
    def write(path: Path) -> None:
        draw(rep, path, lang)

    return write


def _csv(df: pd.DataFrame) -> Writer:
    def write(path: Path) -> None:
        write_csv(df, path)

    return write


def _summary(rep: PlanReport, lang: str) -> Writer:
    def write(path: Path) -> None:
        text = json.dumps(_jsonable(rep.to_dict(lang)), ensure_ascii=False, indent=2)
        path.write_text(text, encoding="utf-8")

    return write


def _jsonable(obj: object) -> object:
    """The object with NumPy scalars as Python numbers and non-finite floats as None."""
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if np.isfinite(v) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def day_figures(rep: PlanReport) -> pd.DataFrame:
    """Per day and kind of sample (single: streams that may not be pooled; pooled): the
    samples requested that day, tested, left waiting for the next day and gone untested, and
    the day's target."""
    pooled = {s.id: s.poolable for s in rep.plan.scenario.streams}
    st = rep.status.assign(
        kind=rep.status["stream"].map(pooled).map({False: "single", True: "pooled"})
    )
    out = st.groupby(["kind", "day"], sort=False)[["demand", "tested", "waiting", "untested"]].sum()
    out = out.reset_index()
    targets = rep.days.set_index("day")
    out["target"] = [
        targets.at[day, f"{kind}_target"] for kind, day in zip(out["kind"], out["day"], strict=True)
    ]
    return out


def _day_month(iso: str, lang: str) -> str:
    """A date without its year: 10-04 (en, as in 2021-10-04), 04/10 (vi)."""
    text = date_text(iso, lang)
    return text[:5] if lang == "vi" else text[5:]


def chart_days(rep: PlanReport, path: Path, lang: str = "en") -> Figure:
    """Per day, single and pooled samples side by side: tested, left waiting and gone
    untested stacked, the samples requested that day as a mark, the target as a dashed line;
    the tested figure on each bar. A demand below the target shows as a short bar that
    reaches its mark; a shortfall of capacity as waiting and untested above it."""
    figures = day_figures(rep)
    dates = dict(zip(rep.days["day"], rep.days["date"], strict=True))
    fig = new_figure(10, 4.8)
    kinds = [k for k in ("single", "pooled") if k in set(figures["kind"])]
    for i, kind in enumerate(kinds):
        ax = fig.add_subplot(1, len(kinds), i + 1)
        g = figures[figures["kind"] == kind]
        x = g["day"].to_numpy()
        bottom = np.zeros(len(g))
        for key, colour in (("tested", "#1b9e77"), ("waiting", "#e6ab02"), ("untested", "#d95f02")):
            ax.bar(x, g[key], 0.7, bottom=bottom, color=colour, label=word(key + "_bar", lang))
            bottom += g[key].to_numpy()
        ax.scatter(
            x,
            g["demand"],
            marker="_",
            s=400,
            color="#333333",
            zorder=3,
            label=word("requested", lang),
        )
        ax.axhline(
            g["target"].iloc[0], color="#7570b3", ls="--", lw=1.2, label=word("target", lang)
        )
        for xi, tested in zip(x, g["tested"], strict=True):
            ax.annotate(
                number_text(tested, lang),
                (xi, tested),
                ha="center",
                va="bottom",
                fontsize=7,
                xytext=(0, 1),
                textcoords="offset points",
            )
        top = max(bottom.max(), g["demand"].max(), g["target"].iloc[0], 1)
        ax.set_ylim(0, top * 1.1)  # room for the figures above the bars
        ax.set_xticks(x, [f"{d}\n{_day_month(dates[d], lang)}" for d in x], fontsize=8)
        ax.set_title(word(kind + "_samples", lang), fontsize=10)
        ax.set_xlabel(word("day", lang), fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.yaxis.set_major_formatter(lambda v, _: number_text(v, lang, ",.0f"))
        if i == 0:
            ax.set_ylabel(word("samples_per_day", lang), fontsize=8)
            handles, names = ax.get_legend_handles_labels()
    fig.suptitle(
        f"{rep.plan.scenario.province.name}: {word('tested_vs_target', lang)}", fontsize=11
    )
    fig.legend(handles, names, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    save_png(fig, path)
    return fig


def chart_labs(rep: PlanReport, path: Path, lang: str = "en") -> Figure:
    """Utilisation of every lab that tests something, day by day: each lab-day's share (up
    to NUMBERED_LABS labs), lab-days without reagent and standby labs not switched on
    hatched."""
    from matplotlib.collections import PatchCollection  # with matplotlib: see labopt.figures
    from matplotlib.patches import Rectangle

    labs = rep.labs
    used = labs.groupby("lab")["reactions"].sum()
    keep = [lab for lab in dict.fromkeys(labs["lab"]) if used.get(lab, 0) > 0]
    if not keep:
        keep = list(dict.fromkeys(labs["lab"]))[:1]
    grid = (
        labs[labs["lab"].isin(keep)]
        .pivot(index="lab", columns="day", values="utilisation")
        .reindex(keep)
    )
    names = labs.drop_duplicates("lab").set_index("lab")["lab_name"].reindex(keep)
    # a row of 0.28 inch per named lab; past NAMED_LABS the rows go unnamed and the chart
    # keeps that height (a taller one only costs drawing time and file size)
    fig = new_figure(8, max(3.0, 0.28 * min(len(keep), NAMED_LABS) + 1.5))
    ax = fig.add_subplot()
    im = ax.imshow(
        grid.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest"
    )
    # a lab-day idle for want of reagent, or a standby lab not switched on, is marked: not
    # the same as a lab with room nobody needed
    shown = labs[labs["lab"].isin(keep)]
    row = {lab: i for i, lab in enumerate(keep)}
    col = {day: j for j, day in enumerate(grid.columns)}
    starved = shown["limit"].fillna("").str.contains("reagent")
    off = (shown["status"] == "standby") & ~shown["switched_on"].astype(bool)
    handles = []  # one legend entry per kind of mark, as drawn
    for marks, key, hatch, colour in (
        (starved, "no_reagent", "xxx", "#d95f02"),
        (off, "standby_off", "///", "#bbbbbb"),
    ):
        style: dict[str, Any] = {"fill": False, "hatch": hatch, "edgecolor": colour, "lw": 0}
        cells = [
            Rectangle((col[day] - 0.5, row[lab] - 0.5), 1, 1)
            for lab, day in zip(shown.loc[marks, "lab"], shown.loc[marks, "day"], strict=True)
        ]
        if cells:  # one artist per kind of mark, not a patch per cell: drawn at once
            marks_drawn = PatchCollection(
                cells, facecolor="none", edgecolor=colour, hatch=hatch, linewidth=0
            )
            ax.add_collection(marks_drawn, autolim=False)
        handles.append(Rectangle((0, 0), 1, 1, label=word(key, lang), **style))
    if len(keep) <= NUMBERED_LABS:  # each cell's share, where it can be read
        for (i, j), u in np.ndenumerate(grid.to_numpy()):
            if np.isfinite(u):
                ax.text(
                    j,
                    i,
                    number_text(u, lang, ".0%"),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if u < 0.6 else "black",
                )
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=7, frameon=False)
    ax.set_xticks(range(grid.shape[1]), grid.columns)
    if len(keep) <= NAMED_LABS:
        ax.set_yticks(range(len(keep)), names, fontsize=7)
    else:
        ax.set_yticks([])
    ax.set_xlabel(word("day", lang))
    ax.set_title(word("utilisation", lang), fontsize=10)
    bar = fig.colorbar(im, ax=ax, fraction=0.03)
    bar.ax.yaxis.set_major_formatter(lambda v, _: number_text(v, lang, ".0%"))
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))  # the legend below
    save_png(fig, path)
    return fig


def lab_week(rep: PlanReport) -> pd.DataFrame:
    """Per lab over the week (reactions): each stream's, the retest reserve, and the capacity
    left idle by reason: no reagent (capacity the lab's reagent could not feed), standby off
    (a standby lab not switched on) and not needed (room nobody sent samples to). Columns:
    lab, lab_name, one per stream id, reserve, no_reagent, standby_off, not_needed; labs by
    their capacity, largest first. Per lab, the columns add up to its capacity without reagent
    over the week."""
    labs = rep.labs
    off = (labs["status"] == "standby") & ~labs["switched_on"].astype(bool)
    on = ~off
    a = rep.allocations
    by_stream = (
        a.pivot_table(index="lab", columns="stream", values="reactions", aggfunc="sum")
        .reindex(columns=list(rep.plan.input.stream_ids))
        .fillna(0.0)
    )
    room = labs["capacity_without_reagent"]
    # on a day the lab runs: reactions, then the reserve held back from what is left, then
    # the room its reagent could feed but nobody needed; what remains is idle for want of
    # reagent (the reserve is capacity, not reagent: it may lie beyond what reagent feeds)
    reserve = np.minimum(labs["reserve"], (room - labs["reactions"]).clip(lower=0))
    not_needed = (labs["capacity"] - labs["reactions"] - reserve).clip(lower=0)
    no_reagent = (room - labs["reactions"] - reserve - not_needed).clip(lower=0)
    week = (
        pd.DataFrame(
            {
                "lab": labs["lab"],
                "lab_name": labs["lab_name"],
                "reserve": reserve.where(on, 0.0),
                "no_reagent": no_reagent.where(on, 0.0),
                "standby_off": room.where(off, 0.0),
                "not_needed": not_needed.where(on, 0.0),
                "size": room,
            }
        )
        .groupby(["lab", "lab_name"], sort=False)
        .sum()
        .reset_index()
    )
    week = week.join(by_stream, on="lab").fillna(0.0)
    week = week.sort_values("size", ascending=False, kind="stable").drop(columns="size")
    cols = [
        "lab",
        "lab_name",
        *rep.plan.input.stream_ids,
        "reserve",
        "no_reagent",
        "standby_off",
        "not_needed",
    ]
    return week[cols].reset_index(drop=True)


def chart_lab_week(rep: PlanReport, path: Path, lang: str = "en") -> Figure:
    """Per lab (the NAMED_LABS largest), a bar of its week's capacity: reactions by stream,
    the retest reserve, and idle capacity by reason (no reagent, standby lab off, not
    needed)."""
    from matplotlib.collections import PolyCollection  # with matplotlib: see labopt.figures

    week = lab_week(rep).head(NAMED_LABS)
    streams = {s.id: s.named(lang) for s in rep.plan.scenario.streams}
    parts = [
        *(
            (sid, streams[sid], colour)
            for sid, colour in zip(streams, STREAM_COLOURS * 3, strict=False)
        ),
        ("reserve", word("reserve", lang), "#a6761d"),
        ("no_reagent", word("no_reagent", lang), "#d95f02"),
        ("standby_off", word("standby_off", lang), "#bbbbbb"),
        ("not_needed", word("not_needed", lang), "#e8e8e8"),
    ]
    fig = new_figure(9, max(3.0, 0.32 * len(week) + 2.0))
    ax = fig.add_subplot()
    y = np.arange(len(week))
    left = np.zeros(len(week))
    for key, label, colour in parts:
        values = week[key].to_numpy(dtype=float)
        # one artist per part, not a patch per bar: drawn at once
        bars = [
            ((a, b - 0.4), (a + v, b - 0.4), (a + v, b + 0.4), (a, b + 0.4))
            for a, b, v in zip(left, y, values, strict=True)
        ]
        ax.add_collection(
            PolyCollection(bars, facecolors=colour, edgecolors="white", linewidths=0.3, label=label)
        )
        left += values
    ax.set_xlim(0, max(float(left.max(initial=0.0)), 1.0) * 1.02)
    ax.set_ylim(len(week) - 0.5, -0.5)  # the largest lab on top
    ax.set_yticks(y, [textwrap.fill(str(n), 40) for n in week["lab_name"]], fontsize=6.5)
    ax.xaxis.set_major_formatter(lambda v, _: number_text(v, lang, ",.0f"))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel(word("reactions_week", lang), fontsize=8)
    title = f"{rep.plan.scenario.province.name}: {word('lab_week_title', lang)}"
    ax.set_title(textwrap.fill(title, 80), fontsize=10)
    height = fig.get_figheight()
    rows = -(-len(parts) // 3)
    fig.legend(loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, (0.2 * rows + 0.15) / height, 1, 1))
    save_png(fig, path)
    return fig


def chart_map(rep: PlanReport, path: Path, lang: str = "en") -> Figure:
    """Units (circles, by the samples they send) and labs (squares, by the reactions they
    run) at their coordinates, with a line from each unit to each lab it sends samples to
    over the week, as wide as the samples sent; standby labs never switched on hollow. No
    tiles: the coordinates as they are, in degrees."""
    scn = rep.plan.scenario
    a = rep.allocations
    flows = a.groupby(["district", "lab"], sort=False)["samples"].sum().reset_index()
    flows = flows[flows["samples"] > 0]
    units = {d.code: d for d in scn.districts}
    labs = {lab.id: lab for lab in scn.labs}
    fig = new_figure(8, 8)
    ax = fig.add_subplot()
    from matplotlib.collections import LineCollection  # with matplotlib: see labopt.figures

    widest = max(float(flows["samples"].max()), 1.0) if len(flows) else 1.0
    segments = [
        [(units[d].lon, units[d].lat), (labs[lab].lon, labs[lab].lat)]
        for d, lab in zip(flows["district"], flows["lab"], strict=True)
    ]
    widths = 0.3 + 3.0 * flows["samples"].to_numpy(dtype=float) / widest
    ax.add_collection(
        LineCollection(segments, linewidths=widths, colors="#1b9e77", alpha=0.45, zorder=1)
    )
    sent = a.groupby("district")["samples"].sum()
    ran = a.groupby("lab")["reactions"].sum()
    size = max(float(sent.max()), 1.0) if len(sent) else 1.0
    ax.scatter(
        [d.lon for d in scn.districts],
        [d.lat for d in scn.districts],
        s=[8 + 120 * sent.get(d.code, 0) / size for d in scn.districts],
        color="#7570b3",
        alpha=0.7,
        zorder=2,
        label=word("units", lang),
    )
    used = [lab for lab in scn.labs if ran.get(lab.id, 0) > 0]
    idle = [lab for lab in scn.labs if ran.get(lab.id, 0) <= 0]
    most = max(float(ran.max()), 1.0) if len(ran) else 1.0
    ax.scatter(
        [x.lon for x in used],
        [x.lat for x in used],
        marker="s",
        s=[20 + 160 * ran.get(x.id, 0) / most for x in used],
        color="#d95f02",
        zorder=3,
        label=word("labs_used", lang),
    )
    if idle:
        ax.scatter(
            [x.lon for x in idle],
            [x.lat for x in idle],
            marker="s",
            s=20,
            facecolor="none",
            edgecolor="#666666",
            zorder=3,
            label=word("labs_idle", lang),
        )
    ax.set_aspect(1 / max(np.cos(np.radians(np.mean([d.lat for d in scn.districts]))), 0.2))
    ax.set_xlabel(word("longitude", lang), fontsize=8)
    ax.set_ylabel(word("latitude", lang), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_formatter(lambda v, _: number_text(v, lang, ".1f"))
    ax.yaxis.set_major_formatter(lambda v, _: number_text(v, lang, ".1f"))
    ax.set_title(f"{scn.province.name}: {word('map_title', lang)}", fontsize=10)
    ax.legend(loc="best", fontsize=7, markerscale=0.6)
    fig.tight_layout()
    save_png(fig, path)
    return fig


STREAM_COLOURS = ["#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#666666"]


def reagent_series(rep: PlanReport, most: int = REAGENT_LABS) -> pd.DataFrame:
    """Reagent left at the end of each day (reactions) with and without the plan's shipments,
    for the labs that send or receive them (at most ``most``, largest shipments in and out
    first; with none, the labs that run lowest). Columns: lab, lab_name, day, with, without."""
    inp = rep.plan.input
    with_, without = reagent_left_with_and_without(rep.plan)
    ships = rep.shipments
    li = {lab: i for i, lab in enumerate(inp.lab_ids)}
    if len(ships):
        moved = (
            pd.concat(
                [
                    ships[["source", "reactions"]].set_axis(["lab", "reactions"], axis=1),
                    ships[["target", "reactions"]].set_axis(["lab", "reactions"], axis=1),
                ]
            )
            .groupby("lab")["reactions"]
            .sum()
        )
        moved = moved[moved.index.isin(li)].sort_values(ascending=False, kind="stable")
        keep = [li[lab] for lab in moved.index[:most]]
    else:
        keep = [int(i) for i in np.argsort(without.min(axis=1), kind="stable")[:most]]
    names = {lab.id: lab.name for lab in rep.plan.scenario.labs}
    T = inp.days
    return pd.DataFrame(
        {
            "lab": np.repeat([inp.lab_ids[i] for i in keep], T),
            "lab_name": np.repeat([names[inp.lab_ids[i]] for i in keep], T),
            "day": np.tile(np.arange(1, T + 1), len(keep)),
            "with": with_[keep].ravel(),
            "without": without[keep].ravel(),
        }
    )


def chart_reagent(rep: PlanReport, path: Path, lang: str = "en") -> Figure:
    """One panel per lab that sends or receives shipments: its reagent left at the end of
    each day with the shipments (solid) and without them (dashed), against zero. Without
    supply routes, the labs that run lowest, their reagent left each day."""
    series = reagent_series(rep)
    routes = rep.plan.input.supply is not None
    labs = list(dict.fromkeys(series["lab"]))
    cols = min(4, max(len(labs), 1))
    rows = max(1, -(-len(labs) // cols))
    fig = new_figure(3.0 * cols + 0.5, 2.2 * rows + 1.2)
    for i, (_, g) in enumerate(series.groupby("lab", sort=False)):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.axhline(0, color="#888888", lw=0.8)
        solid = word("with_shipments" if routes else "reagent_left", lang)
        ax.plot(g["day"], g["with"], color="#1b9e77", lw=1.8, label=solid)
        if routes:
            ax.plot(
                g["day"],
                g["without"],
                color="#d95f02",
                lw=1.4,
                ls="--",
                label=word("without_shipments", lang),
            )
        ax.set_title(textwrap.fill(str(g["lab_name"].iloc[0]), 40), fontsize=7)
        ax.set_xticks(g["day"])
        ax.tick_params(labelsize=7)
        ax.yaxis.set_major_formatter(lambda v, _: number_text(v, lang, ",.0f"))
        if i % cols == 0:
            ax.set_ylabel(word("reagent_left", lang), fontsize=7)
        if i >= len(labs) - cols:
            ax.set_xlabel(word("day", lang), fontsize=7)
        if i == 0:
            fig.legend(loc="lower center", ncol=2, fontsize=8)
    title = word("reagent_title" if routes else "reagent_lowest", lang)
    fig.suptitle(f"{rep.plan.scenario.province.name}: {title}", fontsize=10)
    # fixed margins: tight_layout draws the figure once more just to measure it
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.16, wspace=0.3, hspace=0.55)
    save_png(fig, path)
    return fig


# the plan's charts by file name
CHARTS = {
    "tested_vs_target.png": chart_days,
    "lab_utilisation.png": chart_labs,
    "lab_week.png": chart_lab_week,
    "map.png": chart_map,
    "reagent.png": chart_reagent,
}
