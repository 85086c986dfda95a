"""A burst of courier actions against PostgreSQL: 50 couriers, 1,000 queued actions at once.

    .venv/bin/python -m bench.courier_events [--couriers 50] [--stops 20] [--workers 50]

Needs PostgreSQL (`make pg-up`, or TEST_POSTGRES_URL). Builds a throwaway database with one
depot, N couriers each with a published, inspected route of M stops today, and a bearer token
each; serves the real app on a local port (werkzeug, threaded, in this process); then every
courier's phone, back from a dead zone, sends its whole queue at once:

0. the baseline: as many bare requests (GET /api/v1/health/live), as many at once;
1. the burst: each courier's M actions (deliveries), one request per action in order, every
   action sent by two threads at the same moment (the phone's retry racing its first send),
   all couriers at once;
2. the replay: every action sent again (answers lost), all couriers at once.

Then the database must hold each action exactly once: N x M stop events, every stop delivered
once at the courier's time, one loyalty entry per delivered order. Reports the median and
p95 per action (one request = one action), of both phases, in bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

import app.models  # noqa: F401  (every table registered before the first session)
from app import migrate
from app.accounts import services as accounts
from app.accounts.models import Role
from app.customers.models import Address, Customer
from app.db import make_engine, make_session_factory, session_scope
from app.fleet import inspection
from app.fleet.models import Courier, Depot, Shift, Vehicle
from app.orders.models import Order
from app.planning import stops as stop_service
from app.planning.models import Plan, PlanRoute, PlanVisit, Stop, StopEvent
from bench.vrptw import RESULTS
from loyalty.models import LedgerEntry

OUT = RESULTS / "courier_events.json"


def database_url() -> str:
    from tests.conftest import SAVED_URL, fresh_database_url

    base = os.environ.get("TEST_POSTGRES_URL") or (
        SAVED_URL.read_text().strip() if SAVED_URL.exists() else ""
    )
    if not base:
        raise SystemExit("Needs PostgreSQL: run `make pg-up` or set TEST_POSTGRES_URL.")
    return fresh_database_url(base, "roundtrip_bench_courier")


def seed(url: str, couriers: int, stops: int, now: datetime) -> list[tuple[str, list[int]]]:
    """Each courier's token and the ids of their stops in route order."""
    factory = make_session_factory(make_engine(url))
    out = []
    with session_scope(factory) as s:
        depot = Depot(
            code="BENCH", name="Bench", address="-", lat=55.75, lon=37.6, timezone="Europe/Moscow"
        )
        s.add(depot)
        s.flush()
        day = now.astimezone(UTC).date()
        plan = Plan(
            depot_id=depot.id,
            delivery_day=day,
            version=1,
            status="ready",
            time_limit_s=1,
            created_at=now,
            finished_at=now,
            published_at=now,
        )
        s.add(plan)
        customer = Customer(name="Bench customer", created_at=now)
        s.add(customer)
        s.flush()
        address = Address(
            customer_id=customer.id,
            line="Bench street 1",
            lat=55.76,
            lon=37.61,
            coordinate_source="given",
        )
        s.add(address)
        s.flush()
        for c in range(couriers):
            user = accounts.create_user(
                s,
                email=f"bench{c}@example.org",
                name=f"Courier {c}",
                role=Role.COURIER,
                password="bench-password-1",
            )
            courier = Courier(depot_id=depot.id, name=f"Courier {c}", phone="+7", user_id=user.id)
            vehicle = Vehicle(
                depot_id=depot.id, registration=f"B{c:03d}", type="car", capacity_units=100
            )
            s.add_all([courier, vehicle])
            s.flush()
            shift = Shift(
                courier_id=courier.id,
                vehicle_id=vehicle.id,
                depot_id=depot.id,
                starts_at=now - timedelta(hours=2),
                ends_at=now + timedelta(hours=6),
            )
            s.add(shift)
            s.flush()
            orders = [
                Order(
                    number=f"B{c:03d}-{n:03d}",
                    customer_id=customer.id,
                    address_id=address.id,
                    depot_id=depot.id,
                    delivery_day=day,
                    window_start_at=now - timedelta(hours=1),
                    window_end_at=now + timedelta(hours=5),
                    status="planned",
                    total_minor=1000_00,
                    currency="RUB",
                    created_at=now,
                )
                for n in range(stops)
            ]
            s.add_all(orders)
            s.flush()
            for o in orders:
                o.items = []
            route = PlanRoute(
                plan_id=plan.id,
                shift_id=shift.id,
                vehicle_id=vehicle.id,
                courier_id=courier.id,
                start_at=now - timedelta(hours=1),
                end_at=now + timedelta(hours=4),
                distance_m=1000,
                load_start=[0],
            )
            s.add(route)
            placed = stop_service.delivery_stops(s, orders)
            for n, stop in enumerate(placed):
                at = now - timedelta(minutes=30) + timedelta(minutes=10 * n)
                route.visits.append(
                    PlanVisit(
                        stop=stop,
                        sequence=n + 1,
                        arrival_at=at,
                        start_at=at,
                        departure_at=at + timedelta(minutes=4),
                        load_after=[0],
                    )
                )
            s.flush()
            inspection.submit(
                s,
                shift_id=shift.id,
                courier_id=courier.id,
                answers={i.code: True for i in inspection.checklist(vehicle)},
                odometer_km=1000,
                at=now,
                now=now,
            )
            token = accounts.issue_api_token(s, user=user, label="bench", now=now).secret
            out.append((token, [p.id for p in placed]))
    return out


