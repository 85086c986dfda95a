"""The FAQ (P3) and callback requests.

A FAQ entry answers one question support meets on cases: its ``tag`` is the question tag
support puts on a case when answering it (``SupportCase.question_tag``), and how many cases
carry that tag orders the help page. A callback request is a support case (source
``callback``) plus the slot the customer picked and the number to call.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.quality.models import QUESTION_TAG_MAX

QUESTION_MAX = 300
ANSWER_MAX = 4_000
PHONE_MAX = 32


class FaqEntry(Base):
    """A question and its answer in English and Russian; one side may be empty (the page
    falls back to the other)."""

    __tablename__ = "faq_entries"
    __table_args__ = (
        CheckConstraint(
            "(question_en <> '' AND answer_en <> '') OR (question_ru <> '' AND answer_ru <> '')",
            name="one_language_given",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(QUESTION_TAG_MAX), unique=True)
    question_en: Mapped[str] = mapped_column(String(QUESTION_MAX), default="")
    answer_en: Mapped[str] = mapped_column(Text, default="")
    question_ru: Mapped[str] = mapped_column(String(QUESTION_MAX), default="")
    answer_ru: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CallbackRequest(Base):
    """The slot a customer asked to be called back in, for its support case."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_cases.id"), unique=True)
    slot_start_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    phone: Mapped[str] = mapped_column(String(PHONE_MAX))
    # When support was reminded that the slot passed unanswered (once).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
