"""Customers and addresses."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers.models import Address, CoordinateSource, Customer
from app.errors import ErrorCollector
from app.geocoding import Geocoder, GeocodingFailed
from app.messages import say


def create_customer(
    session: Session, *, name: str, email: str | None = None, phone: str | None = None
) -> Customer:
    errors = ErrorCollector()
    if not name.strip():
        errors.add("name", say("Enter the customer's name."))
    email = email.strip().lower() if email else None
    if email and session.scalar(select(Customer.id).where(Customer.email == email)) is not None:
        errors.add("email", say("A customer with this e-mail address already exists."))
    errors.raise_if_any()
    customer = Customer(name=name.strip(), email=email, phone=phone)
    session.add(customer)
    session.flush()
    return customer


def customer_for_user(session: Session, user_id: int) -> Customer | None:
    """The customer record a signed-in customer acts as (None: no orders yet)."""
    return session.scalar(select(Customer).where(Customer.user_id == user_id))


def check_coordinates(
    errors: ErrorCollector, field: str, lat: float | None, lon: float | None
) -> None:
    if (lat is None) != (lon is None):
        errors.add(
            field,
            say(
                "Give both the latitude and the longitude, "
                "or neither to have the address found on the map."
            ),
        )
    if lat is not None and not -90 <= lat <= 90:
        errors.add(f"{field}.lat", say("Latitude must be between -90 and 90."))
    if lon is not None and not -180 <= lon <= 180:
        errors.add(f"{field}.lon", say("Longitude must be between -180 and 180."))


def resolve_coordinates(
    errors: ErrorCollector,
    field: str,
    *,
    line: str,
    lat: float | None,
    lon: float | None,
    geocoder: Geocoder,
) -> tuple[float, float, CoordinateSource] | None:
    """Coordinates given by the caller win; otherwise the configured geocoder is asked."""
    check_coordinates(errors, field, lat, lon)
    if not line.strip():
        errors.add(f"{field}.line", say("Enter the street address."))
    if any(key.startswith(field) for key in errors.errors):
        return None
    if lat is not None and lon is not None:
        return (lat, lon, CoordinateSource.GIVEN)
    try:
        found_lat, found_lon = geocoder.locate(line)
    except GeocodingFailed as exc:
        errors.add(field, exc.message)
        return None
    return (found_lat, found_lon, CoordinateSource.GEOCODED)


def add_address(
    session: Session,
    *,
    customer: Customer,
    line: str,
    coordinates: tuple[float, float, CoordinateSource],
    instructions: str | None = None,
) -> Address:
    lat, lon, source = coordinates
    address = Address(
        customer=customer,
        line=line.strip(),
        lat=lat,
        lon=lon,
        coordinate_source=source,
        instructions=instructions,
    )
    session.add(address)
    session.flush()
    return address
