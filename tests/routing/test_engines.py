"""Every engine on a rich day (breaks, skills, two windows, pickups and exchanges): feasible
plans, every stop accounted for; PyVRP's breaks put back by the repair."""

from __future__ import annotations

import pytest

from bench.richday import generate
from routing import feasibility, repair
from routing.model import Break, Depot, Problem, Stop, StopKind, TimeWindow, Vehicle
from routing.solver import ENGINE_MODULES, SolveParameters, choose_engine, engine_module, solve

DAY = generate(60, 5)
LIVE = generate(80, 5, live=True)
ENGINES = [name for name in ENGINE_MODULES if engine_module(name).supports(DAY)]


def test_auto_chooses_pyvrp_for_a_rich_day():
    assert "pyvrp" in ENGINES
    assert choose_engine(DAY, "auto") == "pyvrp"
    assert choose_engine(LIVE, "auto") == "pyvrp"


def test_an_unknown_engine_is_refused_by_name():
    with pytest.raises(ValueError, match="engine: 'fast'"):
        choose_engine(DAY, "fast")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("problem", [DAY, LIVE], ids=["day", "live"])
def test_each_engine_plans_a_rich_day_feasibly(engine, problem):
    plan = solve(problem, SolveParameters(time_limit_s=2, engine=engine))

    routes = [(r.vehicle, list(r.stops)) for r in plan.routes]
    assert feasibility.violations(problem, routes) == []
    planned = [s for r in plan.routes for s in r.stops]
    left = [u.stop for u in plan.unassigned]
    assert sorted(planned + left) == list(range(len(problem.stops)))
    if engine != "ortools":  # the engines chosen for real days place nearly every stop
        assert len(planned) >= 0.9 * len(problem.stops), [u.message for u in plan.unassigned]
    for route in plan.routes:
        vehicle = problem.vehicles[route.vehicle]
        assert len(route.breaks) == len(vehicle.breaks)
        for taken, brk in zip(route.breaks, vehicle.breaks, strict=True):
            assert brk.window.early_s <= taken.start_s <= brk.window.late_s
            assert taken.end_s - taken.start_s == brk.duration_s


def test_on_board_goods_stay_on_their_vehicle():
    plan = solve(LIVE, SolveParameters(time_limit_s=2))

    for route in plan.routes:
        skills = LIVE.vehicles[route.vehicle].skills
        for stop in route.stops:
            tied = {s for s in LIVE.stops[stop].skills if s.startswith("on-board-")}
            assert tied <= skills


BREAK = Break(TimeWindow(1000, 1000), 3000)


def _break_day() -> Problem:
    """Vehicle 0's break must start at 1000 for 3000 s; stop b's window closes at 2000."""
    shift = TimeWindow(0, 10_000)
    distance = [[0, 500, 500], [500, 0, 500], [500, 500, 0]]
    return Problem(
        depots=[Depot("d", 0)],
        vehicles=[
            Vehicle("with-break", (10,), shift, 0, 0, breaks=(BREAK,)),
            Vehicle("free", (10,), shift, 0, 0),
        ],
        stops=[
            Stop("a", StopKind.DELIVERY, 1, (TimeWindow(0, 600),), delivery=(1,)),
            Stop("b", StopKind.DELIVERY, 2, (TimeWindow(1500, 2000),), delivery=(1,)),
        ],
        distance_m=distance,
        duration_s={"car": distance},
    )


def test_repair_moves_a_stop_a_break_makes_late_to_another_vehicle():
    problem = _break_day()
    late = [(0, [0, 1])]
    assert feasibility.violations(problem, late)  # the break pushes b past its window

    fixed = repair.repaired(problem, late, [0, 1], deadline=float("inf"))

    assert feasibility.violations(problem, fixed) == []
    assert sorted(s for _, stops in fixed for s in stops) == [0, 1]
    assert {v for v, stops in fixed if stops} == {0, 1}


def test_dropping_alone_keeps_the_plan_valid_but_loses_the_stop():
    problem = _break_day()

    kept, dropped = repair.drop_until_feasible(problem, [(0, [0, 1])])

    assert feasibility.violations(problem, kept) == []
    assert len(dropped) == 1
