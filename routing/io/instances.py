"""Solomon and VRPLIB VRPTW instances as Problems, and VRPLIB solution files.

Conventions (so that every solver in a benchmark is judged on the same numbers):
- Solomon: Euclidean distances, not rounded; travel time equals distance. We keep integers
  by scaling by 100 and rounding travel times *up*, so a plan feasible for us is feasible
  with exact real numbers. Costs are reported with exact, unrounded distances.
- DIMACS (Gehring & Homberger VRPLIB files): distances and times truncated to one decimal,
  i.e. exact integers after scaling by 10.

Files are read by ``routing.io.readers`` (every value checked, errors name the line); plans
can be judged against the file's own numbers with :meth:`Instance.recheck`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from routing.io import readers, recheck
from routing.io.raw import Convention, InstanceError, RawInstance
from routing.model import Depot, Problem, Stop, StopKind, TimeWindow, Vehicle

__all__ = ["Convention", "Instance", "InstanceError", "read", "read_solution", "write_solution"]

PROFILE = "default"


@dataclass(frozen=True)
class Instance:
    name: str
    problem: Problem
    coords: NDArray[np.float64]  # node 0 is the depot, node i is customer i
    convention: Convention
    scale: int
    raw: RawInstance  # the numbers as the file states them

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

    def recheck(self, routes: Sequence[Sequence[int]]) -> recheck.Verdict:
        """Judge routes (stop indices) on the file's own numbers, not on ``problem``."""
        return recheck.check(self.raw, routes)


def read(path: str | Path, convention: Convention | None = None) -> Instance:
    """Read a Solomon text file (``.txt``) or a VRPLIB file (``.vrp``).

    Raises :class:`InstanceError` naming the file, line and field of anything malformed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".txt", ".vrp"):
        raise InstanceError(
            f"{path}: unknown instance format {path.suffix!r}; expected .txt (Solomon) or "
            ".vrp (VRPLIB)"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstanceError(f"{path}: not a text file ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise InstanceError(f"{path}: cannot be read ({exc.strerror})") from exc
    if suffix == ".txt":
        raw = readers.read_solomon(text, str(path), convention or "solomon")
    else:
        raw = readers.read_vrplib(text, str(path), convention or "dimacs")
    return Instance(
        raw.name or path.stem,
        build_problem(raw),
        np.array([(n.x, n.y) for n in raw.nodes], dtype=np.float64),
        raw.convention,
        raw.scale,
        raw,
    )


def _scaled(value: Decimal, scale: int) -> int:
    """A time from the file in integer units; the readers refused any it cannot hold."""
    exact = value * scale
    if exact != exact.to_integral_value():
        raise InstanceError(f"{value} is finer than the time unit 1/{scale}")
    return int(exact)


def build_problem(raw: RawInstance) -> Problem:
    """The integer Problem: distances scaled and rounded by the convention, times scaled."""
    scale = raw.scale
    coords = np.array([(n.x, n.y) for n in raw.nodes], dtype=np.float64)
    euclid = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(axis=2))
    if raw.convention == "solomon":
        matrix = np.ceil(np.round(euclid * scale, 6)).astype(np.int64)
    else:
        matrix = np.floor(np.round(euclid * scale, 6)).astype(np.int64)
    depot = raw.nodes[0]
    shift = TimeWindow(_scaled(depot.ready, scale), _scaled(depot.due, scale))
    stops = [
        Stop(
            id=str(i),
            kind=StopKind.DELIVERY,
            location=i,
            windows=(TimeWindow(_scaled(n.ready, scale), _scaled(n.due, scale)),),
            service_s=_scaled(n.service, scale),
            delivery=(n.demand,),
        )
        for i, n in enumerate(raw.nodes)
        if i > 0
    ]
    vehicles = [
        Vehicle(
            id=f"v{k + 1}",
            capacity=(raw.capacity,),
            shift=shift,
            start_depot=0,
            end_depot=0,
            profile=PROFILE,
        )
        for k in range(raw.vehicles)
    ]
    return Problem(
        depots=[Depot("depot", 0)],
        vehicles=vehicles,
        stops=stops,
        distance_m=matrix,
        duration_s={PROFILE: matrix},
    )


def write_solution(path: str | Path, routes: Sequence[Sequence[int]], cost: float) -> None:
    """VRPLIB solution: ``Route #k: c1 c2 ...`` with customer numbers, then ``Cost``."""
    lines = [
        f"Route #{k}: {' '.join(str(s + 1) for s in stops)}"
        for k, stops in enumerate((r for r in routes if r), start=1)
    ]
    lines.append(f"Cost {cost:.1f}" if cost == round(cost, 1) else f"Cost {cost:.4f}")
    Path(path).write_text("\n".join(lines) + "\n")


def read_solution(path: str | Path) -> tuple[list[list[int]], float | None]:
    """Routes as stop indices (customer number - 1) and the stated cost.

    Raises :class:`InstanceError` naming the line of anything that is not a customer number
    or a cost.
    """
    routes: list[list[int]] = []
    cost = None
    for n, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if line.startswith("Route"):
            _, sep, rest = line.partition(":")
            tokens = rest.split()
            if not sep or not all(t.isdigit() and int(t) > 0 for t in tokens):
                raise InstanceError(f"{path}, line {n}: expected 'Route #k: customer numbers'")
            routes.append([int(t) - 1 for t in tokens])
        elif line.lower().startswith("cost"):
            try:
                cost = float(line.split()[1])
            except (IndexError, ValueError):
                raise InstanceError(f"{path}, line {n}: expected 'Cost <number>'") from None
    return routes, cost
