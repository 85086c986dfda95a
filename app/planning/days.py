"""Which day an action belongs to: work on a delivery day is done on that day.

A courier's report is a fact about the real world, so it is accepted only while the route's
day is under way in the depot's own time zone (give or take a margin for night shifts); a
plan for a day that is over is history and is no longer changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.errors import Conflict
from app.fleet.models import Depot
from app.messages import Message, say
from app.orders.windows import local_midnight

# Night shifts start before midnight and end after it: a report up to this long before the
# day begins or after it ends still belongs to it. ROUNDTRIP_REPORT_MARGIN_H overrides it.
DEFAULT_REPORT_MARGIN = timedelta(hours=4)


@dataclass(frozen=True, slots=True)
class DaySpan:
    """When a delivery day's work may be reported, in the depot's time zone."""

    day: date
    tz: ZoneInfo
    opens_at: datetime
    closes_at: datetime

    def contains(self, moment: datetime) -> bool:
        return self.opens_at <= moment < self.closes_at

    def describe(self) -> Message:
        """When reports are taken, in the depot's time (named: the reader may be elsewhere)."""
        return say(
            "from %(opens)s until %(closes)s (%(zone)s time)",
            opens=self.opens_at.astimezone(self.tz),
            closes=self.closes_at.astimezone(self.tz),
            zone=self.tz.key,
        )


def day_span(tz: ZoneInfo, day: date, margin: timedelta = DEFAULT_REPORT_MARGIN) -> DaySpan:
    """The day from local midnight to the next (23, 24 or 25 hours), widened by ``margin``."""
    # In UTC: arithmetic on two times of one ZoneInfo is wall-clock arithmetic, which would
    # give every day 24 hours and shift a margin by the DST jump.
    start = local_midnight(day, tz).astimezone(UTC)
    end = local_midnight(day + timedelta(days=1), tz).astimezone(UTC)
    return DaySpan(day, tz, start - margin, end + margin)


def depot_zone(session: Session, depot_id: int) -> ZoneInfo:
    return ZoneInfo(session.get_one(Depot, depot_id).timezone)


def ensure_reportable(
    session: Session,
    *,
    depot_id: int,
    day: date,
    at: datetime,
    margin: timedelta = DEFAULT_REPORT_MARGIN,
) -> None:
    """Refuse a report of a stop outside its delivery day: nothing has happened yet (or the
    day is long over), so recording it would credit points for a delivery that did not."""
    span = day_span(depot_zone(session, depot_id), day, margin)
    if span.contains(at):
        return
    if at < span.opens_at:
        raise Conflict(
            say(
                "This stop is on the route for %(day)s, so it cannot be reported yet: reports "
                "for that day are taken %(span)s. Nothing was recorded.",
                day=day,
                span=span.describe(),
            )
        )
    raise Conflict(
        say(
            "This stop was on the route for %(day)s, which is over: reports for that day were "
            "taken %(span)s. Nothing was recorded; tell your dispatcher what happened.",
            day=day,
            span=span.describe(),
        )
    )


def ensure_day_not_over(
    session: Session,
    *,
    depot_id: int,
    day: date,
    now: datetime,
    margin: timedelta = DEFAULT_REPORT_MARGIN,
) -> None:
    """Refuse to plan, edit or publish a day that is over: its plan is a record now."""
    span = day_span(depot_zone(session, depot_id), day, margin)
    if now >= span.closes_at:
        raise Conflict(
            say(
                "%(day)s is over, so its plan can no longer be changed or published. Choose "
                "today or a later day.",
                day=day,
            )
        )
