"""VROOM engine (pyvroom): every feature of the model natively, breaks included.

VROOM models what a real day has (skills, several windows per job, deliveries, pickups and
exchanges at one visit, per-profile travel times, breaks whose window bounds the break's
start) and finds good plans fast. It is one engine among several (see ``routing.solver``):
it cannot be cancelled mid-search (it stops at its own time limit) and reports no progress
while it searches.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from routing.model import Problem, amounts

if TYPE_CHECKING:
    from routing.search import Cancellation, EngineResult, ProgressTracker, SolveParameters

NAME = "vroom"
EXPLORATION = 5  # VROOM's highest: slower per try, better plans; the time limit bounds it


def available() -> bool:
    try:
        import vroom  # noqa: F401
    except ImportError:
        return False
    return True


def supports(problem: Problem) -> bool:
    return available()


def solve(
    problem: Problem,
    candidates: Sequence[int],
    params: SolveParameters,
    deadline: float,
    tracker: ProgressTracker | None = None,
    cancel: Cancellation | None = None,
) -> EngineResult:
    """VROOM on one thread until ``deadline``; the best plan it found then."""
    import vroom as vr

    from routing.search import EngineResult, drop_penalty

    if not candidates or (cancel is not None and cancel()):
        return EngineResult([], 0)
    inp = vr.Input()
    for profile, matrix in problem.duration_s.items():
        inp.set_durations_matrix(profile=profile, matrix_input=matrix)
        inp.set_costs_matrix(profile=profile, matrix_input=problem.distance_m)
    skill_id: dict[str, int] = {}

    def skills(names: frozenset[str]) -> set[int]:
        return {skill_id.setdefault(n, len(skill_id) + 1) for n in sorted(names)}

    dims = problem.dimensions
    for k, v in enumerate(problem.vehicles):
        extra: dict[str, Any] = {}
        if v.breaks:
            extra["breaks"] = [
                vr.Break(
                    id=b,
                    time_windows=[vr.TimeWindow(x.window.early_s, x.window.late_s)],
                    service=x.duration_s,
                )
                for b, x in enumerate(v.breaks)
            ]
        if dims:
            extra["capacity"] = list(v.capacity)
        if v.fixed_cost:
            extra["costs"] = vr.VehicleCosts(fixed=v.fixed_cost)
        inp.add_vehicle(
            vr.Vehicle(
                id=k,
                start=problem.depots[v.start_depot].location,
                end=problem.depots[v.end_depot].location,
                profile=v.profile,
                skills=skills(v.skills),
                time_window=vr.TimeWindow(v.shift.early_s, v.shift.late_s),
                **extra,
            )
        )
    # VROOM's priority (0-100) decides who stays out when not all fit, as our prizes do.
    top = max((drop_penalty(problem, s) for s in candidates), default=1)
    for s in candidates:
        stop = problem.stops[s]
        job: dict[str, Any] = {}
        if dims:
            job["delivery"] = list(amounts(stop.delivery, dims))
            job["pickup"] = list(amounts(stop.pickup, dims))
        inp.add_job(
            vr.Job(
                id=s,
                location=stop.location,
                default_service=stop.service_s,
                skills=skills(stop.skills),
                priority=min(100, 100 * drop_penalty(problem, s) // top),
                time_windows=[vr.TimeWindow(w.early_s, w.late_s) for w in stop.windows],
                **job,
            )
        )
    budget = max(0.01, deadline - time.perf_counter())
    solution = inp.solve(
        exploration_level=EXPLORATION,
        nb_threads=1,
        timeout=datetime.timedelta(seconds=budget),
    )
    frame = solution.routes
    routes: list[tuple[int, list[int]]] = []
    if len(frame):
        jobs = frame[frame.type == "job"]
        for vehicle, group in jobs.groupby("vehicle_id", sort=True):
            routes.append((int(vehicle), [int(x) for x in group.id]))
    cost = int(solution.summary.cost)
    if tracker is not None:
        tracker(cost)
    return EngineResult(routes, cost)
