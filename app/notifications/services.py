"""Writing messages into the outbox, in the caller's transaction, and reading them back.

Other domains call :func:`notify` (or :func:`notify_staff`) next to the change that causes
the message: the row is committed with that change or not at all, and
``app.notifications.jobs.deliver`` sends it afterwards. Every message has a ``key`` naming
its cause ("late:stop:12:2030-01-14"): writing the same key again returns the first row, so
an event seen twice tells the customer once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.customers.models import Customer
from app.errors import NotFound
from app.messages import Message, say
from app.notifications.models import (
    NOTICE_STATUSES,
    Channel,
    NoticeKind,
    NoticeStatus,
    Notification,
)

__all__ = [
    "Channel",
    "NoticeKind",
    "NoticeStatus",
    "Notification",
    "OutboxPage",
    "OutboxRow",
    "anything_due",
    "notify",
    "notify_staff",
    "order_notices",
    "outbox_page",
]

KEY_MAX = 120


def notify(
    session: Session,
    *,
    customer_id: int,
    kind: NoticeKind,
    message: Message,
    key: str,
    now: datetime,
    order_id: int | None = None,
    case_id: int | None = None,
) -> Notification:
    """Write one message to the customer into the outbox, in the caller's transaction.

    The same ``key`` returns the first row and writes nothing (so a stop flagged at risk
    twice gets one message). Channels: e-mail if the customer has one, SMS if they have a
    phone (one row per message; delivery tries each channel it has). A customer with
    neither still gets the row (the tracking page shows it), marked unreachable.
    """
    existing = _by_key(session, key)
    if existing is not None:
        return existing
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(say("There is no customer %(id)s.", id=str(customer_id)))
    row = Notification(
        key=key,
        kind=NoticeKind(kind),
        customer_id=customer_id,
        order_id=order_id,
        case_id=case_id,
        message=message,
        email=customer.email or None,
        phone=customer.phone or None,
        created_at=now,
    )
    if row.channels:
        row.status, row.next_attempt_at = NoticeStatus.PENDING, now
    else:
        row.status = NoticeStatus.UNREACHABLE
    return _write(session, row)


def notify_staff(
    session: Session,
    *,
    kind: NoticeKind,
    message: Message,
    key: str,
    now: datetime,
    order_id: int | None = None,
    case_id: int | None = None,
    email: str | None = None,
) -> Notification:
    """A message to staff, same outbox, same idempotency: to ``email`` (a role's own
    address, such as the courier lead's) when given, else to support.

    Support's address (ROUNDTRIP_SUPPORT_EMAIL) is looked up when it is sent, so changing
    the setting redirects what is still waiting; a role's address is kept on the row."""
    existing = _by_key(session, key)
    if existing is not None:
        return existing
    row = Notification(
        key=key,
        kind=NoticeKind(kind),
        customer_id=None,
        order_id=order_id,
        case_id=case_id,
        email=email or None,
        message=message,
        status=NoticeStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    return _write(session, row)


def order_notices(session: Session, order_id: int) -> list[Notification]:
    """What the customer was told about this order (any kind except staff ones), oldest
    first; the tracking page shows these as 'what changed and why'."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.order_id == order_id, Notification.customer_id.is_not(None))
            .order_by(Notification.created_at, Notification.id)
        )
    )


def anything_due(session: Session, *, now: datetime) -> bool:
    """Whether a message waits for an attempt at ``now`` (the scheduler fires delivery only
    then, so a quiet outbox costs one index probe a tick)."""
    found = session.scalar(
        select(Notification.id)
        .where(
            Notification.status == NoticeStatus.PENDING,
            Notification.next_attempt_at <= now,
        )
        .limit(1)
    )
    return found is not None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One message as the staff page lists it."""

    id: int
    kind: str
    status: str
    channels: tuple[Channel, ...]
    email: str | None
    phone: str | None
    customer_id: int | None  # None: to support
    customer_name: str | None
    order_id: int | None
    case_id: int | None
    message: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxPage:
    rows: list[OutboxRow]
    page: int
    pages: int
    total: int


def outbox_page(
    session: Session, *, status: str | None = None, page: int = 1, per_page: int = 50
) -> OutboxPage:
    """The outbox newest first, ``per_page`` at a time, optionally only one status."""
    if status is not None and status not in NOTICE_STATUSES:
        raise ValueError(f"unknown notification status {status!r}")
    where = [] if status is None else [Notification.status == status]
    total = session.scalar(select(func.count(Notification.id)).where(*where)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    found = session.execute(
        select(Notification, Customer.name)
        .outerjoin(Customer, Customer.id == Notification.customer_id)
        .where(*where)
        .order_by(Notification.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    rows = [
        OutboxRow(
            id=n.id,
            kind=n.kind,
            status=n.status,
            channels=n.channels,
            email=n.email,
            phone=n.phone,
            customer_id=n.customer_id,
            customer_name=name,
            order_id=n.order_id,
            case_id=n.case_id,
            message=n.message,
            attempts=n.attempts,
            last_error=n.last_error,
            created_at=n.created_at,
            next_attempt_at=n.next_attempt_at,
            sent_at=n.sent_at,
        )
        for n, name in found
    ]
    return OutboxPage(rows=rows, page=page, pages=pages, total=total)


def _by_key(session: Session, key: str) -> Notification | None:
    if not key or len(key) > KEY_MAX:
        raise ValueError(f"a notification key has 1 to {KEY_MAX} characters, not {len(key)}")
    return session.scalar(select(Notification).where(Notification.key == key))


def _write(session: Session, row: Notification) -> Notification:
    """Insert ``row``; if a concurrent transaction wrote its key first, return that one."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = session.scalar(select(Notification).where(Notification.key == row.key))
        if existing is None:  # another constraint broke: a real error
            raise
        return existing
    return row
