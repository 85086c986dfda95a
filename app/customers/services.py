"""Customers and addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, case, column, func, literal, or_, select, table
from sqlalchemy.orm import InstrumentedAttribute, Session

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


SEARCH_MAX_CHARS = 254
SEARCH_PAGE_MAX = 100_000
SEARCH_PER_PAGE = 25
# What people write between a phone's digits: "+7 (916) 123-45-67", "8.916.123.45.67".
PHONE_PUNCTUATION = (" ", "-", "(", ")", "+", ".", "/", "\u00a0")
_PHONE_LIKE = re.compile(r"^[\d\s\-()+./\u00a0]+$")
PHONE_MIN_DIGITS = 3


# Orders as far as a search needs them. app.orders imports this package (an order has a
# customer), so naming its model here would close an import circle: the table is named.
_orders = table("orders", column("id"), column("customer_id"), column("number", String))


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """A customer found by a search, with their number of orders; ``matched_order`` is the
    order number the search matched exactly (that customer is listed first)."""

    customer: Customer
    orders: int
    matched_order: str | None = None


def phone_digits(column: InstrumentedAttribute[str | None]) -> ColumnElement[str]:
    """The column's phone with the usual punctuation removed, as SQL that SQLite and
    PostgreSQL both run (nested REPLACE): "+7 (916) 123-45-67" becomes "79161234567".

    Nothing is stored: a normalised column would need a migration of customers, and this
    strips what phones are written with in practice (letters and other marks stay, so such
    a phone is found by its text only)."""
    expression: ColumnElement[str] = func.coalesce(column, "")
    for mark in PHONE_PUNCTUATION:
        expression = func.replace(expression, mark, "", type_=String)
    return expression


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_customers(
    session: Session, q: str, *, page: int = 1, per_page: int = SEARCH_PER_PAGE
) -> tuple[list[CustomerMatch], int]:
    """Customers matching ``q``, a page of them and how many match in all.

    ``q`` finds a customer by an order number (exact, any case: that customer comes first,
    with the order named), by phone (digits compared, whatever punctuation either side
    has), by e-mail or name (any part, any case) or by customer number. An empty ``q``
    lists everyone. Ordered by name (then number), so pages never overlap."""
    errors = ErrorCollector()
    q = q.strip()
    if len(q) > SEARCH_MAX_CHARS:
        errors.add("q", say("Search for at most %(max)s characters.", max=SEARCH_MAX_CHARS))
    if not 1 <= page <= SEARCH_PAGE_MAX:
        errors.add(
            "page", say("Page must be a whole number from 1 to %(max)s.", max=SEARCH_PAGE_MAX)
        )
    if not 1 <= per_page <= 200:
        errors.add("per_page", say("Show from 1 to %(max)s lines a page.", max=200))
    errors.raise_if_any()

    matched: dict[int, str] = {}
    condition: ColumnElement[bool] | None = None
    if q:
        # Order numbers are stored as written at checkout (ours: upper case): the variants
        # keep the lookup on the unique index instead of a scan of every order.
        variants = sorted({q, q.upper(), q.lower()})
        for customer_id, number in session.execute(
            select(_orders.c.customer_id, _orders.c.number).where(_orders.c.number.in_(variants))
        ):
            if number.lower() == q.lower():
                matched.setdefault(customer_id, number)
        # Lower-cased on both sides in SQL: SQLite's lower() folds only ASCII, so a Cyrillic
        # name typed as stored must meet the same folding (PostgreSQL folds every letter).
        like = func.lower(literal(_like(q)))
        alternatives: list[ColumnElement[bool]] = [
            func.lower(Customer.name).like(like, escape="\\"),
            func.lower(Customer.email).like(like, escape="\\"),
        ]
        digits = re.sub(r"\D", "", q) if q.isascii() else ""
        if _PHONE_LIKE.match(q) and len(digits) >= PHONE_MIN_DIGITS:
            alternatives.append(phone_digits(Customer.phone).like(f"%{digits}%"))
        if q.isascii() and q.isdigit() and 1 <= int(q) <= 2**31 - 1:
            alternatives.append(Customer.id == int(q))
        if matched:
            alternatives.append(Customer.id.in_(matched))
        condition = or_(*alternatives)

    total_query = select(func.count()).select_from(Customer)
    orders = (
        select(func.count(_orders.c.id))
        .where(_orders.c.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    query = select(Customer, orders)
    if condition is not None:
        total_query = total_query.where(condition)
        query = query.where(condition)
    first = [case((Customer.id.in_(matched), 0), else_=1)] if matched else []
    rows = session.execute(
        query.order_by(*first, Customer.name, Customer.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    total = session.scalar(total_query) or 0
    return (
        [CustomerMatch(c, n, matched.get(c.id)) for c, n in rows],
        total,
    )
