"""The service dashboard's weekly figures (Q2): what the customer experienced, beside what the
company would rate itself on, per depot and week.

Every figure is a count over rows the product already records, so each can be shown as the
list it counts (``app.dashboard.lists``) and checked by counting that list again.

- **On time** (customer): of a week's delivery stops that are due (their day is over, or the
  courier reported them; not called off), the share delivered inside the window promised at
  checkout *or* inside the window we last told them (``Stop.told_*``, set by a late notice).
  The moment is the courier's arrival (the doorbell), else the moment they reported it done.
  The planned time plays no part. ``on_time_checkout`` counts the checkout window only.
- **First attempt** (customer): of orders whose first attempted delivery falls in the week,
  the share delivered at that attempt.
- **Returns kept** (customer): of return cases opened in the week whose promise has come (or
  that were answered), the share answered by their promise; a case decided at once (the fast
  track) has no promise to break and counts as kept. ``return_hours`` are the answer times.
- **Rating**: delivery ratings of the week's stops (mean, and how many were 1 or 2 stars).
- **NPS**: answers given in the week: % promoters (9 or 10) minus % detractors (0 to 6).
- **Apology bonuses**: bonus points credited in the week as an apology (a late delivery, a
  faulty product, a broken response promise, an order held with its lot), by cause; an
  offer to a regular is goodwill, not an apology, and is not counted.
- **Callbacks kept**: callbacks whose 30-minute slot has ended, answered by its end.
- **Plans feasible** (company): of the week's days with a published plan, the share whose
  last published version left no stop unrouted.
- **Stops completed** (company): of the week's due stops, the share the courier reported
  done (delivered, or attempted with a reason).

NPS, bonuses and callbacks belong to the customer, not to a depot: they are counted for all
depots, in the shop's time zone, and the page says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.fleet.models import Depot
from app.help.models import CallbackRequest
from app.help.services import SLOT
from app.orders.models import Order
from app.planning.enums import StopKind, StopOutcome
from app.planning.models import Plan, Stop
from app.quality.models import DeliveryRating, NpsAnswer, SupportCase
from loyalty.models import EntryKind, LedgerEntry
from returns.models import ReturnCase

WEEKS_MIN, WEEKS_MAX, WEEKS_DEFAULT = 2, 52, 12
LOW_RATING = 2  # a rating this low or lower is a complaint
WeekOf = Callable[[datetime], date]


@dataclass(frozen=True, slots=True)
class Ratio:
    hit: int = 0
    total: int = 0

    @property
    def share(self) -> float | None:
        return self.hit / self.total if self.total else None

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.hit + other.hit, self.total + other.total)


@dataclass(frozen=True, slots=True)
class Nps:
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """-100..100, as NPS is usually said."""
        if not self.answers:
            return None
        return 100 * (self.promoters - self.detractors) / self.answers


@dataclass(frozen=True, slots=True)
class Ratings:
    count: int = 0
    total: int = 0  # the sum of the scores
    low: int = 0

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


class Cause:
    """Why an apology bonus was credited, from the key its credit was written under."""

    LATE = "late"
    FAULTY = "faulty"
    RETURN_PROMISE = "return_promise"
    HELD = "held"

    ALL = (LATE, FAULTY, RETURN_PROMISE, HELD)


def apology_cause(key: str) -> str | None:
    """The cause of a bonus by its ledger key; None for a bonus that is not an apology."""
    if key.startswith("late:"):
        return Cause.LATE
    if key.startswith("return-breach:"):
        return Cause.RETURN_PROMISE
    if key.startswith("held:"):
        return Cause.HELD
    if key.startswith("return:") and key.endswith(":apology"):
        return Cause.FAULTY
    return None


@dataclass(frozen=True, slots=True)
class Bonuses:
    count: int = 0
    points: int = 0
    by_cause: dict[str, int] = field(default_factory=dict)  # points


@dataclass(frozen=True, slots=True)
class Week:
    start: date  # a Monday
    on_time: Ratio
    on_time_checkout: Ratio
    first_attempt: Ratio
    returns_kept: Ratio
    return_hours: tuple[float, ...]
    ratings: Ratings
    nps: Nps
    bonuses: Bonuses
    callbacks_kept: Ratio
    plans_feasible: Ratio
    stops_completed: Ratio

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def return_hours_median(self) -> float | None:
        return median(self.return_hours) if self.return_hours else None


@dataclass(frozen=True, slots=True)
class Dashboard:
    weeks: list[Week]
    depot_id: int | None
    timezone: str
    today: date

    @property
    def first(self) -> date:
        return self.weeks[0].start

    @property
    def last(self) -> date:
        return self.weeks[-1].end


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_range(today: date, weeks: int) -> tuple[date, date]:
    """The first and last day of ``weeks`` whole weeks, the last one holding ``today``."""
    last = monday(today) + timedelta(days=6)
    return monday(today) - timedelta(weeks=weeks - 1), last


def day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The moments the local days ``first``..``last`` begin and end."""
    return (
        datetime.combine(first, time(), tz),
        datetime.combine(last + timedelta(days=1), time(), tz),
    )


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def arrival() -> ColumnElement[datetime]:
    return func.coalesce(Stop.arrived_at, Stop.completed_at)


