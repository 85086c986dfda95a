"""Cheapest feasible insertion of one new stop into existing routes, without a solve.

Each route is timed once by the independent checker; from that we keep, per insertion
position, the departure from the node before it and the latest arrival at the node after it
that still keeps every later window and the shift end (the classic forward/backward slack).
A new stop then fits at a position in O(1): arrive, maybe wait, serve, and reach the next
node by its latest arrival, with the load on every leg inside the capacity. All positions
of all routes are checked at once with NumPy, which is what makes the promise query cheap.

The screening treats breaks as fixed; ``verify`` re-times the chosen route with the checker,
so an insertion is only ever applied after the independent checker has accepted it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from routing.feasibility import Violation, time_route
from routing.model import Problem, TimeWindow, amounts
from routing.plan import Reason


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """A route as it stands: a route ``under_way`` has left the depot and takes nothing new."""

    vehicle: int
    stops: tuple[int, ...]
    under_way: bool = False


@dataclass(frozen=True, slots=True)
class NewStop:
    """The stop to insert, described apart from the problem's matrix."""

    windows: tuple[TimeWindow, ...]
    service_s: int
    delivery: tuple[int, ...] = ()
    pickup: tuple[int, ...] = ()
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Insertion:
    route: int  # index into the routes the index was built from
    position: int  # the new stop becomes stops[position]
    added_s: int  # extra travel time
    added_m: int  # extra distance
    start_s: int  # planned service start of the new stop


@dataclass(frozen=True, slots=True)
class Outcome:
    insertions: tuple[Insertion, ...]  # feasible, cheapest first; at most one per route
    # Why nothing fits, when nothing does, from the most to the least fundamental:
    # NO_OPEN_ROUTE, NO_VEHICLE_WITH_SKILL, CAPACITY, WINDOW_UNREACHABLE.
    refusal: Reason | None


@dataclass(frozen=True, slots=True)
class Travel:
    """Seconds per profile and metres from every matrix location to the new stop and back."""

    to_s: Mapping[str, NDArray[np.int64]]
    from_s: Mapping[str, NDArray[np.int64]]
    to_m: NDArray[np.int64]
    from_m: NDArray[np.int64]


