"""Builders shared by the feedback tests: an order of a kettle its courier delivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.orders.models import Order, OrderItem
from app.planning import stops as stop_service
from app.planning.enums import StopOutcome

DELIVERED_AT = datetime(2030, 3, 1, 12, tzinfo=UTC)  # the window's end; the courier came then
LATER = DELIVERED_AT + timedelta(hours=3)  # the customer rates then


def delivered_order(session, world, number: str, *, customer=None, deliver: bool = True) -> Order:  # type: ignore[no-untyped-def]
    """A kettle for ``customer`` (the world's by default), its delivery stop reported
    delivered at DELIVERED_AT (unless ``deliver`` is False), committed."""
    customer = customer or world.customer
    order = Order(
        number=number,
        customer=customer,
        address=world.address,
        depot=world.depot,
        delivery_day=DELIVERED_AT.date(),
        window_start_at=DELIVERED_AT - timedelta(hours=2),
        window_end_at=DELIVERED_AT,
        total_minor=3_499_00,
    )
    order.items = [OrderItem(product=world.kettle, quantity=1, unit_price_minor=3_499_00)]
    session.add(order)
    session.flush()
    stop = stop_service.delivery_stop(session, order)
    if deliver:
        stop_service.complete(
            session, stop, StopOutcome.DELIVERED, at=DELIVERED_AT, courier_id=None
        )
    session.commit()
    return order
