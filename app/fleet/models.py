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
    event,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.messages import SaidText


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
    # Typed by a dispatcher, or said by the product (a failed inspection) in the reader's words.
    out_of_service_reason: Mapped[str | None] = mapped_column(SaidText())
    # What the vehicle can do beyond carrying (e.g. "cold_chain", "heavy"): stops that need
    # it go only on a route with this vehicle or a courier who has it.
    skills: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

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
    """A courier's working time with a vehicle; a long shift has a break of ``break_minutes``
    taken somewhere between ``break_from_at`` and ``break_until_at`` (planning places it)."""

    __tablename__ = "shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        UniqueConstraint("courier_id", "starts_at"),
        CheckConstraint(
            "(break_minutes IS NULL) = (break_from_at IS NULL) "
            "AND (break_minutes IS NULL) = (break_until_at IS NULL)",
            name="break_whole",
        ),
        CheckConstraint(
            "break_minutes IS NULL OR (break_minutes > 0 AND break_from_at >= starts_at "
            "AND break_until_at <= ends_at AND break_until_at > break_from_at)",
            name="break_inside_shift",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicles.id"), index=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    break_minutes: Mapped[int | None]
    break_from_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    break_until_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    courier: Mapped[Courier] = relationship(back_populates="shifts")
    vehicle: Mapped[Vehicle | None] = relationship()
    depot: Mapped[Depot] = relationship()


class Inspection(Base):
    """A courier's pre-trip check of the vehicle for one shift (C1): every item answered,
    kept as given. Nothing updates it; a new check is a new row."""

    __tablename__ = "inspections"
    __table_args__ = (
        CheckConstraint(
            "odometer_km IS NULL OR odometer_km BETWEEN 0 AND 2000000", name="odometer"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"))
    answers: Mapped[dict[str, bool]] = mapped_column(JSON)  # item -> passed
    failed_items: Mapped[list[str]] = mapped_column(JSON)
    passed: Mapped[bool] = mapped_column(Boolean)
    odometer_km: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(String(500))
    photo: Mapped[str | None] = mapped_column(String(255))  # under the uploads folder
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the courier's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The phone's id for the submission: sent again after a lost answer, it finds this row.
    client_event_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    shift: Mapped[Shift] = relationship()
    vehicle: Mapped[Vehicle] = relationship()
    courier: Mapped[Courier] = relationship()


@event.listens_for(Inspection, "before_update")
def _inspections_are_kept_as_given(*_: object) -> None:
    raise ValueError("an inspection is a record: add a new one instead of changing it")
