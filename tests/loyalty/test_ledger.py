"""The ledger's rules, on SQLite and PostgreSQL. Amounts are worked out in each docstring:
5 % of what was paid in money, 1 point = 1.00, at most 30 % of an order in points."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import services as account_services
from app.errors import Conflict, NotFound, ValidationFailed
from loyalty import services
from loyalty.models import EntryKind, LedgerEntry
from loyalty.policy import LoyaltyRules
from tests.loyalty.conftest import T0, assert_consistent

ORDER_TOTAL = 1_000_00  # 1,000.00


def earn(session, customer, order_id=1, total=ORDER_TOTAL, at=T0, **kw):  # type: ignore[no-untyped-def]
    return services.earn_for_delivery(
        session,
        customer_id=customer,
        order_id=order_id,
        order_ref=f"RT-{order_id}",
        order_total_minor=total,
        now=at,
        key=f"earn:{order_id}",
        **kw,
    )


def entries(session, customer):  # type: ignore[no-untyped-def]
    return session.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.customer_id == customer)
    )


def test_delivery_earns_five_percent_of_the_money_paid(session, customer):
    """1,000.00 paid -> 50 points, with the reason and a one-year expiry."""
    entry = earn(session, customer)

    assert (entry.kind, entry.points) == (EntryKind.EARN, 50)
    assert entry.reason == "50 points for order RT-1, delivered"
    assert entry.expires_at == T0 + timedelta(days=365)
    assert assert_consistent(session, customer) == 50


def test_points_paid_part_earns_nothing(session, customer):
    """Order 2 of 1,000.00 paid 30 points (30.00): earns 5 % of 970.00 = 48 (48.5 down)."""
    earn(session, customer)
    services.redeem(
        session,
        customer_id=customer,
        order_id=2,
        order_ref="RT-2",
        order_total_minor=ORDER_TOTAL,
        points=30,
        now=T0,
        key="redeem:2",
    )

    second = earn(session, customer, order_id=2)

    assert second.points == 48
    assert assert_consistent(session, customer) == 50 - 30 + 48


def test_redeem_is_capped_at_30_percent_and_by_the_balance(session, customer):
    """A 100.00 order may take 30 points; the customer holds 50."""
    earn(session, customer)
    before = entries(session, customer)

    with pytest.raises(ValidationFailed) as too_much:
        services.redeem(
            session,
            customer_id=customer,
            order_id=2,
            order_ref="RT-2",
            order_total_minor=100_00,
            points=31,
            now=T0,
            key="r1",
        )
    with pytest.raises(ValidationFailed) as more_than_held:
        services.redeem(
            session,
            customer_id=customer,
            order_id=3,
            order_ref="RT-3",
            order_total_minor=10_000_00,
            points=51,
            now=T0,
            key="r2",
        )

    assert "At most 30 points" in " ".join(too_much.value.errors["points"])
    assert "You have 50 points available" in " ".join(more_than_held.value.errors["points"])
    assert entries(session, customer) == before
    quote = services.quote(session, customer_id=customer, order_total_minor=100_00, now=T0)
    assert (quote.available_points, quote.cap_points, quote.usable_points) == (50, 30, 30)


def test_partial_refunds_reverse_exactly_what_the_order_earned(session, customer):
    """Earned 50 on 1,000.00. Refund 400.00: 20 back. Refund to 1,000.00: 30 more, 50 in all.
    It also redeemed 30 points on a second order: refunding half of that returns 15."""
    earn(session, customer)
    earn(session, customer, order_id=9, total=3_000_00)  # 150 more, to have points to spend
    services.redeem(
        session,
        customer_id=customer,
        order_id=2,
        order_ref="RT-2",
        order_total_minor=ORDER_TOTAL,
        points=30,
        now=T0,
        key="redeem:2",
    )

    first = services.refund_order(
        session,
        customer_id=customer,
        order_id=1,
        order_ref="RT-1",
        order_total_minor=ORDER_TOTAL,
        refunded_total_minor=400_00,
        now=T0,
        key="refund:1:a",
    )
    second = services.refund_order(
        session,
        customer_id=customer,
        order_id=1,
        order_ref="RT-1",
        order_total_minor=ORDER_TOTAL,
        refunded_total_minor=ORDER_TOTAL,
        now=T0,
        key="refund:1:b",
    )
    back = services.refund_order(
        session,
        customer_id=customer,
        order_id=2,
        order_ref="RT-2",
        order_total_minor=ORDER_TOTAL,
        refunded_total_minor=500_00,
        now=T0,
        key="refund:2",
    )

    assert [(e.kind, e.points) for e in first] == [(EntryKind.REVERSAL, -20)]
    assert [(e.kind, e.points) for e in second] == [(EntryKind.REVERSAL, -30)]
    assert [(e.kind, e.points) for e in back] == [(EntryKind.RETURN, 15)]
    assert assert_consistent(session, customer) == 50 + 150 - 30 - 50 + 15


def test_expiry_takes_the_oldest_grants_first_and_runs_once(session, customer):
    """10 points on day 0 and 10 on day 100; 5 redeemed on day 200 come from the day-0 grant;
    on day 366 its remaining 5 expire; a second run writes nothing."""
    rules = LoyaltyRules()
    services.credit_bonus(
        session,
        customer_id=customer,
        points=10,
        reason="Sorry for the delay",
        source="case:1",
        now=T0,
        key="b1",
        rules=rules,
    )
    services.credit_bonus(
        session,
        customer_id=customer,
        points=10,
        reason="Sorry again",
        source="case:2",
        now=T0 + timedelta(days=100),
        key="b2",
        rules=rules,
    )
    services.redeem(
        session,
        customer_id=customer,
        order_id=5,
        order_ref="RT-5",
        order_total_minor=ORDER_TOTAL,
        points=5,
        now=T0 + timedelta(days=200),
        key="r5",
    )

    expired = services.expire(session, customer_id=customer, now=T0 + timedelta(days=366))
    again = services.expire(session, customer_id=customer, now=T0 + timedelta(days=366))

    assert [(e.kind, e.points) for e in expired] == [(EntryKind.EXPIRY, -5)]
    assert "Sorry for the delay" in expired[0].reason
    assert again == []
    assert assert_consistent(session, customer) == 10


def test_replayed_key_returns_the_first_result_and_writes_nothing(session, customer):
    first = services.credit_bonus(
        session,
        customer_id=customer,
        points=25,
        reason="Broken kettle",
        source="return:7",
        now=T0,
        key="return:7:bonus",
    )
    count = entries(session, customer)

    replay = services.credit_bonus(
        session,
        customer_id=customer,
        points=25,
        reason="Broken kettle",
        source="return:7",
        now=T0 + timedelta(hours=1),
        key="return:7:bonus",
    )

    assert replay.id == first.id
    assert entries(session, customer) == count
    with pytest.raises(Conflict):
        services.credit_bonus(
            session,
            customer_id=customer,
            points=99,
            reason="Broken kettle",
            source="return:7",
            now=T0,
            key="return:7:bonus",
        )
    assert assert_consistent(session, customer) == 25


@pytest.mark.parametrize("policy", ["write_off", "debt"])
def test_refund_of_points_already_spent_follows_the_policy(session, customer, policy):
    """Earned 50, spent 30 on another order (20 left), then order 1 is fully refunded: 50
    should come back but only 20 are there. write_off forgives 30; debt takes 30 from the
    next 48 points earned (and the balance never goes below zero)."""
    rules = LoyaltyRules(shortfall_policy=policy)
    earn(session, customer, rules=rules)
    services.redeem(
        session,
        customer_id=customer,
        order_id=2,
        order_ref="RT-2",
        order_total_minor=ORDER_TOTAL,
        points=30,
        now=T0,
        key="redeem:2",
        rules=rules,
    )

    (reversal,) = services.refund_order(
        session,
        customer_id=customer,
        order_id=1,
        order_ref="RT-1",
        order_total_minor=ORDER_TOTAL,
        refunded_total_minor=ORDER_TOTAL,
        now=T0,
        key="refund:1",
        rules=rules,
    )
    assert (reversal.points, reversal.shortfall_points) == (-20, 30)
    assert assert_consistent(session, customer) == 0

    earn(session, customer, order_id=3, rules=rules)  # 50 more

    expected = 50 if policy == "write_off" else 20
    assert assert_consistent(session, customer) == expected
    (again,) = services.refund_order(
        session,
        customer_id=customer,
        order_id=1,
        order_ref="RT-1",
        order_total_minor=ORDER_TOTAL,
        refunded_total_minor=ORDER_TOTAL,
        now=T0,
        key="refund:1",
        rules=rules,
    )
    assert again.id == reversal.id  # the same refund replayed takes nothing more


def test_adjustment_needs_a_reason_and_cannot_overdraw(session, customer):
    earn(session, customer)

    with pytest.raises(ValidationFailed) as no_reason:
        services.adjust(
            session, customer_id=customer, points=5, reason="  ", user_id=None, now=T0, key="a1"
        )
    with pytest.raises(ValidationFailed) as overdraw:
        services.adjust(
            session,
            customer_id=customer,
            points=-51,
            reason="Fraud check",
            user_id=None,
            now=T0,
            key="a2",
        )
    entry = services.adjust(
        session,
        customer_id=customer,
        points=-10,
        reason="Double credit on 3 Jan",
        user_id=None,
        now=T0,
        key="a3",
    )

    assert "reason" in no_reason.value.errors
    assert "only 50 points" in overdraw.value.errors["points"][0]
    assert entry.reason == "Double credit on 3 Jan"
    assert assert_consistent(session, customer) == 40


def test_unknown_customer(session):
    with pytest.raises(NotFound):
        services.credit_bonus(
            session, customer_id=999_999, points=5, reason="x", source="s", now=T0, key="k"
        )


def test_points_unlock_on_delivery_not_when_the_order_is_placed(session, world):
    """A 3,499.00 kettle order shows 174 pending points; delivery turns them into an entry."""
    from app.orders import services as order_services
    from app.orders.models import Order, OrderStatus

    order = Order(
        number="RT-KETTLE1",
        customer=world.customer,
        address=world.address,
        depot=world.depot,
        delivery_day=T0.date(),
        window_start_at=T0,
        window_end_at=T0 + timedelta(hours=2),
        total_minor=3_499_00,
    )
    session.add(order)
    session.flush()
    rules = LoyaltyRules()

    assert order_services.pending_points(session, customer_id=world.customer.id, rules=rules) == 174
    assert services.balance(session, customer_id=world.customer.id) == 0

    order_services.mark_delivered(session, order_id=order.id, now=T0, rules=rules)
    order_services.mark_delivered(session, order_id=order.id, now=T0, rules=rules)  # retried

    assert order.status == OrderStatus.DELIVERED
    assert order_services.pending_points(session, customer_id=world.customer.id, rules=rules) == 0
    assert assert_consistent(session, world.customer.id) == 174


def test_adjustment_beyond_the_cap_is_refused_and_records_its_actor(session, customer):
    """``max_points`` bounds an adjustment either way; the entry keeps who made it."""
    agent = account_services.create_user(
        session, email="agent@example.org", name="Agent", role="support", password="pw-123456"
    )
    earn(session, customer)

    with pytest.raises(ValidationFailed) as too_many:
        services.adjust(
            session,
            customer_id=customer,
            points=-101,
            reason="Fraud",
            user_id=agent.id,
            now=T0,
            key="cap1",
            max_points=100,
        )
    entry = services.adjust(
        session,
        customer_id=customer,
        points=100,
        reason="Goodwill",
        user_id=agent.id,
        now=T0,
        key="cap2",
        max_points=100,
    )

    assert "at most 100 points" in too_many.value.errors["points"][0]
    assert entry.created_by_user_id == agent.id
