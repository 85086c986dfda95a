from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("load_units > 0", name="load_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    price_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="RUB", server_default="RUB")
    is_food: Mapped[bool] = mapped_column(Boolean)
    load_units: Mapped[int] = mapped_column(default=1, server_default="1")

    lots: Mapped[list[Lot]] = relationship(back_populates="product", order_by="Lot.received_at")


class Lot(Base):
    """A batch of one product from one supplier; a blocked lot is never shipped."""

    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        CheckConstraint("NOT blocked OR blocked_reason IS NOT NULL", name="block_has_reason"),
        CheckConstraint("stock_units IS NULL OR stock_units >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    supplier: Mapped[str] = mapped_column(String(160))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    blocked_reason: Mapped[str | None] = mapped_column(String(255))
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blocked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Units on hand not yet promised to an order; NULL: this lot's stock is not counted, and
    # like order taking, re-allocation then assumes it has enough (returns.lots).
    stock_units: Mapped[int | None]

    product: Mapped[Product] = relationship(back_populates="lots")
