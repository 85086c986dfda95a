"""On PostgreSQL a grant and a debit are one statement each (loyalty.postgres); everything
else takes the reference path. Whatever happens, both paths must leave the same ledger."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, event, select
from sqlalchemy.orm import Session, aliased

import app.models  # noqa: F401  (complete metadata)
from app import migrate
from app.customers.models import Customer
from app.db import make_engine
from loyalty import postgres, services
from loyalty.models import EntryKind, LedgerAllocation, LedgerEntry, LoyaltyAccount, UnusedGrant
from loyalty.policy import LoyaltyRules, ShortfallPolicy
from tests.conftest import fresh_database_url, postgres_url_or_skip
from tests.loyalty.conftest import T0, assert_consistent
from tests.loyalty.operations import OPERATIONS, perform

ENTRY_IDS = re.compile(r"\b(grant|expiry):(\d+)\b")
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    """A throwaway PostgreSQL database migrated to head: the one-statement writes exist there
    alone."""
    url = fresh_database_url(postgres_url_or_skip(), "fast_path")
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_connection(pg_engine: Engine) -> Iterator[Connection]:
    """A connection whose transaction is rolled back after the test."""
    connection = pg_engine.connect()
    outer = connection.begin()
    yield connection
    outer.rollback()
    connection.close()


@pytest.fixture
def pg_session(pg_connection: Connection) -> Iterator[Session]:
    """A session inside that transaction; its commits release SAVEPOINTs."""
    session = Session(
        bind=pg_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()


@pytest.fixture
def customer(pg_session: Session) -> int:
    """A customer without a loyalty account yet."""
    c = Customer(name="Olga Sokolova")
    pg_session.add(c)
    pg_session.flush()
    return c.id


def ledger(session: Session, customer_id: int) -> dict[str, Any]:
    """Everything the writes stored for one customer, with entry ids (which differ from run
    to run) replaced by the idempotency keys of the entries they name."""
    session.flush()
    keys = dict(
        session.execute(
            select(LedgerEntry.id, LedgerEntry.idempotency_key).where(
                LedgerEntry.customer_id == customer_id
            )
        ).all()
    )

    def named(text: str | None) -> str | None:
        return None if text is None else ENTRY_IDS.sub(lambda m: f"{m[1]}:{keys[int(m[2])]}", text)

    entries = [
        (
            named(e.idempotency_key),
            e.kind,
            e.points,
            e.shortfall_points,
            str(e.reason),
            getattr(e.reason, "msgid", None),
            named(e.source),
            # An expiry's fingerprint hashes its grant's id.
            None if e.kind == EntryKind.EXPIRY else e.request_fingerprint,
            e.created_by_user_id,
            e.created_at,
            e.expires_at,
        )
        for e in session.execute(
            select(*LedgerEntry.__table__.c)
            .where(LedgerEntry.customer_id == customer_id)
            .order_by(LedgerEntry.id)
        )
    ]
    debit, grant = aliased(LedgerEntry), aliased(LedgerEntry)
    allocations = sorted(
        (named(d), named(g), points)
        for d, g, points in session.execute(
            select(debit.idempotency_key, grant.idempotency_key, LedgerAllocation.points)
            .join(debit, debit.id == LedgerAllocation.debit_entry_id)
            .join(grant, grant.id == LedgerAllocation.grant_entry_id)
            .where(debit.customer_id == customer_id)
        )
    )
    unused = {
        keys[entry_id]: points
        for entry_id, points in session.execute(
            select(UnusedGrant.entry_id, UnusedGrant.unused_points).where(
                UnusedGrant.customer_id == customer_id
            )
        )
    }
    account = session.execute(
        select(
            LoyaltyAccount.balance_points,
            LoyaltyAccount.owed_points,
            LoyaltyAccount.written_off_points,
            LoyaltyAccount.version,
        ).where(LoyaltyAccount.customer_id == customer_id)
    ).one_or_none()
    return {
        "entries": entries,
        "allocations": allocations,
        "unused": unused,
        "account": None if account is None else tuple(account),
    }


def run(
    session: Session, customer: int, operations: list[Any], rules: LoyaltyRules, *, fast: bool
) -> dict[str, Any]:
    """The ledger after ``operations``, through both paths or the reference path alone; the
    session is left as it was."""
    reference_only = mock.patch.object(services, "_fast", return_value=False)
    attempt = session.begin_nested()
    try:
        with contextlib.nullcontext() if fast else reference_only:
            perform(session, customer, operations, now=T0, rules=rules)
        assert_consistent(session, customer)
        return ledger(session, customer)
    finally:
        attempt.rollback()


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS, policy=st.sampled_from(["write_off", "debt"]))
def test_both_paths_write_the_same_ledger(
    pg_session: Session, customer: int, operations: list[Any], policy: ShortfallPolicy
) -> None:
    """Entries, allocations, unused points and the account's figures (version included)
    match, whatever the customer, the shop and the calendar do."""
    rules = LoyaltyRules(shortfall_policy=policy)

    reference = run(pg_session, customer, operations, rules, fast=False)
    both = run(pg_session, customer, operations, rules, fast=True)

    assert both == reference


def test_scenario_through_both_paths(pg_session: Session, customer: int) -> None:
    """Every branch of the one-statement writes, worked out (an order's value is 200.00 per
    id: it earns 10 points per id and takes at most 60 per id):

    a first bonus of 10 (no account yet: reference path); order 1 earns 10; 15 pay for order
    2 (a debit across two grants); its retry replays it; 120 more are refused; staff take
    3; refunding order 1 takes back 10 with 2 left, so 8 are owed, and a bonus of 40 settles
    them. 100 days on, a bonus of 7 expires later than what is left of the 40: 35 for order 1
    take 32 and 3, oldest-expiring first. After a bonus of 60, 26 more for order 1 break its
    cap (25 left) and exactly 25 do not. 400 days on (nothing ran the expiry) and after a new
    bonus of 7, the last 39 of the 60 are due: a redemption of 5 goes down the reference
    path, which writes the expiry first. The next one, of 1, is one statement again; then
    a positive adjustment, and the first bonus retried."""
    operations = [
        ("bonus", 10),
        ("earn", 1),
        ("redeem", 2, 15),
        ("retry", 2),
        ("redeem", 3, 120),
        ("adjust", -3),
        ("refund", 1, 100),
        ("bonus", 40),
        ("expire", 100),
        ("bonus", 7),
        ("redeem", 1, 35),
        ("bonus", 60),
        ("redeem", 1, 26),
        ("redeem", 1, 25),
        ("wait", 400),
        ("bonus", 7),
        ("redeem", 4, 5),
        ("redeem", 4, 1),
        ("adjust", 9),
        ("retry", 0),
    ]
    rules = LoyaltyRules(shortfall_policy="debt")

    reference = run(pg_session, customer, operations, rules, fast=False)
    both = run(pg_session, customer, operations, rules, fast=True)

    assert both == reference
    assert [(e[1], e[2], e[3]) for e in both["entries"]] == [
        ("bonus", 10, 0),
        ("earn", 10, 0),
        ("redeem", -15, 0),
        ("adjustment", -3, 0),
        ("reversal", -2, 8),
        ("bonus", 40, 0),
        ("settlement", -8, 0),
        ("bonus", 7, 0),
        ("redeem", -35, 0),
        ("bonus", 60, 0),
        ("redeem", -25, 0),
        ("bonus", 7, 0),
        ("expiry", -39, 0),
        ("redeem", -5, 0),
        ("redeem", -1, 0),
        ("adjustment", 9, 0),
    ]
    assert ("r:10", "b:7", 32) in both["allocations"]
    assert ("r:10", "b:9", 3) in both["allocations"]
    assert both["account"][:3] == (10, 0, 0)


@pytest.fixture
def statements(pg_connection: Connection, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL statements the test's session sends from now on (savepoints left out): through
    SQLAlchemy, and the one-statement writes on the DBAPI cursor."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            sent.append(statement.lstrip())

    def execute(connection: Connection, statement: str, params: dict[str, Any]) -> Any:
        sent.append(statement.lstrip())
        return real_execute(connection, statement, params)

    real_execute = postgres._execute
    monkeypatch.setattr(postgres, "_execute", execute)
    event.listen(pg_connection, "before_cursor_execute", record)
    yield sent
    event.remove(pg_connection, "before_cursor_execute", record)


def test_a_bonus_and_a_redemption_are_one_statement_each(
    pg_session: Session, customer: int, statements: list[str]
) -> None:
    """Once the account exists, neither reads anything first nor writes row by row."""
    services.credit_bonus(
        pg_session, customer_id=customer, points=50, reason="Welcome", source="s", now=T0, key="b1"
    )
    statements.clear()

    bonus = services.credit_bonus(
        pg_session, customer_id=customer, points=5, reason="Sorry", source="c:1", now=T0, key="b2"
    )
    paid = services.redeem(
        pg_session,
        customer_id=customer,
        order_id=7,
        order_ref="RT-7",
        order_total_minor=1_000_00,
        points=30,
        now=T0,
        key="r1",
    )

    assert len(statements) == 2, statements
    assert (bonus.kind, bonus.points, bonus.reason) == (EntryKind.BONUS, 5, "Sorry")
    assert (paid.kind, paid.points, paid.reason) == (
        EntryKind.REDEEM,
        -30,
        "30 points paid for order RT-7",
    )
    assert services.balance(pg_session, customer_id=customer) == 25
    assert assert_consistent(pg_session, customer) == 25
