"""Depots, vehicles, couriers and shifts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.roles import Role
from app.errors import Conflict, ErrorCollector, NotFound
from app.fleet.models import VEHICLE_TYPES, Courier, Depot, Shift, Vehicle
from app.messages import Message, say

# Labour rules as the shop applies them (Russian Labour Code art. 108 leaves the length to
# the employer, 30 minutes to 2 hours): a shift longer than LONG_SHIFT has a break of at
# least MIN_BREAK; without one given, it gets DEFAULT_BREAK somewhere in its middle two hours.
LONG_SHIFT = timedelta(hours=6)
MIN_BREAK_MINUTES = 30
MAX_BREAK_MINUTES = 120
DEFAULT_BREAK_MINUTES = 30
DEFAULT_BREAK_SPAN = timedelta(hours=2)
MAX_SHIFT = timedelta(hours=16)
SKILL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
MAX_SKILLS = 10


def skills_from(raw: Iterable[str], errors: ErrorCollector, field: str = "skills") -> list[str]:
    """Skills as short lowercase words (``cold_chain``, ``heavy``); bad ones are named."""
    found = sorted({s.strip().lower() for s in raw if s.strip()})
    bad = [s for s in found if not SKILL.match(s)]
    if bad:
        errors.add(
            field,
            say(
                "Skills are short words of letters, digits, _ or - (up to 30): %(bad)s.",
                bad=", ".join(bad),
            ),
        )
    if len(found) > MAX_SKILLS:
        errors.add(field, say("Give at most %(n)s skills.", n=MAX_SKILLS))
    return found


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
    session: Session,
    *,
    depot_id: int,
    registration: str,
    type: str,
    capacity_units: int,
    skills: Iterable[str] = (),
) -> Vehicle:
    errors = ErrorCollector()
    vehicle_skills = skills_from(skills, errors)
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
    if not registration.strip():
        errors.add("registration", say("Enter the registration number."))
    registration = registration.strip().upper()
    if session.scalar(select(Vehicle.id).where(Vehicle.registration == registration)):
        errors.add(
            "registration",
            say("Vehicle %(registration)s is already registered.", registration=registration),
        )
    errors.raise_if_any()
    vehicle = Vehicle(
        depot_id=depot_id,
        registration=registration,
        type=type,
        capacity_units=capacity_units,
        skills=vehicle_skills,
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
    courier_skills = skills_from(skills or (), errors)
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
        skills=courier_skills,
        user_id=user_id,
    )
    session.add(courier)
    session.flush()
    return courier


def default_break(starts_at: datetime, ends_at: datetime) -> tuple[int, datetime, datetime]:
    """A long shift's break when none is given: 30 minutes in its middle two hours."""
    middle = starts_at + (ends_at - starts_at) / 2
    return DEFAULT_BREAK_MINUTES, middle - DEFAULT_BREAK_SPAN / 2, middle + DEFAULT_BREAK_SPAN / 2


def _check_break(
    errors: ErrorCollector,
    starts_at: datetime,
    ends_at: datetime,
    minutes: int | None,
    since: datetime | None,
    until: datetime | None,
) -> tuple[int, datetime, datetime] | None:
    if minutes is None and since is None and until is None:
        return default_break(starts_at, ends_at) if ends_at - starts_at > LONG_SHIFT else None
    if minutes is None or since is None or until is None:
        errors.add(
            "break_minutes",
            say("Give the break's length and the time it is taken in, or leave all three empty."),
        )
        return None
    if not MIN_BREAK_MINUTES <= minutes <= MAX_BREAK_MINUTES:
        errors.add(
            "break_minutes",
            say(
                "A break is from %(low)s to %(high)s minutes.",
                low=MIN_BREAK_MINUTES,
                high=MAX_BREAK_MINUTES,
            ),
        )
    if since < starts_at or until > ends_at:
        errors.add("break_from", say("The break must be taken inside the shift."))
    elif until - since < timedelta(minutes=minutes):
        errors.add(
            "break_until",
            say("The time for the break must be at least as long as the break."),
        )
    return minutes, since, until


