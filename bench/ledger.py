"""Loyalty ledger on PostgreSQL with 1,000,000 entries: writes per second and read latency.

    .venv/bin/python -m bench.ledger [--seconds 3] [--repeats 5] [--threads 1 2 4 8]

Needs PostgreSQL (`make pg-up`, or TEST_POSTGRES_URL). Seeds 10,000 customers x 100 grants in
a throwaway database, then measures, in this process:
- service writes/s: half bonuses, half redemptions that allocate to grants, each write its
  own committed transaction, every thread on random customers (so different customers);
- the baseline: bare single-row INSERTs into ledger_entries, one per transaction, on the same
  engine and the same number of threads - the floor a write can cost here;
- after a warm-up, each repeat runs baseline and service for every thread count in six
  alternating turns (half a second each by default), so a change in the machine's load hits
  both alike; the figures are medians over the repeats, and the ratio (baseline writes/s /
  service writes/s, target at most 2.0 on 1 thread) is the median of each repeat's own ratio;
- meanwhile, what the database sessions wait for (pg_stat_activity every 20 ms): writes for
  different customers must never wait for a lock;
- balance read latency (cached balance) and available-points latency (open grants),
  p50 and p95 over 2,000 random customers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

import app.models  # noqa: F401  (every table registered before the first session)
from app import migrate
from app.db import make_engine, make_session_factory, session_scope
from app.errors import ValidationFailed
from bench.vrptw import RESULTS
from loyalty import services

CUSTOMERS = 10_000
PER_CUSTOMER = 100
TARGET_RATIO = 2.0
WARM_UP_S = 20.0
SLICES = 6

Write = Callable[[int, random.Random, str], bool]


def database_url() -> str:
    from tests.conftest import SAVED_URL, fresh_database_url

    base = os.environ.get("TEST_POSTGRES_URL") or (
        SAVED_URL.read_text().strip() if SAVED_URL.exists() else ""
    )
    if not base:
        raise SystemExit("Needs PostgreSQL: run `make pg-up` or set TEST_POSTGRES_URL.")
    return fresh_database_url(base, "roundtrip_bench_ledger")


def seed(engine: Engine) -> float:
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
        # Each grant from a case of its own, as apology bonuses are: one source shared by a
        # million rows would give the planner statistics no real ledger has.
        conn.execute(
            text(
                "INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, reason, "
                "source, idempotency_key, request_fingerprint, created_at, expires_at) "
                "SELECT (g % :n) + 1, 'bonus', 10, 0, 'Seed bonus', 'case:' || g, 'seed:' || g, "
                "'seed', now() - interval '1 day', now() + interval '300 days' "
                "FROM generate_series(1, :total) g"
            ),
            {"n": CUSTOMERS, "total": CUSTOMERS * PER_CUSTOMER},
        )
        conn.execute(
            text(
                "INSERT INTO ledger_unused_grants (entry_id, customer_id, expires_at, "
                "unused_points) SELECT id, customer_id, expires_at, points FROM ledger_entries"
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("customers", "loyalty_accounts", "ledger_entries", "ledger_unused_grants"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    return time.perf_counter() - started


def service_write(factory: sessionmaker[Session]) -> Write:
    """One write through the services: a bonus or a redemption of 3 points."""

    def write(n: int, rng: random.Random, run: str) -> bool:
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
                        key=f"{run}:{n}",
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
                        key=f"{run}:{n}",
                    )
        except ValidationFailed:
            return False
        return True

    return write


def bare_insert(engine: Engine) -> Write:
    """The floor: one single-row INSERT in its own transaction."""
    statement = text(
        "INSERT INTO ledger_entries (customer_id, kind, points, shortfall_points, "
        "reason, source, idempotency_key, request_fingerprint, created_at) VALUES "
        "(:c, 'adjustment', 1, 0, 'raw', 'raw', :k, 'raw', now())"
    )

    def write(n: int, rng: random.Random, run: str) -> bool:
        with engine.begin() as conn:
            conn.execute(statement, {"c": rng.randint(1, CUSTOMERS), "k": f"{run}:{n}"})
        return True

    return write


def committed(write: Write, threads: int, seconds: float, run: str) -> tuple[int, float]:
    """Writes committed by ``threads`` threads writing for ``seconds``, and the time taken."""
    numbers = iter(range(10**9))
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + seconds

    def worker(w: int) -> int:
        rng = random.Random(f"{run}:{w}")
        done = 0
        while time.perf_counter() < deadline:
            with lock:
                n = next(numbers)
            done += write(n, rng, run)
        return done

    with ThreadPoolExecutor(threads) as pool:
        done = sum(pool.map(worker, range(threads)))
    return done, time.perf_counter() - started


class WaitSampler:
    """What the benchmark's database sessions are doing, sampled every 20 ms from another
    connection: writes for different customers should never wait for a lock (the
    ``Lock`` wait events: a row, a transaction id)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.counts: dict[str, Counter[str]] = {}

    @contextmanager
    def during(self, phase: str) -> Iterator[None]:
        stop = threading.Event()
        counts = self.counts.setdefault(phase, Counter())

        def sample() -> None:
            with self.engine.connect() as conn:
                while not stop.wait(0.02):
                    for (event,) in conn.execute(WAITING):
                        counts[event] += 1
                    conn.rollback()

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            yield
        finally:
            stop.set()
            sampler.join()

    def shares(self) -> dict[str, dict[str, float]]:
        """Per phase, the share of sampled active sessions in each state."""
        return {
            phase: {event: n / total for event, n in counts.most_common(6)}
            for phase, counts in self.counts.items()
            if (total := sum(counts.values()))
        }


