"""Dispatcher planning at scale: 1,000 orders and 50 couriers in one Moscow depot.

    .venv/bin/python -m bench.planning [--budget auto] [--factor 10]

In one process, on a migrated SQLite file:
- a full plan with the default time budget (``ROUNDTRIP_PLANNING_TIME_LIMIT_S=auto``: 60 s
  for 1,000 orders) and
  the same engine with ``factor`` times that budget: both re-checked by the independent
  checker; total travel time compared;
- the promise query (every window of the plan's day for a random address) against the
  published plan: cold (first query, builds the cached index) and warm, p50 and p95;
- inserting late orders one after another into the published plan: median and worst.
Writes bench/results/planning.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from app import migrate
from app.accounts.models import User  # noqa: F401  (every model is mapped before use)
from app.catalog.models import Product
from app.customers.models import Address, Customer
from app.db import make_engine, make_session_factory, session_scope
from app.fleet.models import Courier, Depot, Shift, Vehicle
from app.orders.models import DeliveryWindowTemplate, Order, OrderItem
from app.orders.windows import DayWindow, local_midnight, windows_for_day
from app.planning import editing, flows, promise, services
from app.planning.models import Plan
from app.planning.problem import plan_problem, route_specs
from bench.vrptw import RESULTS
from routing import feasibility
from routing.solver import SolveParameters

DAY = date(2030, 3, 12)
ORDERS = 1_000
COURIERS = 50
CENTRE = (55.751, 37.618)
NOW = datetime(2030, 3, 11, 9, tzinfo=UTC)
MOSCOW = ZoneInfo("Europe/Moscow")  # the morning before: every window still open


def _point(rng: random.Random) -> tuple[float, float]:
    # Inside Moscow's ring road, roughly 18 km by 18 km around the centre.
    return CENTRE[0] + rng.uniform(-0.16, 0.16), CENTRE[1] + rng.uniform(-0.26, 0.26)


def _order(
    number: str, customer_id: int, depot_id: int, point: tuple[float, float], w: DayWindow
) -> Order:
    return Order(
        number=number,
        customer_id=customer_id,
        address=Address(
            customer_id=customer_id,
            line=f"Bench address {number}",
            lat=point[0],
            lon=point[1],
            coordinate_source="given",
        ),
        depot_id=depot_id,
        window_template_id=w.template_id,
        delivery_day=DAY,
        window_start_at=w.start_at,
        window_end_at=w.end_at,
    )


def seed(factory, rng: random.Random) -> int:  # type: ignore[no-untyped-def]
    with session_scope(factory) as s:
        depot = Depot(
            code="BENCH",
            name="Bench depot",
            address="Varshavskoye shosse 47",
            lat=55.686,
            lon=37.6215,
            timezone="Europe/Moscow",
        )
        s.add(depot)
        for start in range(8 * 60, 22 * 60, 120):
            s.add(
                DeliveryWindowTemplate(
                    depot=depot,
                    start_minute=start,
                    end_minute=start + 120,
                    cutoff_days_before=0,
                    cutoff_minute=start - 180,
                )
            )
        products = [
            Product(
                sku=f"P{u}", name=f"Parcel {u}", price_minor=100_00, load_units=u, is_food=False
            )
            for u in (1, 2, 3)
        ]
        s.add_all(products)
        epoch = local_midnight(DAY, MOSCOW)
        for k in range(COURIERS):
            courier = Courier(depot=depot, name=f"Courier {k:02d}", phone=f"+7900{k:07d}")
            van = Vehicle(depot=depot, registration=f"B{k:03d}", type="van", capacity_units=120)
            early = k % 2 == 0
            s.add(
                Shift(
                    depot=depot,
                    courier=courier,
                    vehicle=van,
                    starts_at=epoch + timedelta(hours=7.5 if early else 13.5),
                    ends_at=epoch + timedelta(hours=17 if early else 23.5),
                )
            )
        customer = Customer(name="Bench customer", email="bench@example.com")
        s.add(customer)
        s.flush()
        windows = windows_for_day(s, depot.id, DAY, MOSCOW)
        for n in range(ORDERS):
            w = rng.choice(windows)
            order = _order(f"RT-B{n:05d}", customer.id, depot.id, _point(rng), w)
            order.items = [
                OrderItem(product=rng.choice(products), quantity=1, unit_price_minor=100_00)
            ]
            s.add(order)
        return depot.id


def travel_s(session, plan: Plan) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Total travel seconds of the plan by the checker's timing, and its violation count."""
    day = plan_problem(session, plan)
    routes = [(spec.vehicle, spec.stops) for spec in route_specs(day, plan)]
    total = 0
    for vehicle, stops in routes:
        locs = [0] + [day.problem.stops[s].location for s in stops] + [0]
        total += sum(day.problem.travel_s(vehicle, a, b) for a, b in itertools.pairwise(locs))
    return total, len(feasibility.violations(day.problem, routes))


