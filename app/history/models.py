"""What support writes down about a customer for the next person who helps them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow

NOTE_MAX_CHARS = 2000


class StaffNote(Base):
    """A note by a staff member on a customer's history: staff-only, never shown to the
    customer (their version of the timeline leaves it out)."""

    __tablename__ = "staff_notes"
    __table_args__ = (
        CheckConstraint("length(text) > 0", name="text_given"),
        # A customer's notes, newest first: what the timeline reads.
        Index("ix_staff_notes_customer_created", "customer_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(String(NOTE_MAX_CHARS))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
