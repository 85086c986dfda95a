"""Production mode under faults (O2), each against `make prod`'s stack with clients running.

    .venv/bin/python -m bench.faults [--only web,db,worker] [--pg-wait-s 900] [--pg-force]

On a fresh database (PROD_DB, default roundtrip_bench; the demo plus bench/planning.py's
1,000-order day and one 100-order depot built as bench/scaleout.py builds them):

- web: 4 clients ask for delivery windows back to back; one gunicorn worker is killed with
  SIGKILL; count the requests that failed and how long the master took to fork a new worker.
- db: 2 clients read an order (customer token), 1 polls /api/v1/health/ready every 0.2 s;
  two planning runs are solving (1,000 and ~300 stops) and a third is queued; PostgreSQL is
  restarted (`pg_ctlcluster <version> main restart`). Downtime seen by the clients, whether
  readiness and requests come back without a hand, whether the three runs end. The cluster
  is shared with other people's tests: this part waits until no other database has a client
  (up to --pg-wait-s) and is skipped if none came, unless --pg-force.
- worker: a 1,000-stop run with a 180 s budget; once it is on a job worker, that worker
  process is killed with SIGKILL; then the run's row, the stack's processes and its log are
  watched: taken over by the other worker (Procrastinate's stalled-job retry), failed with a
  reason by the lease sweep, or neither.
Writes bench/results/prod_faults.json; log lines of prod.log that explain what happened are
kept in it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime
from typing import Any

import requests

from bench import prodstack as stack

ONE_K_DAY = "2030-03-12"


def log(*args: object) -> None:
    print(time.strftime("%H:%M:%S"), *args, flush=True)


class Clients:
    """Threads sending one kind of request back to back; every outcome is kept."""

    def __init__(self, n: int, request, pause_s: float = 0.0) -> None:  # type: ignore[no-untyped-def]
        self.request = request
        self.pause_s = pause_s
        self.outcomes: list[tuple[float, float, str, str]] = []  # start, seconds, result, served by
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(n)]
        self._lock = threading.Lock()

    def start(self) -> Clients:
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.time()
            try:
                r = self.request()
                result = str(r.status_code)
                served = r.headers.get("X-Served-By", "")
            except requests.RequestException as exc:
                result, served = f"error: {type(exc).__name__}: {str(exc)[:120]}", ""
            with self._lock:
                self.outcomes.append((t0, time.time() - t0, result, served))
            if self.pause_s:
                time.sleep(self.pause_s)

    def summary(self, since: float | None = None) -> dict[str, Any]:
        rows = [o for o in self.outcomes if since is None or o[0] >= since]
        counts: dict[str, int] = {}
        for o in rows:
            counts[o[2]] = counts.get(o[2], 0) + 1
        bad = [o for o in rows if o[2] != "200"]
        return {
            "requests": len(rows),
            "by_result": counts,
            "failed": len(bad),
            "failed_samples": [
                {
                    "at": datetime.fromtimestamp(o[0], UTC).isoformat(timespec="milliseconds"),
                    "s": round(o[1], 3),
                    "result": o[2],
                }
                for o in bad[:20]
            ],
            "first_failure_at": bad[0][0] if bad else None,
            "last_failure_at": bad[-1][0] + bad[-1][1] if bad else None,
        }


def prep() -> dict[str, Any]:
    from sqlalchemy import select

    from app import demo
    from app.accounts import services as account_services
    from app.accounts.models import User
    from app.customers.models import Customer
    from app.db import session_scope, utcnow
    from app.fleet.models import Depot
    from app.orders.models import Order
    from bench import planning as planning_bench
    from bench import scaleout

    factory = stack.session_factory()
    planning_bench.seed(factory, random.Random(7))
    small = scaleout.build(factory, depots=1, stops=100)["depot_ids"][0]
    with session_scope(factory) as s:
        demo_depot = s.scalar(select(Depot).where(Depot.code == demo.DEPOT_CODE))
        one_k = s.scalar(select(Depot.id).where(Depot.code == "BENCH"))
        demo_day = s.scalar(
            select(Order.delivery_day).where(Order.depot_id == demo_depot.id).limit(1)
        )
        customer = s.scalar(select(Customer).where(Customer.user_id.is_not(None)))
        order_id = s.scalar(select(Order.id).where(Order.customer_id == customer.id).limit(1))
        user = s.get_one(User, customer.user_id)
        token = account_services.issue_api_token(s, user=user, label="faults", now=utcnow()).secret
    dispatcher = next(d for d in demo.LOGINS if d.role == "dispatcher")
    return {
        "demo_depot_id": demo_depot.id,
        "demo_day": demo_day.isoformat(),
        "one_k_depot_id": one_k,
        "small_depot_id": small,
        "small_day": scaleout.DAY.isoformat(),
        "customer_token": token,
        "order_id": order_id,
        "api": stack.Api(stack.api_token(dispatcher.email, dispatcher.password)),
    }


def windows_request(depot_id: int):  # type: ignore[no-untyped-def]
    def request() -> requests.Response:
        return requests.get(
            f"{stack.BASE}/api/v1/delivery-windows",
            params={
                "lat": 55.75 + random.uniform(-0.05, 0.05),
                "lon": 37.6 + random.uniform(-0.1, 0.1),
                "depot_id": depot_id,
                "items": "KET-200:1",
            },
            timeout=30,
        )

    return request


# --- web: kill -9 a gunicorn worker ----------------------------------------------------------


def fault_web(ctx: dict[str, Any], kills: int = 5, every_s: float = 8.0) -> dict[str, Any]:
    """SIGKILL a gunicorn worker ``kills`` times (a different one each time) while 4 clients
    ask for delivery windows back to back (3 sync workers: nearly always all busy)."""
    stack.wait_quiet(log=log)
    clients = Clients(4, windows_request(ctx["demo_depot_id"])).start()
    time.sleep(5)
    events = []
    for n in range(kills):
        before = stack.pids_of("gunicorn workers")
        victim = before[n % len(before)]
        t_kill = time.time()
        os.kill(victim, signal.SIGKILL)
        respawned_s = None
        while time.time() - t_kill < every_s:
            new = [p for p in stack.pids_of("gunicorn workers") if p not in before]
            if new and respawned_s is None:
                respawned_s = round(time.time() - t_kill, 2)
            time.sleep(0.05)
        in_flight = [o for o in clients.outcomes if o[0] < t_kill < o[0] + o[1]]
        failed = [
            o
            for o in clients.outcomes
            if t_kill - 1 < o[0] + o[1] and o[0] < t_kill + 2 and o[2] != "200"
        ]
        events.append(
            {
                "killed_pid": victim,
                "workers_before": before,
                "new_worker_after_s": respawned_s,
                "requests_in_flight_at_kill": len(in_flight),
                "failed_around_kill": len(failed),
                "failures": [o[2] for o in failed],
            }
        )
        log(
            f"web: killed gunicorn worker {victim}; {len(in_flight)} requests in flight, "
            f"{len(failed)} failed; "
            f"new worker after {respawned_s} s"
        )
    time.sleep(2)
    clients.stop()
    summary = clients.summary()
    result = {
        "kills": events,
        "clients": 4,
        "seconds": round(clients.outcomes[-1][0] - clients.outcomes[0][0], 1),
        "served_by": sorted({o[3] for o in clients.outcomes if o[3]}),
        **summary,
        "log": stack.log_lines(r"was sent SIGKILL|Booting worker", 2 * kills + 3),
    }
    log(f"web: {summary['failed']} of {summary['requests']} requests failed over {kills} kills")
    return result


# --- db: restart PostgreSQL ------------------------------------------------------------------


def other_clients() -> list[str]:
    rows = stack.psql(
        "SELECT datname || ' ' || count(*) FROM pg_stat_activity WHERE datname IS NOT NULL "
        f"AND datname NOT IN ('{stack.DB}', 'postgres') AND pid <> pg_backend_pid() "
        "GROUP BY datname"
    )
    return [r for r in rows.splitlines() if r.strip()]


def pg_version() -> str:
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    return next(line.split()[0] for line in out.splitlines() if line.split()[1] == "main")


def fault_db(ctx: dict[str, Any], wait_s: float, force: bool) -> dict[str, Any]:
    api: stack.Api = ctx["api"]
    waited = time.monotonic()
    others = other_clients()
    while others and time.monotonic() - waited < wait_s:
        log(f"db: other people's databases have clients ({others}); waiting for a quiet moment")
        time.sleep(10)
        others = other_clients()
    if others and not force:
        return {"skipped": f"other databases kept clients for {wait_s:.0f} s: {others}"}
    result: dict[str, Any] = {
        "others_connected_at_restart": others,
        "waited_for_quiet_s": round(time.monotonic() - waited),
    }
    runs = {
        "solving 1,000 stops": api.start_run(ctx["one_k_depot_id"], ONE_K_DAY, time_limit_s=120)[
            "id"
        ],
        "solving demo day": api.start_run(ctx["demo_depot_id"], ctx["demo_day"], time_limit_s=90)[
            "id"
        ],
    }
    for plan_id in runs.values():
        api.wait(plan_id, until="claimed", timeout_s=60)
    runs["queued 100 stops"] = api.start_run(
        ctx["small_depot_id"], ctx["small_day"], time_limit_s=20
    )["id"]
    time.sleep(2)
    states_before = {k: api.run(v) for k, v in runs.items()}
    token = ctx["customer_token"]
    readers = Clients(
        2,
        lambda: requests.get(
            f"{stack.BASE}/api/v1/orders/{ctx['order_id']}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ),
    ).start()
    ready = Clients(
        1, lambda: requests.get(f"{stack.BASE}/api/v1/health/ready", timeout=30), pause_s=0.2
    ).start()
    procs_before = stack.roles()
    time.sleep(5)
    version = pg_version()
    t0 = time.time()
    log(f"db: pg_ctlcluster {version} main restart")
    subprocess.run(["pg_ctlcluster", version, "main", "restart"], check=True)
    t1 = time.time()
    log(f"db: restart took {t1 - t0:.1f} s")
    time.sleep(30)
    readers.stop()
    ready.stop()
    procs_after = stack.roles()

    # Downtime as clients saw it: first failure to the first success after the last failure.
    def downtime(c: Clients) -> dict[str, Any]:
        s = c.summary(since=t0 - 5)
        recovered = None
        if s["failed"]:
            after = [o for o in c.outcomes if o[0] >= s["last_failure_at"] and o[2] == "200"]
            recovered = after[0][0] + after[0][1] if after else None
        return {
            **{k: v for k, v in s.items() if k not in ("first_failure_at", "last_failure_at")},
            "failures_from_s": round(s["first_failure_at"] - t0, 2) if s["failed"] else None,
            "back_to_200_s": round(recovered - t0, 2) if recovered else None,
            "downtime_s": round(recovered - s["first_failure_at"], 2)
            if recovered and s["failed"]
            else (0.0 if not s["failed"] else None),
        }

    result.update(
        pg_restart_s=round(t1 - t0, 2),
        readers=downtime(readers),
        readiness=downtime(ready),
        stack_alive_after=stack.running(),
        processes_same=sorted(procs_before) == sorted(procs_after),
        process_changes={
            "gone": sorted(set(procs_before) - set(procs_after)),
            "new": sorted(set(procs_after) - set(procs_before)),
        },
        runs_before=states_before,
    )
    # Do the runs end? (the queued one must be taken up once a worker is free). Read from
    # the database: the site itself may be gone.
    deadline = time.monotonic() + 300
    rows: dict[str, Any] = {}
    stack_stopped_s = None
    while time.monotonic() < deadline:
        rows = {k: plan_row(v) for k, v in runs.items()}
        if stack_stopped_s is None and not stack.running():
            stack_stopped_s = round(time.time() - t0, 1)
            log(f"db: the stack stopped {stack_stopped_s} s after the restart began")
        if all(r["status"] != "solving" for r in rows.values()) or stack_stopped_s is not None:
            break
        time.sleep(2)
    result["stack_stopped_s_after_restart"] = stack_stopped_s
    result["runs_after"] = {
        k: {"id": runs[k], **{f: str(r[f]) for f in ("status", "worker", "error", "finished_at")}}
        for k, r in rows.items()
    }
    result["runs_checked_s_after_restart"] = round(time.time() - t0, 1)
    result["log"] = stack.log_lines(
        r"(?i)side task|stop requested|waiting for job|stopped worker|stopped \(rc|sending SIG"
        r"|unhandled error|lost its worker",
        60,
    )
    log(
        f"db: readers {result['readers']['failed']} failed, downtime "
        f"{result['readers']['downtime_s']} s; "
        f"ready downtime {result['readiness']['downtime_s']} s; "
        f"runs {[(k, r['status']) for k, r in rows.items()]}; "
        f"stack stopped after {stack_stopped_s} s"
    )
    return result


# --- worker: kill -9 a job worker during a solve ---------------------------------------------


def plan_row(plan_id: int) -> dict[str, Any]:
    from app.db import session_scope
    from app.planning.models import Plan

    with session_scope(stack.session_factory()) as s:
        p = s.get_one(Plan, plan_id)
        return {
            "status": p.status,
            "worker": p.worker,
            "error": p.error,
            "lease_expires_at": p.lease_expires_at,
            "started_at": p.started_at,
            "finished_at": p.finished_at,
        }


def fault_worker(ctx: dict[str, Any]) -> dict[str, Any]:
    api: stack.Api = ctx["api"]
    run = api.start_run(ctx["one_k_depot_id"], ONE_K_DAY, time_limit_s=180)
    api.wait(run["id"], until="claimed", timeout_s=60)
    time.sleep(5)
    row = plan_row(run["id"])
    victim = int(row["worker"].split(":")[1])
    job_workers = stack.pids_of("job workers")
    assert victim in job_workers, (
        f"worker {victim} is not one of this stack's job workers {job_workers}"
    )
    t_kill = time.time()
    os.kill(victim, signal.SIGKILL)
    log(
        f"worker: killed job worker {victim} solving run {run['id']} "
        f"(job workers were {job_workers})"
    )
    timeline = []
    stack_down_at = None
    resolved = None
    while time.time() - t_kill < 240:
        row = plan_row(run["id"])
        alive = stack.running()
        try:
            live = requests.get(f"{stack.BASE}/api/v1/health/live", timeout=5).status_code
        except requests.RequestException:
            live = None
        timeline.append(
            {
                "t_s": round(time.time() - t_kill, 1),
                "status": row["status"],
                "worker": row["worker"],
                "stack_running": alive,
                "live": live,
                "job_workers": stack.pids_of("job workers"),
            }
        )
        if not alive and stack_down_at is None:
            stack_down_at = round(time.time() - t_kill, 1)
            log(f"worker: the whole stack stopped {stack_down_at} s after the kill")
        if row["status"] != "solving" or (row["worker"] and str(victim) not in row["worker"]):
            resolved = round(time.time() - t_kill, 1)
            break
        if stack_down_at is not None and time.time() - t_kill > stack_down_at + 10:
            break
        time.sleep(1)
    result: dict[str, Any] = {
        "plan_id": run["id"],
        "killed_pid": victim,
        "job_workers_before": job_workers,
        "stack_stopped_after_s": stack_down_at,
        "resolved_after_s": resolved,
        "row_at_end": {k: str(v) for k, v in row.items()},
        "timeline": timeline[:: max(1, len(timeline) // 40)],
        "log": stack.log_lines(
            rf"{victim}|stopped \(rc|sending SIG|received|lost its worker|lease"
            rf"|plan {run['id']}|abandon",
            40,
        ),
    }
    if resolved is None and stack_down_at is not None:
        # The operator's hand: start the stack again and see what becomes of the run.
        stack.down()
        t_up = time.time()
        stack.up(workers=2)
        while time.time() - t_up < 300:
            row = plan_row(run["id"])
            if row["status"] != "solving" or (row["worker"] and str(victim) not in row["worker"]):
                break  # failed by a sweep, or taken over by a new worker
            time.sleep(1)
        result["after_manual_restart"] = {
            "restart_at_s": round(t_up - t_kill, 1),
            "resolved_after_restart_s": round(time.time() - t_up, 1),
            "row": {k: str(v) for k, v in row.items()},
            "log": stack.log_lines(
                rf"lost its worker|abandon|plan {run['id']}|planning run {run['id']}|marked failed",
                20,
            ),
        }
        if row["status"] != "solving" or str(victim) not in (row["worker"] or ""):
            result["resolved_after_s"] = round(time.time() - t_kill, 1)
            result["how"] = "failed" if row["status"] == "failed" else "taken over"
            # A run taken over is solved again from the start: see that it ends.
            final = api.wait(run["id"], timeout_s=900)
            result["final_state"] = {k: final.get(k) for k in ("status", "error", "stops_assigned")}
            result["ended_after_s"] = round(time.time() - t_kill, 1)
    elif resolved is None:
        result["stuck"] = True
    else:
        result["how"] = "failed" if row["status"] == "failed" else "taken over"
    if result.get("how") == "taken over" and "final_state" not in result:
        # A run taken over is solved again from the start: see that it ends.
        final = api.wait(run["id"], timeout_s=900)
        result["final_state"] = {k: final.get(k) for k in ("status", "error", "stops_assigned")}
        result["ended_after_s"] = round(time.time() - t_kill, 1)
    log(
        f"worker: run {run['id']} -> {row['status']} ({row['error']}); "
        f"resolved after {result['resolved_after_s']} s"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="web,db,worker")
    parser.add_argument("--pg-wait-s", type=float, default=900)
    parser.add_argument("--pg-force", action="store_true")
    args = parser.parse_args()
    which = args.only.split(",")
    # Parts run separately (--only) are merged into the same file.
    path = stack.RESULTS / "prod_faults.json"
    result: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if stack.running():
        stack.down()
    stack.drop_database()
    stack.up(workers=2)
    try:
        ctx = prep()
        parts = {
            "web": lambda: fault_web(ctx),
            "db": lambda: fault_db(ctx, args.pg_wait_s, args.pg_force),
            "worker": lambda: fault_worker(ctx),
        }
        for name in which:  # in the order given
            run = parts[name]
            if not stack.running():
                log(f"{name}: the stack is down; starting it again")
                stack.down()
                stack.up(workers=2)
            load_before = stack.loadavg()
            started = datetime.now(UTC).isoformat(timespec="seconds")
            result[name] = {"started_at": started, **run()}
            result[name]["loadavg_before"] = load_before
            result[name]["loadavg_after"] = stack.loadavg()
            stack.write_json("prod_faults.json", result)
    finally:
        log("wrote", stack.write_json("prod_faults.json", result))
        stack.down()


if __name__ == "__main__":
    main()
