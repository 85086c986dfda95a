"""Re-planning during the day (R5): what has started stays, the rest is planned again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app import demo
from app.db import session_scope
from app.orders.models import Order, OrderItem
from app.planning import flows, jobs, services
from app.planning.models import Plan
from app.planning.progress import Report, report_stop
from tests.planning.conftest import DAY
from tests.planning.helpers import QUICK, late_order, published, second_courier

MORNING_REPORT = datetime(2030, 1, 15, 5, 30, tzinfo=UTC)  # 08:30 local
WAVE_AT = datetime(2030, 1, 15, 6, tzinfo=UTC)  # 09:00 local


def numbers(session, route) -> list[str]:  # type: ignore[no-untyped-def]
    return [session.get(Order, v.stop.order_id).number for v in route.visits]


def test_a_wave_keeps_started_stops_fixed_and_the_goods_on_their_vehicle(session, day):
    late_order(session, day, "RT-NOON", 55.73, 37.57, hour_utc=9)
    base = published(session, day)
    (route,) = base.routes
    assert numbers(session, route) == ["RT-MORNING", "RT-NOON", "RT-EVENING"]
    report_stop(
        session, stop_id=route.visits[0].stop.id, report=Report.DELIVERED, at=MORNING_REPORT
    )
    other = second_courier(session, day)
    late_order(session, day, "RT-NEW", 55.74, 37.62, hour_utc=10)

    plan = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=WAVE_AT)
    services.solve_plan(session, plan_id=plan.id, now=WAVE_AT, params=QUICK)

    assert plan.replanned_from_id == base.id
    by_shift = {r.shift_id: r for r in plan.routes}
    kept = by_shift[route.shift_id]
    first = kept.visits[0]
    assert numbers(session, kept)[0] == "RT-MORNING"
    # The same stop (its id too), with its report and its planned time kept.
    assert (first.stop.id, first.stop.completed_at, first.stop.outcome, first.start_at) == (
        route.visits[0].stop.id,
        MORNING_REPORT,
        "delivered",
        route.visits[0].start_at,
    )
    # Noon and evening are on the first courier's vehicle already; the new order can only
    # go with the courier still at the depot.
    assert sorted(numbers(session, kept)[1:]) == ["RT-EVENING", "RT-NOON"]
    assert numbers(session, by_shift[other.id]) == ["RT-NEW"]
    assert all(v.start_at >= WAVE_AT for r in plan.routes for v in r.visits if not v.reported)
    assert plan.stops_unassigned == 0


def test_the_same_day_wave_inserts_new_orders_into_the_published_plan(committed_factory):
    with session_scope(committed_factory) as s:
        summary = demo.load(s, now=datetime(2026, 11, 24, 12, tzinfo=UTC))
        depot_id = s.scalar(select(Order.depot_id).limit(1))
    first = jobs.run_planning(
        committed_factory,
        depot_id=depot_id,
        day=summary.delivery_day,
        time_limit_s=1,
        now=datetime(2026, 11, 24, 19, tzinfo=UTC),
    )
    with session_scope(committed_factory) as s:
        flows.publish(s, plan_id=first, now=datetime(2026, 11, 24, 20, tzinfo=UTC))
    morning = datetime(2026, 11, 25, 6, tzinfo=UTC)  # 09:00 in Moscow on the day itself

    # The first wave also places what it can of the orders the 1 s plan left out; after
    # that, with nothing new, a wave changes nothing.
    jobs.same_day_wave(committed_factory, time_limit_s=1, now=morning)
    assert jobs.same_day_wave(committed_factory, time_limit_s=1, now=morning) == []

    with session_scope(committed_factory) as s:
        # Where some route can surely take it: at the door of a route's last stop, in that
        # stop's window, which the courier leaves with time to spare.
        last = max(
            (r.visits[-1] for r in s.get_one(Plan, first).routes),
            key=lambda v: s.get_one(Order, v.stop.order_id).window_end_at - v.departure_at,
        )
        neighbour = s.get_one(Order, last.stop.order_id)
        fresh = Order(
            number="RT-SAMEDAY",
            customer_id=neighbour.customer_id,
            address_id=neighbour.address_id,
            depot_id=depot_id,
            delivery_day=summary.delivery_day,
            window_start_at=neighbour.window_start_at,
            window_end_at=neighbour.window_end_at,
        )
        s.add(fresh)
    # Inserted into the published plan: no new version, no route reshuffled under couriers.
    assert jobs.same_day_wave(committed_factory, time_limit_s=1, now=morning) == [first]

    with session_scope(committed_factory) as s:
        plan = s.get_one(Plan, first)
        routed = {s.get(Order, v.stop.order_id).number for r in plan.routes for v in r.visits}
        assert "RT-SAMEDAY" in routed
        assert s.scalar(select(Order.status).where(Order.number == "RT-SAMEDAY")) == "planned"
        assert services.published_plan(s, depot_id=depot_id, day=summary.delivery_day) == plan
    assert jobs.same_day_wave(committed_factory, time_limit_s=1, now=morning) == []


def test_the_final_evening_wave_publishes_when_nobody_did(committed_factory):
    with session_scope(committed_factory) as s:
        summary = demo.load(s, now=datetime(2026, 11, 24, 12, tzinfo=UTC))
    evening = datetime(2026, 11, 24, 20, 30, tzinfo=UTC)  # 23:30 in Moscow

    (plan_id,) = jobs.planning_wave(committed_factory, time_limit_s=1, now=evening, final=True)

    with session_scope(committed_factory) as s:
        plan = s.get_one(Plan, plan_id)
        assert plan.published_at is not None
        assert plan.delivery_day == summary.delivery_day
        depot_id = plan.depot_id
    # A later wave keeps the published plan (a dispatcher may have edited it): no new version,
    # at most orders the quick plan left out are inserted into it.
    again = jobs.planning_wave(committed_factory, time_limit_s=1, now=evening, final=True)
    assert set(again) <= {plan_id}
    with session_scope(committed_factory) as s:
        assert services.published_plan(s, depot_id=depot_id, day=summary.delivery_day).id == (
            plan_id
        )


def test_an_order_that_fits_nowhere_triggers_a_replan_that_is_published(committed_factory):
    """A car (50 units) carries A (10) and B (30) on one route, a bike (10) waits unused. C (20)
    fits neither as they stand; re-planned, A rides the bike and B + C the car."""
    from tests import factories as f

    with session_scope(committed_factory) as s:
        for factory_class in f.ALL:
            factory_class._meta.sqlalchemy_session = s
        depot = f.DepotFactory()
        customer = f.CustomerFactory()
        start = datetime(2030, 1, 15, 4, tzinfo=UTC)  # 07:00 in Moscow

        def placed(number: str, lat: float, units: int) -> Order:
            o = Order(
                number=number,
                customer=customer,
                address=f.AddressFactory(customer=customer, lat=lat, lon=37.62),
                depot=depot,
                delivery_day=DAY,
                window_start_at=start,
                window_end_at=start.replace(hour=16),
            )
            o.items = [
                OrderItem(
                    product=f.ProductFactory(load_units=units), quantity=1, unit_price_minor=0
                )
            ]
            s.add(o)
            return o

        # A lies on the way to B, so one route for both is shorter than two.
        placed("RT-A", 55.72, 10)
        placed("RT-B", 55.76, 30)
        for kind, units in (("car", 50), ("bike", 10)):
            f.ShiftFactory(
                courier=f.CourierFactory(depot=depot),
                vehicle=f.VehicleFactory(depot=depot, type=kind, capacity_units=units),
                starts_at=start,
                ends_at=start.replace(hour=19),
            )
        s.flush()
        depot_id = depot.id
    first = jobs.run_planning(
        committed_factory, depot_id=depot_id, day=DAY, params=QUICK, time_limit_s=2, now=WAVE_AT
    )
    with session_scope(committed_factory) as s:
        (route,) = s.get_one(Plan, first).routes
        assert numbers(s, route) == ["RT-A", "RT-B"]
        flows.publish(s, plan_id=first, now=WAVE_AT)
        for factory_class in f.ALL:
            factory_class._meta.sqlalchemy_session = s
        placed_c = Order(
            number="RT-C",
            customer_id=s.scalar(select(Order.customer_id).limit(1)),
            address=f.AddressFactory(lat=55.74, lon=37.62),
            depot_id=depot_id,
            delivery_day=DAY,
            window_start_at=start,
            window_end_at=start.replace(hour=16),
        )
        placed_c.items = [
            OrderItem(product=f.ProductFactory(load_units=20), quantity=1, unit_price_minor=0)
        ]
        s.add(placed_c)

    touched = jobs.bring_up_to_date(committed_factory, plan_id=first, now=WAVE_AT, time_limit_s=2)

    (replanned,) = touched
    with session_scope(committed_factory) as s:
        plan = s.get_one(Plan, replanned)
        assert plan.replanned_from_id == first
        assert plan.published_at is not None
        by_vehicle = {r.vehicle.type: sorted(numbers(s, r)) for r in plan.routes}
        assert by_vehicle == {"bike": ["RT-A"], "car": ["RT-B", "RT-C"]}
