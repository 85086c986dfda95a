"""What planning tells people, as translatable messages (app.messages).

Routing is pure and speaks English of stops and vehicles; here its facts become sentences
about orders (by number, as people know them) and couriers (by name).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.messages import Message, say, say_n
from app.planning.problem import DayProblem
from routing.plan import Reason, Unassigned

# How many couriers a reason names before it says "and N more".
NAMED_COURIERS = 3


def couriers(day: DayProblem, vehicles: Sequence[int]) -> str:
    """The couriers of these vehicles by name: the first few, then how many more."""
    names = ", ".join(day.shifts[v].courier.name for v in vehicles[:NAMED_COURIERS])
    more = len(vehicles) - NAMED_COURIERS
    if more <= 0:
        return names
    return say_n("%(names)s and %(n)s more", "%(names)s and %(n)s more", more, names=names)


def left_out(day: DayProblem, left: Unassigned) -> Message:
    """Why the search left an order out, naming the order and the couriers that came closest.

    Routing tells its two kinds of reason apart by the facts it gives: the pre-check (no
    vehicle could serve the order even alone) gives amounts, probing the plan names vehicles.
    """
    number = day.stops[left.stop].label
    facts = left.params
    if left.reason is Reason.NO_VEHICLE_WITH_SKILL:
        # Orders need no skill of their own here: an order needs a vehicle loaded at the
        # depot (problem.assemble), so only a day whose every courier has left lacks one.
        return say(
            "Every courier of the day has already left the depot, so order %(number)s cannot "
            "join a route now; plan it for another day.",
            number=number,
        )
    if left.reason is Reason.CAPACITY:
        if "need" in facts:
            return say(
                "Order %(number)s needs %(need)s units of space; the largest vehicle of the day "
                "carries %(largest)s.",
                number=number,
                need=facts["need"],
                largest=facts["largest"],
            )
        return say("Every vehicle that could take order %(number)s is already full.", number=number)
    if left.reason is Reason.WINDOW_UNREACHABLE:
        if "late_min" in facts:
            return say(
                "No courier can reach order %(number)s inside its window, even driving straight "
                "there: the earliest would be %(minutes)s min late.",
                number=number,
                minutes=facts["late_min"],
            )
        return say(
            "No courier can reach order %(number)s inside its window: for the couriers with "
            "room for it (%(couriers)s), it or another stop would be late.",
            number=number,
            couriers=couriers(day, left.vehicles),
        )
    if left.reason is Reason.SHIFT_TOO_SHORT:
        if "short_min" in facts:
            return say(
                "Order %(number)s can be reached in its window, but no shift is long enough to "
                "get back to the depot (short by %(minutes)s min).",
                number=number,
                minutes=facts["short_min"],
            )
        return say(
            "Adding order %(number)s would end a shift late for the couriers with room for it "
            "(%(couriers)s).",
            number=number,
            couriers=couriers(day, left.vehicles),
        )
    if left.reason is Reason.BREAK_CONFLICT:
        if left.vehicles:
            return say(
                "Adding order %(number)s would push a break out of its time for the couriers "
                "with room for it (%(couriers)s).",
                number=number,
                couriers=couriers(day, left.vehicles),
            )
        return say(
            "Serving order %(number)s leaves the courier no time for a break.", number=number
        )
    if left.reason is Reason.NOT_PLANNED_IN_TIME:
        return say(
            "Order %(number)s fits into the plan, but the search ended before it found its "
            "place; plan the day again.",
            number=number,
        )
    return say("Order %(number)s could not be planned.", number=number)


def listed(items: Sequence[str]) -> str:
    """Several sentences as one, separated by semicolons, each still said in the reader's
    language (joining them as plain text would freeze them in English)."""
    if not items:
        return ""
    joined = items[0]
    for item in items[1:]:
        joined = say("%(earlier)s; %(next)s", earlier=joined, next=item)
    return joined
