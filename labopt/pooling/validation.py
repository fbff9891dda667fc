"""Argument checks shared by the pooling functions; messages name the parameter."""

from __future__ import annotations

import math

import numpy as np

from labopt.errors import InputError
from labopt.numbers import shown


def check_probability(value: float, name: str, parameter: str | None = None) -> float:
    """A single probability in [0, 1]; ``parameter`` names it in the error when ``name`` says
    more (e.g. the stage)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(
            f"{name}: expected a number in [0, 1], got {shown(value)}", parameter or name
        ) from None
    if math.isnan(v) or not 0.0 <= v <= 1.0:
        raise InputError(
            f"{name}: must be a probability in [0, 1], got {shown(value)}", parameter or name
        )
    return v


def check_probabilities(values, name: str) -> np.ndarray:
    """A 1-D float array of probabilities in [0, 1] (no NaN), for grids and risk vectors."""
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected numbers in [0, 1], got {values!r}", name) from None
    if arr.ndim != 1:
        raise InputError(
            f"{name}: expected a scalar or a 1-D sequence, got shape {arr.shape}", name
        )
    if arr.size == 0:
        raise InputError(f"{name}: expected at least one value", name)
    bad = np.flatnonzero(np.isnan(arr) | (arr < 0.0) | (arr > 1.0))
    if bad.size:
        i = int(bad[0])
        more = f" (and {bad.size - 1} more)" if bad.size > 1 else ""
        raise InputError(
            f"{name}[{i}]: must be a probability in [0, 1], got {shown(arr[i])}{more}",
            f"{name}[{i}]",
        )
    return np.ascontiguousarray(arr)


def check_int(value, name: str, low: int, high: int) -> int:
    """An integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InputError(
                f"{name}: expected a whole number in [{low}, {high}], got {shown(value)}", name
            )
    if not low <= value <= high:
        raise InputError(f"{name}: must be between {low} and {high}, got {value}", name)
    return int(value)
