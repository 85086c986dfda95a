"""Loyalty over the API: customers see their own points; writes need an Idempotency-Key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.orders.models import Order
from loyalty import services
from loyalty.models import LedgerEntry
from tests.factories import AddressFactory

PROBLEM = "application/problem+json"


@pytest.fixture
def member(session, world, make_user, client, clock):  # type: ignore[no-untyped-def]
    """The world's customer signed up as a user, with 100 points and one 1,000.00 order,
    the day before its delivery."""
    now = datetime(2030, 1, 14, 12, tzinfo=UTC)
    clock(now)
    person = make_user("customer")
    world.customer.user_id = person.id
    order = Order(
        number="RT-LOYAL01",
        customer=world.customer,
        address=world.address,
        depot=world.depot,
        delivery_day=datetime(2030, 1, 15, tzinfo=UTC).date(),
        window_start_at=datetime(2030, 1, 15, 5, tzinfo=UTC),
        window_end_at=datetime(2030, 1, 15, 7, tzinfo=UTC),
        total_minor=1_000_00,
    )
    session.add(order)
    services.credit_bonus(
        session,
        customer_id=world.customer.id,
        points=100,
        reason="Welcome to Roundtrip",
        source="signup",
        now=now,
        key="welcome",
    )
    session.commit()
    token = client.post(
        "/api/v1/auth/tokens", json={"email": person.email, "password": person.password}
    )
    return {"Authorization": f"Bearer {token.get_json()['token']}"}, world.customer.id, order.id


def count_entries(session) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count()).select_from(LedgerEntry))


def test_customer_sees_balance_and_history_with_reasons(client, member):
    headers, customer_id, _ = member

    balance = client.get(f"/api/v1/customers/{customer_id}/points", headers=headers)
    history = client.get(f"/api/v1/customers/{customer_id}/points/history", headers=headers)

    assert balance.get_json()["balance_points"] == 100
    assert balance.get_json()["available_points"] == 100
    (entry,) = history.get_json()["items"]
    assert (entry["kind"], entry["points"], entry["reason"]) == (
        "bonus",
        100,
        "Welcome to Roundtrip",
    )


def test_customer_cannot_see_someone_elses_points(client, member, session):
    headers, _, _ = member
    other = AddressFactory().customer  # factories are bound to the session by `world`
    session.commit()

    response = client.get(f"/api/v1/customers/{other.id}/points", headers=headers)

    assert response.status_code == 404
    assert response.mimetype == PROBLEM


def test_quote_caps_at_30_percent(client, member):
    headers, customer_id, _ = member

    quote = client.get(
        f"/api/v1/customers/{customer_id}/points/quote?order_total_minor=10000", headers=headers
    ).get_json()

    assert (quote["cap_points"], quote["usable_points"], quote["usable_minor"]) == (30, 30, 3000)


def test_redeem_needs_an_idempotency_key_and_replays_safely(client, member, session):
    headers, customer_id, order_id = member
    url = f"/api/v1/customers/{customer_id}/points/redemptions"
    body = {"order_id": order_id, "points": 40}
    before = count_entries(session)

    missing = client.post(url, json=body, headers=headers)
    first = client.post(url, json=body, headers={**headers, "Idempotency-Key": "abc-1"})
    replay = client.post(url, json=body, headers={**headers, "Idempotency-Key": "abc-1"})
    reused = client.post(
        url, json={**body, "points": 41}, headers={**headers, "Idempotency-Key": "abc-1"}
    )

    assert missing.status_code == 400
    assert "Idempotency-Key" in missing.get_json()["detail"]
    assert first.status_code == 201
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json()["id"] == first.get_json()["id"]
    assert reused.status_code == 409
    assert count_entries(session) == before + 1
    balance = client.get(f"/api/v1/customers/{customer_id}/points", headers=headers)
    assert balance.get_json()["balance_points"] == 60


def test_redeem_over_the_cap_names_the_field(client, member, session):
    headers, customer_id, order_id = member
    before = count_entries(session)

    response = client.post(
        f"/api/v1/customers/{customer_id}/points/redemptions",
        json={"order_id": order_id, "points": 301},
        headers={**headers, "Idempotency-Key": "k"},
    )

    assert response.status_code == 422
    assert "At most 300 points" in " ".join(response.get_json()["errors"]["points"])
    assert count_entries(session) == before


def test_staff_adjust_needs_a_reason_and_customers_may_not(client, member, api_token):
    headers, customer_id, _ = member
    url = f"/api/v1/customers/{customer_id}/points/adjustments"
    support = {**api_token("support"), "Idempotency-Key": "adj-1"}

    by_customer = client.post(
        url, json={"points": 5, "reason": "me"}, headers={**headers, "Idempotency-Key": "x"}
    )
    no_reason = client.post(url, json={"points": 5, "reason": " "}, headers=support)
    done = client.post(
        url, json={"points": -20, "reason": "Duplicate welcome bonus"}, headers=support
    )

    assert by_customer.status_code == 403
    assert no_reason.status_code == 422
    assert "reason" in no_reason.get_json()["errors"]
    assert done.status_code == 201
    assert done.get_json()["reason"] == "Duplicate welcome bonus"


def test_staff_adjust_is_capped_and_large_ones_need_confirm(client, member, api_token, session):
    """Default cap 10,000 points either way; above 1,000 the body must say "confirm": true.
    The entry records who made it."""
    _, customer_id, _ = member
    url = f"/api/v1/customers/{customer_id}/points/adjustments"
    support = api_token("support")
    before = count_entries(session)

    def post(key: str, **body: object):  # type: ignore[no-untyped-def]
        return client.post(
            url,
            json={"reason": "Goodwill", **body},
            headers={**support, "Idempotency-Key": key},
        )

    over_cap = post("c1", points=10_001, confirm=True)
    unconfirmed = post("c2", points=5_000)
    too_big_int = post("c3", points=2**40, confirm=True)
    fractional = post("c4", points=1.5)
    confirmed = post("c5", points=5_000, confirm=True)

    assert over_cap.status_code == 422
    assert "at most 10,000 points" in over_cap.get_json()["errors"]["points"][0]
    assert unconfirmed.status_code == 422
    assert "confirm" in unconfirmed.get_json()["errors"]
    assert too_big_int.status_code == 422
    assert "points" in too_big_int.get_json()["errors"]
    assert fractional.status_code == 422
    assert confirmed.status_code == 201
    assert count_entries(session) == before + 1
    entry = session.get(LedgerEntry, confirmed.get_json()["id"])
    assert entry is not None
    assert entry.created_by_user_id is not None


def test_adjustment_limits_come_from_the_configuration(client, app, member, api_token):
    _, customer_id, _ = member
    app.config.update(ADJUSTMENT_MAX_POINTS=50, ADJUSTMENT_CONFIRM_POINTS=10)
    headers = {**api_token("support"), "Idempotency-Key": "cfg-1"}
    url = f"/api/v1/customers/{customer_id}/points/adjustments"

    over = client.post(url, json={"points": 51, "reason": "x", "confirm": True}, headers=headers)
    unconfirmed = client.post(url, json={"points": 11, "reason": "x"}, headers=headers)

    assert over.status_code == 422
    assert "at most 50 points" in over.get_json()["errors"]["points"][0]
    assert "confirm" in unconfirmed.get_json()["errors"]
