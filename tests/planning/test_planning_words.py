"""Routing's reasons in the dispatcher's words: orders by number, couriers by name, whole
messages (so each page says them in its reader's language)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.messages import Message
from app.planning import words
from routing.plan import Reason, Unassigned


def a_day(couriers: int = 5):  # type: ignore[no-untyped-def]
    """Just what the words read: order numbers by stop, courier names by vehicle."""
    return SimpleNamespace(
        stops=[SimpleNamespace(label="RT-7")],
        shifts=[SimpleNamespace(courier=SimpleNamespace(name=f"C{k}")) for k in range(couriers)],
    )


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (
            Unassigned(0, Reason.CAPACITY, "", {"stop": "RT-7", "need": 60, "largest": 50}),
            "Order RT-7 needs 60 units of space; the largest vehicle of the day carries 50.",
        ),
        (
            Unassigned(0, Reason.CAPACITY, "", {"stop": "RT-7"}),
            "Every vehicle that could take order RT-7 is already full.",
        ),
        (
            Unassigned(0, Reason.WINDOW_UNREACHABLE, "", {"stop": "RT-7", "late_min": 12}),
            "No courier can reach order RT-7 inside its window, even driving straight there: "
            "the earliest would be 12 min late.",
        ),
        (
            Unassigned(0, Reason.WINDOW_UNREACHABLE, "", {"stop": "RT-7"}, (0, 1)),
            "No courier can reach order RT-7 inside its window: for the couriers with room for "
            "it (C0, C1), it or another stop would be late.",
        ),
        (
            Unassigned(0, Reason.SHIFT_TOO_SHORT, "", {"stop": "RT-7"}, (0, 1, 2, 3, 4)),
            "Adding order RT-7 would end a shift late for the couriers with room for it "
            "(C0, C1, C2 and 2 more).",
        ),
        (
            Unassigned(0, Reason.SHIFT_TOO_SHORT, "", {"stop": "RT-7", "short_min": 3}),
            "Order RT-7 can be reached in its window, but no shift is long enough to get back "
            "to the depot (short by 3 min).",
        ),
        (
            Unassigned(0, Reason.BREAK_CONFLICT, "", {"stop": "RT-7"}),
            "Serving order RT-7 leaves the courier no time for a break.",
        ),
        (
            Unassigned(0, Reason.NOT_PLANNED_IN_TIME, "", {"stop": "RT-7"}),
            "Order RT-7 fits into the plan, but the search ended before it found its place; "
            "plan the day again.",
        ),
    ],
)
def test_each_reason_names_the_order_and_the_couriers(left, expected):
    said = words.left_out(a_day(), left)

    assert isinstance(said, Message)
    assert said == expected


def test_sentences_listed_together_stay_translatable():
    joined = words.listed([Message("a", {}), Message("b", {}), Message("c", {})])

    assert joined == "a; b; c"
    assert isinstance(joined, Message)
    assert isinstance(joined.params["earlier"], Message)
    assert words.listed([]) == ""
