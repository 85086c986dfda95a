"""The timeline of a customer with 5,000 events, on PostgreSQL (issue 15, Q3).

    .venv/bin/python -m bench.history_timeline [--reads 300] [--warm-up 30]

Needs PostgreSQL (`make pg-up`, or TEST_POSTGRES_URL). Builds one throwaway database with
bulk SQL (INSERT ... SELECT generate_series, no ORM objects):

- background: 10,000 customers with 10 delivered orders each (100,000 orders, a delivered
  stop and an earned ledger entry each, a notification for every other order), so every
  table the timeline reads holds other people's rows too;
- the *big* customer: 5,000 lines of every kind over two years: 1,000 orders placed, 1,000
  stops (one in ten failed, with a reason), 800 notifications, 200 returns of two lines
  each, 1,000 ledger entries, 300 ratings, 50 NPS answers, 100 support cases opened and
  answered, 50 callbacks, 200 staff notes;
- the *baseline* customer: the same mix at 1/100 (about 50 lines, one page).

Each measurement is the unit of a page's read: open a session, ``history.services.timeline``
(support's version, 50 a page), close. Rows, interleaved one read of each in turn: the big
customer's first page, its deepest page (page 100), its first page of two kinds only
(deliveries and support cases), the baseline customer's first page, and a floor (a session
and one primary-key read). The statements of one read are counted (bounded: a count, the
page's keys, one query per source on the page) and the key query is EXPLAIN ANALYZEd.
Writes bench/results/history_timeline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

import app.models  # noqa: F401  (every table registered before the first session)
from app import migrate
from app.db import make_engine, make_session_factory
from app.history import services as history
from bench.vrptw import RESULTS

OUT = RESULTS / "history_timeline.json"
TARGET_P95_MS = 100.0
BACKGROUND_CUSTOMERS = 10_000
ORDERS_EACH = 10
BIG = 1  # customer ids of the measured customers
BASELINE = 2

# Lines of the big customer by source (5,000 in all); the baseline has 1/100 of each.
MIX = {
    "orders": 1_000,
    "notifications": 800,
    "returns": 200,  # two lines each
    "ledger": 1_000,
    "ratings": 300,
    "nps": 50,
    "cases": 100,  # opened and answered: two lines each
    "callbacks": 50,
    "notes": 200,
}


def database_url(suffix: str) -> str:
    from tests.conftest import SAVED_URL, fresh_database_url

    base = os.environ.get("TEST_POSTGRES_URL") or (
        SAVED_URL.read_text().strip() if SAVED_URL.exists() else ""
    )
    if not base:
        raise SystemExit("Needs PostgreSQL: run `make pg-up` or set TEST_POSTGRES_URL.")
    return fresh_database_url(base, suffix)


_SHOP = [
    """INSERT INTO depots (id, code, name, address, lat, lon, timezone)
    VALUES (1, 'BENCH', 'Bench', '-', 55.75, 37.6, 'Europe/Moscow')""",
    """INSERT INTO users (id, email, name, password_hash, role, is_active, created_at)
    VALUES (1, 'support@bench.example', 'Bench Support', 'bench:no-password', 'support',
        true, :now - interval '800 days')""",
    """INSERT INTO customers (id, name, email, phone, created_at)
    SELECT g, 'Customer ' || g, 'c' || g || '@bench.example', '+7916' || lpad(g::text, 7, '0'),
        :now - interval '800 days'
    FROM generate_series(1, :customers) AS g""",
    """INSERT INTO addresses (id, customer_id, line, lat, lon, coordinate_source)
    SELECT g, g, 'Bench street ' || g, 55.7, 37.5, 'given'
    FROM generate_series(1, :customers) AS g""",
    """INSERT INTO loyalty_accounts (customer_id, balance_points, owed_points,
        written_off_points, version, updated_at)
    SELECT g, 0, 0, 0, 0, :now FROM generate_series(1, :customers) AS g""",
]

# One customer's history: :n orders from id :o + 1, spread over two years before :now
# (order g placed at :now - (n - g) * :step); each order's stop completes a day later.
_CUSTOMER = [
    """INSERT INTO orders (id, number, customer_id, address_id, depot_id, delivery_day,
        window_start_at, window_end_at, status, total_minor, currency, created_at)
    SELECT :o + g, 'RT-B' || (:o + g), :c, :c, 1,
        (:now - :step * (:n - g) + interval '1 day')::date,
        :now - :step * (:n - g) + interval '1 day',
        :now - :step * (:n - g) + interval '1 day 2 hours',
        'delivered', 100000, 'RUB', :now - :step * (:n - g)
    FROM generate_series(1, :n) AS g""",
    """INSERT INTO stops (id, depot_id, delivery_day, kind, order_id, lat, lon,
        window_start_at, window_end_at, delivery_units, pickup_units, service_s, created_at,
        arrived_at, completed_at, outcome, failure_reason)
    SELECT :o + g, 1, (:now - :step * (:n - g) + interval '1 day')::date, 'delivery', :o + g,
        55.7, 37.5, :now - :step * (:n - g) + interval '1 day',
        :now - :step * (:n - g) + interval '1 day 2 hours', 1, 0, 300,
        :now - :step * (:n - g), :now - :step * (:n - g) + interval '1 day 1 hour',
        :now - :step * (:n - g) + interval '1 day 1 hour',
        CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'delivered' END,
        CASE WHEN g % 10 = 0 THEN 'not_home' END
    FROM generate_series(1, :n) AS g""",
]
_LINES = {
    "notifications": """INSERT INTO notifications (key, kind, customer_id, order_id, message,
        email, status, attempts, created_at, sent_at, email_sent_at)
    SELECT 'bench:' || :c || ':' || g, 'late', :c, :o + 1 + (g - 1) % :n,
        'Your courier is running late.', 'c' || :c || '@bench.example', 'sent', 1,
        :now - :step * (:n - g) / 0.8 + interval '20 hours',
        :now - :step * (:n - g) / 0.8 + interval '20 hours',
        :now - :step * (:n - g) / 0.8 + interval '20 hours'
    FROM generate_series(1, :k) AS g""",
    "returns": """INSERT INTO return_cases (id, order_id, customer_id, client_key, reason,
        resolution, description, status, rule, decision, bonus_points, refund_minor, pickup,
        delivery, created_at, decided_at)
    SELECT :r + g, :o + g * 5, :c, 'bench-' || g, 'defective', 'refund', NULL, 'approved',
        'X2-fast-track', 'Approved.', 100, 100000, true, false,
        :now - :step * (:n - g * 5) + interval '3 days',
        :now - :step * (:n - g * 5) + interval '3 days'
    FROM generate_series(1, :k) AS g""",
    "return_events": """INSERT INTO return_events (case_id, at, message)
    SELECT :r + g, :now - :step * (:n - g * 5) + interval '3 days' + interval '1 minute' * e,
        CASE WHEN e = 0 THEN 'Return started.' ELSE 'Refund paid.' END
    FROM generate_series(1, :k) AS g, generate_series(0, 1) AS e""",
    "ledger": """INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points,
        reason, source, idempotency_key, request_fingerprint, created_at)
    SELECT :c, 'bonus', 10, 0, 'Bench bonus', 'order:' || (:o + 1 + (g - 1) % :n),
        'bench:' || :c || ':' || g, 'bench', :now - :step * (:n - g) + interval '2 days'
    FROM generate_series(1, :k) AS g""",
    "ratings": """INSERT INTO delivery_ratings (stop_id, order_id, customer_id, score,
        comment, created_at)
    SELECT :o + g * 3, :o + g * 3, :c, 1 + g % 5, 'Bench comment',
        :now - :step * (:n - g * 3) + interval '1 day 3 hours'
    FROM generate_series(1, :k) AS g""",
    "nps": """INSERT INTO nps_answers (customer_id, asked_at, answered_at, score, why)
    SELECT :c, :now - interval '700 days' + interval '14 days' * g,
        :now - interval '700 days' + interval '14 days' * g + interval '1 hour', g % 11, 'Bench'
    FROM generate_series(1, :k) AS g""",
    "cases": """INSERT INTO support_cases (customer_id, order_id, source, summary, opened_at,
        respond_by, status, answered_at, answered_by_user_id, answer)
    SELECT :c, :o + g * 7, 'rating', 'Rated a delivery low.',
        :now - :step * (:n - g * 7) + interval '2 days',
        :now - :step * (:n - g * 7) + interval '3 days', 'answered',
        :now - :step * (:n - g * 7) + interval '2 days 4 hours', 1, 'We are sorry.'
    FROM generate_series(1, :k) AS g""",
    "callbacks": """INSERT INTO support_cases (customer_id, source, summary, opened_at,
        respond_by, status)
    SELECT :c, 'callback', 'Call me back.', :now - interval '710 days' + interval '14 days' * g,
        :now - interval '709 days' + interval '14 days' * g, 'open'
    FROM generate_series(1, :k) AS g""",
    "notes": """INSERT INTO staff_notes (customer_id, user_id, text, created_at)
    SELECT :c, 1, 'Bench note ' || g, :now - interval '720 days' + interval '3 days' * g
    FROM generate_series(1, :k) AS g""",
}


def _max_id(conn: Any, table: str) -> int:
    return int(conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one())


def seed_customer(conn: Any, customer_id: int, share: float, now: datetime) -> int:
    """One customer's history at ``share`` of MIX; returns how many lines it has."""
    count = {k: max(1, round(v * share)) for k, v in MIX.items()}
    n = count["orders"]
    params: dict[str, Any] = {
        "c": customer_id,
        "o": _max_id(conn, "orders"),
        "r": _max_id(conn, "return_cases"),
        "n": n,
        "now": now,
        "step": f"{730 * 24 * 3600 // n} seconds",
    }
    for sql in _CUSTOMER:
        conn.execute(text(sql.replace(":step", "CAST(:step AS interval)")), params)
    for name, key in (
        ("notifications", "notifications"),
        ("returns", "returns"),
        ("return_events", "returns"),
        ("ledger", "ledger"),
        ("ratings", "ratings"),
        ("nps", "nps"),
        ("cases", "cases"),
        ("callbacks", "callbacks"),
        ("notes", "notes"),
    ):
        k = min(count[key], n // {"returns": 5, "cases": 7}.get(key, 1))
        k = min(k, n // 3) if key == "ratings" else k
        count[key] = k
        conn.execute(
            text(_LINES[name].replace(":step", "CAST(:step AS interval)")), params | {"k": k}
        )
    return (
        2 * n
        + count["notifications"]
        + 2 * count["returns"]
        + count["ledger"]
        + count["ratings"]
        + count["nps"]
        + 2 * count["cases"]
        + count["callbacks"]
        + count["notes"]
    )


_BACKGROUND = [
    """INSERT INTO orders (id, number, customer_id, address_id, depot_id, delivery_day,
        window_start_at, window_end_at, status, total_minor, currency, created_at)
    SELECT :o + g, 'RT-G' || g, c, c, 1, (:now - interval '1 hour' * g)::date,
        :now - interval '1 hour' * g, :now - interval '1 hour' * g + interval '2 hours',
        'delivered', 100000, 'RUB', :now - interval '1 hour' * g - interval '1 day'
    FROM (SELECT g, 3 + g % (:customers - 2) AS c FROM generate_series(1, :orders) AS g) AS x""",
    """INSERT INTO stops (depot_id, delivery_day, kind, order_id, lat, lon, window_start_at,
        window_end_at, delivery_units, pickup_units, service_s, created_at, arrived_at,
        completed_at, outcome)
    SELECT 1, delivery_day, 'delivery', id, 55.7, 37.5, window_start_at, window_end_at, 1, 0,
        300, created_at, window_start_at, window_start_at, 'delivered'
    FROM orders WHERE id > :o""",
    """INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, reason,
        source, idempotency_key, request_fingerprint, created_at)
    SELECT customer_id, 'earn', 50, 0, 'Bench earn', 'order:' || id, 'order-' || id || '-earn',
        'bench', window_start_at FROM orders WHERE id > :o""",
    """INSERT INTO notifications (key, kind, customer_id, order_id, message, status, attempts,
        created_at, sent_at)
    SELECT 'bg:' || id, 'late', customer_id, id, 'Your courier is running late.', 'sent', 1,
        created_at, created_at FROM orders WHERE id > :o AND id % 2 = 0""",
]

_SEQUENCES = [
    "orders",
    "stops",
    "return_cases",
    "notifications",
    "ledger_entries",
    "customers",
    "addresses",
    "users",
    "depots",
]


def _reset_sequences(conn: Any) -> None:
    for table in _SEQUENCES:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )


def seed(engine: Engine, now: datetime) -> dict[str, Any]:
    started = time.perf_counter()
    with engine.begin() as conn:
        shop = {"customers": BACKGROUND_CUSTOMERS, "now": now}
        for sql in _SHOP:
            conn.execute(text(sql), shop)
        lines = {
            "big": seed_customer(conn, BIG, 1.0, now),
            "baseline": seed_customer(conn, BASELINE, 0.01, now),
        }
        _reset_sequences(conn)  # the background's stops and entries take ids after these
        background = shop | {
            "o": _max_id(conn, "orders"),
            "orders": BACKGROUND_CUSTOMERS * ORDERS_EACH,
        }
        for sql in _BACKGROUND:
            conn.execute(text(sql), background)
        _reset_sequences(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        rows = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in (
                "orders",
                "stops",
                "notifications",
                "ledger_entries",
                "return_events",
                "delivery_ratings",
                "support_cases",
                "staff_notes",
            )
        }
    return {"seconds": round(time.perf_counter() - started, 1), "lines": lines, "rows": rows}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": round(1000 * statistics.median(values), 2),
        "p95": round(1000 * percentile(values, 0.95), 2),
        "p99": round(1000 * percentile(values, 0.99), 2),
        "max": round(1000 * max(values), 2),
    }


