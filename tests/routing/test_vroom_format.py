"""VROOM's JSON in and out: a rich day read exactly, a plan both judges accept, bad input
refused naming the field, and a re-check that catches a tampered plan."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from routing import feasibility
from routing.io import vroom_json, vroom_recheck
from routing.model import Break, StopKind, TimeWindow
from routing.solver import ENGINE_MODULES, SolveParameters, engine_module, planned_routes, solve
from tests.routing.vroom_days import MIN, H, day

ENGINES = [
    name for name in ENGINE_MODULES if engine_module(name).supports(vroom_json.read_problem(day()))
]


def test_a_rich_day_is_read_exactly():
    problem = vroom_json.read_problem(day())

    car, van = problem.vehicles
    assert car.breaks == (Break(TimeWindow(11 * H, 11 * H + 45 * MIN), 1800),)
    assert (car.profile, van.profile) == ("car", "van")
    assert van.skills == frozenset({"1"})
    assert car.skills == frozenset()
    kinds = {s.id: s.kind for s in problem.stops}
    assert kinds == {
        "101": StopKind.DELIVERY,
        "102": StopKind.DELIVERY,
        "103": StopKind.PICKUP,
        "104": StopKind.EXCHANGE,
        "105": StopKind.DELIVERY,
        "106": StopKind.DELIVERY,
    }
    two = problem.stops[5]
    assert two.windows == (TimeWindow(8 * H, 8 * H + 30 * MIN), TimeWindow(17 * H, 18 * H))
    assert problem.stops[4].skills == frozenset({"1"})
    assert problem.stops[3].delivery == (1,)
    assert problem.stops[3].pickup == (1,)
    # What the plan minimises: the costs matrix (metres here), as VROOM would.
    assert problem.distance_m[1, 2] == 6 * 500
    assert problem.travel_s(1, 1, 2) == 6 * MIN * 5 // 4


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_writes_a_vroom_plan_both_judges_accept(engine):
    data = day()
    problem = vroom_json.read_problem(data)

    plan = solve(problem, SolveParameters(time_limit_s=1, engine=engine))
    solution = json.loads(
        json.dumps(
            vroom_json.write_solution(problem, plan, distances=vroom_json.read_distances(data))
        )
    )

    assert vroom_recheck.recheck(data, solution) == []
    assert feasibility.violations(problem, planned_routes(plan)) == []
    served = sorted(s["id"] for r in solution["routes"] for s in r["steps"] if s["type"] == "job")
    assert served == [101, 102, 103, 104, 105, 106], solution["unassigned"]
    van_jobs = [s.get("id") for r in solution["routes"] if r["vehicle"] == 2 for s in r["steps"]]
    assert 105 in van_jobs  # only the van has the skill
    car = next((r for r in solution["routes"] if r["vehicle"] == 1), None)
    if car is not None:
        taken = [s for s in car["steps"] if s["type"] == "break"]
        assert len(taken) == 1
        assert 11 * H <= taken[0]["arrival"] <= 11 * H + 45 * MIN
        assert taken[0]["service"] == 1800
    assert solution["summary"]["distance"] == sum(r["distance"] for r in solution["routes"])
    assert solution["summary"]["cost"] == solution["summary"]["distance"]  # costs = metres


def test_a_job_that_fits_nowhere_is_unassigned_with_its_reason():
    data = day()
    data["jobs"][4]["delivery"] = [31]  # more than the van carries

    problem = vroom_json.read_problem(data)
    solution = vroom_json.write_solution(problem, solve(problem, SolveParameters(time_limit_s=1)))

    assert solution["unassigned"] == [
        {
            "id": 105,
            "type": "job",
            "location_index": 5,
            "reason": "CAPACITY",
            "description": solution["unassigned"][0]["description"],
        }
    ]
    assert "31 units" in solution["unassigned"][0]["description"]
    assert vroom_recheck.recheck(data, solution) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.pop(key)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_drop("matrices"), "matrices"),
        (_drop("vehicles"), "vehicles"),
        (_set("shipments", []), "shipments"),
        (_set("jobs.0.setup", 60), "jobs[0].setup"),
        (_set("jobs.0.location", [37.6, 55.7]), "jobs[0].location"),
        (_set("vehicles.0.max_tasks", 3), "vehicles[0].max_tasks"),
        (_set("vehicles.0.breaks.0.max_load", [2]), "vehicles[0].breaks[0].max_load"),
        (
            _set("vehicles.0.breaks.0.time_windows", [[1, 2], [5, 6]]),
            "vehicles[0].breaks[0].time_windows",
        ),
        (_set("jobs.1.time_windows", [[5, 4]]), "jobs[1].time_windows[0]"),
        (_set("jobs.1.time_windows", [[0, 50], [40, 90]]), "jobs[1].time_windows"),
        (_set("jobs.2.location_index", 99), "jobs[2].location_index"),
        (_set("jobs.0.delivery", [1, 2]), "jobs[0].delivery"),
        (_set("jobs.0.delivery", [-1]), "jobs[0].delivery[0]"),
        (_set("jobs.0.id", "x"), "jobs[0].id"),
        (_set("jobs.1.id", 101), "jobs[1].id"),
        (_set("jobs.0.priority", 101), "jobs[0].priority"),
        (_set("vehicles.1.profile", "bike"), "vehicles[1].profile"),
        (_set("vehicles.0.time_window", [10, 5]), "vehicles[0].time_window"),
        (
            _set("vehicles.0.breaks.0.time_windows", [[20 * H, 21 * H]]),
            "vehicles[0].breaks[0].time_windows",
        ),
        (_set("vehicles.0.start_index", 6), "vehicles[0].start_index"),
        (_set("matrices.car.durations.1", [0, 1]), "matrices.car.durations[1]"),
        (_set("matrices.car.durations.0.1", -1), "matrices.car.durations[0][1]"),
        (_set("matrices.car.durations.0.1", 1.5), "matrices.car.durations[0][1]"),
        (_set("matrices.van.costs", [[0] * 6 for _ in range(6)]), "matrices.van.costs"),
        (_set("matrices.car.speed", 3), "matrices.car.speed"),
        (lambda data: data["matrices"]["van"].pop("costs"), "matrices.van.costs"),
    ],
)
def test_malformed_input_is_refused_naming_the_field(change, field):
    data = day()
    change(data)

    with pytest.raises(vroom_json.VroomFormatError) as refused:
        vroom_json.read_problem(data)

    assert str(refused.value).startswith(f"{field}: "), str(refused.value)


def test_recheck_catches_a_tampered_plan():
    """The re-check must be able to fail: each tampering is caught, in words."""
    data = day()
    problem = vroom_json.read_problem(data)
    good = vroom_json.write_solution(problem, solve(problem, SolveParameters(time_limit_s=1)))
    assert vroom_recheck.recheck(data, good) == []

    early = json.loads(json.dumps(good))
    first_job = next(s for r in early["routes"] for s in r["steps"] if s["type"] == "job")
    first_job["arrival"] = 0
    assert any("earliest possible" in p for p in vroom_recheck.recheck(data, early))

    forgotten = json.loads(json.dumps(good))
    for route in forgotten["routes"]:
        route["steps"] = [s for s in route["steps"] if s.get("id") != 103 or s["type"] != "job"]
    assert "job 103 is neither served nor listed as unassigned" in vroom_recheck.recheck(
        data, forgotten
    )

    wrong_vehicle = json.loads(json.dumps(good))
    for route in wrong_vehicle["routes"]:
        route["vehicle"] = 1
    found = vroom_recheck.recheck(data, wrong_vehicle)
    assert any("lacks skills" in p for p in found)


def test_our_problems_go_out_and_come_back_the_same():
    from bench.richday import generate

    problem = generate(40, 3)
    back = vroom_json.read_problem(json.loads(json.dumps(vroom_json.write_problem(problem))))

    assert [(s.kind, s.windows, s.service_s, s.location) for s in back.stops] == [
        (s.kind, s.windows, s.service_s, s.location) for s in problem.stops
    ]
    assert [s.priority for s in back.stops] == [s.priority for s in problem.stops]
    assert [len(s.skills) for s in back.stops] == [len(s.skills) for s in problem.stops]
    assert [(v.shift, v.breaks, v.capacity, v.profile) for v in back.vehicles] == [
        (v.shift, v.breaks, v.capacity, v.profile) for v in problem.vehicles
    ]
    assert (back.distance_m == problem.distance_m).all()
