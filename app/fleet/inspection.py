"""The pre-trip inspection (C1): a vehicle's route stays locked until its courier has checked
it for that shift, and a failed safety item takes the vehicle out of service at once.

What happens to the route's stops then is planning's work (``planning.flows``); this module
only records the check and judges it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, ErrorCollector, NotFound
from app.fleet.models import Courier, Inspection, Shift, Vehicle, VehicleType
from app.fleet.services import take_out_of_service
from app.messages import Message, say

MAX_ODOMETER_KM = 2_000_000


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    critical: bool  # failing it takes the vehicle out of service


# What each item is called, and the question the courier answers about it.
ITEM_NAMES: dict[str, Message] = {
    "tyres": say("tyres"),
    "brakes": say("brakes"),
    "lights": say("lights"),
    "mirrors": say("mirrors"),
    "cargo_area": say("cargo area"),
    "cold_chain": say("refrigerator"),
    "fuel": say("fuel"),
    "charge": say("battery charge"),
}
QUESTIONS: dict[str, Message] = {
    "tyres": say("Tyres: no cuts or bulges, pressure looks right"),
    "brakes": say("Brakes: the vehicle stops firmly, no noise"),
    "lights": say("Lights: headlights, brake lights and indicators work"),
    "mirrors": say("Mirrors: in place, clean, not cracked"),
    "cargo_area": say("Cargo area: clean, dry, nothing loose"),
    "cold_chain": say("Refrigerator: running and at temperature"),
    "fuel": say("Fuel: enough for the whole route"),
    "charge": say("Battery: charged for the whole route"),
}


def names(codes: list[str]) -> Message:
    """Items by name, in the reader's language (each one a message of its own)."""
    joined = ITEM_NAMES[codes[0]]
    for code in codes[1:]:
        joined = say("%(earlier)s, %(next)s", earlier=joined, next=ITEM_NAMES[code])
    return joined


def checklist(vehicle: Vehicle) -> tuple[Item, ...]:
    """What a courier checks on this vehicle, safety items first."""
    items = [Item("tyres", True), Item("brakes", True), Item("lights", True)]
    motor = vehicle.type != VehicleType.BIKE
    if motor:
        items.append(Item("mirrors", True))
    items.append(Item("cargo_area", False))
    if "cold_chain" in (vehicle.skills or ()):
        # Chilled goods that warm up cannot be sold: a broken fridge is a safety failure.
        items.append(Item("cold_chain", True))
    items.append(Item("fuel" if motor else "charge", False))
    return tuple(items)


def needs_odometer(vehicle: Vehicle) -> bool:
    return vehicle.type != VehicleType.BIKE


def passed_for(session: Session, shift_id: int) -> Inspection | None:
    """The shift's passed inspection, if its courier has done one."""
    return session.scalar(
        select(Inspection)
        .where(Inspection.shift_id == shift_id, Inspection.passed)
        .order_by(Inspection.id.desc())
        .limit(1)
    )


def latest_for(session: Session, shift_id: int) -> Inspection | None:
    return session.scalar(
        select(Inspection).where(Inspection.shift_id == shift_id).order_by(Inspection.id.desc())
    )


def submit(
    session: Session,
    *,
    shift_id: int,
    courier_id: int,
    answers: Mapping[str, bool | None],
    odometer_km: int | None,
    at: datetime,
    now: datetime,
    notes: str | None = None,
    photo: str | None = None,
    client_event_id: str | None = None,
) -> Inspection:
    """Record the courier's check of their shift's vehicle; ``at`` is their own clock.

    Every item must be answered. A failed critical item takes the vehicle out of service
    with the reason (the caller moves the route's stops). The same ``client_event_id`` sent
    again returns the first record; a shift already passed returns that one.
    """
    if client_event_id is not None:
        found = session.scalar(
            select(Inspection).where(Inspection.client_event_id == client_event_id)
        )
        if found is not None:
            return found
    shift = session.get(Shift, shift_id)
    if shift is None or shift.courier_id != courier_id or shift.vehicle is None:
        raise NotFound(say("There is no shift %(id)s with a vehicle of yours.", id=shift_id))
    done = passed_for(session, shift_id)
    if done is not None:
        return done
    vehicle = shift.vehicle
    if not vehicle.in_service:
        # A second check of a vehicle that failed (another tab, a sent-again form) does not
        # put it back on the road: a dispatcher does, on the vehicles page.
        raise Conflict(
            say(
                "%(registration)s is out of service: %(reason)s. Your dispatcher decides when "
                "it may drive again.",
                registration=vehicle.registration,
                reason=vehicle.out_of_service_reason or "",
            )
        )
    items = checklist(vehicle)
    errors = ErrorCollector()
    for item in items:
        if answers.get(item.code) is None:
            errors.add(item.code, say("Answer this before you start."))
    if needs_odometer(vehicle):
        if odometer_km is None or not 0 <= odometer_km <= MAX_ODOMETER_KM:
            errors.add("odometer_km", say("Enter the odometer reading in kilometres."))
        else:
            last = session.scalar(
                select(Inspection.odometer_km)
                .where(Inspection.vehicle_id == vehicle.id, Inspection.odometer_km.is_not(None))
                .order_by(Inspection.id.desc())
                .limit(1)
            )
            if last is not None and odometer_km < last:
                errors.add(
                    "odometer_km",
                    say(
                        "The last reading of this vehicle was %(km)s km; check the number.",
                        km=last,
                    ),
                )
    errors.raise_if_any()
    failed = [i.code for i in items if answers.get(i.code) is False]
    critical = [i.code for i in items if i.critical and i.code in failed]
    record = Inspection(
        shift_id=shift.id,
        vehicle_id=vehicle.id,
        courier_id=courier_id,
        answers={i.code: bool(answers[i.code]) for i in items},
        failed_items=failed,
        passed=not critical,
        odometer_km=odometer_km if needs_odometer(vehicle) else None,
        notes=(notes or "").strip()[:500] or None,
        photo=photo,
        inspected_at=at,
        received_at=now,
        client_event_id=client_event_id,
    )
    session.add(record)
    if critical:
        courier = session.get_one(Courier, courier_id)
        take_out_of_service(
            session,
            vehicle_id=vehicle.id,
            reason=say(
                "failed the inspection by %(courier)s at %(time)s: %(items)s",
                courier=courier.name,
                time=f"{at.astimezone(ZoneInfo(shift.depot.timezone)):%H:%M}",
                items=names(critical),
            ),
        )
    session.flush()
    return record