def post(base: str, token: str, event: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    body = json.dumps({"events": [event]}).encode()
    request = urllib.request.Request(
        base + "/api/v1/courier/events",
        data=body,
        method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    return time.perf_counter() - started, answer["results"][0]


def get(base: str, path: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(base + path, timeout=60) as response:
        response.read()
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--couriers", type=int, default=50)
    parser.add_argument("--stops", type=int, default=20)
    parser.add_argument("--workers", type=int, default=50, help="server threads in use at once")
    args = parser.parse_args()

    from app.web import create_app
    from tests.browser import live_server

    url = database_url()
    migrate.upgrade(url)
    now = datetime.now(UTC).replace(microsecond=0)
    phones = seed(url, args.couriers, args.stops, now)
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": url,
            "SCHEDULER_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "QUEUE": "inline",
        }
    )
    queues = [
        [
            {
                "id": str(uuid.uuid4()),
                "stop_id": stop_id,
                "kind": "delivered",
                "at": (now - timedelta(minutes=20) + timedelta(minutes=n)).isoformat(),
            }
            for n, stop_id in enumerate(stops)
        ]
        for _, stops in phones
    ]
    timings: dict[str, list[float]] = {"baseline": [], "burst": [], "replay": []}
    statuses: dict[str, list[str]] = {"baseline": [], "burst": [], "replay": []}
    lock = threading.Lock()

    def phone(phase: str, token: str, queue: list[dict[str, Any]]) -> None:
        for event in queue:
            took, answer = post(base, token, event)
            with lock:
                timings[phase].append(took)
                statuses[phase].append(
                    answer["status"] + ("/replayed" if answer.get("replayed") else "")
                )

    def bare(count: int) -> None:
        for _ in range(count):
            took = get(base, "/api/v1/health/live")
            with lock:
                timings["baseline"].append(took)
                statuses["baseline"].append("ok")

    with live_server(app) as base:
        phase_s = {}
        # The floor: as many bare requests, as many at once, on the same server.
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers * 2) as pool:
            for job in [pool.submit(bare, args.stops) for _ in range(args.workers * 2)]:
                job.result()
        phase_s["baseline"] = time.perf_counter() - started
        for phase, copies in (("burst", 2), ("replay", 1)):
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.workers * copies) as pool:
                jobs = [
                    pool.submit(phone, phase, token, queue)
                    for (token, _), queue in zip(phones, queues, strict=True)
                    for _ in range(copies)
                ]
                for job in jobs:
                    job.result()
            phase_s[phase] = time.perf_counter() - started

    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as s:
        events = s.scalar(select(func.count()).select_from(StopEvent))
        delivered = s.scalar(
            select(func.count()).select_from(Stop).where(Stop.outcome == "delivered")
        )
        distinct = s.scalar(select(func.count(func.distinct(StopEvent.client_event_id))))
        entries = s.scalar(select(func.count()).select_from(LedgerEntry))
        at_courier_time = s.scalar(
            select(func.count())
            .select_from(Stop)
            .join(StopEvent, StopEvent.stop_id == Stop.id)
            .where(Stop.completed_at == StopEvent.courier_at)
        )
    expected = args.couriers * args.stops
    result = {
        "command": "python -m bench.courier_events "
        f"--couriers {args.couriers} --stops {args.stops} --workers {args.workers}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "actions": expected,
        "requests": {k: len(v) for k, v in timings.items()},
        "answers": {k: {s: v.count(s) for s in sorted(set(v))} for k, v in statuses.items()},
        "per_action_ms": {
            k: {
                "median": round(1000 * statistics.median(v), 1),
                "p95": round(1000 * percentile(v, 0.95), 1),
                "max": round(1000 * max(v), 1),
            }
            for k, v in timings.items()
        },
        "phase_s": {k: round(v, 2) for k, v in phase_s.items()},
        "burst_median_over_baseline_median": round(
            statistics.median(timings["burst"]) / statistics.median(timings["baseline"]), 1
        ),
        "database": {
            "stop_events": events,
            "distinct_action_ids": distinct,
            "stops_delivered": delivered,
            "stops_at_courier_time": at_courier_time,
            "ledger_entries": entries,
        },
        "exactly_once": events == distinct == delivered == entries == at_courier_time == expected,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not result["exactly_once"]:
        raise SystemExit("not exactly once: see the database figures above")


if __name__ == "__main__":
    main()
