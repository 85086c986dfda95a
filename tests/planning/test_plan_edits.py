"""Changing a published plan: late orders inserted, stops moved by hand, reports from the road."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app import messages
from app.errors import Conflict, ValidationFailed
from app.orders.models import Order, OrderStatus
from app.planning import editing
from app.planning.models import PlanChange
from app.planning.progress import Report, projection, report_stop
from tests.planning.helpers import NOW, late_order, published, second_courier, windows_kept


def test_a_late_order_joins_the_route_and_no_stop_leaves_its_window(session, day):
    plan = published(session, day)
    before = {v.stop.order_id: v.start_at for r in plan.routes for v in r.visits}

    late = late_order(session, day, "RT-LATE", 55.72, 37.58, hour_utc=9)  # 12:00-14:00 local
    placed = editing.insert_order(session, plan_id=plan.id, order_id=late.id, now=NOW)

    assert placed.placed, placed.message
    (route,) = plan.routes
    numbers = [session.get(Order, v.stop.order_id).number for v in route.visits]
    assert numbers == ["RT-MORNING", "RT-LATE", "RT-EVENING"]
    assert windows_kept(session, plan) == []
    for v in route.visits:
        o = session.get(Order, v.stop.order_id)
        assert o.window_start_at <= v.start_at <= o.window_end_at
    assert {
        v.stop.order_id: v.start_at for v in route.visits if v.stop.order_id in before
    } == before
    assert late.status == OrderStatus.PLANNED
    assert plan.stops_assigned == 3
    assert plan.revision > 0
    change = session.scalar(select(PlanChange).where(PlanChange.plan_id == plan.id))
    assert (change.kind, change.stop.order_id, change.override_reason) == ("insert", late.id, None)


def test_an_order_that_fits_nowhere_is_listed_with_its_reason_and_nothing_moves(session, day):
    plan = published(session, day)
    stops_before = [(v.stop.order_id, v.start_at) for r in plan.routes for v in r.visits]

    too_big = late_order(session, day, "RT-PIANO", 55.72, 37.58, hour_utc=9, units=60)
    placed = editing.insert_order(session, plan_id=plan.id, order_id=too_big.id, now=NOW)

    assert not placed.placed
    assert placed.reason_code == "CAPACITY"
    assert [(u.stop.order_id, u.reason_code) for u in plan.unassigned] == [(too_big.id, "CAPACITY")]
    assert [(v.stop.order_id, v.start_at) for r in plan.routes for v in r.visits] == stops_before


def test_a_late_order_is_only_offered_times_still_ahead(session, day):
    plan = published(session, day)
    late = late_order(session, day, "RT-NOON", 55.72, 37.58, hour_utc=9)  # 12:00-14:00 local

    too_late = datetime(2030, 1, 15, 11, 30, tzinfo=UTC)  # 14:30 local: the window has gone
    placed = editing.insert_order(session, plan_id=plan.id, order_id=late.id, now=too_late)

    assert (placed.placed, placed.reason_code) == (False, "WINDOW_UNREACHABLE")


def test_nothing_is_added_to_a_route_under_way(session, day):
    plan = published(session, day)
    (route,) = plan.routes
    report_stop(
        session, stop_id=route.visits[0].stop.id, report=Report.ARRIVED, at=route.visits[0].start_at
    )
    late = late_order(session, day, "RT-LATE", 55.72, 37.58, hour_utc=9)

    placed = editing.insert_order(
        session, plan_id=plan.id, order_id=late.id, now=datetime(2030, 1, 15, 6, tzinfo=UTC)
    )

    assert (placed.placed, placed.reason_code) == (False, "NO_OPEN_ROUTE")
    assert session.get(Order, route.visits[1].stop.order_id).status == OrderStatus.OUT_FOR_DELIVERY


def test_moving_a_stop_shows_every_violation_before_saving(session, day):
    plan = published(session, day)
    (route,) = plan.routes
    morning, evening = (v.stop for v in route.visits)
    shift_id = route.shift_id

    preview = editing.preview_move(
        session, plan_id=plan.id, stop_id=morning.id, shift_id=shift_id, position=2
    )

    # Served after the evening stop (20:00 + service + ~20 min drive), the 08:00-10:00 stop
    # is more than ten hours late.
    (message,) = preview.violations
    assert message.startswith(f"{route.courier.name}'s route: late by ")
    assert message.endswith("at stop 2 (RT-MORNING)")
    late_min = int(message.split("late by ")[1].split(" min")[0])
    assert 10 * 60 + 10 < late_min < 11 * 60
    assert [v.stop.id for v in route.visits] == [morning.id, evening.id]  # nothing written

    with pytest.raises(ValidationFailed) as refused:
        editing.apply_move(
            session, plan_id=plan.id, stop_id=morning.id, shift_id=shift_id, position=2, now=NOW
        )
    assert "Give a reason" in refused.value.errors["override_reason"][0]

    editing.apply_move(
        session,
        plan_id=plan.id,
        stop_id=morning.id,
        shift_id=shift_id,
        position=2,
        now=NOW,
        override_reason="Customer asked for an evening drop",
    )
    assert [v.stop.id for v in plan.routes[0].visits] == [evening.id, morning.id]
    change = session.scalar(select(PlanChange).where(PlanChange.kind == "move"))
    assert change.override_reason == "Customer asked for an evening drop"
    # Stored whole, so the page says it in its reader's language later.
    (stored,) = messages.load_list(change.violations)
    assert (stored, stored.msgid) == (message, message.msgid)


def test_a_clean_move_to_another_courier_saves_without_a_reason(session, day):
    plan = published(session, day)
    other = second_courier(session, day)
    evening_id = plan.routes[0].visits[-1].stop.id

    preview = editing.apply_move(
        session, plan_id=plan.id, stop_id=evening_id, shift_id=other.id, position=1, now=NOW
    )

    assert preview.ok
    assert {r.shift_id: len(r.visits) for r in plan.routes} == {
        plan.routes[0].shift_id: 1,
        other.id: 1,
    }
    assert windows_kept(session, plan) == []


def test_shift_end_and_capacity_are_named(session, day):
    plan = published(session, day)
    short = second_courier(session, day, vehicle_type="bike", end_hour_utc=9)  # ends 12:00
    evening_id = plan.routes[0].visits[-1].stop.id

    preview = editing.preview_move(
        session, plan_id=plan.id, stop_id=evening_id, shift_id=short.id, position=1
    )

    assert len(preview.violations) == 1
    assert "Second Courier's route: past shift end by " in preview.violations[0]
    with pytest.raises(ValidationFailed) as bad:
        editing.preview_move(
            session, plan_id=plan.id, stop_id=evening_id, shift_id=short.id, position=3
        )
    assert bad.value.errors == {"position": ["Choose a position from 1 to 1."]}


def test_a_route_under_way_keeps_its_stops(session, day):
    plan = published(session, day)
    other = second_courier(session, day)
    (route,) = plan.routes
    report_stop(
        session,
        stop_id=route.visits[0].stop.id,
        report=Report.DELIVERED,
        at=route.visits[0].start_at,
    )

    with pytest.raises(Conflict, match="under way"):
        editing.preview_move(
            session,
            plan_id=plan.id,
            stop_id=route.visits[1].stop.id,
            shift_id=other.id,
            position=1,
        )


def test_live_progress_projects_from_the_last_report_and_flags_risk(session, day):
    plan = published(session, day)
    (route,) = plan.routes
    first, second = route.visits
    assert not any(p.at_risk for p in projection(session, plan, now=NOW).values())
    # The first stop took until 21:50 local, so the 20:00-22:00 stop is projected late.
    done = datetime(2030, 1, 15, 18, 50, tzinfo=UTC)
    report_stop(session, stop_id=first.stop.id, report=Report.DELIVERED, at=done)

    progress = projection(session, plan, now=done)

    assert progress[first.id].completed_at == done
    assert progress[first.id].projected_start is None
    assert session.get(Order, first.stop.order_id).status == OrderStatus.DELIVERED
    later = progress[second.id]
    assert later.projected_start is not None
    assert later.projected_start > done
    assert later.at_risk
    assert later.late_by is not None
