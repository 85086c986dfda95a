"""What the scheduler has fired: one row per job and due time, whoever fired it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class Firing(Base):
    """A scheduled job fired for one due time.

    The unique (job, due_at) pair is what makes a wave fire once however many schedulers
    run: each tries to insert the row, one succeeds and enqueues the work, the others see
    it taken. ``enqueued_at`` stays empty if the firing process died before handing the
    work to the queue: the next tick hands it over then.
    """

    __tablename__ = "scheduled_firings"
    __table_args__ = (UniqueConstraint("job", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(120))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_by: Mapped[str] = mapped_column(String(100))
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
