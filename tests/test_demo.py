"""`roundtrip demo`: a realistic Moscow day, loaded once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import demo
from app.accounts import services as account_services
from app.customers.models import Address
from app.fleet.models import Courier, Shift, Vehicle
from app.orders.models import Order

NOW = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # 23:00 in Moscow, late evening
MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def loaded(session):  # type: ignore[no-untyped-def]
    summary = demo.load(session, now=NOW)
    session.commit()
    return summary


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


def test_demo_day_is_tomorrow_in_moscow_with_about_300_orders(session, loaded):
    assert loaded.created
    assert loaded.delivery_day == date(2026, 11, 25)
    orders = session.scalars(select(Order)).all()
    assert 280 <= len(orders) <= 320
    assert {o.delivery_day for o in orders} == {date(2026, 11, 25)}
    starts = sorted(o.window_start_at.astimezone(MOSCOW).hour for o in orders)
    ends = sorted(o.window_end_at.astimezone(MOSCOW).hour for o in orders)
    assert (starts[0], ends[-1]) == (8, 23)
    assert all(o.items and o.total_minor > 0 for o in orders)


def test_twelve_couriers_each_with_a_vehicle_and_a_shift(session, loaded):
    assert count(session, Courier) == 12
    assert count(session, Vehicle) == 12
    shifts = session.scalars(select(Shift)).all()
    assert len(shifts) == 12
    assert len({s.vehicle_id for s in shifts}) == 12
    assert all(s.ends_at - s.starts_at <= timedelta(hours=10) for s in shifts)


def test_addresses_are_spread_over_moscow(session, loaded):
    addresses = session.scalars(select(Address)).all()
    assert all(55.55 <= a.lat <= 55.92 and 37.35 <= a.lon <= 37.87 for a in addresses)
    spread_lat = max(a.lat for a in addresses) - min(a.lat for a in addresses)
    spread_lon = max(a.lon for a in addresses) - min(a.lon for a in addresses)
    assert spread_lat > 0.2
    assert spread_lon > 0.3


def test_every_demo_login_signs_in_with_its_role(session, loaded):
    for login in demo.LOGINS:
        user = account_services.authenticate(session, email=login.email, password=login.password)
        assert user is not None, login.email
        assert user.role == login.role


def test_second_run_adds_nothing(session, loaded):
    before = [count(session, m) for m in (Order, Courier, Shift, Address)]

    again = demo.load(session, now=NOW)
    session.commit()

    assert not again.created
    assert [count(session, m) for m in (Order, Courier, Shift, Address)] == before


def test_landing_page_shows_the_demo_logins(client, loaded):
    page = client.get("/").get_data(as_text=True)

    assert "Demo logins" in page
    for login in demo.LOGINS:
        assert login.email in page
        assert login.password in page


def test_landing_page_shows_no_logins_without_demo_data(client, engine):
    assert "Demo logins" not in client.get("/").get_data(as_text=True)


def test_demo_customer_has_welcome_points(session, loaded):
    from app.customers.models import Customer
    from loyalty import services as loyalty_services

    login = next(d for d in demo.LOGINS if d.role == "customer")
    customer = session.scalar(select(Customer).where(Customer.email == login.email))
    assert loyalty_services.balance(session, customer_id=customer.id) == 150


@pytest.mark.parametrize("login", demo.LOGINS, ids=[d.role for d in demo.LOGINS])
def test_each_demo_login_lands_on_its_roles_page(client, loaded, login):
    from tests.conftest import Person, sign_in

    landing = {
        "admin": "/admin/",
        "dispatcher": "/dispatcher/",
        "support": "/support/",
        "courier": "/courier/",
        "customer": "/portal/",
    }

    response = sign_in(client, Person(0, login.email, login.password, login.role))

    assert response.status_code == 302
    assert response.headers["Location"] == landing[login.role]
    assert client.get(landing[login.role]).status_code == 200


def test_the_demo_holds_today_under_way_beside_tomorrow(session):
    """Loaded at 13:00 in Moscow: today is published, its vehicles checked, the stops due by
    now reported, and one courier running late puts a stop at risk."""
    from app.fleet.models import Inspection
    from app.planning.board import plan_board
    from app.planning.models import Plan, Stop

    at_one = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    summary = demo.load(session, now=at_one, today=True)
    session.commit()

    today = date(2026, 11, 24)
    plan = session.scalar(select(Plan).where(Plan.delivery_day == today))
    assert plan.published_at is not None
    assert summary.delivery_day == today + timedelta(days=1)
    days = {o.delivery_day for o in session.scalars(select(Order))}
    # Today, tomorrow, and the demo customer's kettle delivered two days ago (to try a return).
    assert days == {today - timedelta(days=2), today, summary.delivery_day}
    kettle = session.get(Order, summary.kettle_order_id)
    assert (kettle.status, kettle.items[0].product.sku) == ("delivered", "KET-200")
    morning_shifts = {r.shift_id for r in plan.routes if r.shift.starts_at <= at_one}
    checked = {i.shift_id for i in session.scalars(select(Inspection)) if i.passed}
    assert morning_shifts
    assert morning_shifts <= checked
    reported = session.scalars(select(Stop).where(Stop.completed_at.is_not(None))).all()
    assert len(reported) >= 10
    assert all(s.completed_at <= at_one for s in reported)
    assert any(s.outcome == "failed" and s.failure_reason == "not_home" for s in reported)
    board = plan_board(session, plan.id, at_one)
    assert board.at_risk >= 1
