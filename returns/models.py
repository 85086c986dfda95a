"""Return cases: what the customer sends back and why, what was decided by which rule, and
everything that happened to it since (its timeline)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Lot
from app.db import Base, UTCDateTime
from app.messages import SaidText
from app.orders.models import Order, OrderItem
from returns.policy import Outcome, Resolution, ReturnReason, Rule

REASONS = tuple(r.value for r in ReturnReason)
RESOLUTIONS = tuple(r.value for r in Resolution)
RULES = tuple(r.value for r in Rule)
# A case is decided (approved, under review, declined), then moves on as the item comes back.
STATUSES = (*(o.value for o in Outcome), "received", "closed")


class ReturnCase(Base):
    __tablename__ = "return_cases"
    __table_args__ = (
        UniqueConstraint("customer_id", "client_key"),
        CheckConstraint(f"reason IN {REASONS!r}", name="reason_known"),
        CheckConstraint(f"resolution IN {RESOLUTIONS!r}", name="resolution_known"),
        CheckConstraint(f"rule IN {RULES!r}", name="rule_known"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),
        CheckConstraint("bonus_points >= 0 AND refund_minor >= 0", name="amounts_not_negative"),
        CheckConstraint(
            "override_reason IS NULL OR overridden_by_user_id IS NOT NULL",
            name="override_has_author",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # The phone's id for the submission: sent again, it finds this case.
    client_key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(20))
    resolution: Mapped[str] = mapped_column(String(12))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    rule: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(SaidText())  # what the customer reads
    bonus_points: Mapped[int] = mapped_column(default=0, server_default="0")
    refund_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    pickup: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery: Mapped[bool] = mapped_column(Boolean, default=False)
    respond_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The promise (respond_by) watched: support told it is near, the customer told it broke,
    # and when a person last answered the case (which keeps the promise).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    breach_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    order: Mapped[Order] = relationship()
    items: Mapped[list[ReturnItem]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="ReturnItem.id"
    )
    photos: Mapped[list[ReturnPhoto]] = relationship(
        cascade="all, delete-orphan", order_by="ReturnPhoto.id"
    )
    events: Mapped[list[ReturnEvent]] = relationship(
        cascade="all, delete-orphan", order_by="ReturnEvent.id"
    )


class ReturnItem(Base):
    __tablename__ = "return_items"
    __table_args__ = (
        UniqueConstraint("case_id", "order_item_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("return_cases.id", ondelete="CASCADE"))
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id"), index=True)
    quantity: Mapped[int]

    case: Mapped[ReturnCase] = relationship(back_populates="items")
    order_item: Mapped[OrderItem] = relationship()


class ReturnPhoto(Base):
    __tablename__ = "return_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("return_cases.id", ondelete="CASCADE"), index=True
    )
    photo: Mapped[str] = mapped_column(String(255))  # under the uploads folder (app.media)


class ReturnEvent(Base):
    """One line of the case's timeline, in the reader's words."""

    __tablename__ = "return_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("return_cases.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    message: Mapped[str] = mapped_column(SaidText())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SupplierReturn(Base):
    """What goes back to the supplier when a lot is blocked (X4), counted at the block.

    ``quantity`` is every unit of the lot that is in our hands or coming back to us: the
    lot's counted free stock, the units set aside for undelivered orders (held, or moved to
    another lot, which frees this lot's units), and the units customers returned as defective
    or damaged that are collected. Food refunded without a pickup never comes back, so it is
    not counted; orders out for delivery are on the van and come back, if at all, as returns.
    """

    __tablename__ = "supplier_returns"
    __table_args__ = (
        UniqueConstraint("lot_id"),  # a lot is blocked once
        CheckConstraint(
            "stock_units >= 0 AND order_units >= 0 AND returned_units >= 0",
            name="parts_not_negative",
        ),
        CheckConstraint(
            "quantity = stock_units + order_units + returned_units", name="quantity_is_sum"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    quantity: Mapped[int]
    stock_units: Mapped[int]
    order_units: Mapped[int]
    returned_units: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    lot: Mapped[Lot] = relationship()
