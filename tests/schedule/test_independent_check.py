"""The independent check run apart from the plan (as `labopt plan --out` runs it, while the
workbook and charts are written) reads the same demand and finds the same as the check the
plan runs in line: on every example, and screening by risk (the demand divided as planned)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labopt.scenario import load_scenario
from labopt.schedule import independent_check, plan_scenario
from tests.cli.helpers import run
from tests.schedule.test_screening_mode import by_risk, one_lab

EXAMPLES = Path(__file__).parents[2] / "labopt" / "examples"
CASES = ["thanh_hoa", "thanh_hoa_variant", "tra_vinh", "quang_ninh"]


@pytest.mark.parametrize("risk", [False, True])
@pytest.mark.parametrize("name", CASES)
def test_the_check_apart_finds_what_the_check_in_line_finds(name, risk):
    scn = load_scenario(EXAMPLES / name)
    if risk:
        scn = by_risk(scn)
    in_line = plan_scenario(scn, 4)
    apart = plan_scenario(scn, 4, check=False)
    assert apart.check is None
    assert in_line.check is not None
    assert independent_check(apart).to_dict() == in_line.check.to_dict()
    assert in_line.check.checked["status_rows"] > 0


def test_the_check_apart_reads_the_demand_divided_by_risk(tmp_path):
    """Screening by risk collects less than the demand as given: checked against the demand
    as given, the plan would look short; against the divided demand it is right."""
    scn = load_scenario(one_lab(tmp_path / "s"))
    rep = plan_scenario(scn, check=False)
    assert rep.screening_comparison is not None
    assert independent_check(rep).ok
    as_given = independent_check(rep, rep.plan.scenario)
    assert not as_given.ok  # the check does tell the two demands apart


def test_plan_out_records_the_check_in_summary_json(tmp_path):
    out = tmp_path / "o"
    r = run("plan", EXAMPLES / "thanh_hoa", "--out", out, "--days", "3")
    assert r.exit_code == 0, r.output
    assert "Independent check: OK" in r.output
    check = json.loads((out / "summary.json").read_text(encoding="utf-8"))["check"]
    assert check["ok"] is True and check["checked"]["allocations"] > 0
