"""PyVRP engine: iterated local search (the state of the art on VRPTW) for the whole model.

How each part of a real day is modelled in PyVRP 0.14:
- deliveries, pickups and exchanges (both at one visit): each client's ``delivery`` and
  ``pickup``, natively;
- several windows per stop: one client per window, the copies in a ``ClientGroup`` (at most
  one of them is visited), each with the stop's prize;
- skills: every client gets a PyVRP location of its own, and each combination of speed
  profile and skill set gets a profile whose matrices make a client the vehicle may not
  serve unreachable (an arc into it costs more than its prize and arrives far too late);
- goods already on board in a live re-plan: the app ties them to their vehicle with a skill
  and starts that vehicle where it stands, so the two rules above cover it;
- breaks: PyVRP 0.14 has none (its issues #352, #415). Each vehicle's shift is shortened
  by its breaks' length, so the search keeps room for them; then ``routing.repair`` times
  every route with the real breaks (the checker's rules), takes out the stops a break makes
  late and inserts them again wherever they fit, breaks included. docs/routing.md gives the
  figures this approach reached against VROOM's native breaks.

A problem with very many skill combinations (each is a pair of full matrices) is left to
another engine: ``supports`` says no.
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

NAME = "pyvrp"
# Matrix cells over all profiles (distance + duration) above which the model is too big.
MAX_CELLS = 120_000_000


def _profile_keys(problem: Problem) -> list[tuple[str, frozenset[str]]]:
    """One PyVRP profile per speed profile and the skills that matter for the vehicle."""
    needed = frozenset().union(*(s.skills for s in problem.stops)) if problem.stops else frozenset()
    keys = [(v.profile, v.skills & needed) for v in problem.vehicles]
    return sorted(set(keys), key=keys.index)


def supports(problem: Problem) -> bool:
    try:
        import pyvrp  # noqa: F401
    except ImportError:
        return False
    size = len(problem.depots) + sum(len(s.windows) for s in problem.stops)
    return 2 * len(_profile_keys(problem)) * size * size <= MAX_CELLS


def solve(
    problem: Problem,
    candidates: Sequence[int],
    params: SolveParameters,
    deadline: float,
    tracker: ProgressTracker | None = None,
    cancel: Cancellation | None = None,
) -> EngineResult:
    """PyVRP's search until the deadline, the iteration limit or ``cancel`` says so;
    then breaks are put back into the routes (see the module's notes).

    ``cancel`` is asked between iterations (each takes milliseconds); stopped early, the best
    solution found so far is returned as usual.
    """
    import pyvrp
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    from routing import repair
    from routing.search import EngineResult, drop_penalty

    if not candidates:
        return EngineResult([], 0)
    dims = problem.dimensions
    # PyVRP locations: the depots first, then one per client (a stop with two windows is two
    # clients), so that a skill can block one client without blocking a neighbour.
    client_stop: list[int] = []
    groups: list[list[int]] = []
    for s in candidates:
        first = len(client_stop)
        client_stop.extend([s] * len(problem.stops[s].windows))
        if len(problem.stops[s].windows) > 1:
            groups.append(list(range(first, len(client_stop))))
    where = [d.location for d in problem.depots] + [problem.stops[s].location for s in client_stop]
    n_depots = len(problem.depots)
    group_of = {c: g for g, members in enumerate(groups) for c in members}
    clients = []
    window_no: dict[int, int] = {}
    for c, s in enumerate(client_stop):
        stop = problem.stops[s]
        k = window_no[s] = window_no.get(s, -1) + 1
        window = stop.windows[k]
        clients.append(
            pyvrp.Client(
                location=n_depots + c,
                delivery=list(amounts(stop.delivery, dims)),
                pickup=list(amounts(stop.pickup, dims)),
                service_duration=stop.service_s,
                tw_early=window.early_s,
                tw_late=window.late_s,
                prize=drop_penalty(problem, s),
                required=False,
                group=group_of.get(c),
            )
        )
    biggest_prize = max((c.prize for c in clients), default=0)
    index = np.asarray(where, dtype=np.int64)
    distance = problem.distance_m[np.ix_(index, index)]
    profile_keys = _profile_keys(problem)
    blocked_distance = 4 * biggest_prize + 1
    horizon = max(v.shift.late_s for v in problem.vehicles)
    distances: list[Any] = []
    durations: list[Any] = []
    for speed, skills in profile_keys:
        dist = distance.copy()
        dur = problem.duration_s[speed][np.ix_(index, index)].copy()
        barred = [
            n_depots + c for c, s in enumerate(client_stop) if not problem.stops[s].skills <= skills
        ]
        if barred:
            dist[:, barred] = blocked_distance
            dur[:, barred] = horizon + 1
            np.fill_diagonal(dist, 0)  # PyVRP requires it (staying put costs nothing)
            np.fill_diagonal(dur, 0)
        distances.append(np.ascontiguousarray(dist, dtype=np.int64))
        durations.append(np.ascontiguousarray(dur, dtype=np.int64))
    # Identical vehicles become one vehicle type with several available.
    needed = frozenset().union(*(s.skills for s in problem.stops)) if problem.stops else frozenset()
    type_key = [
        (
            v.capacity,
            v.shift,
            v.start_depot,
            v.end_depot,
            profile_keys.index((v.profile, v.skills & needed)),
            v.fixed_cost,
            sum(b.duration_s for b in v.breaks),
        )
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
            # Room for the breaks, which PyVRP cannot model (see the module's notes).
            tw_late=max(k[1].early_s, k[1].late_s - k[6]),
            profile=k[4],
        )
        for k in kinds
    ]
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(0, 0) for _ in where],
        clients=clients,
        depots=[pyvrp.Depot(location=d) for d in range(n_depots)],
        vehicle_types=vehicle_types,
        distance_matrices=cast(Any, distances),
        duration_matrices=durations,
        groups=[pyvrp.ClientGroup(members, required=False) for members in groups],
    )
    # PyVRP holds its own copies; ours (a pair per profile) would double the memory.
    del distances, durations, distance
    # Part of the budget is kept for putting the breaks back.
    has_breaks = any(v.breaks for v in problem.vehicles)
    total = max(0.01, deadline - time.perf_counter())
    # Putting breaks back takes about 2 ms per stop here (bench/richdays.py).
    repair_s = min(0.1 * total, 0.5 + 0.002 * len(candidates)) if has_breaks else 0.0
    budget_s = total - repair_s
    criterion: StoppingCriterion = MaxRuntime(budget_s)
    if params.iteration_limit is not None:
        criterion = MultipleCriteria([MaxIterations(params.iteration_limit), criterion])
    # PyVRP caps its adaptive penalties (100,000 per unit by default). Our prizes are higher,
    # so below that cap an overloaded route "collects" prizes and looks better than a
    # feasible one: lift the cap above the largest prize.
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
        stops = [client_stop[a.idx] for a in route if a.type == pyvrp.ActivityType.CLIENT]
        routes.append((vehicle, stops))
    objective = int(result.cost()) if result.is_feasible() else 0
    if has_breaks or not result.is_feasible():
        routes = repair.repaired(problem, routes, candidates, deadline)
    return EngineResult(routes, objective)


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
