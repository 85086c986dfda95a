"""Every task a queue can run, by name: the one table both queues and workers read.

A task takes the session factory and JSON arguments and owns its transactions. Tasks fired
by the scheduler carry ``firing_id``: the firing is marked done when the task ends, and a
task whose firing is already done (a retry after it succeeded) does nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app import metrics
from app.background.models import Firing
from app.db import session_scope, utcnow
from app.help import jobs as help_jobs
from app.notifications import jobs as notification_jobs
from app.planning import jobs as planning_jobs
from app.quality import jobs as quality_jobs
from app.segments import jobs as segment_jobs
from loyalty import jobs as loyalty_jobs
from returns import jobs as returns_jobs

log = logging.getLogger(__name__)

Factory = sessionmaker[Session]


def _solve(factory: Factory, *, plan_id: int, lease_s: float | None = None) -> None:
    kwargs = {} if lease_s is None else {"lease_s": lease_s}
    planning_jobs.solve_started(factory, plan_id=plan_id, **kwargs)


def _wave(
    factory: Factory, *, depot_id: int, final: bool, time_limit_s: float | None = None
) -> None:
    planning_jobs.planning_wave(
        factory, depot_ids=[depot_id], final=final, time_limit_s=time_limit_s
    )


def _same_day(factory: Factory, *, depot_id: int, time_limit_s: float | None = None) -> None:
    planning_jobs.same_day_wave(factory, depot_ids=[depot_id], time_limit_s=time_limit_s)


def _vehicle_lost(
    factory: Factory, *, depot_id: int, day: str, time_limit_s: float | None = None
) -> None:
    planning_jobs.replan_without_vehicle(
        factory, depot_id=depot_id, day=date.fromisoformat(day), time_limit_s=time_limit_s
    )


def _watch_late(factory: Factory, *, depot_id: int) -> None:
    planning_jobs.watch_late(factory, depot_ids=[depot_id])


def _expire_points(factory: Factory) -> None:
    loyalty_jobs.expire_points(factory)


def _deliver_notifications(factory: Factory) -> None:
    notification_jobs.deliver(factory)


def _invite_ratings(factory: Factory) -> None:
    quality_jobs.invite_ratings(factory)


def _remind_callbacks(factory: Factory) -> None:
    help_jobs.remind_callbacks(factory)


def _monthly_offers(factory: Factory) -> None:
    segment_jobs.monthly_offers(factory)


def _escalate_returns(factory: Factory) -> None:
    returns_jobs.escalate(factory)


def _book_missed_visits(factory: Factory) -> None:
    returns_jobs.book_missed_visits(factory)


TASKS: dict[str, Callable[..., None]] = {
    "planning.solve": _solve,
    "planning.wave": _wave,
    "planning.same_day": _same_day,
    "planning.vehicle_lost": _vehicle_lost,
    "planning.watch_late": _watch_late,
    "loyalty.expire_points": _expire_points,
    "returns.escalate": _escalate_returns,
    "returns.book_missed_visits": _book_missed_visits,
    "notifications.deliver": _deliver_notifications,
    "quality.invite_ratings": _invite_ratings,
    "segments.monthly_offers": _monthly_offers,
    "help.remind_callbacks": _remind_callbacks,
}


def runner(factory: Factory) -> Callable[[str, Mapping[str, Any]], None]:
    """What a queue calls to run a task by name, with this installation's database."""

    def run(task: str, arguments: Mapping[str, Any]) -> None:
        run_task(factory, task, arguments)

    return run


def run_task(factory: Factory, task: str, arguments: Mapping[str, Any]) -> None:
    """Run one task; an unknown name is an error the worker logs (a newer web tier)."""
    arguments = dict(arguments)
    firing_id = arguments.pop("firing_id", None)
    if firing_id is not None and _done(factory, firing_id):
        log.info("%s: firing %s already done; nothing to do", task, firing_id)
        return
    try:
        function = TASKS[task]
    except KeyError:
        raise LookupError(f"no task named {task!r}") from None
    started = time.perf_counter()
    try:
        function(factory, **arguments)
    except Exception:
        metrics.JOB_FAILURES.labels(task).inc()
        metrics.JOB_SECONDS.labels(task, "failed").observe(time.perf_counter() - started)
        raise
    metrics.JOB_SECONDS.labels(task, "ok").observe(time.perf_counter() - started)
    if firing_id is not None:
        with session_scope(factory) as session:
            firing = session.get(Firing, firing_id)
            if firing is not None and firing.done_at is None:
                firing.done_at = utcnow()


def _done(factory: Factory, firing_id: int) -> bool:
    with session_scope(factory) as session:
        firing = session.get(Firing, firing_id)
        return firing is not None and firing.done_at is not None
