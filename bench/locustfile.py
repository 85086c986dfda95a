"""Locust users of the production-mode load benchmark (run by bench/load.py, headless).

    BENCH_CREDS=/tmp/rt-bench/bench-creds.json BENCH_CUSTOMERS=40 BENCH_PORTAL=4 \
    BENCH_COURIERS=8 BENCH_DISPATCHERS=4 .venv/bin/locust -f bench/locustfile.py --headless \
    -u 56 -r 20 --run-time 60s --host http://127.0.0.1:8100

Who does what (each user pauses a random, exponentially distributed time between tasks with
the mean given, so the offered rate is known and arrivals are not synchronised):
- Customer (a request every 1 s): the checkout's promise, ``GET /api/v1/delivery-windows`` for a
  random Moscow address and basket (3 in 5), or the "tracking" stand-in, ``GET
  /api/v1/orders/{id}`` of one of their orders with their API token (2 in 5). There is no
  customer tracking page yet; the order read is what it will show.
- PortalCustomer (every 2 s): the customer's own pages, ``GET /portal/`` (session sign-in).
- Courier (a round every 4 s, 2 requests): their phone page ``GET /courier/``, then
  "arrived" on a stop of their published route (``POST /courier/visits/{id}/report``). Arrived
  may be reported again (it keeps the first time), so the post is repeatable; the answer is
  a 303/302 to the page with ``#visit-{id}`` when it was recorded, without it when refused
  (counted as a failure).
- Dispatcher (every 2 s): the day's board, the published plan's page, a solving run's status
  (the page's JSON and the API).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import urllib.parse
from pathlib import Path

from locust import FastHttpUser, task
from locust.exception import StopUser

CREDS = json.loads(
    Path(os.environ.get("BENCH_CREDS", "/tmp/rt-bench/bench-creds.json")).read_text()
)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VISIT = re.compile(r'action="/courier/visits/(\d+)/report"')
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_counters = {name: itertools.count() for name in ("customer", "portal", "courier", "dispatcher")}


def poisson(per_s: float):  # type: ignore[no-untyped-def]
    """Exponential pauses: together the users' requests arrive as a Poisson stream, not in
    the lock-step bursts that a constant pace started at one moment keeps up."""

    def wait(_user: FastHttpUser) -> float:
        return random.expovariate(per_s)

    return wait


def _n(name: str) -> int:
    return int(os.environ.get(name, "0"))


def sign_in(user: FastHttpUser, email: str, password: str) -> None:
    page = user.client.get("/login", name="setup: GET /login")
    match = CSRF.search(page.text or "")
    if match is None:
        raise StopUser()
    body = urllib.parse.urlencode(
        {"csrf_token": match.group(1), "email": email, "password": password}
    )
    with user.client.post(
        "/login",
        data=body,
        headers=FORM,
        name="setup: POST /login",
        allow_redirects=False,
        catch_response=True,
    ) as r:
        if r.status_code != 302:
            r.failure(f"sign-in of {email}: {r.status_code}")
            raise StopUser()
        r.success()


class Customer(FastHttpUser):
    fixed_count = _n("BENCH_CUSTOMERS")
    wait_time = poisson(1.0)

    def on_start(self) -> None:
        accounts = CREDS["customers"]
        self.account = accounts[next(_counters["customer"]) % len(accounts)]
        self.headers = {"Authorization": f"Bearer {self.account['token']}"}

    @task(3)
    def promise(self) -> None:
        lat, lon = random.choice(CREDS["places"])
        sku = random.choice(CREDS["skus"])
        query = urllib.parse.urlencode(
            {
                "lat": round(lat + random.uniform(-0.006, 0.006), 6),
                "lon": round(lon + random.uniform(-0.011, 0.011), 6),
                "items": f"{sku}:{random.choice((1, 1, 2))}",
                "depot_id": CREDS["demo_depot_id"],
            }
        )
        self.client.get(
            f"/api/v1/delivery-windows?{query}", name="promise: GET /api/v1/delivery-windows"
        )

    @task(2)
    def tracking(self) -> None:
        order_id = random.choice(self.account["order_ids"])
        self.client.get(
            f"/api/v1/orders/{order_id}",
            headers=self.headers,
            name="tracking: GET /api/v1/orders/{id}",
        )


class PortalCustomer(FastHttpUser):
    fixed_count = _n("BENCH_PORTAL")
    wait_time = poisson(0.5)

    def on_start(self) -> None:
        accounts = CREDS["customers"]
        account = accounts[next(_counters["portal"]) % len(accounts)]
        sign_in(self, account["email"], account["password"])

    @task
    def portal(self) -> None:
        self.client.get("/portal/", name="tracking: GET /portal/")


class Courier(FastHttpUser):
    fixed_count = _n("BENCH_COURIERS")
    wait_time = poisson(0.25)

    def on_start(self) -> None:
        couriers = CREDS["couriers"]
        account = couriers[next(_counters["courier"]) % len(couriers)]
        sign_in(self, account["email"], account["password"])

    @task
    def round(self) -> None:
        page = self.client.get("/courier/", name="courier: GET /courier/")
        text = page.text or ""
        token = CSRF.search(text)
        visits = VISIT.findall(text)
        if token is None or not visits:
            return
        visit = random.choice(visits)
        body = urllib.parse.urlencode({"csrf_token": token.group(1), "report": "arrived"})
        with self.client.post(
            f"/courier/visits/{visit}/report",
            data=body,
            headers=FORM,
            allow_redirects=False,
            name="courier: POST /courier/visits/{id}/report arrived",
            catch_response=True,
        ) as r:
            if r.status_code in (302, 303) and f"#visit-{visit}" in (
                r.headers.get("Location") or ""
            ):
                r.success()
            else:
                r.failure(f"report refused: {r.status_code} {r.headers.get('Location')}")


class Dispatcher(FastHttpUser):
    fixed_count = _n("BENCH_DISPATCHERS")
    wait_time = poisson(0.5)

    def on_start(self) -> None:
        account = CREDS["dispatcher"]
        next(_counters["dispatcher"])
        sign_in(self, account["email"], account["password"])
        self.api = {"Authorization": f"Bearer {account['token']}"}

    @task(2)
    def board(self) -> None:
        self.client.get(
            f"/dispatcher/?day={CREDS['demo_day']}", name="dispatcher: GET /dispatcher/?day="
        )

    @task(1)
    def plan_page(self) -> None:
        self.client.get(
            f"/dispatcher/plans/{CREDS['published_plan_id']}",
            name="dispatcher: GET /dispatcher/plans/{id}",
        )

    @task(3)
    def run_status(self) -> None:
        plan = CREDS.get("solving_plan_id") or CREDS["published_plan_id"]
        self.client.get(
            f"/dispatcher/plans/{plan}/status", name="dispatcher: GET /dispatcher/plans/{id}/status"
        )

    @task(2)
    def api_run(self) -> None:
        plan = CREDS.get("solving_plan_id") or CREDS["published_plan_id"]
        self.client.get(
            f"/api/v1/planning-runs/{plan}",
            headers=self.api,
            name="dispatcher: GET /api/v1/planning-runs/{id}",
        )
