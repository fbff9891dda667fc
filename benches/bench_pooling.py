"""Pooling engine benchmarks (pytest-benchmark) and within-run speed ratios.

Absolute times are recorded, never asserted. The gates are ratios against the plain NumPy
versions in benches/numpy_baseline.py, timed alternately in this run; each floor is about
half the ratio measured on the 2-core development machine (BENCHMARKS.md), so noise passes
and a large regression fails.
"""

import numpy as np
import pytest

from benches import numpy_baseline as nb
from benches.timing import gate_ratio
from labopt import _array
from labopt.pooling import optimize, simulate
from labopt.pooling.grid import dorfman_grid

P = 0.01
GRID = np.linspace(1e-4, 0.3, 100_000)


def test_bench_d3_search_3_to_30(benchmark):
    res = benchmark(optimize, P, algorithm="D3", min_size=3, max_size=30)
    assert res.configurations_evaluated == 28_597  # all partitions, as binGroup2
    assert res.best.config == "25:5,5,5,5,5"


def test_bench_d4_search_4_to_128(benchmark):
    res = benchmark(optimize, 0.001, algorithm="D4", min_size=4, max_size=128, max_stages=4)
    assert res.best.design.first == 128 and not res.notes


def test_bench_d5_search_5_to_64(benchmark):
    res = benchmark(optimize, 0.001, algorithm="D5", min_size=5, max_size=64, max_stages=5)
    assert res.best.design.first == 64 and res.best.stages == 5


def test_bench_a2_search_every_shape_to_100(benchmark):
    res = benchmark(optimize, P, algorithm="A2", min_size=2, max_size=100)
    assert res.configurations_evaluated == 99 * 100 // 2


def test_bench_a2_search_3_to_20(benchmark):
    res = benchmark(optimize, P, algorithm="A2", min_size=3, max_size=20)
    assert res.best.algorithm == "A2"


def test_bench_a2m_search_3_to_20(benchmark):
    res = benchmark(optimize, P, algorithm="A2M", min_size=9, max_size=400)
    assert res.best.algorithm == "A2M"


def test_bench_d2_search_3_to_40(benchmark):
    res = benchmark(optimize, P, algorithm="D2", min_size=3, max_size=40)
    assert res.best.config == "11"


def test_bench_d2_grid_100_sizes_100k_prevalences(benchmark):
    g = benchmark(dorfman_grid, GRID, 100)
    assert g.expected_tests_per_sample.shape == (100_000, 100)


RISKS = np.sort(np.random.default_rng(1).beta(0.2, 8, 200))  # a batch's individual risks


@pytest.mark.parametrize("algorithm, stages", [("ID2", 2), ("ID3", 3), ("ID4", 4), ("IA2", 2)])
def test_bench_informative_search_200_risks_pools_to_32(benchmark, algorithm, stages):
    risks = RISKS[:196] if algorithm == "IA2" else RISKS  # IA2: one array holds the batch
    res = benchmark(optimize, risks=risks, algorithm=algorithm, max_size=32, max_stages=stages)
    assert res.best is not None


def test_bench_simulator_d2(benchmark):
    sim = benchmark(simulate, "D2", "10", prevalence=P, samples=2_000_000, seed=1)
    assert sim.samples == 2_000_000


# ---------------------------------------------------------------- ratios within this run
AREA = "Pooling engine"
NUMPY = "NumPy"
# floors: NumPy time / labopt time must stay above these (about half the measured ratios)
FLOOR_D2_GRID = 2.5
FLOOR_D3_SEARCH = 15.0
FLOOR_D4_SEARCH = 15.0
FLOOR_D5_SEARCH = 5.0
FLOOR_ARRAY_KERNEL = {"A2": 0.8, "A2M": 1.0}  # the r x c kernel against NumPy's n x n
FLOOR_SIMULATOR = 1.0
FLOOR_INFORMATIVE_SEARCH = {"ID3": 10.0, "ID4": 25.0}  # against the same search in Python
# labopt's whole search (evaluate and rank the kept candidates) against NumPy's kernel alone
FLOOR_SEARCH_VS_KERNEL = {"D2": 0.005, "A2": 0.01, "A2M": 0.012, "A2 r x c": 0.025}


