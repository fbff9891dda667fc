"""Daily assignment of each unit's samples to labs (OR-Tools), with shortfall reports."""

from labopt.schedule.check import CheckReport, check_plan
from labopt.schedule.data import PlanInput, PlanInputError, build_input
from labopt.schedule.plan import Plan, make_plan
from labopt.schedule.report import PlanReport, build_report


def plan_scenario(
    scenario,
    days: int | None = None,
    *,
    method: str | None = None,
    check: bool = True,
    progress=None,
    deadline: float | None = None,
) -> PlanReport:
    """Plan, tabulate and (by default) independently check a scenario. ``deadline``: see
    make_plan."""
    plan = make_plan(scenario, days, method=method, progress=progress, deadline=deadline)
    if progress:
        progress("tables and shortfall report")
    report = build_report(plan)
    if check:
        if progress:
            progress("independent check")
        report.check = check_plan(scenario, report.allocations, report.status)
    return report


__all__ = [
    "CheckReport",
    "Plan",
    "PlanInput",
    "PlanInputError",
    "PlanReport",
    "build_input",
    "build_report",
    "check_plan",
    "make_plan",
    "plan_scenario",
]
