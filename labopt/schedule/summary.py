"""The plan's summary as a person reads it, the same in the terminal and the one-page report:
its sentences and headings in English and Vietnamese, and the rows of its day and stream
tables with numbers and dates in the language's format (:mod:`labopt.numbers`)."""

from __future__ import annotations

from dataclasses import dataclass

from labopt.numbers import date_text, fill, number_text
from labopt.schedule.labels import solver_word, value
from labopt.schedule.report import PlanReport

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "{name}: plan for {days:|day|days} from {start}",
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
        "check_ok": "Independent check: OK ({allocations:,|allocation|allocations}, {rows:,} "
        "unit-stream-"
        "days, {labdays:,|lab-day|lab-days})",
        "check_bad": "Independent check FAILED: {n:,|violation|violations}",
        "meets": "The plan meets the targets every day.",
        "shipments": "Reagent shipments: {n:,}, {reactions:,|reaction|reactions} in all "
        "(supply.csv "
        "lists each, with why)",
        "kit_shipments": "Collection kit shipments: {n:,}, {kits:,|kit|kits} in all; samples not "
        "collected for lack of kits: {lost:,}",
        "misses": "The plan does not meet the targets every day (see the shortfall).",
        "wrote": "Wrote {n:|file|files} to {out}",
        "wrote_report": "Wrote the one-page report to {path}",
        "more": "... and {n} more in shortfall.csv",
        "screening": "Screening by risk: the units should collect {collect:,} of the "
        "{could:,|sample|samples} they could; {tested:,} tested with "
        "{reactions:,.0f|reaction|reactions} find about "
        "{found:,.0f|infection|infections}, against {found0:,.0f} with "
        "{reactions0:,.0f|reaction|reactions} on the "
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
        "check_bad": "Kiểm tra độc lập KHÔNG ĐẠT: {n:,} vi phạm",
        "meets": "Kế hoạch đạt chỉ tiêu tất cả các ngày.",
        "shipments": "Chuyển sinh phẩm: {n:,} đợt, tổng {reactions:,} phản ứng (chi tiết và lý "
        "do trong supply.csv)",
        "kit_shipments": "Chuyển bộ dụng cụ lấy mẫu: {n:,} đợt, tổng {kits:,} bộ; mẫu không được "
        "lấy do thiếu dụng cụ: {lost:,}",
        "misses": "Kế hoạch không đạt chỉ tiêu mọi ngày (xem phần thiếu hụt).",
        "wrote": "Đã ghi {n} tệp vào {out}",
        "wrote_report": "Đã ghi báo cáo một trang vào {path}",
        "more": "... và {n} mục khác trong shortfall.csv",
        "screening": "Sàng lọc theo nguy cơ: các địa phương nên lấy {collect:,} trong {could:,} "
        "mẫu có thể lấy; xét nghiệm {tested:,} mẫu với {reactions:,.0f} phản ứng phát hiện "
        "khoảng {found:,.0f} ca nhiễm, so với {found0:,.0f} ca với {reactions0:,.0f} phản ứng "
        "theo nhu cầu ban đầu (chi tiết từng địa phương, từng ngày trong screening.csv)",
    },
}


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


def title(rep: PlanReport, lang: str) -> str:
    """ "Thanh Hóa: plan for 7 days from 2021-10-04"."""
    scn = rep.plan.scenario
    start = scn.province.start_date
    return fill(
        TEXT[lang]["title"], lang, name=scn.province.name, days=rep.plan.input.days, start=start
    )


def solver_line(rep: PlanReport, lang: str) -> str:
    """How the plan was found: method, status, the whole-sample plan's own gap, time."""
    plan = rep.plan
    gap = "—" if plan.gap is None else number_text(plan.gap, lang, ".3%")
    return fill(
        TEXT[lang]["solver"],
        lang,
        method=solver_word(plan.method, lang),
        status=solver_word(plan.status, lang),
        gap=gap,
        secs=plan.timings.get("solve", 0.0),
        vars=plan.input.npairs * plan.input.ns * plan.input.days,
    )


@dataclass(frozen=True)
class DayRow:
    """One day of the day table, as text; ``single_met``/``pooled_met``: the target was met."""

    cells: tuple[str, ...]
    single_met: bool
    pooled_met: bool


def day_rows(rep: PlanReport, lang: str) -> list[DayRow]:
    """The day table's rows under COLUMNS[lang]: day, date, single and pooled tested / target,
    reactions used / usable capacity, reagent left, waiting, untested, cause."""
    sids = rep.plan.input.stream_ids

    def n(x: float, spec: str = ",") -> str:
        return number_text(x, lang, spec)

    rows = []
    for r in rep.days.to_dict("records"):
        rows.append(
            DayRow(
                (
                    str(r["day"]),
                    date_text(r["date"], lang),
                    f"{n(r['single_samples_tested'])} / {n(r['single_target'])}",
                    f"{n(r['pooled_samples_tested'])} / {n(r['pooled_target'])}",
                    f"{n(r['reactions_used'], ',.0f')} / {n(r['reactions_capacity'])}",
                    n(r["reagent_left"], ",.0f"),
                    n(sum(r[f"waiting_{s}"] for s in sids)),
                    n(sum(r[f"untested_{s}"] for s in sids)),
                    value(r["cause"], lang) or "",
                ),
                r["single_samples_tested"] >= r["single_target"],
                r["pooled_samples_tested"] >= r["pooled_target"],
            )
        )
    return rows


def stream_columns(rep: PlanReport, lang: str) -> list[str]:
    """The stream table's headings (with "waiting at the start" when the plan has a backlog)."""
    t = TEXT[lang]
    totals = rep.to_dict(lang)["totals"]
    before = any(v["waiting_at_start"] for v in totals.values())
    keys = ["stream", *(["before"] if before else []), "demand", "tested", "turnaround"]
    return [t[k] for k in (*keys, "untested", "waiting")]


def stream_rows(rep: PlanReport, lang: str) -> list[tuple[str, ...]]:
    """Per stream over the horizon, most urgent first: name, (waiting at the start), demand,
    tested, within turnaround, untested, still waiting."""
    totals = rep.to_dict(lang)["totals"]
    before = any(v["waiting_at_start"] for v in totals.values())
    streams = rep.plan.scenario.stream_by_id
    rows = []
    for s, v in totals.items():
        figures = [v["waiting_at_start"]] if before else []
        figures += [v[k] for k in ("demand", "tested", "tested_within_turnaround", "untested")]
        figures.append(v["waiting_at_end"])
        rows.append((streams[s].named(lang), *(number_text(f, lang) for f in figures)))
    return rows
