"""Summaries of measured times, said the same way wherever the product reports them (the
help page's response times, the simulator's return decisions)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def median(values: Sequence[float]) -> float | None:
    """The median (the mean of the two middle values when their number is even)."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return None
    middle = n // 2
    return ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank: the smallest value that at least 90 % of the
    values do not exceed."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[math.ceil(0.9 * len(ordered)) - 1]
