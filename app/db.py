"""Database foundations shared by every domain package: no Flask here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC on every backend.

    SQLite has no time zones and hands back naive values; this type refuses naive input and
    always returns aware UTC datetimes, so code never compares naive with aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Roundtrip stores timezone-aware times only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# SQLite: how long a connection waits for another one's lock before giving up (SQLite's own
# busy handler retries with back-off until then), and the execution option that makes a
# transaction start with BEGIN IMMEDIATE.
SQLITE_BUSY_TIMEOUT_MS = 10_000
BEGIN_OPTION = "roundtrip_begin"
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
# PostgreSQL: serialization failure, deadlock, lock_timeout / NOWAIT.
CONTENTION_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys, WAL, a busy timeout, and BEGIN under our control.

    pysqlite's own transaction handling breaks SAVEPOINTs and ignores foreign keys; take
    control of BEGIN ourselves (SQLAlchemy docs, "Serializable isolation / Savepoints").
    WAL lets readers go on while one writer writes. A deferred transaction that reads and
    then writes fails at once when another writer got there first (SQLite does not call the
    busy handler on a lock upgrade), so transactions that will write begin IMMEDIATE: they
    take the write lock first, waiting for it up to the busy timeout.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Persistent in the file; a no-op for in-memory databases (they answer "memory").
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def for_writes(engine: Engine) -> Engine:
    """The same engine (same pool) whose SQLite transactions begin IMMEDIATE."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})


def is_lock_contention(error: BaseException) -> bool:
    """True when the database refused because of other transactions' locks (SQLite busy or
    locked, PostgreSQL serialization failure, deadlock or lock timeout): trying again later
    can succeed, so this is overload, not a bug."""
    orig = getattr(error, "orig", error)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
    if getattr(orig, "sqlstate", None) in CONTENTION_SQLSTATES:
        return True
    message = str(orig).lower()
    return "database is locked" in message or "database table is locked" in message


def is_unreachable(error: BaseException) -> bool:
    """True when the database could not be used at all (restarting, down, connection lost):
    the request did nothing and may simply be tried again shortly."""
    if getattr(error, "connection_invalidated", False):
        return True
    orig = getattr(error, "orig", error)
    # psycopg's OperationalError covers a server that is shutting down, starting up or gone
    # (SQLSTATE class 08 connection exceptions and 57P0x operator intervention).
    state = getattr(orig, "sqlstate", None) or ""
    if state.startswith("08") or state.startswith("57P"):
        return True
    return type(orig).__name__ == "OperationalError" and type(orig).__module__.startswith("psycopg")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings Roundtrip relies on for each backend."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def make_session_factory(engine: Engine, *, writes: bool = True) -> sessionmaker[Session]:
    """Sessions for units of work; ``writes=False`` for ones that only read (on SQLite they
    begin deferred and so never wait for, or hold, the write lock)."""
    # Foreign keys resolve by table name: every model must be registered before the first
    # session. The database core imports no domain module; each process's entry point
    # (app.web.database, app.worker, app.scheduler, migrations, tests) imports app.models.
    return sessionmaker(bind=for_writes(engine) if writes else engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work for jobs and CLI commands: commit once at the end, or roll back."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def serialize(session: Session, namespace: int, key: int) -> None:
    """Make the transactions that call this with the same ``namespace`` and ``key`` run one
    after another from here to their end, for a check-then-write with no row to lock (a
    slot's last place). PostgreSQL: a transaction-level advisory lock. SQLite: its writers
    already run one at a time (BEGIN IMMEDIATE), and a deferred one that read before another
    wrote fails rather than writes on a stale read."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
            {"namespace": namespace, "key": key},
        )
