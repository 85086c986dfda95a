"""What a solve returns: routes of timed visits, and every stop left out with its reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Reason(StrEnum):
    """Why a stop is on no route: one vocabulary for the search, late insertion, the promise
    engine and the stored plan (the database checks its values)."""

    NO_OPEN_ROUTE = "NO_OPEN_ROUTE"  # every route has left the depot, or there are none
    NO_VEHICLE_WITH_SKILL = "NO_VEHICLE_WITH_SKILL"
    CAPACITY = "CAPACITY"
    WINDOW_UNREACHABLE = "WINDOW_UNREACHABLE"
    SHIFT_TOO_SHORT = "SHIFT_TOO_SHORT"
    BREAK_CONFLICT = "BREAK_CONFLICT"
    NOT_PLANNED_IN_TIME = "NOT_PLANNED_IN_TIME"


@dataclass(frozen=True, slots=True)
class Visit:
    stop: int
    arrival_s: int
    start_s: int  # service start, inside one of the stop's windows when feasible
    departure_s: int
    load_after: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BreakTaken:
    start_s: int
    end_s: int
    before_visit: int  # taken on the leg into this visit; len(visits): the leg back to the depot


@dataclass(frozen=True, slots=True)
class Route:
    vehicle: int
    visits: tuple[Visit, ...]
    start_s: int  # leaves the start depot
    end_s: int  # arrives at the end depot
    distance_m: int
    load_start: tuple[int, ...]
    breaks: tuple[BreakTaken, ...] = ()

    @property
    def stops(self) -> tuple[int, ...]:
        return tuple(v.stop for v in self.visits)


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A stop left out. ``message`` says why in English for routing's own users; ``params``
    and ``vehicles`` hold the same facts, so a caller can say it in its own words (and
    language): ``stop`` (the stop's id) always, plus ``late_min``, ``short_min``, ``need``
    and ``largest`` (units), ``skills`` where the reason has them. ``vehicles`` are the
    vehicles (indices) that came closest, when the reason comes from probing the plan."""

    stop: int
    reason: Reason
    message: str
    params: Mapping[str, int | str] = field(default_factory=dict)
    vehicles: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    engine: str
    objective: int  # the engine's own objective, for comparing runs of one engine
    wall_time_s: float
    # The caller's should_stop ended the search early: the plan is the best found by then
    # (still feasible, every stop accounted for), usually worse than a full run's.
    stopped: bool = False

    @property
    def distance_m(self) -> int:
        return sum(r.distance_m for r in self.routes)
