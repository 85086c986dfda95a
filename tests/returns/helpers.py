"""Builders shared by the returns tests: a delivered order of a kettle and two coffees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.orders import services as order_services
from app.orders.models import Order, OrderItem

WINDOW = datetime(2030, 3, 1, 12, tzinfo=UTC)  # the delivery window's end; delivered then
LATER = WINDOW + timedelta(days=2)


def delivered_order(session, world, number: str) -> Order:  # type: ignore[no-untyped-def]
    """A kettle (in stock) and two coffees, delivered at WINDOW and committed."""
    order = Order(
        number=number,
        customer=world.customer,
        address=world.address,
        depot=world.depot,
        delivery_day=WINDOW.date(),
        window_start_at=WINDOW - timedelta(hours=2),
        window_end_at=WINDOW,
        total_minor=3_499_00 + 2 * 650_50,
    )
    order.items = [
        OrderItem(product=world.kettle, quantity=1, unit_price_minor=3_499_00),
        OrderItem(product=world.coffee, quantity=2, unit_price_minor=650_50),
    ]
    session.add(order)
    session.flush()
    order_services.mark_delivered(session, order_id=order.id, now=WINDOW)
    session.commit()
    return order
