"""PyVRP engine for the problems it models: one window per stop, no skills, no breaks.

PyVRP's hybrid genetic search is the state of the art on VRPTW (see docs/routing.md); where
a problem needs skills, breaks or several windows per stop, the solver uses OR-Tools.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from routing.model import Problem, amounts

if TYPE_CHECKING:
    from pyvrp.stop import StoppingCriterion

    from routing.search import Cancellation, EngineResult, ProgressTracker, SolveParameters


def supports(problem: Problem) -> bool:
    try:
        import pyvrp  # noqa: F401
    except ImportError:
        return False
    if any(v.breaks for v in problem.vehicles):
        return False
    if any(len(s.windows) > 1 for s in problem.stops):
        return False
    # Skills only matter when some vehicle lacks what some stop needs.
    return all(s.skills <= v.skills for s in problem.stops for v in problem.vehicles)


def solve(
    problem: Problem,
    candidates: Sequence[int],
    params: SolveParameters,
    deadline: float,
    tracker: ProgressTracker | None = None,
    cancel: Cancellation | None = None,
) -> EngineResult:
    """Hybrid genetic search until the deadline, the iteration limit or ``cancel`` says so.

    ``cancel`` is asked between iterations (each takes milliseconds); stopped early, the best
    solution found so far is returned as usual.
    """
    import pyvrp
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    from routing.search import EngineResult, drop_penalty

    dims = problem.dimensions
    n_loc = problem.distance_m.shape[0]
    locations = [pyvrp.Location(0, 0) for _ in range(n_loc)]
    depots = [pyvrp.Depot(location=d.location) for d in problem.depots]
    clients = []
    for s in candidates:
        stop = problem.stops[s]
        window = stop.windows[0]
        clients.append(
            pyvrp.Client(
                location=stop.location,
                delivery=list(amounts(stop.delivery, dims)),
                pickup=list(amounts(stop.pickup, dims)),
                service_duration=stop.service_s,
                tw_early=window.early_s,
                tw_late=window.late_s,
                prize=drop_penalty(problem, s),
                required=False,
            )
        )
    profiles = sorted({v.profile for v in problem.vehicles})
    # Identical vehicles become one vehicle type with several available.
    type_key = [
        (v.capacity, v.shift, v.start_depot, v.end_depot, v.profile, v.fixed_cost)
        for v in problem.vehicles
    ]
    kinds = sorted(set(type_key), key=type_key.index)
    members = {k: [i for i, key in enumerate(type_key) if key == k] for k in kinds}
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=len(members[k]),
            capacity=list(k[0]),
            start_depot=k[2],
            end_depot=k[3],
            fixed_cost=k[5],
            tw_early=k[1].early_s,
            tw_late=k[1].late_s,
            profile=profiles.index(k[4]),
        )
        for k in kinds
    ]
    distance = np.ascontiguousarray(problem.distance_m, dtype=np.int64)
    durations: list[Any] = [
        np.ascontiguousarray(problem.duration_s[p], dtype=np.int64) for p in profiles
    ]
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=[cast(Any, distance) for _ in profiles],
        duration_matrices=durations,
    )
    budget_s = max(0.01, deadline - time.perf_counter())
    criterion: StoppingCriterion = MaxRuntime(budget_s)
    if params.iteration_limit is not None:
        criterion = MultipleCriteria([MaxIterations(params.iteration_limit), criterion])
    # PyVRP caps its adaptive penalties (100,000 per unit by default). Our prizes are higher,
    # so below that cap an overloaded route "collects" prizes and looks better than a
    # feasible one: lift the cap above the largest prize.
    biggest_prize = max((c.prize for c in clients), default=0)
    settings = pyvrp.SolveParams(
        penalty=pyvrp.PenaltyParams(max_penalty=max(100_000.0, 10.0 * biggest_prize))
    )
    if tracker is not None or cancel is not None:
        criterion = _Watched(criterion, tracker, cancel)
    result = pyvrp.solve(
        data, criterion, seed=params.seed, display=False, collect_stats=False, params=settings
    )
    free = {k: list(members[k]) for k in kinds}
    routes: list[tuple[int, list[int]]] = []
    for route in result.best.routes():
        vehicle = free[kinds[route.vehicle_type()]].pop(0)
        stops = [candidates[a.idx] for a in route if a.type == pyvrp.ActivityType.CLIENT]
        routes.append((vehicle, stops))
    return EngineResult(routes, int(result.cost()) if result.is_feasible() else 0)


class _Watched:
    """A stopping criterion that also hands each best cost to the progress tracker, and
    stops as soon as the caller cancels the search."""

    def __init__(
        self,
        inner: StoppingCriterion,
        tracker: ProgressTracker | None = None,
        cancel: Cancellation | None = None,
    ) -> None:
        self.inner = inner
        self.tracker = tracker
        self.cancel = cancel

    def __call__(self, best_cost: int) -> bool:
        if self.tracker is not None:
            self.tracker(best_cost)
        if self.cancel is not None and self.cancel():
            return True
        return self.inner(best_cost)
