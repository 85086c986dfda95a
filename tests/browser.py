"""Headless Chromium for browser tests: Debian's package, never a downloaded browser."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTEFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def chromium_or_skip() -> str:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but /usr/bin/chromium is missing: browser tests must run")
        pytest.skip("Browser tests skipped: install Debian's chromium (apt-get install chromium)")
    return CHROMIUM


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app on a free local port in a thread for the duration of the block."""
    from app.web.security import QuietRequestHandler

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


# Noon in Moscow the day before the demo day: browser tests pin the clock here and let it
# tick (the live server runs in the test's process, so it reads the same clock).
DEMO_NOON = datetime(2026, 11, 24, 9, tzinfo=UTC)


def demo_app(
    folder: Path, *, time_limit_s: float, change: Callable[[Session], None] | None = None
) -> Flask:
    """The real app on a migrated SQLite file in ``folder`` with the demo day as loaded at
    DEMO_NOON, solving in its own thread; ``change`` may alter the data before the app
    starts."""
    from app import demo, migrate
    from app.db import make_engine, make_session_factory, session_scope
    from app.web import create_app

    url = f"sqlite:///{folder / 'browser.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        demo.load(session, now=DEMO_NOON)
        if change is not None:
            change(session)
    engine.dispose()
    return create_app(
        {
            "SECRET_KEY": "browser-test",
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(folder),
            "PLANNING_TIME_LIMIT_S": time_limit_s,
        }
    )
