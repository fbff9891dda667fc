"""Halving (binary splitting, binGroup2's ``halving``) as D2-D5 configurations."""

import math

import numpy as np
import pytest

from labopt.errors import InputError
from labopt.pooling import Design, evaluate
from tests import oracle


@pytest.mark.parametrize(
    "algorithm, config, written",
    [
        ("D2", "h16", "16"),
        ("D3", "h16", "16:8,8"),
        ("D4", "H16", "16:8,8:4,4,4,4"),
        ("D5", "h16", "16:8,8:4,4,4,4:2,2,2,2,2,2,2,2"),
        # odd pools: the smaller half first, as binGroup2's sub.grp.size; a half of one
        # sample is tested alone at its stage
        ("D4", "h7", "7:3,4:1,2,2,2"),
        ("D5", "h5", "5:2,3:1,1,1,2:1,1"),
    ],
)
def test_halving_writes_the_nested_configuration(algorithm, config, written):
    d = Design.parse(algorithm, config)
    assert d.config == written
    assert d == Design.parse(algorithm, written)


def test_halving_sixteen_in_five_stages_tests_halves_then_individuals():
    tree = Design.parse("D5", "h16").tree()
    for stage, size in ((1, 16), (2, 8), (3, 4), (4, 2), (5, 1)):
        assert set(tree.size[tree.stage == stage].tolist()) == {size}


@pytest.mark.parametrize("algorithm", ["D3", "D4", "D5"])
def test_halving_of_seven_matches_exact_enumeration(algorithm):
    risks = np.sort(np.random.default_rng(7).uniform(0.02, 0.3, 7))
    n = int(algorithm[1])
    se, sp = [0.95 + 0.01 * i for i in range(n)], [0.97 + 0.005 * i for i in range(n)]
    d = Design.parse(algorithm, "h7")
    got = evaluate(d, risks=risks, se=se, sp=sp)
    want = oracle.hierarchical(algorithm, d.config, risks, se, sp)
    assert math.isclose(got.expected_tests_per_sample, want.et, rel_tol=1e-10)
    assert math.isclose(got.sensitivity, want.pse, rel_tol=1e-10)
    assert math.isclose(got.specificity, want.psp, rel_tol=1e-10)


@pytest.mark.parametrize("config", ["h", "hx", "h1.5", "h-4", "h²"])
def test_bad_halving_is_refused_by_name(config):
    with pytest.raises(InputError, match="halving configuration") as err:
        Design.parse("D4", config)
    assert err.value.parameter == "config"


def test_halving_of_too_small_a_pool_names_the_limit():
    with pytest.raises(InputError, match="between 3 and"):
        Design.parse("D3", "h2")
