"""The solver: feasible plans (re-checked independently), reasons for what it leaves out."""

from __future__ import annotations

import numpy as np
import pytest

from routing import feasibility
from routing.model import Break, Problem, Stop, StopKind, TimeWindow
from routing.plan import Plan, Reason
from routing.solver import Progress, SolveParameters, planned_routes, solve
from tests.routing.instances import delivery, pickup, problem, van

QUICK = SolveParameters(time_limit_s=1.0, iteration_limit=200)
ENGINES = ["ortools", "pyvrp"]
# The engines that model a real day (skills, breaks, several windows): all three.
DAY_ENGINES = ["pyvrp", "vroom", "ortools"]


def solve_checked(p: Problem, engine: str = "auto", **kw: object) -> Plan:
    """Solve and insist that the independent checker finds nothing wrong."""
    settings: dict[str, object] = {"time_limit_s": 1.0, "iteration_limit": 200, "engine": engine}
    params = SolveParameters(**{**settings, **kw})  # type: ignore[arg-type]
    plan = solve(p, params)
    assert feasibility.violations(p, planned_routes(plan)) == []
    planned = [s for r in plan.routes for s in r.stops]
    left = [u.stop for u in plan.unassigned]
    assert sorted(planned + left) == list(range(len(p.stops)))
    return plan


def by_id(p: Problem, plan: Plan) -> dict[str, list[str]]:
    return {p.vehicles[r.vehicle].id: [p.stops[s].id for s in r.stops] for r in plan.routes}


@pytest.mark.parametrize("engine", ENGINES)
def test_delivering_first_makes_room_for_pickups(engine):
    """Capacity 10: deliver 10 at a, collect 10 at b. Going to b first costs 3 (depot-b-a-
    depot), a first costs 101, but b first would carry 20: the plan must pay for a first."""
    matrix = np.array([[0, 50, 1], [1, 0, 1], [50, 1, 0]])  # rows: from depot, a, b
    p = problem(
        [delivery("a", 1, amount=10), pickup("b", 2, amount=10)], [van(capacity=10)], matrix=matrix
    )

    plan = solve_checked(p, engine)

    assert by_id(p, plan) == {"van": ["a", "b"]}
    assert plan.routes[0].distance_m == 101
    assert feasibility.violations(p, [(0, [1, 0])])[0].kind == "capacity"


@pytest.mark.parametrize("engine", ENGINES)
def test_time_windows_decide_the_order(engine):
    """c (far) only accepts early, a (near) only late: the van goes out to c first."""
    p = problem(
        [
            delivery("a", 1, window=TimeWindow(900, 1000)),
            delivery("c", 2, window=TimeWindow(0, 300)),
        ],
        positions=[100, 250],
    )

    plan = solve_checked(p, engine)

    assert by_id(p, plan) == {"van": ["c", "a"]}
    a = next(v for v in plan.routes[0].visits if v.stop == 0)
    assert 900 <= a.start_s <= 1000


@pytest.mark.parametrize("engine", ENGINES)
def test_impossible_stops_come_back_with_reasons_and_the_rest_is_planned(engine):
    p = problem(
        [
            delivery("ok", 1),
            delivery("too-big", 2, amount=500),
            delivery("too-early", 3, window=TimeWindow(0, 100)),  # 3000 m away
            delivery("ok2", 4),
        ],
        [van(capacity=100, shift=TimeWindow(0, 20_000))],
        positions=[200, 400, 3000, 600],
    )

    plan = solve_checked(p, engine)

    reasons = {p.stops[u.stop].id: u.reason for u in plan.unassigned}
    assert reasons == {"too-big": Reason.CAPACITY, "too-early": Reason.WINDOW_UNREACHABLE}
    assert sorted(s for r in plan.routes for s in r.stops) == [0, 3]
    message = next(u.message for u in plan.unassigned if u.reason is Reason.CAPACITY)
    assert "needs 500 units" in message
    assert "carries 100" in message
    # The same facts for callers that say it in their own words.
    facts = {p.stops[u.stop].id: dict(u.params) for u in plan.unassigned}
    assert facts["too-big"] == {"stop": "too-big", "need": 500, "largest": 100}
    assert set(facts["too-early"]) == {"stop", "late_min"}


def test_shift_too_short_to_come_back():
    """The stop at 5000 opens its window in time, but a 9000 s shift cannot drive 10 000 m."""
    p = problem(
        [delivery("far", 1), delivery("near", 2)],
        [van(shift=TimeWindow(0, 9000))],
        positions=[5000, 100],
    )

    plan = solve_checked(p)

    assert [(p.stops[u.stop].id, u.reason) for u in plan.unassigned] == [
        ("far", Reason.SHIFT_TOO_SHORT)
    ]


