"""Fixtures: every database test runs on SQLite and on a real PostgreSQL server.

The schema is built by the Alembic migrations themselves, once per backend and test run; each
test then runs inside a transaction that is rolled back, and the app's own commits only
release SAVEPOINTs inside it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import app.models
from app import migrate
from app.db import make_engine
from tests.processes import clock_at

NO_POSTGRES = (
    "PostgreSQL tests skipped: no server configured. Run `make pg-up` once "
    "(or set TEST_POSTGRES_URL=postgresql://user:pass@host/db)."
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


SAVED_URL = Path(__file__).resolve().parent.parent / "instance" / "test_postgres_url"


def postgres_url_or_skip() -> str:
    url = os.environ.get("TEST_POSTGRES_URL", "").strip()
    if not url and SAVED_URL.exists():  # written by `make pg-up`
        url = SAVED_URL.read_text().strip()
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI")
        pytest.skip(NO_POSTGRES)
    return url


def reset_postgres_schema(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def clock() -> Iterator[Callable[..., None]]:
    """Pin the wall clock for the app under test: ``clock(moment)`` stops time at an aware
    ``moment``, so pages that ask for "now" see the test's day; ``clock(moment, tick=True)``
    starts it there and lets it run (live servers, leases: work that needs time to pass)."""
    with time_machine.travel(datetime(2030, 1, 1, tzinfo=UTC), tick=False) as traveller:

        def move_to(moment: datetime, *, tick: bool = False) -> None:
            assert moment.tzinfo is not None, "pin the clock to an aware datetime"
            traveller.move_to(moment, tick=tick)

        yield move_to


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt costs ~130 ms per user by design; tests create hundreds of users."""
    monkeypatch.setattr("app.accounts.services.PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An engine on a database migrated to head, one per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        eng = make_engine(url)
    else:
        url = postgres_url_or_skip()
        eng = make_engine(url)
        reset_postgres_schema(eng)
    migrate.upgrade(eng.url.render_as_string(hide_password=False))
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.close()


@pytest.fixture
def backend(engine: Engine) -> str:
    return engine.dialect.name


@pytest.fixture
def app(engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path) -> Flask:
    from app.web import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "SESSION_FACTORY": session_factory,
            "INSTANCE_PATH": str(tmp_path),
            "GEOCODER": "none",
            "SCHEDULER_ENABLED": False,
            # Sign-in throttling off: tests sign in many times from one address;
            # tests/web/test_throttling.py builds apps with it on.
            "RATELIMIT_ENABLED": False,
            # A courier's report looks for late stops on a queue thread; tests that want it
            # turn it on with an inline queue (tests/planning/test_customer_late_notice.py).
            "LATE_WATCH_AFTER_REPORTS": False,
        }
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF token in its form"
    return match.group(1)


@dataclass
class Person:
    id: int
    email: str
    password: str
    role: str


@pytest.fixture
def make_user(session: Session):  # type: ignore[no-untyped-def]
    from app.accounts import services

    counter = iter(range(1, 10_000))

    def make(role: str, *, email: str | None = None, password: str = "password-123") -> Person:
        email = email or f"{role}{next(counter)}@example.org"
        user = services.create_user(
            session, email=email, name=f"Test {role.title()}", role=role, password=password
        )
        session.commit()
        return Person(user.id, user.email, password, role)

    return make


def sign_in(client: FlaskClient, person: Person) -> object:
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "email": person.email,
            "password": person.password,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )


@pytest.fixture
def login_as(client: FlaskClient, make_user):  # type: ignore[no-untyped-def]
    def login(role: str) -> Person:
        person = make_user(role)
        response = sign_in(client, person)
        assert response.status_code == 302, response.get_data(as_text=True)
        return person

    return login


@pytest.fixture
def api_token(client: FlaskClient, make_user):  # type: ignore[no-untyped-def]
    def token_for(role: str) -> dict[str, str]:
        person = make_user(role)
        response = client.post(
            "/api/v1/auth/tokens", json={"email": person.email, "password": person.password}
        )
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return token_for


