"""The optimised plan against the coordinator's greedy rule, and against the same scenario
without its supply routes (no shipments)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from labopt.numbers import fill
from labopt.scenario.model import Scenario
from labopt.schedule.pipeline import plan_scenario
from labopt.schedule.report import PlanReport, totals
from labopt.schedule.supply import Supply, net_received


def compare_with_greedy(scn: Scenario, report: PlanReport) -> dict:
    """Samples tested, tested within turnaround and untested, plan minus greedy, per stream;
    with supply routes, also the plan with and without its shipments (``supply``, else None).

    "Urgent" streams are those that may not be pooled (reactive, symptomatic)."""
    greedy = plan_scenario(scn, report.plan.input.days, method="greedy", check=True)
    ours, theirs = totals(report), totals(greedy)
    urgent = urgent_streams(scn)
    per = {
        s: {
            k: ours[s][k] - theirs[s][k] for k in ("tested", "tested_within_turnaround", "untested")
        }
        for s in ours
    }
    more_urgent = sum(per[s]["tested_within_turnaround"] for s in urgent)
    more_all = sum(v["tested_within_turnaround"] for v in per.values())
    fewer_untested = -sum(v["untested"] for v in per.values())
    supply = compare_without_shipments(scn, report)
    text = {
        lang: fill(
            GREEDY_TEXT[lang],
            lang,
            u=difference_words(lang, more_urgent),
            a=difference_words(lang, more_all),
            untested=difference_words(lang, -fewer_untested),
            names=", ".join(scn.stream_by_id[s].named(lang) for s in urgent),
        )
        for lang in ("en", "vi")
    }
    if supply is not None:
        text = {lang: f"{line}\n{supply['text'][lang]}" for lang, line in text.items()}
    return {
        "greedy_check_ok": greedy.check is not None and greedy.check.ok,
        "plan": ours,
        "greedy": theirs,
        "difference": per,
        "more_urgent_within_turnaround": more_urgent,
        "more_within_turnaround": more_all,
        "fewer_untested": fewer_untested,
        "supply": supply,
        "text": text,
    }


GREEDY_TEXT = {
    "en": "Against the greedy rule (nearest lab with room, most urgent first): within "
    "turnaround, the plan tests {u} urgent samples ({names}) and {a} samples in all; it leaves "
    "{untested} samples untested.",
    "vi": "So với cách phân bổ thủ công (phòng gần nhất còn chỗ, khẩn cấp trước): trong thời "
    "hạn, kế hoạch xét nghiệm {u} mẫu khẩn cấp ({names}) và {a} mẫu nói chung; số mẫu không "
    "được xét nghiệm {untested}.",
}


def difference_words(lang: str, n: int) -> str:
    """A difference in words: "2,100 more", "2,100 fewer", "as many" (Vietnamese: "thêm
    2.100", "ít hơn 2.100", "bằng nhau")."""
    if lang == "vi":
        return fill(
            "thêm {n:,}" if n > 0 else "ít hơn {n:,}" if n < 0 else "bằng nhau", lang, n=abs(n)
        )
    return fill("{n:,} more" if n > 0 else "{n:,} fewer" if n < 0 else "as many", lang, n=abs(n))


def urgent_streams(scn: Scenario) -> list[str]:
    """The streams both comparisons call urgent: those that may not be pooled (reactive,
    symptomatic)."""
    return [s.id for s in scn.streams if not s.poolable]


def compare_without_shipments(scn: Scenario, report: PlanReport) -> dict | None:
    """The plan with its shipments against the same scenario planned without supply routes:
    samples tested, urgent samples (urgent_streams) tested within
    turnaround, samples untested and still waiting at the end, and reagent left at the end of
    each day in the labs and in the stores (reactions). None when the scenario has no supply
    routes."""
    sup = report.plan.input.supply
    if sup is None or scn.supply_routes.empty:
        return None
    bare = replace(scn, supply_routes=scn.supply_routes.iloc[:0])
    without = plan_scenario(bare, report.plan.input.days, check=True)
    urgent = urgent_streams(scn)
    sides = {"with": _figures(report, urgent, sup), "without": _figures(without, urgent, sup)}
    more = sides["with"]["tested"] - sides["without"]["tested"]
    more_urgent = (
        sides["with"]["urgent_within_turnaround"] - sides["without"]["urgent_within_turnaround"]
    )
    w, wo = sides["with"], sides["without"]
    pairs = list(zip(w["reagent_left"], wo["reagent_left"], strict=True))
    text = {}
    for lang in ("en", "vi"):
        days = ", ".join(
            fill("{d}: {a:,.0f}/{b:,.0f}", lang, d=d + 1, a=a, b=b)
            for d, (a, b) in enumerate(pairs)
        )
        names = ", ".join(scn.stream_by_id[s].named(lang) for s in urgent)
        text[lang] = fill(
            SUPPLY_TEXT[lang],
            lang,
            w=w,
            wo=wo,
            more=more,
            more_urgent=more_urgent,
            days=days,
            names=names,
        )
    return {
        "urgent_streams": urgent,
        "with": w,
        "without": wo,
        "without_check_ok": without.check is not None and without.check.ok,
        "more_tested": more,
        "more_urgent_within_turnaround": more_urgent,
        "text": text,
    }


SUPPLY_TEXT = {
    "en": "With the shipments against without them (the same scenario without supply routes): "
    "{w[tested]:,} samples tested against {wo[tested]:,} ({more:+,}), "
    "{w[urgent_within_turnaround]:,} urgent ({names}) within turnaround against "
    "{wo[urgent_within_turnaround]:,} ({more_urgent:+,}), {w[untested]:,} untested against "
    "{wo[untested]:,}; reagent left in the labs at the end of each day, with/without: {days}.",
    "vi": "Có các đợt chuyển sinh phẩm so với không có (cùng kịch bản, không có tuyến chuyển): "
    "{w[tested]:,} mẫu được xét nghiệm so với {wo[tested]:,} ({more:+,}), "
    "{w[urgent_within_turnaround]:,} mẫu khẩn cấp ({names}) trong thời hạn so với "
    "{wo[urgent_within_turnaround]:,} ({more_urgent:+,}), {w[untested]:,} mẫu không xét nghiệm "
    "so với {wo[untested]:,}; sinh phẩm còn lại ở các phòng cuối mỗi ngày, có/không: {days}.",
}


def _figures(rep: PlanReport, urgent: list[str], sup: Supply) -> dict:
    """A plan's samples tested, urgent samples within turnaround, untested, waiting at the
    end, and reagent left
    at the end of each day (labs: the days table's; stores ``sup``: their stock less what
    the plan shipped from them)."""
    tot = totals(rep)
    plan = rep.plan
    shipped = plan.shipments
    if shipped is None:  # planned without routes: the stores keep their stock
        shipped = np.zeros((sup.nr, plan.input.days))
    _, sent = net_received(sup, shipped, plan.input.nl)
    return {
        "tested": sum(v["tested"] for v in tot.values()),
        "urgent_within_turnaround": sum(tot[s]["tested_within_turnaround"] for s in urgent),
        "untested": sum(v["untested"] for v in tot.values()),
        "waiting_at_end": sum(v["waiting_at_end"] for v in tot.values()),
        "reagent_left": [round(float(v), 1) for v in rep.days["reagent_left"]],
        "store_left": [round(float(v), 1) for v in (sup.store_stock + sent).sum(axis=0)],
    }
