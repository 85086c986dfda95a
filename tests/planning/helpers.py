"""Builders shared by the planning tests: a published plan for the small day, late orders,
a second courier, and the checker's verdict on a plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.fleet import inspection
from app.orders.models import OrderItem
from app.planning import flows, services
from app.planning.problem import plan_problem, route_specs
from routing import feasibility
from routing.solver import SolveParameters
from tests import factories as f
from tests.planning.conftest import DAY, order

QUICK = SolveParameters(time_limit_s=2, iteration_limit=300)
NOW = datetime(2030, 1, 14, 20, tzinfo=UTC)  # the evening before DAY
NEAR = (55.72, 37.58)
ST_PETERSBURG = (59.93, 30.33)  # 700 km away: no courier can get there and back


def published(session, world, *, inspect: bool = True):  # type: ignore[no-untyped-def]
    """The small day planned and published; its vehicles inspected (every item passed)
    unless ``inspect`` is False, so couriers may report."""
    plan = services.start_plan(session, depot_id=world.depot.id, day=DAY, time_limit_s=2, now=NOW)
    services.solve_plan(session, plan_id=plan.id, now=NOW, params=QUICK)
    flows.publish(session, plan_id=plan.id, now=NOW)
    if inspect:
        inspected(session, plan)
    return plan


def inspected(session, plan, at=NOW):  # type: ignore[no-untyped-def]
    """A passed inspection for the shift of every route of ``plan``."""
    for route in plan.routes:
        vehicle = route.shift.vehicle
        inspection.submit(
            session,
            shift_id=route.shift_id,
            courier_id=route.courier_id,
            answers={item.code: True for item in inspection.checklist(vehicle)},
            odometer_km=1000 if inspection.needs_odometer(vehicle) else None,
            at=at,
            now=at,
        )


def late_order(session, world, number, lat, lon, hour_utc, units=0):  # type: ignore[no-untyped-def]
    placed = order(world, number, lat, lon)
    placed.window_start_at = datetime(2030, 1, 15, hour_utc, tzinfo=UTC)
    placed.window_end_at = placed.window_start_at + timedelta(hours=2)
    if units:
        product = f.ProductFactory(load_units=units)
        placed.items = [OrderItem(product=product, quantity=1, unit_price_minor=0)]
    session.add(placed)
    session.flush()
    return placed


def windows_kept(session, plan) -> list[str]:  # type: ignore[no-untyped-def]
    """Every stop served inside its order's window, judged by the independent checker."""
    day = plan_problem(session, plan)
    routes = [(spec.vehicle, spec.stops) for spec in route_specs(day, plan)]
    return [v.message for v in feasibility.violations(day.problem, routes)]


def second_courier(session, world, vehicle_type="car", end_hour_utc=20):  # type: ignore[no-untyped-def]
    shift = f.ShiftFactory(
        courier=f.CourierFactory(depot=world.depot, name="Second Courier"),
        vehicle=f.VehicleFactory(depot=world.depot, type=vehicle_type, capacity_units=50),
        starts_at=datetime(2030, 1, 15, 4, tzinfo=UTC),
        ends_at=datetime(2030, 1, 15, end_hour_utc, tzinfo=UTC),
    )
    session.flush()
    return shift
