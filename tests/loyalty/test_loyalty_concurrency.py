"""L2 on a real PostgreSQL server with real commits: many workers redeeming from one
account at once never overdraw it, and retried requests never debit twice."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import migrate
from app.customers.models import Customer
from app.db import make_engine, make_session_factory, session_scope
from app.errors import ValidationFailed
from loyalty import services
from loyalty.models import EntryKind, LedgerEntry, LoyaltyAccount
from tests.conftest import fresh_database_url, postgres_url_or_skip
from tests.loyalty.conftest import T0

pytestmark = [pytest.mark.postgres, pytest.mark.concurrency, pytest.mark.slow]

WORKERS = 50
REDEMPTIONS = 100
START = 4_000


@pytest.fixture(scope="module")
def factory():  # type: ignore[no-untyped-def]
    url = fresh_database_url(postgres_url_or_skip(), "concurrency")
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=WORKERS + 2, max_overflow=0)
    yield make_session_factory(engine)
    engine.dispose()


def test_concurrent_redemptions_never_overdraw(factory):
    with session_scope(factory) as s:
        customer = Customer(name="Busy Customer")
        s.add(customer)
        s.flush()
        customer_id = customer.id
        services.credit_bonus(
            s,
            customer_id=customer_id,
            points=START,
            reason="Welcome",
            source="test",
            now=T0,
            key="start",
        )

    def worker(w: int) -> list[int]:
        rng = random.Random(w)
        spent = []
        for n in range(REDEMPTIONS):
            points = rng.randint(1, 3)
            key = f"w{w}:{n}"
            for _attempt in range(2 if n % 10 == 0 else 1):  # every 10th request is retried
                try:
                    with session_scope(factory) as s:
                        entry = services.redeem(
                            s,
                            customer_id=customer_id,
                            order_id=w * 1000 + n,
                            order_ref=key,
                            order_total_minor=1_000_00,
                            points=points,
                            now=T0 + timedelta(minutes=1),
                            key=key,
                        )
                        entry_id = entry.id
                except ValidationFailed:
                    break
                if _attempt == 0:
                    spent.append((entry_id, points))
        return [p for _, p in spent]

    with ThreadPoolExecutor(WORKERS) as pool:
        spent = [p for result in pool.map(worker, range(WORKERS)) for p in result]

    with session_scope(factory) as s:
        account = s.get(LoyaltyAccount, customer_id)
        total = s.scalar(
            select(func.sum(LedgerEntry.points)).where(LedgerEntry.customer_id == customer_id)
        )
        redeemed = s.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.customer_id == customer_id, LedgerEntry.kind == EntryKind.REDEEM)
        )
    demand = WORKERS * REDEMPTIONS * 2  # about 10,000 points wanted; 4,000 exist
    assert demand > START
    assert account.balance_points >= 0
    assert account.balance_points == total == START - sum(spent)
    assert redeemed == len(spent)  # retries wrote nothing more
    assert account.balance_points < 3  # the account was drained, not left untouched
