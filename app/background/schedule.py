"""What is due when, and firing it exactly once however many schedulers run.

A scheduler ticks (every ``TICK_S``); each tick reads the depots afresh (a depot added today
gets its waves tonight, without a restart), works out which jobs have a due time that has
come and is still within its grace period, and fires each one by inserting its
(job, due time) row: the unique constraint lets exactly one scheduler win, and only the
winner hands the work to the queue. A job whose due time passed while no scheduler ran is
fired late if still within grace (a restart at 18:10 still plans the 18:00 wave), once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.background.models import Firing
from app.background.queue import Queue
from app.db import session_scope
from app.fleet.models import Depot
from app.help import services as help_services
from app.notifications import services as notification_services
from app.planning import jobs as planning_jobs
from app.planning.models import Plan
from app.quality import services as quality_services
from app.segments import services as segment_services
from returns import review as return_review
from returns import visits as return_visits

log = logging.getLogger(__name__)

TICK_S = 30
# A firing row is kept this long (what fired when, for the operator), then deleted.
KEEP_FIRINGS = timedelta(days=30)
# A firing not handed to the queue this long after it was inserted lost its scheduler.
HANDOVER_S = 60
# How often today's plans are looked at for stops about to miss their window.
LATE_WATCH_MIN = 5
# When the month's segment offers are looked for each day (the expiry's zone), and how late.
SEGMENT_OFFERS_AT = "04:00"
SEGMENT_OFFERS_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Schedule:
    """The installation's timetable (from Config: app.scheduler.schedule_from_config)."""

    waves: Sequence[str] = ("18:00", "23:30")  # each depot's local times; the last publishes
    waves_by_depot: Mapping[str, Sequence[str]] = field(default_factory=dict)
    wave_grace: timedelta = timedelta(minutes=30)
    same_day_every_min: int = 20  # 0: never
    expiry_at: str = "03:15"
    expiry_grace: timedelta = timedelta(hours=6)
    timezone: str = "Europe/Moscow"  # of the expiry time
    planning_time_limit_s: float | None = None


@dataclass(frozen=True, slots=True)
class Due:
    """One job whose due time has come: fire it once."""

    job: str  # names the job, the same for every due time: "planning-wave:MSK:1800"
    due_at: datetime
    task: str
    arguments: Mapping[str, Any]
    urgent: bool = False


def _hhmm(text: str) -> time:
    hour, minute = (int(x) for x in text.split(":"))
    return time(hour, minute)


