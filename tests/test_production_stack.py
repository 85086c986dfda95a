"""`make prod` brings the production stack up on this machine (PostgreSQL, gunicorn with
three workers, two job workers, one scheduler, under honcho); the demo day is planned
through the API on a job worker, its progress read from another web worker; `make
prod-down` stops every process."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import demo
from app.db import make_engine
from tests.conftest import drop_database, postgres_url_or_skip
from tests.processes import clock_at, free_port, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.concurrency]

ROOT = Path(__file__).resolve().parent.parent
# 21:00 in Moscow: the demo is loaded for tomorrow, planned tonight.
EVENING = datetime(2030, 1, 14, 18, tzinfo=UTC)


@pytest.fixture
def stack(tmp_path):  # type: ignore[no-untyped-def]
    """The stack on a free port, its own database and folder; always stopped afterwards."""
    base = make_url(postgres_url_or_skip())
    database = f"{base.database}_prod"
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        drop_database(connection, database)
    admin.dispose()
    port = free_port()
    env = {
        **os.environ,
        **clock_at(EVENING),
        "PROD_PORT": str(port),
        "PROD_DB": database,
        "PROD_DIR": str(tmp_path / "prod"),
    }

    def make(target: str, timeout_s: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "--no-print-directory", target],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )

    up = make("prod", 600)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield f"http://127.0.0.1:{port}", base.set(database=database), env
    finally:
        down = make("prod-down", 120)
        log = tmp_path / "prod" / "prod.log"
        print(log.read_text() if log.exists() else "(no log)")  # shown when the test fails
        assert down.returncode == 0, down.stdout + down.stderr


def fresh(session: requests.Session, method: str, url: str, **kwargs):  # type: ignore[no-untyped-def]
    """Each call on a new connection, so gunicorn may hand it to any of its workers."""
    headers = {"Connection": "close", "Accept-Language": "en", **kwargs.pop("headers", {})}
    return session.request(method, url, headers=headers, timeout=30, **kwargs)


def test_the_stack_plans_the_demo_day_on_a_job_worker(stack):
    site, database_url, _ = stack
    http = requests.Session()
    login = next(x for x in demo.LOGINS if x.role == "dispatcher")
    token = fresh(
        http,
        "POST",
        f"{site}/api/v1/auth/tokens",
        json={"email": login.email, "password": login.password},
    ).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    engine = make_engine(database_url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        depot_id = connection.execute(text("SELECT id FROM depots")).scalar_one()
    day = (EVENING + timedelta(days=1)).date().isoformat()

    started = fresh(
        http,
        "POST",
        f"{site}/api/v1/planning-runs",
        json={"depot_id": depot_id, "day": day, "time_limit_s": 5},
        headers=auth,
    )
    assert started.status_code == 202, started.text
    run_url = site + started.headers["Location"]
    accepted_by = started.headers["X-Served-By"]

    readers: set[str] = set()
    seen: list[dict] = []

    def finished_and_read_elsewhere() -> bool:
        answer = fresh(http, "GET", run_url, headers=auth)
        assert answer.status_code == 200, answer.text
        readers.add(answer.headers["X-Served-By"])
        seen.append(answer.json())
        return seen[-1]["status"] != "solving" and bool(readers - {accepted_by})

    wait_until(finished_and_read_elsewhere, timeout_s=120, what="the run to end, read elsewhere")

    assert seen[-1]["status"] == "ready", seen[-1]
    assert seen[-1]["stops_assigned"] > 250
    with engine.connect() as connection:
        worker = connection.execute(
            text("SELECT worker FROM plans WHERE id = :id"), {"id": seen[-1]["id"]}
        ).scalar_one()
    engine.dispose()
    solved_by = int(worker.split(":")[1])
    assert f"web-{solved_by}" not in readers | {accepted_by}, "solved by a web worker"
    ready = fresh(http, "GET", f"{site}/api/v1/health/ready").json()
    assert (ready["database"], ready["queue"]) == ("reachable", "reachable")
