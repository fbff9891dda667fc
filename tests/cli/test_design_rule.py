"""The "estimate or upper" design rule is one library function that the CLI and the service
both call (labopt.lab.estimate.design_prevalence); tests/service/test_batches.py covers the
service's use of it (test_estimates_are_stored_for_the_next_plan)."""

import json

import numpy as np
import pandas as pd
import pytest

from labopt.errors import InputError
from labopt.lab.estimate import DESIGN_AT, design_prevalence, estimate_table, with_design
from labopt.pooling.assay import MAX_STAGES, SENSITIVITY, SPECIFICITY
from tests.cli.helpers import refused, run


@pytest.fixture
def first_stage(tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for district, p, n in (("a", 0.01, 400), ("b", 0.05, 40)):  # b: few pools, wide interval
        size = rng.choice([5, 10], n)
        infected = rng.random(n) < 1 - (1 - p) ** size
        rows.append(
            pd.DataFrame(
                {
                    "size": size,
                    "result": np.where(infected, "positive", "negative"),
                    "district": district,
                    "stream": "screening",
                }
            )
        )
    path = tmp_path / "first_stage.csv"
    pd.concat(rows).to_csv(path, index=False)
    return path


def test_the_rule_picks_the_estimate_or_its_upper_bound(first_stage):
    est = estimate_table(pd.read_csv(first_stage), se=0.99, sp=0.99)
    assert DESIGN_AT == ("estimate", "upper")
    assert design_prevalence(est, "estimate").tolist() == est["prevalence"].tolist()
    assert design_prevalence(est, "upper").tolist() == est["upper"].tolist()
    with pytest.raises(InputError) as err:
        design_prevalence(est, "lower")
    assert err.value.parameter == "design_at" and "estimate, upper" in err.value.message
    # with few pools the cautious rule chooses another design
    designs = {
        at: with_design(est, design_prevalence(est, at), se=0.99, sp=0.99)["config"].tolist()
        for at in DESIGN_AT
    }
    assert designs["estimate"] != designs["upper"]


@pytest.mark.parametrize("at", DESIGN_AT)
def test_the_cli_designs_are_the_librarys(first_stage, at):
    """What `labopt estimate --design --design-at` prints is the library's design (the
    service calls the same two functions with the scenario's Se and Sp)."""
    r = run("estimate", first_stage, "--design", "--design-at", at, "--json")
    assert r.exit_code == 0, r.output
    got = pd.DataFrame(json.loads(r.stdout)["estimates"])
    se, sp = SENSITIVITY, SPECIFICITY  # the CLI's defaults are labopt's one default assay
    est = estimate_table(pd.read_csv(first_stage), se=se, sp=sp, by=("district", "stream"))
    want = with_design(est, design_prevalence(est, at), se=se, sp=sp)
    assert got["algorithm"].tolist() == want["algorithm"].tolist()
    assert got["config"].tolist() == want["config"].tolist()
    assert got["expected_tests_per_sample"].tolist() == pytest.approx(
        want["expected_tests_per_sample"].tolist()
    )


def test_the_cli_names_its_option_for_another_rule(first_stage):
    refused(run("estimate", first_stage, "--design-at", "lower"), "--design-at", "'lower'")


def test_one_set_of_defaults_for_the_commands_the_library_and_a_scenario():
    """`labopt pool`, `labopt estimate`, the library and a scenario's policy assume the same
    assay (Se, Sp per stage) and the same PCR rounds when none is given."""
    import inspect

    from labopt.cli import lab as lab_cli
    from labopt.cli import pool as pool_cli
    from labopt.lab.estimate import (
        estimate_from_counts,
        estimate_groups,
        estimate_prevalence,
        estimate_table,
    )
    from labopt.pooling import evaluate, optimize
    from labopt.scenario.model import Policy

    policy = Policy()
    assert (policy.pooling_se, policy.pooling_sp, policy.max_stages) == (
        SENSITIVITY,
        SPECIFICITY,
        MAX_STAGES,
    )
    for func in (
        evaluate,
        optimize,
        estimate_table,
        estimate_prevalence,
        estimate_from_counts,
        estimate_groups,
    ):
        sig = inspect.signature(func).parameters
        assert sig["se"].default == SENSITIVITY and sig["sp"].default == SPECIFICITY, func
    assert inspect.signature(with_design).parameters["max_stages"].default == MAX_STAGES
    for command in (pool_cli.evaluate_cmd, pool_cli.optimize_cmd, lab_cli.estimate):
        sig = inspect.signature(command).parameters
        assert float(sig["se"].default) == SENSITIVITY, command
        assert float(sig["sp"].default) == SPECIFICITY, command
    assert inspect.signature(lab_cli.estimate).parameters["max_stages"].default == MAX_STAGES


def test_no_function_of_labopt_assumes_another_assay():
    """Every function of labopt with a default ``se`` or ``sp`` defaults to the one assay, but
    the published survey formulas of labopt.screening (freedom, risk), which keep
    RSurveillance's and epiR's own default of a perfect test (se = sp = 1) so that their
    documented examples reproduce; the screening sizes built on them take the one assay."""
    import importlib
    import inspect
    import pkgutil

    import labopt

    found = 0
    for info in pkgutil.walk_packages(labopt.__path__, "labopt."):
        if info.name.startswith("labopt.cli"):
            continue
        module = importlib.import_module(info.name)
        for _, func in inspect.getmembers(module, inspect.isfunction):
            params = inspect.signature(func).parameters
            for name, want in (("se", SENSITIVITY), ("sp", SPECIFICITY)):
                default = params[name].default if name in params else inspect.Parameter.empty
                if isinstance(default, float):
                    survey = func.__module__ in (
                        "labopt.screening.freedom",
                        "labopt.screening.risk",
                    )
                    if survey and default == 1.0:
                        continue
                    found += 1
                    assert default == want, f"{func.__module__}.{func.__qualname__}: {name}"
    assert found >= 10
