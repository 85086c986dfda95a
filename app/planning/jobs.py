"""A planning run as a unit of work that owns its transactions (worker thread, scheduler)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope, utcnow
from app.errors import DomainError
from app.fleet.models import Depot
from app.orders.models import Order, OrderStatus
from app.planning import editing, services
from app.planning.models import Plan, PlanStatus
from routing.solver import Progress, SolveParameters

log = logging.getLogger(__name__)


def run_planning(
    factory: sessionmaker[Session],
    *,
    depot_id: int,
    day: date,
    time_limit_s: float | None = None,
    user_id: int | None = None,
    params: SolveParameters | None = None,
) -> int:
    """Create a plan version, solve it, store it whole; on failure keep only the reason."""
    with session_scope(factory) as session:
        plan_id = services.start_plan(
            session, depot_id=depot_id, day=day, time_limit_s=time_limit_s, user_id=user_id
        ).id
    solve_started(factory, plan_id=plan_id, params=params)
    return plan_id


# How each search running in this process is doing, by plan id: the board's progress bar
# reads it. (Another process serving the page sees only the elapsed time.)
LIVE: dict[int, Progress] = {}


def solve_started(
    factory: sessionmaker[Session], *, plan_id: int, params: SolveParameters | None = None
) -> None:
    """Solve a version already started (its row committed, so pages can show progress)."""
    try:
        with session_scope(factory) as session:
            services.solve_plan(
                session,
                plan_id=plan_id,
                now=utcnow(),
                params=params,
                progress=lambda p: LIVE.__setitem__(plan_id, p),
            )
    except DomainError as exc:
        with session_scope(factory) as session:
            services.mark_failed(session, plan_id=plan_id, error=str(exc), now=utcnow())
    except Exception as exc:
        log.exception("planning run %s failed", plan_id)
        with session_scope(factory) as session:
            services.mark_failed(
                session,
                plan_id=plan_id,
                now=utcnow(),
                error=f"The solver stopped with an error ({exc.__class__.__name__}); nothing "
                "of this version was saved. Try again.",
            )
    finally:
        LIVE.pop(plan_id, None)


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
        plan_id = run_planning(factory, depot_id=depot_id, day=tomorrow, time_limit_s=time_limit_s)
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
            editing.publish_plan(session, plan_id=plan_id, now=now)
            return True
    except DomainError as exc:
        log.warning("plan %s not published: %s", plan_id, exc)
        return False


def same_day_wave(
    factory: sessionmaker[Session],
    *,
    time_limit_s: float | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Every few minutes: bring each depot's published plan for today up to date."""
    now = now or utcnow()
    with session_scope(factory) as session:
        plans = []
        for depot in session.scalars(select(Depot).order_by(Depot.id)):
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
        routed = {v.order_id for r in base.routes for v in r.visits}
        tried = {u.order_id for u in base.unassigned}
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
    new_id = run_planning(factory, depot_id=depot_id, day=day, time_limit_s=time_limit_s)
    touched.append(new_id)
    with session_scope(factory) as session:
        plan = session.get_one(Plan, new_id)
        routed_now = {v.order_id for r in plan.routes for v in r.visits}
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
