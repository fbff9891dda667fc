"""Within-run speed ratios, the gates on them, and the figures each run records.

Both sides of a ratio are timed alternately in the same process, so a slower or busier
machine slows both; a gate fails when labopt's speed relative to its baseline falls below a
floor set well under the measured ratio (CI runs on a loaded 2-core machine). Every figure
recorded here goes to the run's JSON file (benches/conftest.py), from which
``python -m benches.report`` writes BENCHMARKS.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

# figures of this run: one dict per gate or measurement, in the order they were taken
RECORDS: list[dict[str, Any]] = []


def best_time(fn: Callable[[], object], repeat: int = 5, min_time: float = 0.02) -> float:
    """Best per-call wall time (seconds) over `repeat` batches of at least `min_time` s."""
    calls = 1
    while True:  # calibrate the batch size
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        if time.perf_counter() - t0 >= min_time or calls >= 1 << 16:
            break
        calls *= 2
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def ratio(
    slow: Callable[[], object], fast: Callable[[], object], repeat: int = 5
) -> tuple[float, float, float]:
    """(time of slow, time of fast, slow / fast) in seconds, interleaved so machine noise
    hits both."""
    ts, tf = float("inf"), float("inf")
    for _ in range(repeat):
        ts = min(ts, best_time(slow, repeat=1))
        tf = min(tf, best_time(fast, repeat=1))
    return ts, tf, ts / tf


def record(area: str, name: str, **figures: Any) -> None:
    """Keep a measurement (times in seconds) for the run's JSON file."""
    RECORDS.append({"kind": "figure", "area": area, "name": name, **figures})


def gate(
    area: str,
    name: str,
    *,
    baseline: str,
    t_baseline: float,
    t_labopt: float,
    floor: float,
    **figures: Any,
) -> float:
    """Record ``t_baseline / t_labopt`` (times in seconds) and fail below ``floor``."""
    r = t_baseline / t_labopt
    RECORDS.append(
        {
            "kind": "gate",
            "area": area,
            "name": name,
            "baseline": baseline,
            "t_baseline": t_baseline,
            "t_labopt": t_labopt,
            "ratio": r,
            "floor": floor,
            "passed": r >= floor,
            **figures,
        }
    )
    print(
        f"\n{name}: {baseline} {t_baseline * 1e3:.3f} ms, labopt {t_labopt * 1e3:.3f} ms, "
        f"ratio {r:.3g}x (floor {floor}x)"
    )
    assert r >= floor, (
        f"{name}: labopt is {r:.3g}x as fast as {baseline}, below the floor of {floor}x "
        f"({baseline} {t_baseline:.4g} s, labopt {t_labopt:.4g} s): a speed regression"
    )
    return r


def gate_ratio(
    area: str,
    name: str,
    baseline: str,
    slow: Callable[[], object],
    fast: Callable[[], object],
    floor: float,
    repeat: int = 5,
    **figures: Any,
) -> float:
    """Time ``slow`` (the baseline) against ``fast`` (labopt) with :func:`ratio` and gate."""
    t_slow, t_fast, _ = ratio(slow, fast, repeat=repeat)
    return gate(
        area,
        name,
        baseline=baseline,
        t_baseline=t_slow,
        t_labopt=t_fast,
        floor=floor,
        **figures,
    )