class InsertionIndex:
    """Every insertion position of every route, as flat arrays."""

    def __init__(self, problem: Problem, routes: Sequence[RouteSpec]) -> None:
        self.problem = problem
        self.routes = tuple(routes)
        dims = problem.dimensions
        profiles = sorted({v.profile for v in problem.vehicles})
        self.profiles = profiles
        route_of: list[int] = []
        position: list[int] = []
        prev_loc: list[int] = []
        next_loc: list[int] = []
        depart: list[int] = []
        latest: list[int] = []
        base_s: list[int] = []
        base_m: list[int] = []
        before: list[tuple[int, ...]] = []
        after: list[tuple[int, ...]] = []
        capacity: list[tuple[int, ...]] = []
        profile: list[int] = []
        for r, spec in enumerate(self.routes):
            if spec.under_way:
                continue
            v = problem.vehicles[spec.vehicle]
            timed = time_route(problem, spec.vehicle, spec.stops).route
            stops = [problem.stops[s] for s in spec.stops]
            locs = (
                [problem.depots[v.start_depot].location]
                + [s.location for s in stops]
                + [problem.depots[v.end_depot].location]
            )
            deps = [timed.start_s] + [visit.departure_s for visit in timed.visits]
            # Latest arrival at node k (1..n+1) that keeps node k and everything after it.
            late = [0] * (len(locs))
            late[-1] = v.shift.late_s
            for k in range(len(stops), 0, -1):
                stop = stops[k - 1]
                onward = (
                    late[k + 1]
                    - stop.service_s
                    - problem.travel_s(spec.vehicle, locs[k], locs[k + 1])
                )
                window_late = max(w.late_s for w in stop.windows)
                late[k] = min(window_late, onward)
            legs = [timed.load_start] + [visit.load_after for visit in timed.visits]
            prefix = np.maximum.accumulate(np.array(legs, dtype=np.int64).reshape(-1, dims), 0)
            suffix = np.maximum.accumulate(
                np.array(legs, dtype=np.int64).reshape(-1, dims)[::-1], 0
            )[::-1]
            for p in range(len(stops) + 1):
                route_of.append(r)
                position.append(p)
                prev_loc.append(locs[p])
                next_loc.append(locs[p + 1])
                depart.append(deps[p])
                latest.append(late[p + 1])
                base_s.append(problem.travel_s(spec.vehicle, locs[p], locs[p + 1]))
                base_m.append(int(problem.distance_m[locs[p], locs[p + 1]]))
                before.append(tuple(int(x) for x in prefix[p]))
                after.append(tuple(int(x) for x in suffix[p]))
                capacity.append(v.capacity)
                profile.append(profiles.index(v.profile))

        def arr(values: Sequence[object]) -> NDArray[np.int64]:
            return np.array(values, dtype=np.int64)

        self.route_of = arr(route_of)
        self.position = arr(position)
        self.prev_loc = arr(prev_loc)
        self.next_loc = arr(next_loc)
        self.depart = arr(depart)
        self.latest = arr(latest)
        self.base_s = arr(base_s)
        self.base_m = arr(base_m)
        self.load_before = arr(before).reshape(-1, dims)
        self.load_after = arr(after).reshape(-1, dims)
        self.capacity = arr(capacity).reshape(-1, dims)
        self.profile = arr(profile)

    @property
    def positions(self) -> int:
        return len(self.route_of)

    def travel_for_location(self, location: int) -> Travel:
        """Travel to and from a location already in the problem's matrix."""
        durations = self.problem.duration_s
        return Travel(
            to_s={p: durations[p][:, location] for p in self.profiles},
            from_s={p: durations[p][location, :] for p in self.profiles},
            to_m=self.problem.distance_m[:, location],
            from_m=self.problem.distance_m[location, :],
        )

    def insertions(self, stop: NewStop, travel: Travel, *, not_before_s: int = 0) -> Outcome:
        """Feasible positions, best per route and cheapest first; or why there are none."""
        if self.positions == 0:
            return Outcome((), Reason.NO_OPEN_ROUTE)
        dims = self.problem.dimensions
        skill_ok = np.array(
            [
                stop.skills <= self.problem.vehicles[self.routes[r].vehicle].skills
                for r in range(len(self.routes))
            ],
            dtype=bool,
        )[self.route_of]
        if not skill_ok.any():
            return Outcome((), Reason.NO_VEHICLE_WITH_SKILL)
        delivery = np.array(amounts(stop.delivery, dims), dtype=np.int64)
        pickup = np.array(amounts(stop.pickup, dims), dtype=np.int64)
        fits = (self.load_before + delivery <= self.capacity).all(axis=1) & (
            self.load_after + pickup <= self.capacity
        ).all(axis=1)
        room = skill_ok & fits
        if not room.any():
            return Outcome((), Reason.CAPACITY)
        to_s = np.stack([travel.to_s[p] for p in self.profiles])
        from_s = np.stack([travel.from_s[p] for p in self.profiles])
        t_in = to_s[self.profile, self.prev_loc]
        t_out = from_s[self.profile, self.next_loc]
        arrive = np.maximum(self.depart, not_before_s) + t_in
        begin = np.full_like(arrive, np.iinfo(np.int64).max)
        for w in stop.windows:
            usable = (arrive <= w.late_s) & (begin == np.iinfo(np.int64).max)
            begin = np.where(usable, np.maximum(arrive, w.early_s), begin)
        in_window = begin != np.iinfo(np.int64).max
        reach_next = np.where(in_window, begin + stop.service_s + t_out, 0)
        ok = room & in_window & (reach_next <= self.latest)
        if not ok.any():
            return Outcome((), Reason.WINDOW_UNREACHABLE)
        added_s = t_in + t_out - self.base_s
        added_m = travel.to_m[self.prev_loc] + travel.from_m[self.next_loc] - self.base_m
        candidates = np.flatnonzero(ok)
        order = candidates[np.lexsort((added_m[candidates], added_s[candidates]))]
        best: dict[int, Insertion] = {}
        for i in order:
            r = int(self.route_of[i])
            if r not in best:
                best[r] = Insertion(
                    r, int(self.position[i]), int(added_s[i]), int(added_m[i]), int(begin[i])
                )
        return Outcome(tuple(best.values()), None)


def verify(problem: Problem, route: RouteSpec, position: int, stop: int) -> tuple[Violation, ...]:
    """The independent checker's verdict on ``stop`` (already in the problem) at ``position``."""
    stops = list(route.stops)
    stops.insert(position, stop)
    return time_route(problem, route.vehicle, stops).violations
