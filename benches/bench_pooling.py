"""Pooling engine benchmarks (pytest-benchmark) and within-run speed ratios.

CI runs these quickly. Timings are reported, never asserted; the only assertions are on
results (the fast and the baseline search agree) and on ratios measured in this same run,
with floors far below the measured ratios so only a large regression fails.
"""

import numpy as np
import pytest

from benches import numpy_baseline as nb
from benches.timing import ratio
from labopt import _array
from labopt.pooling import optimize, simulate
from labopt.pooling.grid import dorfman_grid

P = 0.01
GRID = np.linspace(1e-4, 0.3, 100_000)


def test_bench_d3_search_3_to_30(benchmark):
    res = benchmark(optimize, P, algorithm="D3", min_size=3, max_size=30)
    assert res.configurations_evaluated == 28_597  # all partitions, as binGroup2
    assert res.best.config == "25:5,5,5,5,5"


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


def test_bench_simulator_d2(benchmark):
    sim = benchmark(simulate, "D2", "10", prevalence=P, samples=2_000_000, seed=1)
    assert sim.samples == 2_000_000


# ---------------------------------------------------------------- ratios within this run
def _report(name, t_numpy, t_cython, r):
    print(f"\n{name}: NumPy {t_numpy * 1e3:.3f} ms, Cython {t_cython * 1e3:.3f} ms, ratio {r:.1f}x")


def test_ratio_d2_grid():
    t_np, t_cy, r = ratio(
        lambda: nb.dorfman_grid(GRID, 100, 0.99, 0.99), lambda: dorfman_grid(GRID, 100), repeat=3
    )
    _report("D2 grid 100 sizes x 100k prevalences", t_np, t_cy, r)
    et_np, _ = nb.dorfman_grid(GRID[:1000], 100, 0.99, 0.99)
    np.testing.assert_allclose(
        dorfman_grid(GRID[:1000], 100).expected_tests_per_sample, et_np, rtol=1e-10
    )
    assert r > 2


def test_ratio_d3_search():
    t_np, t_cy, r = ratio(
        lambda: nb.d3_search(P, 3, 30, 0.99, 0.99),
        lambda: optimize(P, algorithm="D3", min_size=3, max_size=30),
        repeat=3,
    )
    _report("D3 search 3..30 (full optimize)", t_np, t_cy, r)
    et_np, (I, parts) = nb.d3_search(P, 3, 30, 0.99, 0.99)
    best = optimize(P, algorithm="D3", min_size=3, max_size=30).best
    assert best.config == f"{I}:{','.join(map(str, parts))}"
    assert best.expected_tests_per_sample == pytest.approx(et_np, rel=1e-12)
    assert r > 10


@pytest.mark.parametrize("master", [False, True], ids=["A2", "A2M"])
def test_ratio_array_kernel(master):
    sizes = np.arange(3, 21)
    se = np.full(sizes.size, 0.99)
    out = [np.empty(sizes.size) for _ in range(3)]

    def cython_search():
        _array.array_sizes(P, sizes, se, 0.99, 0.99, 0.99, master, se, 0.99, False, *out)
        return int(sizes[np.argmin(out[0])])

    t_np, t_cy, r = ratio(lambda: nb.array_search(P, 3, 20, 0.99, 0.99, master), cython_search)
    _report(
        f"{'A2M' if master else 'A2'} kernel over n = 3..20 (Cython also computes PSe, PSp)",
        t_np,
        t_cy,
        r,
    )
    assert cython_search() == nb.array_search(P, 3, 20, 0.99, 0.99, master)[1]
    assert r > 0.5


def test_ratio_simulator():
    t_np, t_cy, r = ratio(
        lambda: nb.simulate_dorfman(P, 10, 0.99, 0.99, 100_000, 1),
        lambda: simulate("D2", "10", prevalence=P, samples=1_000_000, seed=1),
        repeat=3,
    )
    _report(f"D2 simulator, 1M samples ({1e6 / t_cy / 1e6:.0f} M samples/s)", t_np, t_cy, r)
    assert r > 1.5
