"""One history per customer (Q3), built from what the product already records.

Each source of events (orders, stops, notifications, return events, ledger entries, ratings,
NPS answers, support cases and callbacks, staff notes) gives a small key query: the moment,
the source's name and the row's id of every event of that customer. A page is then three
steps, whatever the length of the history:

1. one query sorts the keys of every wanted source (UNION ALL), newest first, cuts the page
   out (LIMIT/OFFSET) and counts them all (a window count), so only ``per_page`` keys leave
   the database even on page 100 of 5,000 events (a page beyond the last counts apart);
2. one query per source that has a line on the page loads those rows by id.

So a page costs at most 2 + (number of sources) queries, never one per event. Each key
query reads one customer's rows through an index (customer_id, or the customer's orders and
return cases), so the time grows with the length of that customer's history, not with the
tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, func, literal_column, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session, lazyload

from app.accounts.models import User
from app.errors import ErrorCollector
from app.history.events import (
    FAILURE_WORDS,
    KINDS,
    STAFF_ONLY_KINDS,
    Audience,
    EventKind,
    TimelineEvent,
    TimelinePage,
)
from app.history.models import NOTE_MAX_CHARS, StaffNote
from app.messages import Message, say
from app.notifications.models import NoticeStatus, Notification
from app.orders.models import Order
from app.planning.models import Stop
from app.quality.models import CaseSource, DeliveryRating, NpsAnswer, SupportCase
from loyalty.models import LedgerEntry
from returns.models import ReturnCase, ReturnEvent

PER_PAGE = 50
PER_PAGE_MAX = 200
PAGE_MAX = 100_000


@dataclass(frozen=True, slots=True)
class Scope:
    """Who reads the history, and whether the database is PostgreSQL (see _in_ids)."""

    audience: Audience
    postgresql: bool


@dataclass(frozen=True, slots=True)
class Source:
    """Where one kind of line comes from: its keys for a customer, and its rows by id."""

    name: str
    kind: str
    keys: Callable[[int, Scope], Select[tuple[datetime, str, int]]]
    load: Callable[[Session, Sequence[int], Audience], Iterable[TimelineEvent]]


def _key(at: InstrumentedAttribute[Any], name: str, row_id: InstrumentedAttribute[Any]) -> Select:  # type: ignore[type-arg]
    # The source's name is a constant of ours, written into the SQL (a bound parameter in a
    # UNION has no type PostgreSQL could infer).
    return select(
        at.label("at"),
        literal_column(f"'{name}'", String).label("source"),
        row_id.label("id"),
    )


def _in_ids(column: InstrumentedAttribute[Any], ids: Select, scope: Scope) -> ColumnElement[bool]:  # type: ignore[type-arg]
    """``column IN (ids)``; on PostgreSQL written ``= ANY(ARRAY(ids))``, which the planner
    runs as one index probe per id. As a join (or IN) it hashes the customer's orders and
    scans every stop: measured 28 ms against 1.4 ms for 1,000 orders among 100,000 stops."""
    if scope.postgresql:
        return column == func.any(func.array(ids.scalar_subquery()))
    return column.in_(ids)


# --- orders placed -------------------------------------------------------------------------


def _orders_keys(customer_id: int, scope: Scope) -> Select:  # type: ignore[type-arg]
    return _key(Order.created_at, "order", Order.id).where(Order.customer_id == customer_id)


def _orders_load(
    session: Session, ids: Sequence[int], audience: Audience
) -> Iterable[TimelineEvent]:
    for order in session.scalars(select(Order).where(Order.id.in_(ids))):
        yield TimelineEvent(
            at=order.created_at,
            kind=EventKind.ORDER_PLACED,
            title=say("Order %(number)s placed", number=order.number),
            text=say("For delivery on %(day)s", day=order.delivery_day),
            order_id=order.id,
            order_number=order.number,
            source="order",
            source_id=order.id,
        )


# --- stops: deliveries, failed attempts, collections, exchanges ------------------------------


def _stops_keys(customer_id: int, scope: Scope) -> Select:  # type: ignore[type-arg]
    orders = select(Order.id).where(Order.customer_id == customer_id)
    return _key(Stop.completed_at, "stop", Stop.id).where(
        _in_ids(Stop.order_id, orders, scope), Stop.completed_at.is_not(None)
    )


def _stop_title(stop: Stop, number: str) -> Message:
    returning = stop.return_case_id is not None
    if stop.outcome == "failed":
        if returning:
            return say("The return of order %(number)s could not be collected", number=number)
        return say("Order %(number)s could not be delivered", number=number)
    if stop.outcome == "collected":
        return say("The return of order %(number)s was collected", number=number)
    if stop.outcome == "exchanged":
        return say("The exchange for order %(number)s was done at the door", number=number)
    return say("Order %(number)s delivered", number=number)


def _stops_load(
    session: Session, ids: Sequence[int], audience: Audience
) -> Iterable[TimelineEvent]:
    rows = session.execute(
        select(Stop, Order.number)
        .join(Order, Order.id == Stop.order_id)
        .where(Stop.id.in_(ids))
        # The order's number comes with the join: no second query for the relationship.
        .options(lazyload(Stop.order))
    ).all()
    for stop, number in rows:
        assert stop.completed_at is not None  # the keys take completed stops only
        detail = None
        if audience is Audience.STAFF:
            parts = [p for p in (stop.failure_note, stop.recipient_name) if p]
            detail = " · ".join(parts) or None
        yield TimelineEvent(
            at=stop.completed_at,
            kind=EventKind.DELIVERY,
            title=_stop_title(stop, number),
            text=FAILURE_WORDS.get(stop.failure_reason or ""),
            staff_detail=detail,
            order_id=stop.order_id,
            order_number=number,
            return_case_id=stop.return_case_id,
            outcome=stop.outcome,
            source="stop",
            source_id=stop.id,
        )


# --- notifications: what we told them -------------------------------------------------------


def _notifications_keys(customer_id: int, scope: Scope) -> Select:  # type: ignore[type-arg]
    return _key(Notification.created_at, "notification", Notification.id).where(
        Notification.customer_id == customer_id
    )


def _notification_detail(notice: Notification) -> Message:
    if notice.status == NoticeStatus.SENT:
        ways = [
            w for w, at in (("e-mail", notice.email_sent_at), ("SMS", notice.sms_sent_at)) if at
        ]
        return say("Sent by %(ways)s.", ways=", ".join(ways) or "-")
    if notice.status == NoticeStatus.FAILED:
        return say("Could not be sent: %(error)s", error=notice.last_error or "-")
    if notice.status == NoticeStatus.UNREACHABLE:
        return say("No e-mail or phone: shown on the tracking page only.")
    return say("Waiting to be sent.")


def _notifications_load(
    session: Session, ids: Sequence[int], audience: Audience
) -> Iterable[TimelineEvent]:
    rows = session.execute(
        select(Notification, Order.number)
        .outerjoin(Order, Order.id == Notification.order_id)
        .where(Notification.id.in_(ids))
    ).all()
    for notice, number in rows:
        yield TimelineEvent(
            at=notice.created_at,
            kind=EventKind.NOTIFICATION,
            title=notice.message,
            staff_detail=_notification_detail(notice) if audience is Audience.STAFF else None,
            order_id=notice.order_id,
            order_number=number,
            return_case_id=notice.case_id,
            source="notification",
            source_id=notice.id,
        )


# --- returns: each line of a case's own timeline ---------------------------------------------


def _returns_keys(customer_id: int, scope: Scope) -> Select:  # type: ignore[type-arg]
    cases = select(ReturnCase.id).where(ReturnCase.customer_id == customer_id)
    return _key(ReturnEvent.at, "return_event", ReturnEvent.id).where(
        _in_ids(ReturnEvent.case_id, cases, scope)
    )


def _returns_load(
    session: Session, ids: Sequence[int], audience: Audience
) -> Iterable[TimelineEvent]:
    rows = session.execute(
        select(ReturnEvent, ReturnCase.order_id, Order.number)
        .join(ReturnCase, ReturnCase.id == ReturnEvent.case_id)
        .join(Order, Order.id == ReturnCase.order_id)
        .where(ReturnEvent.id.in_(ids))
    ).all()
    for line, order_id, number in rows:
        yield TimelineEvent(
            at=line.at,
            kind=EventKind.RETURN,
            title=line.message,
            text=say("Return %(case)s of order %(number)s", case=f"R{line.case_id}", number=number),
            order_id=order_id,
            order_number=number,
            return_case_id=line.case_id,
            source="return_event",
            source_id=line.id,
        )


# --- points: ledger entries with their reasons -----------------------------------------------


def _points_keys(customer_id: int, scope: Scope) -> Select:  # type: ignore[type-arg]
    return _key(LedgerEntry.created_at, "ledger", LedgerEntry.id).where(
        LedgerEntry.customer_id == customer_id
    )


def _points_load(
    session: Session, ids: Sequence[int], audience: Audience
) -> Iterable[TimelineEvent]:
    for entry in session.scalars(select(LedgerEntry).where(LedgerEntry.id.in_(ids))):
        yield TimelineEvent(
            at=entry.created_at,
            kind=EventKind.POINTS,
            title=entry.reason,
            points=entry.points,
            outcome=entry.kind,
            source="ledger",
            source_id=entry.id,
        )


# --- feedback (app.quality): ratings, NPS answers, support cases and callbacks ---------------


def _ratings_keys(customer_id: int, scope: Scope) -> Select:  # type: ignore[type-arg]
    return _key(DeliveryRating.created_at, "rating", DeliveryRating.id).where(
        DeliveryRating.customer_id == customer_id
    )


def _ratings_load(
    session: Session, ids: Sequence[int], audience: Audience
) -> Iterable[TimelineEvent]:
    rows = session.execute(
        select(DeliveryRating, Order.number)
        .join(Order, Order.id == DeliveryRating.order_id)
        .where(DeliveryRating.id.in_(ids))
    ).all()
    for rating, number in rows:
        yield TimelineEvent(
            at=rating.created_at,
            kind=EventKind.RATING,
            title=say(
                "Delivery of order %(number)s rated %(score)s of 5",
                number=number,
                score=rating.score,
            ),
            text=rating.comment,
            order_id=rating.order_id,
            order_number=number,
            score=rating.score,
            source="rating",
            source_id=rating.id,
        )


def _nps_keys(customer_id: int, scope: Scope) -> Select:  # type: ignore[type-arg]
    # Only answers: a question never answered is not something the customer did.
    return _key(NpsAnswer.answered_at, "nps", NpsAnswer.id).where(
        NpsAnswer.customer_id == customer_id, NpsAnswer.answered_at.is_not(None)
    )


def _nps_load(session: Session, ids: Sequence[int], audience: Audience) -> Iterable[TimelineEvent]:
    for answer in session.scalars(select(NpsAnswer).where(NpsAnswer.id.in_(ids))):
        assert answer.answered_at is not None
        assert answer.score is not None
        yield TimelineEvent(
            at=answer.answered_at,
            kind=EventKind.NPS,
            title=say("Would recommend us: %(score)s of 10", score=answer.score),
            text=answer.why,
            order_id=answer.order_id,
            score=answer.score,
            source="nps",
            source_id=answer.id,
        )


def _is_callback(callback: bool) -> ColumnElement[bool]:
    return (
        (SupportCase.source == CaseSource.CALLBACK)
        if callback
        else (SupportCase.source != CaseSource.CALLBACK)
    )


def _cases_opened_keys(callback: bool) -> Callable[[int, Scope], Select]:  # type: ignore[type-arg]
    name = "callback_opened" if callback else "case_opened"

    def keys(customer_id: int, scope: Scope) -> Select:  # type: ignore[type-arg]
        return _key(SupportCase.opened_at, name, SupportCase.id).where(
            SupportCase.customer_id == customer_id, _is_callback(callback)
        )

    return keys


def _cases_answered_keys(callback: bool) -> Callable[[int, Scope], Select]:  # type: ignore[type-arg]
    name = "callback_answered" if callback else "case_answered"

    def keys(customer_id: int, scope: Scope) -> Select:  # type: ignore[type-arg]
        return _key(SupportCase.answered_at, name, SupportCase.id).where(
            SupportCase.customer_id == customer_id,
            SupportCase.answered_at.is_not(None),
            _is_callback(callback),
        )

    return keys


def _cases_load(
    *, answered: bool, callback: bool
) -> Callable[[Session, Sequence[int], Audience], Iterable[TimelineEvent]]:
    name = ("callback" if callback else "case") + ("_answered" if answered else "_opened")

    def load(session: Session, ids: Sequence[int], audience: Audience) -> Iterable[TimelineEvent]:
        rows = session.execute(
            select(SupportCase, Order.number)
            .outerjoin(Order, Order.id == SupportCase.order_id)
            .where(SupportCase.id.in_(ids))
        ).all()
        for case, number in rows:
            if answered:
                assert case.answered_at is not None
                at = case.answered_at
                title = (
                    say("We called back (request %(case)s)", case=f"#{case.id}")
                    if callback
                    else say("Support answered case %(case)s", case=f"#{case.id}")
                )
                text = case.answer
            else:
                at = case.opened_at
                title = (
                    say("Asked to be called back (request %(case)s)", case=f"#{case.id}")
                    if callback
                    else say("Support case %(case)s opened", case=f"#{case.id}")
                )
                text = case.summary
            yield TimelineEvent(
                at=at,
                kind=EventKind.CALLBACK if callback else EventKind.SUPPORT_CASE,
                title=title,
                text=text,
                respond_by=(
                    case.respond_by
                    if audience is Audience.STAFF and not answered and case.status == "open"
                    else None
                ),
                order_id=case.order_id,
                order_number=number,
                support_case_id=case.id,
                outcome=case.status,
                source=name,
                source_id=case.id,
            )

    return load


# --- staff notes (staff-only) ------------------------------------------------------------------


def _notes_keys(customer_id: int, scope: Scope) -> Select:  # type: ignore[type-arg]
    return _key(StaffNote.created_at, "staff_note", StaffNote.id).where(
        StaffNote.customer_id == customer_id
    )


def _notes_load(
    session: Session, ids: Sequence[int], audience: Audience
) -> Iterable[TimelineEvent]:
    rows = session.execute(
        select(StaffNote, User.name)
        .join(User, User.id == StaffNote.user_id)
        .where(StaffNote.id.in_(ids))
    ).all()
    for note, author in rows:
        yield TimelineEvent(
            at=note.created_at,
            kind=EventKind.STAFF_NOTE,
            title=say("Note by %(name)s", name=author),
            text=note.text,
            staff_only=True,
            source="staff_note",
            source_id=note.id,
        )


SOURCES: tuple[Source, ...] = (
    Source("order", EventKind.ORDER_PLACED, _orders_keys, _orders_load),
    Source("stop", EventKind.DELIVERY, _stops_keys, _stops_load),
    Source("notification", EventKind.NOTIFICATION, _notifications_keys, _notifications_load),
    Source("return_event", EventKind.RETURN, _returns_keys, _returns_load),
    Source("ledger", EventKind.POINTS, _points_keys, _points_load),
    Source("rating", EventKind.RATING, _ratings_keys, _ratings_load),
    Source("nps", EventKind.NPS, _nps_keys, _nps_load),
    Source(
        "case_opened",
        EventKind.SUPPORT_CASE,
        _cases_opened_keys(False),
        _cases_load(answered=False, callback=False),
    ),
    Source(
        "case_answered",
        EventKind.SUPPORT_CASE,
        _cases_answered_keys(False),
        _cases_load(answered=True, callback=False),
    ),
    Source(
        "callback_opened",
        EventKind.CALLBACK,
        _cases_opened_keys(True),
        _cases_load(answered=False, callback=True),
    ),
    Source(
        "callback_answered",
        EventKind.CALLBACK,
        _cases_answered_keys(True),
        _cases_load(answered=True, callback=True),
    ),
    Source("staff_note", EventKind.STAFF_NOTE, _notes_keys, _notes_load),
)
_BY_NAME = {s.name: s for s in SOURCES}


def kinds_for(audience: Audience | str) -> tuple[str, ...]:
    """The kinds of line this audience may see (the filter chips of its page)."""
    if Audience(audience) is Audience.STAFF:
        return KINDS
    return tuple(k for k in KINDS if k not in STAFF_ONLY_KINDS)


def timeline(
    session: Session,
    customer_id: int,
    *,
    audience: Audience | str,
    kinds: set[str] | frozenset[str] | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> TimelinePage:
    """Page ``page`` of the customer's history, newest first, of the ``kinds`` asked (None:
    every kind the audience may see). The customer's version never has staff-only lines,
    whatever ``kinds`` asks for. A page beyond the last is empty (its ``total`` still says
    how many there are)."""
    reader = Audience(audience)
    errors = ErrorCollector()
    if not 1 <= page <= PAGE_MAX:
        errors.add("page", say("Page must be a whole number from 1 to %(max)s.", max=PAGE_MAX))
    if not 1 <= per_page <= PER_PAGE_MAX:
        errors.add("per_page", say("Show from 1 to %(max)s lines a page.", max=PER_PAGE_MAX))
    unknown = sorted(set(kinds or ()) - set(KINDS))
    if unknown:
        errors.add("kinds", say("Unknown kinds: %(kinds)s.", kinds=", ".join(unknown)))
    errors.raise_if_any()

    allowed = set(kinds_for(reader))
    wanted = allowed if kinds is None else allowed & set(kinds)
    sources = [s for s in SOURCES if s.kind in wanted]
    if not sources:
        return TimelinePage((), 0, 0, page, per_page, frozenset(wanted))

    scope = Scope(reader, session.get_bind().dialect.name == "postgresql")
    keys = union_all(*(s.keys(customer_id, scope) for s in sources)).subquery("history")
    # The total rides along with the page (a window count over the same scan); only a page
    # beyond the last, which has no rows to carry it, counts on its own.
    page_keys = session.execute(
        select(keys.c.at, keys.c.source, keys.c.id, func.count().over().label("total"))
        .order_by(keys.c.at.desc(), keys.c.source, keys.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    if page_keys:
        total = int(page_keys[0].total)
    else:
        total = session.scalar(select(func.count()).select_from(keys)) or 0

    by_source: dict[str, list[int]] = {}
    for _at, name, row_id, _total in page_keys:
        by_source.setdefault(name, []).append(row_id)
    loaded: dict[tuple[str, int], TimelineEvent] = {}
    for name, ids in by_source.items():
        for event in _BY_NAME[name].load(session, ids, reader):
            loaded[(name, event.source_id)] = event
    events = tuple(loaded[(name, row_id)] for _at, name, row_id, _total in page_keys)
    pages = -(-total // per_page)
    return TimelinePage(events, total, pages, page, per_page, frozenset(wanted))


def add_note(
    session: Session, *, customer_id: int, user_id: int, text: str, now: datetime
) -> StaffNote:
    """Write a staff note on the customer's history (staff-only)."""
    errors = ErrorCollector()
    text = text.strip()
    if not text:
        errors.add("text", say("Write the note."))
    elif len(text) > NOTE_MAX_CHARS:
        errors.add("text", say("A note has at most %(max)s characters.", max=NOTE_MAX_CHARS))
    errors.raise_if_any()
    note = StaffNote(customer_id=customer_id, user_id=user_id, text=text, created_at=now)
    session.add(note)
    session.flush()
    return note
