"""Tiny named instances. Travel time in seconds equals distance in metres (1 m/s)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from routing.model import Break, Depot, Problem, Stop, StopKind, TimeWindow, Vehicle

DAY = TimeWindow(0, 100_000)


def on_a_line(positions: Sequence[int]) -> np.ndarray:
    """Matrix for points on a line: location 0 is the depot at position 0."""
    pts = np.asarray([0, *positions], dtype=np.int64)
    return np.abs(pts[:, None] - pts[None, :])


def problem(
    stops: Sequence[Stop],
    vehicles: Sequence[Vehicle] | None = None,
    matrix: np.ndarray | None = None,
    positions: Sequence[int] | None = None,
) -> Problem:
    if matrix is None:
        matrix = on_a_line(positions or [100 * (i + 1) for i in range(len(stops))])
    return Problem(
        depots=[Depot("depot", 0)],
        vehicles=vehicles or [van()],
        stops=stops,
        distance_m=matrix,
        duration_s={"car": matrix},
    )


def van(
    ident: str = "van",
    capacity: int = 100,
    shift: TimeWindow = DAY,
    skills: frozenset[str] = frozenset(),
    breaks: Sequence[Break] = (),
) -> Vehicle:
    return Vehicle(ident, (capacity,), shift, 0, 0, "car", skills, 0, tuple(breaks))


def delivery(
    ident: str,
    location: int,
    amount: int = 1,
    window: TimeWindow = DAY,
    service_s: int = 0,
    skills: frozenset[str] = frozenset(),
) -> Stop:
    return Stop(ident, StopKind.DELIVERY, location, (window,), service_s, (amount,), (), skills)


def pickup(ident: str, location: int, amount: int = 1, window: TimeWindow = DAY) -> Stop:
    return Stop(ident, StopKind.PICKUP, location, (window,), 0, (), (amount,))
