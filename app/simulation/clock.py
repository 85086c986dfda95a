"""The simulated clock and its agenda: what happens next, in time order, across everyone.

Every service is called with ``now`` from here. A few rows are still created by services
that take no ``now`` and leave ``created_at`` (or ``updated_at``) to the column default,
which reads the wall clock; :func:`stamp_defaults` gives those the simulated moment instead
and remembers which tables needed it, so the run can say so.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

Action = Callable[[datetime], None]
DEFAULTED_COLUMNS = ("created_at", "updated_at")


class Agenda:
    """Actions due at simulated moments, run in time order (ties: in the order planned).

    The order is total and independent of anything but the order of ``at`` calls, so a run
    with the same seed does the same things in the same order.
    """

    def __init__(self, start: datetime) -> None:
        self.now = start
        self._queue: list[tuple[datetime, int, Action]] = []
        self._seq = itertools.count()

    def at(self, moment: datetime, action: Action) -> None:
        heapq.heappush(self._queue, (moment, next(self._seq), action))

    def run_until(self, end: datetime) -> None:
        """Run every action due before ``end`` (including those they plan meanwhile)."""
        while self._queue and self._queue[0][0] < end:
            moment, _, action = heapq.heappop(self._queue)
            # Something planned for a moment already past runs now: the clock never goes back.
            self.now = max(self.now, moment)
            action(self.now)
        self.now = max(self.now, end)

    def drop_all(self) -> int:
        """Forget what is still planned (after the last simulated day); returns how many."""
        left = len(self._queue)
        self._queue.clear()
        return left


@contextmanager
def stamp_defaults(factory: sessionmaker[Session], clock: Agenda) -> Iterator[Counter[str]]:
    """While open, new rows of ``factory``'s sessions with an empty ``created_at`` /
    ``updated_at`` get the simulated moment; yields the count per table so stamped."""
    stamped: Counter[str] = Counter()

    def before_flush(session: Session, _context: Any, _instances: Any) -> None:
        for row in session.new:
            for column in DEFAULTED_COLUMNS:
                if hasattr(type(row), column) and getattr(row, column, None) is None:
                    setattr(row, column, clock.now)
                    stamped[type(row).__tablename__] += 1

    event.listen(factory, "before_flush", before_flush)
    try:
        yield stamped
    finally:
        event.remove(factory, "before_flush", before_flush)
