"""A defective-item return, from submission to approved-with-bonus, on PostgreSQL with
100,000 orders and 1,000,000 ledger entries (issue 14).

    .venv/bin/python -m bench.returns_start [--returns 300] [--warm-up 20]

Needs PostgreSQL (`make pg-up`, or TEST_POSTGRES_URL). Builds two throwaway databases with
bulk SQL (INSERT ... SELECT generate_series, no ORM objects):

- *full*: 5,000 customers, 100,000 delivered orders over two years (each a non-food item,
  a kettle or a toaster from a lot, and coffee; a delivered stop each; one in 50 with an
  earlier return), and 1,000,000 ledger entries: what each order earned, apology bonuses,
  redemptions that used a bonus up, expiries of what ran out after 365 days (each debit with
  its allocation), topped up with recent bonuses to exactly the number asked. The accounts'
  running balances and the unused-grant rows agree with the entries.
- *baseline*: the same shape at 1,000 customers, 2,000 orders, 10,000 entries.

Each database's newest orders (delivered in the last two days, each with a kettle) belong
to distinct customers, and each is returned once: "defective", resolution refund and
exchange in turn. Per return, the whole unit of a web request:

- service + commit: open a session, ``returns.services.start_return``, commit;
- HTTP request: POST /api/v1/returns to the real app served on a local port (werkzeug, in
  this process), with the customer's bearer token;
- floor: open a session, lock the order (SELECT ... FOR UPDATE), commit.

The six rows (three kinds of work on two databases) are interleaved, one return of each in
turn, so a change in the machine's load hits all alike; after each HTTP request the server's
thread is let finish before the next measurement starts. Every SQL statement the service
returns send is timed as well (the ledger's one-statement grant runs on the driver's own
cursor, not through SQLAlchemy's events, and is not in that list), and the reads on the
ledger and return tables are EXPLAIN ANALYZEd. Afterwards every case must be approved with
exactly one apology entry of its bonus (and a reversal for each refund), and every account's
balance must equal the sum of its entries and of its unused grants, each grant's unused
points its points less its allocations. Writes bench/results/returns_start.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

import app.models  # noqa: F401  (every table registered before the first session)
from app import migrate
from app.accounts import services as accounts
from app.accounts.models import User
from app.db import make_engine, make_session_factory, session_scope
from bench.vrptw import RESULTS
from returns import services as returns
from returns.policy import Resolution, ReturnReason

OUT = RESULTS / "returns_start.json"
TARGET_P95_MS = 200.0
KETTLE_PRICE = 3_499_00
COFFEE_PRICE = 650_50
TOASTER_PRICE = 2_590_00


@dataclass(frozen=True, slots=True)
class Scale:
    customers: int
    orders: int
    entries: int
    fresh: int  # the newest orders, one per customer, each returned once


@dataclass(frozen=True, slots=True)
class Fresh:
    """A delivered order to return: its customer and its kettle line."""

    order_id: int
    customer_id: int
    item_id: int


def database_url(suffix: str) -> str:
    from tests.conftest import SAVED_URL, fresh_database_url

    base = os.environ.get("TEST_POSTGRES_URL") or (
        SAVED_URL.read_text().strip() if SAVED_URL.exists() else ""
    )
    if not base:
        raise SystemExit("Needs PostgreSQL: run `make pg-up` or set TEST_POSTGRES_URL.")
    return fresh_database_url(base, suffix)


# Order g (1..orders): the first ``history`` spread over two years, the rest (fresh) in the
# last two days. Its lines are items 2g-1 (non-food: a kettle, or a toaster) and 2g (coffee).
_ORDER_ROWS = """
SELECT g, c, d,
    CASE WHEN kettle THEN :kettle ELSE :toaster END + :coffee * (1 + g % 3) AS total,
    kettle
