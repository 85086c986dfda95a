"""Solve a Problem into a Plan: pre-check, run an engine, re-time, explain what was left out.

OR-Tools indices never leave this module; PyVRP's never leave ``routing.pyvrp_engine``.
Engines return stop sequences only: every time and load in the Plan comes from the
independent checker, so the plan and the checker cannot disagree.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from multiprocessing.synchronize import Event as ProcessEvent
from typing import TYPE_CHECKING

import numpy as np

from routing import feasibility, reasons
from routing.model import Problem, amounts
from routing.plan import Plan, Unassigned

if TYPE_CHECKING:
    from ortools.constraint_solver import pywrapcp

from routing.search import (
    Cancellation,
    Engine,
    EngineResult,
    Progress,
    ProgressCallback,
    ProgressTracker,
    Sequences,
    SolveParameters,
    drop_penalty,
)

__all__ = [
    "Engine",
    "Plan",
    "Progress",
    "ProgressCallback",
    "SolveParameters",
    "solve",
]


def solve(
    problem: Problem,
    params: SolveParameters | None = None,
    progress: ProgressCallback | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> Plan:
    """Plan every stop that can be planned; ``progress`` hears of better plans as they come.

    ``should_stop`` lets the caller cancel a running search: it is asked about every 0.2 s
    (keep it cheap, e.g. ``threading.Event.is_set``), possibly from a helper thread while
    OR-Tools searches, so it must be safe to call from another thread. Once it returns True
    the search ends within a fraction of a second, and the plan is built from the best
    solution found so far like any other (re-timed, checked, every stop left out explained:
    stops the search had no time to place are ``NOT_PLANNED_IN_TIME``), with
    ``Plan.stopped`` set. Stopped before any solution exists, every candidate stop is left
    out. An exception raised by ``should_stop`` stops the search and is raised from here.

    With ``params.workers > 1`` only this process asks ``should_stop``; once its own search
    has stopped, the worker processes are told to stop too (through a process-shared event)
    and their best plans so far still compete.
    """
    params = params or SolveParameters()
    tracker = ProgressTracker(progress) if progress is not None else None
    cancel = Cancellation(should_stop) if should_stop is not None else None
    started = time.perf_counter()
    ruled_out = reasons.precheck(problem)
    candidates = [i for i in range(len(problem.stops)) if i not in ruled_out]
    engine = params.engine
    if engine == "auto":
        from routing import pyvrp_engine

        engine = "pyvrp" if pyvrp_engine.supports(problem) else "ortools"
    # Keep a little time back for re-timing and explaining what was left out.
    reserve = 0.05 + 0.0003 * len(problem.stops)
    deadline_wall = time.time() + max(0.1, params.time_limit_s - reserve)
    result = _portfolio(problem, candidates, params, engine, deadline_wall, tracker, cancel)
    if cancel is not None and cancel.error is not None:
        raise cancel.error
    timed = feasibility.check(problem, _repaired(problem, result.routes))
    routes = tuple(t.route for t in timed if t.route.visits)
    planned = {s for r in routes for s in r.stops}
    left_out: list[Unassigned] = [ruled_out[i] for i in sorted(ruled_out)]
    for stop in candidates:
        if stop not in planned:
            left_out.append(reasons.probe(problem, routes, stop))
    left_out.sort(key=lambda u: u.stop)
    return Plan(
        routes,
        tuple(left_out),
        engine,
        result.objective,
        time.perf_counter() - started,
        stopped=cancel is not None and cancel.requested,
    )


def _repaired(problem: Problem, routes: Sequences) -> Sequences:
    """Never hand out a route the checker rejects: drop the most harmful stops until it passes.

    Engines should not need this; it is the guarantee that they cannot break a rule even when
    one misbehaves. Dropped stops are explained like any other stop left out.
    """
    out: Sequences = []
    for vehicle, stops in routes:
        stops = list(stops)
        while stops and feasibility.time_route(problem, vehicle, stops).violations:

            def harm(i: int, v: int = vehicle, current: list[int] = stops) -> tuple[int, int]:
                found = feasibility.time_route(problem, v, current[:i] + current[i + 1 :])
                return (len(found.violations), sum(x.amount for x in found.violations))

            stops.pop(min(range(len(stops)), key=harm))
        out.append((vehicle, stops))
    return out


# In a portfolio's worker process: set by the parent once its own search was stopped.
_pool_cancelled: ProcessEvent | None = None


def _join_pool(cancelled: ProcessEvent) -> None:
    """Pool initializer: a process-shared event can only reach a worker at its start."""
    global _pool_cancelled
    _pool_cancelled = cancelled


def _run_engine(
    problem: Problem,
    candidates: Sequence[int],
    params: SolveParameters,
    engine: str,
    deadline_wall: float,
    variant: int,
    tracker: ProgressTracker | None = None,
    cancel: Cancellation | None = None,
) -> EngineResult:
    """One search; module-level so a spawned worker process can run it."""
    deadline = time.perf_counter() + (deadline_wall - time.time())
    if cancel is None and _pool_cancelled is not None:
        cancel = Cancellation(_pool_cancelled.is_set)
    if engine == "pyvrp":
        from routing import pyvrp_engine

        return pyvrp_engine.solve(
            problem,
            candidates,
            replace(params, seed=params.seed + variant),
            deadline,
            tracker,
            cancel,
        )
    return solve_ortools(
        problem, candidates, params, deadline, variant=variant, tracker=tracker, cancel=cancel
    )


def _score(problem: Problem, candidates: Sequence[int], result: EngineResult) -> tuple[int, int]:
    """Fewest stops left out, then least distance plus fixed costs: engine-independent."""
    served = sum(len(stops) for _, stops in result.routes)
    cost = 0
    for vehicle, stops in result.routes:
        if not stops:
            continue
        v = problem.vehicles[vehicle]
        path = [problem.depots[v.start_depot].location]
        path += [problem.stops[s].location for s in stops]
        path.append(problem.depots[v.end_depot].location)
        cost += v.fixed_cost + int(problem.distance_m[path[:-1], path[1:]].sum())
    return (len(candidates) - served, cost)


def _portfolio(
    problem: Problem,
    candidates: Sequence[int],
    params: SolveParameters,
    engine: str,
    deadline_wall: float,
    tracker: ProgressTracker | None = None,
    cancel: Cancellation | None = None,
) -> EngineResult:
    if params.workers <= 1:
        return _run_engine(problem, candidates, params, engine, deadline_wall, 0, tracker, cancel)
    # spawn, not fork: the web app solves from a thread, and forking a threaded process is
    # unsafe. Worker start-up eats into their budget; worker 0 searches here meanwhile.
    context = get_context("spawn")
    cancelled = context.Event()
    with ProcessPoolExecutor(
        params.workers - 1, mp_context=context, initializer=_join_pool, initargs=(cancelled,)
    ) as pool:
        futures = [
            pool.submit(_run_engine, problem, candidates, params, engine, deadline_wall, k)
            for k in range(1, params.workers)
        ]
        # Only the search in this process reports progress and asks should_stop (callables
        # cannot cross over); when it was stopped, the event stops the workers' searches.
        results = [
            _run_engine(problem, candidates, params, engine, deadline_wall, 0, tracker, cancel)
        ]
        if cancel is not None and cancel.requested:
            cancelled.set()
        results += [f.result() for f in futures]
    return min(results, key=lambda r: _score(problem, candidates, r))


FIRST_SOLUTION_STRATEGIES = (
    "PARALLEL_CHEAPEST_INSERTION",
    "PATH_CHEAPEST_ARC",
    "LOCAL_CHEAPEST_INSERTION",
    "AUTOMATIC",
)


def solve_ortools(
    problem: Problem,
    candidates: Sequence[int],
    params: SolveParameters,
    deadline: float,
    variant: int = 0,
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
    strategy = FIRST_SOLUTION_STRATEGIES[variant % len(FIRST_SOLUTION_STRATEGIES)]
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


def planned_routes(plan: Plan) -> list[tuple[int, list[int]]]:
    """The plan as (vehicle, stops) pairs, the form the checker takes."""
    return [(r.vehicle, list(r.stops)) for r in plan.routes]
