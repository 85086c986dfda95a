"""A planning run as a unit of work that owns its transactions (worker thread, scheduler)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from types import TracebackType
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app import metrics
from app.db import session_scope, utcnow
from app.errors import DomainError
from app.fleet.models import Depot
from app.messages import say
from app.orders.models import Order, OrderStatus
from app.planning import editing, flows, lateness, services
from app.planning.enums import PlanStatus
from app.planning.models import Plan
from routing.solver import Progress, SolveParameters, solve

log = logging.getLogger(__name__)

# Marking a run failed after an error is tried this many times, each in a fresh session.
FAILURE_ATTEMPTS = 3


def run_planning(
    factory: sessionmaker[Session],
    *,
    depot_id: int,
    day: date,
    time_limit_s: float | None = None,
    user_id: int | None = None,
    params: SolveParameters | None = None,
    lease_s: float = services.DEFAULT_LEASE_S,
    now: datetime | None = None,
) -> int:
    """Create a plan version, solve it, store it whole; on failure keep only the reason.

    ``now`` is the moment planned for (a wave's time; default the clock): it decides whether
    the day is over and which stops have started. Leases always run on the real clock.
    Raises ``services.RunInProgress`` when a run of that depot and day is already solving.
    """
    with session_scope(factory) as session:
        plan_id = services.start_plan(
            session,
            depot_id=depot_id,
            day=day,
            time_limit_s=time_limit_s,
            user_id=user_id,
            now=now or utcnow(),
            lease_s=lease_s,
        ).id
    solve_started(factory, plan_id=plan_id, params=params, lease_s=lease_s, now=now)
    return plan_id


def worker_id() -> str:
    """This process and thread, as a run's lease names its worker."""
    name = f"{socket.gethostname()[:50]}:{os.getpid()}:{threading.current_thread().name}"
    return name[:100]


def renewal_interval_s(lease_s: float) -> float:
    """How often a worker renews its lease: three times per lease, at least every 10 s."""
    return min(10.0, lease_s / 3)


# How often the keeper writes the search's progress when there is news (the board's bar).
PROGRESS_EVERY_S = 1.0


class LeaseKeeper:
    """Renews a run's lease, and writes its search's progress, from a thread of its own.

    A thread rather than the solver's progress reports: those come only when the search
    finds a better plan, and a search can go a minute without one. Progress goes to the
    database (about once a second when there is news) so that every web process shows it.
    The keeper gives up after ``give_up_after_s`` (a search that hangs must not look alive
    for ever) and when the run is no longer this worker's (cancelled by a dispatcher, or
    marked failed meanwhile): ``lost`` is then set, which stops the search, and
    ``services.store_result`` refuses to overwrite the verdict.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        plan_id: int,
        worker: str,
        lease_s: float,
        give_up_after_s: float,
    ) -> None:
        self.factory = factory
        self.plan_id = plan_id
        self.worker = worker
        self.lease_s = lease_s
        self.every_s = renewal_interval_s(lease_s)
        self.give_up_at = time.monotonic() + give_up_after_s
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._progress: Progress | None = None
        self._written: Progress | None = None

    def report(self, progress: Progress) -> None:
        """The search's callback: keep the latest; the keeper's thread writes it."""
        self._progress = progress

    @property
    def best(self) -> Progress | None:
        """The search's latest report (its best plan so far), if it made one."""
        return self._progress

    def should_stop(self) -> bool:
        """The search asks this: True once the run is no longer this worker's to finish."""
        return self.lost.is_set()

    def __enter__(self) -> LeaseKeeper:
        if isinstance(self.factory.kw.get("bind"), Connection):
            # One connection (the tests' rolled-back transaction) cannot serve two threads;
            # such a run keeps the lease it was given.
            log.debug(
                "plan %s: lease not renewed (session factory on one connection)", self.plan_id
            )
            return self
        self._thread = threading.Thread(target=self._run, name=f"lease-{self.plan_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        tick_s = min(PROGRESS_EVERY_S, self.every_s)
        renewed = time.monotonic()
        while not self._stop.wait(tick_s):
            if time.monotonic() > self.give_up_at:
                log.error(
                    "plan %s: still running past its time; lease left to run out", self.plan_id
                )
                return
            news = self._progress if self._progress is not self._written else None
            if news is None and time.monotonic() - renewed < self.every_s:
                continue
            try:
                with session_scope(self.factory) as session:
                    held = services.renew_lease(
                        session,
                        plan_id=self.plan_id,
                        worker=self.worker,
                        now=utcnow(),
                        lease_s=self.lease_s,
                        progress=news,
                    )
            except Exception:  # a database hiccup: try again at the next tick
                log.warning("plan %s: lease not renewed this time", self.plan_id, exc_info=True)
                continue
            if not held:
                log.warning("plan %s: lease lost (the run is no longer solving)", self.plan_id)
                self.lost.set()
                return
            renewed = time.monotonic()
            self._written = news or self._written


def solve_started(
    factory: sessionmaker[Session],
    *,
    plan_id: int,
    params: SolveParameters | None = None,
    lease_s: float = services.DEFAULT_LEASE_S,
    now: datetime | None = None,
) -> None:
    """Solve a version already started (its row committed, so pages can show progress), as
    of ``now`` (default: the clock when the search starts).

    The worker takes the run's lease and renews it until the result is stored, so a run
    whose process dies is marked failed by the next sweep. No transaction stays open during
    the search (on SQLite it would hold the write lock for minutes). Any error ends the run
    failed with its reason, recorded in a fresh session.
    """
    worker = worker_id()
    try:
        with session_scope(factory) as session:
            limit = services.claim_run(
                session, plan_id=plan_id, worker=worker, now=utcnow(), lease_s=lease_s
            ).time_limit_s
        with session_scope(factory) as session:
            with LeaseKeeper(
                factory,
                plan_id=plan_id,
                worker=worker,
                lease_s=lease_s,
                give_up_after_s=2 * limit + 120,
            ) as keeper:
                run = services.prepare_run(session, plan_id=plan_id, now=now or utcnow())
                session.commit()  # nothing locked or open while the search runs
                result = solve(
                    run.day.problem,
                    params or SolveParameters(time_limit_s=limit),
                    keeper.report,
                    should_stop=keeper.should_stop,
                )
            services.store_result(session, run, result, now=utcnow())
        if keeper.best is not None and keeper.best.first_objective:
            first, best = keeper.best.first_objective, keeper.best.objective
            metrics.SOLVE_GAIN_PERCENT.observe(100 * (first - best) / first)
    except services.RunNotSolving as exc:
        log.warning("planning run %s: %s", plan_id, exc)
    except DomainError as exc:
        _record_failure(factory, plan_id, exc.message or str(exc))
    # The error's kind goes to the log only: the dispatcher can do nothing with its name.
    except SQLAlchemyError:
        log.exception("planning run %s failed on the database", plan_id)
        _record_failure(
            factory,
            plan_id,
            say(
                "The planning run stopped on a database error; nothing of this version was "
                "saved. Try again."
            ),
        )
    except Exception:
        log.exception("planning run %s failed", plan_id)
        _record_failure(
            factory,
            plan_id,
            say("The solver stopped with an error; nothing of this version was saved. Try again."),
        )


def _record_failure(factory: sessionmaker[Session], plan_id: int, error: str) -> None:
    """Mark the run failed, each attempt in a fresh session (the failed one may be broken).

    If the database stays out of reach, the run's lease runs out and a sweep fails it.
    """
    for attempt in range(1, FAILURE_ATTEMPTS + 1):
        try:
            with session_scope(factory) as session:
                services.mark_failed(session, plan_id=plan_id, error=error, now=utcnow())
            return
        except Exception:
            log.warning(
                "planning run %s: could not record its failure (attempt %d)",
                plan_id,
                attempt,
                exc_info=True,
            )
            if attempt < FAILURE_ATTEMPTS:
                time.sleep(0.5 * attempt)
    log.error("planning run %s left to the lease sweep", plan_id)


def sweep_abandoned(factory: sessionmaker[Session], *, now: datetime | None = None) -> list[int]:
    """Mark failed the runs whose worker went away (lease ran out); returns their ids.

    Called at start-up, by the scheduler, and when a board or plan page is shown. Never
    raises: a sweep that fails (database busy) is simply done by the next one.
    """
    try:
        with session_scope(factory) as session:
            swept = services.expire_abandoned(session, now=now or utcnow())
    except SQLAlchemyError:
        log.warning("sweep of abandoned planning runs failed; the next one retries", exc_info=True)
        return []
    if swept:
        log.warning("planning runs %s lost their worker and are marked failed", swept)
    return swept


def planning_wave(
    factory: sessionmaker[Session],
    *,
    time_limit_s: float | None = None,
    now: datetime | None = None,
    final: bool = False,
    depot_ids: Sequence[int] | None = None,
) -> list[int]:
    """A scheduled evening wave for tomorrow (each depot's local date).

    Where tomorrow has no published plan yet, a new version is drafted; the final wave of
    the evening publishes it, so couriers never start a day without routes because nobody
    pressed the button. Where a dispatcher has already published (perhaps after moving
    stops by hand), their plan is kept and the orders that arrived since are inserted into
    it, as in the same-day wave. Returns the plans changed or made.
    """
    now = now or utcnow()
    with session_scope(factory) as session:
        days = []
        query = select(Depot).order_by(Depot.id)
        if depot_ids is not None:
            query = query.where(Depot.id.in_(depot_ids))
        for depot in session.scalars(query):
            tomorrow = (now.astimezone(ZoneInfo(depot.timezone)) + timedelta(days=1)).date()
            published = services.published_plan(session, depot_id=depot.id, day=tomorrow)
            days.append((depot.id, tomorrow, published.id if published else None))
    touched = []
    for depot_id, tomorrow, published_id in days:
        if published_id is not None:
            touched += bring_up_to_date(
                factory, plan_id=published_id, now=now, time_limit_s=time_limit_s
            )
            continue
        try:
            plan_id = run_planning(
                factory, depot_id=depot_id, day=tomorrow, time_limit_s=time_limit_s, now=now
            )
        except DomainError as exc:  # a dispatcher's run is solving, or the day is over
            log.warning("depot %s, %s: wave skipped: %s", depot_id, tomorrow, exc)
            continue
        touched.append(plan_id)
        if final:
            _publish_if_ready(factory, plan_id, now)
    log.info("planning wave (final=%s): plans %s", final, touched)
    return touched


def _publish_if_ready(factory: sessionmaker[Session], plan_id: int, now: datetime) -> bool:
    try:
        with session_scope(factory) as session:
            if session.get_one(Plan, plan_id).status != PlanStatus.READY:
                return False
            flows.publish(session, plan_id=plan_id, now=now)
            return True
    except DomainError as exc:
        log.warning("plan %s not published: %s", plan_id, exc)
        return False


def replan_without_vehicle(
    factory: sessionmaker[Session],
    *,
    depot_id: int,
    day: date,
    now: datetime | None = None,
    time_limit_s: float | None = None,
) -> int | None:
    """A vehicle left service during its day (a failed inspection): plan the day again on
    the rest of the fleet and publish it, so that its stops reach other couriers; started
    stops stay as they are. Stops that fit nowhere are listed on the new version with their
    reasons for the dispatcher. Returns the new version, or None when it could not run."""
    now = now or utcnow()
    try:
        plan_id = run_planning(
            factory, depot_id=depot_id, day=day, time_limit_s=time_limit_s, now=now
        )
    except DomainError as exc:  # a dispatcher's run is solving, or nobody is left to plan
        log.warning("depot %s, %s not re-planned after losing a vehicle: %s", depot_id, day, exc)
        return None
    if _publish_if_ready(factory, plan_id, now):
        with session_scope(factory) as session:
            lateness.warn_late(
                session, session.get_one(Plan, plan_id), now=now, cause=lateness.VEHICLE_FAILED
            )
    return plan_id


def watch_late(
    factory: sessionmaker[Session],
    *,
    now: datetime | None = None,
    depot_ids: Sequence[int] | None = None,
) -> list[int]:
    """Every few minutes: tell each customer whose stop today is now projected to miss its
    window (a courier who has not set out counts too). Returns the stops told."""
    now = now or utcnow()
    told: list[int] = []
    with session_scope(factory) as session:
        query = select(Depot).order_by(Depot.id)
        if depot_ids is not None:
            query = query.where(Depot.id.in_(depot_ids))
        days = [(d.id, now.astimezone(ZoneInfo(d.timezone)).date()) for d in session.scalars(query)]
    for depot_id, today in days:
        with session_scope(factory) as session:
            plan = services.published_plan(session, depot_id=depot_id, day=today)
            if plan is not None:
                told += lateness.warn_late(session, plan, now=now)
    return told


def same_day_wave(
    factory: sessionmaker[Session],
    *,
    time_limit_s: float | None = None,
    now: datetime | None = None,
    depot_ids: Sequence[int] | None = None,
) -> list[int]:
    """Every few minutes: bring each depot's published plan for today up to date."""
    now = now or utcnow()
    with session_scope(factory) as session:
        plans = []
        query = select(Depot).order_by(Depot.id)
        if depot_ids is not None:
            query = query.where(Depot.id.in_(depot_ids))
        for depot in session.scalars(query):
            today = now.astimezone(ZoneInfo(depot.timezone)).date()
            base = services.published_plan(session, depot_id=depot.id, day=today)
            if base is not None:
                plans.append(base.id)
    touched = []
    for plan_id in plans:
        touched += bring_up_to_date(factory, plan_id=plan_id, now=now, time_limit_s=time_limit_s)
    return touched


def bring_up_to_date(
    factory: sessionmaker[Session], *, plan_id: int, now: datetime, time_limit_s: float | None
) -> list[int]:
    """Take a published plan's day's orders that arrived after it.

    Each is first inserted where it moves no other stop out of its window, so couriers'
    routes stay as they know them. Only when an order fits nowhere is the day re-planned
    (stops started or done stay fixed); that version is published at once if it keeps every
    order the published plan had on a route and routes a newcomer, else it waits as a draft
    for the dispatcher. Returns the plans changed or made.
    """
    with session_scope(factory) as session:
        base = session.get_one(Plan, plan_id)
        depot_id, day = base.depot_id, base.delivery_day
        routed = {v.stop.order_id for r in base.routes for v in r.visits}
        tried = {u.stop.order_id for u in base.unassigned}
        waiting = session.scalars(
            select(Order.id)
            .where(
                Order.depot_id == depot_id,
                Order.delivery_day == day,
                Order.status == OrderStatus.NEW,
            )
            .order_by(Order.window_start_at, Order.id)
        ).all()
    fresh = [i for i in waiting if i not in routed]
    if not fresh:
        return []
    with session_scope(factory) as session:
        placements = {
            order_id: editing.insert_order(session, plan_id=plan_id, order_id=order_id, now=now)
            for order_id in fresh
        }
    left = {order_id for order_id, p in placements.items() if not p.placed}
    touched = [plan_id] if len(left) < len(fresh) else []
    # Orders that already fitted nowhere before do not trigger a re-plan every 20 minutes;
    # a new one that fits nowhere does.
    if not left - tried:
        return touched
    try:
        new_id = run_planning(
            factory, depot_id=depot_id, day=day, time_limit_s=time_limit_s, now=now
        )
    except DomainError as exc:  # a dispatcher's run is solving, or the day is over
        log.warning("plan %s not re-planned now: %s", plan_id, exc)
        return touched
    touched.append(new_id)
    with session_scope(factory) as session:
        plan = session.get_one(Plan, new_id)
        routed_now = {v.stop.order_id for r in plan.routes for v in r.visits}
        keeps = routed <= routed_now and bool(left & routed_now)
    if keeps and plan.status == PlanStatus.READY and _publish_if_ready(factory, new_id, now):
        return touched
    log.warning(
        "plan %s left as a draft for the dispatcher: it keeps %d of %d planned orders and "
        "routes %d of %d new ones",
        new_id,
        len(routed & routed_now),
        len(routed),
        len(left & routed_now),
        len(left),
    )
    return touched
