"""Each unit's screening round: the [screening] settings' mapping from epidemic level and area
type, risk groups from a file (bad rows named), `labopt screen allocate` and `size --groups`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from labopt.errors import InputError
from labopt.lab.tables import LabInputError
from labopt.numbers import number_format
from labopt.scenario import load_scenario, save_folder
from labopt.screening import size_for_detection
from labopt.screening.districts import ONE_PLACE, read_groups, rounds_table, unit_rounds
from labopt.screening.risk import RiskGroup, allocate_for_detection
from tests.cli.helpers import run
from tests.test_number_input import to_vi_folder

EXAMPLES = Path(__file__).parents[2] / "labopt" / "examples"
THANH_HOA = EXAMPLES / "thanh_hoa"


@pytest.fixture(scope="module")
def thanh_hoa():
    return load_scenario(THANH_HOA)


def test_each_unit_is_sized_by_its_level_and_area(thanh_hoa):
    cfg = thanh_hoa.settings.screening
    pol = thanh_hoa.policy
    rounds = unit_rounds(thanh_hoa, 3)
    assert len(rounds) == len(thanh_hoa.districts)
    demand = thanh_hoa.demand
    for r, unit in zip(rounds, thanh_hoa.districts, strict=True):
        p = getattr(cfg, f"design_prevalence_{unit.epidemic_level}") * getattr(cfg, unit.area_type)
        target = getattr(cfg, f"target_sensitivity_{unit.epidemic_level}")
        assert (r.design_prevalence, r.target_sensitivity) == pytest.approx((p, target))
        ref = size_for_detection(
            target, p, pool_size=cfg.pool_size, se=pol.pooling_se, sp=pol.pooling_sp
        )
        assert (r.samples, r.pools, r.positive_pools_cutoff) == (
            ref.samples,
            ref.pools,
            ref.positive_pools_cutoff,
        )
        assert r.population_sensitivity >= target and r.population_specificity >= 0.95
        asked = demand[
            (demand["day"] == 3)
            & (demand["district"] == unit.code)
            & (demand["stream"] == "screening")
        ]["samples"].sum()
        assert r.asked == asked
    # a riskier level asks for more, a concentrated urban area more than a rural one
    by = {(r.epidemic_level, r.area_type): r.samples for r in rounds}
    assert by[(3, "rural")] > by[(2, "rural")] > by[(1, "rural")]
    assert by[(3, "concentrated_urban")] > by[(3, "rural")]


def test_the_settings_are_the_scenarios_to_edit(tmp_path, thanh_hoa):
    edited = thanh_hoa.with_settings(
        screening={"design_prevalence_1": 0.02, "rural": 1.0, "pool_size": 10}
    )
    folder = save_folder(edited, tmp_path / "s")
    text = (folder / "scenario.toml").read_text()
    assert "[screening]" in text and "design_prevalence_1 = 0.02" in text
    back = load_scenario(folder)
    r = next(x for x in unit_rounds(back) if x.epidemic_level == 1 and x.area_type == "rural")
    ref = size_for_detection(0.80, 0.02, pool_size=10, se=0.95, sp=0.995)
    assert (r.samples, r.pool_size) == (ref.samples, 10)
    bad = text.replace("design_prevalence_1 = 0.02", "design_prevalence_1 = 2")
    (folder / "scenario.toml").write_text(bad)
    r = run("screen", "allocate", str(folder))
    assert r.exit_code != 0 and "screening.design_prevalence_1" in r.output


def test_a_unit_smaller_than_its_round_tests_everyone(thanh_hoa):
    small = thanh_hoa.districts[0].model_copy(update={"population": 300})
    scn = type(thanh_hoa)(**{**thanh_hoa.__dict__, "districts": [small, *thanh_hoa.districts[1:]]})
    r = unit_rounds(scn, 1, codes=[small.code])[0]
    assert r.samples == 300 and r.pools == 60 and "test everyone" in r.note
    assert r.population_sensitivity < r.target_sensitivity
    # the cut-off is the one of the pools really tested: specificity kept
    assert r.population_specificity >= scn.settings.screening.target_specificity
    assert r.groups == []


def _with_population(scn, population):
    unit = scn.districts[0].model_copy(update={"population": population})
    return type(scn)(**{**scn.__dict__, "districts": [unit, *scn.districts[1:]]}), unit.code


def test_a_unit_without_people_has_no_round(thanh_hoa):
    scn, code = _with_population(thanh_hoa, 0)
    r = unit_rounds(scn, 1, codes=[code])[0]
    assert (r.samples, r.pools, r.note) == (0, 0, "no people: no round")
    groups = {code: [RiskGroup("market", 5, 0.1), RiskGroup("rest", 1, 0.9)]}
    r = unit_rounds(scn, 1, groups, codes=[code])[0]
    assert r.samples == 0 and "no round" in r.note
    one_by_one = scn.with_settings(screening={"pool_size": 1}, policy={"pooling_sp": 1.0})
    assert unit_rounds(one_by_one, 1, codes=[code])[0].samples == 0


def test_groups_give_at_most_their_share_of_the_people(thanh_hoa):
    scn, code = _with_population(thanh_hoa, 100)
    groups = {code: [RiskGroup("market", 5, 0.1), RiskGroup("rest", 1, 0.9)]}
    r = unit_rounds(scn, 1, groups, codes=[code])[0]
    got = {g.group: g.samples for g in r.groups}
    assert got == {"market": 10, "rest": 90} and r.samples == 100
    assert "test them all" in r.note and r.population_sensitivity < r.target_sensitivity
    assert r.population_specificity >= 0.95


def test_a_setting_no_round_can_meet_names_the_unit_and_the_setting(thanh_hoa):
    scn = thanh_hoa.with_settings(screening={"design_prevalence_1": 1e-9})
    with pytest.raises(InputError) as exc:
        unit_rounds(scn, 1)
    text = str(exc.value)
    assert "unit '" in text and "screening.design_prevalence_1" in text


def test_groups_from_a_file_split_a_unit(tmp_path, thanh_hoa):
    code = thanh_hoa.districts[0].code
    f = tmp_path / "groups.csv"
    f.write_text(
        "district,group,relative_risk,share,available,at_least\n"
        f"{code},market,8,0.05,400,\n"
        f"{code},rest,1,0.95,,20\n"
    )
    groups = read_groups(f, [d.code for d in thanh_hoa.districts])
    assert groups == {
        code: [RiskGroup("market", 8.0, 0.05, 400, 0), RiskGroup("rest", 1.0, 0.95, None, 20)]
    }
    r = unit_rounds(thanh_hoa, 1, groups)
    split = next(x for x in r if x.district == code)
    ref = allocate_for_detection(
        groups[code],
        split.target_sensitivity,
        split.design_prevalence,
        pool_size=5,
        se=0.95,
        sp=0.995,
    )
    assert (
        split.samples
        == ref.samples
        < next(x for x in unit_rounds(thanh_hoa) if x.district == code).samples
    )
    assert [g.group for g in split.groups] == ["market", "rest"]
    table = rounds_table(r)
    assert {"samples_market", "samples_rest"} <= set(table.columns)
    assert table["samples_market"].isna().sum() == len(table) - 1  # the other units: one group
    assert [g for x in r for g in x.groups if x.district != code] == []


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ("a,x,2,0.5,,\na,y,1,0.5,,\n", "not a unit of the scenario"),
        ("{c},x,0,0.5,,\n{c},y,1,0.5,,\n", "relative_risk"),
        ("{c},x,2,0.5,,\n{c},y,1,0.4,,\n", "add up to 0.9"),
        ("{c},x,2,0.5,3,5\n{c},y,1,0.5,,\n", "more than the group's available"),
        ("{c},x,2,0.5,,\n{c},x,1,0.5,,\n", "group"),
        ("{c},x,2,half,,\n{c},y,1,0.5,,\n", "share"),
        ("{c},,2,0.5,,\n{c},y,1,0.5,,\n", "a value is required"),
    ],
)
def test_bad_group_rows_are_named(tmp_path, thanh_hoa, rows, said):
    code = thanh_hoa.districts[0].code
    f = tmp_path / "g.csv"
    f.write_text("district,group,relative_risk,share,available,at_least\n" + rows.format(c=code))
    with pytest.raises(LabInputError) as exc:
        read_groups(f, [d.code for d in thanh_hoa.districts])
    assert said in str(exc.value) and "g.csv" in str(exc.value)
    r = run("screen", "allocate", str(THANH_HOA), "--groups", str(f))
    assert r.exit_code != 0 and said in r.output


def test_screen_allocate_prints_writes_and_answers_json(tmp_path, thanh_hoa):
    r = run("screen", "allocate", str(THANH_HOA), "--date", "2021-10-06", "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["date"] == "2021-10-06"
    want = [u.to_dict() for u in unit_rounds(thanh_hoa, 3)]
    assert got["units"] == json.loads(json.dumps(want))
    out = tmp_path / "rounds.csv"
    r = run("screen", "allocate", str(THANH_HOA), "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "The rounds take" in r.stdout and "[screening] settings" in r.stdout
    table = pd.read_csv(out)
    assert table["samples"].tolist() == [u.samples for u in unit_rounds(thanh_hoa, 1)]
    again = run("screen", "allocate", str(THANH_HOA), "--out", str(out))
    assert again.exit_code != 0 and "--force" in again.output
    xlsx = tmp_path / "rounds.xlsx"
    assert run("screen", "allocate", str(THANH_HOA), "--out", str(xlsx)).exit_code == 0
    assert pd.read_excel(xlsx, sheet_name="screening")["samples"].sum() == table["samples"].sum()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--date", "2021-13-01"], "--date: expected a date as YYYY-MM-DD"),
        (["--date", "2021-09-01"], "--date: 2021-09-01 is outside"),
        (["--out", "x.txt"], "--out: a .csv or .xlsx file"),
    ],
)
def test_screen_allocate_names_a_bad_option(args, said):
    r = run("screen", "allocate", str(THANH_HOA), *args)
    assert r.exit_code != 0 and said in r.output


def test_screen_size_with_groups(tmp_path):
    f = tmp_path / "g.csv"
    f.write_text("group,relative_risk,share,available\nmarket,5,0.1,200\nrest,1,0.9,\n")
    r = run(
        "screen",
        "size",
        "--design-prevalence",
        "0.01",
        "--pool-size",
        "5",
        "--groups",
        str(f),
        "--json",
    )
    assert r.exit_code == 0, r.output
    ref = allocate_for_detection(
        [RiskGroup("market", 5, 0.1, 200), RiskGroup("rest", 1, 0.9)], 0.95, 0.01, pool_size=5
    )
    assert json.loads(r.stdout) == json.loads(json.dumps(ref.to_dict()))
    table = run("screen", "size", "--design-prevalence", "0.01", "--groups", str(f))
    assert table.exit_code == 0 and "From each group" in table.stdout
    both = run(
        "screen", "size", "--design-prevalence", "0.01", "--groups", str(f), "--population", "9"
    )
    assert both.exit_code != 0 and "--population" in both.output
    f.write_text("district,group,relative_risk,share\na,x,1,1\n")
    r = run("screen", "size", "--design-prevalence", "0.01", "--groups", str(f))
    assert r.exit_code != 0 and "groups of one place" in r.output


def test_groups_files_in_the_vi_number_format_with_percent_shares(tmp_path, thanh_hoa):
    code = thanh_hoa.districts[0].code
    vi = tmp_path / "vi.csv"
    vi.write_text(
        "district,group,relative_risk,share,available,at_least\n"
        f'{code},market,"3,5",10%,"1.200",\n'
        f"{code},rest,1,90 %,,20\n"
    )
    want = {code: [RiskGroup("market", 3.5, 0.1, 1200, 0), RiskGroup("rest", 1.0, 0.9, None, 20)]}
    codes = [d.code for d in thanh_hoa.districts]
    assert read_groups(vi, codes, fmt=number_format("vi")) == want
    with pytest.raises(LabInputError) as err:  # read as en, the vi numbers are refused
        read_groups(vi, codes)
    assert "row 2, column 'relative_risk'" in str(err.value) and "3.5" in str(err.value)
    assert "column 'available'" in str(err.value)
    one = tmp_path / "one.csv"
    one.write_text('group,relative_risk,share,available\nmarket,"3,5",10%,"1.200"\nrest,1,90%,\n')
    args = ["screen", "size", "--design-prevalence", "0.01", "--pool-size", "5", "--json"]
    args += ["--groups", str(one)]
    r = run(*args, "--number-format", "vi")
    assert r.exit_code == 0, r.output
    ref = allocate_for_detection(
        [RiskGroup("market", 3.5, 0.1, 1200), RiskGroup("rest", 1, 0.9)], 0.95, 0.01, pool_size=5
    )
    assert json.loads(r.stdout) == json.loads(json.dumps(ref.to_dict()))
    bad = run(*args, "--number-format", "xx")
    assert bad.exit_code != 0 and "--number-format: one of en, vi" in bad.output
    r = run("screen", "allocate", str(THANH_HOA), "--groups", str(vi), "--json")
    assert r.exit_code != 0 and "relative_risk" in r.output
    vi.write_text(vi.read_text().replace('"3,5"', "3.5").replace('"1.200"', "1200"))
    r = run("screen", "allocate", str(THANH_HOA), "--groups", str(vi), "--json")
    assert r.exit_code == 0, r.output
    unit = next(u for u in json.loads(r.stdout)["units"] if u["district"] == code)
    assert [g["share"] for g in unit["groups"]] == [0.1, 0.9]


@pytest.mark.parametrize(
    "share, said",
    [("150%", "out of range"), ("abc%", "not a number"), ("%", "not a number"), ("0%", "> 0")],
)
def test_a_bad_percent_share_is_named(tmp_path, share, said):
    f = tmp_path / "g.csv"
    f.write_text(f"group,relative_risk,share\na,2,{share}\nb,1,0.5\n")
    with pytest.raises(LabInputError) as err:
        read_groups(f)
    assert "row 2, column 'share'" in str(err.value) and said in str(err.value)


def test_a_workbooks_number_cells_are_numbers_whatever_the_format(tmp_path):
    """An XLSX number cell 1.125 is 1.125 under vi too (not 1125 read as text)."""
    f = tmp_path / "g.xlsx"
    pd.DataFrame(
        {"group": ["market", "rest"], "relative_risk": [1.125, 1], "share": ["10%", 0.9],
         "available": [1200, None]}
    ).to_excel(f, index=False)  # fmt: skip
    want = [RiskGroup("market", 1.125, 0.1, 1200), RiskGroup("rest", 1.0, 0.9)]
    for fmt in ("en", "vi"):
        assert read_groups(f, fmt=number_format(fmt))[ONE_PLACE] == want


def test_allocate_reads_groups_in_the_scenarios_declared_format(tmp_path, thanh_hoa):
    vi_scn = to_vi_folder(THANH_HOA, tmp_path / "th_vi")
    code = thanh_hoa.districts[0].code
    g = tmp_path / "g.csv"
    g.write_text(
        f'district,group,relative_risk,share,available\n{code},market,"2,5",10%,"1.200"\n'
        f"{code},rest,1,90%,\n"
    )
    r = run("screen", "allocate", str(vi_scn), "--groups", str(g), "--json")
    assert r.exit_code == 0, r.output
    unit = next(u for u in json.loads(r.stdout)["units"] if u["district"] == code)
    assert [(x["relative_risk"], x["share"]) for x in unit["groups"]] == [(2.5, 0.1), (1.0, 0.9)]
    en = run("screen", "allocate", str(THANH_HOA), "--groups", str(g), "--json")
    assert en.exit_code != 0 and "or set --number-format vi" in en.output
