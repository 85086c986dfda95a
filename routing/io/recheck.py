"""An independent check of routes against an instance's own numbers, as read from its file.

It shares nothing with the solver's path: not the scaled integer matrix, not the Problem,
not ``routing.feasibility``. Distances are recomputed from the coordinates by the instance's
convention (Solomon: exact Euclidean; DIMACS: truncated to one decimal), travel time equals
distance, vehicles leave the depot at its ready time, may wait for a window to open, must
start service by the due time and be back at the depot by its due time, and carry at most
the capacity. If the integer problem handed to a solver ever misstated the file (as an
all-zero matrix once did), plans built on it fail here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from routing.io.raw import RawInstance

# Floating-point slack in the instance's own units; the integer problem rounds travel times
# up, so a plan it accepts is never later than this check by more than rounding noise.
TOLERANCE = 1e-6


class Kind(StrEnum):
    LATE = "late"
    BACK_LATE = "back_late"
    CAPACITY = "capacity"
    DUPLICATE = "duplicate"
    UNKNOWN = "unknown"
    TOO_MANY_ROUTES = "too_many_routes"


@dataclass(frozen=True, slots=True)
class RawViolation:
    kind: Kind
    route: int | None  # 1-based, as ``Route #k`` in a solution file; None for plan-wide
    customer: int | None  # customer number as in the file
    amount: float  # time units late, load units over, ...
    message: str


@dataclass(frozen=True, slots=True)
class Verdict:
    distance: float  # total, in the instance's units
    violations: tuple[RawViolation, ...]
    not_visited: tuple[int, ...]  # customer numbers no route visits

    @property
    def feasible(self) -> bool:
        """Every route can be driven as the file states the instance (coverage aside)."""
        return not self.violations


def distance(raw: RawInstance, a: int, b: int) -> float:
    """Distance between nodes ``a`` and ``b`` by the instance's convention."""
    na, nb = raw.nodes[a], raw.nodes[b]
    d = math.hypot(na.x - nb.x, na.y - nb.y)
    if raw.convention == "dimacs":
        return math.floor(d * 10) / 10
    return d


def check(raw: RawInstance, routes: Sequence[Sequence[int]]) -> Verdict:
    """Judge routes of stop indices (customer number - 1); empty routes are not vehicles."""
    customers = len(raw.nodes) - 1
    depot = raw.nodes[0]
    found: list[RawViolation] = []
    visited: dict[int, int] = {}
    used = [r for r in routes if r]
    total = 0.0
    if len(used) > raw.vehicles:
        found.append(
            RawViolation(
                Kind.TOO_MANY_ROUTES,
                None,
                None,
                len(used) - raw.vehicles,
                f"{len(used)} routes, the file allows {raw.vehicles} vehicles",
            )
        )
    for k, stops in enumerate(used, start=1):
        here = 0
        clock = float(depot.ready)
        load = 0
        for stop in stops:
            c = stop + 1
            if not 1 <= c <= customers:
                found.append(
                    RawViolation(Kind.UNKNOWN, k, c, 1, f"route {k}: there is no customer {c}")
                )
                continue
            if c in visited:
                found.append(
                    RawViolation(
                        Kind.DUPLICATE,
                        k,
                        c,
                        1,
                        f"route {k}: customer {c} is also on route {visited[c]}",
                    )
                )
            visited.setdefault(c, k)
            node = raw.nodes[c]
            leg = distance(raw, here, c)
            total += leg
            clock += leg
            if clock > float(node.due) + TOLERANCE:
                late = clock - float(node.due)
                found.append(
                    RawViolation(
                        Kind.LATE,
                        k,
                        c,
                        late,
                        f"route {k}: customer {c} reached at {clock:.2f}, due {node.due} "
                        f"(late by {late:.2f})",
                    )
                )
            clock = max(clock, float(node.ready)) + float(node.service)
            load += node.demand
            here = c
        back = distance(raw, here, 0)
        total += back
        clock += back
        if clock > float(depot.due) + TOLERANCE:
            late = clock - float(depot.due)
            found.append(
                RawViolation(
                    Kind.BACK_LATE,
                    k,
                    None,
                    late,
                    f"route {k}: back at the depot at {clock:.2f}, due {depot.due} "
                    f"(late by {late:.2f})",
                )
            )
        if load > raw.capacity:
            found.append(
                RawViolation(
                    Kind.CAPACITY,
                    k,
                    None,
                    load - raw.capacity,
                    f"route {k}: load {load} is over the capacity {raw.capacity}",
                )
            )
    missing = tuple(c for c in range(1, customers + 1) if c not in visited)
    return Verdict(total, tuple(found), missing)
