"""`labopt plan`: the main job. Assign every unit's samples to labs, day by day."""

from __future__ import annotations

import gc
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.status import Status
from rich.table import Table

from labopt.cli.common import Force, Json, NumberFormatOption, console, print_json, reports_errors
from labopt.numbers import date_text, fill, number_text
from labopt.scenario import load_scenario
from labopt.schedule import plan_scenario
from labopt.schedule.check import CheckReport
from labopt.schedule.compare import compare_with_greedy
from labopt.schedule.labels import check_lang, solver_word, summary_texts, value
from labopt.schedule.output import write_outputs

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "{name}: plan for {days} days from {start}",
        "solver": "Solver: {method}, status {status}; this whole-sample plan is within {gap} "
        "of the optimum (LP bound), "
        "solved in {secs:.2f} s ({vars:,} allocation variables)",
        "totals": "Over the horizon",
        "stream": "stream",
        "demand": "demand",
        "tested": "tested",
        "untested": "untested",
        "waiting": "still waiting",
        "before": "waiting at the start",
        "turnaround": "within turnaround",
        "shortfall": "Shortfall and bottlenecks",
        "check_ok": "Independent check: OK ({allocations:,} allocations, {rows:,} unit-stream-"
        "days, {labdays:,} lab-days)",
        "check_bad": "Independent check FAILED: {n} violation(s)",
        "meets": "The plan meets the targets every day.",
        "shipments": "Reagent shipments: {n:,}, {reactions:,} reactions in all (supply.csv "
        "lists each, with why)",
        "kit_shipments": "Collection kit shipments: {n:,}, {kits:,} kits in all; samples not "
        "collected for lack of kits: {lost:,}",
        "misses": "The plan does not meet the targets every day (see the shortfall).",
        "wrote": "Wrote {n} files to {out}",
        "more": "... and {n} more in shortfall.csv",
        "screening": "Screening by risk: the units should collect {collect:,} of the {could:,} "
        "samples they could; {tested:,} tested with {reactions:,.0f} reactions find about "
        "{found:,.0f} infections, against {found0:,.0f} with {reactions0:,.0f} reactions on the "
        "demand as given (screening.csv lists each unit's day)",
    },
    "vi": {
        "title": "{name}: kế hoạch {days} ngày từ {start}",
        "solver": "Bộ giải: {method}, trạng thái {status}; kế hoạch theo mẫu nguyên cách tối ưu "
        "(cận LP) không quá {gap}, "
        "giải trong {secs:.2f} giây ({vars:,} biến phân bổ)",
        "totals": "Cả kỳ kế hoạch",
        "stream": "luồng mẫu",
        "demand": "cần xét nghiệm",
        "tested": "đã xét nghiệm",
        "untested": "không xét nghiệm",
        "waiting": "còn chờ",
        "before": "chờ từ trước",
        "turnaround": "trong thời hạn",
        "shortfall": "Thiếu hụt và điểm nghẽn",
        "check_ok": "Kiểm tra độc lập: đạt ({allocations:,} phân bổ, {rows:,} địa phương-luồng-"
        "ngày, {labdays:,} phòng-ngày)",
        "check_bad": "Kiểm tra độc lập KHÔNG ĐẠT: {n} vi phạm",
        "meets": "Kế hoạch đạt chỉ tiêu tất cả các ngày.",
        "shipments": "Chuyển sinh phẩm: {n:,} đợt, tổng {reactions:,} phản ứng (chi tiết và lý "
        "do trong supply.csv)",
        "kit_shipments": "Chuyển bộ dụng cụ lấy mẫu: {n:,} đợt, tổng {kits:,} bộ; mẫu không được "
        "lấy do thiếu dụng cụ: {lost:,}",
        "misses": "Kế hoạch không đạt chỉ tiêu mọi ngày (xem phần thiếu hụt).",
        "wrote": "Đã ghi {n} tệp vào {out}",
        "more": "... và {n} mục khác trong shortfall.csv",
        "screening": "Sàng lọc theo nguy cơ: các địa phương nên lấy {collect:,} trong {could:,} "
        "mẫu có thể lấy; xét nghiệm {tested:,} mẫu với {reactions:,.0f} phản ứng phát hiện "
        "khoảng {found:,.0f} ca nhiễm, so với {found0:,.0f} ca với {reactions0:,.0f} phản ứng "
        "theo nhu cầu ban đầu (chi tiết từng địa phương, từng ngày trong screening.csv)",
    },
}


# a terminal narrower than this gets the day table without borders, its cells wrapped
WIDE_TABLE = 140

# the shortfall report's first lines (the most pressing: reagent run-outs, then the days)
SHORTFALL_LINES = 20

