"""Searches exact with PSe/PSp limits binding (labopt.pooling.limits): ID2 against trying
every split, against a mixed-integer programme solved by HiGHS, and the Pareto filter against
its definition."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import LinearConstraint, milp

from labopt.pooling import DilutionModel, SearchConstraints, evaluate, optimize
from labopt.pooling.limits import pareto
from tests.pooling.test_pooling_search import compositions

SE, SP = (0.95, 0.97), (0.98, 0.99)


def _risks(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.beta(0.3, 6, size=n))


def _brute(risks, cons: SearchConstraints, dilution=None):
    """The least ET of every ID2 split of the sorted risks meeting the constraints."""
    best = None
    for sizes in compositions(risks.size):
        if max(sizes) > cons.max_size:
            continue
        oc = evaluate("ID2", ",".join(map(str, sizes)), risks=risks, se=SE, sp=SP,
                      dilution=dilution)  # fmt: skip
        if cons.admits(oc) and (best is None or oc.expected_tests_per_sample < best):
            best = oc.expected_tests_per_sample
    return best


@pytest.mark.parametrize(
    ("min_se", "min_sp", "min_size", "max_size", "dilution"),
    [(0.93, 0.0, 1, 11, None), (0.95, 0.0, 1, 6, None), (0.0, 0.9986, 1, 11, None),
     (0.94, 0.9986, 1, 11, None), (0.93, 0.0, 5, 8, None), (0.9, 0.0, 1, 11, DilutionModel()),
     (0.93, 0.9988, 1, 11, None)],
)  # fmt: skip
def test_id2_under_limits_is_the_best_of_every_split(min_se, min_sp, min_size, max_size, dilution):
    """Eleven samples (1,024 splits), limits that bind: the unconstrained best misses them
    (the last case: no split meets both)."""
    risks = _risks(11, 3)
    cons = SearchConstraints(min_size=min_size, max_size=max_size, min_sensitivity=min_se,
                             min_specificity=min_sp)  # fmt: skip
    free = optimize(risks=risks, algorithm="ID2", se=SE, sp=SP, max_size=max_size,
                    min_size=min_size, dilution=dilution)  # fmt: skip
    assert not cons.admits(free.best)  # the limits bind
    got = optimize(risks=risks, algorithm="ID2", se=SE, sp=SP, constraints=cons,
                   dilution=dilution)  # fmt: skip
    want = _brute(risks, cons, dilution)
    if want is None:
        assert got.best is None and "no ID2 configuration" in got.notes[-1]
    else:
        assert got.best.expected_tests_per_sample == pytest.approx(want, rel=1e-12)
        assert cons.admits(got.best)
    assert not any(n.key == "informative_limits" for n in got.notes)


def _milp_best(risks, cons: SearchConstraints) -> float | None:
    """The same problem as a mixed-integer programme (HiGHS through SciPy): a 0/1 variable per
    contiguous pool, the pools a path from the first sample to the last, sums of PSe and PSp
    at least the limits; each pool's values from evaluating it alone."""
    n, kmax = risks.size, cons.max_size
    pools = [(s, k) for s in range(n) for k in range(1, kmax + 1) if s + k <= n]
    cost, a, b = [], [], []
    for s, k in pools:
        part = risks[s : s + k]
        oc = evaluate("ID2", str(k), risks=part, se=SE, sp=SP)
        cost.append(oc.expected_tests_per_sample * k)
        a.append(oc.sensitivity * part.sum() if part.sum() > 0 else 0.0)
        b.append(oc.specificity * (k - part.sum()))
    flow = np.zeros((n + 1, len(pools)))
    for j, (s, k) in enumerate(pools):
        flow[s, j] -= 1.0
        flow[s + k, j] += 1.0
    rhs = np.zeros(n + 1)
    rhs[0], rhs[n] = -1.0, 1.0
    rows = [LinearConstraint(flow, rhs, rhs)]
    rows.append(LinearConstraint(np.array(a), cons.min_sensitivity * risks.sum(), np.inf))
    rows.append(LinearConstraint(np.array(b), cons.min_specificity * (n - risks.sum()), np.inf))
    big = np.array([float(k >= cons.min_size) for _, k in pools])
    rows.append(LinearConstraint(big, 1.0, np.inf))
    res = milp(np.array(cost), constraints=rows, integrality=np.ones(len(pools)),
               bounds=(0, 1), options={"mip_rel_gap": 0.0})  # fmt: skip
    if res.status == 2:  # infeasible
        return None
    assert res.status == 0, res.message
    return res.fun / n


