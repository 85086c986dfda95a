"""The queue this app hands background work to (app.background.queue), one per process."""

from __future__ import annotations

from datetime import date

from flask import Flask, current_app

from app.background.queue import InlineQueue, Queue, ThreadQueue
from app.background.tasks import runner
from app.db import utcnow
from app.planning import services as planning_services
from app.planning.models import Plan
from app.web.database import EXTENSION_KEY, db

QUEUE_KEY = "roundtrip.queue"


def init_app(app: Flask) -> None:
    kind = app.config.get("QUEUE", "threads")
    run = runner(app.extensions[EXTENSION_KEY])
    built: Queue
    if kind == "procrastinate":
        from app.background.pg import ProcrastinateQueue

        built = ProcrastinateQueue.from_url(app.config["DATABASE_URL"])
    elif kind == "inline":
        built = InlineQueue(run)
    else:
        built = ThreadQueue(run)
    app.extensions[QUEUE_KEY] = built


def queue() -> Queue:
    return current_app.extensions[QUEUE_KEY]  # type: ignore[no-any-return]


def start_queued_run(
    *, depot_id: int, day: date, time_limit_s: float | None, user_id: int, urgent: bool
) -> Plan:
    """Start a planning run (committed, so every web worker shows it) and hand it to the
    queue: solving takes seconds to minutes, never inside the request. Until a worker takes
    it up the run waits, at most the installation's queue wait."""
    config = current_app.config
    lease_s = config.get("PLANNING_LEASE_S", planning_services.DEFAULT_LEASE_S)
    plan = planning_services.start_plan(
        db(),
        depot_id=depot_id,
        day=day,
        time_limit_s=time_limit_s,
        user_id=user_id,
        now=utcnow(),
        lease_s=lease_s,
        wait_s=config.get("PLANNING_QUEUE_WAIT_S", planning_services.DEFAULT_QUEUE_WAIT_S),
    )
    db().commit()
    arguments = {"plan_id": plan.id, "lease_s": lease_s}
    queue().enqueue("planning.solve", arguments, key=f"plan:{plan.id}", urgent=urgent)
    return plan