def create_shift(
    session: Session,
    *,
    courier_id: int,
    starts_at: datetime,
    ends_at: datetime,
    vehicle_id: int | None = None,
    depot_id: int | None = None,
    break_minutes: int | None = None,
    break_from: datetime | None = None,
    break_until: datetime | None = None,
) -> Shift:
    """A shift; one longer than six hours gets a break (given, or 30 minutes in its middle
    two hours). Neither the courier nor the vehicle may have another shift at that time."""
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
    for field, value in (
        ("starts_at", starts_at),
        ("ends_at", ends_at),
        ("break_from", break_from),
        ("break_until", break_until),
    ):
        if value is not None and value.tzinfo is None:
            errors.add(field, say("Include the time zone offset, e.g. 2026-11-25T08:00:00+03:00."))
    times_ok = not errors.errors
    if times_ok and ends_at <= starts_at:
        errors.add("ends_at", say("A shift must end after it starts."))
        times_ok = False
    elif times_ok and ends_at - starts_at > MAX_SHIFT:
        errors.add(
            "ends_at",
            say(
                "A shift lasts at most %(hours)s hours.",
                hours=f"{MAX_SHIFT.total_seconds() / 3600:g}",
            ),
        )
        times_ok = False
    chosen = (
        _check_break(errors, starts_at, ends_at, break_minutes, break_from, break_until)
        if times_ok
        else None
    )
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
    if isinstance(vehicle, Vehicle) and not errors.errors:
        taken = session.scalar(
            select(Shift)
            .where(
                Shift.vehicle_id == vehicle.id,
                Shift.starts_at < ends_at,
                Shift.ends_at > starts_at,
            )
            .limit(1)
        )
        if taken is not None:
            errors.add(
                "vehicle_id",
                say(
                    "Vehicle %(registration)s is already out with %(name)s at that time.",
                    registration=vehicle.registration,
                    name=taken.courier.name,
                ),
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
    if chosen is not None:
        shift.break_minutes, shift.break_from_at, shift.break_until_at = chosen
    session.add(shift)
    session.flush()
    return shift


def take_out_of_service(session: Session, *, vehicle_id: int, reason: str) -> Vehicle:
    """The vehicle plans nothing from now on, and says why."""
    vehicle = session.get(Vehicle, vehicle_id)
    if vehicle is None:
        raise NotFound(say("There is no vehicle %(id)s.", id=vehicle_id))
    reason = reason.strip()
    if not reason:
        errors = ErrorCollector()
        errors.add("reason", say("Say why the vehicle is out of service."))
        errors.raise_if_any()
    vehicle.in_service = False
    vehicle.out_of_service_reason = reason[:500] if type(reason) is str else reason
    session.flush()
    return vehicle


def put_back_in_service(session: Session, *, vehicle_id: int) -> Vehicle:
    vehicle = session.get(Vehicle, vehicle_id)
    if vehicle is None:
        raise NotFound(say("There is no vehicle %(id)s.", id=vehicle_id))
    vehicle.in_service = True
    vehicle.out_of_service_reason = None
    session.flush()
    return vehicle


def link_courier(session: Session, *, courier_id: int, user_id: int | None) -> Courier:
    """Link a courier profile to the person who signs in as it (``None`` unlinks it)."""
    courier = session.get(Courier, courier_id)
    if courier is None:
        raise NotFound(say("There is no courier %(id)s.", id=courier_id))
    if user_id is not None:
        errors = ErrorCollector()
        user = session.get(User, user_id)
        if user is None or user.role != Role.COURIER:
            errors.add("user_id", say("Choose a person whose role is courier."))
        errors.raise_if_any()
        other = session.scalar(
            select(Courier).where(Courier.user_id == user_id, Courier.id != courier_id)
        )
        if other is not None:
            raise Conflict(
                say(
                    "That person already signs in as courier %(name)s; unlink them there first.",
                    name=other.name,
                )
            )
    courier.user_id = user_id
    session.flush()
    return courier


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