@pytest.mark.parametrize(
    ("n", "seed", "min_se", "min_sp", "max_size"),
    [(60, 1, 0.94, 0.0, 12), (60, 2, 0.93, 0.9985, 16), (40, 5, 0.0, 0.9986, 10)],
)
def test_id2_under_limits_matches_a_mixed_integer_programme(n, seed, min_se, min_sp, max_size):
    risks = _risks(n, seed)
    cons = SearchConstraints(max_size=max_size, min_sensitivity=min_se, min_specificity=min_sp)
    got = optimize(risks=risks, algorithm="ID2", se=SE, sp=SP, constraints=cons)
    want = _milp_best(risks, cons)
    assert want is not None and got.best is not None
    # the programme's own tolerances (1e-6 on its rows) bound the agreement
    assert got.best.expected_tests_per_sample == pytest.approx(want, rel=1e-7)
    assert got.best.expected_tests_per_sample <= want * (1 + 1e-12)
    free = optimize(risks=risks, algorithm="ID2", se=SE, sp=SP, max_size=max_size)
    assert got.best.expected_tests_per_sample > free.best.expected_tests_per_sample


@pytest.mark.parametrize("both", [False, True])
def test_the_pareto_filter_keeps_exactly_the_labels_nothing_beats(both):
    rng = np.random.default_rng(4)
    labels = np.round(rng.uniform(0, 1, size=(300, 3)), 1)  # many ties
    kept = set(pareto(labels, both).tolist())
    cols = [1, 2] if both else [1]
    for i in range(labels.shape[0]):
        beaten = [
            j for j in range(labels.shape[0])
            if labels[j, 0] <= labels[i, 0] and all(labels[j, c] >= labels[i, c] for c in cols)
            and (labels[j, 0] < labels[i, 0] or any(labels[j, c] > labels[i, c] for c in cols))
        ]  # fmt: skip
        same = [j for j in kept if np.array_equal(labels[j, [0, *cols]], labels[i, [0, *cols]])]
        if beaten:
            assert i not in kept
        else:
            assert len(same) == 1  # one of each set of equal labels


def test_a_search_that_runs_out_of_labels_says_so_and_keeps_the_fast_designs(monkeypatch):
    """Limits just short of what no design meets leave many labels: past the budget the search
    stops, notes it, and the ranking is the per-cap designs that meet the limits (here none)."""
    import labopt.pooling.limits as limits

    monkeypatch.setattr(limits, "LABEL_BUDGET", 5_000)
    risks = _risks(100, 2)
    got = optimize(risks=risks, algorithm="ID2", se=SE, sp=SP, max_size=32,
                   min_sensitivity=0.95, min_specificity=0.999)  # fmt: skip
    keys = [n.key for n in got.notes]
    assert keys[0] == "id2_limits_budget" and got.notes[0].fields["labels"] > 5_000
    assert got.best is None and keys[-1] == "infeasible"
    # a search the budget does not stop gives the same answers as before
    loose = optimize(risks=risks, algorithm="ID2", se=SE, sp=SP, max_size=32,
                     min_sensitivity=0.93)  # fmt: skip
    assert loose.best is not None and not loose.notes


@pytest.mark.parametrize("n", [200, 500])
def test_equal_risks_under_a_sensitivity_limit_match_their_own_closed_form(n):
    """Every sample at 1 %: a design is some samples tested alone (PSe Se2) and pools of the
    rest (PSe Se1 * Se2); the cheapest split for each number tested alone, by a knapsack over
    pool sizes written here, gives the answer. Labels tie a lot with equal risks."""
    p, kmax, limit = 0.01, 64, 0.95
    pool = {k: 1 + k * (SE[0] * (1 - (1 - p) ** k) + (1 - SP[0]) * (1 - p) ** k)
            for k in range(2, kmax + 1)}  # fmt: skip
    fill = [0.0] + [np.inf] * n  # fill[m]: the cheapest pools of exactly m samples
    for m in range(2, n + 1):
        fill[m] = min(fill[m - k] + pool[k] for k in range(2, min(kmax, m) + 1))
    best = min(
        alone + fill[n - alone]
        for alone in range(n + 1)
        if (SE[1] * alone + SE[0] * SE[1] * (n - alone)) / n >= limit
    )
    got = optimize(risks=[p] * n, algorithm="ID2", se=SE, sp=SP, max_size=kmax,
                   min_sensitivity=limit)  # fmt: skip
    assert not got.notes
    assert got.best.expected_tests_per_sample == pytest.approx(best / n, rel=1e-12)
