"""The customer's points page and the support agent's ledger with adjustments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from loyalty import services
from loyalty.models import LedgerEntry
from tests.conftest import csrf_token, sign_in


def test_customer_sees_balance_reasons_and_what_expires_soon(
    client, session, world, make_user, clock
):
    person = make_user("customer")
    world.customer.user_id = person.id
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    clock(now)
    services.credit_bonus(
        session,
        customer_id=world.customer.id,
        points=40,
        reason="Sorry about the broken kettle",
        source="return:1",
        now=now - timedelta(days=350),
        key="b1",
    )
    services.credit_bonus(
        session,
        customer_id=world.customer.id,
        points=15,
        reason="Late delivery on 3 Nov",
        source="delivery:9",
        now=now,
        key="b2",
    )
    session.commit()
    sign_in(client, person)

    page = client.get("/portal/points").get_data(as_text=True)

    assert 'data-testid="balance">55 points' in page
    assert "Sorry about the broken kettle" in page
    assert "Late delivery on 3 Nov" in page
    assert page.count('data-testid="entry"') == 2
    assert "40 points expire on" in page  # granted 350 days ago, a one-year lifetime


def test_support_adjusts_with_a_reason_and_a_double_submit_counts_once(
    client, session, world, login_as
):
    login_as("support")
    url = f"/support/customers/{world.customer.id}/points"
    form = client.get(url).get_data(as_text=True)
    token = csrf_token(form)
    one_time = form.split('name="token" type="hidden" value="')[1].split('"')[0]
    data = {
        "points": "25",
        "reason": "Courier damaged the box",
        "csrf_token": token,
        "token": one_time,
    }

    first = client.post(url, data=data)
    second = client.post(url, data=data)

    assert (first.status_code, second.status_code) == (302, 302)
    entries = session.scalar(
        select(func.count())
        .select_from(LedgerEntry)
        .where(LedgerEntry.customer_id == world.customer.id)
    )
    assert entries == 1
    assert "Courier damaged the box" in client.get(url).get_data(as_text=True)


def test_support_adjustment_without_reason_is_explained(client, session, world, login_as):
    login_as("support")
    url = f"/support/customers/{world.customer.id}/points"
    form = client.get(url).get_data(as_text=True)

    response = client.post(
        url, data={"points": "-5", "reason": "", "csrf_token": csrf_token(form), "token": "t"}
    )

    assert response.status_code == 400
    assert "This field is required" in response.get_data(as_text=True)


def test_customer_cannot_open_the_support_ledger(client, world, login_as):
    login_as("customer")

    assert client.get(f"/support/customers/{world.customer.id}/points").status_code == 403
