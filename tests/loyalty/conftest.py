from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.customers.models import Customer
from loyalty.models import LedgerAllocation, LedgerEntry, LoyaltyAccount, UnusedGrant

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def customer(session) -> int:  # type: ignore[no-untyped-def]
    c = Customer(name="Olga Sokolova")
    session.add(c)
    session.flush()
    return c.id


def assert_consistent(session: Session, customer_id: int) -> int:
    """Cached balance == sum of entries == sum of unused grant points, and never negative;
    the unused points kept for each grant are its points minus its allocations."""
    session.flush()
    account = session.get(LoyaltyAccount, customer_id)
    cached = account.balance_points if account else 0
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.customer_id == customer_id
        )
    )
    used = (
        select(
            LedgerAllocation.grant_entry_id,
            func.sum(LedgerAllocation.points).label("points"),
        )
        .group_by(LedgerAllocation.grant_entry_id)
        .subquery()
    )
    grants = session.execute(
        select(LedgerEntry.id, LedgerEntry.points - func.coalesce(used.c.points, 0))
        .outerjoin(used, used.c.grant_entry_id == LedgerEntry.id)
        .where(LedgerEntry.customer_id == customer_id, LedgerEntry.expires_at.is_not(None))
    ).all()
    kept = session.execute(
        select(UnusedGrant.entry_id, UnusedGrant.unused_points).where(
            UnusedGrant.customer_id == customer_id
        )
    ).all()
    assert all(unused >= 0 for _, unused in grants)
    assert dict(kept) == {grant_id: unused for grant_id, unused in grants if unused > 0}
    assert cached == total == sum(unused for _, unused in grants)
    assert cached >= 0
    return cached
