"""Screening: how many samples a district's screening round needs (labopt.screening.freedom)."""

from labopt.screening.freedom import (
    DEFAULT_SE,
    DEFAULT_SP,
    DEFAULT_SPECIFICITY,
    ScreeningSize,
    size_for_detection,
)

__all__ = ["DEFAULT_SE", "DEFAULT_SP", "DEFAULT_SPECIFICITY", "ScreeningSize", "size_for_detection"]