def test_ratio_d2_grid():
    gate_ratio(
        AREA,
        "D2 grid, k = 1..100 x 100,000 prevalences",
        NUMPY,
        lambda: nb.dorfman_grid(GRID, 100, 0.99, 0.99),
        lambda: dorfman_grid(GRID, 100, se=0.99, sp=0.99),
        FLOOR_D2_GRID,
        repeat=3,
    )
    et_np, _ = nb.dorfman_grid(GRID[:1000], 100, 0.99, 0.99)
    np.testing.assert_allclose(
        dorfman_grid(GRID[:1000], 100, se=0.99, sp=0.99).expected_tests_per_sample,
        et_np,
        rtol=1e-10,
    )


def test_ratio_d3_search():
    gate_ratio(
        AREA,
        "D3 search, first stage 3..30 (whole optimize)",
        NUMPY,
        lambda: nb.d3_search(P, 3, 30, 0.99, 0.99),
        lambda: optimize(P, algorithm="D3", min_size=3, max_size=30, se=0.99, sp=0.99),
        FLOOR_D3_SEARCH,
        repeat=3,
    )
    et_np, (I, parts) = nb.d3_search(P, 3, 30, 0.99, 0.99)
    best = optimize(P, algorithm="D3", min_size=3, max_size=30, se=0.99, sp=0.99).best
    assert best.config == f"{I}:{','.join(map(str, parts))}"
    assert best.expected_tests_per_sample == pytest.approx(et_np, rel=1e-12)


def test_ratio_d4_search():
    """Every first stage to 128: partitions enumerated to 40, then the programme over
    second-stage pools, against the same programme in NumPy."""
    gate_ratio(
        AREA,
        "D4 search, first stage 4..128 (whole optimize)",
        NUMPY,
        lambda: nb.d4_search(0.001, 4, 128, 0.99, 0.99),
        lambda: optimize(
            0.001, algorithm="D4", min_size=4, max_size=128, max_stages=4, se=0.99, sp=0.99
        ),
        FLOOR_D4_SEARCH,
        repeat=2,
    )


def test_ratio_d5_search():
    """Five stages, first stage 5..24: the nested programme in Cython against the same
    programme in plain Python; both find the same design."""
    gate_ratio(
        AREA,
        "D5 search, first stage 5..24 (whole optimize)",
        "Python",
        lambda: nb.d5_search(0.01, 5, 24, 0.99, 0.99),
        lambda: optimize(
            0.01, algorithm="D5", min_size=5, max_size=24, max_stages=5, se=0.99, sp=0.99
        ),
        FLOOR_D5_SEARCH,
        repeat=2,
    )
    et, first = nb.d5_search(0.01, 5, 24, 0.99, 0.99)
    best = optimize(0.01, algorithm="D5", min_size=5, max_size=24, max_stages=5, se=0.99, sp=0.99)
    assert best.best.design.first == first
    assert best.best.expected_tests_per_sample == pytest.approx(et, rel=1e-12)


@pytest.mark.parametrize("master", [False, True], ids=["A2", "A2M"])
def test_ratio_array_kernel(master):
    sizes = np.arange(3, 21)
    se = np.full(sizes.size, 0.99)
    out = [np.empty(sizes.size) for _ in range(3)]

    def cython_search():
        _array.array_sizes(P, sizes, sizes, se, se, 0.99, 0.99, 0.99, master, se, 0.99, False, *out)
        return int(sizes[np.argmin(out[0])])

    name = "A2M" if master else "A2"
    gate_ratio(
        AREA,
        f"{name} kernel, n = 3..20 (labopt also computes PSe, PSp)",
        NUMPY,
        lambda: nb.array_search(P, 3, 20, 0.99, 0.99, master),
        cython_search,
        FLOOR_ARRAY_KERNEL[name],
    )
    assert cython_search() == nb.array_search(P, 3, 20, 0.99, 0.99, master)[1]


def _d2_kernel():
    et, _ = nb.dorfman_grid(np.array([P]), 40, 0.99, 0.99)
    return 3 + int(np.argmin(et[0, 2:]))


SEARCHES = {
    "D2": (
        "D2 search, k = 3..40 (whole optimize)",
        lambda: optimize(P, algorithm="D2", min_size=3, max_size=40, se=0.99, sp=0.99),
        _d2_kernel,
    ),
    "A2": (
        "A2 search, n = 3..20 (whole optimize, n x n only)",
        lambda: optimize(
            P, algorithm="A2", min_size=3, max_size=20, se=0.99, sp=0.99, square_arrays=True
        ),
        lambda: nb.array_search(P, 3, 20, 0.99, 0.99, False),
    ),
    "A2 r x c": (
        "A2 search, every r x c to 20 (whole optimize)",
        lambda: optimize(P, algorithm="A2", min_size=2, max_size=20, se=0.99, sp=0.99),
        lambda: nb.array_rect_search(P, 20, 0.99, 0.99),
    ),
    "A2M": (
        "A2M search, n = 3..20 (whole optimize, n x n only)",
        lambda: optimize(
            P, algorithm="A2M", min_size=9, max_size=400, se=0.99, sp=0.99, square_arrays=True
        ),
        lambda: nb.array_search(P, 3, 20, 0.99, 0.99, True),
    ),
}


