"""OR-Tools engine: every feature of the model (skills, breaks, several windows) in
OR-Tools' routing library; guided local search from one of several first-solution
strategies (worker k of a portfolio uses the k-th).

OR-Tools indices never leave this module.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from routing.model import Problem, amounts
from routing.search import (
    Cancellation,
    EngineResult,
    ProgressTracker,
    Sequences,
    SolveParameters,
    drop_penalty,
)

if TYPE_CHECKING:
    from ortools.constraint_solver import pywrapcp

NAME = "ortools"


def supports(problem: Problem) -> bool:
    return True


FIRST_SOLUTION_STRATEGIES = (
    "PARALLEL_CHEAPEST_INSERTION",
    "PATH_CHEAPEST_ARC",
    "LOCAL_CHEAPEST_INSERTION",
    "AUTOMATIC",
)


def solve(
    problem: Problem,
    candidates: Sequence[int],
    params: SolveParameters,
    deadline: float,
    tracker: ProgressTracker | None = None,
    cancel: Cancellation | None = None,
) -> EngineResult:
    """OR-Tools routing: every feature of the model (skills, breaks, several windows).

    ``cancel`` is asked from a helper thread while the search runs (in C++, without the GIL);
    when it says yes, ``RoutingModel.CancelSearch`` ends the search, which keeps the best
    solution found so far (or one leaving every stop out, if none was found yet). A Python
    search limit would be asked at every node instead: measured here, that slowed guided
    local search by a third.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n_stops = len(candidates)
    depots = problem.depots
    # Nodes: the candidate stops first, then one node per depot.
    node_location = [problem.stops[s].location for s in candidates] + [d.location for d in depots]
    starts = [n_stops + v.start_depot for v in problem.vehicles]
    ends = [n_stops + v.end_depot for v in problem.vehicles]
    manager = pywrapcp.RoutingIndexManager(len(node_location), len(problem.vehicles), starts, ends)
    model = pywrapcp.RoutingModel(manager)
    n_index = model.Size() + len(problem.vehicles)
    index_node = [manager.IndexToNode(i) for i in range(n_index)]
    loc = np.asarray([node_location[n] for n in index_node], dtype=np.int64)

    # Transit matrices stay in C++ (Python callbacks starve the local search).
    dist = problem.distance_m[np.ix_(loc, loc)]
    arc_cb = model.RegisterTransitMatrix(dist.tolist())
    model.SetArcCostEvaluatorOfAllVehicles(arc_cb)
    service = np.asarray(
        [problem.stops[candidates[n]].service_s if n < n_stops else 0 for n in index_node],
        dtype=np.int64,
    )
    time_cb_by_profile: dict[str, int] = {}
    for profile in {v.profile for v in problem.vehicles}:
        travel = problem.duration_s[profile][np.ix_(loc, loc)] + service[:, None]
        time_cb_by_profile[profile] = model.RegisterTransitMatrix(travel.tolist())
    horizon = max(v.shift.late_s for v in problem.vehicles) + 1
    model.AddDimensionWithVehicleTransits(
        [time_cb_by_profile[v.profile] for v in problem.vehicles], horizon, horizon, False, "time"
    )
    time_dim = model.GetDimensionOrDie("time")
    for i, stop_index in enumerate(candidates):
        stop = problem.stops[stop_index]
        cumul = time_dim.CumulVar(manager.NodeToIndex(i))
        cumul.SetRange(stop.windows[0].early_s, stop.windows[-1].late_s)
        for a, b in zip(stop.windows, stop.windows[1:], strict=False):
            if b.early_s - a.late_s > 1:
                cumul.RemoveInterval(a.late_s + 1, b.early_s - 1)
    for v_index, v in enumerate(problem.vehicles):
        time_dim.CumulVar(model.Start(v_index)).SetRange(v.shift.early_s, v.shift.late_s)
        time_dim.CumulVar(model.End(v_index)).SetRange(v.shift.early_s, v.shift.late_s)
        model.SetFixedCostOfVehicle(v.fixed_cost, v_index)
        model.AddVariableMinimizedByFinalizer(time_dim.CumulVar(model.End(v_index)))
        model.AddVariableMaximizedByFinalizer(time_dim.CumulVar(model.Start(v_index)))
    _add_capacities(problem, candidates, model, manager, index_node, n_stops)
    _add_skills(problem, candidates, model, manager)
    _add_breaks(problem, model, time_dim, service)
    for i, stop_index in enumerate(candidates):
        model.AddDisjunction([manager.NodeToIndex(i)], drop_penalty(problem, stop_index))

    search = pywrapcp.DefaultRoutingSearchParameters()
    strategy = FIRST_SOLUTION_STRATEGIES[params.variant % len(FIRST_SOLUTION_STRATEGIES)]
    search.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, strategy)
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    search.time_limit.FromMilliseconds(max(1, int((deadline - time.perf_counter()) * 1000)))
    if params.iteration_limit is not None:
        search.solution_limit = params.iteration_limit
    if tracker is not None:
        model.AddAtSolutionCallback(lambda: tracker(model.CostVar().Max()))
    with _cancelled_when(cancel, model):
        solution = model.SolveWithParameters(search)
    if solution is None:
        return EngineResult([], 0)
    routes: Sequences = []
    for v_index in range(len(problem.vehicles)):
        stops: list[int] = []
        index = solution.Value(model.NextVar(model.Start(v_index)))
        while not model.IsEnd(index):
            stops.append(candidates[manager.IndexToNode(index)])
            index = solution.Value(model.NextVar(index))
        routes.append((v_index, stops))
    return EngineResult(routes, solution.ObjectiveValue())


