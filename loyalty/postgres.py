"""One-statement ledger writes for PostgreSQL: the common cases for about the price of a bare
INSERT.

Each statement chains data-modifying CTEs, so the entry, its unused-grant row or its
allocations, and the account's running figures are written in one round trip. It writes
all of that or nothing, and answers ``None`` when it wrote nothing; the caller then takes
the reference path in ``loyalty.services``, which locks the account and decides in Python
(replays, refusals with their reasons, points due to expire, a race with another write for
the same customer). Both paths write the same rows: tests/loyalty/test_fast_path.py runs
the same operations through each and compares the ledgers.

Why a debit may decide on a snapshot without taking the lock first: every write bumps the
account's version, and the statement's own UPDATE of the account row (which waits for any
writer holding it, then looks at the row as that writer left it) applies only if the
version is still the one the snapshot read. So the grants, the order's earlier redemptions
and the idempotency key it checked are exactly the ones in force when it writes.

The statements are plain SQL run on the connection's DBAPI cursor, and their results plain
rows rather than ORM loads: when a whole write takes about a millisecond, compiling and
mapping an ORM statement cost as much as the database's own work, and SQLAlchemy's
execution layer about 150 microseconds of CPU more (on the benchmark's machine). Errors
are re-raised as SQLAlchemy's; the price is that engine events and ``echo`` do not see
these two statements.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.db import UTCDateTime
from app.messages import SaidText

# The column types' own conversions, applied by hand since the statements go to the driver
# as they are (psycopg's placeholders).
_WHEN = UTCDateTime()
_SAID = SaidText()

# A grant needs nothing but an account to credit and an unused idempotency key. The entry
# is inserted before the account row is locked (the UPDATE reads from it): a concurrent
# request with the same key meets the locks in the same order, so they cannot deadlock.
_GRANT = """
WITH entry AS (
    INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, reason, source,
        idempotency_key, request_fingerprint, created_by_user_id, created_at, expires_at)
    SELECT customer_id, %(kind)s, %(points)s, 0, %(reason)s, %(source)s,
        %(idempotency_key)s, %(request_fingerprint)s, CAST(%(created_by_user_id)s AS integer),
        %(created_at)s, %(expires_at)s
    FROM loyalty_accounts WHERE customer_id = %(customer_id)s
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, customer_id, points, created_at, expires_at
), unused AS (
    INSERT INTO ledger_unused_grants (entry_id, customer_id, expires_at, unused_points)
    SELECT id, customer_id, expires_at, points FROM entry
), account AS (
    UPDATE loyalty_accounts AS a
    SET balance_points = a.balance_points + entry.points, version = a.version + 1,
        updated_at = entry.created_at
    FROM entry WHERE a.customer_id = entry.customer_id
    RETURNING a.owed_points
)
SELECT entry.id, account.owed_points FROM entry CROSS JOIN account
"""

# A debit takes its points from the open grants oldest-expiring first (one point at least
# from each, hence the LIMIT). It writes only when the reference path would write the same:
# the key is unused, nothing is due to expire, the open grants hold enough, the cap (when
# given: on one order's redemptions) allows it, and no other write came between the
# snapshot and the account row's lock.
#
# psycopg prepares a statement it runs often; PostgreSQL then keeps one generic plan
# instead of planning every run (which costs as much as running this one) only if that plan
# looks no dearer than a custom one. Hence the literal 'redeem' and the index on (source,
# customer_id, kind): the cap's look-up is then estimated at a few rows whatever the
# parameters are.
_DEBIT = """
WITH open_grants AS (
    SELECT entry_id, unused_points,
        SUM(unused_points) OVER (ORDER BY expires_at, entry_id) AS through_points
    FROM ledger_unused_grants
    WHERE customer_id = %(customer_id)s AND expires_at > %(created_at)s
    ORDER BY expires_at, entry_id
    LIMIT %(debit_points)s
), account AS (
    UPDATE loyalty_accounts AS a
    SET balance_points = a.balance_points - %(debit_points)s, version = a.version + 1,
        updated_at = %(created_at)s
    WHERE a.customer_id = %(customer_id)s
        -- The version as the statement's snapshot saw it; the row is the latest one.
        AND a.version = (SELECT version FROM loyalty_accounts WHERE customer_id = %(customer_id)s)
        AND %(debit_points)s <= (SELECT COALESCE(MAX(through_points), 0) FROM open_grants)
        AND (CAST(%(cap_points)s AS integer) IS NULL
            OR %(debit_points)s <= CAST(%(cap_points)s AS integer) + (
                SELECT COALESCE(SUM(points), 0) FROM ledger_entries
                WHERE source = %(source)s AND customer_id = %(customer_id)s
                    AND kind = 'redeem'))
        AND NOT EXISTS (
            SELECT FROM ledger_unused_grants
            WHERE customer_id = %(customer_id)s AND expires_at <= %(created_at)s)
        AND NOT EXISTS (
            SELECT FROM ledger_entries WHERE idempotency_key = %(idempotency_key)s)
    RETURNING a.customer_id
), entry AS (
    INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, reason, source,
        idempotency_key, request_fingerprint, created_by_user_id, created_at, expires_at)
    SELECT customer_id, %(kind)s, -%(debit_points)s, 0, %(reason)s, %(source)s,
        %(idempotency_key)s, %(request_fingerprint)s, CAST(%(created_by_user_id)s AS integer),
        %(created_at)s, NULL
    FROM account
    RETURNING id
), taken AS (
    SELECT entry.id AS debit_entry_id, g.entry_id AS grant_entry_id, g.unused_points,
        LEAST(g.unused_points, %(debit_points)s - (g.through_points - g.unused_points)) AS points
    FROM entry CROSS JOIN open_grants AS g
    WHERE g.through_points - g.unused_points < %(debit_points)s
), allocated AS (
    INSERT INTO ledger_allocations (debit_entry_id, grant_entry_id, points)
    SELECT debit_entry_id, grant_entry_id, points FROM taken
), spent AS (
    UPDATE ledger_unused_grants AS g SET unused_points = g.unused_points - taken.points
    FROM taken WHERE g.entry_id = taken.grant_entry_id AND taken.points < taken.unused_points
), used_up AS (
    DELETE FROM ledger_unused_grants AS g USING taken
    WHERE g.entry_id = taken.grant_entry_id AND taken.points = taken.unused_points
)
SELECT entry.id FROM entry
"""


def _run(session: Session, statement: str, row: dict[str, Any], **more: Any) -> Any:
    """The first row ``statement`` returns for entry ``row``, or None."""
    session.flush()  # the statement bypasses the ORM; rows it needs may still be pending
    connection = session.connection()
    dialect = connection.dialect
    params = {
        **row,
        "reason": _SAID.process_bind_param(row["reason"], dialect),
        "created_at": _WHEN.process_bind_param(row["created_at"], dialect),
        "expires_at": _WHEN.process_bind_param(row["expires_at"], dialect),
        **more,
    }
    return _execute(connection, statement, params)


def _execute(connection: Connection, statement: str, params: dict[str, Any]) -> Any:
    """Run ``statement`` on the connection's own DBAPI cursor (psycopg); errors come out as
    SQLAlchemy raises them, so callers and the app's error handlers see no difference."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement, params)
        return cursor.fetchone()
    except connection.dialect.loaded_dbapi.Error as error:
        gone = connection.dialect.is_disconnect(error, connection.connection, cursor)
        if gone:
            connection.invalidate(error)
        raise DBAPIError.instance(
            statement,
            params,
            error,
            connection.dialect.loaded_dbapi.Error,
            connection_invalidated=gone,
            dialect=connection.dialect,
        ) from error
    finally:
        cursor.close()


def grant(session: Session, row: dict[str, Any]) -> tuple[int, int] | None:
    """Write grant entry ``row`` (columns of ledger_entries) with its unused-grant row and
    credit the account: the entry's id and the points the customer still owes, or None if
    nothing was written (no account yet, or the key was used already)."""
    found = _run(session, _GRANT, row)
    return None if found is None else (found[0], found[1])


def debit(session: Session, row: dict[str, Any], *, cap_points: int | None) -> int | None:
    """Write debit entry ``row`` allocated to the oldest-expiring open grants and debit the
    account: the entry's id, or None if the reference path must decide."""
    found = _run(session, _DEBIT, row, debit_points=-row["points"], cap_points=cap_points)
    return None if found is None else int(found[0])
