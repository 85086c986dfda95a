"""The pre-trip inspection (C1): no route is reported on before its vehicle passed; a failed
safety item takes the vehicle out of service and its stops go to the rest of the fleet."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app import demo
from app.background.queue import InlineQueue
from app.background.tasks import runner
from app.db import session_scope
from app.errors import Conflict, ValidationFailed
from app.fleet import inspection
from app.fleet.models import Inspection, Shift, Vehicle
from app.orders.models import Order
from app.planning import flows, jobs, services
from app.planning.models import Plan
from app.planning.progress import Report, report_stop
from app.web.background import QUEUE_KEY
from tests.conftest import csrf_token, sign_in
from tests.planning.helpers import published, second_courier

ON_THE_DAY = datetime(2030, 1, 15, 4, 30, tzinfo=UTC)  # 07:30 in Moscow


def all_ok(vehicle: Vehicle, **problems: bool) -> dict[str, bool | None]:
    return {item.code: problems.get(item.code, True) for item in inspection.checklist(vehicle)}


def check(session, route, answers, **kwargs):  # type: ignore[no-untyped-def]
    return inspection.submit(
        session,
        shift_id=route.shift_id,
        courier_id=route.courier_id,
        answers=answers,
        at=ON_THE_DAY,
        now=ON_THE_DAY,
        **{"odometer_km": 48_210, **kwargs},
    )


def test_a_route_is_locked_until_its_vehicle_passed_its_check(session, day):
    plan = published(session, day, inspect=False)
    (route,) = plan.routes
    first = route.visits[0].stop

    with pytest.raises(Conflict, match="Check your vehicle first"):
        report_stop(session, stop_id=first.id, report=Report.ARRIVED, at=ON_THE_DAY)
    record = check(session, route, all_ok(route.vehicle))
    report_stop(session, stop_id=first.id, report=Report.ARRIVED, at=ON_THE_DAY)

    assert record.passed
    assert first.arrived_at == ON_THE_DAY


def test_every_item_must_be_answered_and_the_odometer_read(session, day):
    plan = published(session, day, inspect=False)
    (route,) = plan.routes
    answers = {**all_ok(route.vehicle), "brakes": None}

    with pytest.raises(ValidationFailed) as refused:
        check(session, route, answers, odometer_km=None)

    assert set(refused.value.errors) == {"brakes", "odometer_km"}
    assert session.scalars(select(Inspection)).all() == []


def test_the_odometer_cannot_go_back(session, day):
    plan = published(session, day, inspect=False)
    (route,) = plan.routes
    check(session, route, all_ok(route.vehicle, fuel=False), odometer_km=50_000)
    second = published(session, day, inspect=False)  # same shift: passed already
    assert check(session, second.routes[0], all_ok(route.vehicle)).odometer_km == 50_000


def test_a_check_sent_again_is_recorded_once_and_never_changes(session, day):
    plan = published(session, day, inspect=False)
    (route,) = plan.routes

    first = check(session, route, all_ok(route.vehicle), client_event_id="e-1")
    again = check(session, route, all_ok(route.vehicle, brakes=False), client_event_id="e-1")

    assert again.id == first.id
    assert again.passed
    assert len(session.scalars(select(Inspection)).all()) == 1
    first.notes = "changed later"
    with pytest.raises(ValueError, match="inspection is a record"):
        session.flush()


def test_a_vehicle_that_failed_cannot_pass_a_second_check(session, day):
    plan = published(session, day, inspect=False)
    (route,) = plan.routes
    failed = check(session, route, all_ok(route.vehicle, brakes=False))

    with pytest.raises(Conflict, match="is out of service"):
        check(session, route, all_ok(route.vehicle))

    assert not failed.passed
    assert inspection.passed_for(session, route.shift_id) is None


def test_a_small_problem_passes_and_is_noted(session, day):
    plan = published(session, day, inspect=False)
    (route,) = plan.routes

    record = check(session, route, all_ok(route.vehicle, fuel=False, cargo_area=False))

    assert (record.passed, record.failed_items) == (True, ["cargo_area", "fuel"])
    assert route.vehicle.in_service


def test_failed_brakes_leave_none_of_the_vehicles_stops_on_it(committed_factory):
    planned_at = datetime(2026, 11, 24, 19, tzinfo=UTC)
    morning = datetime(2026, 11, 25, 4, 40, tzinfo=UTC)  # 07:40 in Moscow, the day itself
    with session_scope(committed_factory) as s:
        summary = demo.load(s, now=datetime(2026, 11, 24, 12, tzinfo=UTC))
        depot_id = s.scalar(select(Order.depot_id).limit(1))
    first = jobs.run_planning(
        committed_factory,
        depot_id=depot_id,
        day=summary.delivery_day,
        time_limit_s=2,
        now=planned_at,
    )
    with session_scope(committed_factory) as s:
        flows.publish(s, plan_id=first, now=planned_at)
        route = max(s.get_one(Plan, first).routes, key=lambda r: len(r.visits))
        lost_vehicle, its_stops = route.vehicle_id, {v.stop.id for v in route.visits}
        record = inspection.submit(
            s,
            shift_id=route.shift_id,
            courier_id=route.courier_id,
            answers=all_ok(route.vehicle, brakes=False),
            odometer_km=1000,
            at=morning,
            now=morning,
        )
        assert not record.passed
        vehicle = s.get_one(Vehicle, lost_vehicle)
        assert not vehicle.in_service
        assert "failed the inspection" in vehicle.out_of_service_reason
        assert "brakes" in vehicle.out_of_service_reason

    second = jobs.replan_without_vehicle(
        committed_factory, depot_id=depot_id, day=summary.delivery_day, now=morning, time_limit_s=2
    )

    with session_scope(committed_factory) as s:
        plan = s.get_one(Plan, second)
        assert services.published_plan(s, depot_id=depot_id, day=summary.delivery_day) == plan
        assert lost_vehicle not in {r.vehicle_id for r in plan.routes}
        placed = {v.stop.id for r in plan.routes for v in r.visits}
        left = {u.stop.id: u for u in plan.unassigned}
        assert its_stops <= placed | set(left)
        assert all(left[i].message for i in its_stops & set(left))


@pytest.fixture
def on_the_phone(app, client, session, day, make_user, clock, session_factory):  # type: ignore[no-untyped-def]
    clock(ON_THE_DAY)
    app.extensions[QUEUE_KEY] = InlineQueue(runner(session_factory))
    app.config.update(PLANNING_TIME_LIMIT_S=1)
    plan = published(session, day, inspect=False)
    second_courier(session, day)
    person = make_user("courier")
    route = plan.routes[0]
    route.courier.user_id = person.id
    session.commit()
    sign_in(client, person)
    return plan


def send_check(client, route, **changes: str):  # type: ignore[no-untyped-def]
    page = client.get("/courier/").get_data(as_text=True)
    data = {f"item-{i.code}": "ok" for i in inspection.checklist(route.vehicle)}
    data.update({"odometer_km": "48210", "csrf_token": csrf_token(page), **changes})
    return client.post(
        f"/courier/shifts/{route.shift_id}/inspection", data=data, follow_redirects=True
    ).get_data(as_text=True)


def test_the_courier_checks_the_vehicle_and_the_route_opens(client, on_the_phone):
    route = on_the_phone.routes[0]
    locked = client.get("/courier/").get_data(as_text=True)
    assert 'data-testid="inspection"' in locked
    assert 'data-testid="route-stop"' not in locked

    shown = send_check(client, route)

    assert "Check passed; your route is open." in shown
    assert shown.count('data-testid="route-stop"') == 2


def test_an_unanswered_item_is_named_and_nothing_saved(client, session, on_the_phone):
    route = on_the_phone.routes[0]

    shown = send_check(client, route, **{"item-brakes": ""})

    assert "The check was not saved: answer every question (brakes)" in shown
    assert session.scalars(select(Inspection)).all() == []


def test_failed_brakes_tell_the_courier_and_the_dispatcher_what_happens_next(
    app, client, session, on_the_phone, make_user
):
    route = on_the_phone.routes[0]
    lost = route.vehicle_id

    shown = send_check(client, route, **{"item-brakes": "problem"})

    assert re.search(r"Do not drive \S+: it is out of service\.", shown)
    assert "Your stops are being given to other couriers" in shown
    desk = app.test_client()
    sign_in(desk, make_user("dispatcher"))
    board = desk.get("/dispatcher/?day=2030-01-15").get_data(as_text=True)
    assert 'data-testid="failed-inspection"' in board
    assert "failed its check" in board
    assert "brakes" in board
    session.expire_all()
    newest = session.scalar(select(Plan).order_by(Plan.version.desc()).limit(1))
    assert newest.published_at is not None
    assert lost not in {r.vehicle_id for r in newest.routes}
    assert sum(len(r.visits) for r in newest.routes) == 2


def test_a_courier_cannot_check_someone_elses_shift(client, session, on_the_phone, world):
    other = session.scalar(select(Shift).where(Shift.id != on_the_phone.routes[0].shift_id))
    page = client.get("/courier/").get_data(as_text=True)

    refused = client.post(
        f"/courier/shifts/{other.id}/inspection",
        data={"csrf_token": csrf_token(page)},
    )

    assert refused.status_code == 404
