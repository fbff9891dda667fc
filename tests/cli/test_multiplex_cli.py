"""`labopt pool evaluate --joint`: a two-disease assay from the command line."""

from __future__ import annotations

import json

import pytest

from labopt.pooling.multiplex import evaluate_multiplex
from tests.cli.helpers import refused, run


def test_the_table_and_the_json_give_the_librarys_figures():
    args = ["pool", "evaluate", "-a", "D3", "-c", "12:4,4,4", "--joint", "0.9,0.05,0.03,0.02"]
    args += ["--se", "0.95,0.97,0.99", "--sp", "0.99", "--se2", "0.9", "--sp2", "0.98"]
    r = run(*args, "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    lib = evaluate_multiplex(
        "D3",
        "12:4,4,4",
        joint=(0.9, 0.05, 0.03, 0.02),
        se=(0.95, 0.97, 0.99),
        sp=0.99,
        se2=0.9,
        sp2=0.98,
    )
    assert got["expected_tests_per_sample"] == pytest.approx(lib.expected_tests_per_sample)
    assert [d["sensitivity"] for d in got["diseases"]] == pytest.approx(lib.sensitivity)
    assert got["se"] == [[0.95, 0.97, 0.99], [0.9, 0.9, 0.9]]
    table = run(*args)
    text = " ".join(table.stdout.split())
    assert f"{lib.expected_tests_per_sample:.4f} reactions per sample" in text
    assert f"disease 2 │ 0.0500 │ {lib.sensitivity[1]:.4f}" in text
    vi = " ".join(run(*args, "--lang", "vi").stdout.split())
    assert f"{lib.expected_tests_per_sample:.4f}".replace(".", ",") in vi and "bệnh 2" in vi


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--joint", "0.9,0.05,0.03,0.03"], ["joint", "add up to 1"]),
        (["--joint", "0.9,0.05,0.05,0", "-p", "0.01"], ["--joint", "--prevalence"]),
        (["--joint", "0.9,0.05,0.05,0", "--se2", "0.9,0.9,0.9"], ["se2: give one", "2 values"]),
        (["-p", "0.01", "--se2", "0.9"], ["--se2", "--joint"]),
        (["--joint", "0.9,0.05,0.05"], ["four probabilities"]),
    ],
)
def test_bad_multiplex_options_are_refused_with_their_reason(extra, words):
    refused(run("pool", "evaluate", "-a", "D2", "-c", "10", *extra), *words)


def test_an_informative_array_with_a_multiplex_assay_is_refused():
    r = run("pool", "evaluate", "-a", "IA2", "-c", "8", "--joint", "0.9,0.05,0.03,0.02")
    refused(r, "IA2 with a multiplex assay is not available")


def test_a_plate_shaped_array_with_a_multiplex_assay_is_the_librarys():
    args = ["pool", "evaluate", "-a", "A2M", "-c", "8x12", "--joint", "0.97,0.015,0.01,0.005"]
    r = run(*args, "--se", "0.97,0.95,0.93", "--sp2", "0.995", "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    lib = evaluate_multiplex("A2M", "8x12", joint=(0.97, 0.015, 0.01, 0.005),
                             se=(0.97, 0.95, 0.93), sp2=0.995)  # fmt: skip
    assert got["config"] == "8x12" and got["stages"] == 3
    assert got["expected_tests_per_sample"] == pytest.approx(lib.expected_tests_per_sample)
    assert [d["sensitivity"] for d in got["diseases"]] == pytest.approx(list(lib.sensitivity))
    table = " ".join(run(*args).stdout.split())
    assert "A2M 8x12" in table


def test_the_search_from_the_command_line_is_the_librarys():
    from labopt.pooling import SearchConstraints
    from labopt.pooling.multiplex_search import optimize_multiplex

    args = ["pool", "optimize", "--joint", "0.95,0.02,0.02,0.01", "--max-size", "20"]
    r = run(*args, "--json", "--top", "3")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    lib = optimize_multiplex(
        (0.95, 0.02, 0.02, 0.01), constraints=SearchConstraints(max_size=20), top=3
    )
    assert [(d["algorithm"], d["config"]) for d in got["ranking"]] == [
        (oc.algorithm, oc.config) for oc in lib.ranking
    ]
    table = " ".join(run(*args).stdout.split())
    assert f"{lib.best.algorithm} │ {lib.best.config} │" in table


def test_a_multiplex_search_no_design_meets_exits_1_with_the_reason():
    r = run("pool", "optimize", "--joint", "0.9,0.05,0.03,0.02", "--min-sensitivity", "0.99")
    assert r.exit_code == 1
    assert "no IT/D2/D3/A2/A2M configuration meets" in " ".join(r.stdout.split())
    refused(run("pool", "optimize", "-a", "D2", "--joint", "0.9,0.05,0.03,0.02"), "-a")


def test_two_accuracies_are_two_stages_for_both_diseases_not_one_per_disease():
    """`--se 0.9,0.95` with D2 is stage 1 and stage 2 (the help's promise), for both diseases;
    disease 2's own take --se2. With D3 two values are too few and refused."""
    args = ["pool", "evaluate", "-c", "4", "--joint", "0.9,0.05,0.03,0.02"]
    r = run(*args, "-a", "D2", "--se", "0.9,0.95", "--sp", "0.98,0.99", "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["se"] == [[0.9, 0.95], [0.9, 0.95]] and got["sp"] == [[0.98, 0.99], [0.98, 0.99]]
    lib = evaluate_multiplex("D2", "4", joint=(0.9, 0.05, 0.03, 0.02), se=(0.9, 0.95),
                             sp=(0.98, 0.99))  # fmt: skip
    assert got["expected_tests_per_sample"] == pytest.approx(lib.expected_tests_per_sample)
    refused(run(*args[:2], "-a", "D3", "-c", "4:2,2", *args[4:], "--se", "0.9,0.95"), "se")


def test_a_disease_nobody_has_does_not_empty_the_search():
    """Nobody has disease 2: its PSe is undefined, which meets a limit of 0 (the search ranks
    designs as the one-disease search does)."""
    r = run("pool", "optimize", "--joint", "0.95,0.05,0,0", "--json")
    assert r.exit_code == 0, r.output
    best = json.loads(r.stdout)["best"]
    assert best is not None and best["diseases"][1]["sensitivity"] is None
    refused(run("pool", "optimize", "--joint", "0.95,0.05,0,0", "--top", "0"), "top")


def test_the_multiplex_search_to_pools_of_10000_stays_quick_in_work():
    """Pools of 10,000 are scored from tables, not by building each pool's tree: every D2 size
    is considered (a D2 of 10,000 is 10,000 configurations on its own)."""
    from labopt.pooling import SearchConstraints
    from labopt.pooling.multiplex_search import optimize_multiplex

    got = optimize_multiplex(
        (0.9, 0.05, 0.03, 0.02), constraints=SearchConstraints(max_size=10_000)
    )
    assert got.configurations_evaluated > 10_000 and got.best is not None
