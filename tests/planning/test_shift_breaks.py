"""A long shift's break is planned (R3): the route takes it inside its span, the stored
version says when, and the independent checker agrees nothing is late."""

from __future__ import annotations

from datetime import UTC, datetime

from app.fleet import services as fleet_services
from app.fleet.models import Shift
from app.planning import services
from app.planning.problem import plan_problem, route_specs, shift_breaks
from routing import feasibility
from tests.planning.conftest import DAY
from tests.planning.helpers import NOW, QUICK, late_order


def test_a_long_shift_takes_its_break_inside_its_span(session, day):
    (shift,) = session.query(Shift).all()
    # 07:00-23:00 in Moscow: the default break is 30 min between 14:00 and 16:00 local.
    breaks = fleet_services.default_break(shift.starts_at, shift.ends_at)
    shift.break_minutes, shift.break_from_at, shift.break_until_at = breaks
    for n, hour in enumerate((10, 11, 12, 13)):  # 13:00-17:00 local: around the break
        late_order(session, day, f"RT-AFTERNOON-{n}", 55.74 + n / 100, 37.6, hour_utc=hour)

    plan = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=NOW)
    services.solve_plan(session, plan_id=plan.id, now=NOW, params=QUICK)

    (route,) = plan.routes
    assert route.break_start_at is not None
    assert route.break_end_at is not None
    assert shift.break_from_at <= route.break_start_at
    assert route.break_end_at <= shift.break_until_at
    assert (route.break_end_at - route.break_start_at).total_seconds() == 30 * 60
    problem = plan_problem(session, plan)
    assert problem.problem.vehicles[0].breaks[0].duration_s == 30 * 60
    routes = [(spec.vehicle, spec.stops) for spec in route_specs(problem, plan)]
    assert feasibility.violations(problem.problem, routes) == []


def test_a_break_whose_time_has_passed_is_not_asked_of_a_route_under_way(session, day):
    (shift,) = session.query(Shift).all()
    shift.break_minutes = 30
    shift.break_from_at = datetime(2030, 1, 15, 5, tzinfo=UTC)
    shift.break_until_at = datetime(2030, 1, 15, 6, tzinfo=UTC)
    epoch = datetime(2030, 1, 14, 21, tzinfo=UTC)  # local midnight in Moscow
    assert shift_breaks(shift, epoch, free_from_s=0) != ()
    # Free again only at 09:00 local (06:00 UTC): the break had to start by 05:30 UTC.
    assert shift_breaks(shift, epoch, free_from_s=12 * 3600) == ()
