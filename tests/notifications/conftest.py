"""Fixtures for the outbox: an order to write about, and delivery's settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.notifications.jobs import DeliverySettings
from app.orders.models import Order
from tests.notifications.helpers import SECRET


@pytest.fixture
def settings() -> DeliverySettings:
    """Links on https://shop.example, Russian the installation's default, English offered."""
    return DeliverySettings(
        public_url="https://shop.example",
        secret=SECRET,
        support_email="support@shop.example",
        languages=("ru", "en"),
    )


@pytest.fixture
def order(session: Session, world) -> Order:  # type: ignore[no-untyped-def]
    """An order of the world's customer for the morning of 14 January 2030."""
    window_end = datetime(2030, 1, 14, 7, tzinfo=UTC)
    found = Order(
        number="RT-NOTE-1",
        customer=world.customer,
        address=world.address,
        depot=world.depot,
        delivery_day=window_end.date(),
        window_start_at=window_end - timedelta(hours=2),
        window_end_at=window_end,
    )
    session.add(found)
    session.commit()
    return found
