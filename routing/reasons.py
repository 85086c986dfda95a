"""Why a stop is left out: a deterministic pre-check, then probing the finished plan.

The pre-check rules stops out before solving when no vehicle could ever serve them alone
(skills, capacity, window, shift). After solving, each stop still left out is probed: every
insertion position in every vehicle's route is re-timed by the feasibility checker, and the
violation kind of the best insertion names the reason ("every courier who can reach it is
full", ...). Nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

from routing import feasibility
from routing.feasibility import ViolationKind, minutes_up
from routing.model import Problem, amounts, interchangeable
from routing.plan import Reason, Route, Unassigned


def vehicle_groups(problem: Problem) -> list[list[int]]:
    """Vehicles that behave the same on any route (fixed cost aside), grouped."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for v, veh in enumerate(problem.vehicles):
        key = interchangeable(veh)
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
                {"stop": stop.id, "skills": need},
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
                {"stop": stop.id, "need": max(demand), "largest": biggest},
            )
            continue
        alone = [feasibility.time_route(problem, v, [s]) for v in roomy]
        if any(not t.violations for t in alone):
            continue
        # Explain with the vehicle that comes closest: its worst problem is the reason.
        closest = min(alone, key=lambda t: (len(t.violations), sum(x.amount for x in t.violations)))
        amount = {x.kind: x.amount for x in closest.violations}
        if ViolationKind.LATE in amount:
            late = minutes_up(amount[ViolationKind.LATE])
            out[s] = Unassigned(
                s,
                Reason.WINDOW_UNREACHABLE,
                f"No vehicle can reach stop {stop.id} inside its window, even driving straight "
                f"there (the earliest would be {late} min late).",
                {"stop": stop.id, "late_min": late},
            )
        elif ViolationKind.SHIFT_END in amount:
            short = minutes_up(amount[ViolationKind.SHIFT_END])
            out[s] = Unassigned(
                s,
                Reason.SHIFT_TOO_SHORT,
                f"Stop {stop.id} can be reached in its window, but no shift is long enough to "
                f"get back to the depot (short by {short} min).",
                {"stop": stop.id, "short_min": short},
            )
        else:
            out[s] = Unassigned(
                s,
                Reason.BREAK_CONFLICT,
                f"Serving stop {stop.id} leaves no time for the driver's break.",
                {"stop": stop.id},
            )
    return out


def probe(problem: Problem, routes: Sequence[Route], stop: int) -> Unassigned:
    """Explain a stop the solver left out by trying it at every place in every route.

    Each vehicle's least-bad insertion is found. If some vehicle could take it without any
    violation, the search ran out of time. If every vehicle is full, capacity is the reason;
    otherwise the reason is what stops the vehicles that do have room (amounts of different
    kinds are never compared: 2 units over and 10 minutes late are not commensurable).
    """
    by_vehicle = {r.vehicle: list(r.stops) for r in routes}
    target = problem.stops[stop]
    # Vehicles with a route, plus one idle vehicle of each kind (idle twins behave alike).
    idle: list[int] = []
    for group in vehicle_groups(problem):
        idle.extend([v for v in group if v not in by_vehicle][:1])
    dims = problem.dimensions
    one_way = not any(any(s.pickup) for s in problem.stops)
    demand = amounts(target.delivery, dims)
    loads = {r.vehicle: r.load_start for r in routes}
    outcome: dict[int, frozenset[ViolationKind]] = {}
    for v in sorted(set(by_vehicle) | set(idle)):
        if not target.skills <= problem.vehicles[v].skills:
            continue
        current = by_vehicle.get(v, [])
        if (
            one_way
            and v in loads
            and any(loads[v][k] + demand[k] > problem.vehicles[v].capacity[k] for k in range(dims))
        ):
            # Deliveries only: the van leaves with everything on board, so if this stop does
            # not fit on top, no position can work and timing each one is wasted effort.
            outcome[v] = frozenset({ViolationKind.CAPACITY})
            continue
        best: tuple[int, int, frozenset[ViolationKind]] | None = None
        breaks = bool(problem.vehicles[v].breaks)
        for pos in range(len(current) + 1):
            trial = [*current[:pos], stop, *current[pos:]]
            # Placing breaks re-times the route once per placement; where it breaks a rule
            # before any break is placed, those violations stand (breaks only delay) and
            # are taken as the position's, which keeps a probe within the time limit.
            found = feasibility.violations_before_breaks(problem, v, trial) if breaks else ()
            if not found:
                found = feasibility.time_route(problem, v, trial).violations
            key = (len(found), sum(x.amount for x in found), frozenset(x.kind for x in found))
            if best is None or key[:2] < best[:2]:
                best = key
            if not found:
                break
        if best is not None:
            outcome[v] = best[2]
    if not outcome or any(not kinds for kinds in outcome.values()):
        return Unassigned(
            stop,
            Reason.NOT_PLANNED_IN_TIME,
            f"Stop {target.id} fits into the plan but the search ended before "
            "placing it; plan again with more time.",
            {"stop": target.id},
        )
    roomy = {v: k for v, k in outcome.items() if ViolationKind.CAPACITY not in k}
    if not roomy:
        return Unassigned(
            stop,
            Reason.CAPACITY,
            f"Every vehicle that could take stop {target.id} is already full.",
            {"stop": target.id},
        )
    names = ", ".join(problem.vehicles[v].id for v in sorted(roomy)[:3])
    more = "" if len(roomy) <= 3 else f" and {len(roomy) - 3} more"
    with_room = f"the vehicles with room for it ({names}{more})"
    kinds = frozenset().union(*roomy.values())
    facts = {"stop": target.id}
    closest = tuple(sorted(roomy))
    if ViolationKind.LATE in kinds:
        return Unassigned(
            stop,
            Reason.WINDOW_UNREACHABLE,
            f"No courier can reach stop {target.id} inside its window: "
            f"{with_room} would make it or another stop late.",
            facts,
            closest,
        )
    if ViolationKind.SHIFT_END in kinds:
        return Unassigned(
            stop,
            Reason.SHIFT_TOO_SHORT,
            f"Adding stop {target.id} would end a shift late for {with_room}.",
            facts,
            closest,
        )
    return Unassigned(
        stop,
        Reason.BREAK_CONFLICT,
        f"Adding stop {target.id} would push a driver's break out of its window for {with_room}.",
        facts,
        closest,
    )


def out_of_time(problem: Problem, stop: int) -> Unassigned:
    """A stop left out when the time limit came before it could be placed or probed."""
    target = problem.stops[stop]
    return Unassigned(
        stop,
        Reason.NOT_PLANNED_IN_TIME,
        f"Stop {target.id} was still left out when the time limit came, before the plan "
        "could place it or find why it does not fit; plan again with more time.",
        {"stop": target.id},
    )
