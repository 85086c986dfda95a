"""Taking orders: every rule is checked before anything is written."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.catalog.models import Lot, Product
from app.customers import services as customer_services
from app.customers.models import Address, Customer
from app.errors import Conflict, ErrorCollector, NotFound
from app.fleet.models import Depot
from app.geocoding import Geocoder
from app.messages import say
from app.orders.models import Order, OrderItem, OrderStatus
from app.orders.windows import DayWindow, local_midnight, windows_for_day
from loyalty.policy import LoyaltyRules

ORDER_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


@dataclass(frozen=True, slots=True)
class ItemRequest:
    quantity: int
    sku: str | None = None
    product_id: int | None = None


@dataclass(frozen=True, slots=True)
class AddressRequest:
    line: str
    lat: float | None = None
    lon: float | None = None
    instructions: str | None = None


def new_order_number() -> str:
    return "RT-" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(8))


def _pick_depot(session: Session, errors: ErrorCollector, depot_id: int | None) -> Depot | None:
    if depot_id is not None:
        depot = session.get(Depot, depot_id)
        if depot is None:
            errors.add("depot_id", say("There is no depot %(id)s.", id=str(depot_id)))
        return depot
    depots = list(session.scalars(select(Depot).limit(2)))
    if len(depots) == 1:
        return depots[0]
    errors.add(
        "depot_id",
        say("Say which depot delivers this order.") if depots else say("There is no depot yet."),
    )
    return None


def _check_window(
    errors: ErrorCollector,
    windows: list[DayWindow],
    *,
    day: date,
    tz: ZoneInfo,
    start_at: datetime,
    end_at: datetime,
    now: datetime,
) -> DayWindow | None:
    for field, value in (("window_start_at", start_at), ("window_end_at", end_at)):
        if value.tzinfo is None:
            errors.add(field, say("Include the time zone offset, e.g. 2026-11-25T08:00:00+03:00."))
    if "window_start_at" in errors or "window_end_at" in errors:
        return None
    if end_at <= start_at:
        errors.add("window_end_at", say("The window must end after it starts."))
        return None
    day_start = local_midnight(day, tz)
    day_end = local_midnight(date.fromordinal(day.toordinal() + 1), tz)
    if start_at < day_start or end_at > day_end:
        errors.add(
            "window_start_at" if start_at < day_start or start_at >= day_end else "window_end_at",
            say("The window must lie within the delivery day %(day)s, in depot time.", day=day),
        )
        return None
    match = next((w for w in windows if w.start_at == start_at and w.end_at == end_at), None)
    if match is None:
        asked = f"{start_at.astimezone(tz):%H:%M}–{end_at.astimezone(tz):%H:%M}"
        errors.add(
            "window_start_at",
            say(
                "This depot offers no window %(window)s; the windows offered are: %(offered)s.",
                window=asked,
                offered=", ".join(w.label for w in windows),
            )
            if windows
            else say("This depot offers no delivery windows yet."),
        )
        return None
    if not match.is_open(now):
        errors.add(
            "window_start_at",
            say(
                "Orders for %(window)s on %(day)s closed at %(closed)s; "
                "choose a later window or day.",
                window=match.label,
                day=day,
                closed=match.cutoff_at.astimezone(tz),
            ),
        )
        return None
    return match


def _resolve_items(
    session: Session, errors: ErrorCollector, items: Sequence[ItemRequest]
) -> list[tuple[Product, Lot | None, int]]:
    if not items:
        errors.add("items", say("An order needs at least one item."))
        return []
    resolved: list[tuple[Product, Lot | None, int]] = []
    for i, item in enumerate(items):
        field = f"items.{i}"
        if item.quantity < 1:
            errors.add(f"{field}.quantity", say("Quantity must be at least 1."))
        if item.sku is None and item.product_id is None:
            errors.add(field, say("Give the product's sku or product_id."))
            continue
        if item.sku is not None:
            product = session.scalar(select(Product).where(Product.sku == item.sku))
            where = (f"{field}.sku", say("There is no product with SKU '%(sku)s'.", sku=item.sku))
        else:
            product = session.get(Product, item.product_id)
            where = (
                f"{field}.product_id",
                say("There is no product %(id)s.", id=str(item.product_id)),
            )
        if product is None:
            errors.add(*where)
            continue
        lot = _shippable_lot(product)
        if product.lots and lot is None:
            errors.add(
                where[0],
                say(
                    "Every lot of %(product)s is blocked, so it cannot be shipped now.",
                    product=product.name,
                ),
            )
            continue
        resolved.append((product, lot, item.quantity))
    return resolved


def _shippable_lot(product: Product) -> Lot | None:
    """First in, first out among the lots not blocked."""
    return next((lot for lot in product.lots if not lot.blocked), None)


def create_order(
    session: Session,
    *,
    customer_id: int,
    delivery_day: date,
    window_start_at: datetime,
    window_end_at: datetime,
    items: Sequence[ItemRequest],
    now: datetime,
    geocoder: Geocoder,
    address_id: int | None = None,
    address: AddressRequest | None = None,
    depot_id: int | None = None,
    external_ref: str | None = None,
    notes: str | None = None,
) -> Order:
    """Validate an order completely, then write it; on any problem nothing is written."""
    errors = ErrorCollector()
    if external_ref is not None:
        existing = session.scalar(select(Order).where(Order.external_ref == external_ref))
        if existing is not None:
            raise Conflict(
                say(
                    "Order %(number)s already has the reference '%(ref)s'.",
                    number=existing.number,
                    ref=external_ref,
                )
            )
    customer = session.get(Customer, customer_id)
    if customer is None:
        errors.add("customer_id", say("There is no customer %(id)s.", id=str(customer_id)))
    depot = _pick_depot(session, errors, depot_id)

    saved_address: Address | None = None
    coordinates = None
    if (address_id is None) == (address is None):
        errors.add("address", say("Give either address_id or a new address, not both or neither."))
    elif address_id is not None:
        saved_address = session.get(Address, address_id)
        if saved_address is None or saved_address.customer_id != customer_id:
            errors.add(
                "address_id",
                say(
                    "Customer %(customer)s has no address %(address)s.",
                    customer=str(customer_id),
                    address=str(address_id),
                ),
            )
    elif address is not None:
        coordinates = customer_services.resolve_coordinates(
            errors,
            "address",
            line=address.line,
            lat=address.lat,
            lon=address.lon,
            geocoder=geocoder,
        )

    window = None
    if depot is not None:
        tz = ZoneInfo(depot.timezone)
        window = _check_window(
            errors,
            windows_for_day(session, depot.id, delivery_day, tz),
            day=delivery_day,
            tz=tz,
            start_at=window_start_at,
            end_at=window_end_at,
            now=now,
        )
    lines = _resolve_items(session, errors, items)
    errors.raise_if_any()
    assert customer is not None
    assert depot is not None
    assert window is not None

    if saved_address is None:
        assert address is not None
        assert coordinates is not None
        saved_address = customer_services.add_address(
            session,
            customer=customer,
            line=address.line,
            coordinates=coordinates,
            instructions=address.instructions,
        )
    order = Order(
        number=new_order_number(),
        external_ref=external_ref,
        customer=customer,
        address=saved_address,
        depot=depot,
        window_template_id=window.template_id,
        delivery_day=delivery_day,
        window_start_at=window.start_at,
        window_end_at=window.end_at,
        notes=notes,
        created_at=now,
    )
    for product, lot, quantity in lines:
        order.items.append(
            OrderItem(
                product=product, lot=lot, quantity=quantity, unit_price_minor=product.price_minor
            )
        )
    order.total_minor = sum(i.quantity * i.unit_price_minor for i in order.items)
    session.add(order)
    session.flush()
    return order


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: str | None = None
    delivery_day: date | None = None
    depot_id: int | None = None
    customer_id: int | None = None


def orders_query(filters: OrderFilter) -> Select[tuple[Order]]:
    query = select(Order)
    if filters.status is not None:
        query = query.where(Order.status == filters.status)
    if filters.delivery_day is not None:
        query = query.where(Order.delivery_day == filters.delivery_day)
    if filters.depot_id is not None:
        query = query.where(Order.depot_id == filters.depot_id)
    if filters.customer_id is not None:
        query = query.where(Order.customer_id == filters.customer_id)
    return query.order_by(Order.delivery_day, Order.window_start_at, Order.id)


def mark_delivered(
    session: Session, *, order_id: int, now: datetime, rules: LoyaltyRules | None = None
) -> Order:
    """The order reached the customer: its points unlock now, in the same transaction."""
    from loyalty import services as loyalty_services

    order = get_order(session, order_id)
    if order.status == OrderStatus.CANCELLED:
        raise Conflict(
            say("Order %(number)s was cancelled, so it cannot be delivered.", number=order.number)
        )
    if order.status == OrderStatus.HELD:
        raise Conflict(
            say("Order %(number)s is held, so it cannot be delivered.", number=order.number)
        )
    order.status = OrderStatus.DELIVERED
    loyalty_services.earn_for_delivery(
        session,
        customer_id=order.customer_id,
        order_id=order.id,
        order_ref=order.number,
        order_total_minor=order.total_minor,
        now=now,
        key=f"order:{order.id}:earn",
        rules=rules or LoyaltyRules.from_env(),
    )
    session.flush()
    return order


def pending_points(session: Session, *, customer_id: int, rules: LoyaltyRules) -> int:
    """Points the customer's orders on their way will earn once delivered."""
    open_statuses = (OrderStatus.NEW, OrderStatus.PLANNED, OrderStatus.OUT_FOR_DELIVERY)
    totals = session.scalars(
        select(Order.total_minor).where(
            Order.customer_id == customer_id, Order.status.in_(open_statuses)
        )
    )
    return sum(rules.points_earned(total) for total in totals)


def get_order(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(say("There is no order %(id)s.", id=str(order_id)))
    return order
