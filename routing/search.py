"""What every search engine shares: parameters, progress, cancellation, raw results.

A leaf module: ``routing.solver`` (which chooses and runs an engine) and each engine
(``routing.pyvrp_engine``, ``routing.vroom_engine``, ``routing.ortools_engine``) import it;
it imports none of them, and engines never import the solver (an import-linter contract
keeps it so).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from routing.model import Problem

Engine = Literal["auto", "ortools", "pyvrp", "vroom"]
Sequences = list[tuple[int, list[int]]]


@dataclass(frozen=True, slots=True)
class SolveParameters:
    time_limit_s: float = 5.0
    seed: int = 0
    engine: Engine = "auto"
    # Stop after this many improving solutions (OR-Tools) or iterations (PyVRP) instead of the
    # clock: same seed + same inputs then give the same plan, whatever the machine's load.
    iteration_limit: int | None = None
    # Parallel searches (a portfolio): worker k uses seed + k (PyVRP) or the k-th first-
    # solution strategy (OR-Tools); the best plan wins. Workers above 0 run in processes.
    workers: int = 1
    # Which member of a portfolio runs this search (0 = the one in the caller's process);
    # engines that can vary their search by it do (OR-Tools' first-solution strategy).
    variant: int = 0


@dataclass(frozen=True, slots=True)
class Progress:
    """How a running search is doing, for a progress display."""

    elapsed_s: float
    objective: int  # the engine's own objective of the best plan so far: lower is better
    first_objective: int  # the first plan's, to say how much the search has gained since
    improvements: int


ProgressCallback = Callable[[Progress], None]


class ProgressTracker:
    """Fed every best-so-far objective by an engine; tells the callback at most once a second."""

    def __init__(self, callback: ProgressCallback, every_s: float = 1.0) -> None:
        self.callback = callback
        self.every_s = every_s
        self.started = time.perf_counter()
        self.best: int | None = None
        self.first: int | None = None
        self.improvements = 0
        self.told = float("-inf")

    def __call__(self, objective: float) -> None:
        value = int(objective)
        if self.best is not None and value >= self.best:
            return
        self.best = value
        self.first = value if self.first is None else self.first
        self.improvements += 1
        now = time.perf_counter()
        if now - self.told >= self.every_s:
            self.told = now
            with contextlib.suppress(Exception):  # a display must never stop a search
                self.callback(Progress(now - self.started, value, self.first, self.improvements))


class Cancellation:
    """Asks the caller's ``should_stop`` at most every ``every_s``; once it says yes (or
    raises), it keeps saying yes without asking again.

    PyVRP's loop calls an instance at every iteration; OR-Tools' helper thread calls
    ``poll`` every ``every_s`` while the search runs in C++. An exception from ``should_stop``
    stops the search too; it is kept in ``error`` and raised by ``solve`` afterwards.
    """

    def __init__(self, should_stop: Callable[[], bool], every_s: float = 0.2) -> None:
        self.should_stop = should_stop
        self.every_s = every_s
        self.requested = False
        self.error: Exception | None = None
        self.next_poll = float("-inf")

    def __call__(self) -> bool:
        """For a loop that calls at every iteration: asks only once ``every_s`` has passed."""
        if self.requested:
            return True
        now = time.perf_counter()
        if now < self.next_poll:
            return False
        self.next_poll = now + self.every_s
        return self.poll()

    def poll(self) -> bool:
        """Asks now, unless the answer was already yes."""
        if not self.requested:
            try:
                self.requested = bool(self.should_stop())
            except Exception as exc:
                self.error = exc
                self.requested = True
        return self.requested


@dataclass(frozen=True, slots=True)
class EngineResult:
    routes: Sequences
    objective: int


def drop_penalty(problem: Problem, stop: int) -> int:
    """High enough that leaving a stop out never pays when it fits anywhere."""
    biggest_arc = int(problem.distance_m.max()) if problem.distance_m.size else 0
    biggest_fixed = max(v.fixed_cost for v in problem.vehicles)
    base = 2 * biggest_arc + biggest_fixed + 1
    return base * 10 * problem.stops[stop].priority


class SearchEngine(Protocol):
    """What the solver needs of an engine; each engine is a module with these three names.

    ``solve`` searches until ``deadline`` (``time.perf_counter``), ``params.iteration_limit``
    or ``cancel``, telling ``tracker`` each better objective, and returns stop sequences
    only: times and loads come from the independent checker afterwards.
    """

    NAME: str

    def supports(self, problem: Problem) -> bool: ...

    def solve(
        self,
        problem: Problem,
        candidates: Sequence[int],
        params: SolveParameters,
        deadline: float,
        tracker: ProgressTracker | None = None,
        cancel: Cancellation | None = None,
    ) -> EngineResult: ...
