"""Generated rich days: what a shop's real day looks like to the router (R1, R3, R7).

    .venv/bin/python -m bench.richday --stops 400 --seed 1 --out /tmp/day.json   # VROOM JSON

A day of ``n`` stops in a 24 x 24 km city around one depot (Moscow-like speeds):

- stops: 80 % deliveries, 16 % return pickups, 4 % exchanges (hand over and collect at one
  visit); 11 % offer two windows (two 2-hour slots with a gap), the rest one 2-hour slot
  between 09:00 and 21:00; 10 % are heavy (4-8 units) and need a van (skill ``van``);
  others carry 1-3 units; service 4 min (delivery), 6 min (pickup), 8 min (exchange);
- vehicles: one per 14 stops (29 for 400), a quarter vans on both shifts (60 units,
  25 km/h, skill ``van``), the rest cars (30 units, 30 km/h); half on the early shift
  07:30-16:00 with a 30-minute break starting 11:00-13:00, half on the late shift
  12:30-21:30 with its break starting 16:00-18:00;
- distances: straight line x 1.3 (streets); travel times from each profile's speed.

``live=True`` is the same day re-planned at 14:00: stops whose window closed are gone; each
early-shift vehicle is under way at a random place in the city with 2-5 of the remaining
deliveries on board (they can only go on that vehicle: skill ``on-board-<k>``, as the app's
live re-plan models it) and its break already taken; vehicles still at the depot load there
(``loaded-at-depot``); every shift starts no earlier than 14:00.

Integer units throughout: metres, seconds since midnight, load units. Same seed, same day.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

import numpy as np

from routing.model import Break, Depot, Problem, Stop, StopKind, TimeWindow, Vehicle

H = 3600
SPEED_M_S = {"car": 30_000 / H, "van": 25_000 / H}
CAPACITY = {"car": 30, "van": 60}
SLOTS = [(h * H, (h + 2) * H) for h in range(9, 21, 2)]  # 09-11, 11-13, ..., 19-21
EARLY = TimeWindow(7 * H + 30 * 60, 16 * H)
LATE = TimeWindow(12 * H + 30 * 60, 21 * H + 30 * 60)
EARLY_BREAK = Break(TimeWindow(11 * H, 13 * H), 30 * 60)
LATE_BREAK = Break(TimeWindow(16 * H, 18 * H), 30 * 60)
LIVE_AT = 14 * H
SERVICE = {StopKind.DELIVERY: 240, StopKind.PICKUP: 360, StopKind.EXCHANGE: 480}


def generate(n: int, seed: int, *, live: bool = False) -> Problem:
    rng = random.Random(seed * 1000 + n)
    half = 12_000
    points = [(0.0, 0.0)]  # the depot
    stops: list[Stop] = []
    for i in range(n):
        # Denser near the centre, like a city.
        r = half * math.sqrt(rng.random()) * (0.6 + 0.4 * rng.random())
        a = rng.random() * 2 * math.pi
        points.append((r * math.cos(a), r * math.sin(a)))
        roll = rng.random()
        kind = (
            StopKind.DELIVERY
            if roll < 0.80
            else StopKind.PICKUP
            if roll < 0.96
            else StopKind.EXCHANGE
        )
        heavy = rng.random() < 0.10
        units = rng.randint(4, 8) if heavy else rng.randint(1, 3)
        if rng.random() < 0.11:
            first = rng.randrange(len(SLOTS) - 2)
            second = rng.randrange(first + 2, len(SLOTS))
            windows = (TimeWindow(*SLOTS[first]), TimeWindow(*SLOTS[second]))
        else:
            windows = (TimeWindow(*SLOTS[rng.randrange(len(SLOTS))]),)
        back = rng.randint(1, 3) if kind is StopKind.EXCHANGE else units
        stops.append(
            Stop(
                id=f"s{i}",
                kind=kind,
                location=i + 1,
                windows=windows,
                service_s=SERVICE[kind],
                delivery=(units,) if kind is not StopKind.PICKUP else (0,),
                pickup=(back,) if kind is not StopKind.DELIVERY else (0,),
                skills=frozenset({"van"}) if heavy else frozenset(),
            )
        )
    n_vehicles = max(2, round(n / 14))
    vehicles = []
    for k in range(n_vehicles):
        profile = "van" if k % 8 in (0, 5) else "car"  # a quarter, on both shifts
        early = k % 2 == 0
        vehicles.append(
            Vehicle(
                id=f"v{k}",
                capacity=(CAPACITY[profile],),
                shift=EARLY if early else LATE,
                start_depot=0,
                end_depot=0,
                profile=profile,
                skills=frozenset({"van"}) if profile == "van" else frozenset(),
                breaks=(EARLY_BREAK if early else LATE_BREAK,),
            )
        )
    depots = [Depot("depot", 0)]
    if live:
        stops, vehicles, depots = _live(rng, stops, vehicles, points, half)
    xy = np.asarray(points)
    straight = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    distance = np.rint(straight * 1.3).astype(np.int64)
    durations = {p: np.rint(distance / speed).astype(np.int64) for p, speed in SPEED_M_S.items()}
    return Problem(
        depots=depots,
        vehicles=vehicles,
        stops=stops,
        distance_m=distance,
        duration_s=durations,
    )


def _live(
    rng: random.Random,
    stops: list[Stop],
    vehicles: list[Vehicle],
    points: list[tuple[float, float]],
    half: float,
) -> tuple[list[Stop], list[Vehicle], list[Depot]]:
    open_stops = [s for s in stops if s.windows[-1].late_s > LIVE_AT + 20 * 60]
    open_stops = [
        Stop(
            s.id,
            s.kind,
            s.location,
            tuple(w for w in s.windows if w.late_s > LIVE_AT + 20 * 60),
            s.service_s,
            s.delivery,
            s.pickup,
            s.skills,
        )
        for s in open_stops
    ]
    depots = [Depot("depot", 0)]
    deliveries = [i for i, s in enumerate(open_stops) if s.kind is StopKind.DELIVERY]
    rng.shuffle(deliveries)
    board: dict[int, str] = {}
    out_vehicles = []
    for k, v in enumerate(vehicles):
        if v.shift == EARLY:
            points.append((rng.uniform(-half, half) * 0.7, rng.uniform(-half, half) * 0.7))
            depots.append(Depot(f"at-{v.id}", len(points) - 1))
            skill = f"on-board-{k}"
            taken = 0
            while deliveries and taken < rng.randint(2, 5):
                i = deliveries.pop()
                if open_stops[i].skills - v.skills:
                    continue
                board[i] = skill
                taken += 1
            out_vehicles.append(
                Vehicle(
                    v.id,
                    v.capacity,
                    TimeWindow(LIVE_AT, v.shift.late_s),
                    len(depots) - 1,
                    0,
                    v.profile,
                    v.skills | {skill},
                )
            )
        else:
            out_vehicles.append(
                Vehicle(
                    v.id,
                    v.capacity,
                    TimeWindow(max(LIVE_AT, v.shift.early_s), v.shift.late_s),
                    0,
                    0,
                    v.profile,
                    v.skills | {"loaded-at-depot"},
                    breaks=v.breaks,
                )
            )
    out_stops = []
    for i, s in enumerate(open_stops):
        extra = board.get(i) or ("loaded-at-depot" if s.kind is not StopKind.PICKUP else None)
        skills = s.skills | {extra} if extra else s.skills
        out_stops.append(
            Stop(s.id, s.kind, s.location, s.windows, s.service_s, s.delivery, s.pickup, skills)
        )
    return out_stops, out_vehicles, depots


def main() -> None:
    from routing.io import vroom_json

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stops", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--out", type=Path, required=True, help="VROOM-format JSON problem")
    args = parser.parse_args()
    problem = generate(args.stops, args.seed, live=args.live)
    args.out.write_text(json.dumps(vroom_json.dump_problem(problem)))
    print(f"wrote {args.out}: {len(problem.stops)} stops, {len(problem.vehicles)} vehicles")


if __name__ == "__main__":
    main()