def inside_checkout() -> ColumnElement[bool]:
    moment = arrival()
    return and_(moment >= Stop.window_start_at, moment <= Stop.window_end_at)


def inside_promise() -> ColumnElement[bool]:
    """Inside the checkout window, or inside the window we last told them."""
    moment = arrival()
    told = and_(Stop.told_at.is_not(None), moment >= Stop.told_start_at, moment <= Stop.told_end_at)
    return or_(inside_checkout(), told)


def due_stops(today: date) -> ColumnElement[bool]:
    """Delivery stops whose day is over or that the courier reported, not called off."""
    return and_(
        Stop.kind == StopKind.DELIVERY,
        Stop.called_off_at.is_(None),
        or_(Stop.delivery_day < today, Stop.outcome.is_not(None)),
    )


def first_attempts() -> ColumnElement[bool]:
    """Attempted delivery stops on their order's first day of attempts.

    Said as "no later than the order's earliest attempt" (a scalar subquery per stop): each
    is one probe of ``ix_stops_attempts``. The same question as NOT EXISTS let PostgreSQL
    hash every attempt ever made, on every read (bench/dashboard.py)."""
    earlier = Stop.__table__.alias("earlier")
    first_day = (
        select(func.min(earlier.c.delivery_day))
        .where(
            earlier.c.order_id == Stop.order_id,
            earlier.c.kind == StopKind.DELIVERY,
            earlier.c.outcome.is_not(None),
        )
        .scalar_subquery()
    )
    return and_(
        Stop.kind == StopKind.DELIVERY,
        Stop.outcome.is_not(None),
        Stop.delivery_day <= first_day,
    )


def depot_ids(session: Session, depot_id: int | None) -> list[int]:
    """The depots to read: every one is named even for "all", so a week's stops are found
    by ``ix_stops_depot_day`` rather than by reading the whole table."""
    if depot_id is not None:
        return [depot_id]
    return list(session.scalars(select(Depot.id)))


def _depot(query, depots: list[int]):  # type: ignore[no-untyped-def]
    return query.where(Stop.depot_id.in_(depots))