@pytest.mark.parametrize("algorithm", list(SEARCHES))
def test_ratio_search_against_numpy_kernel(algorithm):
    """The whole search is mostly Python bookkeeping around a kernel of microseconds: gated
    against NumPy's kernel alone, so a slower search or kernel both show."""
    name, labopt_search, numpy_kernel = SEARCHES[algorithm]
    gate_ratio(
        AREA,
        name,
        "NumPy kernel",
        numpy_kernel,
        labopt_search,
        FLOOR_SEARCH_VS_KERNEL[algorithm],
        repeat=3,
    )


def test_ratio_simulator():
    gate_ratio(
        AREA,
        "D2 simulator, k = 10: 1M samples (NumPy: 1M samples too)",
        NUMPY,
        lambda: nb.simulate_dorfman(P, 10, 0.99, 0.99, 100_000, 1),
        lambda: simulate("D2", "10", prevalence=P, se=0.99, sp=0.99, samples=1_000_000, seed=1),
        FLOOR_SIMULATOR,
        repeat=3,
    )


FLOOR_MULTIPLEX_SEARCH = 5.0  # the tabulated search against evaluating every design in turn


def test_ratio_multiplex_search_against_every_design_in_turn():
    """The two-disease search (IT, D2, D3, A2, A2M to pools of 12; tables of each part, every
    partition and every array shape scored at once) against evaluating every one of those
    designs with evaluate_multiplex: the same best design, found far quicker."""
    from labopt.pooling import Design, SearchConstraints, evaluate_multiplex
    from labopt.pooling.multiplex_search import optimize_multiplex

    joint = (0.95, 0.02, 0.02, 0.01)
    designs = [Design.parse("IT", "1")] + [Design.parse("D2", str(k)) for k in range(2, 13)]
    for pool in range(3, 13):
        for parts in nb._partitions(pool, pool - 1):
            if parts[0] > 1:
                designs.append(Design.parse("D3", f"{pool}:{','.join(map(str, parts))}"))
    for rows in range(2, 13):
        for cols in range(rows, 13):
            designs.append(Design.parse("A2", f"{rows}x{cols}"))
            if rows * cols <= 12:
                designs.append(Design.parse("A2M", f"{rows}x{cols}"))

    def every_design():
        return min(designs, key=lambda d: evaluate_multiplex(d, joint=joint)
                   .expected_tests_per_sample)  # fmt: skip

    def search():
        return optimize_multiplex(joint, constraints=SearchConstraints(max_size=12), top=1)

    gate_ratio(
        AREA,
        "two-disease search, IT/D2/D3/A2/A2M to pools of 12",
        "every design evaluated in turn",
        every_design,
        search,
        FLOOR_MULTIPLEX_SEARCH,
        repeat=3,
        designs=len(designs),
    )
    assert search().best.config == every_design().config


@pytest.mark.parametrize("algorithm, kmax", [("ID3", 16), ("ID4", 10)])
def test_ratio_informative_search(algorithm, kmax):
    """ID3 and ID4 on 60 sorted risks: the nested programmes in Cython (whole optimize)
    against the same search written in plain Python; both find the same least ET."""
    risks = RISKS[::3][:60]
    levels = int(algorithm[-1]) - 1

    def search():
        return optimize(
            risks=risks, algorithm=algorithm, max_size=kmax, max_stages=levels + 1, se=0.99,
            sp=0.99,
        )  # fmt: skip

    gate_ratio(
        AREA,
        f"{algorithm} search, 60 risks, pools to {kmax} (whole optimize)",
        "Python",
        lambda: nb.informative_search(risks, levels, kmax, 0.99, 0.99),
        search,
        FLOOR_INFORMATIVE_SEARCH[algorithm],
        repeat=2,
    )
    et = nb.informative_search(risks, levels, kmax, 0.99, 0.99)
    assert search().best.expected_tests_per_sample == pytest.approx(et, rel=1e-12)