# the daily table's column headings
COLUMNS: dict[str, tuple[str, ...]] = {
    "en": (
        "day",
        "date",
        "single tested / target",
        "pooled tested / target",
        "reactions used / capacity",
        "reagent left",
        "waiting",
        "untested",
        "cause",
    ),
    "vi": (
        "ngày",
        "ngày tháng",
        "mẫu đơn / chỉ tiêu",
        "mẫu gộp / chỉ tiêu",
        "phản ứng dùng / công suất",
        "sinh phẩm còn lại",
        "chờ",
        "không xét nghiệm",
        "nguyên nhân",
    ),
}


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
    force: Force = False,
    number_format: NumberFormatOption = None,
) -> None:
    """Plan the week: which pooling design and which lab for every unit, stream and day."""
    check_lang(lang)
    with _progress(shown=not json) as status:
        say = (lambda msg: status.update(f"[bold]{msg}...")) if status is not None else None
        if say:
            say("loading the scenario")
        scn = load_scenario(scenario, number_format)
        report = plan_scenario(scn, days, method=method, progress=say)
        comparison = compare_with_greedy(scn, report) if compare else None
        files = []
        if out is not None:
            if say:
                say("writing tables and charts")
            # the plan's objects live until the command ends: keep the collector from scanning
            # them again and again while the workbook's hundreds of thousands of cells are made
            gc.freeze()
            files = write_outputs(report, out, lang, force=force, reads=[scenario])
    if json:
        data = report.to_dict(lang)
        if comparison is not None:
            data["baseline"] = comparison
        if out is not None:
            data["files"] = [str(f) for f in files]
        print_json(data)
    else:
        print_summary(report, lang, comparison)
        if out is not None:
            console.print(fill(TEXT[lang]["wrote"], lang, n=len(files), out=out), highlight=False)
    if isinstance(report.check, CheckReport) and not report.check.ok:
        raise typer.Exit(code=3)


def _progress(shown: bool) -> AbstractContextManager[Status | None]:
    """A spinner on stderr naming the current step (none with --json: nothing but the object)."""
    if not shown:
        return nullcontext()
    return Console(stderr=True).status("[bold]starting...", spinner="dots")


def print_summary(rep, lang: str, comparison=None) -> None:
    t = TEXT[lang]
    plan = rep.plan

    def n(x: float, spec: str = ",") -> str:
        return number_text(x, lang, spec)

    scn = plan.scenario
    console.print(
        fill(
            t["title"],
            lang,
            name=scn.province.name,
            days=plan.input.days,
            start=scn.province.start_date,
        ),
        style="bold",
        highlight=False,
    )
    gap = "—" if plan.gap is None else number_text(plan.gap, lang, ".3%")
    console.print(
        fill(
            t["solver"],
            lang,
            method=solver_word(plan.method, lang),
            status=solver_word(plan.status, lang),
            gap=gap,
            secs=plan.timings.get("solve", 0.0),
            vars=plan.input.npairs * plan.input.ns * plan.input.days,
        ),
        highlight=False,
    )
    # a narrow terminal wraps headings and "tested / target" at their spaces, never cuts a
    # number or a date
    narrow = console.width < WIDE_TABLE
    table = Table(
        title_justify="left",
        box=box.SIMPLE_HEAD if narrow else box.HEAVY_HEAD,
        padding=(0, 0 if narrow else 1),
        collapse_padding=narrow,
    )
    for i, col in enumerate(COLUMNS[lang]):
        left = i < 2 or i == len(COLUMNS[lang]) - 1
        table.add_column(
            col,
            justify="left" if left else "right",
            no_wrap=i < 2 or not narrow,
            overflow="fold",
            min_width=10 if i == 1 else None,
        )
    sids = plan.input.stream_ids
    for r in rep.days.to_dict("records"):
        ok_s = r["single_samples_tested"] >= r["single_target"]
        ok_p = r["pooled_samples_tested"] >= r["pooled_target"]
        table.add_row(
            str(r["day"]),
            date_text(r["date"], lang),
            f"[{'green' if ok_s else 'red'}]{n(r['single_samples_tested'])}[/] / "
            f"{n(r['single_target'])}",
            f"[{'green' if ok_p else 'red'}]{n(r['pooled_samples_tested'])}[/] / "
            f"{n(r['pooled_target'])}",
            f"{n(r['reactions_used'], ',.0f')} / {n(r['reactions_capacity'])}",
            n(r["reagent_left"], ",.0f"),
            n(sum(r[f"waiting_{s}"] for s in sids)),
            n(sum(r[f"untested_{s}"] for s in sids)),
            value(r["cause"], lang),
        )
    console.print(table)
    tot = rep.to_dict(lang)["totals"]
    tt = Table(title=t["totals"], title_justify="left")
    before = any(v["waiting_at_start"] for v in tot.values())  # the scenario has a backlog
    cols = ["stream", *(["before"] if before else []), "demand", "tested", "turnaround"]
    for col in (*cols, "untested", "waiting"):
        tt.add_column(t[col], justify="right" if col != "stream" else "left")
    for s, v in tot.items():
        tt.add_row(
            scn.stream_by_id[s].named(lang),
            *([n(v["waiting_at_start"])] if before else []),
            n(v["demand"]),
            n(v["tested"]),
            n(v["tested_within_turnaround"]),
            n(v["untested"]),
            n(v["waiting_at_end"]),
        )
    console.print(tt)
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
        console.print(f"note: {note}", style="yellow", highlight=False, markup=False)
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
