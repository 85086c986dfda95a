"""The scheduler: one job, a tick every 30 s, that fires whatever is due exactly once.

The embedded mode runs it on a thread of the web process (``ROUNDTRIP_SCHEDULER=on``, as
`make run` does); production runs it as a process of its own (``python -m app.scheduler``).
Either way what is due, and the guarantee that two schedulers never fire the same wave
twice, live in ``app.background.schedule``; APScheduler only keeps the beat.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from app.background import schedule
from app.background.queue import Queue
from app.db import utcnow

log = logging.getLogger(__name__)


def schedule_from_config(config: Mapping[str, Any]) -> schedule.Schedule:
    """The timetable from the installation's settings (app.config.Config's names)."""
    return schedule.Schedule(
        waves=tuple(config["PLANNING_WAVES"]),
        waves_by_depot=dict(config.get("PLANNING_WAVES_BY_DEPOT") or {}),
        same_day_every_min=int(config["SAME_DAY_WAVE_MINUTES"]),
        timezone=str(config["SCHEDULER_TIMEZONE"]),
        planning_time_limit_s=config.get("PLANNING_TIME_LIMIT_S"),
    )


def scheduler_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def beat(
    factory: sessionmaker[Session],
    queue: Queue,
    timetable: schedule.Schedule,
    *,
    scheduler: BaseScheduler | None = None,
    tick_s: float = schedule.TICK_S,
) -> BaseScheduler:
    """A scheduler (not started) whose one job ticks every ``tick_s``, first at once."""
    scheduler = scheduler or BackgroundScheduler(timezone="UTC")
    name = scheduler_name()

    def tick() -> None:
        try:
            schedule.tick(factory, queue, now=utcnow(), schedule=timetable, by=name)
        except Exception:  # the next beat tries again; a scheduler must not die of one
            log.exception("scheduler tick failed")

    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=tick_s, timezone="UTC"),
        id="roundtrip-tick",
        name=f"Fire what is due (every {tick_s:g} s)",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
    )
    return scheduler


def main() -> None:
    """Entry point of the scheduler process: ``python -m app.scheduler`` (production).

    Several may run (two hosts, a restart overlapping the old process): each due time
    still fires once. The embedded mode needs none: `make run` beats inside the web app.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    import app.models  # noqa: F401  (every table registered: this process is an entry point)
    from app import logs
    from app.background.pg import ProcrastinateQueue
    from app.config import Config
    from app.db import make_engine, make_session_factory

    logs.configure("scheduler")
    config = Config()
    if config.QUEUE != "procrastinate":
        raise SystemExit(
            "app.scheduler hands work to the production queue: set ROUNDTRIP_QUEUE="
            "procrastinate and a PostgreSQL DATABASE_URL (`make run` schedules in-process)"
        )
    factory = make_session_factory(make_engine(config.DATABASE_URL, pool_pre_ping=True))
    queue = ProcrastinateQueue.from_url(config.DATABASE_URL)
    timetable = schedule_from_config(config.as_dict())
    log.info("scheduler %s started", scheduler_name())
    beat(factory, queue, timetable, scheduler=BlockingScheduler(timezone="UTC")).start()


if __name__ == "__main__":
    main()
