"""Tell them before they notice (principle 4): when a stop's projected arrival leaves, or is
about to leave, the window we promised, its customer is told at once with the cause and the
new window, and the shop's apology policy may credit a bonus. One message per stop: a
courier falling further behind does not send a second one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.fleet.models import Depot
from app.messages import Message, say
from app.notifications import services as notifications
from app.planning.models import Plan
from app.planning.progress import projection
from app.planning.tracking import expected_window
from loyalty import services as loyalty_services


@dataclass(frozen=True, slots=True)
class LatenessRules:
    """The shop's make-good for a late delivery (0 points: an apology in words only)."""

    bonus_points: int = 50

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LatenessRules:
        env = os.environ if env is None else env
        points = int(env.get("ROUNDTRIP_LATE_BONUS_POINTS", "50"))
        if not 0 <= points <= 10_000:
            raise ValueError("ROUNDTRIP_LATE_BONUS_POINTS must be between 0 and 10000")
        return cls(bonus_points=points)


RUNNING_BEHIND = say("your courier is running behind on the stops before yours")
LATE_START = say("your courier set out later than planned")
REPLANNED = say("we had to change today's routes")
VEHICLE_FAILED = say(
    "your courier's vehicle failed its safety check, so another courier takes your order"
)


def _message(collecting: bool, points: int, facts: dict[str, object]) -> Message:
    """The customer's words: a delivery, or the courier's visit for a return."""
    if collecting and points:
        return say(
            "The courier's visit for your return from order %(number)s is running late: "
            "%(cause)s. We now expect to be with you %(start)s–%(end)s instead of "
            "%(promised_start)s–%(promised_end)s. We are sorry; %(points)s bonus points are "
            "on your account as our apology.",
            points=points,
            **facts,
        )
    if collecting:
        return say(
            "The courier's visit for your return from order %(number)s is running late: "
            "%(cause)s. We now expect to be with you %(start)s–%(end)s instead of "
            "%(promised_start)s–%(promised_end)s. We are sorry.",
            **facts,
        )
    if points:
        return say(
            "We are running late with order %(number)s: %(cause)s. We now expect to "
            "be with you %(start)s–%(end)s instead of %(promised_start)s–"
            "%(promised_end)s. We are sorry; %(points)s bonus points are on your "
            "account as our apology.",
            points=points,
            **facts,
        )
    return say(
        "We are running late with order %(number)s: %(cause)s. We now expect to "
        "be with you %(start)s–%(end)s instead of %(promised_start)s–"
        "%(promised_end)s. We are sorry.",
        **facts,
    )


def warn_late(
    session: Session,
    plan: Plan,
    *,
    now: datetime,
    cause: Message | None = None,
    rules: LatenessRules | None = None,
) -> list[int]:
    """Tell the customer of each stop of a published plan now at risk of missing its window,
    once per stop; returns the stops told. ``cause`` is given when the caller knows it (a
    vehicle lost); otherwise it is read from the route."""
    rules = rules or LatenessRules.from_env()
    tz = ZoneInfo(session.get_one(Depot, plan.depot_id).timezone)
    told = []
    progress = projection(session, plan, now=now)
    for route in plan.routes:
        going = route.under_way
        for visit in route.visits:
            stop, p = visit.stop, progress.get(visit.id)
            if stop.done or stop.order is None or p is None or not p.at_risk:
                continue
            if p.projected_start is None:
                continue
            start, end, _ = expected_window(
                p.projected_start, stop.window_start_at, stop.window_end_at, at_risk=True
            )
            why = cause or (
                RUNNING_BEHIND if going else LATE_START if now >= route.start_at else REPLANNED
            )
            # Told while only at risk, the customer gets the words; the apology bonus is for a
            # projection already past the promise (simulated, 89 % of at-risk stops still
            # arrived in time: bench "Simulated days").
            points = rules.bonus_points if p.projected_start > stop.window_end_at else 0
            key = f"late:{stop.id}"

            def hhmm(moment: datetime) -> str:
                return moment.astimezone(tz).strftime("%H:%M")

            facts = {
                "number": stop.order.number,
                "cause": why,
                "start": hhmm(start),
                "end": hhmm(end),
                "promised_start": hhmm(stop.window_start_at),
                "promised_end": hhmm(stop.window_end_at),
            }
            message = _message(stop.return_case_id is not None, points, facts)
            if session.scalar(
                select(notifications.Notification.id).where(notifications.Notification.key == key)
            ):
                continue  # told before, by an earlier look at this day
            stop.told_start_at, stop.told_end_at, stop.told_at = start, end, now
            notifications.notify(
                session,
                customer_id=stop.order.customer_id,
                kind=notifications.NoticeKind.LATE,
                message=message,
                key=key,
                now=now,
                order_id=stop.order_id,
            )
            if points:
                loyalty_services.credit_bonus(
                    session,
                    customer_id=stop.order.customer_id,
                    points=points,
                    reason=say("Our apology: order %(number)s is late", number=stop.order.number),
                    source=f"stop:{stop.id}",
                    now=now,
                    key=key,
                )
            told.append(stop.id)
    session.flush()
    return told
