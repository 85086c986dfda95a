"""Feedback (Q1): rate a delivery, answer the NPS question, and support's answer to the case
a low score opens.

Services take a Session and ``now`` and only flush; the caller commits.

Decisions, as made here:

- A delivery is rated once: the order's delivery stop that the courier reported delivered
  (one per order; a stop that failed first and was delivered another day is the delivered
  one). An order marked delivered with no such stop has nothing to rate. A second rating is
  a Conflict, also when two arrive at once (the unique stop_id decides).
- A rating of 2 or less, or an NPS score of 6 or less, opens a support case with the time by
  which we promise to answer (``respond_by`` = opened + ROUNDTRIP_SUPPORT_RESPONSE_HOURS,
  default 24, between 1 and 336), and the customer is told that time (a message, and the
  page says it).
- The NPS question is put at most twice a year: a customer is asked only if they were asked
  fewer than 2 times in the last 365 days (an ask exactly 365 days ago no longer counts) and
  their last ask is at least 90 days old (exactly 90 days is enough). An ask the customer
  never answered counts as an ask; it stays open (answerable, shown again) for those 90 days.
- Support answers a case once (compare-and-set on ``status = 'open'``: of two agents
  answering at once, one wins, the other is told it was answered); the customer gets the
  answer as a message.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, exists, func, literal, select, update
from sqlalchemy import case as case_when
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.customers.models import Customer
from app.errors import Conflict, ErrorCollector, NotFound
from app.fleet.models import Depot
from app.messages import Message, say
from app.notifications import services as notifications
from app.orders.models import Order, OrderStatus
from app.planning.enums import StopKind, StopOutcome
from app.planning.models import Stop
from app.quality.models import (
    COMMENT_MAX,
    QUESTION_TAG_MAX,
    CaseSource,
    CaseStatus,
    DeliveryRating,
    NpsAnswer,
    SupportCase,
)

__all__ = [
    "ANSWER_MAX",
    "COMMENT_MAX",
    "LOW_NPS",
    "LOW_RATING",
    "NPS_MIN_GAP",
    "NPS_PER_YEAR",
    "NPS_YEAR",
    "CaseRow",
    "CaseView",
    "CasesPage",
    "OrderFeedback",
    "Rated",
    "SupportRules",
    "answer_case",
    "answer_nps",
    "ask_nps",
    "case_view",
    "cases_page",
    "delivered_stop",
    "invite_to_rate",
    "nps_due",
    "open_nps",
    "order_feedback",
    "rate_delivery",
    "rating_invites_due",
]

LOW_RATING = 2  # a rating of this or less opens a case
LOW_NPS = 6  # an NPS score of this or less (a "detractor") opens a case
NPS_PER_YEAR = 2
NPS_YEAR = timedelta(days=365)
NPS_MIN_GAP = timedelta(days=90)
ANSWER_MAX = 2_000
PER_PAGE_MAX = 100

_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class SupportRules:
    """How long support has to answer a case (from the environment by default)."""

    response: timedelta = timedelta(hours=24)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SupportRules:
        env = os.environ if env is None else env
        raw = env.get("ROUNDTRIP_SUPPORT_RESPONSE_HOURS", "24")
        try:
            hours = float(raw)
        except ValueError:
            raise ValueError(
                f"ROUNDTRIP_SUPPORT_RESPONSE_HOURS must be a number of hours, not {raw!r}"
            ) from None
        if not 1 <= hours <= 24 * 14:
            raise ValueError("ROUNDTRIP_SUPPORT_RESPONSE_HOURS must be between 1 and 336")
        return cls(response=timedelta(hours=hours))


# --- Checking what the customer sent -------------------------------------------------------


def _score(errors: ErrorCollector, field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.add(field, say("Choose a score from %(low)s to %(high)s.", low=low, high=high))
        return low
    return value


def _words(
    errors: ErrorCollector, field: str, value: object, limit: int, *, required: bool = False
) -> str | None:
    """The text stripped (None when empty and optional), or a problem noted under ``field``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, say("Write it as text."))
        return None
    words = value.strip()
    if not words:
        if required:
            errors.add(field, say("Write the answer the customer will read."))
        return None
    if len(words) > limit:
        errors.add(field, say("Keep it under %(n)s characters.", n=limit))
    elif _BAD_CHARACTERS.search(words):
        errors.add(field, say("Remove the characters that cannot be stored (such as NUL)."))
    return words


