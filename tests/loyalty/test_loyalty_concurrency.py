"""L2 on a real PostgreSQL server with real commits: many workers redeeming from one
account at once never overdraw it, retried requests never debit twice, and concurrent API
requests with one Idempotency-Key are applied once."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from app import migrate
from app.accounts import services as account_services
from app.customers.models import Customer
from app.db import is_lock_contention, make_engine, make_session_factory, session_scope
from app.errors import ValidationFailed
from loyalty import services
from loyalty.models import EntryKind, LedgerEntry, LoyaltyAccount
from tests.conftest import fresh_database_url, postgres_url_or_skip
from tests.loyalty.conftest import T0, assert_consistent

T = TypeVar("T")
WORKERS = 50
REDEMPTIONS = 100
START = 4_000


@pytest.fixture(scope="module")
def database_url() -> str:
    """A throwaway PostgreSQL database migrated to head, for real commits."""
    url = fresh_database_url(postgres_url_or_skip(), "concurrency")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="module")
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on that database, with a connection for every worker."""
    engine = make_engine(database_url, pool_size=WORKERS + 2, max_overflow=0)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.concurrency
@pytest.mark.slow
def test_concurrent_redemptions_never_overdraw(factory: sessionmaker[Session]) -> None:
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
        assert account is not None
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


MIXED_WORKERS = 8
MIXED_WRITES = 60


@pytest.mark.postgres
@pytest.mark.concurrency
@pytest.mark.slow
def test_concurrent_grants_and_debits_on_one_account_stay_exact(
    factory: sessionmaker[Session],
) -> None:
    """Bonuses, redemptions and staff debits race on one account (one-statement writes
    that lose the race fall back to the locked path): every point is accounted for, every
    grant's unused points are its points minus its allocations."""
    with session_scope(factory) as s:
        customer = Customer(name="Contended Customer")
        s.add(customer)
        s.flush()
        customer_id = customer.id
        services.credit_bonus(
            s, customer_id=customer_id, points=100, reason="Start", source="t", now=T0, key="m0"
        )

    def worker(w: int) -> int:
        rng = random.Random(w)
        moved = 0
        for n in range(MIXED_WRITES):
            key = f"m{w}:{n}"
            points = rng.randint(1, 9)
            try:
                with session_scope(factory) as s:
                    if n % 3 == 0:
                        services.credit_bonus(
                            s,
                            customer_id=customer_id,
                            points=points,
                            reason="Race",
                            source=key,
                            now=T0,
                            key=key,
                        )
                        moved += points
                    elif n % 3 == 1:
                        services.redeem(
                            s,
                            customer_id=customer_id,
                            order_id=w * 1000 + n,
                            order_ref=key,
                            order_total_minor=1_000_00,
                            points=points,
                            now=T0,
                            key=key,
                        )
                        moved -= points
                    else:
                        services.adjust(
                            s,
                            customer_id=customer_id,
                            points=-points,
                            reason="Race",
                            user_id=None,  # type: ignore[arg-type]
                            now=T0,
                            key=key,
                        )
                        moved -= points
            except ValidationFailed:
                continue
        return moved

    with ThreadPoolExecutor(MIXED_WORKERS) as pool:
        moved = sum(pool.map(worker, range(MIXED_WORKERS)))

    with session_scope(factory) as s:
        assert assert_consistent(s, customer_id) == 100 + moved


@pytest.mark.postgres
@pytest.mark.concurrency
def test_writes_for_different_customers_never_wait_for_each_other(
    factory: sessionmaker[Session],
) -> None:
    """While one transaction holds customer A's account, customer B's bonus and redemption
    go through at once; A's own bonus waits (and here gives up at its lock timeout, which
    shows the lock was really held)."""
    with session_scope(factory) as s:
        a, b = Customer(name="Customer A"), Customer(name="Customer B")
        s.add_all([a, b])
        s.flush()
        a_id, b_id = a.id, b.id
        for c in (a_id, b_id):
            services.credit_bonus(
                s, customer_id=c, points=50, reason="Start", source="t", now=T0, key=f"w{c}"
            )
    holder = factory()
    try:
        services.lock_account(holder, a_id)
        with session_scope(factory) as s:
            # Waiting for A's lock would fail here, not hang: the holder never lets go.
            s.execute(text("SET LOCAL lock_timeout = '2s'"))
            services.credit_bonus(
                s, customer_id=b_id, points=5, reason="B", source="t", now=T0, key="b-bonus"
            )
            services.redeem(
                s,
                customer_id=b_id,
                order_id=1,
                order_ref="RT-1",
                order_total_minor=1_000_00,
                points=20,
                now=T0,
                key="b-redeem",
            )
        with factory() as waiter:
            waiter.execute(text("SET LOCAL lock_timeout = '100ms'"))
            with pytest.raises(OperationalError) as waited:
                services.credit_bonus(
                    waiter, customer_id=a_id, points=5, reason="A", source="t", now=T0, key="a"
                )
        assert is_lock_contention(waited.value)
    finally:
        holder.rollback()
        holder.close()
    with session_scope(factory) as s:
        assert assert_consistent(s, b_id) == 35
        assert assert_consistent(s, a_id) == 50


