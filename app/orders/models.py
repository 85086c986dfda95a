from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Lot, Product
from app.customers.models import Address, Customer
from app.db import Base, UTCDateTime, utcnow
from app.fleet.models import Depot


class OrderStatus(StrEnum):
    NEW = "new"
    PLANNED = "planned"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILED = "failed"
    HELD = "held"
    CANCELLED = "cancelled"


ORDER_STATUSES = tuple(s.value for s in OrderStatus)


class DeliveryWindowTemplate(Base):
    """A window offered every day at a depot, with the latest moment an order may take it.

    The cut-off is ``cutoff_days_before`` days before the delivery day at ``cutoff_minute``
    (local time of the depot): 08:00-10:00 can close at 23:30 the evening before, while
    20:00-22:00 can close at 16:00 the same day. That is the extended ordering window.
    """

    __tablename__ = "delivery_window_templates"
    __table_args__ = (
        CheckConstraint("start_minute >= 0 AND start_minute < end_minute", name="start_before_end"),
        CheckConstraint("end_minute <= 1440", name="end_within_day"),
        CheckConstraint("cutoff_days_before >= 0", name="cutoff_days_not_negative"),
        CheckConstraint("cutoff_minute >= 0 AND cutoff_minute < 1440", name="cutoff_in_day"),
        UniqueConstraint("depot_id", "start_minute", "end_minute"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    start_minute: Mapped[int]
    end_minute: Mapped[int]
    cutoff_days_before: Mapped[int]
    cutoff_minute: Mapped[int]

    depot: Mapped[Depot] = relationship()

    @property
    def label(self) -> str:
        return f"{_hhmm(self.start_minute)}–{_hhmm(self.end_minute)}"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("window_end_at > window_start_at", name="window_ends_after_start"),
        CheckConstraint(f"status IN {ORDER_STATUSES!r}", name="status_known"),
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"), index=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    window_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_window_templates.id")
    )
    delivery_day: Mapped[date] = mapped_column(Date, index=True)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.NEW)
    total_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    notes: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    customer: Mapped[Customer] = relationship()
    address: Mapped[Address] = relationship()
    depot: Mapped[Depot] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )

    @property
    def load_units(self) -> int:
        return sum(item.quantity * item.product.load_units for item in self.items)


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)
    quantity: Mapped[int]
    unit_price_minor: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()
    lot: Mapped[Lot | None] = relationship()
