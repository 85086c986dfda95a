"""Planning runs: a version started, taken up by a worker, solved and stored whole (or
failed, cancelled, abandoned with its reason); and which version is current."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.fleet.models import Depot
from app.messages import Message, say
from app.orders.models import Order
from app.planning import words
from app.planning.days import depot_zone, ensure_day_not_over
from app.planning.enums import PlanStatus
from app.planning.models import Plan, PlanUnassigned
from app.planning.problem import (
    PLANNABLE,
    DayProblem,
    UnderWay,
    build_problem,
    refresh_totals,
    route_row,
    routes_under_way,
)
from routing.matrix import MatrixProvider
from routing.plan import Plan as Solution
from routing.solver import Progress, ProgressCallback, SolveParameters, solve

# How long a planning run's worker may stay silent before the run counts as abandoned (its
# process died); the worker renews the lease every few seconds while it solves.
DEFAULT_LEASE_S = 60.0
# How long a run handed to the job queue may wait for a worker to take it; then it fails
# with a reason that says so (no worker running, or all of them busy for that long).
DEFAULT_QUEUE_WAIT_S = 1800.0


def never_started(minutes: int) -> Message:
    """Why a run that no job worker took up failed."""
    return say(
        "No job worker started this planning run within %(minutes)s minutes; nothing was "
        "published. Check that the job workers are running, then plan the day again.",
        minutes=minutes,
    )


def cancelled(at: datetime, name: str) -> Message:
    """A run a dispatcher cancelled; ``at`` is local."""
    return say(
        "Cancelled by %(name)s at %(time)s; nothing of this version was saved.",
        name=name,
        time=f"{at:%H:%M}",
    )


def abandoned(at: datetime) -> Message:
    """Why a run whose worker went away failed; ``at`` is its last sign of life, local."""
    return say(
        "The planning run stopped unexpectedly (its worker went away at %(time)s); nothing "
        "was published. Plan the day again.",
        time=f"{at:%H:%M}",
    )


class RunInProgress(Conflict):
    """Another run of the same depot and day is solving; ``plan_id`` names it."""

    def __init__(self, plan: Plan, tz: ZoneInfo) -> None:
        self.plan_id = plan.id
        super().__init__(
            say(
                "Version %(version)s of this day is already being planned (started %(time)s); "
                "its page shows how it is going. Wait for it to finish before planning the day "
                "again.",
                version=plan.version,
                time=f"{plan.created_at.astimezone(tz):%H:%M}",
            )
        )


class RunNotSolving(Conflict):
    """The run is no longer solving (finished, or marked failed when its lease ran out)."""


def time_budget(orders: int) -> float:
    """Default search time: 10 s for a small day, 60 ms per order beyond, at most 2 min.

    Measured on 1,000 orders and 50 couriers (docs/benchmarks.md): PyVRP keeps improving for
    minutes there, and 10 s left travel 6-13 % above what ten times the time finds.
    """
    return min(120.0, max(10.0, 0.06 * orders))


def start_plan(
    session: Session,
    *,
    depot_id: int,
    day: date,
    time_limit_s: float | None = None,
    user_id: int | None = None,
    now: datetime | None = None,
    lease_s: float = DEFAULT_LEASE_S,
    wait_s: float | None = None,
) -> Plan:
    """A new version in state 'solving'; commit it so the page can show progress.

    Without a time limit, the budget follows the number of orders to plan. The run holds a
    lease from ``now`` (default: the clock) until its worker takes it over: ``lease_s`` when
    the caller solves it at once, ``wait_s`` when it goes to the job queue. Runs whose lease
    ran out are marked failed first; if another run of the day is still solving, this one is
    refused with ``RunInProgress`` (a unique index backs this up against a race).
    """
    now = now or utcnow()
    if session.get(Depot, depot_id) is None:
        raise NotFound(say("There is no depot %(id)s.", id=depot_id))
    ensure_day_not_over(session, depot_id=depot_id, day=day, now=now)
    expire_abandoned(session, now=now)
    running = running_plan(session, depot_id=depot_id, day=day)
    if running is not None:
        raise RunInProgress(running, depot_zone(session, depot_id))
    if time_limit_s is None:
        orders = session.scalar(
            select(func.count())
            .select_from(Order)
            .where(
                Order.depot_id == depot_id,
                Order.delivery_day == day,
                Order.status.in_(PLANNABLE),
            )
        )
        time_limit_s = time_budget(orders or 0)
    latest = (
        session.scalar(
            select(func.max(Plan.version)).where(
                Plan.depot_id == depot_id, Plan.delivery_day == day
            )
        )
        or 0
    )
    plan = Plan(
        depot_id=depot_id,
        delivery_day=day,
        version=latest + 1,
        status=PlanStatus.SOLVING,
        time_limit_s=time_limit_s,
        created_by_user_id=user_id,
        created_at=now,
        heartbeat_at=now,
        lease_expires_at=now + timedelta(seconds=lease_s if wait_s is None else wait_s),
    )
    try:
        with session.begin_nested():  # the one-solving-run index may refuse it: keep the rest
            session.add(plan)
    except IntegrityError:
        # Another run of the day was saved between our check and our insert.
        running = running_plan(session, depot_id=depot_id, day=day)
        if running is None:
            raise
        raise RunInProgress(running, depot_zone(session, depot_id)) from None
    return plan


def running_plan(session: Session, *, depot_id: int, day: date) -> Plan | None:
    """The run of this depot and day that is solving now, if any."""
    return session.scalar(
        select(Plan).where(
            Plan.depot_id == depot_id,
            Plan.delivery_day == day,
            Plan.status == PlanStatus.SOLVING,
        )
    )


def _lapsed(now: datetime) -> ColumnElement[bool]:
    """A solving run whose lease ran out (every run gets one when it starts; migration 0006
    failed the runs from before leases)."""
    return and_(Plan.status == PlanStatus.SOLVING, Plan.lease_expires_at < now)


def abandoned_runs(session: Session, *, now: datetime) -> list[int]:
    """Ids of runs whose lease ran out: one read on the partial index of solving runs."""
    return list(session.scalars(select(Plan.id).where(_lapsed(now)).order_by(Plan.id)))


def expire_abandoned(session: Session, *, now: datetime) -> list[int]:
    """Mark failed every run whose worker stopped renewing its lease; returns their ids.

    The reason names the last sign of life in the depot's time. On PostgreSQL a run whose
    worker is storing its result right now (row locked) is skipped: it is alive.
    """
    stale = session.scalars(
        select(Plan)
        .where(_lapsed(now))
        .order_by(Plan.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    for plan in stale:
        plan.status = PlanStatus.FAILED
        plan.finished_at = now
        if plan.worker is None:  # handed to the queue, never taken up
            waited = (plan.lease_expires_at or now) - plan.created_at
            plan.error = never_started(max(1, round(waited.total_seconds() / 60)))
            continue
        went_away = plan.heartbeat_at or plan.created_at
        plan.error = abandoned(went_away.astimezone(depot_zone(session, plan.depot_id)))
    session.flush()
    return [p.id for p in stale]


def _solving(session: Session, plan_id: int) -> Plan | None:
    """The run, locked for this transaction (PostgreSQL), if it is still solving."""
    session.flush()  # re-reading the row must not drop changes still pending
    plan = session.get(Plan, plan_id, with_for_update=True, populate_existing=True)
    return plan if plan is not None and plan.status == PlanStatus.SOLVING else None


def claim_run(
    session: Session, *, plan_id: int, worker: str, now: datetime, lease_s: float
) -> Plan:
    """The worker takes a run over: names itself and renews the lease.

    A run another worker holds a live lease on is refused (``RunNotSolving``): a queue may
    hand the same job out again when that worker only looked dead (a database restart
    stopped its heartbeat), and two cores must not solve one run. If that worker really is
    gone, its lease runs out and the sweep fails the run with the reason.
    """
    plan = _solving(session, plan_id)
    if plan is None:
        raise RunNotSolving(say("Plan %(id)s is not solving any more.", id=plan_id))
    held_elsewhere = plan.worker is not None and plan.worker != worker
    if held_elsewhere and plan.lease_expires_at is not None and plan.lease_expires_at > now:
        raise RunNotSolving(say("Plan %(id)s is being solved by another worker.", id=plan_id))
    plan.worker = worker
    plan.started_at = plan.started_at or now
    plan.heartbeat_at = now
    plan.lease_expires_at = now + timedelta(seconds=lease_s)
    session.flush()
    return plan


def renew_lease(
    session: Session,
    *,
    plan_id: int,
    worker: str,
    now: datetime,
    lease_s: float,
    progress: Progress | None = None,
) -> bool:
    """Extend the run's lease, with the search's latest ``progress`` if there is news;
    False when it is no longer this worker's solving run (cancelled, or failed)."""
    plan = _solving(session, plan_id)
    if plan is None or plan.worker != worker:
        return False
    plan.heartbeat_at = now
    plan.lease_expires_at = now + timedelta(seconds=lease_s)
    if progress is not None:
        plan.search_improvements = progress.improvements
        plan.search_first_objective = progress.first_objective
        plan.search_best_objective = progress.objective
        plan.progress_at = now
    session.flush()
    return True


