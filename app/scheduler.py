"""The in-process scheduler of the embedded mode (one process: `make run`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.fleet.models import Depot
from app.planning import jobs as planning_jobs
from loyalty import jobs as loyalty_jobs

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 30


def build_scheduler(
    factory: sessionmaker[Session],
    timezone: str = "UTC",
    planning_waves: Sequence[str] = ("18:00", "23:30"),
    planning_time_limit_s: float | None = None,
    same_day_every_min: int = 20,
    waves_by_depot: Mapping[str, Sequence[str]] | None = None,
) -> BackgroundScheduler:
    """Every scheduled job with its trigger; started by the web app when enabled.

    Evening waves run per depot at its own local times (``waves_by_depot``, by depot code,
    else ``planning_waves``). Depots are read once here: one added later is planned by waves
    after the next restart (and by hand until then).
    """
    scheduler = BackgroundScheduler(timezone=timezone)
    waves_by_depot = dict(waves_by_depot or {})
    with session_scope(factory) as session:
        depots = [(d.id, d.code, d.timezone) for d in session.scalars(select(Depot))]
    for unknown in sorted(set(waves_by_depot) - {code for _, code, _ in depots}):
        log.warning("planning waves are configured for depot %s, which does not exist", unknown)
    for depot_id, code, depot_tz in depots:
        times = waves_by_depot.get(code, planning_waves)
        for n, at in enumerate(times):
            hour, minute = (int(x) for x in at.split(":"))
            final = n == len(times) - 1  # the last wave of the evening publishes
            scheduler.add_job(
                planning_jobs.planning_wave,
                CronTrigger(hour=hour, minute=minute, timezone=depot_tz),
                kwargs={
                    "factory": factory,
                    "time_limit_s": planning_time_limit_s,
                    "final": final,
                    "depot_ids": [depot_id],
                },
                id=f"planning-wave-{code}-{hour:02d}{minute:02d}",
                name=f"Plan tomorrow at {code} ({at} {depot_tz}"
                f"{', final: publishes' if final else ', draft'})",
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=1800,
            )
    if same_day_every_min > 0:
        scheduler.add_job(
            planning_jobs.same_day_wave,
            IntervalTrigger(minutes=same_day_every_min, timezone=timezone),
            kwargs={"factory": factory, "time_limit_s": planning_time_limit_s},
            id="planning-same-day",
            name=f"Re-plan today's new orders (every {same_day_every_min} min)",
            replace_existing=True,
            coalesce=True,
            max_instances=1,  # a slow wave is never overlapped by the next one
            misfire_grace_time=600,
        )
    # Planning runs whose worker went away (lease ran out) are marked failed soon after, even
    # when nobody opens their page; the first sweep runs at start-up.
    scheduler.add_job(
        planning_jobs.sweep_abandoned,
        IntervalTrigger(seconds=SWEEP_EVERY_S, timezone=timezone),
        kwargs={"factory": factory},
        id="planning-sweep-abandoned",
        name=f"Mark planning runs whose worker went away as failed (every {SWEEP_EVERY_S} s)",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        loyalty_jobs.expire_points,
        CronTrigger(hour=3, minute=15, timezone=timezone),
        kwargs={"factory": factory},
        id="loyalty-expire-points",
        name="Expire unused loyalty points",
        replace_existing=True,
        coalesce=True,  # after downtime, run once, not once per missed night
        misfire_grace_time=6 * 3600,
    )
    return scheduler


def describe(scheduler: BackgroundScheduler) -> list[dict[str, Any]]:
    return [
        {"id": job.id, "name": job.name, "trigger": str(job.trigger)}
        for job in scheduler.get_jobs()
    ]
