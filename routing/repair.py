"""Make any engine's routes pass the checker, and put stops that are out back where they fit.

``drop_until_feasible`` is the guarantee behind every plan: a route the independent checker
rejects loses its most harmful stops until it passes. ``repaired`` goes further for engines
that model part of the day approximately (PyVRP and breaks): the stops taken out, and any
the engine left out, are inserted again at their cheapest position that the checker accepts,
until ``deadline``. Both use only the checker's rules, never an engine's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from routing import feasibility
from routing.model import Problem, interchangeable

Sequences = list[tuple[int, list[int]]]
# Places timed with their breaks per stop (cheapest first) before giving up on it: a stop
# that fits nowhere among these rarely fits at a dearer one, and the budget is shared.
TRIES_PER_STOP = 40


def _badness(problem: Problem, vehicle: int, stops: Sequence[int]) -> tuple[int, int]:
    found = feasibility.time_route(problem, vehicle, stops).violations
    return (len(found), sum(x.amount for x in found))


def drop_until_feasible(problem: Problem, routes: Sequences) -> tuple[Sequences, list[int]]:
    """Each route without the fewest, most harmful stops that make the checker reject it;
    and the stops taken out."""
    out: Sequences = []
    dropped: list[int] = []
    for vehicle, stops in routes:
        stops = list(stops)
        while stops and feasibility.time_route(problem, vehicle, stops).violations:

            def without(i: int, v: int = vehicle, cur: list[int] = stops) -> tuple[int, int]:
                return _badness(problem, v, cur[:i] + cur[i + 1 :])

            dropped.append(stops.pop(min(range(len(stops)), key=without)))
        out.append((vehicle, stops))
    return out, dropped


def repaired(
    problem: Problem, routes: Sequences, candidates: Sequence[int], deadline: float
) -> Sequences:
    """Routes the checker accepts, with as many candidates as fit inserted before
    ``deadline`` (``time.perf_counter``): higher priority first, cheapest position first."""
    fixed, _ = drop_until_feasible(problem, routes)
    by_vehicle: dict[int, list[int]] = {v: stops for v, stops in fixed}
    placed = {s for _, stops in fixed for s in stops}
    out = [s for s in candidates if s not in placed]
    out.sort(key=lambda s: (-problem.stops[s].priority, problem.stops[s].windows[-1].late_s))
    for stop in out:
        if time.perf_counter() >= deadline:
            break
        best = _cheapest_fit(problem, by_vehicle, stop, deadline)
        if best is not None:
            vehicle, position = best
            by_vehicle.setdefault(vehicle, []).insert(position, stop)
    return [(v, stops) for v, stops in by_vehicle.items() if stops]


def _cheapest_fit(
    problem: Problem, by_vehicle: dict[int, list[int]], stop: int, deadline: float
) -> tuple[int, int] | None:
    target = problem.stops[stop]
    d = problem.distance_m
    options: list[tuple[int, int, int]] = []  # (added metres, vehicle, position)
    idle_kinds: set[tuple[object, ...]] = set()
    for v, veh in enumerate(problem.vehicles):
        if not target.skills <= veh.skills:
            continue
        stops = by_vehicle.get(v, [])
        if not stops:
            # Idle vehicles of one kind are interchangeable: try one of each.
            kind = interchangeable(veh)
            if kind in idle_kinds:
                continue
            idle_kinds.add(kind)
        path = np.asarray(
            [problem.depots[veh.start_depot].location]
            + [problem.stops[s].location for s in stops]
            + [problem.depots[veh.end_depot].location],
            dtype=np.int64,
        )
        added = (
            d[path[:-1], target.location] + d[target.location, path[1:]] - d[path[:-1], path[1:]]
        )
        if not stops:
            added = added + veh.fixed_cost
        options.extend((int(a), v, pos) for pos, a in enumerate(added))
    options.sort()
    timed = 0
    for _added, v, pos in options:
        if timed >= TRIES_PER_STOP or time.perf_counter() >= deadline:
            return None
        stops = by_vehicle.get(v, [])
        trial = [*stops[:pos], stop, *stops[pos:]]
        # One walk without breaks rules most places out; only the rest are timed with
        # every placement of the breaks.
        if feasibility.violations_before_breaks(problem, v, trial):
            continue
        timed += 1
        if not feasibility.time_route(problem, v, trial).violations:
            return v, pos
    return None
