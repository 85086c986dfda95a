"""The ledger: entries never change; allocations record which grant each debit used.

Two tables hold running figures, so that a write reads neither the customer's history nor
their allocations: the account's balance (and a version every write bumps), and the unused
points of each grant that has some. Both change only together with the entries and
allocations they sum up.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.messages import SaidText


class EntryKind(StrEnum):
    EARN = "earn"  # an order was delivered
    REDEEM = "redeem"  # points paid part of an order
    BONUS = "bonus"  # apology or goodwill, with the case it came from
    REVERSAL = "reversal"  # an order was refunded: what it earned goes back
    RETURN = "return"  # an order was refunded: what it redeemed comes back
    EXPIRY = "expiry"  # unused points of a grant ran out
    ADJUSTMENT = "adjustment"  # staff, with a mandatory reason
    SETTLEMENT = "settlement"  # new points paying off points owed from an earlier reversal


ENTRY_KINDS = tuple(k.value for k in EntryKind)


class LoyaltyAccount(Base):
    """One row per customer: the running balance, and the row every write updates, so that
    writes for one customer run one after another and writes for others never wait."""

    __tablename__ = "loyalty_accounts"
    __table_args__ = (
        CheckConstraint("balance_points >= 0", name="balance_not_negative"),
        CheckConstraint("owed_points >= 0", name="owed_not_negative"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    balance_points: Mapped[int] = mapped_column(default=0)
    # Points a reversal could not take back (under the "debt" policy); future points pay it.
    owed_points: Mapped[int] = mapped_column(default=0)
    written_off_points: Mapped[int] = mapped_column(default=0)
    # Bumped by every write: a write decided on a snapshot applies only if the account is
    # still at the version it read (loyalty.postgres).
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(f"kind IN {ENTRY_KINDS!r}", name="kind_known"),
        # A reversal that found nothing left to take back still records its shortfall.
        CheckConstraint("points <> 0 OR shortfall_points > 0", name="points_not_zero"),
        CheckConstraint("shortfall_points >= 0", name="shortfall_not_negative"),
        CheckConstraint("length(reason) > 0", name="reason_given"),
        CheckConstraint("expires_at IS NULL OR points > 0", name="only_grants_expire"),
        Index("ix_ledger_entries_customer_created", "customer_id", "created_at", "id"),
        # What one order (or case) did to one customer's points, by kind: the cap of a
        # redemption, what a refund takes back. Narrow enough that a prepared statement's
        # generic plan (which cannot see the source) still expects a few rows.
        Index("ix_ledger_entries_source_customer_kind", "source", "customer_id", "kind"),
        # The dashboard's apology bonuses by week, without reading every earning.
        Index(
            "ix_ledger_entries_bonus_created",
            "created_at",
            sqlite_where=text("kind = 'bonus'"),
            postgresql_where=text("kind = 'bonus'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("loyalty_accounts.customer_id"))
    kind: Mapped[str] = mapped_column(String(12))
    points: Mapped[int]
    # Points a reversal should have taken back but could not (spent already): written off or
    # owed, as the shortfall policy says.
    shortfall_points: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(SaidText())
    source: Mapped[str | None] = mapped_column(String(80))  # "order:12", "return:3"
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    # Who made the entry: the staff member of an adjustment (shown to support), the person who
    # redeemed; None for what the system writes (earnings, expiry, reversals).
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LedgerAllocation(Base):
    """``points`` of grant ``grant_entry_id`` were used by debit ``debit_entry_id``."""

    __tablename__ = "ledger_allocations"
    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debit_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    grant_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    points: Mapped[int]


class UnusedGrant(Base):
    """A grant that still has unused points: its points minus its allocations, kept up to
    date by every debit, so that a debit finds the oldest-expiring unused points in one
    short index scan. The row goes when the last point is used (spent or expired).

    ``customer_id`` and ``expires_at`` are the grant entry's, copied for that index. Nothing
    indexes ``unused_points`` and pages keep room, so a debit updates the row in place
    (PostgreSQL's HOT update) instead of adding index entries.
    """

    __tablename__ = "ledger_unused_grants"
    __table_args__ = (
        CheckConstraint("unused_points > 0", name="unused_positive"),
        Index("ix_ledger_unused_grants_customer_expiry", "customer_id", "expires_at", "entry_id"),
        {"postgresql_with": {"fillfactor": 90}},
    )

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id"), primary_key=True, autoincrement=False
    )
    customer_id: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    unused_points: Mapped[int]
