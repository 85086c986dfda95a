"""The checker catches every kind of violation on hand-made routes, with the right amount.

Instances are points on a line (depot at 0, 1 m/s), so each expected number is worked out by
hand in the test's docstring.
"""

from __future__ import annotations

from routing.feasibility import ViolationKind, check, time_route, violations
from routing.model import Break, TimeWindow
from tests.routing.instances import delivery, pickup, problem, van


def kinds(found):  # type: ignore[no-untyped-def]
    return [(v.kind, v.stop, v.amount) for v in found]


def test_feasible_route_is_timed_with_waiting():
    """a at 100 (window 300-400), b at 200: arrive a at 100, wait to 300, serve 50, b at 450."""
    p = problem([delivery("a", 1, window=TimeWindow(300, 400), service_s=50), delivery("b", 2)])

    timed = time_route(p, 0, [0, 1])

    assert timed.violations == ()
    a, b = timed.route.visits
    assert (a.arrival_s, a.start_s, a.departure_s) == (100, 300, 350)
    assert (b.arrival_s, b.start_s) == (450, 450)
    assert timed.route.end_s == 650
    assert timed.route.distance_m == 400


def test_late_by_n_at_stop():
    """b at 200 must start by 150; visiting a (at 100) first still arrives at 200: 50 s late."""
    p = problem([delivery("a", 1), delivery("b", 2, window=TimeWindow(0, 150))])

    assert kinds(violations(p, [(0, [0, 1])])) == [(ViolationKind.LATE, 1, 50)]


def test_second_window_is_used_when_the_first_is_missed():
    p = problem([delivery("a", 1, window=TimeWindow(0, 100))], positions=[500])
    from routing.model import Stop, StopKind

    two = Stop("a", StopKind.DELIVERY, 1, (TimeWindow(0, 100), TimeWindow(800, 900)), 0, (1,))
    p2 = problem([two], positions=[500])

    assert kinds(violations(p, [(0, [0])])) == [(ViolationKind.LATE, 0, 400)]
    timed = time_route(p2, 0, [0])
    assert timed.violations == ()
    assert timed.route.visits[0].start_s == 800


def test_over_capacity_leaving_the_depot():
    """Deliveries 6 + 7 on a vehicle of 10: over by 3 before the first stop."""
    p = problem([delivery("a", 1, amount=6), delivery("b", 2, amount=7)], [van(capacity=10)])

    assert kinds(violations(p, [(0, [0, 1])])) == [(ViolationKind.CAPACITY, None, 3)]


def test_pickups_first_overflow_but_deliveries_first_fit():
    """Capacity 10, deliver 10 at a, pick up 10 at b. a then b: loads 10, 0, 10 (fits).
    b then a: 10 on board, +10 picked up = 20 after b: over by 10 at b."""
    p = problem([delivery("a", 1, amount=10), pickup("b", 2, amount=10)], [van(capacity=10)])

    assert violations(p, [(0, [0, 1])]) == []
    assert kinds(violations(p, [(0, [1, 0])])) == [(ViolationKind.CAPACITY, 1, 10)]
    loads = [v.load_after for v in time_route(p, 0, [0, 1]).route.visits]
    assert loads == [(0,), (10,)]


def test_past_shift_end():
    """Stop at 1000 and back: the van returns at 2000, its shift ends at 1500."""
    p = problem([delivery("a", 1)], [van(shift=TimeWindow(0, 1500))], positions=[1000])

    assert kinds(violations(p, [(0, [0])])) == [(ViolationKind.SHIFT_END, None, 500)]


def test_missing_skill():
    p = problem([delivery("a", 1, skills=frozenset({"fridge"}))])

    assert kinds(violations(p, [(0, [0])])) == [(ViolationKind.SKILL, 0, 1)]


def test_break_that_cannot_start_in_its_window():
    """Stop a at 10, window 0-10, service 150; a 30 s break must start in 100-140.
    Before a: the break ends at 130 and a starts 120 s late. After a: the van leaves at 160,
    20 s after the break window closed. The checker keeps the smaller harm: break 20 s late."""
    brk = Break(TimeWindow(100, 140), 30)
    stop = delivery("a", 1, window=TimeWindow(0, 10), service_s=150)
    fine = problem([delivery("a", 1)], [van(breaks=[brk])], positions=[10])
    late = problem([stop], [van(breaks=[brk])], positions=[10])

    assert violations(fine, [(0, [0])]) == []
    assert kinds(violations(late, [(0, [0])])) == [(ViolationKind.BREAK, None, 20)]


def test_break_is_placed_where_it_breaks_nothing():
    """Stop a (100) has a window 0-100; b (200) opens at 500. A 60 s break taken on the way
    to a would make a late; on the way to b it costs nothing (b is waited for anyway)."""
    brk = Break(TimeWindow(0, 1000), 60)
    p = problem(
        [
            delivery("a", 1, window=TimeWindow(0, 100)),
            delivery("b", 2, window=TimeWindow(500, 600)),
        ],
        [van(breaks=[brk])],
    )

    timed = time_route(p, 0, [0, 1])

    assert timed.violations == ()
    (taken,) = timed.route.breaks
    assert taken.before_visit == 1
    assert taken.start_s >= 100
    assert taken.end_s <= 500


def test_duplicate_and_unknown_stops_and_vehicles():
    p = problem([delivery("a", 1), delivery("b", 2)], [van("v1"), van("v2")])

    found = violations(p, [(0, [0, 1]), (1, [1, 7]), (5, [0])])

    assert (ViolationKind.DUPLICATE_STOP, 1, 1) in kinds(found)
    assert (ViolationKind.UNKNOWN_STOP, 7, 1) in kinds(found)
    assert (ViolationKind.UNKNOWN_VEHICLE, None, 1) in kinds(found)


def test_messages_are_plain_words():
    p = problem([delivery("a", 1), delivery("b", 2, window=TimeWindow(0, 150))])

    (late,) = check(p, [(0, [0, 1])])[0].violations

    assert late.message == "late by 1 min at stop b"