def read(factory: sessionmaker[Session], customer_id: int, **kwargs: Any) -> Callable[[], Any]:
    def run() -> Any:
        with factory() as session:
            return history.timeline(session, customer_id, audience="staff", **kwargs)

    return run


def floor(factory: sessionmaker[Session]) -> Callable[[], Any]:
    def run() -> Any:
        with factory() as session:
            return session.execute(text("SELECT id FROM customers WHERE id = 1")).scalar()

    return run


def statements_of(engine: Engine, work: Callable[[], Any]) -> list[str]:
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return seen


def explain_keys(engine: Engine, customer_id: int, page: int) -> str:
    """EXPLAIN ANALYZE of the query that cuts a page of keys out of the history."""
    captured: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "ORDER BY history.at DESC" in statement:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        with make_session_factory(engine)() as session:
            history.timeline(session, customer_id, audience="staff", page=page)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    statement, parameters = captured[0]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        return "\n".join(row[0] for row in cursor.fetchall())
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--reads", type=int, default=300, help="measured reads per row")
    parser.add_argument("--warm-up", type=int, default=30)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    now = datetime.now(UTC).replace(microsecond=0)
    url = database_url("bench_history")
    started = time.perf_counter()
    migrate.upgrade(url)
    migrated_s = round(time.perf_counter() - started, 1)
    engine = make_engine(url)
    seeded = {"migrate_seconds": migrated_s} | seed(engine, now)
    print(json.dumps(seeded), flush=True)
    factory = make_session_factory(engine)

    deepest = -(-seeded["lines"]["big"] // history.PER_PAGE)
    rows: dict[str, Callable[[], Any]] = {
        "big_first_page": read(factory, BIG, page=1),
        "big_deepest_page": read(factory, BIG, page=deepest),
        "big_first_page_two_kinds": read(factory, BIG, page=1, kinds={"delivery", "support_case"}),
        "baseline_first_page": read(factory, BASELINE, page=1),
        "floor": floor(factory),
    }
    checks = {
        "big_total": rows["big_first_page"]().total,
        "big_deepest_page_lines": len(rows["big_deepest_page"]().events),
        "baseline_total": rows["baseline_first_page"]().total,
        "statements_first_page": len(statements_of(engine, rows["big_first_page"])),
        "statements_deepest_page": len(statements_of(engine, rows["big_deepest_page"])),
        "statements_bound": 2 + len(history.SOURCES),
    }
    timings: dict[str, list[float]] = {name: [] for name in rows}
    names = list(rows)
    for n in range(args.warm_up + args.reads):
        turn = names[n % len(names) :] + names[: n % len(names)]
        for name in turn:
            t0 = time.perf_counter()
            rows[name]()
            took = time.perf_counter() - t0
            if n >= args.warm_up:
                timings[name].append(took)
    summaries = {name: summary(values) for name, values in timings.items()}
    med = statistics.median
    with engine.connect() as conn:
        server = conn.scalar(text("SHOW server_version"))
    result = {
        "postgresql": server,
        "command": f"python -m bench.history_timeline --reads {args.reads} "
        f"--warm-up {args.warm_up}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target_p95_ms": TARGET_P95_MS,
        "per_page": history.PER_PAGE,
        "deepest_page": deepest,
        "seed": seeded,
        "checks": checks,
        "ms": summaries,
        "ratios": {
            f"{name}_over_baseline_first_page": {
                "median": round(med(timings[name]) / med(timings["baseline_first_page"]), 2),
                "p95": round(
                    percentile(timings[name], 0.95)
                    / percentile(timings["baseline_first_page"], 0.95),
                    2,
                ),
            }
            for name in ("big_first_page", "big_deepest_page", "big_first_page_two_kinds")
        },
        "within_target": all(
            summaries[name]["p95"] < TARGET_P95_MS
            for name in ("big_first_page", "big_deepest_page")
        ),
        "explain_deepest_page_keys": explain_keys(engine, BIG, deepest),
    }
    out = type(OUT)(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    shown = {k: v for k, v in result.items() if k != "explain_deepest_page_keys"}
    print(json.dumps(shown, indent=2))
    engine.dispose()


if __name__ == "__main__":
    main()
