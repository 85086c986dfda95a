"""Loyalty ledger on PostgreSQL with 1,000,000 entries: writes per second and read latency.

    TEST_POSTGRES_URL=... .venv/bin/python -m bench.ledger      (or after `make pg-up`)

Seeds 10,000 customers x 100 grants in a throwaway database, then measures, in this process:
- writes/s through the services (half bonuses, half redemptions that allocate to grants),
  with 1 and 8 threads, each write its own committed transaction;
- the same number of raw single-row INSERTs as a baseline (the floor a write can cost);
- balance read latency (cached balance) and available-points latency (grants minus
  allocations), p50 and p95 over 2,000 random customers.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from app import migrate
from app.db import make_engine, make_session_factory, session_scope
from app.errors import ValidationFailed
from bench.vrptw import RESULTS
from loyalty import services

CUSTOMERS = 10_000
PER_CUSTOMER = 100
SECONDS = 10.0


def database_url() -> str:
    from tests.conftest import SAVED_URL, fresh_database_url

    base = os.environ.get("TEST_POSTGRES_URL") or (
        SAVED_URL.read_text().strip() if SAVED_URL.exists() else ""
    )
    if not base:
        raise SystemExit("Needs PostgreSQL: run `make pg-up` or set TEST_POSTGRES_URL.")
    return fresh_database_url(base, "roundtrip_bench_ledger")


def seed(engine) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (id, name, created_at) "
                "SELECT g, 'Customer ' || g, now() FROM generate_series(1, :n) g"
            ),
            {"n": CUSTOMERS},
        )
        conn.execute(text("SELECT setval('customers_id_seq', :n)"), {"n": CUSTOMERS})
        conn.execute(
            text(
                "INSERT INTO loyalty_accounts (customer_id, balance_points, owed_points, "
                "written_off_points, updated_at) SELECT g, :bal, 0, 0, now() "
                "FROM generate_series(1, :n) g"
            ),
            {"n": CUSTOMERS, "bal": 10 * PER_CUSTOMER},
        )
        conn.execute(
            text(
                "INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, reason, "
                "source, idempotency_key, request_fingerprint, created_at, expires_at) "
                "SELECT (g % :n) + 1, 'bonus', 10, 0, 'Seed bonus', 'seed', 'seed:' || g, 'seed', "
                "now() - interval '1 day', now() + interval '300 days' "
                "FROM generate_series(1, :total) g"
            ),
            {"n": CUSTOMERS, "total": CUSTOMERS * PER_CUSTOMER},
        )
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def service_writes(factory, threads: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + SECONDS
    counter = iter(range(10**9))
    lock = threading.Lock()
    done = [0]

    def worker(w: int) -> None:
        rng = random.Random(w)
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            customer = rng.randint(1, CUSTOMERS)
            now = datetime.now(UTC)
            try:
                with session_scope(factory) as s:
                    if n % 2:
                        services.credit_bonus(
                            s,
                            customer_id=customer,
                            points=5,
                            reason="Bench",
                            source="bench",
                            now=now,
                            key=f"bench{threads}:{n}",
                        )
                    else:
                        services.redeem(
                            s,
                            customer_id=customer,
                            order_id=n,
                            order_ref=f"B{n}",
                            order_total_minor=1_000_00,
                            points=3,
                            now=now,
                            key=f"bench{threads}:{n}",
                        )
            except ValidationFailed:
                continue
            with lock:
                done[0] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    elapsed = time.perf_counter() - started
    return {"threads": threads, "writes": done[0], "writes_per_s": done[0] / elapsed}


def raw_inserts(engine, count: int) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for n in range(count):
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, "
                    "reason, source, idempotency_key, request_fingerprint, created_at) VALUES "
                    "(:c, 'adjustment', 1, 0, 'raw', 'raw', :k, 'raw', now())"
                ),
                {"c": 1 + n % CUSTOMERS, "k": f"raw:{n}"},
            )
    return count / (time.perf_counter() - started)


def read_latency(factory) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    balance_ms, available_ms = [], []
    with session_scope(factory) as s:
        for _ in range(2000):
            customer = rng.randint(1, CUSTOMERS)
            t = time.perf_counter()
            services.balance(s, customer_id=customer)
            balance_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            services.open_grants(s, customer, now=datetime.now(UTC))
            available_ms.append((time.perf_counter() - t) * 1000)
            s.expire_all()

    def pct(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1]

    return {
        "balance_p50_ms": pct(balance_ms, 50),
        "balance_p95_ms": pct(balance_ms, 95),
        "available_p50_ms": pct(available_ms, 50),
        "available_p95_ms": pct(available_ms, 95),
    }


def main() -> None:
    url = database_url()
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=12, max_overflow=0)
    factory = make_session_factory(engine)
    seeded = seed(engine)
    with engine.connect() as conn:
        entries = conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
    one = service_writes(factory, 1)
    eight = service_writes(factory, 8)
    baseline = raw_inserts(engine, 2000)
    reads = read_latency(factory)
    result = {
        "entries_at_start": entries,
        "seed_s": seeded,
        "service_1_thread": one,
        "service_8_threads": eight,
        "raw_insert_per_s": baseline,
        "reads": reads,
        "ratio_service_1_thread_to_raw": one["writes_per_s"] / baseline,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    Path(RESULTS / "ledger.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    engine.dispose()


if __name__ == "__main__":
    main()
