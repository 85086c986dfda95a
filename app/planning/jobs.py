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
from app.planning import services
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

    Waves draft; a dispatcher reviews and publishes. Re-planning only the stops not yet
    started (R5) is not part of this yet.
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
