"""The in-process scheduler of the embedded mode (one process: `make run`)."""

from __future__ import annotations

from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from loyalty import jobs as loyalty_jobs


def build_scheduler(factory: sessionmaker[Session], timezone: str = "UTC") -> BackgroundScheduler:
    """Every scheduled job with its trigger; started by the web app when enabled."""
    scheduler = BackgroundScheduler(timezone=timezone)
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
