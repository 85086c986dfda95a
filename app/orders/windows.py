"""Delivery windows on a given day and their cut-offs, in the depot's local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.orders.models import DeliveryWindowTemplate


@dataclass(frozen=True, slots=True)
class DayWindow:
    template_id: int
    label: str
    start_at: datetime
    end_at: datetime
    cutoff_at: datetime

    def is_open(self, now: datetime) -> bool:
        return now < self.cutoff_at


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def window_on(template: DeliveryWindowTemplate, day: date, tz: ZoneInfo) -> DayWindow:
    """Place a window template on a calendar day; minutes are wall-clock minutes in ``tz``."""
    midnight = local_midnight(day, tz)

    def at(d: date, minute: int) -> datetime:
        # Wall-clock arithmetic (not elapsed time) so a window stays 08:00 on DST days.
        base = local_midnight(d + timedelta(days=minute // 1440), tz)
        return base.replace(hour=(minute % 1440) // 60, minute=minute % 60)

    return DayWindow(
        template_id=template.id,
        label=template.label,
        start_at=at(midnight.date(), template.start_minute),
        end_at=at(midnight.date(), template.end_minute),
        cutoff_at=at(day - timedelta(days=template.cutoff_days_before), template.cutoff_minute),
    )


def templates_for_depot(session: Session, depot_id: int) -> list[DeliveryWindowTemplate]:
    return list(
        session.scalars(
            select(DeliveryWindowTemplate)
            .where(DeliveryWindowTemplate.depot_id == depot_id)
            .order_by(DeliveryWindowTemplate.start_minute, DeliveryWindowTemplate.end_minute)
        )
    )


def windows_for_day(session: Session, depot_id: int, day: date, tz: ZoneInfo) -> list[DayWindow]:
    return [window_on(t, day, tz) for t in templates_for_depot(session, depot_id)]
