"""The problem model refuses malformed input and says which field is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from routing.model import Break, Depot, Problem, ProblemError, Stop, StopKind, TimeWindow, Vehicle
from tests.routing.instances import DAY, delivery, on_a_line, problem, van


def test_window_ending_before_it_starts():
    with pytest.raises(ProblemError, match="late_s: 10 is before early_s 20"):
        TimeWindow(20, 10)


def test_negative_break_duration():
    with pytest.raises(ProblemError, match="duration_s: must be > 0"):
        Break(DAY, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vehicles": [Vehicle("v", (10, 5), DAY, 0, 0)]}, r"stops\[0\].delivery: needs 2 dim"),
        ({"vehicles": [van(), Vehicle("w", (10, 5), DAY, 0, 0)]}, r"vehicles\[1\].capacity"),
        ({"vehicles": [Vehicle("v", (10,), DAY, 3, 0)]}, r"vehicles\[0\].start_depot"),
        ({"vehicles": [Vehicle("v", (10,), DAY, 0, 0, profile="boat")]}, r"vehicles\[0\].profile"),
        ({"stops": [delivery("a", 1), delivery("a", 1)]}, r"stops\[1\].id: 'a' is used twice"),
        (
            {"stops": [Stop("a", StopKind.DELIVERY, 1, (DAY,), 0, (1,), (1,))]},
            r"stops\[0\].pickup: a delivery stop picks nothing up",
        ),
        (
            {"stops": [Stop("a", StopKind.PICKUP, 1, (DAY,), 0, (1,), (1,))]},
            r"stops\[0\].delivery: a pickup stop delivers nothing",
        ),
        ({"stops": [Stop("a", StopKind.DELIVERY, 1, (), 0, (1,))]}, r"stops\[0\].windows"),
        (
            {"stops": [Stop("a", StopKind.DELIVERY, 1, (TimeWindow(50, 90), TimeWindow(0, 60)))]},
            r"stops\[0\].windows\[1\]: windows must be sorted",
        ),
        (
            {"stops": [Stop("a", StopKind.DELIVERY, 1, (DAY,), 0, (1, 1))]},
            r"stops\[0\].delivery: needs 1 dimensions",
        ),
        ({"stops": [Stop("a", StopKind.DELIVERY, 1, (DAY,), priority=11)]}, r"stops\[0\].priority"),
        ({"stops": [delivery("a", 9)]}, r"distance_m: covers 2 locations, need 10"),
    ],
)
def test_bad_problem_names_the_field(change, field):
    args = {
        "depots": [Depot("d", 0)],
        "vehicles": [van()],
        "stops": [delivery("a", 1)],
        "distance_m": on_a_line([10]),
        "duration_s": {"car": on_a_line([10])},
    }
    args.update(change)

    with pytest.raises(ProblemError, match=field):
        Problem(**args)


def test_negative_travel_time_is_refused():
    matrix = on_a_line([10])
    matrix[0, 1] = -1
    with pytest.raises(ProblemError, match="distance_m: has negative entries"):
        problem([delivery("a", 1)], matrix=matrix)


def test_problem_is_immutable():
    p = problem([delivery("a", 1)])

    with pytest.raises(ValueError, match="read-only"):
        p.distance_m[0, 1] = 5
    with pytest.raises(AttributeError):
        p.stops = ()  # type: ignore[misc]
    assert isinstance(p.distance_m, np.ndarray)
