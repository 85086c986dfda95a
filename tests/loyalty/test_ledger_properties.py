"""Property: whatever the customer, the shop and the calendar do, the balance never goes
below zero and always equals the sum of the entries (and of the grants' unused points)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import ValidationFailed
from loyalty import services
from loyalty.policy import LoyaltyRules
from tests.loyalty.conftest import T0, assert_consistent

ORDER_IDS = st.integers(1, 4)

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), ORDER_IDS),
        st.tuples(st.just("redeem"), ORDER_IDS, st.integers(1, 120)),
        st.tuples(st.just("bonus"), st.integers(1, 60)),
        st.tuples(st.just("refund"), ORDER_IDS, st.integers(1, 100)),
        st.tuples(st.just("adjust"), st.integers(-60, 60).filter(bool)),
        st.tuples(st.just("expire"), st.integers(0, 400)),
    ),
    max_size=30,
)


def total(order_id: int) -> int:
    return order_id * 700_00  # each order has one value, so replays match


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS, policy=st.sampled_from(["write_off", "debt"]))
def test_any_sequence_keeps_the_ledger_consistent(session, customer, operations, policy):
    rules = LoyaltyRules(shortfall_policy=policy)
    example = session.begin_nested()
    now = T0
    try:
        for i, op in enumerate(operations):
            try:
                if op[0] == "earn":
                    services.earn_for_delivery(
                        session,
                        customer_id=customer,
                        order_id=op[1],
                        order_ref=f"RT-{op[1]}",
                        order_total_minor=total(op[1]),
                        now=now,
                        key=f"earn:{op[1]}",
                        rules=rules,
                    )
                elif op[0] == "redeem":
                    services.redeem(
                        session,
                        customer_id=customer,
                        order_id=op[1],
                        order_ref=f"RT-{op[1]}",
                        order_total_minor=total(op[1]),
                        points=op[2],
                        now=now,
                        key=f"r:{i}",
                        rules=rules,
                    )
                elif op[0] == "bonus":
                    services.credit_bonus(
                        session,
                        customer_id=customer,
                        points=op[1],
                        reason="Apology",
                        source=f"case:{i}",
                        now=now,
                        key=f"b:{i}",
                        rules=rules,
                    )
                elif op[0] == "refund":
                    services.refund_order(
                        session,
                        customer_id=customer,
                        order_id=op[1],
                        order_ref=f"RT-{op[1]}",
                        order_total_minor=total(op[1]),
                        refunded_total_minor=total(op[1]) * op[2] // 100,
                        now=now,
                        key=f"refund:{op[1]}:{op[2]}",
                        rules=rules,
                    )
                elif op[0] == "adjust":
                    services.adjust(
                        session,
                        customer_id=customer,
                        points=op[1],
                        reason="Correction",
                        user_id=None,
                        now=now,
                        key=f"a:{i}",
                        rules=rules,
                    )
                else:
                    now += timedelta(days=op[1])
                    services.expire(session, customer_id=customer, now=now, rules=rules)
            except ValidationFailed:
                pass  # refused requests (over the cap, more than held) must change nothing
            assert_consistent(session, customer)
    finally:
        example.rollback()
