"""Judge a VROOM-format solution against the VROOM-format problem's own numbers.

It reads both as plain JSON and shares nothing with ``routing.model`` or the checker: a
mistake in reading the problem or writing the plan cannot hide behind code both use. Rules
are the checker's (routing.feasibility): the route leaves at or after the shift starts;
travel takes the profile's duration; service starts inside one of the job's windows
(waiting allowed); a break starts inside its window and may pause a drive, never a service;
the vehicle carries every delivery of its route from the start and brings pickups back,
within capacity; it is back by the shift's end; it has the skills; every job is served once
or listed as unassigned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def recheck(problem: Mapping[str, Any], solution: Mapping[str, Any]) -> list[str]:
    """Every way ``solution`` breaks ``problem``'s rules, in words; empty when it holds."""
    out: list[str] = []
    jobs = {j["id"]: j for j in problem.get("jobs", [])}
    vehicles = {v["id"]: v for v in problem["vehicles"]}
    seen: dict[Any, Any] = {}
    for route in solution.get("routes", []):
        vid = route.get("vehicle")
        vehicle = vehicles.get(vid)
        if vehicle is None:
            out.append(f"route of unknown vehicle {vid!r}")
            continue
        durations = problem["matrices"][vehicle.get("profile", "car")]["durations"]
        shift = vehicle.get("time_window", [0, 2**62])
        steps = route.get("steps", [])
        if not steps or steps[0].get("type") != "start" or steps[-1].get("type") != "end":
            out.append(f"vehicle {vid}: a route must begin with start and finish with end")
            continue
        route_jobs = [jobs.get(s.get("id")) for s in steps if s.get("type") == "job"]
        dims = len(vehicle.get("capacity", []))
        load = [
            sum((j or {}).get("delivery", [0] * dims)[k] for j in route_jobs) for k in range(dims)
        ]
        if any(load[k] > vehicle["capacity"][k] for k in range(dims)):
            out.append(f"vehicle {vid}: over capacity leaving with {load}")
        breaks = {b["id"]: b for b in vehicle.get("breaks", [])}
        here = vehicle["start_index"]
        clock = steps[0].get("arrival", shift[0])
        if clock < shift[0]:
            out.append(f"vehicle {vid}: leaves at {clock}, before its shift starts ({shift[0]})")
        paused = 0  # break time since the last departure
        break_end = clock
        depart = clock
        for step in steps[1:]:
            kind = step.get("type")
            if kind == "break":
                brk = breaks.get(step.get("id"))
                if brk is None:
                    out.append(f"vehicle {vid}: unknown break {step.get('id')!r}")
                    continue
                start = max(step["arrival"], break_end)
                if start < depart:
                    out.append(f"vehicle {vid}: break {brk['id']} starts during a service")
                window = brk.get("time_windows", [[0, 2**62]])[0]
                if not window[0] <= start <= window[1]:
                    out.append(
                        f"vehicle {vid}: break {brk['id']} starts at {start}, outside {window}"
                    )
                paused += brk.get("service", 0)
                break_end = start + brk.get("service", 0)
                continue
            job: Any = None
            if kind == "job":
                job = jobs.get(step.get("id"))
                if job is None:
                    out.append(f"vehicle {vid}: unknown job {step.get('id')!r}")
                    continue
                if job["id"] in seen:
                    out.append(f"job {job['id']} is served twice")
                seen[job["id"]] = vid
                location = job["location_index"]
                missing = set(job.get("skills", [])) - set(vehicle.get("skills", []))
                if missing:
                    out.append(f"vehicle {vid}: lacks skills {sorted(missing)} for job {job['id']}")
            else:
                location = vehicle["end_index"]
            ready = max(depart + durations[here][location] + paused, break_end)
            if step.get("arrival", ready) < ready:
                out.append(
                    f"vehicle {vid}: arrives at {location} at {step['arrival']}, "
                    f"earliest possible {ready}"
                )
            arrival = max(step.get("arrival", ready), ready)
            if kind == "end":
                if arrival > shift[1]:
                    out.append(f"vehicle {vid}: back at {arrival}, after its shift ({shift[1]})")
                break
            assert job is not None  # a job step (start and end are handled above)
            windows = job.get("time_windows", [[0, 2**62]])
            begin = arrival + step.get("waiting_time", 0)
            if not any(w[0] <= begin <= w[1] for w in windows):
                out.append(f"job {job['id']}: service starts at {begin}, outside {windows}")
            depart = begin + job.get("service", 0)
            for k in range(dims):
                load[k] += -job.get("delivery", [0] * dims)[k] + job.get("pickup", [0] * dims)[k]
            if any(load[k] > vehicle["capacity"][k] for k in range(dims)):
                out.append(f"vehicle {vid}: over capacity after job {job['id']} ({load})")
            here, paused, break_end = location, 0, depart
    for u in solution.get("unassigned", []):
        if u.get("id") in seen:
            out.append(f"job {u.get('id')} is both served and unassigned")
        seen.setdefault(u.get("id"), None)
    for ident in jobs:
        if ident not in seen:
            out.append(f"job {ident} is neither served nor listed as unassigned")
    return out
