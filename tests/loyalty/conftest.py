from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.customers.models import Customer
from loyalty.models import LedgerAllocation, LedgerEntry, LoyaltyAccount

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def customer(session) -> int:  # type: ignore[no-untyped-def]
    c = Customer(name="Olga Sokolova")
    session.add(c)
    session.flush()
    return c.id


def assert_consistent(session, customer_id: int) -> int:  # type: ignore[no-untyped-def]
    """Cached balance == sum of entries == sum of unused grant points, and never negative."""
    session.flush()
    account = session.get(LoyaltyAccount, customer_id)
    cached = account.balance_points if account else 0
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.customer_id == customer_id
        )
    )
    granted = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.customer_id == customer_id, LedgerEntry.expires_at.is_not(None)
        )
    )
    used = session.scalar(
        select(func.coalesce(func.sum(LedgerAllocation.points), 0))
        .join(LedgerEntry, LedgerEntry.id == LedgerAllocation.grant_entry_id)
        .where(LedgerEntry.customer_id == customer_id)
    )
    assert cached == total == granted - used
    assert cached >= 0
    return cached