def _page_number(errors: ErrorCollector, page: object, per_page: object) -> tuple[int, int]:
    ok_page = isinstance(page, int) and not isinstance(page, bool) and 1 <= page <= 1_000_000
    ok_per = (
        isinstance(per_page, int)
        and not isinstance(per_page, bool)
        and 1 <= per_page <= PER_PAGE_MAX
    )
    if not ok_page:
        errors.add("page", say("Choose a page from 1 to %(n)s.", n=1_000_000))
    if not ok_per:
        errors.add("per_page", say("Show 1 to %(n)s rows a page.", n=PER_PAGE_MAX))
    return (page if ok_page else 1, per_page if ok_per else 25)  # type: ignore[return-value]


# --- Where and when ----------------------------------------------------------------------


def _zone(session: Session, customer_id: int, order_id: int | None) -> ZoneInfo:
    """The time zone the customer reads times in: their order's depot, else their latest
    order's, else UTC."""
    query = select(Depot.timezone).join(Order, Order.depot_id == Depot.id)
    if order_id is not None:
        zone = session.scalar(query.where(Order.id == order_id))
    else:
        zone = session.scalar(
            query.where(Order.customer_id == customer_id)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(1)
        )
    return ZoneInfo(zone or "UTC")


def _open_case(
    session: Session,
    *,
    customer_id: int,
    order_id: int | None,
    source: CaseSource,
    summary: Message,
    now: datetime,
    rules: SupportRules,
    rating_id: int | None = None,
    nps_answer_id: int | None = None,
) -> SupportCase:
    """Open a case with its promise and tell the customer when they will hear from us."""
    case = SupportCase(
        customer_id=customer_id,
        order_id=order_id,
        source=source.value,
        rating_id=rating_id,
        nps_answer_id=nps_answer_id,
        summary=summary,
        opened_at=now,
        respond_by=now + rules.response,
        status=CaseStatus.OPEN.value,
    )
    session.add(case)
    session.flush()
    notifications.notify(
        session,
        customer_id=customer_id,
        kind=notifications.NoticeKind.SUPPORT_OPENED,
        message=promise_message(case.respond_by.astimezone(_zone(session, customer_id, order_id))),
        key=f"support-opened:{case.id}",
        now=now,
        order_id=order_id,
    )
    return case


def promise_message(respond_by: datetime) -> Message:
    """What the customer is told when a low score opens a case (``respond_by`` in their zone)."""
    return say(
        "We are sorry it was not good enough. A person from our support team will answer you "
        "by %(time)s.",
        time=respond_by,
    )


# --- Rating a delivery ---------------------------------------------------------------------


