"""Feedback (Q1): a rating per delivered stop, NPS asks and answers, and support cases.

A support case is what a customer is waiting for an answer on: opened by a low rating or a
low NPS score (and later by a callback request or a contact form), with the time by which we
promised to answer (``respond_by``). Support answers it once; the answer is sent to the
customer and kept here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.messages import SaidText

COMMENT_MAX = 1000  # a rating's comment, an NPS answer's why (characters)
QUESTION_TAG_MAX = 80


class CaseSource(StrEnum):
    RATING = "rating"  # a delivery rated 2 or less
    NPS = "nps"  # an NPS answer of 6 or less
    CALLBACK = "callback"  # the customer asked to be called back (P3)
    CONTACT = "contact"  # the customer wrote to us (P3)


class CaseStatus(StrEnum):
    OPEN = "open"  # waiting for support's answer
    ANSWERED = "answered"  # support answered; the customer was told
    CLOSED = "closed"  # nothing more to do


CASE_SOURCES = tuple(s.value for s in CaseSource)
CASE_STATUSES = tuple(s.value for s in CaseStatus)


class DeliveryRating(Base):
    """How the customer rated one delivery (its delivered stop), 1 to 5, once."""

    __tablename__ = "delivery_ratings"
    __table_args__ = (CheckConstraint("score >= 1 AND score <= 5", name="score_1_to_5"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(String(COMMENT_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NpsAnswer(Base):
    """One NPS question put to a customer (``asked_at``) and, once they answer, their score
    0..10 and why. An ask never answered still counts towards "at most twice a year"."""

    __tablename__ = "nps_answers"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 10)", name="score_0_to_10"),
        CheckConstraint("(answered_at IS NULL) = (score IS NULL)", name="answered_has_score"),
        # One open question a customer: two pages asking at once put one question.
        Index(
            "uq_nps_answers_one_open",
            "customer_id",
            unique=True,
            sqlite_where=text("answered_at IS NULL"),
            postgresql_where=text("answered_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # The order whose page asked (None: asked elsewhere).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score: Mapped[int | None]
    why: Mapped[str | None] = mapped_column(String(COMMENT_MAX))


class SupportCase(Base):
    """Something a customer waits for support to answer, with the promised time to answer."""

    __tablename__ = "support_cases"
    __table_args__ = (
        CheckConstraint(f"source IN {CASE_SOURCES!r}", name="source_known"),
        CheckConstraint(f"status IN {CASE_STATUSES!r}", name="status_known"),
        CheckConstraint(
            "status <> 'answered' OR (answered_at IS NOT NULL AND answer IS NOT NULL)",
            name="answered_has_answer",
        ),
        # The desk: open cases by their promise.
        Index("ix_support_cases_desk", "status", "respond_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    source: Mapped[str] = mapped_column(String(12))
    # What opened it, when it was a rating or an NPS answer.
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_ratings.id"), index=True)
    nps_answer_id: Mapped[int | None] = mapped_column(ForeignKey("nps_answers.id"))
    # Why it opened / what the customer said (a Message, shown in the reader's language).
    summary: Mapped[str] = mapped_column(SaidText())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default=CaseStatus.OPEN)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answer: Mapped[str | None] = mapped_column(Text)  # support's words, as written
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The FAQ question this case asked (P3), tagged by support when answering.
    question_tag: Mapped[str | None] = mapped_column(String(QUESTION_TAG_MAX))