@contextlib.contextmanager
def _cancelled_when(cancel: Cancellation | None, model: pywrapcp.RoutingModel) -> Iterator[None]:
    """While the block runs, a helper thread asks ``cancel`` and cancels the search on a yes.

    It keeps cancelling until the block ends: a cancel that lands before the search has
    started must not be lost, whatever OR-Tools does with its flag at the start.
    """
    if cancel is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while True:
            if cancel.poll():
                model.CancelSearch()
            if done.wait(cancel.every_s):
                return

    watcher = threading.Thread(target=watch, name="routing-stop-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def _add_capacities(
    problem: Problem,
    candidates: Sequence[int],
    model: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    index_node: Sequence[int],
    n_stops: int,
) -> None:
    dims = problem.dimensions
    solver = model.solver()
    for k in range(dims):
        delivery = [0] * len(index_node)
        pickup = [0] * len(index_node)
        for i, node in enumerate(index_node):
            if node < n_stops:
                stop = problem.stops[candidates[node]]
                delivery[i] = amounts(stop.delivery, dims)[k]
                pickup[i] = amounts(stop.pickup, dims)[k]
        capacities = [v.capacity[k] for v in problem.vehicles]
        if not any(pickup) or not any(delivery):
            # One-way loads: the classic cumulative dimension is exact and fastest.
            demand = delivery if any(delivery) else pickup
            cb = model.RegisterUnaryTransitVector(demand)
            model.AddDimensionWithVehicleCapacity(cb, 0, capacities, True, f"load{k}")
            continue
        # Mixed: the start load (all deliveries of the route) is a free variable; each stop
        # changes it by pickup - delivery, and every cumul must stay within [0, capacity].
        # Tying the end load to the pickups collected forces start load == deliveries.
        change = model.RegisterUnaryTransitVector(
            [p - d for p, d in zip(pickup, delivery, strict=True)]
        )
        model.AddDimensionWithVehicleCapacity(change, 0, capacities, False, f"load{k}")
        collected = model.RegisterUnaryTransitVector(pickup)
        model.AddDimension(collected, 0, sum(pickup) + 1, True, f"picked{k}")
        load_dim = model.GetDimensionOrDie(f"load{k}")
        picked_dim = model.GetDimensionOrDie(f"picked{k}")
        for v_index in range(len(problem.vehicles)):
            end = model.End(v_index)
            solver.Add(load_dim.CumulVar(end) == picked_dim.CumulVar(end))


def _add_skills(
    problem: Problem,
    candidates: Sequence[int],
    model: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
) -> None:
    for i, stop_index in enumerate(candidates):
        needed = problem.stops[stop_index].skills
        if not needed:
            continue
        allowed = [v for v, veh in enumerate(problem.vehicles) if needed <= veh.skills]
        if len(allowed) < len(problem.vehicles):
            model.VehicleVar(manager.NodeToIndex(i)).SetValues([-1, *allowed])


def _add_breaks(
    problem: Problem,
    model: pywrapcp.RoutingModel,
    time_dim: pywrapcp.RoutingDimension,
    service: np.ndarray,
) -> None:
    if not any(v.breaks for v in problem.vehicles):
        return
    solver = model.solver()
    visit_transits = [int(x) for x in service[: model.Size()]]
    for v_index, v in enumerate(problem.vehicles):
        if not v.breaks:
            continue
        intervals = [
            solver.FixedDurationIntervalVar(
                b.window.early_s, b.window.late_s, b.duration_s, False, f"break {v.id} {n}"
            )
            for n, b in enumerate(v.breaks)
        ]
        time_dim.SetBreakIntervalsOfVehicle(intervals, v_index, visit_transits)
