"""The service dashboard over 1,000,000 stops, on PostgreSQL (issue 15, Q2).

    .venv/bin/python -m bench.dashboard [--stops 1000000] [--reads 40] [--warm-up 5]
        [--database-url URL] [--baseline-url URL] [--out FILE]

Needs PostgreSQL. The *full* database (``--database-url``; its ``public`` schema is dropped,
migrated to head and filled) and the near-empty *baseline* (``--baseline-url``, by default
the same URL with ``_base`` after the database name; the same shape at ``--baseline-stops``)
are built with bulk SQL (INSERT ... SELECT generate_series, no ORM objects):

- 4 depots in Europe/Moscow, 100,000 customers with one address and a loyalty account each;
- two years of days (730 reported, then 2 days ahead not reported yet), one order per first
  delivery stop spread evenly over the days and depots (about 340 stops per depot and day);
  of first attempts 2 % fail (not home), 2 % are called off, 0.3 % were never reported;
  every failed or called-off order has a second attempt 1-2 days later (4 % of stops);
  arrivals inside the checkout window but 3 % after it; 2 % were told a later window;
- one published plan per depot and day (10 % republished as version 2; 5 % leave stops
  unrouted), a rating for 10 % of delivered stops, 20,000 NPS answers, 500,000 earned
  ledger entries beside 30,000 bonuses (apologies keyed ``late:<stop>``, ``held:<order>``,
  ``return-breach:<case>``, ``return:<case>:apology``; some goodwill offers), 10,000 return
  cases, 5,000 callbacks with their support cases. Then VACUUM ANALYZE.

``now`` is pinned to the day after the last reported day, 12:00 Moscow (the web page's clock
too). Rows, interleaved one of each in turn, each in its own session: the figures of one
depot for 12 weeks, of all depots for 12 weeks, of one depot for 52 weeks; the lists of
*on time* and *first attempt* for one depot and the last whole week; the page
``GET /dashboard/?depot=ID&weeks=12`` through the Flask test client signed in as a
dispatcher. The same rows on the baseline in the same process. The statements of one read of
each row on the full database are timed and the slowest is EXPLAIN ANALYZEd (in ``--out``).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

import app.models  # noqa: F401  (every table registered before the first session)
from app import migrate
from app.dashboard import figures
from app.dashboard.lists import Figure, figure_list
from app.db import make_engine, make_session_factory

MOSCOW = ZoneInfo("Europe/Moscow")
DEPOTS = 4
REPORTED_DAYS = 730
AHEAD_DAYS = 2
DEFAULT_URL = "postgresql://roundtrip:roundtrip@127.0.0.1:5432/roundtrip_dash"
PASSWORD = "bench-password-123"

# The full shape, scaled with the number of stops for the baseline.
FULL_STOPS = 1_000_000
SHAPE = {
    "customers": 100_000,
    "nps": 20_000,
    "earn": 500_000,
    "bonus": 30_000,
    "returns": 10_000,
    "callbacks": 5_000,
}

# Hash buckets (of 10,000) of a first attempt's fate.
FAILED, CALLED_OFF, UNREPORTED = 200, 400, 430

_SHOP = [
    """INSERT INTO depots (id, code, name, address, lat, lon, timezone)
    SELECT d, 'D' || d, 'Depot ' || d, 'Bench street ' || d, 55.75, 37.6, 'Europe/Moscow'
    FROM generate_series(1, :depots) AS d""",
    """INSERT INTO customers (id, name, email, phone, created_at)
    SELECT g, 'Customer ' || g, 'c' || g || '@bench.example', '+7916' || lpad(g::text, 7, '0'),
        :first_moment - interval '30 days'
    FROM generate_series(1, :customers) AS g""",
    """INSERT INTO addresses (id, customer_id, line, lat, lon, coordinate_source)
    SELECT g, g, 'Bench street ' || g, 55.7, 37.5, 'given'
    FROM generate_series(1, :customers) AS g""",
    """INSERT INTO loyalty_accounts (customer_id, balance_points, owed_points,
        written_off_points, version, updated_at)
    SELECT g, 0, 0, 0, 0, :first_moment FROM generate_series(1, :customers) AS g""",
]

# Order g: first attempt on day (g - 1) * days / orders, depot 1 + g % depots, a two-hour
# window from 8:00 to 20:00 Moscow; r is its fate bucket, a its arrival bucket, t its told.
_ORDERS = """
CREATE TEMP TABLE bench_orders AS
SELECT g, 1 + g % :customers AS customer, 1 + g % :depots AS depot,
    (:first_day + ((g - 1)::bigint * :days / :orders)::int) AS day,
    8 + 2 * (g % 6) AS hour,
    abs(hashint4(g)) % 10000 AS r,
    abs(hashint4(g + 1000000007)) % 10000 AS a,
    abs(hashint4(g + 2000000011)) % 10000 AS t
