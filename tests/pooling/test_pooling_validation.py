"""Bad input gets a clear error naming the parameter and what is allowed."""

import json
import subprocess
import sys

import numpy as np
import pytest

from labopt.errors import InputError
from labopt.pooling import Design, DilutionModel, SearchConstraints, evaluate, optimize, simulate


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"prevalence": 1.5}, r"prevalence\[0\]: must be a probability in \[0, 1\]"),
        ({"prevalence": -0.01}, r"prevalence\[0\]: must be a probability"),
        ({"prevalence": [0.01, float("nan")]}, r"prevalence\[1\]"),
        (
            {"prevalence": 0.01, "se": 0.4, "sp": 0.5},
            r"se/sp \(stage 1\): sensitivity 0.4 must exceed",
        ),
        ({"prevalence": 0.01, "se": [0.9, 0.95, 0.99]}, r"se: give one value .* or 2 values"),
        ({"prevalence": 0.01, "sp": 1.2}, r"sp \(stage 1\): must be a probability"),
        ({"prevalence": None}, r"prevalence/risks: give exactly one"),
    ],
)
def test_evaluate_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        evaluate("D2", "10", **kwargs)


@pytest.mark.parametrize(
    "algorithm,config,message",
    [
        ("D3", "12:4,4,5", r"4\+4\+5 = 13 must add up to the first-stage pool size 12"),
        ("D3", "12:12", r"single sub-pool of 12 would test the same pool twice"),
        ("D3", "12", r"does not have the shape of a D3 configuration"),
        ("D4", "8:4,4:2,3,3", r"the pool of 4 gets 2\+3 = 5"),
        ("D4", "8:4,4:4,2,2", r"split\S* into itself"),
        (
            "A2",
            "120",
            r"array 120x120 is out of range; its rows and its columns must each be between 2 and 100",
        ),
        ("A2M", "1", r"between 2 and 100"),
        ("D2", "1", r"use IT for individual testing"),
        ("D2", "ten", r"not a valid D2 configuration"),
        ("XYZ", "10", r"algorithm: unknown code 'XYZ'; allowed: IT, D2"),
    ],
)
def test_design_errors(algorithm, config, message):
    with pytest.raises(ValueError, match=message):
        Design.parse(algorithm, config)


def test_risk_vector_errors():
    with pytest.raises(ValueError, match=r"risks\[2\]: must be a probability"):
        evaluate("ID2", "2,1", risks=[0.1, 0.2, float("nan")])
    with pytest.raises(ValueError, match=r"ID2 .* pools 3 samples per block; got 2 risks"):
        evaluate("ID2", "2,1", risks=[0.1, 0.2])
    with pytest.raises(ValueError, match="A2 places samples regardless of risk"):
        evaluate("A2", "3", risks=[0.1] * 9)
    with pytest.raises(ValueError, match=r"ID2 .* needs the individual risks"):
        optimize(0.01, algorithm="ID2")


def test_search_constraint_errors():
    with pytest.raises(ValueError, match="min_size 12 exceeds max_size 10"):
        SearchConstraints(min_size=12, max_size=10)
    with pytest.raises(ValueError, match=r"max_stages: must be between 1 and 5"):
        SearchConstraints(max_stages=6)
    with pytest.raises(ValueError, match="auto' compares families"):
        optimize(0.01, se=[0.9, 0.99])


def test_dilution_and_simulation_errors():
    with pytest.raises(ValueError, match="ct_sd: must be > 0"):
        DilutionModel(ct_sd=0)
    with pytest.raises(ValueError, match="seed: must be between 0"):
        simulate("D2", "4", prevalence=0.01, seed=-1)


def test_edge_prevalences_are_defined():
    oc = evaluate("D3", "12:4,4,4", prevalence=np.array([0.0, 1.0]), se=0.95, sp=0.98)
    assert oc.expected_tests_per_sample[0] == pytest.approx((1 + 3 * 0.02 + 12 * 0.02 * 0.02) / 12)
    assert np.isnan(oc.specificity[1])  # no negatives at p = 1
    assert oc.to_dict()["specificity"][1] is None  # JSON has no NaN


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "labopt.cli.main", *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )


def test_cli_bad_input_exits_nonzero_with_message():
    r = run_cli("pool", "evaluate", "-a", "D3", "-c", "12:4,4,5", "-p", "0.01")
    assert r.returncode == 2
    assert "must add up to the first-stage pool size 12" in r.stderr
    r = run_cli("pool", "evaluate", "-a", "D2", "-c", "10", "-p", "1.3")
    assert r.returncode == 2 and "--prevalence: '1.3' is not a fraction in [0, 1]" in r.stderr
    r = run_cli("pool", "optimize", "-p", "0.01", "--se", "0.9,x")
    assert r.returncode == 2 and "--se: 'x' in '0.9,x': expected a number" in r.stderr
    r = run_cli("pool", "optimize", "-p", "0.01", "-a", "D3", "--min-sensitivity", "0.9999")
    assert r.returncode == 1 and "no D3 configuration meets" in r.stdout


