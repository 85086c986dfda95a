"""The queue this app hands background work to (app.background.queue), one per process."""

from __future__ import annotations

from flask import Flask, current_app

from app.background.queue import InlineQueue, Queue, ThreadQueue
from app.background.tasks import runner
from app.web.database import EXTENSION_KEY

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