def run_state(plan: Plan, *, now: datetime) -> dict[str, Any]:
    """A run's state and progress as JSON values, read from its row alone, so any web
    process answers the same (the board's bar, the API). ``queued``: no worker has taken
    it up yet; ``elapsed_s`` counts from when one did."""
    solving = plan.status == PlanStatus.SOLVING
    started = plan.started_at or plan.created_at
    end = now if solving else plan.finished_at or now
    search = None
    if solving and plan.search_improvements is not None:
        first, best = plan.search_first_objective or 0, plan.search_best_objective or 0
        gain = (first - best) / first if first else 0
        search = {"improvements": plan.search_improvements, "gain_percent": round(100 * gain, 1)}
    return {
        "search": search,
        "queued": solving and plan.worker is None,
        "status": plan.status,
        "version": plan.version,
        "elapsed_s": round(max(0.0, (end - started).total_seconds()), 1),
        "time_limit_s": plan.time_limit_s,
        "stops_assigned": plan.stops_assigned,
        "stops_unassigned": plan.stops_unassigned,
    }


def cancel_run(session: Session, *, plan_id: int, user_id: int | None, now: datetime) -> Plan:
    """Stop a run that is solving: it ends 'cancelled' at once (the day may be planned
    again straight away); its worker sees that within a second, stops the search and
    stores nothing. ``RunNotSolving`` if it already ended."""
    plan = _solving(session, plan_id)
    if plan is None:
        found = session.get(Plan, plan_id)
        if found is None:
            raise NotFound(say("There is no plan %(id)s.", id=plan_id))
        raise RunNotSolving(
            say(
                "Version %(version)s is no longer being planned; there is nothing to cancel.",
                version=found.version,
            )
        )
    name = "—"
    if user_id is not None:
        user = session.get(User, user_id)
        name = user.name if user is not None else name
    plan.status = PlanStatus.CANCELLED
    plan.finished_at = now
    plan.cancelled_by_user_id = user_id
    plan.error = cancelled(now.astimezone(depot_zone(session, plan.depot_id)), name)
    session.flush()
    return plan


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A run's problem, built from the database and ready for the search."""

    plan: Plan
    day: DayProblem
    under_way: list[UnderWay]  # of the published plan it re-plans


