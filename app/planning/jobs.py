"""A planning run as a unit of work that owns its transactions (worker thread, scheduler)."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope, utcnow
from app.errors import DomainError
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
