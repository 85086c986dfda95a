"""Production mode scale-out (O2): 20 depots x 500 stops planned in one wave, on 1 job worker
and on 2 (`make prod` with PROD_WORKERS=1, then 2; same database, same days).

    .venv/bin/python -m bench.scaleout [--depots 20] [--stops 500] [--order 1,2]

- A fresh database (PROD_DB, default roundtrip_bench) with the demo, then 20 depots around
  Moscow built through the app's services (fleet, customers, orders: as app/demo.py builds a
  day): each with 8 two-hour windows, 25 vans of 120 units on early or late shifts, and 500
  orders within about 12 km for 2030-03-13 (a day no scheduled wave touches).
- A wave: for every depot ``app.planning.services.start_plan(..., wait_s=3600)`` (default
  budget by size: 30 s for 500 orders), committed, then one ``planning.solve`` job per depot
  through ``app.background.pg.ProcrastinateQueue``; polled from the database until no run is
  solving. Wall time from the first enqueue to the last run finished; per run: queued time,
  time on its worker (start to finish), overhead beyond its search budget.
- CPU by process group (job workers, web, PostgreSQL backends of this database, others) is
  sampled every second from /proc during each wave.
Writes bench/results/prod_scaleout.json.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench import prodstack as stack

DAY = date(2030, 3, 13)
MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2030, 3, 12, 6, tzinfo=UTC)  # the morning before: every window still open
VANS_PER_500 = 25


def log(*args: object) -> None:
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def depot_site(k: int) -> tuple[float, float]:
    """Depots on a ring around Moscow's centre, ~15 km out, plus jitter."""
    import math

    angle = 2 * math.pi * k / 20
    return 55.751 + 0.13 * math.sin(angle), 37.618 + 0.22 * math.cos(angle)


def build(factory, *, depots: int, stops: int, seed: int = 11) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Depots, fleet, shifts, customers and orders through the app's services."""
    from sqlalchemy import select

    from app.catalog.models import Product
    from app.customers import services as customer_services
    from app.db import session_scope
    from app.fleet import services as fleet_services
    from app.fleet.models import Depot
    from app.geocoding import NoGeocoder
    from app.orders import services as order_services
    from app.orders.models import DeliveryWindowTemplate
    from app.orders.windows import local_midnight, windows_for_day

    rng = random.Random(seed)
    started = time.monotonic()
    ids = []
    with session_scope(factory) as s:
        skus = [
            p
            for p in ("SC-1", "SC-2", "SC-3")
            if s.scalar(select(Product).where(Product.sku == p)) is None
        ]
        for n, sku in enumerate(skus):
            s.add(
                Product(
                    sku=sku,
                    name=f"Parcel size {n + 1}",
                    price_minor=100_00,
                    load_units=n + 1,
                    is_food=False,
                )
            )
    for k in range(depots):
        code = f"SC{k:02d}"
        with session_scope(factory) as s:
            existing = s.scalar(select(Depot.id).where(Depot.code == code))
            if existing is not None:
                ids.append(existing)
                continue
            lat, lon = depot_site(k)
            depot = fleet_services.create_depot(
                s,
                code=code,
                name=f"Scale-out depot {k:02d}",
                address=f"Ring road km {k * 5}",
                lat=lat,
                lon=lon,
                timezone="Europe/Moscow",
            )
            for start in range(8 * 60, 22 * 60, 120):
                s.add(
                    DeliveryWindowTemplate(
                        depot_id=depot.id,
                        start_minute=start,
                        end_minute=start + 120,
                        cutoff_days_before=0,
                        cutoff_minute=start - 180,
                    )
                )
            s.flush()
            epoch = local_midnight(DAY, MOSCOW)
            vans = max(1, round(VANS_PER_500 * stops / 500))
            for v in range(vans):
                vehicle = fleet_services.create_vehicle(
                    s,
                    depot_id=depot.id,
                    registration=f"{code}-{v:03d}",
                    type="van",
                    capacity_units=120,
                )
                courier = fleet_services.create_courier(
                    s,
                    depot_id=depot.id,
                    name=f"Courier {code}-{v:03d}",
                    phone=f"+7901{k:02d}{v:05d}",
                )
                early = v % 2 == 0
                starts = epoch + timedelta(hours=7.5 if early else 13.5)
                fleet_services.create_shift(
                    s,
                    courier_id=courier.id,
                    vehicle_id=vehicle.id,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=9.5),
                )
            customers = [
                customer_services.create_customer(
                    s, name=f"Customer {code}-{c:03d}", phone=f"+7902{k:02d}{c:05d}"
                )
                for c in range(50)
            ]
            windows = windows_for_day(s, depot.id, DAY, MOSCOW)
            for n in range(stops):
                w = rng.choice(windows)
                order_services.create_order(
                    s,
                    customer_id=customers[n % len(customers)].id,
                    delivery_day=DAY,
                    window_start_at=w.start_at,
                    window_end_at=w.end_at,
                    items=[
                        order_services.ItemRequest(
                            sku=rng.choice(("SC-1", "SC-2", "SC-3")), quantity=1
                        )
                    ],
                    address=order_services.AddressRequest(
                        line=f"{code} street {n}",
                        lat=round(lat + rng.uniform(-0.1, 0.1), 6),
                        lon=round(lon + rng.uniform(-0.16, 0.16), 6),
                    ),
                    depot_id=depot.id,
                    now=NOW,
                    geocoder=NoGeocoder(),
                )
            ids.append(depot.id)
        log(f"built {code}: {stops} orders ({time.monotonic() - started:.0f} s so far)")
    return {"depot_ids": ids, "build_s": round(time.monotonic() - started, 1)}