@pytest.mark.parametrize("engine", DAY_ENGINES)
def test_skills_route_stops_to_the_right_vehicle(engine):
    fridge = frozenset({"fridge"})
    p = problem(
        [
            delivery("ice-cream", 1, skills=fridge),
            delivery("book", 2),
            delivery("piano", 3, skills=frozenset({"crane"})),
        ],
        [van("plain", capacity=1), van("cold", capacity=1, skills=fridge)],
    )

    plan = solve_checked(p, engine)

    assert plan.engine == engine
    assert by_id(p, plan) == {"cold": ["ice-cream"], "plain": ["book"]}
    (piano,) = plan.unassigned
    assert piano.reason is Reason.NO_VEHICLE_WITH_SKILL
    assert "crane" in piano.message


@pytest.mark.parametrize("engine", DAY_ENGINES)
def test_driver_break_is_planned_inside_its_window(engine):
    brk = Break(TimeWindow(400, 600), 120)
    stops = [delivery(f"s{i}", i + 1, service_s=60) for i in range(6)]
    p = problem(stops, [van(breaks=[brk])], positions=[100, 200, 300, 400, 500, 600])

    plan = solve_checked(p, engine)

    assert plan.engine == engine
    (taken,) = plan.routes[0].breaks
    assert 400 <= taken.start_s <= 600
    assert taken.end_s - taken.start_s == 120
    assert not plan.unassigned


@pytest.mark.parametrize("engine", ENGINES)
def test_full_vehicle_leaves_a_stop_out_found_by_probing(engine):
    """Two stops of 6 on one van of 10: each fits alone (so the pre-check passes), together
    they do not; probing the plan names capacity."""
    p = problem([delivery("a", 1, amount=6), delivery("b", 2, amount=6)], [van(capacity=10)])

    plan = solve_checked(p, engine)

    (left,) = plan.unassigned
    assert left.reason is Reason.CAPACITY
    assert "already full" in left.message
    assert dict(left.params) == {"stop": p.stops[left.stop].id}  # no amounts: found by probing


def test_clashing_windows_leave_one_stop_out_with_the_window_reason():
    """Two stops at one place, both must start in 0-150, each takes 100 s: only one fits."""
    p = problem(
        [
            delivery("a", 1, window=TimeWindow(0, 150), service_s=100),
            delivery("b", 1, window=TimeWindow(0, 150), service_s=100),
        ],
        positions=[100, 100],
    )

    plan = solve_checked(p)

    (left,) = plan.unassigned
    assert left.reason is Reason.WINDOW_UNREACHABLE


def test_exchange_stop_delivers_and_collects_in_one_visit():
    swap = Stop("kettle-swap", StopKind.EXCHANGE, 1, (TimeWindow(0, 10_000),), 60, (3,), (3,))
    p = problem([swap, delivery("x", 2, amount=7)], [van(capacity=10)])

    plan = solve_checked(p)

    assert not plan.unassigned
    assert plan.routes[0].load_start == (10,)


@pytest.mark.parametrize("engine", DAY_ENGINES)
def test_several_windows_per_stop(engine):
    two = Stop("a", StopKind.DELIVERY, 1, (TimeWindow(0, 50), TimeWindow(2000, 2100)), 0, (1,))
    p = problem([two, delivery("b", 2)], positions=[500, 600])

    plan = solve_checked(p, engine)

    assert plan.engine == engine
    a = next(v for r in plan.routes for v in r.visits if v.stop == 0)
    assert 2000 <= a.start_s <= 2100


def test_auto_plans_skills_breaks_and_several_windows_with_pyvrp():
    """PyVRP's search for the whole model (docs/routing.md: it beats VROOM on rich days)."""
    brk = Break(TimeWindow(400, 600), 120)
    two = Stop("a", StopKind.DELIVERY, 1, (TimeWindow(0, 50), TimeWindow(2000, 2100)), 0, (1,))
    cold = delivery("ice-cream", 2, skills=frozenset({"fridge"}))
    p = problem(
        [two, cold],
        [van("cold", skills=frozenset({"fridge"}), breaks=[brk]), van("plain")],
        positions=[500, 600],
    )

    plan = solve_checked(p)

    assert plan.engine == "pyvrp"
    assert not plan.unassigned


def random_problem(n: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10_000, size=(n + 1, 2))
    matrix = np.rint(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))).astype(np.int64)
    stops = []
    for i in range(n):
        early = int(rng.integers(0, 20_000))
        stops.append(
            delivery(
                f"s{i}",
                i + 1,
                amount=int(rng.integers(1, 10)),
                window=TimeWindow(early, early + 7200),
                service_s=300,
            )
        )
    vehicles = [van(f"v{k}", capacity=60, shift=TimeWindow(0, 40_000)) for k in range(6)]
    return problem(stops, vehicles, matrix=matrix)


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_plan(engine):
    """The iteration limit ends both searches, never the clock: a loaded machine reaching a
    1 s limit sooner in one run than in the other would give two plans."""
    p = random_problem(40, seed=3)

    first = solve_checked(p, engine, seed=11, time_limit_s=120.0)
    second = solve_checked(p, engine, seed=11, time_limit_s=120.0)

    assert planned_routes(first) == planned_routes(second)
    assert first.objective == second.objective


@pytest.mark.parametrize("engine", ENGINES)
def test_random_instance_plans_are_feasible(engine):
    p = random_problem(60, seed=5)

    plan = solve_checked(p, engine)

    assert sum(len(r.visits) for r in plan.routes) + len(plan.unassigned) == 60
    assert len(plan.unassigned) <= 3


