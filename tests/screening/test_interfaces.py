"""`labopt screen size`: the library's answer, its defaults, and bad values named by the
option (the service's POST /v1/screening/size: tests/service/test_screening.py)."""

from __future__ import annotations

import json
import re

import pytest

from labopt.screening import size_for_detection
from tests.cli.helpers import run


def test_screen_size_prints_the_library_answer_as_json():
    r = run(
        "screen",
        "size",
        "--design-prevalence",
        "0.01",
        "--pool-size",
        "5",
        "--se",
        "0.9",
        "--sp",
        "0.98",
        "--json",
    )
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    ref = size_for_detection(0.95, 0.01, pool_size=5, se=0.9, sp=0.98).to_dict()
    assert got == json.loads(json.dumps(ref))
    assert {
        "samples",
        "pools",
        "population_sensitivity",
        "population_specificity",
        "positive_pools_cutoff",
    } <= set(got)


def test_screen_size_defaults_are_the_scenarios_pool_test_and_a_table_without_json():
    r = run("screen", "size", "--design-prevalence", "0.02", "--population", "400")
    assert r.exit_code == 0, r.output
    ref = size_for_detection(0.95, 0.02, se=0.95, sp=0.995, population=400)
    said = " ".join(r.output.split())
    assert re.search(rf"samples\W+{ref.samples:,}\W", said), said
    assert f"{ref.positive_pools_cutoff} positive pool(s) or more" in said


@pytest.mark.parametrize(
    "args, said",
    [
        (["--design-prevalence", "0"], "--design-prevalence: a fraction in (0, 1]"),
        (["--design-prevalence", "0.01", "--pool-size", "0"], "--pool-size: a whole number >= 1"),
        (["--design-prevalence", "0.01", "--sp", "1.5"], "--sp: a fraction in [0, 1]"),
        (
            ["--design-prevalence", "0.01", "--pool-size", "5", "--population", "100"],
            "--target-sensitivity:",
        ),
    ],
)
def test_screen_size_names_the_option_of_a_bad_value(args, said):
    r = run("screen", "size", *args)
    assert r.exit_code == 2 and said in r.output, r.output
