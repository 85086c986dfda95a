"""The embedded mode (one `roundtrip run` process on SQLite) under concurrent clients: a real
server over HTTP on 127.0.0.1, 20 clients reading and writing at once, and never a 5xx."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from tests.processes import ROUNDTRIP, clock_at, free_port

CLIENTS = 20
REQUESTS_PER_CLIENT = 10
# The servers live on 10 January 2030 (clock_at): the day after next has every window open
# and no plan.
SERVER_CLOCK = datetime(2030, 1, 10, 9, tzinfo=UTC)
DAY = "2030-01-12"
KINDS = ("list_orders", "balance", "create_order", "adjust", "redeem")
ADJUST_POINTS = 5
HTTP_TIMEOUT_S = 60
DEMO_CUSTOMER = "customer@roundtrip.demo"
STARTUP_TIMEOUT_S = 90


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Server:
    """A running `roundtrip run` with demo data, a dispatcher, a support agent and the demo
    customer (who alone may spend their points)."""

    base_url: str
    db_path: Path
    customer_id: int
    address_id: int
    dispatcher: dict[str, str]
    support: dict[str, str]
    customer: dict[str, str]
    order_ids: list[int] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: dict[str, Any] | None = None,
    ) -> Reply:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        for name, value in {**headers, "Content-Type": "application/json"}.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
                return Reply(response.status, dict(response.headers), _json(response.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), _json(error.read()))

    def order_body(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "address_id": self.address_id,
            "delivery_day": DAY,
            "window_start_at": f"{DAY}T08:00:00+03:00",
            "window_end_at": f"{DAY}T10:00:00+03:00",
            "items": [{"sku": "KET-200", "quantity": 2}],
        }

    def adjust(self, key: str, points: int = ADJUST_POINTS) -> Reply:
        return self.call(
            "POST",
            f"/api/v1/customers/{self.customer_id}/points/adjustments",
            {**self.support, "Idempotency-Key": key},
            {"points": points, "reason": "Goodwill during the load test"},
        )

    def redeem(self, key: str, order_id: int) -> Reply:
        return self.call(
            "POST",
            f"/api/v1/customers/{self.customer_id}/points/redemptions",
            {**self.customer, "Idempotency-Key": key},
            {"order_id": order_id, "points": 1},
        )

    def ledger(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [ROUNDTRIP, *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, f"roundtrip {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def _token(env: dict[str, str], email: str, role: str) -> dict[str, str]:
    _cli(env, "users", "create", "--email", email, "--name", role.title(), "--role", role,
         "--password", "load-test-password-1")  # fmt: skip
    return _bearer(_cli(env, "users", "token", email))


def _bearer(cli_output: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {cli_output.strip().splitlines()[-1].strip()}"}


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base_url + "/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:  # the poll interval; readiness is what /api/v1/health says
            process.wait(0.2)
        except subprocess.TimeoutExpired:
            continue
    pytest.fail(f"the server did not answer /api/v1/health in {STARTUP_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`roundtrip run` on a free loopback port with a fresh SQLite database and demo data."""
    home = tmp_path_factory.mktemp("embedded")
    db_path = home / "roundtrip.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "ROUNDTRIP_INSTANCE": str(home),
        "SECRET_KEY": "load-test-secret",
        "ROUNDTRIP_SCHEDULER": "off",
        "ROUNDTRIP_GEOCODER": "none",
        "FLASK_DEBUG": "0",
        **clock_at(SERVER_CLOCK),
    }
    _cli(env, "db", "upgrade")
    _cli(env, "demo", "--quiet")
    dispatcher = _token(env, "load-dispatcher@example.org", "dispatcher")
    support = _token(env, "load-support@example.org", "support")
    customer = _bearer(_cli(env, "users", "token", DEMO_CUSTOMER))
    with sqlite3.connect(db_path) as conn:
        customer_id, address_id = conn.execute(
            "SELECT c.id, min(a.id) FROM customers c JOIN addresses a ON a.customer_id = c.id "
            "JOIN users u ON u.id = c.user_id WHERE u.email = ? GROUP BY c.id",
            (DEMO_CUSTOMER,),
        ).fetchone()
    conn.close()

    port = free_port()
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [ROUNDTRIP, "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base_url, process, log)
        running = Server(base_url, db_path, customer_id, address_id, dispatcher, support, customer)
        for _ in range(4):  # orders the redemptions pay for
            created = running.call("POST", "/api/v1/orders", dispatcher, running.order_body())
            assert created.status == 201, created.body
            running.order_ids.append(created.body["id"])
        yield running
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _one_request(server: Server, kind: str, client: int, n: int) -> list[tuple[str, Reply]]:
    """One request of ``kind``; every third loyalty write is sent twice with its key."""
    if kind == "list_orders":
        return [(kind, server.call("GET", "/api/v1/orders?page_size=20", server.dispatcher))]
    if kind == "balance":
        path = f"/api/v1/customers/{server.customer_id}/points"
        return [(kind, server.call("GET", path, server.support))]
    if kind == "create_order":
        return [
            (kind, server.call("POST", "/api/v1/orders", server.dispatcher, server.order_body()))
        ]
    key = f"load-{client}-{n}-{uuid.uuid4()}"
    order_id = server.order_ids[(client + n) % len(server.order_ids)]

    def send() -> Reply:
        return server.adjust(key) if kind == "adjust" else server.redeem(key, order_id)

    replies = [(kind, send())]
    if n % 3 == 0:
        replies.append((f"{kind}_retry", send()))
    return replies


def _balance_and_sum(server: Server) -> tuple[int, int]:
    with server.ledger() as conn:
        (balance,) = conn.execute(
            "SELECT balance_points FROM loyalty_accounts WHERE customer_id = ?",
            (server.customer_id,),
        ).fetchone()
        (total,) = conn.execute(
            "SELECT coalesce(sum(points), 0) FROM ledger_entries WHERE customer_id = ?",
            (server.customer_id,),
        ).fetchone()
    conn.close()
    return balance, total


@pytest.mark.concurrency
@pytest.mark.slow
def test_twenty_concurrent_clients_get_no_server_errors(server: Server) -> None:
    """20 clients, each sending 10 requests (orders listed and created, balances read, points
    adjusted and redeemed with retries) at once: no 5xx, and the ledger adds up."""
    balance_before, _ = _balance_and_sum(server)
    start = threading.Barrier(CLIENTS)

    def client(i: int) -> list[tuple[str, Reply]]:
        start.wait(30)
        replies: list[tuple[str, Reply]] = []
        for n in range(REQUESTS_PER_CLIENT):
            replies += _one_request(server, KINDS[(i + n) % len(KINDS)], i, n)
        return replies

    began = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        replies = [r for batch in pool.map(client, range(CLIENTS)) for r in batch]
    elapsed = time.monotonic() - began

    tally = Counter((kind, reply.status) for kind, reply in replies)
    print(f"\n{len(replies)} requests in {elapsed:.1f} s: {dict(sorted(tally.items()))}")
    failures = [(kind, r.status, r.body) for kind, r in replies if r.status >= 500]
    assert failures == [], f"{len(failures)} of {len(replies)} requests failed: {failures[:3]}"
    expected = {
        "list_orders": 200,
        "balance": 200,
        "create_order": 201,
        "adjust": 201,
        "redeem": 201,
        "adjust_retry": 200,
        "redeem_retry": 200,
    }
    unexpected = [(kind, r.status, r.body) for kind, r in replies if r.status != expected[kind]]
    assert unexpected == []
    assert all(r.headers.get("Idempotent-Replayed") == "true" for k, r in replies if "retry" in k)

    balance_after, total = _balance_and_sum(server)
    assert balance_after == total
    adjusted = tally["adjust", 201] * ADJUST_POINTS
    assert balance_after == balance_before + adjusted - tally["redeem", 201]
    api_balance = server.call(
        "GET", f"/api/v1/customers/{server.customer_id}/points", server.support
    )
    assert api_balance.body["balance_points"] == balance_after


@pytest.mark.concurrency
@pytest.mark.slow
@pytest.mark.parametrize("operation", ["adjust", "redeem"])
def test_one_idempotency_key_sent_at_once_is_applied_once(server: Server, operation: str) -> None:
    """20 clients send the same write with the same Idempotency-Key at the same moment: one
    201; the others replay it (200, Idempotent-Replayed) or hear it is in progress (409)."""
    key = f"same-{uuid.uuid4()}"
    start = threading.Barrier(CLIENTS)

    def send(_: int) -> Reply:
        start.wait(30)
        if operation == "adjust":
            return server.adjust(key)
        return server.redeem(key, server.order_ids[0])

    with ThreadPoolExecutor(CLIENTS) as pool:
        replies = list(pool.map(send, range(CLIENTS)))

    statuses = Counter(r.status for r in replies)
    assert statuses[201] == 1, statuses
    others = [r for r in replies if r.status != 201]
    assert all(
        (r.status == 200 and r.headers.get("Idempotent-Replayed") == "true") or r.status == 409
        for r in others
    ), statuses
    first = next(r for r in replies if r.status == 201).body
    assert all(r.body["id"] == first["id"] for r in others if r.status == 200)
    with server.ledger() as conn:
        (written,) = conn.execute(
            "SELECT count(*) FROM ledger_entries WHERE idempotency_key = ?",
            (f"api:{server.customer_id}:{operation}:{key}",),
        ).fetchone()
    conn.close()
    assert written == 1
    balance, total = _balance_and_sum(server)
    assert balance == total


@pytest.mark.parametrize("path", ["/api/v1/_busy", "/_busy"])
def test_lock_contention_is_a_503_with_retry_after(app: Flask, path: str) -> None:
    """When the database gives up waiting for a lock the answer is 503 with Retry-After:
    problem+json for the API, a page for people; never a 500."""

    def busy() -> str:
        locked = sqlite3.OperationalError("database is locked")
        raise OperationalError("BEGIN IMMEDIATE", {}, locked)

    app.add_url_rule(path, "busy", busy)

    response = app.test_client().get(path)

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    if path.startswith("/api/"):
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == 503
    else:
        assert response.mimetype == "text/html"
        assert "try again" in response.get_data(as_text=True)