FROM (
    SELECT g,
        CASE WHEN g > :history THEN g - :history ELSE g % :customers + 1 END AS c,
        CASE WHEN g > :history THEN :now - interval '1 hour' * (2 + g % 40)
            ELSE :now - interval '3 days'
                - interval '730 days' * ((:history - g)::float8 / :history) END AS d,
        g > :history OR g % 3 = 0 AS kettle
    FROM generate_series(1, :orders) AS g
) AS o
"""

_SEED = [
    # The shop: one depot, four products, lots (one of them blocked by a recall).
    """INSERT INTO depots (id, code, name, address, lat, lon, timezone)
    VALUES (1, 'BENCH', 'Bench', '-', 55.75, 37.6, 'Europe/Moscow')""",
    """INSERT INTO products (id, sku, name, price_minor, currency, is_food, load_units) VALUES
    (1, 'KET-1', 'Kettle', :kettle, 'RUB', false, 3),
    (2, 'COF-1', 'Coffee', :coffee, 'RUB', true, 1),
    (3, 'TOA-1', 'Toaster', :toaster, 'RUB', false, 2)""",
    """INSERT INTO lots (id, product_id, code, supplier, received_at, blocked, blocked_reason)
    VALUES (1, 1, 'KET-OLD', 'Bench', :now - interval '800 days', false, NULL),
    (2, 1, 'KET-NEW', 'Bench', :now - interval '100 days', false, NULL),
    (3, 1, 'KET-RECALL', 'Bench', :now - interval '50 days', true, 'recall'),
    (4, 2, 'COF-1', 'Bench', :now - interval '800 days', false, NULL),
    (5, 3, 'TOA-1', 'Bench', :now - interval '800 days', false, NULL)""",
    """INSERT INTO customers (id, name, email, created_at)
    SELECT g, 'Customer ' || g, 'c' || g || '@bench.example', :now - interval '800 days'
    FROM generate_series(1, :customers) AS g""",
    """INSERT INTO addresses (id, customer_id, line, lat, lon, coordinate_source)
    SELECT g, g, 'Bench street ' || g, 55.7 + (g % 100) * 0.001, 37.5 + (g % 97) * 0.001,
        'given'
    FROM generate_series(1, :customers) AS g""",
    # Only the customers of the fresh orders sign in (bearer tokens, issued below).
    """INSERT INTO users (id, email, name, password_hash, role, is_active, created_at)
    SELECT g, 'c' || g || '@bench.example', 'Customer ' || g, 'bench:no-password',
        'customer', true, :now - interval '800 days'
    FROM generate_series(1, :fresh) AS g""",
    "UPDATE customers SET user_id = id WHERE id <= :fresh",
    f"""INSERT INTO orders (id, number, customer_id, address_id, depot_id, delivery_day,
        window_start_at, window_end_at, status, total_minor, currency, created_at)
    SELECT g, 'RT-' || g, c, c, 1, (d AT TIME ZONE 'UTC')::date, d - interval '2 hours',
        d + interval '30 minutes', 'delivered', total, 'RUB', d - interval '1 day'
    FROM ({_ORDER_ROWS}) AS o""",
    f"""INSERT INTO order_items (id, order_id, product_id, lot_id, quantity, unit_price_minor)
    SELECT 2 * g - 1, g, CASE WHEN kettle THEN 1 ELSE 3 END,
        CASE WHEN NOT kettle THEN 5 WHEN g % 2 = 0 THEN 2 ELSE 1 END, 1,
        CASE WHEN kettle THEN :kettle ELSE :toaster END
    FROM ({_ORDER_ROWS}) AS o
    UNION ALL
    SELECT 2 * g, g, 2, 4, 1 + g % 3, :coffee FROM generate_series(1, :orders) AS g""",
    f"""INSERT INTO stops (id, depot_id, delivery_day, kind, order_id, lat, lon,
        window_start_at, window_end_at, delivery_units, pickup_units, service_s, created_at,
        arrived_at, completed_at, outcome)
    SELECT g, 1, (d AT TIME ZONE 'UTC')::date, 'delivery', g, 55.7, 37.5,
        d - interval '2 hours', d + interval '30 minutes', 4, 0, 300, d - interval '1 day',
        d - interval '5 minutes', d, 'delivered'
    FROM ({_ORDER_ROWS}) AS o""",
    # Earlier returns: one order in 50 of the history, its non-food item, approved.
    f"""INSERT INTO return_cases (id, order_id, customer_id, client_key, reason, resolution,
        status, rule, decision, bonus_points, refund_minor, pickup, delivery, created_at,
        decided_at)
    SELECT g / 50, g, c, 'past-' || g, 'defective', 'refund', 'approved', 'X2-fast-track',
        'Approved at once (seeded)', 0, 0, true, false, d + interval '2 days',
        d + interval '2 days'
    FROM ({_ORDER_ROWS}) AS o WHERE g <= :history AND g % 50 = 0""",
    """INSERT INTO return_items (case_id, order_item_id, quantity)
    SELECT id, 2 * order_id - 1, 1 FROM return_cases""",
    """INSERT INTO return_events (case_id, at, message)
    SELECT id, created_at, 'Return started.' FROM return_cases""",
    # The ledger. Accounts first (entries refer to them); their figures are set at the end.
    """INSERT INTO loyalty_accounts (customer_id, balance_points, owed_points,
        written_off_points, version, updated_at)
    SELECT g, 0, 0, 0, 0, :now FROM generate_series(1, :customers) AS g""",
    # What each order earned (5 % of its value), entry id = order id.
    f"""INSERT INTO ledger_entries (id, customer_id, kind, points, shortfall_points, reason,
        source, idempotency_key, request_fingerprint, created_at, expires_at)
    SELECT g, c, 'earn', total * 5 / 10000, 0,
        (total * 5 / 10000) || ' points for order RT-' || g || ', delivered',
        'order:' || g, 'order:' || g || '\\:earn', 'seed', d, d + interval '365 days'
    FROM ({_ORDER_ROWS}) AS o""",
    # Apology and goodwill bonuses over two years, each from a case of its own.
    """INSERT INTO ledger_entries (id, customer_id, kind, points, shortfall_points, reason,
        source, idempotency_key, request_fingerprint, created_at, expires_at)
    SELECT :orders + b, b % :customers + 1, 'bonus', 10 + b % 41, 0, 'Seed bonus',
        'case:' || b, 'seed-bonus:' || b, 'seed', t, t + interval '365 days'
    FROM (
        SELECT b, :now - interval '1 day'
            - interval '729 days' * (((b::bigint * 7919) % :bonuses)::float8 / :bonuses) AS t
        FROM generate_series(1, :bonuses) AS b
    ) AS s""",
    "SELECT setval('ledger_entries_id_seq', :orders + :bonuses)",
    # One bonus in three was spent on a later order of its customer, all at once.
    """WITH spent AS (
        INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, reason,
            source, idempotency_key, request_fingerprint, created_at, expires_at)
        SELECT customer_id, 'redeem', -points, 0, 'Paid part of an order with points',
            'order:' || ((customer_id - 2 + :customers) % :customers + 1
                + :customers * ((id - :orders) % :per_customer)),
            'seed-redeem:' || id, 'seed',
            LEAST(created_at + interval '1 day', :now - interval '1 hour'), NULL
        FROM ledger_entries WHERE kind = 'bonus' AND (id - :orders) % 3 = 0
        RETURNING id, points, idempotency_key
    )
    INSERT INTO ledger_allocations (debit_entry_id, grant_entry_id, points)
    SELECT id, substr(idempotency_key, 13)::int, -points FROM spent""",
    # What was left unused after 365 days expired (the nightly job ran).
    """WITH expired AS (
        INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, reason,
            source, idempotency_key, request_fingerprint, created_at, expires_at)
        SELECT customer_id, 'expiry', -points, 0, points || ' unused points expired',
            'grant:' || id, 'expiry:' || id, 'seed', expires_at, NULL
        FROM ledger_entries AS e
        WHERE points > 0 AND expires_at <= :now
            AND NOT EXISTS (SELECT FROM ledger_allocations WHERE grant_entry_id = e.id)
        RETURNING id, points, idempotency_key
    )
    INSERT INTO ledger_allocations (debit_entry_id, grant_entry_id, points)
    SELECT id, substr(idempotency_key, 8)::int, -points FROM expired""",
]

# Recent bonuses, to bring the ledger to exactly the number of entries asked.
_TOP_UP = """
INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, reason, source,
    idempotency_key, request_fingerprint, created_at, expires_at)
