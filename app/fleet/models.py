from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime


class VehicleType(StrEnum):
    BIKE = "bike"
    CAR = "car"
    VAN = "van"


VEHICLE_TYPES = tuple(t.value for t in VehicleType)


class Depot(Base):
    __tablename__ = "depots"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(255))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64))


class Vehicle(Base):
    __tablename__ = "vehicles"
    __table_args__ = (
        CheckConstraint(f"type IN {VEHICLE_TYPES!r}", name="type_known"),
        CheckConstraint("capacity_units > 0", name="capacity_positive"),
        CheckConstraint(
            "in_service OR out_of_service_reason IS NOT NULL", name="out_of_service_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    registration: Mapped[str] = mapped_column(String(20), unique=True)
    type: Mapped[str] = mapped_column(String(10))
    capacity_units: Mapped[int]
    in_service: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    out_of_service_reason: Mapped[str | None] = mapped_column(String(255))

    depot: Mapped[Depot] = relationship()


class Courier(Base):
    __tablename__ = "couriers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(32))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    depot: Mapped[Depot] = relationship()
    shifts: Mapped[list[Shift]] = relationship(back_populates="courier", order_by="Shift.starts_at")


class Shift(Base):
    __tablename__ = "shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        UniqueConstraint("courier_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicles.id"), index=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())

    courier: Mapped[Courier] = relationship(back_populates="shifts")
    vehicle: Mapped[Vehicle | None] = relationship()
    depot: Mapped[Depot] = relationship()