def last_daily(now: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The latest moment at or before ``now`` that reads ``at`` on a wall clock in ``tz``.

    On a day whose clocks skip that time (spring forward), the moment is the one after the
    gap, as zoneinfo resolves it; a time read twice (fall back) fires at its first reading.
    """
    local_day = now.astimezone(tz).date()
    for day in (local_day, local_day - timedelta(days=1), local_day - timedelta(days=2)):
        moment = _at(day, at, tz)
        if moment <= now:
            return moment
    raise AssertionError("a daily time always came within two days")


def _at(day: date, at: time, tz: ZoneInfo) -> datetime:
    wall = datetime.combine(day, at, tzinfo=tz)
    # Round-trip through UTC: a wall time in a spring-forward gap becomes the real moment.
    return wall.astimezone(UTC)


def due_now(session: Session, *, now: datetime, schedule: Schedule) -> list[Due]:
    """Every job whose latest due time has come and is still within its grace period."""
    found: list[Due] = []
    depots = session.execute(select(Depot.id, Depot.code, Depot.timezone).order_by(Depot.id))
    for depot_id, code, zone in depots:
        tz = ZoneInfo(zone)
        times = list(schedule.waves_by_depot.get(code, schedule.waves))
        for n, at in enumerate(times):
            due_at = last_daily(now, _hhmm(at), tz)
            if now - due_at <= schedule.wave_grace:
                found.append(
                    Due(
                        job=f"planning-wave:{code}:{at.replace(':', '')}",
                        due_at=due_at,
                        task="planning.wave",
                        arguments={
                            "depot_id": depot_id,
                            "final": n == len(times) - 1,  # the last wave of the evening publishes
                            "time_limit_s": schedule.planning_time_limit_s,
                        },
                    )
                )
        if schedule.same_day_every_min > 0:
            due_at = _grid(now, schedule.same_day_every_min)
            found.append(
                Due(
                    job=f"same-day:{code}",
                    due_at=due_at,
                    task="planning.same_day",
                    arguments={
                        "depot_id": depot_id,
                        "time_limit_s": schedule.planning_time_limit_s,
                    },
                )
            )
        # Customers told before they notice (principle 4): today's stops leaving their window,
        # looked for while the depot works to a published plan today.
        today = now.astimezone(tz).date()
        if session.scalar(
            select(Plan.id)
            .where(
                Plan.depot_id == depot_id,
                Plan.delivery_day == today,
                Plan.published_at.is_not(None),
            )
            .limit(1)
        ):
            found.append(
                Due(
                    job=f"late-watch:{code}",
                    due_at=_grid(now, LATE_WATCH_MIN),
                    task="planning.watch_late",
                    arguments={"depot_id": depot_id},
                )
            )
    expiry_at = last_daily(now, _hhmm(schedule.expiry_at), ZoneInfo(schedule.timezone))
    if now - expiry_at <= schedule.expiry_grace:
        found.append(Due("loyalty-expire-points", expiry_at, "loyalty.expire_points", {}))
    # Once a day, while a customer's offer of the month (L4) is not given yet.
    offers_at = last_daily(now, _hhmm(SEGMENT_OFFERS_AT), ZoneInfo(schedule.timezone))
    if now - offers_at <= SEGMENT_OFFERS_GRACE:
        try:
            rules = segment_services.SegmentRules.from_env()
        except ValueError as exc:  # a bad setting stops this job, never the waves
            log.error("segment offers are not given: %s", exc)
        else:
            if segment_services.offers_due(session, now=now, rules=rules, limit=1):
                found.append(Due("segment-offers", offers_at, "segments.monthly_offers", {}))
    # Every minute, but only while a message waits: a quiet outbox fires nothing.
    if notification_services.anything_due(session, now=now):
        found.append(Due("notifications-deliver", _grid(now, 1), "notifications.deliver", {}))
    # Every 15 minutes, while a delivery of the last two days waits for its "how was it?".
    if quality_services.rating_invites_due(session, now=now):
        found.append(Due("rating-invites", _grid(now, 15), "quality.invite_ratings", {}))
    # Every 5 minutes, while a callback's slot passed unanswered and support was not reminded.
    if help_services.missed_callbacks(session, now=now):
        found.append(Due("callbacks-remind", _grid(now, 5), "help.remind_callbacks", {}))
    # Every 5 minutes, while a return's promised answer is near or broken and not yet acted on.
    try:
        soon = return_review.PromiseRules.from_env().soon
    except ValueError as exc:  # a bad setting stops this job, never the waves
        log.error("returns are not watched: %s", exc)
    else:
        if return_review.anything_to_watch(session, now=now, soon=soon):
            found.append(Due("returns-escalate", _grid(now, 5), "returns.escalate", {}))
    # Every 15 minutes, while a return's courier visit was missed and not yet booked again.
    if return_visits.missed_visits(session, now=now, limit=1):
        found.append(Due("returns-visits", _grid(now, 15), "returns.book_missed_visits", {}))
    return found


def _grid(now: datetime, minutes: int) -> datetime:
    """The latest moment at or before ``now`` on a grid of ``minutes`` (from 2000-01-01)."""
    every = timedelta(minutes=minutes)
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + (now - epoch) // every * every


def claim(session: Session, due: Due, *, now: datetime, by: str) -> Firing | None:
    """Insert the firing of ``due``; None when another scheduler fired it first."""
    firing = Firing(job=due.job, due_at=due.due_at, fired_at=now, fired_by=by[:100])
    try:
        with session.begin_nested():
            session.add(firing)
    except IntegrityError:
        return None
    return firing


def tick(
    factory: sessionmaker[Session], queue: Queue, *, now: datetime, schedule: Schedule, by: str
) -> list[str]:
    """One beat of the scheduler: sweep dead runs, fire what is due; returns jobs fired."""
    planning_jobs.sweep_abandoned(factory, now=now)
    with session_scope(factory) as session:
        due = due_now(session, now=now, schedule=schedule)
        session.execute(delete(Firing).where(Firing.due_at < now - KEEP_FIRINGS))
    fired = []
    for item in due:
        with session_scope(factory) as session:
            firing = claim(session, item, now=now, by=by)
            firing_id = firing.id if firing is not None else None
        if firing_id is None:
            continue
        _hand_over(factory, queue, item.task, item.arguments, firing_id, item.job, now)
        fired.append(item.job)
    _hand_over_orphans(factory, queue, now=now, schedule=schedule)
    if fired:
        log.info("scheduler fired %s", ", ".join(fired))
    return fired


def _hand_over(
    factory: sessionmaker[Session],
    queue: Queue,
    task: str,
    arguments: Mapping[str, Any],
    firing_id: int,
    job: str,
    now: datetime,
) -> None:
    queue.enqueue(task, {**arguments, "firing_id": firing_id}, key=f"{job}@{firing_id}")
    with session_scope(factory) as session:
        session.get_one(Firing, firing_id).enqueued_at = now


def _hand_over_orphans(
    factory: sessionmaker[Session], queue: Queue, *, now: datetime, schedule: Schedule
) -> None:
    """Firings whose scheduler died between claiming and enqueuing: enqueue them now, if the
    job is still due (re-computed: the task and arguments are not stored)."""
    with session_scope(factory) as session:
        orphans = session.scalars(
            select(Firing)
            .where(
                Firing.enqueued_at.is_(None),
                Firing.fired_at < now - timedelta(seconds=HANDOVER_S),
            )
            .with_for_update(skip_locked=True)
        ).all()
        if not orphans:
            return
        due = {(d.job, d.due_at): d for d in due_now(session, now=now, schedule=schedule)}
        for firing in orphans:
            item = due.get((firing.job, firing.due_at))
            # Handed over now, or too late to matter. A compare-and-set, because SQLite ignores
            # FOR UPDATE: of two schedulers sweeping at once, only one takes each orphan.
            taken = session.execute(
                update(Firing)
                .where(Firing.id == firing.id, Firing.enqueued_at.is_(None))
                .values(enqueued_at=now)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue
            if item is None:
                log.warning("firing %s of %s is past its grace; not run", firing.id, firing.job)
                continue
            queue.enqueue(
                item.task, {**item.arguments, "firing_id": firing.id}, key=f"{item.job}@{firing.id}"
            )