def fresh_database_url(base_url: str, suffix: str) -> str:
    """Create (or recreate) an empty PostgreSQL database next to the test database, named
    after it (`roundtrip_test_<suffix>`), so suites on different test databases never collide."""
    url = make_url(base_url)
    name = f"{url.database}_{suffix}"
    admin = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        drop_database(conn, name)
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(conn: Connection, name: str) -> None:
    """DROP DATABASE ... WITH (FORCE), again if it meets a connection still starting up.

    A backend that is still authenticating has no role yet, and PostgreSQL refuses to
    terminate it ("must be a member of the role whose process is being terminated", SQLSTATE
    42501). A process a previous test started and stopped may still be reconnecting. So the
    drop is tried a few times, 0.2 s apart, before the error is raised."""
    import time

    from sqlalchemy.exc import DBAPIError

    for attempt in range(10):
        try:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != "42501" or attempt == 9:
                raise
            time.sleep(0.2)


@pytest.fixture(params=BACKENDS)
def committed_factory(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A session factory on a fresh migrated database, for code that commits for real
    (jobs, planning runs); one per backend."""
    from app.db import make_session_factory

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'committed.sqlite3'}"
    else:
        url = fresh_database_url(postgres_url_or_skip(), "committed")
    migrate.upgrade(url)
    eng = make_engine(url)
    yield make_session_factory(eng)
    eng.dispose()


@dataclass
class World:
    """A depot with two windows, products with lots, and a customer with an address."""

    depot: object
    morning: object
    evening: object
    kettle: object
    coffee: object
    customer: object
    address: object


@pytest.fixture
def world(session: Session) -> World:
    from tests import factories as f

    for factory_class in f.ALL:
        factory_class._meta.sqlalchemy_session = session
    depot = f.DepotFactory()
    morning = f.WindowFactory(depot=depot)
    evening = f.WindowFactory(
        depot=depot,
        start_minute=20 * 60,
        end_minute=22 * 60,
        cutoff_days_before=0,
        cutoff_minute=16 * 60,
    )
    kettle = f.ProductFactory(sku="KET-1", name="Kettle", price_minor=3_499_00, load_units=3)
    f.LotFactory(product=kettle, code="KET-OLD")
    coffee = f.ProductFactory(sku="COF-1", name="Coffee", price_minor=650_50, is_food=True)
    customer = f.CustomerFactory()
    address = f.AddressFactory(customer=customer)
    session.commit()
    return World(depot, morning, evening, kettle, coffee, customer, address)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--moved-clock",
        default=None,
        metavar="ISO_DATETIME",
        help="run the whole suite with the wall clock starting at this aware moment and "
        "ticking (time-machine), servers the tests start included; e.g. "
        "2027-03-28T00:59:00+00:00, a minute before Europe's clocks spring forward",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Right on any day: under --moved-clock every test runs at another date (make
    test-moved-clock). Monotonic clocks are left alone: they measure elapsed time."""
    moment = config.getoption("--moved-clock")
    if not moment:
        return
    start = datetime.fromisoformat(moment)
    if start.tzinfo is None:
        raise pytest.UsageError("--moved-clock needs an aware moment, e.g. ...T00:59:00+00:00")
    # Processes the tests start move to the same moment (counted on the monotonic clock).
    os.environ.update(clock_at(start))
    traveller = time_machine.travel(start, tick=True)
    traveller.start()
    config.add_cleanup(traveller.stop)


def pytest_report_header(config: pytest.Config) -> str | None:
    moment = config.getoption("--moved-clock")
    return f"clock moved: the suite starts at {moment}" if moment else None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly how many PostgreSQL and browser tests ran, so CI output proves they did."""
    for marker, label in (("postgres", "PostgreSQL tests"), ("browser", "Browser tests")):
        counts: dict[str, int] = {}
        for outcome in ("passed", "failed", "skipped", "error"):
            for report in terminalreporter.stats.get(outcome, []):
                if marker not in getattr(report, "keywords", {}):
                    continue
                if report.when not in ("call", "setup"):
                    continue
                if outcome == "passed" and report.when != "call":
                    continue
                counts[outcome] = counts.get(outcome, 0) + 1
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none"
        terminalreporter.write_line(f"{label}: {summary}")
