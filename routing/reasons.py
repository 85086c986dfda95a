"""Why a stop is left out: a deterministic pre-check, then probing the finished plan.

The pre-check rules stops out before solving when no vehicle could ever serve them alone
(skills, capacity, window, shift). After solving, each stop still left out is probed: every
insertion position in every vehicle's route is re-timed by the feasibility checker, and the
violation kind of the best insertion names the reason ("every courier who can reach it is
full", ...). Nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from routing import feasibility
from routing.feasibility import ViolationKind
from routing.model import Problem, amounts
from routing.plan import Reason, Route, Unassigned


def _minutes(seconds: int) -> int:
    return -(-seconds // 60)


def vehicle_groups(problem: Problem) -> list[list[int]]:
    """Vehicles that behave the same on any route (fixed cost aside), grouped."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for v, veh in enumerate(problem.vehicles):
        key = (
            veh.capacity,
            veh.shift,
            veh.start_depot,
            veh.end_depot,
            veh.profile,
            veh.skills,
            veh.breaks,
        )
        groups.setdefault(key, []).append(v)
    return list(groups.values())


def precheck(problem: Problem) -> dict[int, Unassigned]:
    """Stops no single vehicle could serve even on an otherwise empty route."""
    out: dict[int, Unassigned] = {}
    dims = problem.dimensions
    representatives = [group[0] for group in vehicle_groups(problem)]
    for s, stop in enumerate(problem.stops):
        skilled = [v for v in representatives if stop.skills <= problem.vehicles[v].skills]
        if not skilled:
            need = ", ".join(sorted(stop.skills))
            out[s] = Unassigned(
                s,
                Reason.NO_VEHICLE_WITH_SKILL,
                f"No vehicle on shift has what stop {stop.id} needs ({need}).",
            )
            continue
        demand = [
            max(a, b)
            for a, b in zip(amounts(stop.delivery, dims), amounts(stop.pickup, dims), strict=True)
        ]
        roomy = [
            v
            for v in skilled
            if all(d <= c for d, c in zip(demand, problem.vehicles[v].capacity, strict=True))
        ]
        if not roomy:
            biggest = max(max(problem.vehicles[v].capacity, default=0) for v in skilled)
            out[s] = Unassigned(
                s,
                Reason.CAPACITY,
                f"Stop {stop.id} needs {max(demand)} units of space; the largest "
                f"suitable vehicle carries {biggest}.",
            )
            continue
        alone = [feasibility.time_route(problem, v, [s]) for v in roomy]
        if any(not t.violations for t in alone):
            continue
        # Explain with the vehicle that comes closest: its worst problem is the reason.
        closest = min(alone, key=lambda t: (len(t.violations), sum(x.amount for x in t.violations)))
        amount = {x.kind: x.amount for x in closest.violations}
        if ViolationKind.LATE in amount:
            out[s] = Unassigned(
                s,
                Reason.WINDOW_UNREACHABLE,
                f"No vehicle can reach stop {stop.id} inside its window, even driving straight "
                f"there (the earliest would be {_minutes(amount[ViolationKind.LATE])} min late).",
            )
        elif ViolationKind.SHIFT_END in amount:
            out[s] = Unassigned(
                s,
                Reason.SHIFT_TOO_SHORT,
                f"Stop {stop.id} can be reached in its window, but no shift is long enough to "
                f"get back to the depot (short by "
                f"{_minutes(amount[ViolationKind.SHIFT_END])} min).",
            )
        else:
            out[s] = Unassigned(
                s,
                Reason.BREAK_CONFLICT,
                f"Serving stop {stop.id} leaves no time for the driver's break.",
            )
    return out


_REASON_OF_KIND: Mapping[ViolationKind, Reason] = {
    ViolationKind.CAPACITY: Reason.CAPACITY,
    ViolationKind.LATE: Reason.WINDOW_UNREACHABLE,
    ViolationKind.SHIFT_END: Reason.SHIFT_TOO_SHORT,
    ViolationKind.BREAK: Reason.BREAK_CONFLICT,
}


def probe(problem: Problem, routes: Sequence[Route], stop: int) -> Unassigned:
    """Explain a stop the solver left out by trying it at every place in every route."""
    by_vehicle = {r.vehicle: list(r.stops) for r in routes}
    best: tuple[int, int, frozenset[ViolationKind]] | None = None
    target = problem.stops[stop]
    # Vehicles with a route, plus one idle vehicle of each kind (idle twins behave alike).
    idle: list[int] = []
    for group in vehicle_groups(problem):
        idle.extend([v for v in group if v not in by_vehicle][:1])
    dims = problem.dimensions
    one_way = not any(any(s.pickup) for s in problem.stops)
    demand = amounts(target.delivery, dims)
    loads = {r.vehicle: r.load_start for r in routes}
    for v in sorted(set(by_vehicle) | set(idle)):
        if not target.skills <= problem.vehicles[v].skills:
            continue
        current = by_vehicle.get(v, [])
        if one_way and v in loads:
            # With deliveries only, the van leaves loaded with everything: if this stop does
            # not fit on top, no position can work, and timing each one is wasted effort.
            excess = max(
                loads[v][k] + demand[k] - problem.vehicles[v].capacity[k] for k in range(dims)
            )
            if excess > 0:
                key = (1, excess, frozenset({ViolationKind.CAPACITY}))
                if best is None or key[:2] < best[:2]:
                    best = key
                continue
        for pos in range(len(current) + 1):
            trial = [*current[:pos], stop, *current[pos:]]
            found = feasibility.time_route(problem, v, trial).violations
            kinds = frozenset(x.kind for x in found)
            key = (len(kinds), sum(x.amount for x in found), kinds)
            if best is None or key[:2] < best[:2]:
                best = key
    if best is None or not best[2]:
        return Unassigned(
            stop,
            Reason.NOT_PLANNED_IN_TIME,
            f"Stop {target.id} fits into the plan but the search ended before "
            "placing it; plan again with more time.",
        )
    kinds = best[2]
    for kind in (
        ViolationKind.CAPACITY,
        ViolationKind.LATE,
        ViolationKind.SHIFT_END,
        ViolationKind.BREAK,
    ):
        if kind in kinds:
            reason = _REASON_OF_KIND[kind]
            break
    messages = {
        Reason.CAPACITY: f"Every vehicle that could take stop {target.id} is already full.",
        Reason.WINDOW_UNREACHABLE: f"No courier can reach stop {target.id} inside its window "
        "without making another stop late.",
        Reason.SHIFT_TOO_SHORT: f"Adding stop {target.id} to any route would end a shift late.",
        Reason.BREAK_CONFLICT: f"Adding stop {target.id} to any route would push a driver's "
        "break out of its window.",
    }
    return Unassigned(stop, reason, messages[reason])
