"""Production's queue: Procrastinate on the installation's PostgreSQL.

Web processes only defer jobs, each on a short connection of their own SQLAlchemy engine
(Procrastinate's pool is never opened there, so gunicorn's fork cannot break it); worker
processes (`python -m app.worker`) run them. Every task of ``app.background.tasks`` is a
Procrastinate task of the same name.

Dead workers: each worker heartbeats into ``procrastinate_workers``; a job whose worker has
been silent for ``STALLED_AFTER_S`` is put back in the queue by the periodic
``retry_stalled_jobs`` (deduplicated across workers by Procrastinate). A planning run taken
up again that way is claimed by the new worker, unless its lease ran out first and a sweep
failed it with a reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import procrastinate
from procrastinate import RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app import logs
from app.background.tasks import TASKS, run_task
from app.db import make_engine

log = logging.getLogger(__name__)

QUEUES = ("jobs", "maintenance")
# A dispatcher waiting at the screen goes before the scheduled waves (workers fetch by
# priority first, then in order of arrival).
URGENT_PRIORITY = 10
STALLED_AFTER_S = 30
# Idempotent work is retried with back-off (5, 25, 125 s); a planning run is not: it
# records its own failure for the dispatcher, and a retry would solve the day twice.
RETRIED = RetryStrategy(max_attempts=3, exponential_wait=5)
NOT_RETRIED = {"planning.solve"}


def dsn(url: str) -> str:
    """A libpq connection string from a SQLAlchemy URL (postgresql+psycopg://…)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(url: str, factory: sessionmaker[Session] | None = None) -> procrastinate.App:
    """The Procrastinate app with every task; ``factory`` is the database the tasks use (a
    worker's), absent where jobs are only deferred (the web tier, the scheduler)."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=dsn(url), min_size=1, max_size=3),
        worker_defaults={"update_heartbeat_interval": 10, "stalled_worker_timeout": 30},
        periodic_defaults={"max_delay": 600},
    )
    for name in TASKS:
        _register(app, name, factory)

    @app.periodic(cron="* * * * *", periodic_id="retry-stalled")
    @app.task(name="queue.retry_stalled_jobs", queue="maintenance", queueing_lock="retry-stalled")
    async def retry_stalled_jobs(timestamp: int) -> None:
        stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_S)
        for job in stalled:
            log.warning("job %s (%s) lost its worker; queued again", job.id, job.task_name)
            await app.job_manager.retry_job(job)

    return app


def _register(app: procrastinate.App, name: str, factory: sessionmaker[Session] | None) -> None:
    def run(context: procrastinate.JobContext, **arguments: Any) -> None:
        if factory is None:
            raise RuntimeError("this process defers jobs; a worker runs them")
        job = context.job.id if context.job is not None else "?"
        with logs.job_context(f"{name}#{job}"):
            run_task(factory, name, arguments)

    run.__name__ = name.replace(".", "_")
    app.task(
        name=name,
        queue="jobs",
        pass_context=True,
        retry=False if name in NOT_RETRIED else RETRIED,
    )(run)


class ProcrastinateQueue:
    """Defers jobs into PostgreSQL; ``key`` becomes Procrastinate's queueing lock (one
    waiting job per key), ``urgent`` work is fetched first."""

    def __init__(self, app: procrastinate.App, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> ProcrastinateQueue:
        return cls(build_app(url), make_engine(url, pool_pre_ping=True))

    def enqueue(
        self,
        task: str,
        arguments: Mapping[str, Any],
        *,
        key: str | None = None,
        urgent: bool = False,
    ) -> None:
        with self.engine.begin() as connection:
            driver = connection.connection.driver_connection
            try:
                self.app.configure_task(
                    task,
                    priority=URGENT_PRIORITY if urgent else 0,
                    queueing_lock=key,
                    connection=driver,
                ).defer(**arguments)
            except AlreadyEnqueued:
                log.info("job %s (%s) is already waiting; not queued twice", key, task)

    def depth(self) -> int | None:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")
                ).scalar_one()
            )
