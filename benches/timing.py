"""Within-run speed ratios: both sides timed alternately in the same process."""

from __future__ import annotations

import time


def best_time(fn, repeat: int = 5, min_time: float = 0.02) -> float:
    """Best per-call wall time over `repeat` batches of at least `min_time` seconds."""
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


def ratio(slow, fast, repeat: int = 5) -> tuple[float, float, float]:
    """(time of slow, time of fast, slow / fast), interleaved so machine noise hits both."""
    ts, tf = float("inf"), float("inf")
    for _ in range(repeat):
        ts = min(ts, best_time(slow, repeat=1))
        tf = min(tf, best_time(fast, repeat=1))
    return ts, tf, ts / tf
