"""The optimised plan against the coordinator's greedy rule, on the same scenario."""

from __future__ import annotations

from labopt.scenario.model import Scenario
from labopt.schedule.pipeline import plan_scenario
from labopt.schedule.report import PlanReport, totals


def compare_with_greedy(scn: Scenario, report: PlanReport) -> dict:
    """Samples tested, tested within turnaround and untested, plan minus greedy, per stream.

    "Urgent" streams are those that may not be pooled (reactive, symptomatic)."""
    greedy = plan_scenario(scn, report.plan.input.days, method="greedy", check=True)
    ours, theirs = totals(report), totals(greedy)
    urgent = [s.id for s in scn.streams if not s.poolable]
    per = {
        s: {
            k: ours[s][k] - theirs[s][k] for k in ("tested", "tested_within_turnaround", "untested")
        }
        for s in ours
    }
    more_urgent = sum(per[s]["tested_within_turnaround"] for s in urgent)
    more_all = sum(v["tested_within_turnaround"] for v in per.values())
    fewer_untested = -sum(v["untested"] for v in per.values())
    return {
        "greedy_check_ok": greedy.check is not None and greedy.check.ok,
        "plan": ours,
        "greedy": theirs,
        "difference": per,
        "more_urgent_within_turnaround": more_urgent,
        "more_within_turnaround": more_all,
        "fewer_untested": fewer_untested,
        "text": {
            "en": (
                f"Against the greedy rule (nearest lab with room, most urgent first): the "
                f"plan tests {more_urgent:+,} urgent samples ({', '.join(urgent)}) and "
                f"{more_all:+,} samples in all within turnaround, and leaves "
                f"{fewer_untested:,} fewer samples untested."
            ),
            "vi": (
                f"So với cách phân bổ thủ công (phòng gần nhất còn chỗ, khẩn cấp trước): kế "
                f"hoạch xét nghiệm thêm {more_urgent:+,} mẫu khẩn cấp ({', '.join(urgent)}) "
                f"và {more_all:+,} mẫu nói chung trong thời hạn, và bớt {fewer_untested:,} "
                f"mẫu không được xét nghiệm."
            ),
        },
    }