SAME_KEY_CLIENTS = 16


@pytest.mark.postgres
@pytest.mark.concurrency
@pytest.mark.slow
def test_concurrent_requests_with_one_idempotency_key_apply_once(
    database_url: str, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """16 threads send one adjustment with one Idempotency-Key at the same moment: exactly
    one 201; every other answer is the stored entry marked as a replay (or 409, in
    progress); never a second 201, never a 500, and one ledger entry."""
    from app.web import create_app

    with session_scope(factory) as s:
        customer = Customer(name="Popular Customer")
        s.add(customer)
        account_services.create_user(
            s, email="agent@example.org", name="Agent", role="support", password="password-123"
        )
        s.flush()
        customer_id = customer.id
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "SESSION_FACTORY": factory,  # its engine is disposed with the module
            "INSTANCE_PATH": str(tmp_path),
            "GEOCODER": "none",
            "SCHEDULER_ENABLED": False,
        }
    )
    token = app.test_client().post(
        "/api/v1/auth/tokens", json={"email": "agent@example.org", "password": "password-123"}
    )
    assert token.status_code == 201, token.get_json()
    headers = {
        "Authorization": f"Bearer {token.get_json()['token']}",
        "Idempotency-Key": "one-key",
    }
    start = threading.Barrier(SAME_KEY_CLIENTS)

    def send(_: int) -> TestResponse:
        client = app.test_client()
        start.wait(30)
        return client.post(
            f"/api/v1/customers/{customer_id}/points/adjustments",
            json={"points": 7, "reason": "Sorry for the wait"},
            headers=headers,
        )

    with ThreadPoolExecutor(SAME_KEY_CLIENTS) as pool:
        replies = list(pool.map(send, range(SAME_KEY_CLIENTS)))

    statuses = Counter(r.status_code for r in replies)
    assert statuses[201] == 1, statuses
    first = next(r for r in replies if r.status_code == 201).get_json()
    for reply in replies:
        if reply.status_code == 200:
            assert reply.headers["Idempotent-Replayed"] == "true"
            assert reply.get_json()["id"] == first["id"]
        else:
            assert reply.status_code in (201, 409), reply.get_json()
    with session_scope(factory) as s:
        written = s.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.idempotency_key == f"api:{customer_id}:adjust:one-key")
        )
        account = s.get(LoyaltyAccount, customer_id)
    assert written == 1
    assert account is not None
    assert account.balance_points == 7


def test_a_lost_race_on_the_unique_key_is_answered_as_a_replay(
    client: FlaskClient,
    api_token: Callable[[str], dict[str, str]],
    customer: int,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should a second request with the same key get past the look-up and hit the unique
    index on the key, it answers with the first entry (200, replayed), not a 500."""
    headers = {**api_token("support"), "Idempotency-Key": "raced"}
    path = f"/api/v1/customers/{customer}/points/adjustments"
    body = {"points": 5, "reason": "Goodwill"}
    first = client.post(path, json=body, headers=headers)
    assert first.status_code == 201

    # The racing request's look-ups (the view's and the service's) miss the stored entry.
    monkeypatch.setattr(services, "applied", _blind_first_call(services.applied, False))
    monkeypatch.setattr(services, "_replayed", _blind_first_call(services._replayed, None))
    second = client.post(path, json=body, headers=headers)

    assert second.status_code == 200, second.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_json()["id"] == first.get_json()["id"]
    session.expire_all()
    account = session.get(LoyaltyAccount, customer)
    assert account is not None
    assert account.balance_points == 5


def _blind_first_call(real: Callable[..., T], blind: T) -> Callable[..., T]:
    """``real``, except that its first call answers ``blind``."""
    calls = iter([blind])

    def patched(*args: object, **kwargs: object) -> T:
        first = next(calls, _SEEN)
        return real(*args, **kwargs) if first is _SEEN else first  # type: ignore[return-value]

    return patched


_SEEN = object()