FROM generate_series(1, :orders) AS g"""

_FILL = [
    """ALTER TABLE bench_orders ADD COLUMN start_at timestamptz""",
    """UPDATE bench_orders SET start_at =
        (day + make_interval(hours => hour))::timestamp AT TIME ZONE 'Europe/Moscow'""",
    """INSERT INTO orders (id, number, customer_id, address_id, depot_id, delivery_day,
        window_start_at, window_end_at, status, total_minor, currency, created_at)
    SELECT g, 'RT-D' || g, customer, customer, depot, day, start_at,
        start_at + interval '2 hours',
        CASE WHEN day > :last_day THEN 'planned' WHEN r < :failed THEN 'failed'
             ELSE 'delivered' END,
        100000, 'RUB', start_at - interval '2 days'
    FROM bench_orders""",
    # First attempts.
    """INSERT INTO stops (id, depot_id, delivery_day, kind, order_id, lat, lon,
        window_start_at, window_end_at, delivery_units, pickup_units, service_s, created_at,
        arrived_at, completed_at, outcome, failure_reason, called_off_at,
        told_start_at, told_end_at, told_at)
    SELECT g, depot, day, 'delivery', g, 55.7, 37.5, start_at, start_at + interval '2 hours',
        1, 0, 300, start_at - interval '1 day',
        CASE WHEN reported THEN arrival END,
        CASE WHEN reported THEN arrival + interval '3 minutes' END,
        CASE WHEN NOT reported THEN NULL WHEN r < :failed THEN 'failed' ELSE 'delivered' END,
        CASE WHEN reported AND r < :failed THEN 'not_home' END,
        CASE WHEN called_off THEN start_at - interval '20 hours' END,
        CASE WHEN told THEN start_at + interval '1 hour' END,
        CASE WHEN told THEN start_at + interval '3 hours' END,
        CASE WHEN told THEN start_at - interval '30 minutes' END
    FROM (
        SELECT *,
            day <= :last_day AND NOT (r >= :failed AND r < :unreported) AS reported,
            day <= :last_day AND r >= :failed AND r < :called_off AS called_off,
            t < 200 AS told,
            CASE WHEN a < 300
                 THEN start_at + interval '2 hours' + interval '1 minute' * (5 + a % 55)
                 ELSE start_at + interval '1 minute' * (a % 120) END AS arrival
        FROM bench_orders
    ) AS x""",
    "SELECT setval(pg_get_serial_sequence('stops', 'id'), :orders)",
    # Second attempts of the failed and the called-off, 1-2 days later, delivered in time.
    """INSERT INTO stops (depot_id, delivery_day, kind, order_id, lat, lon, window_start_at,
        window_end_at, delivery_units, pickup_units, service_s, created_at, arrived_at,
        completed_at, outcome)
    SELECT depot, day + 1 + g % 2, 'delivery', g, 55.7, 37.5,
        start_at + interval '1 day' * (1 + g % 2),
        start_at + interval '1 day' * (1 + g % 2) + interval '2 hours', 1, 0, 300, start_at,
        CASE WHEN day + 1 + g % 2 <= :last_day
             THEN start_at + interval '1 day' * (1 + g % 2) + interval '1 minute' * (a % 120) END,
        CASE WHEN day + 1 + g % 2 <= :last_day
             THEN start_at + interval '1 day' * (1 + g % 2) + interval '1 minute' * (3 + a % 120)
             END,
        CASE WHEN day + 1 + g % 2 <= :last_day THEN 'delivered' END
    FROM bench_orders WHERE r < :called_off AND day <= :last_day""",
    # One published plan per depot and day; some republished as version 2.
    """INSERT INTO plans (depot_id, delivery_day, version, status, engine, time_limit_s,
        distance_m, stops_assigned, stops_unassigned, created_at, finished_at, published_at,
        revision)
    SELECT d.d, day, v, 'ready', 'pyvrp', 30, 250000, :per_day,
        CASE WHEN abs(hashint4(d.d * 100000 + (day - :first_day) * 10 + v)) % 100 < 5
             THEN 3 ELSE 0 END,
        day - interval '1 day' + interval '1 hour' * v,
        day - interval '1 day' + interval '1 hour' * v,
        day - interval '1 day' + interval '1 hour' * v + interval '5 minutes', 0
    FROM generate_series(1, :depots) AS d(d),
        generate_series(CAST(:first_day AS timestamp),
            CAST(:last_day AS timestamp) + interval '1 day', interval '1 day') AS day_ts,
        LATERAL (SELECT day_ts::date AS day) AS dd,
        generate_series(1, 2) AS v
    WHERE v = 1 OR abs(hashint4(d.d * 7919 + (day - :first_day))) % 10 = 0""",
    # Ratings of 10 % of the delivered stops.
    """INSERT INTO delivery_ratings (stop_id, order_id, customer_id, score, comment, created_at)
    SELECT s.id, s.order_id, o.customer_id,
        CASE WHEN s.id % 20 = 0 THEN 1 WHEN s.id % 20 = 1 THEN 2 WHEN s.id % 20 < 4 THEN 3
             WHEN s.id % 20 < 9 THEN 4 ELSE 5 END,
        CASE WHEN s.id % 20 < 2 THEN 'Late again.' END, s.completed_at + interval '2 hours'
    FROM stops AS s JOIN orders AS o ON o.id = s.order_id
    WHERE s.outcome = 'delivered' AND abs(hashint4(s.id + 300000007)) % 10 = 0""",
    """INSERT INTO nps_answers (customer_id, asked_at, answered_at, score, why)
    SELECT 1 + g % :customers, x.at, x.at + interval '3 hours', g % 11,
        CASE WHEN g % 11 < 7 THEN 'Bench' END
    FROM generate_series(1, :nps) AS g,
        LATERAL (SELECT :first_moment + (:span * g / :nps) AS at) AS x""",
    """INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, reason, source,
        idempotency_key, request_fingerprint, created_at)
    SELECT 1 + g % :customers, 'earn', 50, 0, 'Points for an order', 'order:' || g,
        'earn:' || g, 'bench', :first_moment + (:span * g / :earn)
    FROM generate_series(1, :earn) AS g""",
    """INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, reason, source,
        idempotency_key, request_fingerprint, created_at)
    SELECT 1 + g % :customers, 'bonus', 100, 0, 'Sorry', NULL,
        CASE WHEN g % 20 < 14 THEN 'late:' || g
             WHEN g % 20 < 16 THEN 'return-breach:' || g
             WHEN g % 20 < 17 THEN 'held:' || g
             WHEN g % 20 < 19 THEN 'return:' || g || chr(58) || 'apology'
             ELSE 'offer:' || g END,
        'bench', :first_moment + (:span * g / :bonus)
    FROM generate_series(1, :bonus) AS g""",
    # Return cases: half decided at once, half promised in 48 hours (most answered in time).
    """INSERT INTO return_cases (order_id, customer_id, client_key, reason, resolution, status,
        rule, decision, bonus_points, refund_minor, pickup, delivery, respond_by, created_at,
        decided_at, answered_at)
    SELECT o.id, o.customer_id, 'bench-' || g, 'defective', 'refund',
        CASE WHEN g % 2 = 0 THEN 'approved' ELSE 'under_review' END,
        CASE WHEN g % 2 = 0 THEN 'X2-fast-track' ELSE 'X2-standard' END, 'Bench', 0, 0, true,
        false, CASE WHEN g % 2 = 1 THEN x.at + interval '48 hours' END, x.at, x.at,
        CASE WHEN g % 2 = 1 AND g % 10 <> 9 THEN x.at + interval '1 hour' * (g % 60) END
    FROM generate_series(1, :returns) AS g,
        LATERAL (SELECT :first_moment + (:span * g / :returns) AS at) AS x, orders AS o
    WHERE o.id = 1 + (g::bigint * 7919) % :orders""",
    """INSERT INTO support_cases (id, customer_id, source, summary, opened_at, respond_by,
        status, answered_at, answered_by_user_id, answer)
    SELECT g, 1 + g % :customers, 'callback', 'Call me back.', x.at - interval '1 hour',
        x.at + interval '30 minutes', CASE WHEN g % 10 = 0 THEN 'open' ELSE 'answered' END,
        CASE WHEN g % 10 <> 0 THEN x.at + interval '1 minute' * (g % 45) END,
        CASE WHEN g % 10 <> 0 THEN 1 END, CASE WHEN g % 10 <> 0 THEN 'Called.' END
    FROM generate_series(1, :callbacks) AS g,
        LATERAL (SELECT :first_moment + (:span * g / :callbacks) AS at) AS x""",
    """INSERT INTO callbacks (case_id, slot_start_at, phone)
    SELECT id, respond_by - interval '30 minutes', '+79160000000' FROM support_cases""",
    "DROP TABLE bench_orders",
]

_SEQUENCES = [
    "depots",
    "customers",
    "addresses",
    "orders",
    "stops",
    "plans",
    "delivery_ratings",
    "nps_answers",
    "ledger_entries",
    "return_cases",
    "support_cases",
    "callbacks",
    "users",
]
_COUNTED = ["orders", "stops", "plans", "delivery_ratings", "nps_answers", "ledger_entries"]
_COUNTED += ["return_cases", "support_cases", "callbacks"]


def baseline_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_base").render_as_string(hide_password=False)


def reset(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


def seed(engine: Engine, stops: int, last_day: date) -> dict[str, Any]:
    """Fill a migrated database with ``stops`` delivery stops and the rest scaled to them."""
    started = time.perf_counter()
    scale = stops / FULL_STOPS
    counts = {k: max(20, round(v * scale)) for k, v in SHAPE.items()}
    days = REPORTED_DAYS + AHEAD_DAYS
    first_day = last_day - timedelta(days=REPORTED_DAYS - 1)
    first_moment = datetime.combine(first_day, clock_time(), MOSCOW)
    # Second attempts are 4 % of first attempts on reported days.
    orders = round(stops / (1 + CALLED_OFF / 10000 * REPORTED_DAYS / days))
    params: dict[str, Any] = counts | {
        "depots": DEPOTS,
        "orders": orders,
        "days": days,
        "first_day": first_day,
        "last_day": last_day,
        "first_moment": first_moment,
        "span": timedelta(days=REPORTED_DAYS),
        "failed": FAILED,
        "called_off": CALLED_OFF,
        "unreported": UNREPORTED,
        "per_day": max(1, stops // (DEPOTS * days)),
    }
    steps: dict[str, float] = {}
    with engine.begin() as conn:
        conn.execute(
            text(
                """INSERT INTO users (id, email, name, password_hash, role, is_active, created_at)
                VALUES (1, 'support@bench.example', 'Bench Support', 'bench:no-password',
                    'support', true, :at)"""
            ),
            {"at": first_moment},
        )
        for sql in [*_SHOP, _ORDERS, *_FILL]:
            t0 = time.perf_counter()
            conn.execute(text(sql), params)
            label = " ".join(sql.split()[:3])
            steps[label] = round(steps.get(label, 0) + time.perf_counter() - t0, 1)
        for table in _SEQUENCES:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
    loaded = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        rows = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in _COUNTED}
        shape = dict(
            conn.execute(
                text(
                    """SELECT coalesce(outcome, CASE WHEN called_off_at IS NOT NULL
                        THEN 'called off' WHEN delivery_day > :last THEN 'ahead'
                        ELSE 'unreported' END), count(*) FROM stops GROUP BY 1"""
                ),
                {"last": last_day},
            ).all()
        )
        shape["told"] = conn.scalar(text("SELECT count(*) FROM stops WHERE told_at IS NOT NULL"))
        shape["late_arrival"] = conn.scalar(
            text("SELECT count(*) FROM stops WHERE arrived_at > window_end_at")
        )
        shape["second_attempts"] = conn.scalar(
            text("SELECT count(*) - count(DISTINCT order_id) FROM stops")
        )
    return {
        "load_seconds": round(loaded, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "steps": steps,
        "rows": rows,
        "stops": shape,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": round(1000 * statistics.median(values), 1),
        "p95": round(1000 * percentile(values, 0.95), 1),
        "max": round(1000 * max(values), 1),
    }


def web_client(url: str, now: datetime, instance: str) -> Any:
    """A test client of the real app on ``url``, signed in as a dispatcher."""
    from app.accounts import services as accounts
    from app.web import create_app
    from app.web import dashboard as page

    accounts.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    page.utcnow = lambda: now  # the page's clock, pinned like the figures' ``now``
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        accounts.create_user(
            session,
            email="dispatcher@bench.example",
            name="Bench Dispatcher",
            role="dispatcher",
            password=PASSWORD,
        )
        session.commit()
    engine.dispose()
    flask_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-secret",
            "DATABASE_URL": url,
            "INSTANCE_PATH": instance,
            "GEOCODER": "none",
            "SCHEDULER_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "LATE_WATCH_AFTER_REPORTS": False,
        }
    )
    client = flask_app.test_client()
    login = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login)
    assert match, "no CSRF token on the sign-in page"
    response = client.post(
        "/login",
        data={
            "email": "dispatcher@bench.example",
            "password": PASSWORD,
            "csrf_token": match.group(1),
        },
    )
    assert response.status_code == 302, response.status_code
    return client


def rows_of(
    factory: sessionmaker[Session], client: Any, now: datetime, week: date
) -> dict[str, Callable[[], Any]]:
    depot = 1

    def board(depot_id: int | None, weeks: int) -> Callable[[], Any]:
        def run() -> Any:
            with factory() as session:
                return figures.dashboard(
                    session, now=now, depot_id=depot_id, shop_timezone="Europe/Moscow", weeks=weeks
                )

        return run

    def listing(figure: Figure) -> Callable[[], Any]:
        def run() -> Any:
            with factory() as session:
                return figure_list(
                    session,
                    figure=figure,
                    week=week,
                    depot_id=depot,
                    now=now,
                    timezone="Europe/Moscow",
                )

        return run

    def page() -> Any:
        response = client.get(f"/dashboard/?depot={depot}&weeks=12")
        assert response.status_code == 200, response.status_code
        return response

    return {
        "one depot, 12 weeks": board(depot, 12),
        "all depots, 12 weeks": board(None, 12),
        "one depot, 52 weeks": board(depot, 52),
        "list: on time, one week": listing(Figure.ON_TIME),
        "list: first attempt, one week": listing(Figure.FIRST_ATTEMPT),
        "GET /dashboard/?depot=1&weeks=12": page,
    }


def measure(rows: dict[str, Callable[[], Any]], reads: int, warm_up: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in rows}
    names = list(rows)
    for n in range(warm_up + reads):
        turn = names[n % len(names) :] + names[: n % len(names)]
        for name in turn:
            t0 = time.perf_counter()
            rows[name]()
            if n >= warm_up:
                timings[name].append(time.perf_counter() - t0)
    return timings


def statements(work: Callable[[], Any]) -> list[dict[str, Any]]:
    """Every statement of one run of ``work``, with its time, the slowest first."""
    seen: list[dict[str, Any]] = []
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        took = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        seen.append({"ms": round(1000 * took, 1), "sql": statement, "parameters": parameters})

    # On every engine: the web page reads through the app's own.
    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    try:
        work()
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)
    return sorted(seen, key=lambda s: -s["ms"])


def explain(engine: Engine, statement: dict[str, Any]) -> str:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"], statement["parameters"])
        return "\n".join(row[0] for row in cursor.fetchall())
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--stops", type=int, default=FULL_STOPS)
    parser.add_argument("--baseline-stops", type=int, default=300)
    parser.add_argument("--reads", type=int, default=40, help="measured reads per row")
    parser.add_argument("--warm-up", type=int, default=5)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--baseline-url", default=None)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()

    last_day = datetime.now(MOSCOW).date() - timedelta(days=1)
    now = datetime.combine(last_day + timedelta(days=1), clock_time(12), MOSCOW)
    week = figures.monday(now.date()) - timedelta(weeks=1)  # the last whole week
    databases = {
        "full": (args.database_url, args.stops),
        "baseline": (args.baseline_url or baseline_url(args.database_url), args.baseline_stops),
    }
    seeded: dict[str, Any] = {}
    timings: dict[str, dict[str, list[float]]] = {}
    heaviest: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as instance:
        for name, (url, stops) in databases.items():
            t0 = time.perf_counter()
            reset(url)
            migrated = round(time.perf_counter() - t0, 1)
            engine = make_engine(url)
            seeded[name] = {"migrate_seconds": migrated} | seed(engine, stops, last_day)
            print(name, json.dumps(seeded[name]), flush=True)
            factory = make_session_factory(engine)
            rows = rows_of(factory, web_client(url, now, instance), now, week)
            if name == "full":
                for row, work in rows.items():
                    found = statements(work)
                    heaviest[row] = {
                        "statements": len(found),
                        "ms": round(sum(s["ms"] for s in found), 1),
                        "slowest_ms": found[0]["ms"],
                        "slowest": found[0]["sql"],
                        "explain": explain(engine, found[0]),
                    }
            timings[name] = measure(rows, args.reads, args.warm_up)
            engine.dispose()
            with engine.connect() as conn:
                server = conn.scalar(text("SHOW server_version"))

    med = statistics.median
    table = []
    for row in timings["full"]:
        full, base = summary(timings["full"][row]), summary(timings["baseline"][row])
        ratio = round(med(timings["full"][row]) / med(timings["baseline"][row]), 1)
        table.append({"row": row, "full": full, "baseline": base, "ratio_median": ratio})
    result = {
        "postgresql": server,
        "command": f"python -m bench.dashboard --stops {args.stops} --reads {args.reads} "
        f"--warm-up {args.warm_up}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "now": now.isoformat(),
        "list_week": week.isoformat(),
        "seed": seeded,
        "ms": table,
        "heaviest": heaviest,
    }
    if args.out:
        with open(args.out, "w") as out:
            out.write(json.dumps(result, indent=2, default=str) + "\n")
    print("\n| row | full median | full p95 | baseline median | baseline p95 | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for line in table:
        f, b = line["full"], line["baseline"]
        print(
            f"| {line['row']} | {f['median']} ms | {f['p95']} ms | {b['median']} ms "
            f"| {b['p95']} ms | {line['ratio_median']} |"
        )
    print()
    for row, heavy in heaviest.items():
        print(
            f"{row}: {heavy['statements']} statements, {heavy['ms']} ms; slowest "
            f"{heavy['slowest_ms']} ms: {' '.join(heavy['slowest'].split())[:160]}"
        )


if __name__ == "__main__":
    main()