def wave(factory, url: str, depot_ids: list[int], workers: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from app.background.pg import ProcrastinateQueue
    from app.db import session_scope
    from app.planning import services as planning_services
    from app.planning.models import Plan

    quiet = stack.wait_quiet(log=log)
    queue = ProcrastinateQueue.from_url(url)
    plan_ids = []
    with session_scope(factory) as s:
        for depot_id in depot_ids:
            plan_ids.append(
                planning_services.start_plan(s, depot_id=depot_id, day=DAY, wait_s=3600).id
            )
    load_before = stack.loadavg()
    sampler = stack.CpuSampler(every_s=1.0).start()
    t0 = datetime.now(UTC)
    mono0 = time.monotonic()
    for plan_id in plan_ids:
        queue.enqueue("planning.solve", {"plan_id": plan_id, "lease_s": 60}, key=f"plan:{plan_id}")
    log(
        f"wave on {workers} worker(s): {len(plan_ids)} runs queued "
        f"(plans {plan_ids[0]}..{plan_ids[-1]})"
    )
    while True:
        with session_scope(factory) as s:
            plans = s.scalars(select(Plan).where(Plan.id.in_(plan_ids))).all()
            solving = sum(1 for p in plans if p.status == "solving")
            rows = [
                {
                    "plan_id": p.id,
                    "depot_id": p.depot_id,
                    "status": p.status,
                    "time_limit_s": p.time_limit_s,
                    "worker": p.worker,
                    "queued_s": round((p.started_at - t0).total_seconds(), 1)
                    if p.started_at
                    else None,
                    "on_worker_s": round((p.finished_at - p.started_at).total_seconds(), 1)
                    if p.started_at and p.finished_at
                    else None,
                    "finished_s": round((p.finished_at - t0).total_seconds(), 1)
                    if p.finished_at
                    else None,
                    "distance_m": p.distance_m,
                    "stops_assigned": p.stops_assigned,
                    "stops_unassigned": p.stops_unassigned,
                    "error": p.error,
                }
                for p in plans
            ]
        if solving == 0:
            break
        if time.monotonic() - mono0 > 3 * 3600:
            raise TimeoutError(
                f"runs still solving: {[r for r in rows if r['status'] == 'solving']}"
            )
        time.sleep(1)
    cpu = sampler.stop()
    wall = max(r["finished_s"] or 0 for r in rows)
    on_worker = [r["on_worker_s"] for r in rows if r["on_worker_s"] is not None]
    overhead = [r["on_worker_s"] - r["time_limit_s"] for r in rows if r["on_worker_s"] is not None]
    result = {
        "job_workers": workers,
        "runs": len(rows),
        "ready": sum(1 for r in rows if r["status"] == "ready"),
        "wall_s": wall,
        "on_worker_median_s": statistics.median(on_worker),
        "on_worker_max_s": max(on_worker),
        "overhead_median_s": round(statistics.median(overhead), 2),
        "overhead_max_s": round(max(overhead), 2),
        "time_limit_s": rows[0]["time_limit_s"],
        "workers_seen": sorted({(r["worker"] or "").rsplit(":", 1)[0] for r in rows}),
        "stops_assigned": sum(r["stops_assigned"] or 0 for r in rows),
        "stops_unassigned": sum(r["stops_unassigned"] or 0 for r in rows),
        "cpu_cores": cpu["mean_cores"],
        "loadavg_before": load_before,
        "loadavg_after": stack.loadavg(),
        "quiet_check": quiet,
        "rows": rows,
    }
    log(
        f"wave on {workers} worker(s): {result['ready']}/{len(rows)} ready in {wall:.0f} s; "
        "per run on "
        f"its worker median {result['on_worker_median_s']} s (budget {result['time_limit_s']} s); "
        f"cpu {cpu['mean_cores']}"
    )
    return result


def distance_ratios(base: list[dict[str, Any]], other: list[dict[str, Any]]) -> dict[str, Any]:
    """Plan quality, depot by depot: total distance of ``other``'s plan over ``base``'s (the
    solvers had the same wall-clock budget; sharing the cores may cost them search)."""
    first = {r["depot_id"]: r["distance_m"] for r in base}
    ratios = [r["distance_m"] / first[r["depot_id"]] for r in other if first.get(r["depot_id"])]
    return {
        "depots": len(ratios),
        "median": round(statistics.median(ratios), 4),
        "min": round(min(ratios), 4),
        "max": round(max(ratios), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depots", type=int, default=20)
    parser.add_argument("--stops", type=int, default=500)
    parser.add_argument("--order", default="1,2", help="job-worker counts, in the order run")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database (depots already built)"
    )
    args = parser.parse_args()
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "depots": args.depots,
        "stops_per_depot": args.stops,
        "day": DAY.isoformat(),
        "waves": [],
    }
    if stack.running():
        stack.down()
    if not args.reuse:
        stack.drop_database()
    try:
        for n, workers in enumerate(int(x) for x in args.order.split(",")):
            if stack.running():
                stack.down()
            stack.up(workers=workers)
            factory = stack.session_factory()
            if n == 0:
                result["build"] = build(factory, depots=args.depots, stops=args.stops)
            depot_ids = result["build"]["depot_ids"]
            result["waves"].append(wave(factory, stack.database_url(), depot_ids, workers))
            stack.write_json("prod_scaleout.json", result)
    finally:
        result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        waves = {w["job_workers"]: w for w in result["waves"]}
        if 1 in waves and 2 in waves:
            result["speedup_2_vs_1"] = round(waves[1]["wall_s"] / waves[2]["wall_s"], 3)
            result["distance_2_vs_1"] = distance_ratios(waves[1]["rows"], waves[2]["rows"])
        log("wrote", stack.write_json("prod_scaleout.json", result))
        stack.down()


if __name__ == "__main__":
    main()