def delivered_stop(session: Session, order_id: int) -> Stop | None:
    """The order's own delivery stop that the courier reported delivered (None: none yet)."""
    return session.scalar(
        select(Stop)
        .where(
            Stop.order_id == order_id,
            Stop.kind == StopKind.DELIVERY.value,
            Stop.return_case_id.is_(None),
            Stop.outcome == StopOutcome.DELIVERED.value,
        )
        .order_by(Stop.completed_at.desc(), Stop.id.desc())
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class Rated:
    """A rating kept, and the case it opened (a low score) with what the customer was told."""

    rating: DeliveryRating
    case: SupportCase | None
    told: Message | None


def rate_delivery(
    session: Session,
    *,
    order_id: int,
    customer_id: int,
    score: int,
    comment: str | None,
    now: datetime,
    rules: SupportRules | None = None,
) -> Rated:
    """Keep the customer's rating of their delivered order (1..5, an optional comment), once;
    a score of 2 or less opens a support case and tells the customer when we will answer."""
    errors = ErrorCollector()
    score = _score(errors, "score", score, 1, 5)
    words = _words(errors, "comment", comment, COMMENT_MAX)
    errors.raise_if_any()
    order = session.get(Order, order_id)
    if order is None or order.customer_id != customer_id:
        raise NotFound(say("There is no order %(id)s.", id=str(order_id)))
    stop = delivered_stop(session, order.id) if order.status == OrderStatus.DELIVERED else None
    if stop is None:
        raise Conflict(
            say(
                "Order %(number)s has not been delivered yet, so there is nothing to rate.",
                number=order.number,
            )
        )
    already = say(
        "You have already rated the delivery of order %(number)s. Thank you.",
        number=order.number,
    )
    if session.scalar(select(DeliveryRating.id).where(DeliveryRating.stop_id == stop.id)):
        raise Conflict(already)
    rating = DeliveryRating(
        stop_id=stop.id,
        order_id=order.id,
        customer_id=customer_id,
        score=score,
        comment=words,
        created_at=now,
    )
    try:
        with session.begin_nested():  # two ratings at once: the unique stop_id keeps one
            session.add(rating)
    except IntegrityError:
        raise Conflict(already) from None
    if score > LOW_RATING:
        session.flush()
        return Rated(rating, None, None)
    summary = (
        say(
            "Rated the delivery of order %(number)s %(score)s of 5: %(comment)s",
            number=order.number,
            score=score,
            comment=words,
        )
        if words
        else say(
            "Rated the delivery of order %(number)s %(score)s of 5, without a comment.",
            number=order.number,
            score=score,
        )
    )
    case = _open_case(
        session,
        customer_id=customer_id,
        order_id=order.id,
        source=CaseSource.RATING,
        summary=summary,
        now=now,
        rules=rules or SupportRules.from_env(),
        rating_id=rating.id,
    )
    session.flush()
    told = promise_message(case.respond_by.astimezone(ZoneInfo(order.depot.timezone)))
    return Rated(rating, case, told)


INVITE_WITHIN = timedelta(hours=48)  # deliveries older than this are not invited to rate


def rating_invites_due(
    session: Session, *, now: datetime, within: timedelta = INVITE_WITHIN, limit: int = 500
) -> list[int]:
    """Delivered stops of the last ``within`` not yet rated and not yet invited to be, oldest
    delivery first (at most ``limit``)."""
    found = session.scalars(
        select(Stop.id)
        .outerjoin(DeliveryRating, DeliveryRating.stop_id == Stop.id)
        .where(
            Stop.kind == StopKind.DELIVERY.value,
            Stop.return_case_id.is_(None),
            Stop.outcome == StopOutcome.DELIVERED.value,
            Stop.completed_at > now - within,
            Stop.completed_at <= now,
            DeliveryRating.id.is_(None),
            # Invited ones are left out before the limit: most customers never rate, and the
            # oldest invited must not hide the newest waiting.
            ~exists().where(
                notifications.Notification.key == literal(_INVITE_PREFIX) + cast(Stop.id, String)
            ),
        )
        .order_by(Stop.completed_at, Stop.id)
        .limit(limit)
    ).all()
    if not found:
        return []
    sent = set(
        session.scalars(
            select(notifications.Notification.key).where(
                notifications.Notification.key.in_([_invite_key(i) for i in found])
            )
        )
    )
    return [i for i in found if _invite_key(i) not in sent]


_INVITE_PREFIX = "rate-invite:stop:"


def _invite_key(stop_id: int) -> str:
    return f"{_INVITE_PREFIX}{stop_id}"


def invite_to_rate(session: Session, *, stop_id: int, now: datetime) -> bool:
    """Ask the customer of a delivered stop to rate it, once (the message carries the order
    page's link, where the rating form is); True if a message was written now."""
    stop = session.get(Stop, stop_id)
    if stop is None or stop.order is None or stop.outcome != StopOutcome.DELIVERED:
        return False
    if session.scalar(select(DeliveryRating.id).where(DeliveryRating.stop_id == stop.id)):
        return False
    key = _invite_key(stop.id)
    if session.scalar(
        select(notifications.Notification.id).where(notifications.Notification.key == key)
    ):
        return False
    notifications.notify(
        session,
        customer_id=stop.order.customer_id,
        kind=notifications.NoticeKind.RATING_INVITE,
        message=say(
            "Order %(number)s was delivered. How was it? Rate the delivery on your order's "
            "page: it takes a tap.",
            number=stop.order.number,
        ),
        key=key,
        now=now,
        order_id=stop.order.id,
    )
    session.flush()
    return True


# --- The NPS question ----------------------------------------------------------------------


def nps_due(session: Session, customer_id: int, now: datetime) -> bool:
    """Whether the customer may be asked the NPS question now: fewer than 2 asks in the last
    365 days, and none in the last 90."""
    count, last = session.execute(
        select(func.count(NpsAnswer.id), func.max(NpsAnswer.asked_at)).where(
            NpsAnswer.customer_id == customer_id,
            NpsAnswer.asked_at > now - NPS_YEAR,
            NpsAnswer.asked_at <= now,
        )
    ).one()
    if count >= NPS_PER_YEAR:
        return False
    if last is None:
        return True
    return now - last >= NPS_MIN_GAP


def open_nps(session: Session, customer_id: int, now: datetime) -> NpsAnswer | None:
    """The question put to the customer in the last 90 days that they have not answered."""
    return session.scalar(
        select(NpsAnswer)
        .where(
            NpsAnswer.customer_id == customer_id,
            NpsAnswer.answered_at.is_(None),
            NpsAnswer.asked_at > now - NPS_MIN_GAP,
            NpsAnswer.asked_at <= now,
        )
        .order_by(NpsAnswer.asked_at.desc(), NpsAnswer.id.desc())
        .limit(1)
    )


def ask_nps(
    session: Session, *, customer_id: int, now: datetime, order_id: int | None = None
) -> NpsAnswer | None:
    """Put the NPS question to the customer if it is due (the open one if they were asked and
    have not answered yet); None: not now."""
    waiting = open_nps(session, customer_id, now)
    if waiting is not None:
        return waiting
    if not nps_due(session, customer_id, now):
        return None
    ask = NpsAnswer(customer_id=customer_id, order_id=order_id, asked_at=now)
    try:
        with session.begin_nested():  # one open question a customer (a unique index)
            session.add(ask)
    except IntegrityError:  # two pages asked at once: the other one's question stands
        return open_nps(session, customer_id, now)
    return ask


def answer_nps(
    session: Session,
    *,
    customer_id: int,
    score: int,
    why: str | None,
    now: datetime,
    order_id: int | None = None,
    rules: SupportRules | None = None,
) -> NpsAnswer:
    """Keep the customer's answer (0..10 and why) to the question put to them; a score of 6
    or less opens a support case. Without an open question, one is asked and answered now if
    it is due; otherwise this is a Conflict (we asked recently, or they already answered)."""
    errors = ErrorCollector()
    score = _score(errors, "score", score, 0, 10)
    words = _words(errors, "why", why, COMMENT_MAX)
    errors.raise_if_any()
    if session.get(Customer, customer_id) is None:
        raise NotFound(say("There is no customer %(id)s.", id=str(customer_id)))
    ask = ask_nps(session, customer_id=customer_id, now=now, order_id=order_id)
    if ask is None:
        raise Conflict(say("Thank you: you already told us how likely you are to recommend us."))
    claimed = session.execute(
        update(NpsAnswer)
        .where(NpsAnswer.id == ask.id, NpsAnswer.answered_at.is_(None))
        .values(answered_at=now, score=score, why=words)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(say("Thank you: you already told us how likely you are to recommend us."))
    session.refresh(ask)
    if score <= LOW_NPS:
        summary = (
            say(
                "Answered %(score)s of 10 to how likely they are to recommend us: %(why)s",
                score=score,
                why=words,
            )
            if words
            else say(
                "Answered %(score)s of 10 to how likely they are to recommend us, without "
                "saying why.",
                score=score,
            )
        )
        _open_case(
            session,
            customer_id=customer_id,
            order_id=ask.order_id if ask.order_id is not None else order_id,
            source=CaseSource.NPS,
            summary=summary,
            now=now,
            rules=rules or SupportRules.from_env(),
            nps_answer_id=ask.id,
        )
    session.flush()
    return ask


# --- Support answers -----------------------------------------------------------------------


def answer_case(
    session: Session,
    *,
    case_id: int,
    text: str,
    user_id: int,
    now: datetime,
    question_tag: str | None = None,
) -> SupportCase:
    """Support answers an open case, once: the answer is kept and sent to the customer."""
    errors = ErrorCollector()
    words = _words(errors, "text", text, ANSWER_MAX, required=True)
    tag = _words(errors, "question_tag", question_tag, QUESTION_TAG_MAX)
    errors.raise_if_any()
    assert words is not None  # required
    found = session.get(SupportCase, case_id)
    if found is None:
        raise NotFound(say("There is no support case %(id)s.", id=str(case_id)))
    claimed = session.execute(
        update(SupportCase)
        .where(SupportCase.id == case_id, SupportCase.status == CaseStatus.OPEN.value)
        .values(
            status=CaseStatus.ANSWERED.value,
            answered_at=now,
            answered_by_user_id=user_id,
            answer=words,
            question_tag=tag,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            say("Support case %(id)s was already answered; the customer has it.", id=case_id)
        )
    session.refresh(found)
    number = (
        session.scalar(select(Order.number).where(Order.id == found.order_id))
        if found.order_id is not None
        else None
    )
    notifications.notify(
        session,
        customer_id=found.customer_id,
        kind=notifications.NoticeKind.SUPPORT_REPLY,
        message=(
            say(
                "Our support team answered you about order %(number)s: %(text)s",
                number=number,
                text=words,
            )
            if number
            else say("Our support team answered you: %(text)s", text=words)
        ),
        key=f"support-reply:{found.id}",
        now=now,
        order_id=found.order_id,
    )
    session.flush()
    return found


# --- What the pages read -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderFeedback:
    """The feedback part of the customer's order page."""

    can_rate: bool  # delivered (a reported delivery stop) and not yet rated
    score: int | None  # the rating given
    comment: str | None
    case_respond_by: datetime | None  # a low rating's open case: we answer by then
    case_answer: str | None  # support's answer, once given
    nps_question: int | None  # the id of the NPS question waiting for an answer
    nps_score: int | None  # the NPS answer given on this order


def order_feedback(
    session: Session, *, order_id: int, customer_id: int, now: datetime
) -> OrderFeedback:
    """What the order page shows: the rating form, or the rating and the case it opened, and
    the NPS question if one waits for the customer."""
    stop = delivered_stop(session, order_id)
    rating = (
        session.scalar(select(DeliveryRating).where(DeliveryRating.stop_id == stop.id))
        if stop is not None
        else None
    )
    case = (
        session.scalar(
            select(SupportCase)
            .where(SupportCase.rating_id == rating.id)
            .order_by(SupportCase.id.desc())
            .limit(1)
        )
        if rating is not None
        else None
    )
    waiting = open_nps(session, customer_id, now) if rating is not None else None
    answered = session.scalar(
        select(NpsAnswer.score)
        .where(
            NpsAnswer.customer_id == customer_id,
            NpsAnswer.order_id == order_id,
            NpsAnswer.answered_at.is_not(None),
        )
        .order_by(NpsAnswer.answered_at.desc())
        .limit(1)
    )
    return OrderFeedback(
        can_rate=stop is not None and rating is None,
        score=rating.score if rating else None,
        comment=rating.comment if rating else None,
        case_respond_by=case.respond_by if case and case.status == CaseStatus.OPEN else None,
        case_answer=case.answer if case else None,
        nps_question=waiting.id if waiting else None,
        nps_score=answered,
    )


def _due_in_s(case: SupportCase, now: datetime) -> int | None:
    if case.status != CaseStatus.OPEN:
        return None
    return int((case.respond_by - now).total_seconds())


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One case in support's list."""

    id: int
    customer_id: int
    customer_name: str
    order_id: int | None
    order_number: str | None
    source: str
    status: str
    summary: str
    opened_at: datetime
    respond_by: datetime
    due_in_s: int | None  # open: seconds to the promise (negative: overdue)
    timezone: str


@dataclass(frozen=True, slots=True)
class CasesPage:
    rows: list[CaseRow]
    page: int
    pages: int
    total: int
    open: int  # how many wait for an answer


def cases_page(
    session: Session,
    *,
    now: datetime,
    page: int = 1,
    per_page: int = 25,
    status: str | None = None,
) -> CasesPage:
    """Support cases, the open ones first with the soonest promise at the top, then the rest
    newest first; ``status`` keeps only one status. A page past the last shows the last."""
    errors = ErrorCollector()
    page, per_page = _page_number(errors, page, per_page)
    if status is not None and status not in {s.value for s in CaseStatus}:
        errors.add("status", say("Choose one of the options in the list."))
    errors.raise_if_any()
    where = [SupportCase.status == status] if status else []
    total = session.scalar(select(func.count(SupportCase.id)).where(*where)) or 0
    waiting = (
        session.scalar(
            select(func.count(SupportCase.id)).where(SupportCase.status == CaseStatus.OPEN.value)
        )
        or 0
    )
    pages = max(1, math.ceil(total / per_page))
    page = min(page, pages)
    is_open = SupportCase.status == CaseStatus.OPEN.value
    zone = (
        select(Depot.timezone)
        .join(Order, Order.depot_id == Depot.id)
        .where(Order.id == SupportCase.order_id)
        .scalar_subquery()
    )
    found = session.execute(
        select(SupportCase, Customer.name, Order.number, zone)
        .join(Customer, Customer.id == SupportCase.customer_id)
        .outerjoin(Order, Order.id == SupportCase.order_id)
        .where(*where)
        .order_by(
            case_when((is_open, 0), else_=1),
            case_when((is_open, SupportCase.respond_by), else_=None).asc().nulls_last(),
            SupportCase.opened_at.desc(),
            SupportCase.id.desc(),
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    rows = [
        CaseRow(
            id=c.id,
            customer_id=c.customer_id,
            customer_name=name,
            order_id=c.order_id,
            order_number=number,
            source=c.source,
            status=c.status,
            summary=c.summary,
            opened_at=c.opened_at,
            respond_by=c.respond_by,
            due_in_s=_due_in_s(c, now),
            timezone=tz or "UTC",
        )
        for c, name, number, tz in found
    ]
    return CasesPage(rows=rows, page=page, pages=pages, total=total, open=waiting)


@dataclass(frozen=True, slots=True)
class CaseView:
    """One case as support sees it: who, what they said, the order, the promise."""

    case: SupportCase
    customer_id: int
    customer_name: str
    customer_email: str | None
    customer_phone: str | None
    order_id: int | None
    order_number: str | None
    rating_score: int | None
    rating_comment: str | None
    nps_score: int | None
    nps_why: str | None
    answered_by: str | None
    due_in_s: int | None
    timezone: str


def case_view(session: Session, *, case_id: int, now: datetime) -> CaseView:
    found = session.get(SupportCase, case_id)
    if found is None:
        raise NotFound(say("There is no support case %(id)s.", id=str(case_id)))
    customer = session.get_one(Customer, found.customer_id)
    order = session.get(Order, found.order_id) if found.order_id is not None else None
    rating = session.get(DeliveryRating, found.rating_id) if found.rating_id else None
    nps = session.get(NpsAnswer, found.nps_answer_id) if found.nps_answer_id else None
    by = (
        session.scalar(select(User.name).where(User.id == found.answered_by_user_id))
        if found.answered_by_user_id
        else None
    )
    return CaseView(
        case=found,
        customer_id=customer.id,
        customer_name=customer.name,
        customer_email=customer.email,
        customer_phone=customer.phone,
        order_id=order.id if order else None,
        order_number=order.number if order else None,
        rating_score=rating.score if rating else None,
        rating_comment=rating.comment if rating else None,
        nps_score=nps.score if nps else None,
        nps_why=nps.why if nps else None,
        answered_by=by,
        due_in_s=_due_in_s(found, now),
        timezone=str(_zone(session, found.customer_id, found.order_id)),
    )