def full_plan(factory, depot_id: int, limit: float) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with session_scope(factory) as s:
        plan_id = services.start_plan(s, depot_id=depot_id, day=DAY, time_limit_s=limit).id
    started = time.perf_counter()
    with session_scope(factory) as s:
        services.solve_plan(
            s, plan_id=plan_id, now=NOW, params=SolveParameters(time_limit_s=limit, seed=1)
        )
    wall = time.perf_counter() - started
    with session_scope(factory) as s:
        plan = s.get_one(Plan, plan_id)
        travel, violations = travel_s(s, plan)
        return {
            "plan_id": plan_id,
            "time_limit_s": limit,
            "wall_s": round(wall, 2),
            "engine": plan.engine,
            "assigned": plan.stops_assigned,
            "unassigned": plan.stops_unassigned,
            "routes": len(plan.routes),
            "travel_s": travel,
            "distance_m": plan.distance_m,
            "violations": violations,
        }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--budget", default="auto", help="seconds, or auto: the app's default for 1,000 orders"
    )
    parser.add_argument("--factor", type=float, default=10.0)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--inserts", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        depot_id = seed(factory, rng)

        budget = services.time_budget(ORDERS) if args.budget == "auto" else float(args.budget)
        default = full_plan(factory, depot_id, budget)
        longer = full_plan(factory, depot_id, budget * args.factor)
        print("plan", default, longer, flush=True)

        with session_scope(factory) as s:
            flows.publish(s, plan_id=int(default["plan_id"]), now=NOW)

        timings: list[float] = []
        available = 0
        cold = 0.0
        with session_scope(factory) as s:
            depot = s.get_one(Depot, depot_id)
            promise.clear_cache()
            for q in range(args.queries):
                lat, lon = _point(rng)
                started = time.perf_counter()
                offers = promise.offers(s, depot=depot, lat=lat, lon=lon, now=NOW, days=2)
                elapsed = time.perf_counter() - started
                if q == 0:
                    cold = elapsed
                else:
                    timings.append(elapsed)
                available += sum(o.available for o in offers if o.day == DAY)
            windows = len([o for o in offers if o.day == DAY])
        print("promise", percentile(timings, 0.5), percentile(timings, 0.95), flush=True)

        inserts: list[float] = []
        placed = 0
        for n in range(args.inserts):
            with session_scope(factory) as s:
                template = rng.choice(windows_for_day(s, depot_id, DAY, MOSCOW))
                source = s.get_one(Order, 1)
                late = _order(f"RT-L{n:05d}", source.customer_id, depot_id, _point(rng), template)
                late.items = [OrderItem(product_id=1, quantity=1, unit_price_minor=100_00)]
                s.add(late)
                s.flush()
                started = time.perf_counter()
                outcome = editing.insert_order(
                    s, plan_id=int(default["plan_id"]), order_id=late.id, now=NOW
                )
                inserts.append(time.perf_counter() - started)
                placed += outcome.placed
        with session_scope(factory) as s:
            after_inserts, violations_after = travel_s(s, s.get_one(Plan, int(default["plan_id"])))
        engine.dispose()

    result = {
        "orders": ORDERS,
        "couriers": COURIERS,
        "default": default,
        "longer": longer,
        "travel_ratio": round(int(default["travel_s"]) / int(longer["travel_s"]), 4),
        "promise": {
            "queries": len(timings),
            "windows_per_query": windows,
            "cold_ms": round(cold * 1000, 1),
            "p50_ms": round(percentile(timings, 0.5) * 1000, 2),
            "p95_ms": round(percentile(timings, 0.95) * 1000, 2),
            "available_share": round(available / (windows * args.queries), 3),
            "vs_default_solve": round(percentile(timings, 0.95) / float(default["wall_s"]), 6),
        },
        "insert": {
            "orders": len(inserts),
            "placed": placed,
            "median_ms": round(statistics.median(inserts) * 1000, 1),
            "max_ms": round(max(inserts) * 1000, 1),
            "violations_after": violations_after,
            "travel_s_after": after_inserts,
        },
        "command": f"python -m bench.planning --budget {args.budget} --factor {args.factor:g}",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "planning.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
