"""Argument checks shared by the pooling functions; messages name the parameter."""

from __future__ import annotations

import math

import numpy as np

from labopt.numbers import shown


def check_probability(value: float, name: str) -> float:
    """A single probability in [0, 1]."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number in [0, 1], got {shown(value)}") from None
    if math.isnan(v) or not 0.0 <= v <= 1.0:
        raise ValueError(f"{name}: must be a probability in [0, 1], got {shown(value)}")
    return v


def check_probabilities(values, name: str) -> np.ndarray:
    """A 1-D float array of probabilities in [0, 1] (no NaN), for grids and risk vectors."""
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers in [0, 1], got {values!r}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a scalar or a 1-D sequence, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected at least one value")
    bad = np.flatnonzero(np.isnan(arr) | (arr < 0.0) | (arr > 1.0))
    if bad.size:
        i = int(bad[0])
        more = f" (and {bad.size - 1} more)" if bad.size > 1 else ""
        raise ValueError(f"{name}[{i}]: must be a probability in [0, 1], got {shown(arr[i])}{more}")
    return np.ascontiguousarray(arr)


def check_int(value, name: str, low: int, high: int) -> int:
    """An integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(
                f"{name}: expected a whole number in [{low}, {high}], got {shown(value)}"
            )
    if not low <= value <= high:
        raise ValueError(f"{name}: must be between {low} and {high}, got {value}")
    return int(value)
