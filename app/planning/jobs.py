"""A planning run as a unit of work that owns its transactions (worker thread, scheduler)."""

from __future__ import annotations

import logging
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
from routing.solver import SolveParameters

log = logging.getLogger(__name__)


def run_planning(
    factory: sessionmaker[Session],
    *,
    depot_id: int,
    day: date,
    time_limit_s: float = 10.0,
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


def solve_started(
    factory: sessionmaker[Session], *, plan_id: int, params: SolveParameters | None = None
) -> None:
    """Solve a version already started (its row committed, so pages can show progress)."""
    try:
        with session_scope(factory) as session:
            services.solve_plan(session, plan_id=plan_id, now=utcnow(), params=params)
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


def planning_wave(
    factory: sessionmaker[Session],
    *,
    time_limit_s: float = 10.0,
    now: datetime | None = None,
) -> list[int]:
    """A scheduled wave: a new plan version for tomorrow (each depot's local date) everywhere.

    Waves draft; a dispatcher reviews and publishes. When tomorrow already has a published
    plan with routes under way (a night shift), those stay fixed (R5, in ``solve_plan``).
    """
    now = now or utcnow()
    with session_scope(factory) as session:
        depots = [(d.id, d.timezone) for d in session.scalars(select(Depot).order_by(Depot.id))]
    plan_ids = []
    for depot_id, tz in depots:
        tomorrow = (now.astimezone(ZoneInfo(tz)) + timedelta(days=1)).date()
        plan_ids.append(
            run_planning(factory, depot_id=depot_id, day=tomorrow, time_limit_s=time_limit_s)
        )
    log.info("planning wave: plans %s", plan_ids)
    return plan_ids


def same_day_wave(
    factory: sessionmaker[Session],
    *,
    time_limit_s: float = 10.0,
    now: datetime | None = None,
) -> list[int]:
    """Every few minutes: take today's orders that arrived after the published plan.

    Each is first inserted into the published plan where it moves no other stop out of its
    window, so couriers' routes stay as they know them. Only when some order fits nowhere
    is the day re-planned (stops started or done stay fixed); that version is published at
    once if it keeps every order the published plan had on a route, else it waits as a
    draft for the dispatcher. Returns the plans changed or made.
    """
    now = now or utcnow()
    touched: list[int] = []
    with session_scope(factory) as session:
        todo = []
        for depot in session.scalars(select(Depot).order_by(Depot.id)):
            today = now.astimezone(ZoneInfo(depot.timezone)).date()
            base = services.published_plan(session, depot_id=depot.id, day=today)
            if base is None:
                continue
            known = {v.order_id for r in base.routes for v in r.visits}
            known |= {u.order_id for u in base.unassigned}
            waiting = session.scalars(
                select(Order.id)
                .where(
                    Order.depot_id == depot.id,
                    Order.delivery_day == today,
                    Order.status == OrderStatus.NEW,
                )
                .order_by(Order.window_start_at, Order.id)
            ).all()
            if fresh := [i for i in waiting if i not in known]:
                todo.append((depot.id, today, base.id, fresh))
    for depot_id, today, base_id, fresh in todo:
        with session_scope(factory) as session:
            left = [
                order_id
                for order_id in fresh
                if not editing.insert_order(
                    session, plan_id=base_id, order_id=order_id, now=now
                ).placed
            ]
        touched.append(base_id)
        if not left:
            continue
        plan_id = run_planning(factory, depot_id=depot_id, day=today, time_limit_s=time_limit_s)
        touched.append(plan_id)
        with session_scope(factory) as session:
            plan = session.get_one(Plan, plan_id)
            base = session.get_one(Plan, base_id)
            kept = {v.order_id for r in base.routes for v in r.visits}
            routed = {v.order_id for r in plan.routes for v in r.visits}
            if plan.status == PlanStatus.READY and kept <= routed and set(left) & routed:
                services.publish(session, plan_id=plan_id, now=utcnow())
            else:
                log.warning(
                    "same-day wave: plan %s would drop %d planned orders; left as a draft",
                    plan_id,
                    len(kept - routed),
                )
    return touched
