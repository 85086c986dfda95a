"""Solomon and VRPLIB VRPTW instances as Problems, and VRPLIB solution files.

Conventions (so that every solver in a benchmark is judged on the same numbers):
- Solomon: Euclidean distances, not rounded; travel time equals distance. We keep integers
  by scaling by 100 and rounding travel times *up*, so a plan feasible for us is feasible
  with exact real numbers. Costs are reported with exact, unrounded distances.
- DIMACS (Gehring & Homberger VRPLIB files): distances and times truncated to one decimal,
  i.e. exact integers after scaling by 10.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from routing.model import Depot, Problem, Stop, StopKind, TimeWindow, Vehicle

Convention = Literal["solomon", "dimacs"]
PROFILE = "default"


@dataclass(frozen=True)
class Instance:
    name: str
    problem: Problem
    coords: NDArray[np.float64]  # node 0 is the depot, node i is customer i
    convention: Convention
    scale: int

    def cost(self, routes: Sequence[Sequence[int]]) -> float:
        """Total distance of routes given as stop indices, in the instance's own units."""
        total = 0.0
        for stops in routes:
            nodes = [0, *(s + 1 for s in stops), 0]
            for a, b in itertools.pairwise(nodes):
                total += self.edge(a, b)
        return total

    def edge(self, a: int, b: int) -> float:
        d = math.dist(self.coords[a], self.coords[b])
        if self.convention == "dimacs":
            return math.floor(d * 10) / 10
        return d


def read(path: str | Path, convention: Convention | None = None) -> Instance:
    """Read a Solomon text file (``.txt``) or a VRPLIB file (``.vrp``)."""
    import vrplib

    path = Path(path)
    if path.suffix.lower() == ".txt":
        raw = vrplib.read_instance(path, instance_format="solomon")
        convention = convention or "solomon"
    else:
        raw = vrplib.read_instance(path)
        convention = convention or "dimacs"
    coords = np.asarray(raw["node_coord"], dtype=np.float64)
    euclid = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(axis=2))
    if convention == "solomon":
        scale = 100
        matrix = np.ceil(np.round(euclid * scale, 6)).astype(np.int64)
    else:
        scale = 10
        matrix = np.floor(np.round(euclid * scale, 6)).astype(np.int64)
    windows = np.asarray(raw["time_window"], dtype=np.int64) * scale
    service = np.broadcast_to(np.asarray(raw["service_time"]), (len(coords),)).astype(np.int64)
    demand = np.asarray(raw["demand"], dtype=np.int64)
    capacity = int(raw["capacity"])
    n_vehicles = int(raw.get("vehicles") or len(coords) - 1)
    shift = TimeWindow(int(windows[0, 0]), int(windows[0, 1]))
    stops = [
        Stop(
            id=str(i),
            kind=StopKind.DELIVERY,
            location=i,
            windows=(TimeWindow(int(windows[i, 0]), int(windows[i, 1])),),
            service_s=int(service[i]) * scale,
            delivery=(int(demand[i]),),
        )
        for i in range(1, len(coords))
    ]
    vehicles = [
        Vehicle(
            id=f"v{k + 1}",
            capacity=(capacity,),
            shift=shift,
            start_depot=0,
            end_depot=0,
            profile=PROFILE,
        )
        for k in range(n_vehicles)
    ]
    problem = Problem(
        depots=[Depot("depot", 0)],
        vehicles=vehicles,
        stops=stops,
        distance_m=matrix,
        duration_s={PROFILE: matrix},
    )
    return Instance(str(raw.get("name") or path.stem), problem, coords, convention, scale)


def write_solution(path: str | Path, routes: Sequence[Sequence[int]], cost: float) -> None:
    """VRPLIB solution: ``Route #k: c1 c2 ...`` with customer numbers, then ``Cost``."""
    lines = [
        f"Route #{k}: {' '.join(str(s + 1) for s in stops)}"
        for k, stops in enumerate((r for r in routes if r), start=1)
    ]
    lines.append(f"Cost {cost:.1f}" if cost == round(cost, 1) else f"Cost {cost:.4f}")
    Path(path).write_text("\n".join(lines) + "\n")


def read_solution(path: str | Path) -> tuple[list[list[int]], float | None]:
    """Routes as stop indices (customer number - 1) and the stated cost."""
    routes: list[list[int]] = []
    cost = None
    for line in Path(path).read_text().splitlines():
        if line.startswith("Route"):
            routes.append([int(x) - 1 for x in line.split(":", 1)[1].split()])
        elif line.lower().startswith("cost"):
            cost = float(line.split()[1])
    return routes, cost
