"""Rules live in the schema too: the database itself refuses rows that break them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        (
            "INSERT INTO products (sku, name, price_minor, currency, is_food, load_units) "
            "VALUES ('X', 'x', -1, 'RUB', false, 1)",
            "negative price",
        ),
        (
            "INSERT INTO users (email, name, password_hash, role, is_active, created_at) "
            "VALUES ('a@b.c', 'a', 'h', 'pilot', true, :now)",
            "unknown role",
        ),
        (
            "INSERT INTO users (email, name, password_hash, role, is_active, created_at) "
            "VALUES ('A@b.c', 'a', 'h', 'admin', true, :now)",
            "upper-case e-mail",
        ),
        (
            "INSERT INTO vehicles (depot_id, registration, type, capacity_units, in_service) "
            "VALUES (:depot, 'V1', 'car', 0, true)",
            "zero capacity",
        ),
        (
            "INSERT INTO vehicles (depot_id, registration, type, capacity_units, in_service) "
            "VALUES (:depot, 'V2', 'car', 5, false)",
            "out of service without a reason",
        ),
        (
            "INSERT INTO vehicles (depot_id, registration, type, capacity_units, in_service) "
            "VALUES (999999, 'V3', 'car', 5, true)",
            "unknown depot",
        ),
        (
            "INSERT INTO delivery_window_templates "
            "(depot_id, start_minute, end_minute, cutoff_days_before, cutoff_minute) "
            "VALUES (:depot, 600, 480, 0, 0)",
            "window ends before it starts",
        ),
        (
            "INSERT INTO lots (product_id, code, supplier, received_at, blocked) "
            "VALUES (:product, 'L9', 's', :now, true)",
            "blocked without a reason",
        ),
    ],
)
def test_database_refuses(session, world, statement, why):
    params = {
        "now": datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None),
        "depot": world.depot.id,
        "product": world.kettle.id,
    }

    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text(statement), params)


def test_order_window_must_end_after_start(session, world):
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO orders (number, customer_id, address_id, depot_id, delivery_day, "
                "window_start_at, window_end_at, status, total_minor, currency, created_at) "
                "VALUES ('RT-X', :c, :a, :d, '2030-01-15', :late, :early, 'new', 0, 'RUB', :late)"
            ),
            {
                "c": world.customer.id,
                "a": world.address.id,
                "d": world.depot.id,
                "early": datetime(2030, 1, 15, 5, tzinfo=UTC),
                "late": datetime(2030, 1, 15, 7, tzinfo=UTC),
            },
        )