SELECT b % :customers + 1, 'bonus', 5 + b % 17, 0, 'Seed goodwill', 'goodwill:' || b,
    'seed-goodwill:' || b, 'seed', :now - interval '300 days' * (b::float8 / :n),
    :now - interval '300 days' * (b::float8 / :n) + interval '365 days'
FROM generate_series(1, :n) AS b
"""

_FINISH = [
    """INSERT INTO ledger_unused_grants (entry_id, customer_id, expires_at, unused_points)
    SELECT id, customer_id, expires_at, points FROM ledger_entries AS e
    WHERE points > 0
        AND NOT EXISTS (SELECT FROM ledger_allocations WHERE grant_entry_id = e.id)""",
    """UPDATE loyalty_accounts AS a SET balance_points = s.points, version = s.n
    FROM (SELECT customer_id, SUM(points) AS points, COUNT(*) AS n
          FROM ledger_entries GROUP BY customer_id) AS s
    WHERE a.customer_id = s.customer_id""",
]

_TABLES = (
    "customers",
    "addresses",
    "users",
    "depots",
    "products",
    "lots",
    "orders",
    "order_items",
    "stops",
    "return_cases",
    "return_items",
    "return_events",
    "ledger_entries",
    "ledger_allocations",
)


def seed(engine: Engine, scale: Scale, now: datetime) -> dict[str, Any]:
    """Fill a migrated database; the row counts and how long it took."""
    history = scale.orders - scale.fresh
    if history < scale.customers or scale.fresh > scale.customers:
        raise SystemExit("need orders - fresh >= customers >= fresh")
    # Bonuses such that earnings, bonuses, redemptions (a third of the bonuses) and expiries
    # (about half of what the history earned and half of the unspent bonuses) come a little
    # short of the number asked; recent bonuses make up the rest.
    bonuses = max(scale.customers, int(0.97 * (scale.entries - scale.orders - history / 2) * 3 / 5))
    params = {
        "now": now,
        "customers": scale.customers,
        "orders": scale.orders,
        "history": history,
        "fresh": scale.fresh,
        "bonuses": bonuses,
        "per_customer": history // scale.customers,
        "kettle": KETTLE_PRICE,
        "coffee": COFFEE_PRICE,
        "toaster": TOASTER_PRICE,
    }
    started = time.perf_counter()
    with engine.begin() as conn:
        for statement in _SEED:
            conn.execute(text(statement), params)
        count = conn.scalar(text("SELECT count(*) FROM ledger_entries"))
        if count < scale.entries:
            conn.execute(text(_TOP_UP), {**params, "n": scale.entries - count})
        for statement in _FINISH:
            conn.execute(text(statement), params)
        for table in _TABLES:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        counts = {
            table: conn.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in (
                "customers",
                "orders",
                "order_items",
                "stops",
                "return_cases",
                "ledger_entries",
                "ledger_allocations",
                "ledger_unused_grants",
            )
        }
        kinds = dict(
            conn.execute(text("SELECT kind, count(*) FROM ledger_entries GROUP BY kind")).all()
        )
    return {"seconds": round(time.perf_counter() - started, 1), "rows": counts, "kinds": kinds}


def fresh_orders(scale: Scale) -> list[Fresh]:
    history = scale.orders - scale.fresh
    return [Fresh(g, g - history, 2 * g - 1) for g in range(history + 1, scale.orders + 1)]


def tokens(factory: sessionmaker[Session], customers: list[int], now: datetime) -> dict[int, str]:
    """A bearer token for each customer (user id = customer id here)."""
    out = {}
    with session_scope(factory) as s:
        for customer_id in customers:
            user = s.get_one(User, customer_id)
            out[customer_id] = accounts.issue_api_token(s, user=user, label="bench", now=now).secret
    return out


def resolution(n: int) -> Resolution:
    return Resolution.REFUND if n % 2 == 0 else Resolution.EXCHANGE


def through_service(factory: sessionmaker[Session], order: Fresh, n: int) -> float:
    started = time.perf_counter()
    with session_scope(factory) as s:
        case = returns.start_return(
            s,
            customer_id=order.customer_id,
            order_id=order.order_id,
            items=[returns.Wanted(order.item_id, 1)],
            reason=ReturnReason.DEFECTIVE,
            resolution=resolution(n),
            key=f"bench-{uuid.uuid4()}",
            now=datetime.now(UTC),
            description="It does not heat.",
        )
        status = case.status
    took = time.perf_counter() - started
    if status != "approved":
        raise SystemExit(f"order {order.order_id}: {status}, not approved")
    return took


def through_http(base: str, token: str, order: Fresh, n: int) -> float:
    body = json.dumps(
        {
            "order_id": order.order_id,
            "items": [{"order_item_id": order.item_id, "quantity": 1}],
            "reason": "defective",
            "resolution": resolution(n).value,
            "description": "It does not heat.",
        }
    ).encode()
    request = urllib.request.Request(
        base + "/api/v1/returns",
        data=body,
        method="POST",
        headers={
            "Authorization": "Bearer " + token,
            "Content-Type": "application/json",
            "Idempotency-Key": f"bench-{uuid.uuid4()}",
        },
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
        code = response.status
    took = time.perf_counter() - started
    if code != 201 or answer["status"] != "approved":
        raise SystemExit(f"order {order.order_id}: HTTP {code}, {answer.get('status')}")
    return took


FLOOR = text("SELECT id FROM orders WHERE id = :id FOR UPDATE /* floor */")


def floor(factory: sessionmaker[Session], order: Fresh) -> float:
    """The least a return must do: a session, the order locked, a commit."""
    started = time.perf_counter()
    with session_scope(factory) as s:
        s.execute(FLOOR, {"id": order.order_id})
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": round(1000 * statistics.median(values), 1),
        "p95": round(1000 * percentile(values, 0.95), 1),
        "p99": round(1000 * percentile(values, 0.99), 1),
        "max": round(1000 * max(values), 1),
    }


_CHECKS = {
    # Every bench case approved by the fast track, with its bonus (10 % of the kettle, twice
    # that for a repeat within 90 days).
    "cases": "SELECT count(*) FROM return_cases WHERE client_key LIKE 'bench-%'",
    "cases_approved_fast_track": """SELECT count(*) FROM return_cases
        WHERE client_key LIKE 'bench-%' AND status = 'approved' AND rule = 'X2-fast-track'
            AND bonus_points IN (349, 698)""",
    "refund_cases": """SELECT count(*) FROM return_cases
        WHERE client_key LIKE 'bench-%' AND resolution = 'refund'""",
    "refunds_paid": """SELECT count(*) FROM return_cases
        WHERE client_key LIKE 'bench-%' AND resolution = 'refund'
            AND refund_minor = 349900 AND refunded_at IS NOT NULL""",
    # Exactly one apology entry per case, of the case's bonus.
    "cases_with_one_apology_of_their_bonus": """SELECT count(*) FROM return_cases AS c
        WHERE c.client_key LIKE 'bench-%' AND (
            SELECT count(*) FROM ledger_entries AS e
            WHERE e.idempotency_key LIKE 'return:' || c.customer_id || ':' || c.client_key
                || ':%' AND e.kind = 'bonus' AND e.points = c.bonus_points) = 1""",
    "apology_entries": """SELECT count(*) FROM ledger_entries
        WHERE kind = 'bonus' AND idempotency_key LIKE 'return:%\\:apology'""",
    "refund_reversals": """SELECT count(*) FROM ledger_entries
        WHERE kind = 'reversal' AND idempotency_key LIKE 'return:%\\:refund\\:reversal'""",
    # The running figures agree with the entries, for every customer and every grant.
    "accounts_off_entries": """SELECT count(*) FROM loyalty_accounts AS a
        LEFT JOIN (SELECT customer_id, SUM(points) AS points FROM ledger_entries
                   GROUP BY customer_id) AS s ON s.customer_id = a.customer_id
        WHERE a.balance_points <> COALESCE(s.points, 0)""",
    "accounts_off_unused_grants": """SELECT count(*) FROM loyalty_accounts AS a
        LEFT JOIN (SELECT customer_id, SUM(unused_points) AS points FROM ledger_unused_grants
                   GROUP BY customer_id) AS s ON s.customer_id = a.customer_id
        WHERE a.balance_points <> COALESCE(s.points, 0)""",
    "grants_off_allocations": """SELECT count(*) FROM ledger_entries AS e
        LEFT JOIN (SELECT grant_entry_id, SUM(points) AS points FROM ledger_allocations
                   GROUP BY grant_entry_id) AS a ON a.grant_entry_id = e.id
        LEFT JOIN ledger_unused_grants AS u ON u.entry_id = e.id
        WHERE e.points > 0 AND e.points - COALESCE(a.points, 0) <> COALESCE(u.unused_points, 0)""",
    "accounts_owing": "SELECT count(*) FROM loyalty_accounts WHERE owed_points <> 0",
    "ledger_entries": "SELECT count(*) FROM ledger_entries",
}


def check(engine: Engine, expected_cases: int, expected_refunds: int) -> dict[str, Any]:
    with engine.connect() as conn:
        found = {name: conn.scalar(text(sql)) for name, sql in _CHECKS.items()}
    found["right"] = (
        found["cases"]
        == found["cases_approved_fast_track"]
        == found["cases_with_one_apology_of_their_bonus"]
        == found["apology_entries"]
        == expected_cases
        and found["refund_cases"]
        == found["refunds_paid"]
        == found["refund_reversals"]
        == expected_refunds
        and found["accounts_off_entries"]
        == found["accounts_off_unused_grants"]
        == found["grants_off_allocations"]
        == found["accounts_owing"]
        == 0
    )
    return found


@contextmanager
def statements_timed(engine: Engine) -> Iterator[dict[str, list[float]]]:
    """Each SQL statement's wall time, by statement text, while the block runs."""
    timings: dict[str, list[float]] = defaultdict(list)

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        timings[statement].append(time.perf_counter() - conn.info["bench_started"].pop())

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield timings
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def settle(idle_threads: int) -> None:
    """Wait until the server's request thread has finished (its teardown runs after the
    answer is sent), so that it never competes with the next measurement."""
    deadline = time.perf_counter() + 1.0
    while threading.active_count() > idle_threads and time.perf_counter() < deadline:
        time.sleep(0.0005)


