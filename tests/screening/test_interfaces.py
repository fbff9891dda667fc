"""`labopt screen size`: the library's answer, its defaults, and bad values named by the
option (the service's POST /v1/screening/size: tests/service/test_screening.py)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labopt.errors import InputError
from labopt.screening import size_for_detection
from labopt.screening.precision import size_for_estimate
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
    assert f"{ref.positive_pools_cutoff} positive pools or more" in said


@pytest.mark.parametrize(
    "args, said",
    [
        (["--design-prevalence", "0"], "--design-prevalence: a fraction in (0, 1]"),
        (["--design-prevalence", "0.01", "--pool-size", "0"], "--pool-size: a whole number >= 1"),
        (["--design-prevalence", "0.01", "--sp", "1.5"], "--sp: a fraction in [0, 1]"),
        (
            ["--design-prevalence", "0.01", "--pool-size", "5", "--population", "100"],
            "--population: sized for a large population",
        ),
    ],
)
def test_screen_size_names_the_option_of_a_bad_value(args, said):
    r = run("screen", "size", *args)
    assert r.exit_code == 2 and said in r.output, r.output


def test_screen_precision_prints_the_library_answer():
    r = run(
        "screen",
        "precision",
        "--prevalence",
        "0.02",
        "--precision",
        "0.25",
        "--relative",
        "--max-pool-size",
        "20",
        "--json",
    )
    assert r.exit_code == 0, r.output
    ref = size_for_estimate(0.02, 0.25, relative=True, max_pool_size=20)
    assert json.loads(r.stdout) == json.loads(json.dumps(ref.to_dict()))
    r = run(
        "screen", "precision", "--prevalence", "0.02", "--precision", "0.005", "--pool-size", "1"
    )
    assert r.exit_code == 0 and "pools (reactions)" in r.output
    r = run("screen", "precision", "--prevalence", "1", "--precision", "0.1")
    assert r.exit_code == 2 and "--prevalence: a fraction in (0, 1)" in r.output


fractions = st.floats(min_value=0, max_value=1, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(
    p=fractions,
    target=fractions,
    se=fractions,
    sp=fractions,
    spec=fractions,
    k=st.integers(1, 10_000),
    population=st.none() | st.integers(1, 10**9),
)
def test_any_values_give_a_size_or_a_clear_error(p, target, se, sp, spec, k, population):
    """Whatever the values, the library answers or raises an InputError (a 422, an exit
    status 2), never another exception."""
    try:
        got = size_for_detection(
            target,
            p,
            pool_size=k,
            se=se,
            sp=sp,
            population=population,
            target_specificity=spec,
        )
    except InputError:
        return
    assert got.population_sensitivity >= target - 1e-9 and got.samples == got.pools * k


@settings(max_examples=100, deadline=None)
@given(
    p=fractions,
    d=fractions,
    conf=fractions,
    se=fractions,
    sp=fractions,
    k=st.none() | st.integers(1, 10_000),
    relative=st.booleans(),
)
def test_any_values_give_a_precision_size_or_a_clear_error(p, d, conf, se, sp, k, relative):
    try:
        got = size_for_estimate(
            p, d, relative=relative, confidence=conf, pool_size=k, max_pool_size=64, se=se, sp=sp
        )
    except InputError:
        return
    assert got.half_width <= (d * p if relative else d) * (1 + 1e-9)
