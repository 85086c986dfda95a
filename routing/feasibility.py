"""Independent feasibility checker: re-times any routes and lists every violation.

It shares no code with the solvers: a plan from OR-Tools, PyVRP or a dispatcher's hand is
judged by the same rules. Service must start inside one of the stop's windows (waiting is
allowed, arriving late is not); the vehicle leaves the depot loaded with every delivery of
its route and brings pickups back, so the load after each stop must fit; the route must
end at its depot by the end of the shift; each break starts inside its window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import product

from routing.model import Problem, amounts
from routing.plan import BreakTaken, Route, Visit


class ViolationKind(StrEnum):
    LATE = "late"
    CAPACITY = "capacity"
    SHIFT_END = "shift_end"
    SKILL = "skill"
    BREAK = "break"
    DUPLICATE_STOP = "duplicate_stop"
    UNKNOWN_STOP = "unknown_stop"
    UNKNOWN_VEHICLE = "unknown_vehicle"


@dataclass(frozen=True, slots=True)
class Violation:
    kind: ViolationKind
    vehicle: int
    stop: int | None  # None for route-level violations
    amount: int  # seconds late, units over capacity, seconds past shift end, ...
    message: str


@dataclass(frozen=True, slots=True)
class TimedRoute:
    route: Route
    violations: tuple[Violation, ...]


def minutes_up(seconds: int) -> int:
    """Whole minutes, rounded up: "late by 1 min" for 20 s, never "late by 0 min"."""
    return -(-seconds // 60)


def _fmt_minutes(seconds: int) -> str:
    return f"{minutes_up(seconds)} min"


def _walk(
    problem: Problem,
    vehicle: int,
    stops: Sequence[int],
    break_slots: Sequence[int],
    *,
    skip_breaks: bool = False,
) -> TimedRoute:
    """Time one route with each break taken on the leg into the given visit index (or, with
    ``skip_breaks``, without the vehicle's breaks)."""
    v = problem.vehicles[vehicle]
    dims = problem.dimensions
    violations: list[Violation] = []
    deliveries = [amounts(problem.stops[s].delivery, dims) for s in stops]
    load = tuple(sum(d[k] for d in deliveries) for k in range(dims))
    load_start = load

    def over(current: tuple[int, ...], stop: int | None) -> None:
        excess = max(current[k] - v.capacity[k] for k in range(dims)) if dims else 0
        if excess > 0:
            where = f"at stop {problem.stops[stop].id}" if stop is not None else "leaving the depot"
            violations.append(
                Violation(
                    ViolationKind.CAPACITY,
                    vehicle,
                    stop,
                    excess,
                    f"over capacity by {excess} {where}",
                )
            )

    over(load, None)
    here = problem.depots[v.start_depot].location
    t = v.shift.early_s
    start_s = t
    distance = 0
    visits: list[Visit] = []
    breaks: list[BreakTaken] = []
    pending = [] if skip_breaks else sorted(zip(break_slots, range(len(v.breaks)), strict=True))

    def take_breaks(slot: int, depart: int, travel: int) -> int:
        """Breaks on the leg into visit ``slot``; returns when service there can begin.

        A break may overlap the drive (it pauses it) or the wait, never a service.
        """
        clock = depart
        paused = 0
        while pending and pending[0][0] == slot:
            _, b = pending.pop(0)
            brk = v.breaks[b]
            begin = max(clock, brk.window.early_s)
            if begin > brk.window.late_s:
                violations.append(
                    Violation(
                        ViolationKind.BREAK,
                        vehicle,
                        None,
                        begin - brk.window.late_s,
                        f"break starts {_fmt_minutes(begin - brk.window.late_s)} after its window",
                    )
                )
            breaks.append(BreakTaken(begin, begin + brk.duration_s, slot))
            clock = begin + brk.duration_s
            paused += brk.duration_s
        return max(depart + travel + paused, clock)

    for slot, s in enumerate(stops):
        stop = problem.stops[s]
        if not stop.skills <= v.skills:
            missing = ", ".join(sorted(stop.skills - v.skills))
            violations.append(
                Violation(
                    ViolationKind.SKILL,
                    vehicle,
                    s,
                    len(stop.skills - v.skills),
                    f"vehicle {v.id} lacks {missing} for stop {stop.id}",
                )
            )
        travel = problem.travel_s(vehicle, here, stop.location)
        distance += int(problem.distance_m[here, stop.location])
        arrival = ready = take_breaks(slot, t, travel)
        window = next((w for w in stop.windows if w.late_s >= ready), None)
        if window is None:
            last = stop.windows[-1]
            begin = ready
            violations.append(
                Violation(
                    ViolationKind.LATE,
                    vehicle,
                    s,
                    ready - last.late_s,
                    f"late by {_fmt_minutes(ready - last.late_s)} at stop {stop.id}",
                )
            )
        else:
            begin = max(ready, window.early_s)
        depart = begin + stop.service_s
        delivered = amounts(stop.delivery, dims)
        picked = amounts(stop.pickup, dims)
        load = tuple(load[k] - delivered[k] + picked[k] for k in range(dims))
        over(load, s)
        visits.append(Visit(s, arrival, begin, depart, load))
        t, here = depart, stop.location
    end_location = problem.depots[v.end_depot].location
    distance += int(problem.distance_m[here, end_location])
    arrival = take_breaks(len(stops), t, problem.travel_s(vehicle, here, end_location))
    if arrival > v.shift.late_s:
        late = arrival - v.shift.late_s
        violations.append(
            Violation(
                ViolationKind.SHIFT_END,
                vehicle,
                None,
                late,
                f"past shift end by {_fmt_minutes(late)}",
            )
        )
    route = Route(vehicle, tuple(visits), start_s, arrival, distance, load_start, tuple(breaks))
    return TimedRoute(route, tuple(violations))


def violations_before_breaks(
    problem: Problem, vehicle: int, stops: Sequence[int]
) -> tuple[Violation, ...]:
    """What breaks the rules even before the vehicle's breaks are placed: one walk, however
    many breaks. Breaks only ever delay, so every one of these stays once they are placed."""
    return _walk(problem, vehicle, stops, (), skip_breaks=True).violations


def time_route(problem: Problem, vehicle: int, stops: Sequence[int]) -> TimedRoute:
    """Re-time one route; with breaks, the placement with the fewest violations wins."""
    n_breaks = len(problem.vehicles[vehicle].breaks)
    if n_breaks == 0:
        return _walk(problem, vehicle, stops, ())
    best: TimedRoute | None = None
    # Each break may be taken before any visit or before the return to the depot.
    for slots in product(range(len(stops) + 1), repeat=n_breaks):
        if list(slots) != sorted(slots):
            continue
        timed = _walk(problem, vehicle, stops, slots)
        key = (len(timed.violations), sum(x.amount for x in timed.violations))
        if best is None or key < (len(best.violations), sum(x.amount for x in best.violations)):
            best = timed
        if not timed.violations:
            break
    assert best is not None
    return best


def check(problem: Problem, routes: Sequence[tuple[int, Sequence[int]]]) -> list[TimedRoute]:
    """Re-time ``(vehicle, stops)`` routes; every violation is listed with stop and amount."""
    seen: dict[int, int] = {}
    out: list[TimedRoute] = []
    for vehicle, stops in routes:
        extra: list[Violation] = []
        if not 0 <= vehicle < len(problem.vehicles):
            out.append(
                TimedRoute(
                    Route(vehicle, (), 0, 0, 0, ()),
                    (
                        Violation(
                            ViolationKind.UNKNOWN_VEHICLE,
                            vehicle,
                            None,
                            1,
                            f"there is no vehicle {vehicle}",
                        ),
                    ),
                )
            )
            continue
        known = []
        for s in stops:
            if not 0 <= s < len(problem.stops):
                extra.append(
                    Violation(ViolationKind.UNKNOWN_STOP, vehicle, s, 1, f"there is no stop {s}")
                )
                continue
            if s in seen:
                extra.append(
                    Violation(
                        ViolationKind.DUPLICATE_STOP,
                        vehicle,
                        s,
                        1,
                        f"stop {problem.stops[s].id} is also on vehicle "
                        f"{problem.vehicles[seen[s]].id}'s route",
                    )
                )
            seen[s] = vehicle
            known.append(s)
        timed = time_route(problem, vehicle, known)
        out.append(TimedRoute(timed.route, tuple(extra) + timed.violations))
    return out


def violations(problem: Problem, routes: Sequence[tuple[int, Sequence[int]]]) -> list[Violation]:
    return [v for timed in check(problem, routes) for v in timed.violations]