def where_time_goes(statements: dict[str, list[float]], returns: int) -> dict[str, Any]:
    """SQL time per measured service return (the floor's statement left out)."""
    service = {k: v for k, v in statements.items() if "/* floor */" not in k}
    top = sorted(
        (
            {
                "statement": " ".join(sql.split())[:300],
                "calls_per_return": round(len(times) / returns, 2),
                "ms_per_return": round(1000 * sum(times) / returns, 2),
                "max_ms": round(1000 * max(times), 2),
            }
            for sql, times in service.items()
        ),
        key=lambda r: -r["ms_per_return"],
    )
    return {
        "statements_per_return": round(sum(len(t) for t in service.values()) / returns, 1),
        "sql_ms_per_return": round(1000 * sum(sum(t) for t in service.values()) / returns, 1),
        "top_statements": top[:12],
    }


def explain(engine: Engine, order: Fresh) -> dict[str, str]:
    """EXPLAIN ANALYZE of the reads a return makes on the ledger and return tables, for one
    fresh order (rolled back)."""
    queries = {
        "open grants of the customer (loyalty _grants, the refund's reversal)": (
            "SELECT e.*, u.unused_points FROM ledger_entries AS e JOIN ledger_unused_grants "
            "AS u ON u.entry_id = e.id WHERE u.customer_id = :c AND u.expires_at > now() "
            "ORDER BY u.expires_at, u.entry_id"
        ),
        "an order's entries of one kind (loyalty _sum)": (
            "SELECT COALESCE(SUM(points), 0), COALESCE(SUM(shortfall_points), 0) FROM "
            "ledger_entries WHERE customer_id = :c AND kind = 'earn' AND source = :source"
        ),
        "earlier fault returns of the customer (returns incidents_in_window)": (
            "SELECT count(*) FROM return_cases WHERE customer_id = :c AND reason IN "
            "('defective', 'damaged', 'wrong_item') AND status <> 'declined' AND created_at "
            ">= now() - interval '90 days'"
        ),
        "lines already returned (returns _returned)": (
            "SELECT ri.order_item_id, SUM(ri.quantity) FROM return_items AS ri JOIN "
            "return_cases AS rc ON ri.case_id = rc.id WHERE ri.order_item_id IN (:i, :i2) "
            "AND rc.status <> 'declined' GROUP BY ri.order_item_id"
        ),
        "when the order was delivered (returns _delivered_at)": (
            "SELECT max(completed_at) FROM stops WHERE order_id = :o AND outcome IN "
            "('delivered', 'exchanged')"
        ),
        "the order's earlier refunds (returns carry_out)": (
            "SELECT COALESCE(SUM(refund_minor), 0) FROM return_cases WHERE order_id = :o "
            "AND id <> 0"
        ),
    }
    params = {
        "c": order.customer_id,
        "o": order.order_id,
        "i": order.item_id,
        "i2": order.item_id + 1,
        "source": f"order:{order.order_id}",
    }
    out = {}
    with engine.connect() as conn:
        for name, sql in queries.items():
            rows = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql), params).scalars()
            out[name] = "\n".join(rows)
        conn.rollback()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--returns", type=int, default=300, help="measured returns per row")
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--baseline-orders", type=int, default=2_000)
    parser.add_argument("--baseline-entries", type=int, default=10_000)
    parser.add_argument("--baseline-customers", type=int, default=1_000)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    from app.web import create_app
    from tests.browser import live_server

    per_row = args.warm_up + args.returns
    fresh = 2 * per_row  # returned through the service, and through HTTP
    scales = {
        "full": Scale(args.customers, args.orders, args.entries, fresh),
        "baseline": Scale(
            args.baseline_customers, args.baseline_orders, args.baseline_entries, fresh
        ),
    }
    now = datetime.now(UTC).replace(microsecond=0)
    urls: dict[str, str] = {}
    engines: dict[str, Engine] = {}
    seeded: dict[str, Any] = {}
    factories: dict[str, sessionmaker[Session]] = {}
    for name, scale in scales.items():
        url = urls[name] = database_url(f"bench_returns_{name}")
        started = time.perf_counter()
        migrate.upgrade(url)
        migrated_s = time.perf_counter() - started
        engines[name] = make_engine(url)
        seeded[name] = {"migrate_seconds": round(migrated_s, 1)} | seed(engines[name], scale, now)
        factories[name] = make_session_factory(engines[name])
        print(name, json.dumps(seeded[name]), flush=True)

    orders = {name: fresh_orders(scale) for name, scale in scales.items()}
    by_service = {name: o[:per_row] for name, o in orders.items()}
    by_http = {name: o[per_row : 2 * per_row] for name, o in orders.items()}
    bearer = {
        name: tokens(factories[name], [o.customer_id for o in by_http[name]], now)
        for name in scales
    }
    apps = {
        name: create_app(
            {
                "SECRET_KEY": "bench",
                "DATABASE_URL": urls[name],
                "SCHEDULER_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "QUEUE": "inline",
            }
        )
        for name in scales
    }
    rows = [(name, kind) for kind in ("service", "http", "floor") for name in scales]
    timings: dict[tuple[str, str], list[float]] = {row: [] for row in rows}
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    with ExitStack() as stack:
        bases = {name: stack.enter_context(live_server(app)) for name, app in apps.items()}
        seen = {name: stack.enter_context(statements_timed(engines[name])) for name in scales}
        idle_threads = threading.active_count()
        started = time.perf_counter()
        for n in range(per_row):
            if n == args.warm_up:
                for statements in seen.values():
                    statements.clear()
            # Rotate who goes first, so no row always follows the same other row.
            turn = rows[n % len(rows) :] + rows[: n % len(rows)]
            for name, kind in turn:
                if kind == "service":
                    took = through_service(factories[name], by_service[name][n], n)
                elif kind == "http":
                    order = by_http[name][n]
                    took = through_http(bases[name], bearer[name][order.customer_id], order, n)
                    settle(idle_threads)
                else:
                    took = floor(factories[name], by_service[name][n])
                if n >= args.warm_up:
                    timings[(name, kind)].append(took)
        measured_s = time.perf_counter() - started

    # Where a return's time goes: every statement SQLAlchemy sent for the measured returns.
    sql = {name: where_time_goes(seen[name], args.returns) for name in scales}
    plans = explain(engines["full"], orders["full"][-1])

    def refunds(count: int) -> int:
        return sum(1 for n in range(count) if resolution(n) is Resolution.REFUND)

    checks = {
        "full": check(engines["full"], 2 * per_row, 2 * refunds(per_row)),
        "baseline": check(engines["baseline"], 2 * per_row, 2 * refunds(per_row)),
    }
    summaries = {f"{name}_{kind}": summary(timings[(name, kind)]) for name, kind in rows}
    med = statistics.median
    with engines["full"].connect() as conn:
        server = conn.scalar(text("SHOW server_version"))
    result = {
        "postgresql": server,
        "command": f"python -m bench.returns_start --returns {args.returns} "
        f"--warm-up {args.warm_up}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target_p95_ms": TARGET_P95_MS,
        "scales": {name: asdict(scale) | {"seed": seeded[name]} for name, scale in scales.items()},
        "returns_per_row": args.returns,
        "warm_up": args.warm_up,
        "measured_s": round(measured_s, 1),
        "ms": summaries,
        "ratios": {
            f"full_{kind}_over_baseline_{kind}": {
                "median": round(med(timings[("full", kind)]) / med(timings[("baseline", kind)]), 2),
                "p95": round(
                    percentile(timings[("full", kind)], 0.95)
                    / percentile(timings[("baseline", kind)], 0.95),
                    2,
                ),
            }
            for kind in ("service", "http", "floor")
        }
        | {
            "full_service_over_full_floor_median": round(
                med(timings[("full", "service")]) / med(timings[("full", "floor")]), 1
            ),
            "full_http_over_full_service_median": round(
                med(timings[("full", "http")]) / med(timings[("full", "service")]), 2
            ),
        },
        "by_resolution_full_service_ms": {
            r.value: summary(
                [
                    t
                    for n, t in enumerate(timings[("full", "service")], start=args.warm_up)
                    if resolution(n) is r
                ]
            )
            for r in (Resolution.REFUND, Resolution.EXCHANGE)
        },
        "sql_per_service_return": sql,
        "explain": plans,
        "checks": checks,
        "within_target": all(
            summaries[f"full_{kind}"]["p95"] < TARGET_P95_MS for kind in ("service", "http")
        ),
        "samples_ms": {
            f"{name}_{kind}": [round(1000 * t, 2) for t in timings[(name, kind)]]
            for name, kind in rows
        },
    }
    out = OUT if args.out == str(OUT) else type(OUT)(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    shown = {k: v for k, v in result.items() if k not in ("explain", "samples_ms")}
    print(json.dumps(shown, indent=2))
    if not (checks["full"]["right"] and checks["baseline"]["right"]):
        raise SystemExit("the database is not as it should be: see the checks above")


if __name__ == "__main__":
    main()
