"""Entry point of a job worker process: ``python -m app.worker`` (production, `make prod`).

Runs the jobs web processes and the scheduler defer into PostgreSQL (app.background.pg),
one at a time: a planning search is CPU-bound, so a machine runs one worker process per
core rather than threads in one.
"""

from __future__ import annotations

import logging
import os
import socket

import app.models  # noqa: F401  (every table registered: this process is an entry point)
from app import logs
from app.background.pg import QUEUES, build_app
from app.config import Config
from app.db import make_engine, make_session_factory

log = logging.getLogger(__name__)


def main() -> None:
    logs.configure("worker")
    config = Config()
    if config.QUEUE != "procrastinate":
        raise SystemExit(
            "app.worker runs the production queue: set ROUNDTRIP_QUEUE=procrastinate and a "
            "PostgreSQL DATABASE_URL (the embedded mode, `make run`, needs no worker)"
        )
    engine = make_engine(config.DATABASE_URL, pool_pre_ping=True)
    jobs = build_app(config.DATABASE_URL, make_session_factory(engine))
    name = f"{socket.gethostname()[:40]}:{os.getpid()}"
    log.info("job worker %s taking jobs from %s", name, ", ".join(QUEUES))
    jobs.run_worker(queues=list(QUEUES), concurrency=1, name=name)


if __name__ == "__main__":
    main()
