"""What each audience's page shows."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select

from app import demo
from app.accounts.models import User
from app.customers.models import Customer
from tests import factories as f
from tests.conftest import Person, csrf_token, sign_in

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_dispatcher_sees_the_demo_day_by_window(client, session, login_as):
    summary = demo.load(session, now=NOW)
    session.commit()
    login_as("dispatcher")

    page = client.get(f"/dispatcher/?day={summary.delivery_day.isoformat()}")

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-testid="total-orders">{summary.orders}<' in text
    assert re.search(r'Couriers on shift <span class="badge bg-secondary"[^>]*>12</span>', text)
    assert "20:00–22:00" in text


def test_dispatcher_bad_day_is_explained(client, engine, login_as):
    login_as("dispatcher")

    page = client.get("/dispatcher/?day=tomorrow-ish").get_data(as_text=True)

    assert "is not a date like" in page


def test_courier_page_shows_only_their_own_shifts(client, session, world, make_user):
    person = make_user("courier")
    mine = f.CourierFactory(depot=world.depot, user_id=person.id, name="Ivan Mine")
    other = f.CourierFactory(depot=world.depot, name="Pyotr Other")
    van = f.VehicleFactory(depot=world.depot, registration="MINE01")
    f.ShiftFactory(
        courier=mine,
        vehicle=van,
        starts_at=datetime(2099, 1, 5, 5, tzinfo=UTC),
        ends_at=datetime(2099, 1, 5, 14, tzinfo=UTC),
    )
    f.ShiftFactory(
        courier=other,
        starts_at=datetime(2099, 1, 5, 5, tzinfo=UTC),
        ends_at=datetime(2099, 1, 5, 14, tzinfo=UTC),
    )
    session.commit()
    sign_in(client, person)

    page = client.get("/courier/").get_data(as_text=True)

    assert page.count('data-testid="shift"') == 0  # 2099 is beyond the two-week horizon
    assert "Ivan Mine" in page
    assert "Pyotr Other" not in page


def test_courier_sees_upcoming_shift_with_vehicle(client, session, world, make_user, clock):
    from datetime import timedelta

    clock(NOW)
    person = make_user("courier")
    mine = f.CourierFactory(depot=world.depot, user_id=person.id)
    van = f.VehicleFactory(depot=world.depot, registration="MINE02")
    soon = NOW + timedelta(days=1)
    f.ShiftFactory(courier=mine, vehicle=van, starts_at=soon, ends_at=soon + timedelta(hours=8))
    f.ShiftFactory(
        courier=f.CourierFactory(depot=world.depot),
        starts_at=soon,
        ends_at=soon + timedelta(hours=8),
    )
    session.commit()
    sign_in(client, person)

    page = client.get("/courier/").get_data(as_text=True)

    assert page.count('data-testid="shift"') == 1
    assert "Vehicle MINE02" in page


def test_portal_shows_the_customers_own_orders_with_next_step(client, session, make_user):
    summary = demo.load(session, now=NOW)
    session.commit()
    login = next(d for d in demo.LOGINS if d.role == "customer")
    user = session.scalar(select(User).where(User.email == login.email))
    customer = session.scalar(select(Customer).where(Customer.user_id == user.id))
    sign_in(client, Person(user.id, login.email, login.password, login.role))

    page = client.get("/portal/").get_data(as_text=True)

    own = customer_orders(session, customer.id)
    assert own, "the demo customer has orders"
    assert page.count('data-testid="order"') == len(own)
    assert all(o.number in page for o in own)
    assert "route the evening before" in page
    assert summary.delivery_day == date(2026, 11, 25)


def customer_orders(session, customer_id):  # type: ignore[no-untyped-def]
    from app.orders.models import Order

    return session.scalars(select(Order).where(Order.customer_id == customer_id)).all()


def test_support_finds_a_customer_and_sees_their_orders(client, session, world, login_as):
    login_as("support")

    found = client.get(f"/support/?q={world.customer.name.split()[1]}").get_data(as_text=True)
    detail = client.get(f"/support/customers/{world.customer.id}").get_data(as_text=True)
    missing = client.get("/support/customers/999999")

    assert world.customer.name in found
    assert world.address.line in detail
    assert missing.status_code == 404
    assert "nothing at this address" in missing.get_data(as_text=True)


def test_admin_adds_a_user_who_can_then_sign_in(client, session, login_as):
    login_as("admin")
    form = client.get("/admin/").get_data(as_text=True)

    response = client.post(
        "/admin/",
        data={
            "email": "New.Dispatcher@example.org",
            "name": "Nina",
            "role": "dispatcher",
            "password": "long-enough-1",
            "csrf_token": csrf_token(form),
        },
    )

    assert response.status_code == 302
    assert session.scalar(select(User).where(User.email == "new.dispatcher@example.org"))


def test_admin_form_explains_a_duplicate_email(client, session, login_as, make_user):
    make_user("support", email="taken@example.org")
    login_as("admin")
    form = client.get("/admin/").get_data(as_text=True)

    response = client.post(
        "/admin/",
        data={
            "email": "taken@example.org",
            "name": "Dup",
            "role": "support",
            "password": "long-enough-1",
            "csrf_token": csrf_token(form),
        },
    )

    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
