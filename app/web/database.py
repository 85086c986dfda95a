"""One SQLAlchemy session per request; the view commits, teardown closes (and rolls back)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_session_factory

EXTENSION_KEY = "roundtrip.session_factory"


def init_app(app: Flask) -> None:
    factory = app.config.get("SESSION_FACTORY")
    if factory is None:
        factory = make_session_factory(make_engine(app.config["DATABASE_URL"]))
    app.extensions[EXTENSION_KEY] = factory
    app.teardown_appcontext(_close_session)


def session_factory() -> sessionmaker[Session]:
    return current_app.extensions[EXTENSION_KEY]


def db() -> Session:
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
