"""Daily assignment of each unit's samples to labs (OR-Tools), with shortfall reports.

Imports go one way, top to bottom (a module imports only modules below it; modules on one line
do not import each other; tests/test_imports.py checks it):

    page                   the one-page report (HTML, printable)
    compare, output,       the plan against the greedy rule and without shipments; files, charts;
    summary                the summary's sentences and table rows (terminal and page)
    pipeline               make_plan, plan_scenario: solver choice, rounding, fallback
    report, screening      tables and the shortfall report; screening divided by risk
    labels, check          the report's words; the independent plan check
    rounding, result       whole samples from an LP solution; the Plan
    lp, columns, network,  solvers: whole LP (GLOP/HiGHS), column generation (HiGHS),
    greedy                 min-cost flow, the coordinator's rule
    ortools_lp, mincostflow  OR-Tools' bulk solution access; integer min-cost flow engines
    flow                   the allocation as a flow network; LP values and duals read back
    model                  the LP form with weights and costs
    data                   the plan's input arrays from a scenario
    supply                 the supply network's arrays; whole shipments
    notes                  the plan's notes, in English and Vietnamese
"""

from labopt.schedule.check import CheckReport, check_plan
from labopt.schedule.data import PlanInput, PlanInputError, build_input
from labopt.schedule.pipeline import independent_check, make_plan, plan_scenario
from labopt.schedule.report import PlanReport, build_report
from labopt.schedule.result import Plan

__all__ = [
    "CheckReport",
    "Plan",
    "PlanInput",
    "PlanInputError",
    "PlanReport",
    "build_input",
    "build_report",
    "check_plan",
    "independent_check",
    "make_plan",
    "plan_scenario",
]
