"""Planning runs: the day's orders and fleet become a routing problem; the result is stored
whole as a new version, or the run is marked failed with its reason and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app import demo
from app.db import session_scope
from app.errors import Conflict
from app.fleet.models import Depot
from app.orders.models import Order, OrderStatus
from app.planning import flows, jobs, services
from app.planning.enums import PlanStatus
from app.planning.models import Plan, PlanRoute
from app.planning.problem import build_problem
from app.planning.stops import SERVICE_S_BASE
from routing import feasibility
from routing.solver import SolveParameters
from tests.planning.conftest import DAY
from tests.planning.helpers import QUICK

ITERATIONS = 3000  # enough for the demo day to plan 90 % of its orders; about 10 s
# The evening before DAY: a run planned then has the whole day ahead of it, whatever the date.
NOW = datetime(2030, 1, 14, 18, tzinfo=UTC)


def test_problem_uses_local_seconds_load_and_vehicle_profile(session, day):
    built = build_problem(session, depot_id=day.depot.id, day=DAY)

    morning = built.problem.stops[0]
    assert (morning.id, morning.windows[0].early_s, morning.windows[0].late_s) == (
        "RT-MORNING",
        8 * 3600,
        10 * 3600,
    )
    (vehicle,) = built.problem.vehicles
    assert (vehicle.profile, vehicle.capacity) == ("car", (50,))
    assert (vehicle.shift.early_s, vehicle.shift.late_s) == (7 * 3600, 23 * 3600)
    assert morning.service_s == SERVICE_S_BASE  # no items: load 0


def test_plan_is_stored_whole_with_times_inside_the_windows(session, day):
    plan = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=NOW)

    services.solve_plan(session, plan_id=plan.id, now=NOW, params=QUICK)

    assert (plan.status, plan.version, plan.stops_assigned, plan.stops_unassigned) == (
        PlanStatus.READY,
        1,
        2,
        0,
    )
    (route,) = plan.routes
    for visit in route.visits:
        placed = session.get(Order, visit.stop.order_id)
        assert placed.window_start_at <= visit.start_at <= placed.window_end_at
    assert [session.get(Order, v.stop.order_id).number for v in route.visits] == [
        "RT-MORNING",
        "RT-EVENING",
    ]


def test_versions_count_up_and_publishing_plans_the_orders(session, day):
    first = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=NOW)
    services.solve_plan(session, plan_id=first.id, now=NOW, params=QUICK)
    second = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=NOW)

    with pytest.raises(Conflict):
        flows.publish(session, plan_id=second.id, now=NOW)  # still solving
    flows.publish(session, plan_id=first.id, now=NOW)

    assert second.version == 2
    assert services.published_plan(session, depot_id=day.depot.id, day=DAY) == first
    statuses = session.scalars(select(Order.status).where(Order.delivery_day == DAY)).all()
    assert set(statuses) == {OrderStatus.PLANNED}


def test_a_failed_run_keeps_only_its_reason(committed_factory):
    with session_scope(committed_factory) as s:
        depot = Depot(
            code="EMPTY",
            name="Empty depot",
            address="-",
            lat=55.7,
            lon=37.6,
            timezone="Europe/Moscow",
        )
        s.add(depot)
        s.flush()
        depot_id = depot.id

    plan_id = jobs.run_planning(
        committed_factory, depot_id=depot_id, day=DAY, time_limit_s=1, now=NOW
    )

    with session_scope(committed_factory) as s:
        plan = s.get(Plan, plan_id)
        assert plan.status == PlanStatus.FAILED
        assert "No courier has a shift" in plan.error
        assert s.scalar(select(func.count()).select_from(PlanRoute)) == 0


@pytest.mark.slow
def test_the_demo_day_plans_feasibly_and_explains_every_order_left_out(session):
    planned_at = datetime(2026, 11, 24, 12, tzinfo=UTC)  # noon before the demo day
    summary = demo.load(session, now=planned_at)
    depot_id = session.scalar(select(Order.depot_id).limit(1))
    plan = services.start_plan(
        session, depot_id=depot_id, day=summary.delivery_day, time_limit_s=3, now=planned_at
    )

    services.solve_plan(
        session,
        plan_id=plan.id,
        now=planned_at,
        # Iterations, not seconds, bound the search: the same plan however busy the machine.
        params=SolveParameters(time_limit_s=120, seed=1, iteration_limit=ITERATIONS),
    )

    built = build_problem(session, depot_id=depot_id, day=summary.delivery_day)
    stop = {s.id: i for i, s in enumerate(built.stops)}
    vehicle = {s.id: k for k, s in enumerate(built.shifts)}
    routes = [(vehicle[r.shift_id], [stop[v.stop.id] for v in r.visits]) for r in plan.routes]
    assert feasibility.violations(built.problem, routes) == []
    assert plan.stops_assigned + plan.stops_unassigned == summary.orders
    assert plan.stops_assigned >= 0.9 * summary.orders
    assert all(u.reason_code and u.message for u in plan.unassigned)


def test_a_wave_drafts_tomorrow_for_every_depot(committed_factory):
    """At 23:30 Moscow time on 24 Nov, 'tomorrow' is 25 Nov; the wave drafts, never publishes."""
    with session_scope(committed_factory) as s:
        summary = demo.load(s, now=datetime(2026, 11, 24, 12, tzinfo=UTC))

    plan_ids = jobs.planning_wave(
        committed_factory, time_limit_s=1, now=datetime(2026, 11, 24, 20, 30, tzinfo=UTC)
    )

    with session_scope(committed_factory) as s:
        (plan,) = [s.get(Plan, i) for i in plan_ids]
        assert plan.delivery_day == summary.delivery_day
        assert plan.status == PlanStatus.READY
        assert plan.published_at is None