def dashboard(
    session: Session,
    *,
    now: datetime,
    depot_id: int | None,
    shop_timezone: str,
    weeks: int = WEEKS_DEFAULT,
) -> Dashboard:
    """The figures of ``weeks`` whole weeks up to the current one, for one depot or all."""
    weeks = max(WEEKS_MIN, min(WEEKS_MAX, weeks))
    zone_name = shop_timezone
    if depot_id is not None:
        zone_name = session.get_one(Depot, depot_id).timezone
    tz = ZoneInfo(zone_name)
    today = now.astimezone(tz).date()
    first, last = week_range(today, weeks)
    depots = depot_ids(session, depot_id)
    begin, end = day_bounds(first, last, tz)

    def week_of(day: date) -> date:
        return monday(day)

    def local_week(moment: datetime) -> date:
        return monday(moment.astimezone(tz).date())

    days = and_(Stop.delivery_day >= first, Stop.delivery_day <= last)
    on_time: dict[date, Ratio] = defaultdict(Ratio)
    checkout: dict[date, Ratio] = defaultdict(Ratio)
    completed: dict[date, Ratio] = defaultdict(Ratio)
    delivered = Stop.outcome == StopOutcome.DELIVERED
    rows = session.execute(
        _depot(
            select(
                Stop.delivery_day,
                func.count(),
                _flag(and_(delivered, inside_promise())),
                _flag(and_(delivered, inside_checkout())),
                _flag(Stop.outcome.is_not(None)),
            )
            .where(days, due_stops(today))
            .group_by(Stop.delivery_day),
            depots,
        )
    )
    for day, due, promised, at_checkout, done in rows:
        w = week_of(day)
        on_time[w] += Ratio(promised, due)
        checkout[w] += Ratio(at_checkout, due)
        completed[w] += Ratio(done, due)

    first_attempt: dict[date, Ratio] = defaultdict(Ratio)
    rows = session.execute(
        _depot(
            select(Stop.delivery_day, func.count(), _flag(delivered))
            .where(days, first_attempts())
            .group_by(Stop.delivery_day),
            depots,
        )
    )
    for day, attempts, ok in rows:
        first_attempt[week_of(day)] += Ratio(ok, attempts)

    ratings: dict[date, Ratings] = defaultdict(Ratings)
    rows = session.execute(
        _depot(
            select(
                Stop.delivery_day,
                func.count(),
                func.coalesce(func.sum(DeliveryRating.score), 0),
                _flag(DeliveryRating.score <= LOW_RATING),
            )
            .join(Stop, Stop.id == DeliveryRating.stop_id)
            .where(days)
            .group_by(Stop.delivery_day),
            depots,
        )
    )
    for day, count, total, low in rows:
        r = ratings[week_of(day)]
        ratings[week_of(day)] = Ratings(r.count + count, r.total + total, r.low + low)

    plans: dict[date, Ratio] = defaultdict(Ratio)
    latest: dict[tuple[int, date], tuple[int, int]] = {}
    query = select(Plan.depot_id, Plan.delivery_day, Plan.version, Plan.stops_unassigned).where(
        Plan.published_at.is_not(None), Plan.delivery_day >= first, Plan.delivery_day <= last
    )
    if depot_id is not None:
        query = query.where(Plan.depot_id == depot_id)
    for plan_depot, day, version, unassigned in session.execute(query):
        known = latest.get((plan_depot, day))
        if known is None or version > known[0]:
            latest[(plan_depot, day)] = (version, unassigned or 0)
    for (_, day), (_, unassigned) in latest.items():
        plans[week_of(day)] += Ratio(int(unassigned == 0), 1)

    returns_kept, return_hours = _returns(session, depot_id, begin, end, now, local_week)
    nps = _nps(session, begin, end, local_week)
    bonuses = _bonuses(session, begin, end, local_week)
    callbacks = _callbacks(session, begin, end, now, local_week)

    out = []
    start = first
    while start <= last:
        out.append(
            Week(
                start=start,
                on_time=on_time[start],
                on_time_checkout=checkout[start],
                first_attempt=first_attempt[start],
                returns_kept=returns_kept[start],
                return_hours=tuple(return_hours[start]),
                ratings=ratings[start],
                nps=nps[start],
                bonuses=bonuses[start],
                callbacks_kept=callbacks[start],
                plans_feasible=plans[start],
                stops_completed=completed[start],
            )
        )
        start += timedelta(weeks=1)
    return Dashboard(weeks=out, depot_id=depot_id, timezone=zone_name, today=today)


