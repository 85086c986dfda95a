"""The outbox: every message to a customer (or to support) is a row written in the same
transaction as the event that caused it, and sent afterwards by ``app.notifications.jobs``.

The message is kept whole (its msgid and parameters, ``SaidText``), so it is put into the
reader's language only when it is sent, or when a page shows it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.messages import SaidText


class NoticeKind(StrEnum):
    LATE = "late"  # a delivery will miss its promised window (with cause and new window)
    RETURN_UPDATE = "return_update"  # a return case was decided / changed
    RETURN_LATE = "return_late"  # we broke the promised response time of a return: apology
    ESCALATION = "escalation"  # to support staff: a return case nears its promise
    HELD = "held"  # an order is held because its lot was blocked (X4)
    RATING_INVITE = "rating_invite"  # after a delivery: rate it on the order's page (Q1)
    SUPPORT_OPENED = "support_opened"  # a low score opened a support case: when we answer
    SUPPORT_REPLY = "support_reply"  # support's answer to a support case (Q1)
    CALLBACK_MISSED = "callback_missed"  # to support: a callback's slot passed unanswered (P3)
    OFFER = "offer"  # a regular's offer, credited through the ledger (L4)
    FEEDBACK = "feedback"  # to support: a demanding customer's detailed feedback, routed (L4)


class NoticeStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"  # every channel it has took it
    FAILED = "failed"  # gave up after MAX_ATTEMPTS; last_error says why
    # The customer has neither e-mail nor phone: the tracking page is the only place it shows.
    UNREACHABLE = "unreachable"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


NOTICE_KINDS = tuple(k.value for k in NoticeKind)
NOTICE_STATUSES = tuple(s.value for s in NoticeStatus)


class Notification(Base):
    """One message to one customer (or, with no customer, to support), and how sending went.

    The recipient's e-mail and phone are copied when the message is written: the row says
    where it went even if the customer changes them later. Each channel's success is kept,
    so a retry after the e-mail went out and the SMS failed sends only the SMS.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(f"kind IN {NOTICE_KINDS!r}", name="kind_known"),
        CheckConstraint(f"status IN {NOTICE_STATUSES!r}", name="status_known"),
        CheckConstraint(
            "status <> 'pending' OR next_attempt_at IS NOT NULL", name="pending_has_attempt"
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # What delivery looks for every minute: only the waiting rows, however long the history.
        Index(
            "ix_notifications_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # None: a message to support staff (ROUNDTRIP_SUPPORT_EMAIL), not to a customer.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("return_cases.id"), index=True)
    message: Mapped[str] = mapped_column(SaidText())
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default=NoticeStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sms_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language it was last put into for sending (the customer's choice at that moment).
    language: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The ways this message goes out (a staff message: e-mail to support)."""
        if self.customer_id is None:
            return (Channel.EMAIL,)
        found = []
        if self.email:
            found.append(Channel.EMAIL)
        if self.phone:
            found.append(Channel.SMS)
        return tuple(found)
