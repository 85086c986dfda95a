"""A return's courier visit that did not happen is booked again: the customer is not left
holding a broken kettle because nobody was home, or because the day's routes had no room.

A visit is missed when its courier reported it failed, or when its day's window ended two
hours ago (late reports have time to arrive) with nothing reported. The case then gets a
visit on the shop's next day, inserted into that day's routes if they are published, and
the customer is told when. After ``MAX_VISITS`` visits support takes it over instead: a
person calls the customer rather than a courier driving out a fourth time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.messages import say
from app.notifications import services as notifications
from app.notifications.models import Notification
from app.planning.enums import StopOutcome
from app.planning.models import Stop
from returns import services as return_services
from returns.models import ReturnCase, ReturnEvent
from returns.policy import Outcome

MAX_VISITS = 3
REPORT_GRACE = timedelta(hours=2)


def _missed(now: datetime) -> ColumnElement[bool]:
    """The stop of a return not declined that failed, or whose window passed unreported,
    with no visit on a later day."""
    later = aliased(Stop)
    return and_(
        Stop.return_case_id.is_not(None),
        Stop.called_off_at.is_(None),
        or_(
            Stop.outcome == StopOutcome.FAILED,
            and_(Stop.completed_at.is_(None), Stop.window_end_at < now - REPORT_GRACE),
        ),
        ~exists().where(
            later.return_case_id == Stop.return_case_id,
            later.delivery_day > Stop.delivery_day,
        ),
    )


def _handed_to_support(case_id: int) -> str:
    return f"return-visits:{case_id}"


def missed_visits(session: Session, *, now: datetime, limit: int | None = None) -> list[int]:
    """Return cases whose latest visit was missed and is not yet booked again, nor handed to
    support after ``MAX_VISITS`` (their ids): the scheduler stops looking once support has it."""
    found = list(
        session.scalars(
            select(ReturnCase.id)
            .join(Stop, Stop.return_case_id == ReturnCase.id)
            .where(_missed(now), ReturnCase.status != Outcome.DECLINED.value)
            .order_by(ReturnCase.id)
        )
    )
    if found:
        handed = set(
            session.scalars(
                select(Notification.key).where(
                    Notification.key.in_([_handed_to_support(i) for i in found])
                )
            )
        )
        found = [i for i in found if _handed_to_support(i) not in handed]
    return found if limit is None else found[:limit]


def book_again(session: Session, *, case_id: int, now: datetime) -> Stop | None:
    """Book the next visit of a case whose visit was missed; tell the customer when. None
    when there is nothing to do (booked meanwhile, declined) or support took it over."""
    case = session.get(ReturnCase, case_id)
    if case is None or case.status == Outcome.DECLINED.value:
        return None
    missed = session.scalar(
        select(Stop)
        .where(Stop.return_case_id == case_id, _missed(now))
        .order_by(Stop.delivery_day.desc())
        .limit(1)
    )
    if missed is None:
        return None
    visits = session.scalar(
        select(func.count()).select_from(Stop).where(Stop.return_case_id == case_id)
    )
    number = case.order.number
    if (visits or 0) >= MAX_VISITS:
        notifications.notify_staff(
            session,
            kind=notifications.NoticeKind.ESCALATION,
            message=say(
                "Return R%(case)s of order %(number)s: the courier missed %(visits)s visits. "
                "Call the customer to agree how we collect it.",
                case=case.id,
                number=number,
                visits=visits or 0,
            ),
            key=_handed_to_support(case.id),
            now=now,
            order_id=case.order_id,
            case_id=case.id,
        )
        return None
    stop = return_services.schedule_collection(session, case, now=now)
    why = (
        say("The courier could not collect your return: nobody was at home.")
        if missed.outcome == StopOutcome.FAILED and missed.failure_reason == "not_home"
        else say("The courier could not come for your return as planned.")
    )
    told = say(
        "%(why)s We come again on %(day)s; the time is on your return's page as soon as the "
        "route is made. We are sorry for the wait.",
        why=why,
        day=stop.delivery_day,
    )
    case.events.append(ReturnEvent(at=now, message=told))
    notifications.notify(
        session,
        customer_id=case.customer_id,
        kind=notifications.NoticeKind.RETURN_UPDATE,
        message=told,
        key=f"return-visit:{case.id}:{stop.delivery_day.isoformat()}",
        now=now,
        order_id=case.order_id,
        case_id=case.id,
    )
    session.flush()
    return stop