def _returns(
    session: Session,
    depot_id: int | None,
    begin: datetime,
    end: datetime,
    now: datetime,
    local_week: WeekOf,
) -> tuple[dict[date, Ratio], dict[date, list[float]]]:
    kept: dict[date, Ratio] = defaultdict(Ratio)
    hours: dict[date, list[float]] = defaultdict(list)
    query = select(ReturnCase.created_at, ReturnCase.respond_by, ReturnCase.answered_at).where(
        ReturnCase.created_at >= begin, ReturnCase.created_at < end
    )
    if depot_id is not None:
        query = query.join(Order, Order.id == ReturnCase.order_id).where(Order.depot_id == depot_id)
    for created_at, respond_by, answered_at in session.execute(query):
        w = local_week(created_at)
        verdict = return_kept(respond_by, answered_at, now)
        if verdict is None:
            continue  # still within its promise, unanswered: not yet a figure
        kept[w] += Ratio(int(verdict), 1)
        if respond_by is None:
            hours[w].append(0.0)
        elif answered_at is not None:
            hours[w].append(max(0.0, (answered_at - created_at).total_seconds() / 3600))
    return kept, hours


def return_kept(
    respond_by: datetime | None, answered_at: datetime | None, now: datetime
) -> bool | None:
    """Whether a return case kept its promised response time; None while it still may."""
    if respond_by is None:
        return True  # decided the moment it was asked: no promise to keep
    if answered_at is not None:
        return answered_at <= respond_by
    return False if now > respond_by else None


def nps_group(score: int) -> str:
    return "promoter" if score >= 9 else "detractor" if score <= 6 else "passive"


def _nps(session: Session, begin: datetime, end: datetime, local_week: WeekOf) -> dict[date, Nps]:
    found: dict[date, Nps] = defaultdict(Nps)
    rows = session.execute(
        select(NpsAnswer.answered_at, NpsAnswer.score).where(
            NpsAnswer.answered_at >= begin,
            NpsAnswer.answered_at < end,
            NpsAnswer.score.is_not(None),
        )
    )
    for answered_at, score in rows:
        w = local_week(answered_at)
        n, group = found[w], nps_group(score)
        found[w] = Nps(
            n.promoters + (group == "promoter"),
            n.passives + (group == "passive"),
            n.detractors + (group == "detractor"),
        )
    return found


def _bonuses(
    session: Session, begin: datetime, end: datetime, local_week: WeekOf
) -> dict[date, Bonuses]:
    found: dict[date, Bonuses] = defaultdict(Bonuses)
    rows = session.execute(
        select(LedgerEntry.created_at, LedgerEntry.idempotency_key, LedgerEntry.points).where(
            LedgerEntry.kind == EntryKind.BONUS,
            LedgerEntry.created_at >= begin,
            LedgerEntry.created_at < end,
        )
    )
    for created_at, key, points in rows:
        cause = apology_cause(key)
        if cause is None:
            continue
        w = local_week(created_at)
        b = found[w]
        by_cause = dict(b.by_cause)
        by_cause[cause] = by_cause.get(cause, 0) + points
        found[w] = Bonuses(b.count + 1, b.points + points, by_cause)
    return found


def callback_kept(slot_start_at: datetime, answered_at: datetime | None) -> bool:
    return answered_at is not None and answered_at <= slot_start_at + SLOT


def _callbacks(
    session: Session,
    begin: datetime,
    end: datetime,
    now: datetime,
    local_week: WeekOf,
) -> dict[date, Ratio]:
    found: dict[date, Ratio] = defaultdict(Ratio)
    rows = session.execute(
        select(CallbackRequest.slot_start_at, SupportCase.answered_at)
        .join(SupportCase, SupportCase.id == CallbackRequest.case_id)
        .where(
            CallbackRequest.slot_start_at >= begin,
            CallbackRequest.slot_start_at < end,
            CallbackRequest.slot_start_at <= now - SLOT,
        )
    )
    for slot_start_at, answered_at in rows:
        found[local_week(slot_start_at)] += Ratio(int(callback_kept(slot_start_at, answered_at)), 1)
    return found


def depots(session: Session) -> list[tuple[int, str]]:
    return [(d.id, d.name) for d in session.scalars(select(Depot).order_by(Depot.name))]
