"""Planning owns the stop: one id for the life of the work, through late insertions, a
dispatcher's moves and re-plans; its outcome moves its order's status in one place; its
reason for being left out is routing's name, checked by the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.orders.models import Order, OrderStatus
from app.planning import editing, flows, services
from app.planning.board import BoardStop, plan_board
from app.planning.enums import FailureReason
from app.planning.models import PlanUnassigned, Stop
from app.planning.progress import Report, report_stop
from tests.planning.conftest import DAY
from tests.planning.helpers import NOW, QUICK, late_order, published, second_courier

ON_THE_DAY = datetime(2030, 1, 15, 6, tzinfo=UTC)  # 09:00 in Moscow


def stop_ids_by_number(plan) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {v.stop.label: v.stop.id for r in plan.routes for v in r.visits}


def test_stop_ids_survive_an_insertion_a_move_and_a_replan(session, day):
    plan = published(session, day)
    first = stop_ids_by_number(plan)
    assert set(first) == {"RT-MORNING", "RT-EVENING"}

    late = late_order(session, day, "RT-LATE", 55.73, 37.57, hour_utc=9)
    placed = editing.insert_order(session, plan_id=plan.id, order_id=late.id, now=NOW)
    assert placed.placed
    after_insert = stop_ids_by_number(plan)
    other = second_courier(session, day)
    editing.apply_move(
        session,
        plan_id=plan.id,
        stop_id=after_insert["RT-EVENING"],
        shift_id=other.id,
        position=1,
        now=NOW,
    )
    after_move = stop_ids_by_number(plan)
    again = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=NOW)
    services.solve_plan(session, plan_id=again.id, now=NOW, params=QUICK)
    after_replan = stop_ids_by_number(again)

    assert after_insert == {**first, "RT-LATE": placed.stop_id}
    assert after_move == after_insert
    assert after_replan == after_insert
    # One stop per order and day, however many versions place it.
    assert session.scalar(select(func.count()).select_from(Stop)) == 3


def test_an_outcome_moves_the_order_and_is_kept_on_the_stop_with_its_reason(session, day, clock):
    clock(ON_THE_DAY)
    plan = published(session, day)
    morning, evening = (v.stop for v in plan.routes[0].visits)

    report_stop(session, stop_id=morning.id, report=Report.DELIVERED, at=ON_THE_DAY)
    report_stop(
        session,
        stop_id=evening.id,
        report=Report.FAILED,
        at=ON_THE_DAY,
        reason=FailureReason.NOT_HOME,
    )

    assert (morning.outcome, morning.completed_at) == ("delivered", ON_THE_DAY)
    assert (evening.outcome, evening.failure_reason) == ("failed", "not_home")
    statuses = {o.number: o.status for o in session.scalars(select(Order))}
    assert statuses == {"RT-MORNING": OrderStatus.DELIVERED, "RT-EVENING": OrderStatus.FAILED}


def test_a_failure_without_a_reason_is_refused_by_the_database(session, day, clock):
    clock(ON_THE_DAY)
    plan = published(session, day)
    stop = plan.routes[0].visits[0].stop
    stop.completed_at, stop.outcome = ON_THE_DAY, "failed"

    with pytest.raises(IntegrityError):
        session.flush()


def test_a_reason_outside_routings_vocabulary_is_refused_by_the_database(session, day):
    plan = published(session, day)
    stop = plan.routes[0].visits[0].stop
    plan.unassigned.append(PlanUnassigned(stop=stop, reason_code="NO_ROUTE", message="-"))

    with pytest.raises(IntegrityError):
        session.flush()


def test_the_board_is_a_read_model_of_frozen_values(session, day):
    late_order(session, day, "RT-PIANO", 55.72, 37.58, hour_utc=9, units=60)
    plan = published(session, day)

    board = plan_board(session, plan.id, NOW)

    (route,) = board.routes
    assert [s.number for s in route.stops] == ["RT-MORNING", "RT-EVENING"]
    assert [(u.number, u.reason) for u in board.left_out] == [("RT-PIANO", "CAPACITY")]
    assert board.at_risk == 0
    assert not route.under_way
    with pytest.raises(AttributeError):
        route.stops[0].number = "changed"  # type: ignore[misc]
    assert isinstance(route.stops[0], BoardStop)


def test_publishing_twice_is_one_flow_that_brings_in_late_orders(session, day):
    plan = published(session, day)
    late = late_order(session, day, "RT-LATE", 55.73, 37.57, hour_utc=9)
    assert late.status == OrderStatus.NEW

    _, placements = flows.publish(session, plan_id=plan.id, now=NOW)

    assert [p.placed for p in placements] == [True]
    assert late.status == OrderStatus.PLANNED
