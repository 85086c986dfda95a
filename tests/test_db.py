"""The SQLite settings the embedded mode relies on: WAL, a busy timeout, foreign keys, and
BEGIN IMMEDIATE for units of work that write (reads stay deferred)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.db import SQLITE_BUSY_TIMEOUT_MS, is_lock_contention, make_engine, make_session_factory


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty SQLite file with one table."""
    engine = make_engine(f"sqlite:///{tmp_path / 'settings.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
    yield engine
    engine.dispose()


def begins(engine: Engine) -> list[str]:
    """A live list of the BEGIN statements the engine sends."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if statement.startswith("BEGIN"):
            seen.append(statement)

    return seen


def test_connections_use_wal_busy_timeout_and_foreign_keys(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_writing_sessions_begin_immediate_and_reading_ones_deferred(
    sqlite_engine: Engine,
) -> None:
    seen = begins(sqlite_engine)

    with make_session_factory(sqlite_engine)() as s:
        s.execute(text("INSERT INTO t (n) VALUES (1)"))
        s.commit()
    with make_session_factory(sqlite_engine, writes=False)() as s:
        s.execute(text("SELECT count(*) FROM t")).scalar()
        s.commit()

    assert seen == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]


def test_savepoint_sessions_on_a_connection_still_roll_back(sqlite_engine: Engine) -> None:
    """The test suite's pattern: the app's commits release SAVEPOINTs inside an outer
    transaction that is rolled back afterwards."""
    conn = sqlite_engine.connect()
    outer = conn.begin()
    factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
    with factory() as s:
        s.execute(text("INSERT INTO t (n) VALUES (7)"))
        s.commit()
    with factory() as s:
        s.execute(text("INSERT INTO t (n) VALUES (8)"))
        s.rollback()
    assert conn.execute(text("SELECT n FROM t")).scalars().all() == [7]
    outer.rollback()
    conn.close()

    with sqlite_engine.connect() as fresh:
        assert fresh.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_a_second_writer_waits_for_the_first_instead_of_failing(sqlite_engine: Engine) -> None:
    """Two read-then-write units of work at once: with deferred transactions the second
    one's lock upgrade fails at once ("database is locked"); with BEGIN IMMEDIATE it waits
    for the first commit and then sees it."""
    factory = make_session_factory(sqlite_engine)
    first_has_lock = threading.Event()
    release = threading.Event()
    results: list[int] = []

    def first() -> None:
        with factory() as s:
            s.execute(text("INSERT INTO t (n) VALUES (1)"))
            first_has_lock.set()
            release.wait(5)
            s.commit()

    def second() -> None:
        with factory() as s:
            total = s.execute(text("SELECT coalesce(sum(n), 0) FROM t")).scalar_one()
            s.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": total + 1})
            s.commit()
            results.append(total)

    one = threading.Thread(target=first)
    one.start()
    assert first_has_lock.wait(5)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.2)
    assert two.is_alive(), "the second writer should be waiting for the lock"
    release.set()
    one.join(5)
    two.join(5)

    assert results == [1]  # it read after the first commit, not a stale snapshot


def test_a_deferred_read_then_write_fails_on_contention(sqlite_engine: Engine) -> None:
    """Why writers must not use deferred transactions: SQLite does not wait on a lock
    upgrade, busy timeout or not."""
    reader = make_session_factory(sqlite_engine, writes=False)()
    writer = make_session_factory(sqlite_engine)()
    try:
        reader.execute(text("SELECT count(*) FROM t")).scalar()
        writer.execute(text("INSERT INTO t (n) VALUES (1)"))
        with pytest.raises(OperationalError) as raised:
            reader.execute(text("INSERT INTO t (n) VALUES (2)"))
        assert is_lock_contention(raised.value)
    finally:
        writer.rollback()
        reader.rollback()
        writer.close()
        reader.close()


def test_lock_contention_is_told_apart_from_other_database_errors() -> None:
    class PgError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5

    assert is_lock_contention(OperationalError("BEGIN IMMEDIATE", {}, busy))
    assert is_lock_contention(OperationalError("SELECT", {}, PgError("40001")))  # serialization
    assert is_lock_contention(OperationalError("SELECT", {}, PgError("55P03")))  # lock timeout
    assert is_lock_contention(OperationalError("SELECT", {}, PgError("40P01")))  # deadlock
    assert not is_lock_contention(OperationalError("SELECT", {}, PgError("08006")))
    unique = sqlite3.IntegrityError("UNIQUE constraint failed")
    assert not is_lock_contention(IntegrityError("INSERT", {}, unique))


def test_reads_do_not_wait_for_a_writer(sqlite_engine: Engine) -> None:
    """With WAL a reader sees the last commit while a writer holds the lock."""
    writer = make_session_factory(sqlite_engine)()
    reader: Session = make_session_factory(sqlite_engine, writes=False)()
    try:
        writer.execute(text("INSERT INTO t (n) VALUES (1)"))
        assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
    finally:
        writer.rollback()
        reader.rollback()
        writer.close()
        reader.close()
