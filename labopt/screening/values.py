"""The values screening sizes take: fractions and counts, checked with the parameter named."""

from __future__ import annotations

import math

from labopt.errors import InputError

# a computed count within this of a whole number is that number (floating-point error must
# not add a sample: (100 / 0.95) * 0.95 is 100.00000000000001)
WHOLE = 1e-9
# more samples or pools than this is no screening round: a target set wrong
MAX_COUNT = 10**12


def fraction(name: str, value: float, *, low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a float in [0, 1] (an end open as told); InputError naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    low_ok = v > 0 if low_open else v >= 0
    high_ok = v < 1 if high_open else v <= 1
    if not (math.isfinite(v) and low_ok and high_ok):
        allowed = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise InputError(f"{name}: a fraction in {allowed}, got {value!r}", name)
    return v


def count(name: str, value: int, minimum: int = 0) -> int:
    """``value`` as a whole number >= ``minimum``; InputError naming ``name``."""
    try:
        whole = not isinstance(value, bool) and float(value).is_integer()
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or int(value) < minimum:
        raise InputError(f"{name}: a whole number >= {minimum}, got {value!r}", name)
    return int(value)


def whole_up(x: float) -> int:
    """The smallest whole number >= ``x``, ``x`` within WHOLE of one being that one."""
    return math.ceil(x - WHOLE)


def needed(x: float, name: str) -> int:
    """:func:`whole_up` of a count a target needs; InputError naming ``name`` when it is
    beyond MAX_COUNT (or not finite)."""
    if not math.isfinite(x) or x > MAX_COUNT:
        raise InputError(
            f"{name}: reaching it would take more than {MAX_COUNT:,} samples or pools; "
            f"ask for less, or a higher prevalence",
            name,
        )
    return whole_up(x)