def test_cli_json_shapes(tmp_path):
    r = run_cli("pool", "evaluate", "-a", "D3", "-c", "12:4,4,4", "-p", "0.01", "--json")
    assert r.returncode == 0, r.stderr
    design = json.loads(r.stdout)
    for key in (
        "algorithm",
        "config",
        "expected_tests_per_sample",
        "sensitivity",
        "specificity",
        "ppv",
        "npv",
        "stages",
        "efficiency",
    ):
        assert key in design
    r = run_cli("pool", "optimize", "-p", "0.01", "--json", "--max-stages", "2")
    out = json.loads(r.stdout)
    assert set(out) >= {"best", "ranking", "configurations_evaluated", "search_seconds"}
    assert out["best"] == out["ranking"][0] and out["best"]["stages"] <= 2
    risks = tmp_path / "batch.csv"
    risks.write_text(
        "sample,risk\n" + "".join(f"s{i},{0.2 if i < 3 else 0.004}\n" for i in range(20))
    )
    r = run_cli("pool", "optimize", "--risks", str(risks), "--max-stages", "2", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["best"]["algorithm"] == "ID2"
    r = run_cli("pool", "optimize", "--risks", str(risks), "--json")  # three rounds: ID3 too
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["best"]["algorithm"] == "ID3"
    bad = tmp_path / "bad.csv"
    bad.write_text("risk\n0.1\nabc\n")
    r = run_cli("pool", "optimize", "--risks", str(bad))
    assert r.returncode == 2 and "bad.csv, row 3, column 'risk'" in r.stderr


def test_cli_simulate_and_grid():
    r = run_cli(
        "pool", "simulate", "-a", "D2", "-c", "8", "-p", "0.02", "--samples", "200000", "--json"
    )
    out = json.loads(r.stdout)
    assert all(abs(z) < 4 for z in out["z"].values())
    r = run_cli("pool", "evaluate", "-a", "D2", "-c", "8", "-p", "0.01,0.02", "--json")
    assert len(json.loads(r.stdout)["results"]) == 2


@pytest.mark.parametrize(
    "algorithm, config, words",
    [
        ("A2", "1 2", "a space inside a number"),
        ("D2", "1 0", "a space inside a number"),
        ("ID2", "10 5", "a space inside a number"),
        ("D3", "1_2:4,4,4", "expected whole numbers"),
        ("D2", "١٠", "expected whole numbers"),
        ("D2", "１０", "expected whole numbers"),
        ("D2", "+10", "expected whole numbers"),
        ("D3", "12:" + "9" * 4300 + "," + "9" * 4300, "4,300 digits is out of range"),
    ],
)
def test_a_configuration_means_what_was_typed_or_is_refused(algorithm, config, words):
    with pytest.raises(InputError, match=words) as err:
        Design.parse(algorithm, config)
    assert err.value.parameter == "config" and len(str(err.value)) < 300


def test_spaces_around_separators_are_allowed():
    assert Design.parse("D3", " 12: 4, 4, 4 ").config == "12:4,4,4"
    assert Design.parse("A2M", "8 x 12").config == "8x12"


@pytest.mark.parametrize(
    "design, words",
    [
        (Design("ID2", 100, (20, 10, 5)), r"pools' samples \(35\), not 100"),
        (Design("ID2", 5), r"pools' samples \(0\), not 5"),
        (Design("ID3", 30, (12, 8), (4, 4, 4, 5, 3)), r"pools' samples \(20\), not 30"),
        (Design("D2", 10.5), "whole numbers"),
        (Design("IT", True), "whole numbers"),
        (Design("d2", 10), "write the code 'D2'"),
    ],
)
def test_a_design_built_by_hand_is_checked_whole(design, words):
    with pytest.raises(InputError, match=words):
        design.validated()


def test_search_limits_are_kept_as_the_checks_return_them():
    cons = SearchConstraints(min_size=2.0, max_size=8.0, square_arrays=np.True_)
    assert (type(cons.min_size), type(cons.max_size), type(cons.square_arrays)) == (int, int, bool)
    res = optimize(risks=np.linspace(0.001, 0.1, 30), algorithm="ID3", max_size=8.0, max_stages=3)
    assert res.best.design.largest_pool <= 8
