"""Cancelling a running search: ``should_stop`` ends it long before its time limit, and the
plan of the best solution found so far is still feasible and accounts for every stop."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from routing import feasibility
from routing.model import Problem, TimeWindow
from routing.plan import Plan
from routing.solver import Progress, SolveParameters, planned_routes, solve
from tests.routing.instances import delivery, problem, van

ENGINES = ["ortools", "pyvrp"]
# Without a cancel, every search below would run for the whole limit (neither engine stops
# early on its own); "well under it" is all the tests claim, machines being noisy.
LIMIT_S = 30.0
WELL_UNDER_S = 10.0


def forty_stops() -> Problem:
    """Forty deliveries on a line, four vans of 15: a search that always finds better plans."""
    rng = np.random.default_rng(3)
    positions = [int(x) for x in rng.integers(1, 5_000, size=40)]
    return problem(
        [delivery(f"s{i}", i + 1, window=TimeWindow(0, 50_000)) for i in range(40)],
        vehicles=[van(f"v{k}", capacity=15) for k in range(4)],
        positions=positions,
    )


def assert_feasible_and_complete(p: Problem, plan: Plan) -> None:
    """The independent checker finds nothing wrong; each stop is planned or left out, once."""
    assert feasibility.violations(p, planned_routes(plan)) == []
    planned = [s for r in plan.routes for s in r.stops]
    left = [u.stop for u in plan.unassigned]
    assert sorted(planned + left) == list(range(len(p.stops)))
    assert all(u.message for u in plan.unassigned)


@pytest.mark.parametrize("engine", ENGINES)
def test_cancelling_after_the_first_plan_ends_the_search_long_before_its_limit(engine):
    """The progress callback hears of the first plan and cancels: the search stops within
    moments, and the plan it returns is that plan or a better one, flagged as stopped."""
    p = forty_stops()
    cancelled = threading.Event()
    heard: list[Progress] = []

    def progress(report: Progress) -> None:
        heard.append(report)
        cancelled.set()

    started = time.perf_counter()
    plan = solve(
        p,
        SolveParameters(time_limit_s=LIMIT_S, seed=1, engine=engine),
        progress,
        should_stop=cancelled.is_set,
    )

    assert time.perf_counter() - started < WELL_UNDER_S
    assert plan.stopped
    assert heard
    assert_feasible_and_complete(p, plan)
    assert plan.routes, "the first plan found serves stops"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_search_cancelled_before_it_starts_still_returns_a_checked_plan(engine):
    """Cancelled from the outset (e.g. while the run was queued): no long search, and every
    stop the engine had no time to place is left out with a reason."""
    p = forty_stops()

    started = time.perf_counter()
    plan = solve(p, SolveParameters(time_limit_s=LIMIT_S, engine=engine), should_stop=lambda: True)

    assert time.perf_counter() - started < WELL_UNDER_S
    assert plan.stopped
    assert_feasible_and_complete(p, plan)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_should_stop_that_never_says_yes_changes_nothing(engine):
    """Asking and hearing no leaves the search alone: with an iteration limit (reproducible
    plans) the plan is the one found without ``should_stop``, and it is not flagged."""
    p = forty_stops()
    params = SolveParameters(time_limit_s=LIMIT_S, seed=2, engine=engine, iteration_limit=100)
    asked = threading.Event()

    def never() -> bool:
        asked.set()
        return False

    without = solve(p, params)
    with_check = solve(p, params, should_stop=never)

    assert asked.is_set()
    assert not without.stopped
    assert not with_check.stopped
    assert planned_routes(with_check) == planned_routes(without)
    assert with_check.unassigned == without.unassigned


@pytest.mark.parametrize("engine", ENGINES)
def test_an_error_in_should_stop_ends_the_search_and_is_raised(engine):
    """A failing check must neither be swallowed nor leave the search running its full time."""
    p = forty_stops()

    def broken() -> bool:
        raise RuntimeError("the run's row is gone")

    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="row is gone"):
        solve(p, SolveParameters(time_limit_s=LIMIT_S, engine=engine), should_stop=broken)

    assert time.perf_counter() - started < WELL_UNDER_S


def test_cancelling_a_portfolio_also_stops_its_worker_processes():
    """With two workers the second search runs in another process, which cannot call
    ``should_stop``: it is told through a shared event, so solve does not wait out its
    limit."""
    p = forty_stops()
    cancelled = threading.Event()

    started = time.perf_counter()
    plan = solve(
        p,
        SolveParameters(time_limit_s=LIMIT_S, seed=1, engine="ortools", workers=2),
        lambda _: cancelled.set(),
        should_stop=cancelled.is_set,
    )

    assert time.perf_counter() - started < WELL_UNDER_S
    assert plan.stopped
    assert_feasible_and_complete(p, plan)