def prepare_run(
    session: Session, *, plan_id: int, now: datetime, matrix: MatrixProvider | None = None
) -> PreparedRun:
    """Build the run's problem; routes under way of the published plan keep their prefix."""
    plan = session.get_one(Plan, plan_id)
    base = published_plan(session, depot_id=plan.depot_id, day=plan.delivery_day)
    under_way: list[UnderWay] = []
    if base is not None and base.id != plan.id:
        under_way = routes_under_way(base)
        plan.replanned_from_id = base.id
    day = build_problem(
        session,
        depot_id=plan.depot_id,
        day=plan.delivery_day,
        matrix=matrix,
        now=now,
        under_way=under_way,
    )
    return PreparedRun(plan, day, under_way)


def store_result(
    session: Session,
    run: PreparedRun,
    result: Solution,
    *,
    now: datetime,
    matrix: MatrixProvider | None = None,
) -> Plan:
    """Store the search's result whole; ``RunNotSolving`` when the run was marked failed
    meanwhile (its lease ran out), so a late result never overwrites that verdict."""
    plan = _solving(session, run.plan.id)
    if plan is None:
        raise RunNotSolving(
            say(
                "Plan %(id)s was cancelled or marked failed while it was solving; its result "
                "is dropped.",
                id=run.plan.id,
            )
        )
    day = run.day
    fixed = {u.shift_id: u for u in run.under_way}
    solved = {day.shifts[r.vehicle].id: r for r in result.routes}
    for k, shift in enumerate(day.shifts):
        if shift.id in solved or shift.id in fixed:
            plan.routes.append(
                route_row(day, k, solved.get(shift.id), fixed.get(shift.id), matrix=matrix)
            )
    for left in result.unassigned:
        plan.unassigned.append(
            PlanUnassigned(
                stop=day.stops[left.stop],
                reason_code=left.reason.value,
                message=words.left_out(day, left),
            )
        )
    plan.status = PlanStatus.READY
    plan.engine = result.engine
    refresh_totals(plan)
    plan.finished_at = now
    session.flush()
    return plan


