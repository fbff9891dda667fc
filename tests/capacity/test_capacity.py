"""Capacity arithmetic against hand-computed cases; what-it-takes against brute force."""

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from labopt.capacity import capacity_report, lab_days, what_it_takes
from labopt.examples import EXAMPLES
from labopt.scenario import load_scenario
from labopt.scenario.model import Expansion

TINY = Path(__file__).parents[1] / "data" / "tiny"
FIXTURES = EXAMPLES


@pytest.fixture(scope="module")
def tiny():
    return load_scenario(TINY)


def test_lab_limits_by_hand(tiny):
    days = {ld.lab: ld for ld in lab_days(tiny, 1)}
    # cdc: 2 shifts x 8 h = 16 h; PCR 2 h runs -> 8 runs x 2 machines x (96 - 4) wells
    assert days["cdc"].pcr == 2 * 8 * 92 == 1472
    # extraction 1.5 h runs -> floor(16 / 1.5) = 10 runs x 2 machines x 96 tubes
    assert days["cdc"].extraction == 10 * 2 * 96 == 1920
    assert days["cdc"].staff == 6 * 2 * 200 == 2400  # policy productivity 200
    assert days["cdc"].reactions == 1472 and days["cdc"].binding == ("pcr",)
    # hosp: 2.5 h runs -> 6 runs x 90 wells; 16 extraction runs x 32; own productivity 150
    assert (days["hosp"].pcr, days["hosp"].extraction, days["hosp"].staff) == (540, 512, 600)
    assert days["hosp"].reagent == 400 and days["hosp"].binding == ("reagent",)
    # standby lab: 1 shift, 4 runs x 92
    assert days["priv"].reactions == 368 and days["priv"].status == "standby"


def test_reagent_runs_out_and_deliveries_arrive(tiny):
    hosp = [{ld.lab: ld for ld in lab_days(tiny, d)}["hosp"].reagent for d in (1, 2, 3)]
    # day 1: 400 in stock, all used; day 2: +500 delivered; day 3: used up (capacity 512)
    assert hosp == [400, 500, 0]
    cdc = [{ld.lab: ld for ld in lab_days(tiny, d)}["cdc"].reagent for d in (1, 2, 3)]
    assert cdc == [5000, 5000 - 1472, 5000 - 2 * 1472]


def test_province_totals_by_hand(tiny):
    r = capacity_report(tiny, 1)
    assert r.reactions_per_day == 1472 + 400
    assert r.standby_reactions_per_day == 368
    per = r.reactions_per_pooled_sample
    # screening demand day 1: a 3000 samples at 1 %, b 1000 at 0.2 %: weighted mean of ET
    et = {d.district: d.reactions_per_sample for d in r.designs}
    assert per == pytest.approx((3000 * et["a"] + 1000 * et["b"]) / 4000)
    assert r.pooled_samples_per_day == int(1872 / per)
    assert r.reactions_needed == math.ceil(1000 + 5000 * per)
    assert r.meets_targets is (r.reactions_needed <= 1872)
    # unit a reaches labs validated up to 10, so its design pools at most 10
    assert {d.district: d.max_pool for d in r.designs} == {"a": 10, "b": 10}
    out = r.to_dict()
    assert set(out["province"]) >= {
        "single_samples_per_day",
        "pooled_samples_per_day",
        "reactions_per_day",
        "targets",
        "meets_targets",
    }
    assert out["binding"] == [
        {"limit": "pcr", "labs": ["cdc"], "reactions": 1472},
        {"limit": "reagent", "labs": ["hosp"], "reactions": 400},
    ]


