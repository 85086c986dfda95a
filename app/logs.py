"""How every process of Roundtrip logs: one event per line, with the request or job it
belongs to, as text for a person (default) or JSON for a log collector.

``ROUNDTRIP_LOG_FORMAT=json`` writes one JSON object per line (python-json-logger): time,
level, logger, message, process kind and pid, and ``request_id`` / ``job_id`` when the
event happened inside a request or a job. ``ROUNDTRIP_LOG_LEVEL`` sets the level (INFO).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO

from pythonjsonlogger.json import JsonFormatter

# What the current thread (or asyncio task) is working on; copied into every log record.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
JOB_ID: ContextVar[str | None] = ContextVar("job_id", default=None)

TEXT_FORMAT = (
    "%(asctime)s %(levelname)s [%(process_kind)s:%(process)d%(context)s] %(name)s: %(message)s"
)


class ContextFilter(logging.Filter):
    """Stamps each record with the process kind and the request or job it belongs to."""

    def __init__(self, process_kind: str) -> None:
        super().__init__()
        self.process_kind = process_kind

    def filter(self, record: logging.LogRecord) -> bool:
        record.process_kind = self.process_kind
        record.request_id = REQUEST_ID.get()
        record.job_id = JOB_ID.get()
        parts = []
        if record.request_id:
            parts.append(f" request={record.request_id}")
        if record.job_id:
            parts.append(f" job={record.job_id}")
        record.context = "".join(parts)
        return True


def configure(process_kind: str) -> None:
    """Log to stderr (systemd's journal or honcho collect it) for a process of this kind
    (web, worker, scheduler)."""
    root = logging.getLogger()
    root.handlers[:] = [handler(process_kind, os.environ.get("ROUNDTRIP_LOG_FORMAT", "text"))]
    root.setLevel(os.environ.get("ROUNDTRIP_LOG_LEVEL", "INFO").upper())


def handler(process_kind: str, format_: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing ``format_`` ("text" or "json") lines to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter(process_kind))
    if format_ == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(process_kind)s %(process)d "
                "%(request_id)s %(job_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    """Log records written inside carry ``job_id``."""
    token = JOB_ID.set(job_id)
    try:
        yield
    finally:
        JOB_ID.reset(token)
