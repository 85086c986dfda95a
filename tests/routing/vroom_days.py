"""A small VROOM-format day with everything a real one has, written out by hand.

Four places around a depot (location 0); two vehicles: a car on an early shift with a
30-minute break due 11:00-11:45, and a van (skill 1) on a late shift. Jobs: deliveries, a
return pickup, an exchange (delivery and pickup at one visit), a heavy delivery only the van
may take, and a job with two windows. Times are seconds since midnight.
"""

from __future__ import annotations

import copy
from typing import Any

H = 3600
MIN = 60
# Travel minutes between locations 0..5 (symmetric); the van is a quarter slower.
_MINUTES = [
    [0, 10, 12, 15, 20, 8],
    [10, 0, 6, 14, 22, 9],
    [12, 6, 0, 9, 18, 11],
    [15, 14, 9, 0, 10, 13],
    [20, 22, 18, 10, 0, 16],
    [8, 9, 11, 13, 16, 0],
]
CAR = [[m * MIN for m in row] for row in _MINUTES]
VAN = [[m * MIN * 5 // 4 for m in row] for row in _MINUTES]
METRES = [[m * 500 for m in row] for row in _MINUTES]


def day() -> dict[str, Any]:
    return copy.deepcopy(
        {
            "vehicles": [
                {
                    "id": 1,
                    "description": "car, early",
                    "profile": "car",
                    "start_index": 0,
                    "end_index": 0,
                    "capacity": [10],
                    "skills": [],
                    "time_window": [8 * H, 14 * H],
                    "breaks": [
                        {"id": 7, "time_windows": [[11 * H, 11 * H + 45 * MIN]], "service": 1800}
                    ],
                },
                {
                    "id": 2,
                    "description": "van, late",
                    "profile": "van",
                    "start_index": 0,
                    "end_index": 0,
                    "capacity": [30],
                    "skills": [1],
                    "time_window": [12 * H, 20 * H],
                    "costs": {"fixed": 0},
                },
            ],
            "jobs": [
                {
                    "id": 101,
                    "location_index": 1,
                    "service": 300,
                    "delivery": [2],
                    "time_windows": [[9 * H, 11 * H]],
                },
                {
                    "id": 102,
                    "location_index": 2,
                    "service": 300,
                    "delivery": [3],
                    "time_windows": [[10 * H, 12 * H]],
                },
                {
                    "id": 103,
                    "location_index": 3,
                    "service": 360,
                    "pickup": [2],
                    "time_windows": [[11 * H, 13 * H]],
                },
                {
                    "id": 104,
                    "location_index": 4,
                    "service": 480,
                    "delivery": [1],
                    "pickup": [1],
                    "time_windows": [[12 * H, 16 * H]],
                },
                {
                    "id": 105,
                    "location_index": 5,
                    "service": 300,
                    "delivery": [12],
                    "skills": [1],
                    "time_windows": [[13 * H, 19 * H]],
                },
                {
                    "id": 106,
                    "location_index": 2,
                    "service": 300,
                    "delivery": [1],
                    "priority": 50,
                    "time_windows": [[8 * H, 8 * H + 30 * MIN], [17 * H, 18 * H]],
                },
            ],
            "matrices": {
                "car": {"durations": CAR, "distances": METRES, "costs": METRES},
                "van": {"durations": VAN, "distances": METRES, "costs": METRES},
            },
        }
    )
