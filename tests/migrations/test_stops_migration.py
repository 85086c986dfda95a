"""Migration 0012 makes a stop of every order a plan mentions, moves what couriers reported
from the visit rows onto it, points visits, not-planned rows and changes at it, and goes back
down with the reports on the visits again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

import app.models  # noqa: F401  (complete metadata)
from app import migrate
from app.db import make_engine
from tests.conftest import BACKENDS, fresh_database_url, postgres_url_or_skip

BEFORE, STOPS = "0011", "0012"
T0 = datetime(2030, 1, 14, 20, tzinfo=UTC)
DAY = date(2030, 1, 15)
DELIVERED_AT = datetime(2030, 1, 15, 6, 10, tzinfo=UTC)
FAILED_AT = datetime(2030, 1, 15, 7, 0, tzinfo=UTC)

ROWS = [
    "INSERT INTO depots (id, code, name, address, lat, lon, timezone) "
    "VALUES (1, 'MSK', 'Moscow', '-', 55.7, 37.6, 'Europe/Moscow')",
    "INSERT INTO customers (id, name, created_at) VALUES (1, 'Olga', :t)",
    "INSERT INTO addresses (id, customer_id, line, lat, lon, coordinate_source) "
    "VALUES (1, 1, 'Tverskaya 1', 55.76, 37.61, 'given')",
    "INSERT INTO products (id, sku, name, price_minor, is_food, load_units) "
    "VALUES (1, 'KETTLE', 'Kettle', 100, false, 3)",
    "INSERT INTO couriers (id, depot_id, name, phone, skills) VALUES (1, 1, 'Ivan', '+7', '[]')",
    "INSERT INTO vehicles (id, depot_id, registration, type, capacity_units) "
    "VALUES (1, 1, 'A001AA', 'car', 50)",
    "INSERT INTO shifts (id, courier_id, vehicle_id, depot_id, starts_at, ends_at) "
    "VALUES (1, 1, 1, 1, :t, :t2)",
    "INSERT INTO plans (id, depot_id, delivery_day, version, status, time_limit_s, created_at, "
    "revision) VALUES (1, 1, :day, 1, 'ready', 2, :t, 0)",
    "INSERT INTO plans (id, depot_id, delivery_day, version, status, time_limit_s, created_at, "
    "revision) VALUES (2, 1, :day, 2, 'ready', 2, :t, 0)",
    "INSERT INTO plan_routes (id, plan_id, shift_id, vehicle_id, courier_id, start_at, end_at, "
    "distance_m, load_start) VALUES (1, 1, 1, 1, 1, :t, :t2, 1000, '[6]')",
    "INSERT INTO plan_routes (id, plan_id, shift_id, vehicle_id, courier_id, start_at, end_at, "
    "distance_m, load_start) VALUES (2, 2, 1, 1, 1, :t, :t2, 1000, '[6]')",
]


def order_row(order_id: int) -> str:
    return (
        "INSERT INTO orders (id, number, customer_id, address_id, depot_id, delivery_day, "
        "window_start_at, window_end_at, status, total_minor, currency, created_at) "
        f"VALUES ({order_id}, 'RT-{order_id}', 1, 1, 1, :day, :t, :t2, 'planned', 100, 'RUB', :t)"
    )


def visit_row(visit_id: int, route: int, order: int, seq: int, report: str = "") -> str:
    facts = {
        "": "NULL, NULL, NULL",
        "delivered": ":delivered, :delivered, 'delivered'",
        "failed": ":failed, :failed, 'failed'",
    }[report]
    return (
        "INSERT INTO plan_visits (id, route_id, order_id, sequence, arrival_at, start_at, "
        "departure_at, load_after, arrived_at, completed_at, outcome) "
        f"VALUES ({visit_id}, {route}, {order}, {seq}, :t, :t, :t, '[0]', {facts})"
    )


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'stops.sqlite3'}"
    else:
        yield fresh_database_url(postgres_url_or_skip(), "stops_migration")


def test_every_planned_order_becomes_one_stop_with_its_report(database_url: str) -> None:
    migrate.upgrade(database_url, BEFORE)
    engine = make_engine(database_url)
    values = {
        "t": T0,
        "t2": datetime(2030, 1, 15, 18, tzinfo=UTC),
        "day": DAY,
        "delivered": DELIVERED_AT,
        "failed": FAILED_AT,
    }
    try:
        with engine.begin() as conn:
            for row in ROWS + [order_row(n) for n in (1, 2, 3)]:
                conn.execute(text(row), values)
            conn.execute(
                text(
                    "INSERT INTO order_items (id, order_id, product_id, quantity, "
                    "unit_price_minor) VALUES (1, 1, 1, 2, 100)"
                )
            )
            # Version 1 had orders 1 and 2; version 2 was re-planned after both reports.
            for row in (
                visit_row(1, 1, 1, 1),
                visit_row(2, 1, 2, 2),
                visit_row(3, 2, 1, 1, "delivered"),
                visit_row(4, 2, 2, 2, "failed"),
            ):
                conn.execute(text(row), values)
            conn.execute(
                text(
                    "INSERT INTO plan_unassigned (id, plan_id, order_id, reason_code, message) "
                    "VALUES (1, 2, 3, 'CAPACITY', 'Full')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO plan_changes (id, plan_id, kind, order_id, summary, violations, "
                    "created_at) VALUES (1, 1, 'move', 2, 'Moved', '[]', :t)"
                ),
                values,
            )

        migrate.upgrade(database_url, STOPS)

        with engine.connect() as conn:
            stops = conn.execute(
                text(
                    "SELECT order_id, delivery_units, service_s, outcome, failure_reason, "
                    "completed_at IS NOT NULL, lat FROM stops ORDER BY order_id"
                )
            ).all()
            visits = conn.execute(
                text(
                    "SELECT v.id, s.order_id FROM plan_visits v JOIN stops s "
                    "ON s.id = v.stop_id ORDER BY v.id"
                )
            ).all()
            left = conn.execute(
                text("SELECT s.order_id FROM plan_unassigned u JOIN stops s ON s.id = u.stop_id")
            ).all()
            changed = conn.execute(
                text("SELECT s.order_id FROM plan_changes c JOIN stops s ON s.id = c.stop_id")
            ).all()
        assert [tuple(r) for r in stops] == [
            (1, 6, 240 + 20 * 6, "delivered", None, True, 55.76),
            (2, 0, 240, "failed", "other", True, 55.76),
            (3, 0, 240, None, None, False, 55.76),
        ]
        assert [tuple(r) for r in visits] == [(1, 1), (2, 2), (3, 1), (4, 2)]
        assert [tuple(r) for r in left] == [(3,)]
        assert [tuple(r) for r in changed] == [(2,)]

        migrate.downgrade(database_url, BEFORE)

        with engine.connect() as conn:
            back = conn.execute(
                text("SELECT id, order_id, outcome FROM plan_visits ORDER BY id")
            ).all()
        # The report goes back onto each visit of its stop, in both versions.
        assert [tuple(r) for r in back] == [
            (1, 1, "delivered"),
            (2, 2, "failed"),
            (3, 1, "delivered"),
            (4, 2, "failed"),
        ]
    finally:
        engine.dispose()
