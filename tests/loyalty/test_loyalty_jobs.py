"""The nightly expiry job (real commits: it owns its transactions)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.customers.models import Customer
from app.db import session_scope
from loyalty import jobs, services
from loyalty.models import EntryKind, LedgerEntry
from tests.loyalty.conftest import T0


def test_expiry_job_is_safe_to_run_twice(committed_factory):
    factory = committed_factory
    with session_scope(factory) as s:
        ids = []
        for name in ("A", "B"):
            c = Customer(name=name)
            s.add(c)
            s.flush()
            ids.append(c.id)
            services.credit_bonus(
                s,
                customer_id=c.id,
                points=7,
                reason="Apology",
                source="case",
                now=T0,
                key=f"b:{c.id}",
            )
    later = T0 + timedelta(days=400)

    first = jobs.expire_points(factory, now=later)
    second = jobs.expire_points(factory, now=later)

    assert (first, second) == (2, 0)
    with session_scope(factory) as s:
        expired = s.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.kind == EntryKind.EXPIRY)
        )
        assert expired == 2
        assert [services.balance(s, customer_id=i) for i in ids] == [0, 0]
