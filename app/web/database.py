"""One SQLAlchemy session per request; the view commits, teardown closes (and rolls back).

Requests that may write (POST, PUT, PATCH, DELETE) get sessions whose SQLite transactions
begin IMMEDIATE, so they queue for the write lock up front instead of failing half-way;
GET, HEAD and OPTIONS only read, and their transactions begin deferred (with WAL they never
wait for a writer). Jobs and CLI commands use the writing factory.

A read that still meets lock contention (say a token's occasional last-used write: SQLite
cannot wait for the write lock inside a deferred transaction) is run once more, this time
beginning IMMEDIATE, so it queues for the lock like any writer; a read is safe to repeat.
Writes are not repeated: they already waited for the lock up to the busy timeout. What is
still refused becomes a 503 with Retry-After (app.web.errors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

import app.models  # noqa: F401  (every table registered before the first session)
from app.db import is_lock_contention, make_engine, make_session_factory

EXTENSION_KEY = "roundtrip.session_factory"
READ_EXTENSION_KEY = "roundtrip.read_session_factory"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    factory = app.config.get("SESSION_FACTORY")
    read_factory = factory
    if factory is None:
        engine = make_engine(app.config["DATABASE_URL"])
        factory = make_session_factory(engine)
        read_factory = make_session_factory(engine, writes=False)
    app.extensions[EXTENSION_KEY] = factory
    app.extensions[READ_EXTENSION_KEY] = read_factory
    app.teardown_appcontext(_close_session)
    app.dispatch_request = _repeating_reads(app.dispatch_request)  # type: ignore[method-assign]


def _repeating_reads(dispatch: Callable[[], Any]) -> Callable[[], Any]:
    """Run a read-only request's view once more, as a writer, when it met lock contention."""

    def dispatch_request() -> Any:
        try:
            return dispatch()
        except DBAPIError as error:
            if request.method not in SAFE_METHODS or not is_lock_contention(error):
                raise
        _close_session(None)  # roll back; the second attempt starts a fresh session
        g.db_writes = True
        return dispatch()

    return dispatch_request


def session_factory() -> sessionmaker[Session]:
    """The factory for units of work that write (jobs, CLI commands, unsafe requests)."""
    factory: sessionmaker[Session] = current_app.extensions[EXTENSION_KEY]
    return factory


def db() -> Session:
    if "db_session" not in g:
        reads_only = (
            has_request_context() and request.method in SAFE_METHODS and "db_writes" not in g
        )
        key = READ_EXTENSION_KEY if reads_only else EXTENSION_KEY
        g.db_session = current_app.extensions[key]()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
