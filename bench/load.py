"""Production mode under load (O2): locust, headless, against `make prod`'s stack while a
1,000-stop planning run keeps a job worker busy.

    .venv/bin/python -m bench.load all [--levels 10,20,40,60,80] [--step-s 60] [--hold-s 600]

``all`` = a fresh database (PROD_DB, default roundtrip_bench), `make prod` on PROD_PORT
(8100) with PROD_DIR (/tmp/rt-bench), ``prep``, the steps, the hold at the highest level that
passed, `make prod-down`. ``prep``, ``step`` and ``hold`` can be run alone against a stack
already up. Writes bench/results/prod_load.json.

- prep: the demo day (Moscow depot, ~300 orders, 12 couriers) planned and published through
  the API; a second depot with a 1,000-order day (bench/planning.py's builder, 2030-03-12);
  30 customer accounts linked to demo customers with orders (app services) and their API
  tokens. Credentials go to PROD_DIR/bench-creds.json for bench/locustfile.py.
- a level is C customers (1 request/s each), C/10 portal customers (0.5/s), C/5 couriers
  (2 requests every 4 s) and C/10 dispatchers (0.5/s): about 1.2 x C requests/s offered.
- each run: wait until others' work keeps under 0.5 core busy (OTHERS_LIMIT), start a
  1,000-stop planning run
  through the API (it must be on a job worker before locust starts), run locust, sample CPU by
  process group every second from /proc, cancel the run, read locust's per-route CSV.
- a step that fails while others averaged more than OTHERS_LIMIT is measured again (twice
  at most); the steps stop at the first level that fails.
- a level passes when promise (delivery-windows) and tracking (order read, portal) have
  p95 < 100 ms and no request failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import prodstack as stack

CREDS = stack.DIR / "bench-creds.json"
CUSTOMER_ACCOUNTS = 30
CUSTOMER_PASSWORD = "bench-customer-1"
P95_LIMIT_MS = 100
ONE_K_DAY = "2030-03-12"
# Others' work (the machine is shared) must keep under this many cores busy when a
# measurement starts; a failed step during which it averaged more is measured again.
OTHERS_LIMIT = 0.5
RETRIES = 2


def log(*args: object) -> None:
    print(time.strftime("%H:%M:%S"), *args, flush=True)


# --- preparation -----------------------------------------------------------------------------


def reports_open_tomorrow() -> bool:
    """Would couriers' reports for the demo's usual day (tomorrow, Moscow) be taken now?"""
    from app import demo
    from app.planning.days import day_span

    tz = ZoneInfo(demo.TIMEZONE)
    now = datetime.now(UTC)
    tomorrow = (now.astimezone(tz) + timedelta(days=1)).date()
    return day_span(tz, tomorrow, timedelta(hours=4)).contains(now)


def prep() -> dict[str, Any]:
    from sqlalchemy import func, select

    from app import demo
    from app.accounts import services as account_services
    from app.accounts.models import Role, User
    from app.catalog.models import Product
    from app.customers.models import Customer
    from app.db import session_scope, utcnow
    from app.fleet.models import Depot
    from app.orders.models import Order
    from app.planning.days import day_span
    from bench import planning as planning_bench

    factory = stack.session_factory()
    with session_scope(factory) as s:
        depot = s.scalar(select(Depot).where(Depot.code == demo.DEPOT_CODE))
        assert depot is not None, "the demo is not loaded"
        demo_depot_id = depot.id
        demo_day = s.scalar(select(func.min(Order.delivery_day)).where(Order.depot_id == depot.id))
        span = day_span(ZoneInfo(depot.timezone), demo_day, timedelta(hours=4))
        now = utcnow()
        if not span.contains(now):
            raise SystemExit(
                f"couriers can report stops of {demo_day} only {span.opens_at:%Y-%m-%d %H:%M}Z.."
                f"{span.closes_at:%Y-%m-%d %H:%M}Z (ROUNDTRIP_REPORT_MARGIN_H=4); "
                f"now is {now:%H:%M}Z. "
                "Load the demo into a fresh database less than 20 hours before its day starts "
                "(Moscow time), i.e. run this from 17:00 UTC on."
            )
        if s.scalar(select(Depot).where(Depot.code == "BENCH")) is None:
            log("seeding the 1,000-order day (bench/planning.py's builder)")
            planning_bench.seed(factory, random.Random(7))
        one_k = s.scalar(select(Depot.id).where(Depot.code == "BENCH"))
        skus = list(s.scalars(select(Product.sku).where(Product.sku.not_like("P_"))))
        # Customers with orders on the demo day get accounts of their own (app services).
        customers = s.scalars(
            select(Customer)
            .join(Order, Order.customer_id == Customer.id)
            .where(Order.depot_id == demo_depot_id, Customer.user_id.is_(None))
            .group_by(Customer.id)
            .order_by(Customer.id)
            .limit(CUSTOMER_ACCOUNTS)
        ).all()
        accounts = []
        for n, customer in enumerate(customers):
            email = f"bench-customer{n + 1}@roundtrip.bench"
            user = s.scalar(
                select(User).where(User.email == email)
            ) or account_services.create_user(
                s, email=email, name=customer.name, role=Role.CUSTOMER, password=CUSTOMER_PASSWORD
            )
            customer.user_id = user.id
            token = account_services.issue_api_token(s, user=user, label="bench", now=now).secret
            order_ids = list(s.scalars(select(Order.id).where(Order.customer_id == customer.id)))
            accounts.append(
                {
                    "email": email,
                    "password": CUSTOMER_PASSWORD,
                    "token": token,
                    "order_ids": order_ids,
                }
            )
    dispatcher = next(d for d in demo.LOGINS if d.role == "dispatcher")
    token = stack.api_token(dispatcher.email, dispatcher.password)
    api = stack.Api(token)
    log(f"planning the demo day {demo_day} through the API")
    started = time.monotonic()
    run = api.start_run(demo_depot_id, demo_day.isoformat())
    state = api.wait(run["id"])
    demo_solve_s = time.monotonic() - started
    if state["status"] != "ready":
        raise SystemExit(f"the demo day's run ended {state}")
    api.publish(run["id"])
    log(
        f"published plan {run['id']}: {state['stops_assigned']} stops routed, "
        f"{state['stops_unassigned']} not"
    )
    creds = {
        "host": stack.BASE,
        "demo_depot_id": demo_depot_id,
        "demo_day": demo_day.isoformat(),
        "published_plan_id": run["id"],
        "one_k_depot_id": one_k,
        "one_k_day": ONE_K_DAY,
        "skus": skus,
        "places": [(lat, lon) for _street, lat, lon in demo.PLACES],
        "customers": accounts,
        "couriers": [
            {"email": f"courier{i}@roundtrip.demo", "password": demo.COURIER_PASSWORD}
            for i in range(1, 13)
        ],
        "dispatcher": {"email": dispatcher.email, "password": dispatcher.password, "token": token},
        "solving_plan_id": None,
        "demo_run": {"wall_s": round(demo_solve_s, 1), **state},
    }
    CREDS.write_text(json.dumps(creds, indent=2, default=str))
    # Warm every web worker's promise index (built once per plan and process).
    import requests

    for _ in range(12):
        lat, lon = creds["places"][0]
        requests.get(
            f"{stack.BASE}/api/v1/delivery-windows",
            params={"lat": lat, "lon": lon, "depot_id": demo_depot_id, "items": f"{skus[0]}:1"},
            timeout=30,
        )
    return creds


# --- one locust run --------------------------------------------------------------------------


def users_for(level: int) -> dict[str, int]:
    return {
        "BENCH_CUSTOMERS": level,
        "BENCH_PORTAL": max(1, math.ceil(level / 10)),
        "BENCH_COURIERS": max(1, math.ceil(level / 5)),
        "BENCH_DISPATCHERS": max(1, math.ceil(level / 10)),
    }


def offered_rps(users: dict[str, int]) -> float:
    return (
        users["BENCH_CUSTOMERS"] * 1.0
        + users["BENCH_PORTAL"] * 0.5
        + users["BENCH_COURIERS"] * 0.5
        + users["BENCH_DISPATCHERS"] * 0.5
    )


def read_stats(prefix: Path) -> dict[str, Any]:
    with open(f"{prefix}_stats.csv") as f:
        rows = list(csv.DictReader(f))
    routes = {}
    for row in rows:
        name = row["Name"]
        routes[name] = {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rps": round(float(row["Requests/s"]), 2),
            "p50_ms": float(row["50%"] or 0),
            "p95_ms": float(row["95%"] or 0),
            "p99_ms": float(row["99%"] or 0),
            "max_ms": round(float(row["Max Response Time"] or 0), 1),
        }
    with open(f"{prefix}_failures.csv") as f:
        failures = list(csv.DictReader(f))
    return {"routes": routes, "failures": failures}


def ensure_solving(api: stack.Api, creds: dict[str, Any], seconds: int) -> dict[str, Any]:
    """A 1,000-stop run on a job worker for the whole measurement."""
    run = api.start_run(creds["one_k_depot_id"], ONE_K_DAY, time_limit_s=min(600, seconds))
    state = api.wait(run["id"], until="claimed", timeout_s=120)
    # It is on a worker; give it a few seconds to build its matrix and start searching.
    time.sleep(3)
    creds["solving_plan_id"] = run["id"]
    CREDS.write_text(json.dumps(creds, indent=2, default=str))
    return {"plan_id": run["id"], "claimed": state}


def measure(
    level: int, duration_s: int, tag: str, creds: dict[str, Any], api: stack.Api
) -> dict[str, Any]:
    users = users_for(level)
    total = sum(users.values())
    quiet = stack.wait_quiet(limit=OTHERS_LIMIT, log=log)
    solver = ensure_solving(api, creds, duration_s + 40)
    out_dir = stack.DIR / "locust"
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / tag
    env = {**stack.stack_env(), **{k: str(v) for k, v in users.items()}, "BENCH_CREDS": str(CREDS)}
    cmd = [
        str(stack.ROOT / ".venv" / "bin" / "locust"),
        "-f",
        str(stack.ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(total),
        "-r",
        str(max(1, math.ceil(total / 5))),
        "--run-time",
        f"{duration_s}s",
        "--host",
        stack.BASE,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "5",
    ]
    load_before = stack.loadavg()
    log(
        f"{tag}: level {level} ({users}, ~{offered_rps(users):.0f} req/s offered), "
        f"load {load_before}"
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    sampler = stack.CpuSampler(every_s=1.0, extra={"locust (load generator)": proc.pid}).start()
    time.sleep(min(30, duration_s / 2))
    top = stack.top_snapshot()
    output, _ = proc.communicate()
    wall = time.monotonic() - started
    cpu = sampler.stop()
    load_after = stack.loadavg()
    run_state = api.run(solver["plan_id"])
    api.cancel(solver["plan_id"])
    creds["solving_plan_id"] = None
    CREDS.write_text(json.dumps(creds, indent=2, default=str))
    stats = read_stats(prefix)
    routes = stats["routes"]
    key = {n: r for n, r in routes.items() if n.startswith(("promise:", "tracking:"))}
    failures = sum(r["failures"] for n, r in routes.items() if n != "Aggregated")
    aggregated = routes.get("Aggregated", {})
    passed = failures == 0 and all(r["p95_ms"] < P95_LIMIT_MS for r in key.values())
    result = {
        "tag": tag,
        "level": level,
        "users": users,
        "offered_rps": offered_rps(users),
        "duration_s": duration_s,
        "wall_s": round(wall, 1),
        "throughput_rps": aggregated.get("rps"),
        "requests": aggregated.get("requests"),
        "failures": failures,
        "passed": passed,
        "routes": routes,
        "failure_rows": stats["failures"],
        "cpu_cores": cpu["mean_cores"],
        "cpu_samples": cpu["samples"],
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "quiet_check": quiet,
        "solver": {"plan_id": solver["plan_id"], "state_at_end": run_state},
        "top_midway": top.splitlines()[:25],
        "locust_output_tail": output.splitlines()[-40:],
    }
    log(
        f"{tag}: {aggregated.get('rps')} req/s, failures {failures}, "
        + ", ".join(
            f"{n.split(':')[0]} {n.split()[-1][-20:]} p95 {r['p95_ms']:.0f}" for n, r in key.items()
        )
        + f"; cpu {cpu['mean_cores']}; passed={passed}"
    )
    return result


def steps(
    levels: list[int], duration_s: int, creds: dict[str, Any], api: stack.Api
) -> list[dict[str, Any]]:
    """Step the level up until one fails; a failure while others' work kept more than
    OTHERS_LIMIT cores busy on average is measured again (at most RETRIES times)."""
    found = []
    for level in levels:
        for attempt in range(RETRIES + 1):
            result = measure(level, duration_s, f"step-{level}", creds, api)
            result["attempt"] = attempt + 1
            found.append(result)
            noisy = result["cpu_cores"].get("others", 0) > OTHERS_LIMIT
            if result["passed"] or not noisy:
                break
            log(
                f"step-{level} failed while others kept {result['cpu_cores']['others']} "
                "cores busy; again"
            )
        if not result["passed"]:
            break
        time.sleep(5)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("all", "prep", "step", "hold"))
    parser.add_argument("--levels", default="10,20,40,60,80,100,120")
    parser.add_argument("--step-s", type=int, default=60)
    parser.add_argument("--hold-s", type=int, default=600)
    parser.add_argument("--level", type=int, help="hold: the level to hold")
    parser.add_argument("--keep", action="store_true", help="all: leave the stack up afterwards")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": stack.os.cpu_count()},
        "stack": {
            "port": stack.PORT,
            "db": stack.DB,
            "dir": str(stack.DIR),
            "job_workers": 2,
            "gunicorn_workers": 3,
        },
        "criterion": f"promise and tracking p95 < {P95_LIMIT_MS} ms, 0 failed requests",
    }
    if args.what == "all":
        if stack.running():
            stack.down()
        stack.drop_database()
        if not reports_open_tomorrow():
            # Couriers report tomorrow's stops only from 4 h before it starts: before then,
            # the demo goes on today (Moscow), whose reports are open.
            log("courier reports for tomorrow are not open yet: the demo goes on today")
            stack.preload_demo(timedelta(days=-1))
            result["demo_on_today"] = True
        result["stack_up_s"] = round(stack.up(workers=2), 1)
    try:
        creds = prep() if args.what in ("all", "prep") else json.loads(CREDS.read_text())
        result["prep"] = {
            "demo_day": creds["demo_day"],
            "published_plan_id": creds["published_plan_id"],
            "demo_run": creds["demo_run"],
            "customer_accounts": len(creds["customers"]),
        }
        api = stack.Api(creds["dispatcher"]["token"])
        if args.what in ("all", "step"):
            result["steps"] = steps(levels, args.step_s, creds, api)
            passed = [r["level"] for r in result["steps"] if r["passed"]]
            result["highest_passing_level"] = max(passed) if passed else None
        if args.what == "hold" or (args.what == "all" and result.get("highest_passing_level")):
            level = args.level or result["highest_passing_level"]
            result["hold"] = measure(level, args.hold_s, f"hold-{level}", creds, api)
    finally:
        result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        name = "prod_load.json" if args.what == "all" else f"prod_load_{args.what}.json"
        if args.what != "prep":
            log("wrote", stack.write_json(name, result))
        if args.what == "all" and not args.keep:
            stack.down()


if __name__ == "__main__":
    sys.exit(main())
