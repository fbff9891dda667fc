"""Agreement with binGroup2 1.3.1's opChar2 (two-disease assays, hierarchical algorithms),
number for number: expected tests per sample, each sample's PSe, PSp, PPPV and PNPV for each
disease, and the overall values. The reference file was produced by
tests/reference/make_bingroup2_multiplex_reference.R (R 4.2.2, binGroup2's sources)."""

from __future__ import annotations

import csv
from itertools import groupby
from pathlib import Path

import numpy as np
import pytest

from labopt.pooling.multiplex import evaluate_multiplex

DATA = Path(__file__).parents[1] / "data" / "bingroup2_multiplex.csv"
REL = 1e-10


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(";")] if text else []


def cases() -> list[list[dict]]:
    with DATA.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    key = ("algorithm", "config", "p_vec", "probabilities", "se", "sp")
    return [list(g) for _, g in groupby(rows, key=lambda r: tuple(r[k] for k in key))]


CASES = cases()
HOMOGENEOUS = [c for c in CASES if c[0]["p_vec"]]
INFORMATIVE = [c for c in CASES if not c[0]["p_vec"]]


def test_the_reference_covers_every_hierarchical_family():
    assert {c[0]["algorithm"] for c in CASES} == {"D2", "D3", "D4", "ID2"}
    assert len(CASES) >= 80


def evaluated(rows):
    first = rows[0]
    n = len(rows)
    se, sp = np.array(floats(first["se"])), np.array(floats(first["sp"]))
    stages = se.size // 2
    if first["p_vec"]:
        joint = np.array(floats(first["p_vec"]))
    else:  # one column per sample, column by column
        joint = np.array(floats(first["probabilities"])).reshape(n, 4).T
    return evaluate_multiplex(
        first["algorithm"],
        first["config"],
        joint=joint,
        se=se[:stages].tolist(),
        sp=sp[:stages].tolist(),
        se2=se[stages:].tolist(),
        sp2=sp[stages:].tolist(),
    )


@pytest.mark.parametrize(
    "rows",
    HOMOGENEOUS,
    ids=[f"{c[0]['algorithm']}-{c[0]['config']}-{i}" for i, c in enumerate(HOMOGENEOUS)],
)
def test_labopt_agrees_with_bingroup2(rows):
    first = rows[0]
    got = evaluated(rows)
    assert got.expected_tests_per_sample == pytest.approx(
        float(first["et_per_individual"]), rel=REL
    )
    for r in rows:
        i = int(r["individual"]) - 1
        for k in (0, 1):
            names = [f"{m}{k + 1}" for m in ("pse", "psp", "pppv", "pnpv")]
            want = [float(r[m]) for m in names]
            np.testing.assert_allclose(got.individual[i, k], want, rtol=REL, err_msg=str(names))
    for k in (0, 1):
        overall = [got.sensitivity[k], got.specificity[k], got.ppv[k], got.npv[k]]
        names = [f"overall_{m}{k + 1}" for m in ("pse", "psp", "pppv", "pnpv")]
        np.testing.assert_allclose(overall, [float(first[m]) for m in names], rtol=REL)


@pytest.mark.parametrize("rows", INFORMATIVE, ids=["ID2-A", "ID2-C"])
def test_informative_designs_agree_on_cost_and_differ_where_bingroup2_breaks_a_bound(rows):
    """ID2 with each sample's own probabilities: the expected tests agree; binGroup2 1.3.1's
    individual accuracies do not, and its PSp breaks a bound every model of the protocol
    keeps: a sample without the disease is called positive only if its own last test errs, so
    PSp >= Sp of that test. labopt's values keep the bound and match the enumeration of every
    state (test_multiplex.py)."""
    first = rows[0]
    got = evaluated(rows)
    assert got.expected_tests_per_sample == pytest.approx(
        float(first["et_per_individual"]), rel=REL
    )
    sp = np.array(floats(first["sp"])).reshape(2, -1)
    last = sp[:, -1]  # the pools of 5 and 4: their samples' last test is at stage 2
    for k in (0, 1):
        theirs = np.array([float(r[f"psp{k + 1}"]) for r in rows])
        # the sample alone in its pool (the last) is tested once, at stage 1
        floor = np.where(np.arange(len(rows)) == len(rows) - 1, sp[k, 0], last[k])
        assert np.all(got.individual[:, k, 1] >= floor - 1e-12)
        assert np.any(theirs < floor - 1e-3)  # the difference is binGroup2's