def solve_plan(
    session: Session,
    *,
    plan_id: int,
    now: datetime,
    params: SolveParameters | None = None,
    matrix: MatrixProvider | None = None,
    progress: ProgressCallback | None = None,
) -> Plan:
    """Solve and store the whole result, or raise and store nothing (the caller rolls back).

    When a published plan of the day has routes under way, their reported stops and every
    stop before them stay as they are, and the goods still on board stay on that vehicle;
    everything else is planned again (R5). (Jobs run the three steps themselves, so that no
    transaction stays open during the search.)
    """
    run = prepare_run(session, plan_id=plan_id, now=now, matrix=matrix)
    limit = run.plan.time_limit_s
    result = solve(run.day.problem, params or SolveParameters(time_limit_s=limit), progress)
    return store_result(session, run, result, now=now, matrix=matrix)


def mark_failed(session: Session, *, plan_id: int, error: str, now: datetime) -> Plan:
    """End a solving run with its reason (a Message, so the page says it in its reader's
    language); a run already finished or failed keeps its state."""
    plan = _solving(session, plan_id)
    if plan is None:
        return session.get_one(Plan, plan_id)
    plan.status = PlanStatus.FAILED
    plan.error = error
    plan.finished_at = now
    session.flush()
    return plan


def published_plan(session: Session, *, depot_id: int, day: date) -> Plan | None:
    return session.scalar(
        select(Plan)
        .where(Plan.depot_id == depot_id, Plan.delivery_day == day, Plan.published_at.is_not(None))
        .order_by(Plan.published_at.desc(), Plan.version.desc())
        .limit(1)
    )


def current_plan(session: Session, *, depot_id: int, day: date) -> Plan | None:
    """The plan promises are made from: the published one, else the newest ready draft."""
    published = published_plan(session, depot_id=depot_id, day=day)
    if published is not None:
        return published
    return session.scalar(
        select(Plan)
        .where(Plan.depot_id == depot_id, Plan.delivery_day == day, Plan.status == PlanStatus.READY)
        .order_by(Plan.version.desc())
        .limit(1)
    )
