"""Random sequences of what customers, the shop and the calendar do to a ledger (hypothesis),
shared by the property test and the fast-path test."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from loyalty import services
from loyalty.policy import LoyaltyRules

ORDER_IDS = st.integers(1, 4)

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), ORDER_IDS),
        st.tuples(st.just("redeem"), ORDER_IDS, st.integers(1, 120)),
        st.tuples(st.just("bonus"), st.integers(1, 60)),
        st.tuples(st.just("refund"), ORDER_IDS, st.integers(1, 100)),
        st.tuples(st.just("adjust"), st.integers(-60, 60).filter(bool)),
        st.tuples(st.just("expire"), st.integers(0, 400)),
        # Time passes and nothing runs the expiry: the next debit finds points due.
        st.tuples(st.just("wait"), st.integers(0, 400)),
        # The same request again, e.g. a client retrying: replays, or conflicts with a key.
        st.tuples(st.just("retry"), st.integers(0, 29)),
    ),
    max_size=30,
)


def total(order_id: int) -> int:
    """Each order has one value, so replays match: 200.00 per id, which earns 10 points per
    id and takes at most 60 (small enough for the cap to bind often)."""
    return order_id * 200_00


def perform(
    session: Session,
    customer: int,
    operations: list[tuple[Any, ...]],
    *,
    now: datetime,
    rules: LoyaltyRules,
    after_each: Any = None,
) -> None:
    """Apply ``operations`` in order; a refused request (over the cap, more than held) must
    change nothing. ``after_each(session)`` runs after every operation."""
    done: list[tuple[int, tuple[Any, ...]]] = []
    for i, op in enumerate(operations):
        if op[0] == "retry":
            if not done:
                continue
            i, op = done[op[1] % len(done)]
        elif op[0] not in ("expire", "wait"):
            done.append((i, op))
        with contextlib.suppress(ValidationFailed):
            now = _one(session, customer, i, op, now=now, rules=rules)
        if after_each is not None:
            after_each(session)


def _one(
    session: Session,
    customer: int,
    i: int,
    op: tuple[Any, ...],
    *,
    now: datetime,
    rules: LoyaltyRules,
) -> datetime:
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
            user_id=None,  # type: ignore[arg-type]
            now=now,
            key=f"a:{i}",
            rules=rules,
        )
    elif op[0] == "wait":
        now += timedelta(days=op[1])
    else:
        now += timedelta(days=op[1])
        services.expire(session, customer_id=customer, now=now, rules=rules)
    return now
