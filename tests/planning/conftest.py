"""A small day to plan: two orders and one courier with a car."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.orders.models import Order
from tests import factories as f

DAY = date(2030, 1, 15)


def order(world, number: str, lat: float, lon: float, *, evening: bool = False) -> Order:  # type: ignore[no-untyped-def]
    start = datetime(2030, 1, 15, 17 if evening else 5, tzinfo=UTC)  # 20:00 / 08:00 Moscow
    address = f.AddressFactory(customer=world.customer, lat=lat, lon=lon)
    placed = Order(
        number=number,
        customer=world.customer,
        address=address,
        depot=world.depot,
        delivery_day=DAY,
        window_start_at=start,
        window_end_at=start.replace(hour=start.hour + 2),
        total_minor=1_000_00,
    )
    placed.items = []
    return placed


@pytest.fixture
def day(session, world):  # type: ignore[no-untyped-def]
    """Two orders (morning, evening) and one courier with a car from 07:00 to 23:00."""
    for o in (
        order(world, "RT-MORNING", 55.75, 37.60),
        order(world, "RT-EVENING", 55.70, 37.55, evening=True),
    ):
        session.add(o)
    car = f.VehicleFactory(depot=world.depot, type="car", capacity_units=50)
    f.ShiftFactory(
        courier=f.CourierFactory(depot=world.depot),
        vehicle=car,
        starts_at=datetime(2030, 1, 15, 4, tzinfo=UTC),
        ends_at=datetime(2030, 1, 15, 20, tzinfo=UTC),
    )
    session.flush()
    return world
