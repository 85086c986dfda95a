"""Depots, vehicles, couriers and shifts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from app.errors import ErrorCollector
from app.fleet.models import VEHICLE_TYPES, Courier, Depot, Shift, Vehicle
from app.messages import Message, say


def create_depot(
    session: Session, *, code: str, name: str, address: str, lat: float, lon: float, timezone: str
) -> Depot:
    errors = ErrorCollector()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add(
            "timezone",
            say("Unknown time zone '%(zone)s'; use a name like Europe/Moscow.", zone=timezone),
        )
    if session.scalar(select(Depot.id).where(Depot.code == code)) is not None:
        errors.add("code", say("A depot with code '%(code)s' already exists.", code=code))
    errors.raise_if_any()
    depot = Depot(code=code, name=name, address=address, lat=lat, lon=lon, timezone=timezone)
    session.add(depot)
    session.flush()
    return depot


def _require(
    session: Session,
    errors: ErrorCollector,
    model: type,
    key: int | None,
    field: str,
    missing: Message,
) -> object | None:
    if key is None:
        return None
    found = session.get(model, key)
    if found is None:
        errors.add(field, missing)
    return found


def _no_depot(depot_id: int) -> Message:
    return say("There is no depot %(id)s.", id=str(depot_id))


def create_vehicle(
    session: Session, *, depot_id: int, registration: str, type: str, capacity_units: int
) -> Vehicle:
    errors = ErrorCollector()
    _require(session, errors, Depot, depot_id, "depot_id", _no_depot(depot_id))
    if type not in VEHICLE_TYPES:
        errors.add(
            "type",
            say(
                "Unknown vehicle type '%(type)s'; choose one of %(types)s.",
                type=type,
                types=", ".join(VEHICLE_TYPES),
            ),
        )
    if capacity_units < 1:
        errors.add("capacity_units", say("Capacity must be at least 1 unit."))
    registration = registration.strip().upper()
    if session.scalar(select(Vehicle.id).where(Vehicle.registration == registration)):
        errors.add(
            "registration",
            say("Vehicle %(registration)s is already registered.", registration=registration),
        )
    errors.raise_if_any()
    vehicle = Vehicle(
        depot_id=depot_id, registration=registration, type=type, capacity_units=capacity_units
    )
    session.add(vehicle)
    session.flush()
    return vehicle


def create_courier(
    session: Session,
    *,
    depot_id: int,
    name: str,
    phone: str,
    skills: list[str] | None = None,
    user_id: int | None = None,
) -> Courier:
    errors = ErrorCollector()
    _require(session, errors, Depot, depot_id, "depot_id", _no_depot(depot_id))
    if not name.strip():
        errors.add("name", say("Enter the courier's name."))
    if not phone.strip():
        errors.add("phone", say("Enter a phone number customers and dispatchers can call."))
    errors.raise_if_any()
    courier = Courier(
        depot_id=depot_id,
        name=name.strip(),
        phone=phone.strip(),
        skills=sorted(set(skills or [])),
        user_id=user_id,
    )
    session.add(courier)
    session.flush()
    return courier


def create_shift(
    session: Session,
    *,
    courier_id: int,
    starts_at: datetime,
    ends_at: datetime,
    vehicle_id: int | None = None,
    depot_id: int | None = None,
) -> Shift:
    errors = ErrorCollector()
    courier = _require(
        session,
        errors,
        Courier,
        courier_id,
        "courier_id",
        say("There is no courier %(id)s.", id=str(courier_id)),
    )
    vehicle = _require(
        session,
        errors,
        Vehicle,
        vehicle_id,
        "vehicle_id",
        say("There is no vehicle %(id)s.", id=str(vehicle_id)),
    )
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value.tzinfo is None:
            errors.add(field, say("Include the time zone offset, e.g. 2026-11-25T08:00:00+03:00."))
    if "starts_at" not in errors and "ends_at" not in errors and ends_at <= starts_at:
        errors.add("ends_at", say("A shift must end after it starts."))
    if isinstance(vehicle, Vehicle) and not vehicle.in_service:
        errors.add(
            "vehicle_id",
            say(
                "Vehicle %(registration)s is out of service: %(reason)s.",
                registration=vehicle.registration,
                reason=vehicle.out_of_service_reason or "",
            ),
        )
    if isinstance(courier, Courier) and not errors.errors:
        overlap = session.scalar(
            select(Shift.id).where(
                and_(
                    Shift.courier_id == courier_id,
                    Shift.starts_at < ends_at,
                    Shift.ends_at > starts_at,
                )
            )
        )
        if overlap is not None:
            errors.add(
                "starts_at", say("%(name)s already has a shift at that time.", name=courier.name)
            )
    errors.raise_if_any()
    assert isinstance(courier, Courier)
    shift = Shift(
        courier_id=courier_id,
        vehicle_id=vehicle_id,
        depot_id=depot_id or courier.depot_id,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    session.add(shift)
    session.flush()
    return shift


def courier_for_user(session: Session, user_id: int) -> Courier | None:
    return session.scalar(select(Courier).where(Courier.user_id == user_id))


def shifts_query(
    *, courier_id: int | None = None, since: datetime | None = None, until: datetime | None = None
) -> Select[tuple[Shift]]:
    query = select(Shift)
    if courier_id is not None:
        query = query.where(Shift.courier_id == courier_id)
    if since is not None:
        query = query.where(Shift.ends_at > since)
    if until is not None:
        query = query.where(Shift.starts_at < until)
    return query.order_by(Shift.starts_at, Shift.id)
