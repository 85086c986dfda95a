"""The seam for background work: the domain names a task and its arguments, a queue runs it.

Two queues implement it: ``ThreadQueue`` for the embedded mode (threads of the one process,
what `make run` has always done) and ``app.background.pg.ProcrastinateQueue`` for
production (PostgreSQL, separate worker processes). ``InlineQueue`` runs the task at once in
the caller: tests and CLI commands that want the result before they return.

Arguments are JSON values (ids, numbers, text, ISO times): they cross process boundaries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from app import logs

log = logging.getLogger(__name__)

# Runs a task by name with its arguments (app.background.tasks.run binds the session factory).
Runner = Callable[[str, Mapping[str, Any]], None]


class Queue(Protocol):
    """Where the domain hands work that must not run inside a request."""

    def enqueue(
        self,
        task: str,
        arguments: Mapping[str, Any],
        *,
        key: str | None = None,
        urgent: bool = False,
    ) -> None:
        """Run ``task`` with ``arguments`` soon, on some worker.

        ``key`` names the work: while a job with that key waits in the queue, another is not
        added (two clicks, two schedulers). ``urgent`` work (a dispatcher waiting at the
        screen) goes before scheduled waves.
        """
        ...

    def depth(self) -> int | None:
        """Jobs waiting to start (a metric); None when this queue cannot tell."""
        ...


class InlineQueue:
    """Runs each task at once in the caller's thread (tests; nothing is left behind)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def enqueue(
        self,
        task: str,
        arguments: Mapping[str, Any],
        *,
        key: str | None = None,
        urgent: bool = False,
    ) -> None:
        self.runner(task, dict(arguments))

    def depth(self) -> int | None:
        return 0


class ThreadQueue:
    """The embedded mode's queue: a few threads of this process run the tasks.

    Work waiting here is lost if the process stops; what matters survives in the database
    anyway (a run's lease fails it with a reason, the scheduler re-fires a wave within its
    grace period), and the production queue keeps jobs across restarts.
    """

    def __init__(self, runner: Runner, *, workers: int = 2) -> None:
        self.runner = runner
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._waiting: dict[str, Future[None]] = {}
        self._count = 0
        self._lock = threading.Lock()

    def enqueue(
        self,
        task: str,
        arguments: Mapping[str, Any],
        *,
        key: str | None = None,
        urgent: bool = False,
    ) -> None:
        with self._lock:
            if key is not None and key in self._waiting:
                log.info("job %s (%s) is already waiting; not queued twice", key, task)
                return
            future = self._pool.submit(self._run, task, dict(arguments), key)
            if key is not None:
                self._waiting[key] = future

    def _run(self, task: str, arguments: dict[str, Any], key: str | None) -> None:
        if key is not None:
            with self._lock:  # started: the same work may be asked for again from now on
                self._waiting.pop(key, None)
        self._count += 1
        try:
            with logs.job_context(f"{task}#{key or self._count}"):
                self.runner(task, arguments)
        except Exception:  # a thread has nobody to raise to
            log.exception("job %s failed", task)

    def depth(self) -> int | None:
        return self._pool._work_queue.qsize()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
