"""Solomon instance files written by tests: hand-made tables and seeded random ones."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

HEADER = "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME"


def solomon_text(
    rows: Sequence[Sequence[object]], vehicles: object = 5, capacity: object = 100
) -> str:
    """A Solomon file; row 0 is the depot. Values are written as given (strings stay as-is).

    The table starts on line 10: the depot's row is line 10, customer i's is line 10 + i.
    """
    lines = [
        "TEST",
        "",
        "VEHICLE",
        "NUMBER     CAPACITY",
        f"  {vehicles}         {capacity}",
        "",
        "CUSTOMER",
        HEADER,
        "",
        *("  ".join(f"{v:>9}" for v in row) for row in rows),
    ]
    return "\n".join(lines) + "\n"


FIRST_ROW_LINE = 10


def small_rows() -> list[list[object]]:
    """A depot and three customers with decimal coordinates, all easy to serve."""
    return [
        [0, "47.70", "50.49", 0, 0, 1000, 0],
        [1, "45.25", "68.10", 10, 0, 500, 10],
        [2, "12.05", "20.75", 20, 100, 700, 10],
        [3, "90.00", "10.01", 30, 0, 800, "5.5"],
    ]


def random_solomon(seed: int, customers: int = 20) -> str:
    """Random coordinates with two decimals and windows every customer can meet alone.

    Each customer's due time is later than the drive from the depot, and the depot's horizon
    leaves time to come back, so a complete feasible plan exists (one vehicle per customer).
    """
    rng = random.Random(seed)
    horizon = 1200

    def point() -> tuple[float, float]:
        return round(rng.uniform(0, 100), 2), round(rng.uniform(0, 100), 2)

    depot = point()
    rows: list[list[object]] = [[0, f"{depot[0]:.2f}", f"{depot[1]:.2f}", 0, 0, horizon, 0]]
    for c in range(1, customers + 1):
        x, y = point()
        drive = math.dist(depot, (x, y))
        ready = round(rng.uniform(0, 600), 2)
        due = round(max(ready, math.ceil(drive) + 1) + rng.uniform(10, 200), 2)
        service = rng.choice([0, 10, 12.5, 30])
        rows.append(
            [c, f"{x:.2f}", f"{y:.2f}", rng.randint(1, 30), f"{ready:.2f}", f"{due:.2f}", service]
        )
    return solomon_text(rows, vehicles=customers, capacity=100)
