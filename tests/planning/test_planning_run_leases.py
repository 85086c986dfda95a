"""Planning runs hold a lease while they solve: a run whose worker went away (process killed,
crash) is marked failed with a plain reason, a database error in the worker ends the run
failed, and two dispatchers pressing "Plan this day" together never leave a run stuck."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import demo
from app.accounts import services as account_services
from app.db import make_engine, session_scope
from app.orders.models import Order
from app.planning import jobs, services
from app.planning.enums import PlanStatus
from app.planning.models import Plan
from tests.conftest import Person, csrf_token, sign_in
from tests.planning.conftest import DAY
from tests.planning.helpers import QUICK
from tests.processes import ROUNDTRIP, clock_at, free_port, wait_until

T0 = datetime(2030, 1, 14, 18, tzinfo=UTC)  # 21:00 in Moscow, the evening before DAY
DEMO_LOADED_AT = datetime(2026, 11, 24, 12, tzinfo=UTC)


# Leases, with a pinned clock -------------------------------------------------------------


def test_a_run_whose_lease_ran_out_is_marked_failed_with_when_its_worker_went_away(session, day):
    plan = services.start_plan(
        session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=T0, lease_s=60
    )
    services.claim_run(session, plan_id=plan.id, worker="w1", now=T0, lease_s=60)

    assert services.expire_abandoned(session, now=T0 + timedelta(seconds=59)) == []
    assert services.expire_abandoned(session, now=T0 + timedelta(seconds=61)) == [plan.id]

    assert plan.status == PlanStatus.FAILED
    assert plan.error == (
        "The planning run stopped unexpectedly (its worker went away at 21:00); nothing was "
        "published. Plan the day again."
    )
    assert plan.finished_at == T0 + timedelta(seconds=61)


def test_a_run_no_worker_took_up_fails_saying_the_workers_may_be_down(session, day):
    """Handed to the queue with 10 minutes to be taken up, and nobody did."""
    plan = services.start_plan(
        session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=T0, wait_s=600
    )

    assert services.expire_abandoned(session, now=T0 + timedelta(minutes=9)) == []
    assert services.expire_abandoned(session, now=T0 + timedelta(minutes=11)) == [plan.id]

    assert plan.status == PlanStatus.FAILED
    assert plan.error == (
        "No job worker started this planning run within 10 minutes; nothing was published. "
        "Check that the job workers are running, then plan the day again."
    )


def test_a_renewed_lease_keeps_the_run_and_its_reason_names_the_last_renewal(session, day):
    plan = services.start_plan(
        session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=T0, lease_s=60
    )
    services.claim_run(session, plan_id=plan.id, worker="w1", now=T0, lease_s=60)
    renewed_at = T0 + timedelta(minutes=5)

    assert services.renew_lease(session, plan_id=plan.id, worker="w1", now=renewed_at, lease_s=60)
    assert not services.renew_lease(
        session, plan_id=plan.id, worker="someone else", now=renewed_at, lease_s=60
    )

    assert services.expire_abandoned(session, now=renewed_at + timedelta(seconds=59)) == []
    assert services.expire_abandoned(session, now=renewed_at + timedelta(seconds=61)) == [plan.id]
    assert "went away at 21:05" in plan.error
    assert not services.renew_lease(
        session, plan_id=plan.id, worker="w1", now=renewed_at + timedelta(minutes=2), lease_s=60
    )


def test_a_second_run_of_the_day_is_refused_while_one_solves_and_allowed_once_it_is_gone(
    session, day
):
    first = services.start_plan(
        session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=T0, lease_s=60
    )

    with pytest.raises(services.RunInProgress) as refused:
        services.start_plan(
            session, depot_id=day.depot.id, day=DAY, now=T0 + timedelta(seconds=30), lease_s=60
        )
    assert refused.value.plan_id == first.id
    assert "Version 1 of this day is already being planned (started 21:00)" in str(refused.value)

    second = services.start_plan(
        session, depot_id=day.depot.id, day=DAY, now=T0 + timedelta(seconds=90), lease_s=60
    )

    assert (first.status, second.status, second.version) == (
        PlanStatus.FAILED,
        PlanStatus.SOLVING,
        2,
    )


def test_a_late_result_never_overwrites_the_verdict_on_a_run_marked_failed(session, day):
    """A worker that was only slow (its lease ran out, the run was failed) drops its result."""
    plan = services.start_plan(session, depot_id=day.depot.id, day=DAY, now=T0, lease_s=60)
    run = services.prepare_run(session, plan_id=plan.id, now=T0)
    services.expire_abandoned(session, now=T0 + timedelta(minutes=5))
    from routing.solver import solve

    result = solve(run.day.problem, QUICK)

    with pytest.raises(services.RunNotSolving):
        services.store_result(session, run, result, now=T0 + timedelta(minutes=6))
    assert (plan.status, plan.routes) == (PlanStatus.FAILED, [])


def test_marking_failed_leaves_a_finished_run_as_it_is(session, day):
    plan = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=T0)
    services.solve_plan(session, plan_id=plan.id, now=T0, params=QUICK)

    services.mark_failed(session, plan_id=plan.id, error="too late", now=T0)

    assert (plan.status, plan.error) == (PlanStatus.READY, None)


# Workers that really commit ---------------------------------------------------------------


@pytest.fixture
def demo_day(committed_factory: sessionmaker[Session], clock) -> tuple[int, date]:  # type: ignore[no-untyped-def]
    """The demo city day (about 300 orders, 12 couriers), committed; the clock starts at
    22:00 Moscow time the evening before and ticks, since leases are about elapsed time."""
    clock(DEMO_LOADED_AT + timedelta(hours=7), tick=True)
    with session_scope(committed_factory) as s:
        summary = demo.load(s, now=DEMO_LOADED_AT)
        depot_id = s.scalar(select(Order.depot_id).limit(1))
    return depot_id, summary.delivery_day


def solving_count(factory: sessionmaker[Session]) -> int:
    with session_scope(factory) as s:
        return s.scalar(
            select(func.count()).select_from(Plan).where(Plan.status == PlanStatus.SOLVING)
        )


def test_the_worker_renews_a_lease_shorter_than_its_search(committed_factory, demo_day):
    """A 0.6 s lease, a 2 s search: the worker keeps pushing the lease forward while it
    solves, and the run ends ready.

    The test watches the lease move rather than racing sweeps against it: on a loaded
    machine a renewal may legitimately come late, and a run whose lease lapses is rightly
    taken for dead (that is the sweep's own test).
    """
    depot_id, day = demo_day
    lease_s = 0.6
    with session_scope(committed_factory) as s:
        plan_id = services.start_plan(
            s, depot_id=depot_id, day=day, time_limit_s=2, lease_s=lease_s
        ).id
        first_expiry = s.get_one(Plan, plan_id).lease_expires_at
    worker = threading.Thread(
        target=jobs.solve_started,
        kwargs={"factory": committed_factory, "plan_id": plan_id, "lease_s": lease_s},
    )
    worker.start()
    expiries = set()
    while worker.is_alive():
        with session_scope(committed_factory) as s:
            expiries.add(s.scalar(select(Plan.lease_expires_at).where(Plan.id == plan_id)))
        worker.join(timeout=0.05)

    with session_scope(committed_factory) as s:
        plan = s.get_one(Plan, plan_id)
        assert plan.status == PlanStatus.READY
        assert plan.worker
        assert plan.heartbeat_at - plan.created_at >= timedelta(seconds=1)
    # Claimed once, then renewed every 0.2 s of a 2 s search: several distinct expiries,
    # each later than the one the run was started with.
    renewed = {e for e in expiries if e is not None and e > first_expiry}
    assert len(renewed) >= 3, sorted(expiries)


def test_a_database_error_in_the_worker_ends_the_run_failed(
    committed_factory, demo_day, monkeypatch
):
    """The worker's connection breaks while it stores the result: the run is marked failed
    from a fresh session, with a reason, and nothing of it is stored."""
    depot_id, day = demo_day
    store = services.store_result

    def store_on_a_broken_connection(session, *args, **kwargs):  # type: ignore[no-untyped-def]
        session.connection().connection.dbapi_connection.close()
        return store(session, *args, **kwargs)

    monkeypatch.setattr(services, "store_result", store_on_a_broken_connection)

    plan_id = jobs.run_planning(
        committed_factory, depot_id=depot_id, day=day, params=QUICK, time_limit_s=2
    )

    with session_scope(committed_factory) as s:
        plan = s.get_one(Plan, plan_id)
        assert plan.status == PlanStatus.FAILED
        assert plan.error.startswith("The planning run stopped on a database error")
        assert plan.routes == []


def dispatcher(factory: sessionmaker[Session], email: str) -> Person:
    with session_scope(factory) as s:
        user = account_services.create_user(
            s, email=email, name="Dispatcher", role="dispatcher", password="password-123"
        )
        return Person(user.id, email, "password-123", "dispatcher")


@pytest.mark.concurrency
def test_two_dispatchers_pressing_plan_at_once_leave_no_run_stuck(
    committed_factory, demo_day, tmp_path
):
    """Both press "Plan this day" at the same moment: one run starts, the other dispatcher
    is told so and shown it (or, if the first finished already, a second run starts); in
    the end no run is left solving."""
    from app.web import create_app

    depot_id, day = demo_day
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": committed_factory.kw["bind"].url.render_as_string(hide_password=False),
            "SESSION_FACTORY": committed_factory,
            "INSTANCE_PATH": str(tmp_path),
            "GEOCODER": "none",
            "SCHEDULER_ENABLED": False,
            "PLANNING_TIME_LIMIT_S": 1,
        }
    )
    clients = []
    for n in (1, 2):
        client = app.test_client()
        assert (
            sign_in(client, dispatcher(committed_factory, f"d{n}@example.org")).status_code == 302
        )
        clients.append(client)
    board = clients[0].get(f"/dispatcher/?day={day.isoformat()}").get_data(as_text=True)
    together = threading.Barrier(2)
    answers: list[object] = [None, None]

    def press(n: int) -> None:
        page = clients[n].get(f"/dispatcher/?day={day.isoformat()}").get_data(as_text=True)
        together.wait()
        answers[n] = clients[n].post(
            "/dispatcher/plans",
            data={"depot_id": depot_id, "day": day.isoformat(), "csrf_token": csrf_token(page)},
        )

    pressing = [threading.Thread(target=press, args=(n,)) for n in (0, 1)]
    for t in pressing:
        t.start()
    for t in pressing:
        t.join()
    assert board  # the board rendered before anyone pressed

    assert [a.status_code for a in answers] == [302, 302]  # type: ignore[attr-defined]
    wait_until(lambda: solving_count(committed_factory) == 0, timeout_s=90, what="both runs to end")
    with session_scope(committed_factory) as s:
        plans = s.scalars(select(Plan).order_by(Plan.version)).all()
        assert [p.status for p in plans] == [PlanStatus.READY] * len(plans)
        locations = {a.headers["Location"] for a in answers}  # type: ignore[attr-defined]
        assert locations == {f"/dispatcher/plans/{p.id}" for p in plans}
    if len(plans) == 1:  # one was refused: it was shown the run under way, with the reason
        refused = [
            c.get(a.headers["Location"]).get_data(as_text=True)  # type: ignore[attr-defined]
            for c, a in zip(clients, answers, strict=True)
        ]
        assert any("is already being planned" in page for page in refused)


# A real server, killed while it solves --------------------------------------------------


class Server:
    """`roundtrip run` on a loopback port, with its output in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = log.open("ab")
        self.process = subprocess.Popen(
            [ROUNDTRIP, "run", "--port", str(self.port), "--no-reload", "--no-debugger"],
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(self.answers, timeout_s=60, what=f"the server on port {self.port}")
        except BaseException:
            self.kill()  # never leave a server behind a failed start
            raise

    def answers(self) -> bool:
        assert self.process.poll() is None, "the server exited"
        try:
            return requests.get(f"{self.url}/login", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.output.close()


@pytest.fixture
def installation(tmp_path: Path) -> tuple[dict[str, str], str]:
    """A fresh SQLite installation: migrated, the demo day loaded, a dispatcher created."""
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ROUNDTRIP_INSTANCE": str(tmp_path),
        "SECRET_KEY": "process-test-secret",
        "ROUNDTRIP_SCHEDULER": "off",
        "ROUNDTRIP_PLANNING_TIME_LIMIT_S": "300",  # still solving when it is killed
        "ROUNDTRIP_PLANNING_LEASE_S": "3",
        **clock_at(DEMO_LOADED_AT),  # the demo is loaded for the day after
    }
    dispatcher = ["--email", "lead@example.org", "--name", "Lead", "--role", "dispatcher"]
    for command in (
        ["db", "upgrade"],
        ["demo", "--quiet"],
        ["users", "create", *dispatcher, "--password", "dispatch-pass-1"],
    ):
        subprocess.run([ROUNDTRIP, *command], env=env, check=True, capture_output=True)
    return env, url


def plan_row(url: str, plan_id: int) -> tuple[str, str | None, datetime | None]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(Plan.status, Plan.worker, Plan.heartbeat_at).where(Plan.id == plan_id)
            ).one()
            return row.status, row.worker, row.heartbeat_at
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_run_killed_with_its_server_shows_failed_and_the_day_plans_again(installation, tmp_path):
    env, url = installation
    engine = make_engine(url)
    with engine.connect() as conn:
        depot_id, day = conn.execute(select(Order.depot_id, Order.delivery_day).limit(1)).one()
    engine.dispose()
    log = tmp_path / "server.log"
    server = Server(env, log)
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"  # the server offers Russian first
    try:
        login = browser.get(f"{server.url}/login").text
        signed_in = browser.post(
            f"{server.url}/login",
            data={
                "email": "lead@example.org",
                "password": "dispatch-pass-1",
                "csrf_token": csrf_token(login),
            },
            allow_redirects=False,
        )
        assert signed_in.status_code == 302, signed_in.text
        board = browser.get(f"{server.url}/dispatcher/?day={day.isoformat()}").text
        started = browser.post(
            f"{server.url}/dispatcher/plans",
            data={"depot_id": depot_id, "day": day.isoformat(), "csrf_token": csrf_token(board)},
            allow_redirects=False,
        )
        assert started.status_code == 302, started.text
        location = started.headers["Location"]
        plan_id = int(location.rsplit("/", 1)[1])
        # The worker has taken the run over and is solving (its search runs 300 s).
        wait_until(
            lambda: plan_row(url, plan_id)[:1] == ("solving",) and plan_row(url, plan_id)[1],
            timeout_s=60,
            what="the run to be solving in its worker",
        )

        server.kill()
        server = Server(env, log)

        page = wait_until(
            lambda: (
                (text := browser.get(f"{server.url}{location}").text)
                and 'data-testid="failed"' in text
                and text
            ),
            timeout_s=60,
            what="the plan page to show the run failed",
        )
        status, _, went_away = plan_row(url, plan_id)
        assert status == "failed"
        assert went_away is not None
        at = went_away.astimezone(ZoneInfo(demo.TIMEZONE))
        assert (
            f"The planning run stopped unexpectedly (its worker went away at {at:%H:%M}); "
            "nothing was published. Plan the day again."
        ) in page
        assert 'data-testid="plan-again"' in page

        again = browser.post(
            f"{server.url}/dispatcher/plans",
            data={"depot_id": depot_id, "day": day.isoformat(), "csrf_token": csrf_token(page)},
            allow_redirects=False,
        )
        assert again.status_code == 302, again.text
        new_location = again.headers["Location"]
        assert new_location != location
        new_page = browser.get(f"{server.url}{new_location}").text
        assert "already being planned" not in new_page
        assert re.search(r"plan version 2\b", new_page)
        assert plan_row(url, int(new_location.rsplit("/", 1)[1]))[0] == "solving"
    finally:
        server.kill()


def test_a_cancelled_run_stops_its_search_and_stores_nothing(committed_factory, demo_day):
    """A dispatcher cancels a 60 s search once it has started: the worker sees it at its
    next renewal, stops the search, and the run stays cancelled with no routes."""
    depot_id, day = demo_day
    with session_scope(committed_factory) as s:
        plan_id = services.start_plan(s, depot_id=depot_id, day=day, time_limit_s=60).id
    worker = threading.Thread(
        target=jobs.solve_started,
        kwargs={"factory": committed_factory, "plan_id": plan_id, "lease_s": 3},
    )
    worker.start()

    def searching() -> bool:
        with session_scope(committed_factory) as s:
            return s.get_one(Plan, plan_id).progress_at is not None

    wait_until(searching, timeout_s=60, what="the search's first progress report")
    with session_scope(committed_factory) as s:
        services.cancel_run(
            s, plan_id=plan_id, user_id=None, now=s.get_one(Plan, plan_id).progress_at
        )
    worker.join(timeout=40)  # far less than the 60 s the search was given

    assert not worker.is_alive(), "the search went on after the run was cancelled"
    with session_scope(committed_factory) as s:
        plan = s.get_one(Plan, plan_id)
        assert (plan.status, plan.routes, plan.unassigned) == (PlanStatus.CANCELLED, [], [])
        assert plan.search_improvements >= 1


def test_a_run_another_worker_still_holds_is_not_claimed_twice(session, day):
    """A queue hands the job out again while its first worker is alive: the second worker
    is refused until the first one's lease has run out."""
    plan = services.start_plan(
        session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=T0, wait_s=600
    )
    services.claim_run(session, plan_id=plan.id, worker="w1", now=T0, lease_s=60)

    with pytest.raises(services.RunNotSolving, match="another worker"):
        services.claim_run(
            session, plan_id=plan.id, worker="w2", now=T0 + timedelta(seconds=30), lease_s=60
        )
    taken = services.claim_run(
        session, plan_id=plan.id, worker="w2", now=T0 + timedelta(seconds=61), lease_s=60
    )

    assert taken.worker == "w2"