WAITING = text(
    "SELECT COALESCE(wait_event_type || ':' || wait_event, 'running') FROM pg_stat_activity "
    "WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
)


def measure_writes(
    engine: Engine,
    factory: sessionmaker[Session],
    *,
    threads: Sequence[int],
    seconds: float,
    repeats: int,
) -> dict[str, Any]:
    writers = {"bare": bare_insert(engine), "service": service_write(factory)}
    # Connections, prepared statements, and the pages both touch in shared buffers: right
    # after the seed every first change of a page also writes a full copy of it to the WAL.
    for w in range(4):
        for kind, write in writers.items():
            committed(write, max(threads), WARM_UP_S / 8, f"warm-{kind}{w}")
    runs: list[dict[str, dict[int, float]]] = []
    waits = WaitSampler(engine)
    for r in range(repeats):
        run: dict[str, dict[int, float]] = {"bare": {}, "service": {}}
        for t in threads:
            # Baseline and service take turns in short slices (which one first alternates),
            # so the load other processes put on the machine falls on both alike.
            writes = {"bare": 0, "service": 0}
            took_s = {"bare": 0.0, "service": 0.0}
            for k in range(SLICES):
                for kind in ("bare", "service") if k % 2 else ("service", "bare"):
                    with waits.during(f"{kind} {t}"):
                        done, took = committed(
                            writers[kind], t, seconds / SLICES, f"{kind}{r}t{t}s{k}"
                        )
                    writes[kind] += done
                    took_s[kind] += took
            for kind in writes:
                run[kind][t] = writes[kind] / took_s[kind]
            print(
                f"repeat {r + 1}/{repeats}, {t} thread(s): bare {run['bare'][t]:.0f}/s, "
                f"service {run['service'][t]:.0f}/s",
                flush=True,
            )
        runs.append(run)

    def median(kind: str, t: int) -> float:
        return statistics.median(run[kind][t] for run in runs)

    one = threads[0]
    table = [
        {
            "threads": t,
            "bare_insert_per_s": median("bare", t),
            "service_per_s": median("service", t),
            "ratio": statistics.median(run["bare"][t] / run["service"][t] for run in runs),
            "service_scaling": statistics.median(
                run["service"][t] / run["service"][one] for run in runs
            ),
            "bare_scaling": statistics.median(run["bare"][t] / run["bare"][one] for run in runs),
        }
        for t in threads
    ]
    return {
        "seconds_per_run": seconds,
        "repeats": repeats,
        "cores": os.cpu_count(),
        "load_average_after": os.getloadavg()[0],
        "ratio_1_thread": table[0]["ratio"],
        "target_ratio": TARGET_RATIO,
        "by_threads": table,
        "waiting": waits.shares(),
        "runs": [
            {kind: {str(t): v for t, v in by_t.items()} for kind, by_t in run.items()}
            for run in runs
        ],
    }


def read_latency(factory: sessionmaker[Session]) -> dict[str, float]:
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


def report(result: dict[str, Any]) -> str:
    writes = result["writes"]
    lines = [
        "| threads | bare INSERT/s | service writes/s | bare / service | service scaling "
        "| bare scaling |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {row['threads']} | {row['bare_insert_per_s']:,.0f} | {row['service_per_s']:,.0f} "
        f"| {row['ratio']:.2f} | {row['service_scaling']:.2f}x | {row['bare_scaling']:.2f}x |"
        for row in writes["by_threads"]
    ]
    locks = {
        phase: sum(share for event, share in shares.items() if event.startswith("Lock:"))
        for phase, shares in writes["waiting"].items()
        if phase.startswith("service")
    }
    lines.append(
        "\nService sessions waiting for a lock (share of samples): "
        + ", ".join(f"{phase.split()[1]} threads {share:.1%}" for phase, share in locks.items())
    )
    verdict = "met" if writes["ratio_1_thread"] <= writes["target_ratio"] else "NOT met"
    lines.append(
        f"\nA service write costs {writes['ratio_1_thread']:.2f}x a bare insert on 1 thread "
        f"(target at most {writes['target_ratio']:.1f}: {verdict}); medians of "
        f"{writes['repeats']} repeats of {writes['seconds_per_run']:g} s, "
        f"{writes['cores']} cores, load average {writes['load_average_after']:.1f} after."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args(argv)
    url = database_url()
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=max(args.threads) + 2, max_overflow=0)
    factory = make_session_factory(engine)
    seeded = seed(engine)
    with engine.connect() as conn:
        entries = conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
    print(f"seeded in {seeded:.0f} s; load average {os.getloadavg()[0]:.1f}", flush=True)
    writes = measure_writes(
        engine, factory, threads=args.threads, seconds=args.seconds, repeats=args.repeats
    )
    result = {
        "entries_at_start": entries,
        "seed_s": seeded,
        "writes": writes,
        "reads": read_latency(factory),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    Path(RESULTS / "ledger.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result["reads"], indent=1))
    print(report(result))
    engine.dispose()


if __name__ == "__main__":
    main()