def _brute_force_min_effort(scn, day, needed, ex: Expansion):
    """Independent exhaustive search over every lab's additions (small maxima)."""
    pol = scn.policy
    per_lab = []
    for lab in scn.labs:
        reagent = {ld.lab: ld for ld in lab_days(scn, day)}[lab.id].reagent
        options = []
        ons = (1,) if lab.status == "active" else (0, 1)
        for on, s, pm, em, t in itertools.product(
            ons,
            range(3 - lab.shifts_per_day + 1),
            range(ex.max_pcr_machines + 1),
            range(ex.max_extraction_machines + 1),
            range(ex.max_technicians + 1),
        ):
            hours = min(24, (lab.shifts_per_day + s) * pol.shift_hours)
            pcr = (
                (lab.pcr_machines + pm)
                * int(hours / lab.run_hours + 1e-9)
                * (lab.wells_per_run - lab.control_wells_per_run)
            )
            ext = (
                (lab.extraction_machines + em)
                * int(hours / lab.extraction_run_hours + 1e-9)
                * lab.extraction_samples_per_run
            )
            staff = (
                (lab.staff_per_shift + t)
                * (lab.shifts_per_day + s)
                * (lab.reactions_per_staff_shift or pol.reactions_per_staff_shift)
            )
            cap = min(pcr, ext, staff) if on else 0
            effort = (
                (ex.standby_lab if lab.status == "standby" and on else 0)
                + s * ex.extra_shift
                + pm * ex.pcr_machine
                + em * ex.extraction_machine
                + t * ex.technician
            )
            options.append((effort, cap, reagent if on else 0))
        per_lab.append(options)
    best = math.inf
    for combo in itertools.product(*per_lab):
        effort = sum(c[0] for c in combo)
        if effort >= best:
            continue
        base = sum(min(cap, r) for _, cap, r in combo)
        top = sum(cap for _, cap, _ in combo)
        if top < needed:
            continue
        # reagent closes the rest where labs are reagent-bound; charged per reaction
        effort += max(0, needed - base) / 1000 * ex.reagent_per_1000
        best = min(best, effort)
    return best


@pytest.mark.parametrize("day,needed", [(1, 1911), (2, 2133), (2, 2600), (3, 2400)])
def test_what_it_takes_is_cheapest(tiny, day, needed):
    ex = Expansion(max_pcr_machines=1, max_extraction_machines=1, max_technicians=2)
    scn = load_scenario(TINY).with_settings(expansion=ex.model_dump())
    plan = what_it_takes(scn, lab_days(scn, day), needed)
    assert plan.feasible
    assert plan.total_effort == pytest.approx(
        _brute_force_min_effort(scn, day, needed, ex), abs=2e-3
    )
    assert plan.available + sum(c.after - c.before for c in plan.changes) >= needed


def test_what_it_takes_says_when_nothing_suffices(tiny):
    plan = what_it_takes(tiny, lab_days(tiny, 1), 10**6)
    assert not plan.feasible and plan.reachable < 10**6
    assert any("still" in line and "short" in line for line in plan.reasoning())


@pytest.mark.parametrize(
    "name", ["thanh_hoa", "thanh_hoa_variant", "quang_ninh", "thai_nguyen", "tra_vinh", "mai_son"]
)
def test_every_fixture_loads_and_reports_capacity(name):
    scn = load_scenario(FIXTURES / name)
    assert len(scn.districts) >= 9 and any(lab.status == "active" for lab in scn.labs)
    for day in sorted({1, scn.province.days // 2 + 1, scn.province.days}):
        r = capacity_report(scn, day)
        assert r.reactions_per_day > 0
        assert 0 < r.reactions_per_pooled_sample < 1
        if not r.meets_targets and r.expansion.feasible:
            gained = sum(c.after - c.before for c in r.expansion.changes)
            assert r.reactions_per_day + gained >= r.reactions_needed


def test_thanh_hoa_surge_falls_short_of_the_target():
    r = capacity_report(load_scenario(FIXTURES / "thanh_hoa"), 4)
    assert r.single_target == 8000 and r.pooled_target == 80000
    assert not r.meets_targets and r.expansion is not None


def test_capacity_cli_json_and_errors(tmp_path):
    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "labopt.cli.main", *a],
            capture_output=True,
            check=False,
            text=True,
            timeout=300,
        )

    r = run("capacity", str(TINY), "--day", "2", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"labs", "province", "binding"} <= set(out)
    assert out["province"]["meets_targets"] is False
    assert out["what_it_takes"]["feasible"] is True
    r = run("capacity", str(TINY), "--day", "9")
    assert r.returncode == 2 and "day: must be between 1 and 3" in r.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    r = run("capacity", str(bad))
    assert r.returncode == 2 and "scenario.toml: missing" in r.stderr


def test_what_it_takes_gives_the_same_changes_every_time():
    """Thanh Hóa's day 4 has ties between equally cheap changes: the answer must not depend
    on which solver thread finishes first."""
    scn = load_scenario(FIXTURES / "thanh_hoa")
    answers = {
        json.dumps(
            capacity_report(scn, day=4).to_dict()["what_it_takes"], sort_keys=True, default=str
        )
        for _ in range(4)
    }
    assert len(answers) == 1
