"""Return stops on the shop's own routes (X2 → stops), on both databases: an approved
exchange is one stop of the next day that collects the faulty item and brings the new one;
planning routes it with the day's deliveries, publishing takes one approved after the run,
and the courier's "done" records it as exchanged without touching the delivered order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.orders import services as order_services
from app.orders.models import OrderItem, OrderStatus
from app.planning import flows, services
from app.planning.models import Stop
from app.planning.progress import Report, report_stop
from returns import services as return_services
from returns.policy import Resolution, ReturnReason
from tests.planning.conftest import DAY, order
from tests.planning.helpers import NOW, QUICK, inspected

BOUGHT = DAY - timedelta(days=5)


def a_return(session, world, *, resolution=Resolution.EXCHANGE, key="k", now=NOW):  # type: ignore[no-untyped-def]
    """A kettle delivered five days before DAY, returned as defective at ``now``."""
    bought = order(world, f"RT-OLD-{key}", 55.74, 37.61)
    bought.delivery_day = BOUGHT
    bought.window_start_at = datetime(2030, 1, 10, 5, tzinfo=UTC)
    bought.window_end_at = bought.window_start_at + timedelta(hours=2)
    bought.items = [OrderItem(product=world.kettle, quantity=1, unit_price_minor=3_499_00)]
    session.add(bought)
    session.flush()
    order_services.mark_delivered(session, order_id=bought.id, now=bought.window_end_at)
    case = return_services.start_return(
        session,
        customer_id=world.customer.id,
        order_id=bought.id,
        items=[return_services.Wanted(bought.items[0].id, 1)],
        reason=ReturnReason.DEFECTIVE,
        resolution=resolution,
        key=key,
        now=now,
    )
    (stop,) = session.scalars(select(Stop).where(Stop.return_case_id == case.id))
    return case, stop


def test_an_approved_exchange_is_one_stop_of_the_next_day_that_collects_and_brings(
    session, day, clock
):
    """Kind exchange, on DAY, three units each way (a kettle is 3), within the depot's
    delivering hours; a refund with a pickup is a pickup stop."""
    clock(NOW)
    case, stop = a_return(session, day)
    _, pickup = a_return(session, day, resolution=Resolution.REFUND, key="r")

    assert (stop.kind, stop.delivery_day, stop.delivery_units, stop.pickup_units) == (
        "exchange",
        DAY,
        3,
        3,
    )
    assert stop.window_start_at < stop.window_end_at
    assert stop.label == f"RT-OLD-k/R{case.id}"
    assert (pickup.kind, pickup.delivery_units, pickup.pickup_units) == ("pickup", 0, 3)


def test_planning_routes_the_return_with_the_days_deliveries(session, day, clock):
    """The evening's run places the exchange on the courier's route."""
    clock(NOW)
    _, stop = a_return(session, day)

    plan = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=NOW)
    services.solve_plan(session, plan_id=plan.id, now=NOW, params=QUICK)

    routed = {v.stop.id for r in plan.routes for v in r.visits}
    assert stop.id in routed
    assert len(routed) == 3  # the morning and evening deliveries and the exchange


def test_publishing_takes_a_return_approved_after_the_run(session, day, clock):
    """The run was made before the return; publishing inserts its stop where it fits."""
    clock(NOW)
    plan = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=NOW)
    services.solve_plan(session, plan_id=plan.id, now=NOW, params=QUICK)
    _, stop = a_return(session, day)

    _, placements = flows.publish(session, plan_id=plan.id, now=NOW)

    assert [p.stop_id for p in placements if p.placed] == [stop.id]
    assert stop.id in {v.stop.id for r in plan.routes for v in r.visits}


def test_a_return_approved_after_publishing_goes_straight_onto_a_route(session, day, clock):
    """Tomorrow is already published: the new stop is inserted at once, not left waiting."""
    clock(NOW)
    plan = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=NOW)
    services.solve_plan(session, plan_id=plan.id, now=NOW, params=QUICK)
    flows.publish(session, plan_id=plan.id, now=NOW)

    _, stop = a_return(session, day, now=NOW + timedelta(minutes=30))

    assert stop.id in {v.stop.id for r in plan.routes for v in r.visits}


def test_the_couriers_done_at_an_exchange_records_exchanged_and_leaves_the_order_delivered(
    session, day, clock
):
    """The phone says "done"; the stop knows it was an exchange."""
    clock(NOW)
    case, stop = a_return(session, day)
    plan = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=NOW)
    services.solve_plan(session, plan_id=plan.id, now=NOW, params=QUICK)
    flows.publish(session, plan_id=plan.id, now=NOW)
    inspected(session, plan)
    visit = next(v for r in plan.routes for v in r.visits if v.stop.id == stop.id)

    report_stop(session, stop_id=stop.id, report=Report.DELIVERED, at=visit.start_at)

    assert (stop.outcome, stop.completed_at) == ("exchanged", visit.start_at)
    assert case.order.status == OrderStatus.DELIVERED


def test_a_return_declined_by_staff_calls_its_visit_off(session, day, clock, make_user):
    """Off the published routes and never planned again; the case keeps what was asked."""
    from app.planning import stops as stop_service
    from returns import review

    clock(NOW)
    case, stop = a_return(session, day)
    plan = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=NOW)
    services.solve_plan(session, plan_id=plan.id, now=NOW, params=QUICK)
    flows.publish(session, plan_id=plan.id, now=NOW)
    staff = make_user("support")
    assert case.refunded_at is None  # an exchange pays no refund: it may still be declined

    review.override(
        session,
        case_id=case.id,
        outcome="declined",
        reason="The photo shows a kettle of another shop.",
        user_id=staff.id,
        now=NOW + timedelta(minutes=5),
    )

    assert stop.called_off_at == NOW + timedelta(minutes=5)
    assert stop.id not in {v.stop.id for r in plan.routes for v in r.visits}
    assert stop_service.open_return_stops(session, depot_id=day.depot.id, day=DAY) == []
    assert [(i.order_item_id, i.quantity) for i in case.items] == [(case.order.items[0].id, 1)]


def test_a_return_declined_then_approved_again_has_its_visit_back(session, day, clock, make_user):
    """The called-off visit of that day is the one put back on: one stop, open again."""
    from app.planning import stops as stop_service
    from returns import review

    clock(NOW)
    case, stop = a_return(session, day)
    staff = make_user("support")
    review.override(
        session,
        case_id=case.id,
        outcome="declined",
        reason="The photo shows a kettle of another shop.",
        user_id=staff.id,
        now=NOW + timedelta(minutes=5),
    )

    review.override(
        session,
        case_id=case.id,
        outcome="approved",
        reason="The customer sent the shop's receipt.",
        user_id=staff.id,
        now=NOW + timedelta(minutes=10),
    )

    assert case.pickup
    assert stop_service.open_return_stops(session, depot_id=day.depot.id, day=DAY) == [stop]
    assert stop.called_off_at is None
