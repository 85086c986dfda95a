"""The planning problem: immutable, index-based, integer units, validated on construction.

Times are seconds since the plan's epoch (e.g. local midnight of the delivery day), distances
are metres, loads are units per capacity dimension. Every error names the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray


class ProblemError(ValueError):
    """The problem is malformed; the message starts with the field's path."""


class StopKind(StrEnum):
    DELIVERY = "delivery"  # goods loaded at the depot, dropped here
    PICKUP = "pickup"  # a return collected here and carried back to the depot
    EXCHANGE = "exchange"  # both at one visit


def _require(condition: bool, path: str, message: str) -> None:
    if not condition:
        raise ProblemError(f"{path}: {message}")


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Earliest and latest service start, in seconds since the plan's epoch."""

    early_s: int
    late_s: int

    def __post_init__(self) -> None:
        _require(self.early_s >= 0, "early_s", f"must be >= 0, got {self.early_s}")
        _require(
            self.late_s >= self.early_s,
            "late_s",
            f"{self.late_s} is before early_s {self.early_s}",
        )


@dataclass(frozen=True, slots=True)
class Break:
    """A driver break of ``duration_s`` that must start inside ``window``."""

    window: TimeWindow
    duration_s: int
    # The caller's name for it (VROOM's break id), echoed in plans; not part of the rule.
    id: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _require(self.duration_s > 0, "duration_s", f"must be > 0, got {self.duration_s}")


@dataclass(frozen=True, slots=True)
class Depot:
    id: str
    location: int


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: str
    capacity: tuple[int, ...]
    shift: TimeWindow  # leave the start depot no earlier than early_s, be back by late_s
    start_depot: int
    end_depot: int
    profile: str = "car"
    skills: frozenset[str] = frozenset()
    fixed_cost: int = 0
    breaks: tuple[Break, ...] = ()


def interchangeable(v: Vehicle) -> tuple[object, ...]:
    """Vehicles with equal keys behave the same on any route (fixed cost aside)."""
    return (v.capacity, v.shift, v.start_depot, v.end_depot, v.profile, v.skills, v.breaks)


@dataclass(frozen=True, slots=True)
class Stop:
    id: str
    kind: StopKind
    location: int
    windows: tuple[TimeWindow, ...]
    service_s: int = 0
    delivery: tuple[int, ...] = ()
    pickup: tuple[int, ...] = ()
    skills: frozenset[str] = frozenset()
    priority: int = 1  # 1 (normal) .. 10: how strongly the plan should keep it


def _matrix(
    raw: NDArray[np.int64] | Sequence[Sequence[int]], path: str, n: int
) -> NDArray[np.int64]:
    array = np.array(raw, dtype=np.int64, copy=True)
    _require(array.ndim == 2 and array.shape[0] == array.shape[1], path, "must be square")
    _require(array.shape[0] >= n, path, f"covers {array.shape[0]} locations, need {n}")
    _require(bool((array >= 0).all()), path, "has negative entries")
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Problem:
    """Depots, vehicles and stops over a distance matrix and one duration matrix per profile."""

    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...]
    stops: tuple[Stop, ...]
    distance_m: NDArray[np.int64]
    duration_s: Mapping[str, NDArray[np.int64]]
    dimensions: int = field(init=False)

    def __init__(
        self,
        *,
        depots: Sequence[Depot],
        vehicles: Sequence[Vehicle],
        stops: Sequence[Stop],
        distance_m: NDArray[np.int64] | Sequence[Sequence[int]],
        duration_s: Mapping[str, NDArray[np.int64] | Sequence[Sequence[int]]],
    ) -> None:
        depots, vehicles, stops = tuple(depots), tuple(vehicles), tuple(stops)
        _require(len(depots) > 0, "depots", "at least one depot is needed")
        _require(len(vehicles) > 0, "vehicles", "at least one vehicle is needed")
        locations = [d.location for d in depots] + [s.location for s in stops]
        n = max(locations) + 1
        dist = _matrix(distance_m, "distance_m", n)
        durations = {p: _matrix(m, f"duration_s[{p!r}]", n) for p, m in duration_s.items()}
        for name, m in durations.items():
            _require(
                m.shape == dist.shape, f"duration_s[{name!r}]", "differs in size from distance_m"
            )
        dims = len(vehicles[0].capacity)
        _validate_ids("depots", [d.id for d in depots])
        _validate_ids("vehicles", [v.id for v in vehicles])
        _validate_ids("stops", [s.id for s in stops])
        for i, d in enumerate(depots):
            _require(
                0 <= d.location < n, f"depots[{i}].location", f"{d.location} is not in the matrix"
            )
        for i, v in enumerate(vehicles):
            _validate_vehicle(i, v, dims, len(depots), durations)
        for i, s in enumerate(stops):
            _validate_stop(i, s, dims)
        object.__setattr__(self, "depots", depots)
        object.__setattr__(self, "vehicles", vehicles)
        object.__setattr__(self, "stops", stops)
        object.__setattr__(self, "distance_m", dist)
        object.__setattr__(self, "duration_s", MappingProxyType(durations))
        object.__setattr__(self, "dimensions", dims)

    def __getstate__(self) -> dict[str, object]:
        # Problems travel to worker processes; a mappingproxy cannot be pickled.
        state = dict(self.__dict__)
        state["duration_s"] = dict(self.duration_s)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        durations = state.pop("duration_s")
        assert isinstance(durations, dict)
        self.__dict__.update(state)
        object.__setattr__(self, "duration_s", MappingProxyType(durations))

    def travel_s(self, vehicle: int, frm: int, to: int) -> int:
        """Travel time between two locations for this vehicle's speed profile."""
        return int(self.duration_s[self.vehicles[vehicle].profile][frm, to])


