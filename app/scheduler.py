"""The in-process scheduler of the embedded mode (one process: `make run`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from app.planning import jobs as planning_jobs
from loyalty import jobs as loyalty_jobs


def build_scheduler(
    factory: sessionmaker[Session],
    timezone: str = "UTC",
    planning_waves: Sequence[str] = ("18:00", "23:30"),
    planning_time_limit_s: float | None = None,
    same_day_every_min: int = 20,
) -> BackgroundScheduler:
    """Every scheduled job with its trigger; started by the web app when enabled."""
    scheduler = BackgroundScheduler(timezone=timezone)
    for n, at in enumerate(planning_waves):
        hour, minute = (int(x) for x in at.split(":"))
        final = n == len(planning_waves) - 1  # the last wave of the evening publishes
        scheduler.add_job(
            planning_jobs.planning_wave,
            CronTrigger(hour=hour, minute=minute, timezone=timezone),
            kwargs={"factory": factory, "time_limit_s": planning_time_limit_s, "final": final},
            id=f"planning-wave-{hour:02d}{minute:02d}",
            name=f"Plan tomorrow ({at}{', final: publishes' if final else ', draft'})",
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
