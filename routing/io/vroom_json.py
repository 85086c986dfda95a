"""VROOM's problem and solution JSON, the format routing clients already speak.

``read_problem`` turns a VROOM problem (``vehicles``, ``jobs``, ``matrices`` per profile) into
a :class:`~routing.model.Problem`; ``write_solution`` turns a :class:`~routing.plan.Plan` of it
into VROOM's solution (``summary``, ``routes`` with ``steps``, ``unassigned``), each
unassigned job extended with its reason. ``write_problem`` goes the other way for our own
problems (the rich-day generator writes its days with it).

What is read (https://github.com/VROOM-Project/vroom/blob/master/docs/API.md):
- jobs: ``id``, ``description``, ``location_index``, ``service``, ``delivery``, ``pickup``
  (a job with both is an exchange at one visit), ``skills``, ``priority`` (0-100),
  ``time_windows`` (one or more);
- vehicles: ``id``, ``description``, ``profile``, ``start_index``, ``end_index``,
  ``capacity``, ``skills``, ``time_window``, ``breaks`` (``id``, one of ``time_windows``,
  ``service``, ``description``), ``costs.fixed``;
- matrices: ``durations`` per profile (required), ``distances`` and ``costs`` (optional).
  What the plan minimises is ``costs`` if given, else ``durations``, as in VROOM (its
  default cost is travel time); it must be one matrix for every profile.

Anything else is refused by name, never ignored: a field we would drop would change the
plan without a word (``shipments``, ``setup``, coordinates without matrices, open routes,
``max_load`` on breaks, several windows for one break, ...). Every error is a
:class:`VroomFormatError` whose message starts with the field's path (``jobs[3].time_windows``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np

from routing.model import Break, Depot, Problem, ProblemError, Stop, StopKind, TimeWindow, Vehicle
from routing.plan import Plan

MAX_JOBS = 5_000
MAX_VEHICLES = 500
MAX_LOCATIONS = 6_000
MAX_VALUE = 2**40  # seconds, metres, units: larger is a mistake (and overflows sums)

_JOB_KEYS = {
    "id",
    "description",
    "location_index",
    "service",
    "delivery",
    "pickup",
    "skills",
    "priority",
    "time_windows",
}
_VEHICLE_KEYS = {
    "id",
    "description",
    "profile",
    "start_index",
    "end_index",
    "capacity",
    "skills",
    "time_window",
    "breaks",
    "costs",
}
_BREAK_KEYS = {"id", "description", "time_windows", "service"}
_MATRIX_KEYS = {"durations", "distances", "costs"}
_TOP_KEYS = {"vehicles", "jobs", "matrices", "options"}
# Why some well-known fields are refused, in the error message.
_WHY = {
    "shipments": "pickup-and-delivery pairs between two places are not supported yet",
    "setup": "setup times are not supported; add them to service",
    "location": "give location_index and matrices (Roundtrip does not call a routing server)",
    "start": "give start_index (Roundtrip does not call a routing server)",
    "end": "give end_index (Roundtrip does not call a routing server)",
    "max_load": "a load limit for breaks is not supported",
    "matrix": "the old single matrix is not supported; use matrices per profile",
    "speed_factor": "give each speed its own profile's durations instead",
    "max_tasks": "not supported",
    "max_travel_time": "not supported",
    "max_distance": "not supported",
    "steps": "fixed steps (plan mode) are not supported",
    "amount": "give delivery and/or pickup instead",
    "service_per_type": "not supported",
}


class VroomFormatError(ValueError):
    """The JSON is not a VROOM problem we can plan; the message starts with the field."""


def _fail(path: str, message: str) -> NoReturn:
    raise VroomFormatError(f"{path}: {message}")


def _keys(obj: Any, path: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(obj, dict):
        _fail(path, "must be an object")
    for key in obj:
        if key not in allowed:
            why = _WHY.get(key, "not a field Roundtrip reads; it is refused rather than ignored")
            _fail(f"{path}.{key}" if path else key, why)
    return obj


def _int(value: Any, path: str, low: int = 0, high: int = MAX_VALUE) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(path, f"must be a whole number, got {json_repr(value)}")
    if not low <= value <= high:
        _fail(path, f"must be between {low} and {high}, got {value}")
    return int(value)


def _list(value: Any, path: str, max_len: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        _fail(path, "must be a list")
    if max_len is not None and len(value) > max_len:
        _fail(path, f"has {len(value)} entries; at most {max_len} are taken")
    return value


def _window(value: Any, path: str) -> TimeWindow:
    pair = _list(value, path)
    if len(pair) != 2:
        _fail(path, "must be [start, end]")
    start, end = _int(pair[0], f"{path}[0]"), _int(pair[1], f"{path}[1]")
    if end < start:
        _fail(path, f"ends ({end}) before it starts ({start})")
    return TimeWindow(start, end)


def json_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _matrix(value: Any, path: str) -> np.ndarray:
    rows = _list(value, path, MAX_LOCATIONS)
    n = len(rows)
    if n == 0:
        _fail(path, "is empty")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != n:
            _fail(f"{path}[{i}]", f"must be a list of {n} numbers (the matrix is square)")
    try:
        array = np.asarray(rows, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                _int(cell, f"{path}[{i}][{j}]")
        raise
    if (array < 0).any() or (array > MAX_VALUE).any():
        i, j = np.argwhere((array < 0) | (array > MAX_VALUE))[0]
        _fail(f"{path}[{i}][{j}]", f"must be between 0 and {MAX_VALUE}, got {array[i, j]}")
    if not all(isinstance(c, int) and not isinstance(c, bool) for row in rows for c in row):
        i, j = next(
            (i, j)
            for i, row in enumerate(rows)
            for j, c in enumerate(row)
            if not isinstance(c, int) or isinstance(c, bool)
        )
        _fail(f"{path}[{i}][{j}]", f"must be a whole number, got {json_repr(rows[i][j])}")
    return array


class _Skills:
    """VROOM's skills are integers; ours are names. The number's text is the name."""

    @staticmethod
    def read(value: Any, path: str) -> frozenset[str]:
        return frozenset(str(_int(s, f"{path}[{k}]")) for k, s in enumerate(_list(value, path)))


def read_problem(data: Any) -> Problem:
    """A VROOM problem as a Problem: stop ``i`` is ``jobs[i]`` (its id as text)."""
    top = _keys(data, "", _TOP_KEYS)
    if "options" in top:
        _keys(top["options"], "options", {"g"})
    matrices = top.get("matrices")
    if not isinstance(matrices, dict):
        _fail("matrices", "must be an object of profiles, each with its durations")
    if not matrices:
        _fail("matrices", "at least one profile's durations are needed")
    durations: dict[str, np.ndarray] = {}
    distances: dict[str, np.ndarray] = {}
    costs: dict[str, np.ndarray] = {}
    for profile, entry in matrices.items():
        path = f"matrices.{profile}"
        entry = _keys(entry, path, _MATRIX_KEYS)
        if "durations" not in entry:
            _fail(f"{path}.durations", "is required")
        durations[profile] = _matrix(entry["durations"], f"{path}.durations")
        for name, into in (("distances", distances), ("costs", costs)):
            if name in entry:
                into[profile] = _matrix(entry[name], f"{path}.{name}")
    size = next(iter(durations.values())).shape[0]
    for profile in matrices:
        for name, found in (("durations", durations), ("distances", distances), ("costs", costs)):
            if profile in found and found[profile].shape[0] != size:
                _fail(f"matrices.{profile}.{name}", f"must be {size} x {size} like the others")
    if costs and len(costs) != len(durations):
        bare = next(p for p in durations if p not in costs)
        _fail(f"matrices.{bare}.costs", "give costs for every profile or for none")
    objective = _objective(costs or durations, "costs" if costs else "durations")

    vehicles_in = _list(top.get("vehicles"), "vehicles", MAX_VEHICLES)
    jobs_in = _list(top.get("jobs", []), "jobs", MAX_JOBS)
    if not vehicles_in:
        _fail("vehicles", "at least one vehicle is needed")

    depots: list[Depot] = []
    depot_at: dict[int, int] = {}

    def depot(location: int) -> int:
        if location not in depot_at:
            depot_at[location] = len(depots)
            depots.append(Depot(f"location {location}", location))
        return depot_at[location]

    vehicles: list[Vehicle] = []
    dims: int | None = None
    for k, raw in enumerate(vehicles_in):
        path = f"vehicles[{k}]"
        v = _keys(raw, path, _VEHICLE_KEYS)
        ident = str(_int(v.get("id"), f"{path}.id"))
        profile = v.get("profile", "car")
        if profile not in durations:
            _fail(f"{path}.profile", f"no matrices for profile {json_repr(profile)}")
        for end in ("start_index", "end_index"):
            if end not in v:
                _fail(f"{path}.{end}", "is required: routes start and end at known places")
        start = _int(v["start_index"], f"{path}.start_index", 0, size - 1)
        finish = _int(v["end_index"], f"{path}.end_index", 0, size - 1)
        capacity = tuple(
            _int(c, f"{path}.capacity[{i}]")
            for i, c in enumerate(_list(v.get("capacity", []), f"{path}.capacity"))
        )
        if dims is None:
            dims = len(capacity)
        elif len(capacity) != dims:
            _fail(f"{path}.capacity", f"has {len(capacity)} amounts; vehicles[0] has {dims}")
        shift = _window(v["time_window"], f"{path}.time_window") if "time_window" in v else None
        shift = shift or TimeWindow(0, MAX_VALUE)
        breaks = []
        for b, raw_break in enumerate(_list(v.get("breaks", []), f"{path}.breaks")):
            bpath = f"{path}.breaks[{b}]"
            brk = _keys(raw_break, bpath, _BREAK_KEYS)
            windows = _list(brk.get("time_windows", [[0, MAX_VALUE]]), f"{bpath}.time_windows")
            if len(windows) != 1:
                _fail(f"{bpath}.time_windows", "exactly one window per break is supported")
            duration = _int(brk.get("service", 0), f"{bpath}.service", 1)
            name = str(_int(brk.get("id"), f"{bpath}.id"))
            breaks.append(Break(_window(windows[0], f"{bpath}.time_windows[0]"), duration, name))
        fixed = 0
        if "costs" in v:
            vc = _keys(v["costs"], f"{path}.costs", {"fixed"})
            fixed = _int(vc.get("fixed", 0), f"{path}.costs.fixed")
        vehicles.append(
            Vehicle(
                id=ident,
                capacity=capacity,
                shift=shift,
                start_depot=depot(start),
                end_depot=depot(finish),
                profile=str(profile),
                skills=_Skills.read(v.get("skills", []), f"{path}.skills"),
                fixed_cost=fixed,
                breaks=tuple(breaks),
            )
        )
    dims = dims or 0
    stops: list[Stop] = []
    for i, raw in enumerate(jobs_in):
        path = f"jobs[{i}]"
        j = _keys(raw, path, _JOB_KEYS)
        ident = str(_int(j.get("id"), f"{path}.id"))
        if "location_index" not in j:
            _fail(f"{path}.location_index", "is required")
        location = _int(j["location_index"], f"{path}.location_index", 0, size - 1)
        amounts: dict[str, tuple[int, ...]] = {}
        for name in ("delivery", "pickup"):
            values = _list(j.get(name, []), f"{path}.{name}")
            if values and len(values) != dims:
                _fail(f"{path}.{name}", f"has {len(values)} amounts; capacities have {dims}")
            amounts[name] = tuple(_int(a, f"{path}.{name}[{k}]") for k, a in enumerate(values))
        delivers, collects = any(amounts["delivery"]), any(amounts["pickup"])
        kind = (
            StopKind.EXCHANGE
            if delivers and collects
            else StopKind.PICKUP
            if collects
            else StopKind.DELIVERY
        )
        windows_in = _list(j.get("time_windows", [[0, MAX_VALUE]]), f"{path}.time_windows", 20)
        if not windows_in:
            _fail(f"{path}.time_windows", "must not be empty")
        windows = [_window(w, f"{path}.time_windows[{k}]") for k, w in enumerate(windows_in)]
        windows.sort(key=lambda w: w.early_s)
        for a, b in itertools.pairwise(windows):
            if b.early_s <= a.late_s:
                _fail(f"{path}.time_windows", "windows must not overlap")
        priority = _int(j.get("priority", 0), f"{path}.priority", 0, 100)
        stops.append(
            Stop(
                id=ident,
                kind=kind,
                location=location,
                windows=tuple(windows),
                service_s=_int(j.get("service", 0), f"{path}.service"),
                delivery=amounts["delivery"] if delivers else (),
                pickup=amounts["pickup"] if collects else (),
                skills=_Skills.read(j.get("skills", []), f"{path}.skills"),
                priority=1 + priority * 9 // 100,
            )
        )
    try:
        return Problem(
            depots=depots,
            vehicles=vehicles,
            stops=stops,
            distance_m=objective,
            duration_s=durations,
        )
    except ProblemError as exc:  # ids used twice, windows outside shifts, ...
        raise VroomFormatError(_vroom_path(str(exc))) from exc


def _objective(matrices: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    first_profile, first = next(iter(matrices.items()))
    for profile, m in matrices.items():
        if not np.array_equal(m, first):
            _fail(
                f"matrices.{profile}.{name}",
                f"differs from matrices.{first_profile}.{name}: the plan minimises one "
                "cost for every vehicle; give the same costs matrix to every profile",
            )
    return first


def _vroom_path(message: str) -> str:
    """Our model's field path in VROOM's words (stops are jobs; a break has time_windows)."""
    path, sep, rest = message.partition(": ")
    path = path.replace("stops[", "jobs[")
    path = re.sub(r"(breaks\[\d+\])\.window$", r"\1.time_windows", path)
    return path + sep + rest


# --- out -------------------------------------------------------------------------------------


def read_distances(data: Mapping[str, Any]) -> dict[str, np.ndarray] | None:
    """The problem's ``distances`` per profile, when every profile has them (for output);
    call after ``read_problem`` accepted ``data``."""
    matrices = data["matrices"]
    if not all("distances" in m for m in matrices.values()):
        return None
    return {p: np.asarray(m["distances"], dtype=np.int64) for p, m in matrices.items()}


def write_solution(
    problem: Problem, plan: Plan, *, distances: Mapping[str, np.ndarray] | None = None
) -> dict[str, Any]:
    """VROOM's solution for ``plan``: routes with timed steps, and every job left out with
    its reason (``reason`` the code, ``description`` the words). ``distances`` (per profile,
    from ``read_distances``), when the problem had them, adds ``distance`` as VROOM does."""
    dims = problem.dimensions
    routes_out = []
    total = {"cost": 0, "service": 0, "duration": 0, "waiting_time": 0, "distance": 0}
    total_delivery, total_pickup = [0] * dims, [0] * dims
    for route in plan.routes:
        v = problem.vehicles[route.vehicle]
        start_loc = problem.depots[v.start_depot].location
        end_loc = problem.depots[v.end_depot].location
        cost = v.fixed_cost
        steps: list[dict[str, Any]] = []
        travel = distance = service = waiting = 0
        here = start_loc
        delivery, pickup = [0] * dims, [0] * dims
        load = list(route.load_start)
        steps.append(
            {
                "type": "start",
                "location_index": start_loc,
                "arrival": route.start_s,
                "duration": 0,
                "service": 0,
                "waiting_time": 0,
                "load": list(load),
                **({"distance": 0} if distances is not None else {}),
            }
        )
        breaks_by_slot: dict[int, list[Any]] = {}
        for taken in route.breaks:
            breaks_by_slot.setdefault(taken.before_visit, []).append(taken)
        # Breaks are taken in the vehicle's order (the checker's placement keeps it).
        break_ids = {
            id(t): _out_id(b.id) if b.id else n
            for n, (t, b) in enumerate(zip(route.breaks, v.breaks, strict=False))
        }
        for slot in range(len(route.visits) + 1):
            for taken in breaks_by_slot.get(slot, []):
                steps.append(
                    {
                        "type": "break",
                        "id": break_ids[id(taken)],
                        "arrival": taken.start_s,
                        "duration": travel,
                        "service": taken.end_s - taken.start_s,
                        "waiting_time": 0,
                        "load": list(load),
                        **({"distance": distance} if distances is not None else {}),
                    }
                )
                service += taken.end_s - taken.start_s
            if slot == len(route.visits):
                break
            visit = route.visits[slot]
            stop = problem.stops[visit.stop]
            travel += problem.travel_s(route.vehicle, here, stop.location)
            cost += int(problem.distance_m[here, stop.location])
            if distances is not None:
                distance += int(distances[v.profile][here, stop.location])
            here = stop.location
            wait = visit.start_s - visit.arrival_s
            waiting += wait
            service += stop.service_s
            load = list(visit.load_after)
            for k in range(dims):
                delivery[k] += stop.delivery[k] if stop.delivery else 0
                pickup[k] += stop.pickup[k] if stop.pickup else 0
            steps.append(
                {
                    "type": "job",
                    "id": _out_id(stop.id),
                    "location_index": stop.location,
                    "arrival": visit.arrival_s,
                    "duration": travel,
                    "service": stop.service_s,
                    "waiting_time": wait,
                    "load": load,
                    **({"distance": distance} if distances is not None else {}),
                }
            )
        travel += problem.travel_s(route.vehicle, here, end_loc)
        cost += int(problem.distance_m[here, end_loc])
        if distances is not None:
            distance += int(distances[v.profile][here, end_loc])
        steps.append(
            {
                "type": "end",
                "location_index": end_loc,
                "arrival": route.end_s,
                "duration": travel,
                "service": 0,
                "waiting_time": 0,
                "load": list(load),
                **({"distance": distance} if distances is not None else {}),
            }
        )
        routes_out.append(
            {
                "vehicle": _out_id(v.id),
                "cost": cost,
                "service": service,
                "duration": travel,
                "waiting_time": waiting,
                "delivery": delivery,
                "pickup": pickup,
                "steps": steps,
                **({"distance": distance} if distances is not None else {}),
            }
        )
        total["cost"] += cost
        total["service"] += service
        total["duration"] += travel
        total["waiting_time"] += waiting
        total["distance"] += distance
        total_delivery = [a + b for a, b in zip(total_delivery, delivery, strict=True)]
        total_pickup = [a + b for a, b in zip(total_pickup, pickup, strict=True)]
    unassigned = [
        {
            "id": _out_id(problem.stops[u.stop].id),
            "type": "job",
            "location_index": problem.stops[u.stop].location,
            "reason": str(u.reason),
            "description": u.message,
        }
        for u in plan.unassigned
    ]
    summary: dict[str, Any] = {
        "cost": total["cost"],
        "routes": len(routes_out),
        "unassigned": len(unassigned),
        "delivery": total_delivery,
        "pickup": total_pickup,
        "service": total["service"],
        "duration": total["duration"],
        "waiting_time": total["waiting_time"],
        "computing_times": {"solving": round(plan.wall_time_s * 1000)},
        "engine": plan.engine,
    }
    if distances is not None:
        summary["distance"] = total["distance"]
    return {"code": 0, "summary": summary, "unassigned": unassigned, "routes": routes_out}


def _out_id(ident: str) -> int | str:
    return int(ident) if ident.isdigit() else ident


def write_problem(problem: Problem) -> dict[str, Any]:
    """Our problem in VROOM's format: job ``i`` is stop ``i``, vehicle ``k`` vehicle ``k``;
    skill names become numbers (in order of first use); costs are our distances."""
    names: dict[str, int] = {}

    def skill_ids(skills: Sequence[str] | frozenset[str]) -> list[int]:
        return [names.setdefault(s, len(names) + 1) for s in sorted(skills)]

    vehicles = []
    for k, v in enumerate(problem.vehicles):
        entry: dict[str, Any] = {
            "id": k,
            "description": v.id,
            "profile": v.profile,
            "start_index": problem.depots[v.start_depot].location,
            "end_index": problem.depots[v.end_depot].location,
            "capacity": list(v.capacity),
            "skills": skill_ids(v.skills),
            "time_window": [v.shift.early_s, v.shift.late_s],
        }
        if v.breaks:
            entry["breaks"] = [
                {
                    "id": b,
                    "time_windows": [[x.window.early_s, x.window.late_s]],
                    "service": x.duration_s,
                }
                for b, x in enumerate(v.breaks)
            ]
        if v.fixed_cost:
            entry["costs"] = {"fixed": v.fixed_cost}
        vehicles.append(entry)
    jobs = []
    dims = problem.dimensions
    for i, s in enumerate(problem.stops):
        job: dict[str, Any] = {
            "id": i,
            "description": s.id,
            "location_index": s.location,
            "service": s.service_s,
            "time_windows": [[w.early_s, w.late_s] for w in s.windows],
            "skills": skill_ids(s.skills),
            "priority": ((s.priority - 1) * 100 + 8) // 9,
        }
        if any(s.delivery) or s.kind is not StopKind.PICKUP:
            job["delivery"] = list(s.delivery or (0,) * dims)
        if any(s.pickup):
            job["pickup"] = list(s.pickup)
        jobs.append(job)
    matrices = {
        p: {"durations": m.tolist(), "costs": problem.distance_m.tolist()}
        for p, m in problem.duration_s.items()
    }
    return {"vehicles": vehicles, "jobs": jobs, "matrices": matrices}
