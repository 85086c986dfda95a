"""Insertion screening agrees with the independent checker, position by position."""

from __future__ import annotations

import random

import numpy as np
import pytest

from routing.feasibility import time_route
from routing.insertion import InsertionIndex, NewStop, RouteSpec, verify
from routing.model import Depot, Problem, Stop, StopKind, TimeWindow, Vehicle
from routing.plan import Reason
from tests.routing.instances import delivery, pickup, problem, van


def new_stop_for(p: Problem, s: int) -> NewStop:
    stop = p.stops[s]
    return NewStop(stop.windows, stop.service_s, stop.delivery, stop.pickup, stop.skills)


def test_fits_between_two_stops_on_the_way():
    p = problem([delivery("a", 1), delivery("b", 2), delivery("new", 3)], positions=[100, 300, 200])
    index = InsertionIndex(p, [RouteSpec(0, (0, 1))])
    outcome = index.insertions(new_stop_for(p, 2), index.travel_for_location(3))
    best = outcome.insertions[0]
    assert (best.route, best.position, best.added_s, best.added_m) == (0, 1, 0, 0)
    assert best.start_s == 200


def test_window_decides_the_position():
    # On the way out the new stop comes too early, but it may wait; its window closes at 150,
    # so only the first position reaches it in time.
    p = problem(
        [delivery("a", 1), delivery("new", 2, window=TimeWindow(0, 150))], positions=[300, 100]
    )
    index = InsertionIndex(p, [RouteSpec(0, (0,))])
    outcome = index.insertions(new_stop_for(p, 1), index.travel_for_location(2))
    assert [(i.position, i.start_s) for i in outcome.insertions] == [(0, 100)]


def test_refusals_name_the_binding_constraint():
    p = problem(
        [delivery("a", 1, amount=9), delivery("big", 2, amount=2), delivery("far", 3)],
        vehicles=[van(capacity=10, shift=TimeWindow(0, 1000))],
        positions=[100, 200, 900],
    )
    index = InsertionIndex(p, [RouteSpec(0, (0,))])
    assert index.insertions(new_stop_for(p, 1), index.travel_for_location(2)).refusal is (
        Reason.CAPACITY
    )
    # 900 out and 900 back do not fit a shift ending at 1000.
    assert index.insertions(new_stop_for(p, 2), index.travel_for_location(3)).refusal is (
        Reason.WINDOW_UNREACHABLE
    )
    closed = InsertionIndex(p, [RouteSpec(0, (0,), under_way=True)])
    assert closed.insertions(new_stop_for(p, 2), closed.travel_for_location(3)).refusal is (
        Reason.NO_OPEN_ROUTE
    )


def test_not_before_now():
    p = problem([delivery("new", 1, window=TimeWindow(0, 500))], positions=[100])
    index = InsertionIndex(p, [RouteSpec(0, ())])
    travel = index.travel_for_location(1)
    assert index.insertions(new_stop_for(p, 0), travel, not_before_s=300).insertions
    outcome = index.insertions(new_stop_for(p, 0), travel, not_before_s=450)
    assert outcome.refusal is Reason.WINDOW_UNREACHABLE


def test_skill_refusal():
    p = problem([delivery("cold", 1, skills=frozenset({"fridge"}))], positions=[100])
    index = InsertionIndex(p, [RouteSpec(0, ())])
    assert index.insertions(new_stop_for(p, 0), index.travel_for_location(1)).refusal is (
        Reason.NO_VEHICLE_WITH_SKILL
    )


def random_problem(rng: random.Random, n: int) -> Problem:
    positions = [(rng.randrange(0, 2000), rng.randrange(0, 2000)) for _ in range(n + 1)]
    pts = np.array(positions, dtype=np.int64)
    matrix = np.abs(pts[:, None, :] - pts[None, :, :]).sum(axis=2)  # Manhattan metres
    stops: list[Stop] = []
    for i in range(n):
        early = rng.randrange(0, 8000)
        window = TimeWindow(early, early + rng.randrange(300, 4000))
        if rng.random() < 0.25:
            stops.append(pickup(f"s{i}", i + 1, rng.randrange(1, 4), window))
        else:
            stops.append(
                delivery(f"s{i}", i + 1, rng.randrange(1, 4), window, rng.randrange(0, 300))
            )
    vehicles = [
        Vehicle(f"v{k}", (rng.randrange(6, 14),), TimeWindow(0, 12_000), 0, 0, "car")
        for k in range(3)
    ]
    return Problem(
        depots=[Depot("d", 0)],
        vehicles=vehicles,
        stops=stops,
        distance_m=matrix,
        duration_s={"car": matrix},
    )


@pytest.mark.parametrize("seed", range(40))
def test_screening_matches_the_checker_at_every_position(seed):
    rng = random.Random(seed)
    p = random_problem(rng, 12)
    # Routes built greedily from whatever the checker accepts, then one stop to insert.
    order = list(range(len(p.stops) - 1))
    rng.shuffle(order)
    routes: list[list[int]] = [[] for _ in p.vehicles]
    for s in order:
        for k, r in enumerate(routes):
            candidate = [*r, s]
            if not time_route(p, k, candidate).violations:
                r.append(s)
                break
    new = len(p.stops) - 1
    specs = [RouteSpec(k, tuple(r)) for k, r in enumerate(routes)]
    index = InsertionIndex(p, specs)
    outcome = index.insertions(new_stop_for(p, new), index.travel_for_location(new + 1))
    screened = {(i.route, i.position) for i in outcome.insertions}
    feasible = {
        (k, pos)
        for k, spec in enumerate(specs)
        for pos in range(len(spec.stops) + 1)
        if not verify(p, spec, pos, new)
    }
    # One (the cheapest) per route is returned; each must be truly feasible, and a route has
    # a screened insertion exactly when the checker finds some feasible position on it.
    assert screened <= feasible
    assert {k for k, _ in screened} == {k for k, _ in feasible}
    for ins in outcome.insertions:
        others = [pos for (k, pos) in feasible if k == ins.route]
        stops = specs[ins.route].stops
        locs = [0] + [p.stops[s].location for s in stops] + [0]
        loc = p.stops[new].location

        def added(pos: int, locs: list[int] = locs, loc: int = loc) -> int:
            a, b = locs[pos], locs[pos + 1]
            return int(p.distance_m[a, loc] + p.distance_m[loc, b] - p.distance_m[a, b])

        assert ins.added_s == min(added(pos) for pos in others)


def test_exchange_stop_needs_room_for_both_directions():
    p = problem(
        [
            delivery("a", 1, amount=4),
            Stop("swap", StopKind.EXCHANGE, 2, (TimeWindow(0, 100_000),), 0, (2,), (3,)),
        ],
        vehicles=[van(capacity=6)],
        positions=[100, 200],
    )
    index = InsertionIndex(p, [RouteSpec(0, (0,))])
    outcome = index.insertions(new_stop_for(p, 1), index.travel_for_location(2))
    # First, the swap would carry 4 + 2 out and then a's 4 plus the 3 picked up: 7 > 6.
    # After a: 4 + 2 out, then only the 3 picked up on the way back.
    assert [(i.position, i.added_s) for i in outcome.insertions] == [(1, 200)]
    assert verify(p, RouteSpec(0, (0,)), 0, 1)[0].kind == "capacity"
    assert not verify(p, RouteSpec(0, (0,)), 1, 1)