def _validate_ids(path: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        _require(ident not in seen, f"{path}[{i}].id", f"{ident!r} is used twice")
        seen.add(ident)


def _validate_vehicle(
    i: int, v: Vehicle, dims: int, n_depots: int, durations: Mapping[str, object]
) -> None:
    path = f"vehicles[{i}]"
    _require(
        len(v.capacity) == dims, f"{path}.capacity", f"needs {dims} dimensions like vehicles[0]"
    )
    _require(all(c >= 0 for c in v.capacity), f"{path}.capacity", "must not be negative")
    for name in ("start_depot", "end_depot"):
        value = getattr(v, name)
        _require(0 <= value < n_depots, f"{path}.{name}", f"there is no depot {value}")
    _require(v.profile in durations, f"{path}.profile", f"no duration matrix for {v.profile!r}")
    _require(v.fixed_cost >= 0, f"{path}.fixed_cost", "must not be negative")
    for b, brk in enumerate(v.breaks):
        _require(
            v.shift.early_s <= brk.window.late_s and brk.window.early_s <= v.shift.late_s,
            f"{path}.breaks[{b}].window",
            "lies outside the shift",
        )


def _validate_stop(i: int, s: Stop, dims: int) -> None:
    path = f"stops[{i}]"
    _require(len(s.windows) > 0, f"{path}.windows", "at least one time window is needed")
    for w in range(1, len(s.windows)):
        _require(
            s.windows[w].early_s > s.windows[w - 1].late_s,
            f"{path}.windows[{w}]",
            "windows must be sorted and must not overlap",
        )
    _require(s.service_s >= 0, f"{path}.service_s", "must not be negative")
    _require(1 <= s.priority <= 10, f"{path}.priority", f"must be 1..10, got {s.priority}")
    for name in ("delivery", "pickup"):
        amounts = getattr(s, name)
        _require(len(amounts) in (0, dims), f"{path}.{name}", f"needs {dims} dimensions or none")
        _require(all(a >= 0 for a in amounts), f"{path}.{name}", "must not be negative")
    has_delivery, has_pickup = any(s.delivery), any(s.pickup)
    if s.kind is StopKind.DELIVERY:
        _require(not has_pickup, f"{path}.pickup", "a delivery stop picks nothing up")
    elif s.kind is StopKind.PICKUP:
        _require(not has_delivery, f"{path}.delivery", "a pickup stop delivers nothing")


def amounts(values: tuple[int, ...], dims: int) -> tuple[int, ...]:
    """Demand with the implicit zeros filled in."""
    return values if values else (0,) * dims