def test_vehicles_failing_in_different_ways_still_give_one_clear_reason():
    """One van's shift is too short to come back, the other starts too late for the window:
    the stop is explained by the van that comes closest (back 100 s late vs 4900 s late)."""
    p = problem(
        [delivery("far", 1, window=TimeWindow(0, 3000))],
        [van("short", shift=TimeWindow(0, 5900)), van("late", shift=TimeWindow(4900, 50_000))],
        positions=[3000],
    )

    plan = solve_checked(p)

    (left,) = plan.unassigned
    assert left.reason is Reason.SHIFT_TOO_SHORT
    assert "short by 2 min" in left.message
    assert dict(left.params) == {"stop": "far", "short_min": 2}


def test_problem_survives_pickling_for_worker_processes():
    import pickle

    p = random_problem(10, seed=1)

    copy = pickle.loads(pickle.dumps(p))

    assert copy.stops == p.stops
    assert copy.vehicles == p.vehicles
    assert (copy.duration_s["car"] == p.duration_s["car"]).all()
    with pytest.raises(TypeError):
        copy.duration_s["car"] = p.distance_m  # type: ignore[index]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_two_workers_never_do_worse_than_one(engine):
    """Worker 0 runs exactly the single-worker search; the portfolio keeps the best plan.
    The iteration limit binds long before the generous clock, so runs are reproducible."""
    p = random_problem(40, seed=9)

    one = solve_checked(p, engine, seed=4, time_limit_s=60)
    two = solve_checked(p, engine, seed=4, workers=2, time_limit_s=60)
    again = solve_checked(p, engine, seed=4, workers=2, time_limit_s=60)

    assert (len(two.unassigned), two.distance_m) <= (len(one.unassigned), one.distance_m)
    assert planned_routes(two) == planned_routes(again)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_fleet_too_small_leaves_stops_out_instead_of_overloading(engine):
    """40 stops of 5 units, two vans of 30: at most 12 fit. Large drop penalties once made
    PyVRP prefer overloaded routes; every plan must still pass the checker."""
    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 5000, size=(41, 2))
    matrix = np.rint(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))).astype(np.int64)
    stops = [delivery(f"s{i}", i + 1, amount=5) for i in range(40)]
    p = problem(stops, [van("a", capacity=30), van("b", capacity=30)], matrix=matrix)

    plan = solve_checked(p, engine)

    assert sum(len(r.visits) for r in plan.routes) == 12
    assert {u.reason for u in plan.unassigned} == {Reason.CAPACITY}


def test_reason_comes_from_the_vehicles_with_room_not_the_full_ones():
    """'cold' is full with the fridge stop a; 'roomy' can serve b or c (both must start at
    100-110 s, 200 s apart) but not both. c is left out: for 'cold' it is capacity, for
    'roomy' time; since 'roomy' has room, the reason is the window, and it says so."""
    matrix = np.array(
        [
            [0, 10, 100, 100],
            [10, 0, 100, 100],
            [100, 100, 0, 200],
            [100, 100, 200, 0],
        ]
    )
    fridge = frozenset({"fridge"})
    stops = [
        Stop("a", StopKind.DELIVERY, 1, (TimeWindow(0, 100_000),), 0, (5,), (), fridge, 10),
        Stop("b", StopKind.DELIVERY, 2, (TimeWindow(100, 110),), 0, (1,), (), frozenset(), 5),
        Stop("c", StopKind.DELIVERY, 3, (TimeWindow(100, 110),), 0, (1,), (), frozenset(), 1),
    ]
    p = problem(
        stops, [van("cold", capacity=5, skills=fridge), van("roomy", capacity=100)], matrix=matrix
    )

    plan = solve_checked(p)

    (left,) = plan.unassigned
    assert p.stops[left.stop].id == "c"
    assert left.reason is Reason.WINDOW_UNREACHABLE
    assert "roomy" in left.message
    assert "cold" not in left.message
    assert [p.vehicles[v].id for v in left.vehicles] == ["roomy"]
    assert dict(left.params) == {"stop": "c"}


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_progress_reports_better_plans_as_the_search_finds_them(engine):
    rng = np.random.default_rng(3)
    positions = [int(x) for x in rng.integers(1, 5_000, size=40)]
    p = problem(
        [delivery(f"s{i}", i + 1, window=TimeWindow(0, 50_000)) for i in range(40)],
        vehicles=[van(f"v{k}", capacity=15) for k in range(4)],
        positions=positions,
    )
    heard: list[Progress] = []

    plan = solve(p, SolveParameters(time_limit_s=1.5, seed=1, engine=engine), progress=heard.append)

    assert heard, "the first plan found is always reported"
    objectives = [h.objective for h in heard]
    assert objectives == sorted(objectives, reverse=True)
    assert all(h.objective <= h.first_objective for h in heard)
    assert [h.improvements for h in heard] == sorted(h.improvements for h in heard)
    assert len(plan.unassigned) == 0
