"""Solve a Problem into a Plan: pre-check, run an engine, re-time, explain what was left out.

Each engine's own indices never leave its module (``routing.pyvrp_engine``,
``routing.vroom_engine``, ``routing.ortools_engine``). Engines return stop sequences only:
every time and load in the Plan comes from the independent checker, so the plan and the
checker cannot disagree.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from multiprocessing.synchronize import Event as ProcessEvent
from typing import cast

from routing import feasibility, reasons, repair
from routing.model import Problem
from routing.plan import Plan, Unassigned
from routing.search import (
    Cancellation,
    Engine,
    EngineResult,
    Progress,
    ProgressCallback,
    ProgressTracker,
    SearchEngine,
    SolveParameters,
)

# One module per engine, each a SearchEngine (routing.search): NAME, supports(), solve().
ENGINE_MODULES = {
    "pyvrp": "routing.pyvrp_engine",
    "vroom": "routing.vroom_engine",
    "ortools": "routing.ortools_engine",
}
# What ``auto`` tries, best first (docs/routing.md says why).
AUTO_ORDER = ("pyvrp", "vroom", "ortools")

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
    # The time limit covers the whole call: pre-check, search, re-timing and explanations,
    # which may run a little over (the promise is the limit plus 5 %, or plus 1 s).
    ends = started + params.time_limit_s
    explain_until = ends + 0.5 * max(1.0, 0.05 * params.time_limit_s)
    ruled_out = reasons.precheck(problem)
    candidates = [i for i in range(len(problem.stops)) if i not in ruled_out]
    engine = choose_engine(problem, params.engine)
    # Keep a little time back for re-timing and explaining what was left out.
    reserve = 0.05 + 0.0003 * len(problem.stops)
    search_s = max(0.1, ends - time.perf_counter() - reserve)
    deadline_wall = time.time() + search_s
    result = _portfolio(problem, candidates, params, engine, deadline_wall, tracker, cancel)
    if cancel is not None and cancel.error is not None:
        raise cancel.error
    # Never hand out a route the checker rejects (engines should not need this; it is the
    # guarantee that none can break a rule). Stops taken out are explained like any other.
    kept, _ = repair.drop_until_feasible(problem, result.routes)
    timed = feasibility.check(problem, kept)
    routes = tuple(t.route for t in timed if t.route.visits)
    planned = {s for r in routes for s in r.stops}
    left_out: list[Unassigned] = [ruled_out[i] for i in sorted(ruled_out)]
    for stop in candidates:
        if stop in planned:
            continue
        # Probing re-times every route for every place: past the limit, a stop left out
        # is said to be out of time rather than explained (its search did run out of it).
        if time.perf_counter() < explain_until:
            left_out.append(reasons.probe(problem, routes, stop))
        else:
            left_out.append(reasons.out_of_time(problem, stop))
    left_out.sort(key=lambda u: u.stop)
    return Plan(
        routes,
        tuple(left_out),
        engine,
        result.objective,
        time.perf_counter() - started,
        stopped=cancel is not None and cancel.requested,
    )


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
    return engine_module(engine).solve(
        problem,
        candidates,
        replace(params, seed=params.seed + variant, variant=variant),
        deadline,
        tracker,
        cancel,
    )


def engine_module(name: str) -> SearchEngine:
    """The engine's module, imported only when used (each brings a large native library)."""
    return cast("SearchEngine", importlib.import_module(ENGINE_MODULES[name]))


def choose_engine(problem: Problem, asked: str) -> str:
    """``auto``: the first engine in AUTO_ORDER that models the whole problem."""
    if asked != "auto":
        if asked not in ENGINE_MODULES:
            raise ValueError(f"engine: {asked!r} is not one of {', '.join(ENGINE_MODULES)}")
        return asked
    for name in AUTO_ORDER:
        if engine_module(name).supports(problem):
            return name
    return "ortools"


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


def planned_routes(plan: Plan) -> list[tuple[int, list[int]]]:
    """The plan as (vehicle, stops) pairs, the form the checker takes."""
    return [(r.vehicle, list(r.stops)) for r in plan.routes]
