"""Weekly line charts drawn on the server as SVG geometry: no script and no CDN, so a chart
shows on any screen, prints, and says the same thing as the numbers beside it.

This module only places points; the page draws them (and links each point to its list).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 360, 150
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 8, 22


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    index: int  # the week's position
    value: float


@dataclass(frozen=True, slots=True)
class Line:
    name: str  # the series' key (the page names it)
    segments: list[str]  # SVG polyline "x,y x,y": a week without a figure breaks the line
    points: list[Point]


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: float


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    lines: list[Line]
    ticks: list[Tick]
    x_labels: list[tuple[float, int]]  # (x, week index) for every other week or so
    left: int
    right: int
    top: int
    bottom: int


def _scale(
    values: Sequence[float], floor: float | None, ceiling: float | None
) -> tuple[float, float]:
    """An axis that shows the trend: a line between 97 and 99 % is not drawn flat from 0 to 100."""
    if not values:
        return (floor if floor is not None else 0.0), (ceiling if ceiling is not None else 1.0)
    low, high = min(values), max(values)
    step = _step(high - low)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step
    if high <= low:
        high = low + step
    if floor is not None and low < floor:
        low = floor
    if ceiling is not None and high > ceiling:
        high = ceiling
    if high <= low:  # every value sits on the ceiling (100 % each week)
        low = high - step
    return low, high


def _step(span: float) -> float:
    if span <= 0:
        return 1.0
    raw = span / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for nice in (1, 2, 5, 10):
        if raw <= nice * magnitude:
            return nice * magnitude
    return 10 * magnitude


def line_chart(
    series: dict[str, Sequence[float | None]],
    *,
    floor: float | None = None,
    ceiling: float | None = None,
) -> Chart:
    """Each series' values by week (None: no figure that week), on one shared axis."""
    weeks = max((len(v) for v in series.values()), default=0)
    known = [v for values in series.values() for v in values if v is not None]
    low, high = _scale(known, floor, ceiling)
    inner_w = WIDTH - LEFT - RIGHT
    inner_h = HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (inner_w * i / (weeks - 1) if weeks > 1 else inner_w / 2)

    def y(v: float) -> float:
        return TOP + inner_h * (1 - (v - low) / (high - low))

    lines = []
    for name, values in series.items():
        segments: list[str] = []
        run: list[str] = []
        points = []
        for i, v in enumerate(values):
            if v is None:
                if run:
                    segments.append(" ".join(run))
                run = []
                continue
            px, py = round(x(i), 1), round(y(v), 1)
            run.append(f"{px},{py}")
            points.append(Point(px, py, i, v))
        if run:
            segments.append(" ".join(run))
        lines.append(Line(name, segments, points))
    step = _step(high - low)
    ticks = []
    value = low
    while value <= high + step / 1000:
        ticks.append(Tick(round(y(value), 1), round(value, 6)))
        value += step
    every = max(1, math.ceil(weeks / 6))
    labels = [(round(x(i), 1), i) for i in range(0, weeks, every)]
    return Chart(WIDTH, HEIGHT, lines, ticks, labels, LEFT, RIGHT, TOP, BOTTOM)
