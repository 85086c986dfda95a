"""Production's job queue (Procrastinate on PostgreSQL): a run deferred by the web tier is
solved by a worker, the same work waits in the queue once, and two schedulers deferring at
once defer each wave once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app import demo, migrate
from app.background import schedule
from app.background.pg import QUEUES, ProcrastinateQueue, build_app
from app.db import make_engine, make_session_factory, session_scope
from app.orders.models import Order
from app.planning import services
from app.planning.enums import PlanStatus
from app.planning.models import Plan
from tests.conftest import fresh_database_url, postgres_url_or_skip

pytestmark = [pytest.mark.postgres, pytest.mark.concurrency]

DEMO_LOADED_AT = datetime(2026, 11, 24, 12, tzinfo=UTC)
MOSCOW = "Europe/Moscow"


@pytest.fixture
def database():  # type: ignore[no-untyped-def]
    """A fresh, migrated PostgreSQL database (queue tables included) and its factory."""
    url = fresh_database_url(postgres_url_or_skip(), "queue")
    migrate.upgrade(url)
    engine = make_engine(url)
    yield url, make_session_factory(engine)
    engine.dispose()


def jobs_of(url: str, task: str) -> list[tuple[str, dict]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT status, args FROM procrastinate_jobs WHERE task_name = :task "
                    "ORDER BY id"
                ),
                {"task": task},
            )
            return [(str(status), dict(args)) for status, args in rows]
    finally:
        engine.dispose()


def test_a_run_the_web_tier_deferred_is_solved_by_a_queue_worker(database, clock):
    url, factory = database
    clock(DEMO_LOADED_AT + timedelta(hours=7), tick=True)
    with session_scope(factory) as s:
        day = demo.load(s, now=DEMO_LOADED_AT).delivery_day
        depot_id = s.scalar(select(Order.depot_id).limit(1))
        plan_id = services.start_plan(s, depot_id=depot_id, day=day, time_limit_s=1, wait_s=600).id
    queue = ProcrastinateQueue.from_url(url)

    queue.enqueue(
        "planning.solve", {"plan_id": plan_id, "lease_s": 30}, key=f"plan:{plan_id}", urgent=True
    )
    assert queue.depth() == 1
    worker = build_app(url, factory)
    worker.run_worker(queues=list(QUEUES), wait=False, install_signal_handlers=False)

    with session_scope(factory) as s:
        plan = s.get_one(Plan, plan_id)
        assert (plan.status, plan.error) == (PlanStatus.READY, None)
        assert plan.started_at is not None
        assert plan.stops_assigned > 0
    assert [status for status, _ in jobs_of(url, "planning.solve")] == ["succeeded"]
    assert queue.depth() == 0
    queue.engine.dispose()


def test_the_same_work_waits_in_the_queue_once(database):
    url, _ = database
    queue = ProcrastinateQueue.from_url(url)

    for _ in range(3):  # three clicks on "Plan this day"
        queue.enqueue("planning.solve", {"plan_id": 7}, key="plan:7")
    queue.enqueue("planning.solve", {"plan_id": 8}, key="plan:8")

    assert jobs_of(url, "planning.solve") == [
        ("todo", {"plan_id": 7}),
        ("todo", {"plan_id": 8}),
    ]
    queue.engine.dispose()


def test_two_schedulers_deferring_at_once_defer_each_wave_once(database):
    url, factory = database
    with session_scope(factory) as s:
        from app.fleet.models import Depot

        s.add(
            Depot(code="MSK", name="MSK", address="-", lat=55.7, lon=37.6, timezone="Europe/Moscow")
        )
    msk_18_00 = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
    timetable = schedule.Schedule(waves=("18:00", "23:30"), same_day_every_min=0)
    queues = [ProcrastinateQueue.from_url(url) for _ in range(2)]
    start = threading.Barrier(2)

    def scheduler(n: int) -> None:
        start.wait()
        for seconds in (0, 30, 60):
            schedule.tick(
                factory,
                queues[n],
                now=msk_18_00 + timedelta(seconds=seconds),
                schedule=timetable,
                by=f"scheduler-{n}",
            )

    threads = [threading.Thread(target=scheduler, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    (wave,) = jobs_of(url, "planning.wave")
    assert wave[1]["final"] is False
    for queue in queues:
        queue.engine.dispose()
