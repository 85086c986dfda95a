"""What a customer sees of a stop (P1): the promised window, a narrower expected window once
the route is published, how many stops come before theirs, and what already happened.

The expected window is the projection from what the courier reported (``progress``), so it
moves as the day does; it is the customer's promise only once we have told them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.planning.models import Plan, PlanRoute, PlanVisit, Stop
from app.planning.progress import StopProgress, projection
from app.planning.services import published_plan

# Half the width of the expected window around the projected arrival.
ETA_HALF_WIDTH = timedelta(minutes=20)
ROUND_TO = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class StopView:
    stop_id: int
    kind: str
    promised_start: datetime
    promised_end: datetime
    expected_start: datetime | None  # once on a published route, until the stop is done
    expected_end: datetime | None
    late: bool  # the expected window leaves the promised one
    stops_before: int | None  # on the day itself, once the route is under way or due
    on_route: bool
    arrived_at: datetime | None
    completed_at: datetime | None
    outcome: str | None
    failure_reason: str | None


def _floor(moment: datetime) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=moment.tzinfo)
    return epoch + (moment - epoch) // ROUND_TO * ROUND_TO


def expected_window(
    projected: datetime, promised_start: datetime, promised_end: datetime, *, at_risk: bool = False
) -> tuple[datetime, datetime, bool]:
    """A window around the projected arrival, kept inside the promise while it holds; a
    projection past the promise, or too close to its end to keep it (``at_risk``), gives
    the honest new window and ``late``."""
    start = _floor(projected - ETA_HALF_WIDTH)
    end = _floor(projected + ETA_HALF_WIDTH) + ROUND_TO
    if at_risk or projected > promised_end:
        return max(start, promised_start), end, True
    start, end = max(start, promised_start), min(end, promised_end)
    return start, end, False


class ProjectionCache:
    """Customers' pages ask every 30 s, each for one stop of a day of hundreds: the day's
    projection is kept for the minute, per plan version, edit and count of reports, so a
    thousand open pages cost one projection a minute, and a report or an edit shows at once.
    One lives with each web app (the caller owns it)."""

    def __init__(self, size: int = 64) -> None:
        self._found: dict[tuple[int, int, int, datetime], dict[int, StopProgress]] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, session: Session, plan: Plan, now: datetime) -> dict[int, StopProgress]:
        reported = session.scalar(
            select(func.count())
            .select_from(PlanVisit)
            .join(PlanRoute, PlanVisit.route_id == PlanRoute.id)
            .join(Stop, PlanVisit.stop_id == Stop.id)
            .where(
                PlanRoute.plan_id == plan.id,
                or_(Stop.arrived_at.is_not(None), Stop.completed_at.is_not(None)),
            )
        )
        key = (plan.id, plan.revision, int(reported or 0), now.replace(second=0, microsecond=0))
        with self._lock:
            found = self._found.get(key)
        if found is None:
            found = projection(session, plan, now=now)
            with self._lock:
                if len(self._found) >= self._size:
                    self._found.clear()
                self._found[key] = found
        return found


def stop_view(
    session: Session, stop: Stop, *, now: datetime, cache: ProjectionCache | None = None
) -> StopView:
    """The customer's view of one stop at ``now``."""
    plan = published_plan(session, depot_id=stop.depot_id, day=stop.delivery_day)
    visit = None
    if plan is not None:
        visit = session.scalar(
            select(PlanVisit)
            .join(PlanRoute, PlanVisit.route_id == PlanRoute.id)
            .where(PlanRoute.plan_id == plan.id, PlanVisit.stop_id == stop.id)
        )
    expected: tuple[datetime, datetime, bool] | None = None
    before = None
    if plan is not None and visit is not None and stop.completed_at is None:
        found = cache.get(session, plan, now) if cache else projection(session, plan, now=now)
        progress = found.get(visit.id)
        projected = progress.projected_start if progress else None
        if projected is not None:
            expected = expected_window(
                projected,
                stop.window_start_at,
                stop.window_end_at,
                at_risk=bool(progress and progress.at_risk),
            )
        route = visit.route
        if route.under_way or now >= route.start_at:
            before = sum(1 for v in route.visits if v.sequence < visit.sequence and not v.stop.done)
    return StopView(
        stop_id=stop.id,
        kind=stop.kind,
        promised_start=stop.window_start_at,
        promised_end=stop.window_end_at,
        expected_start=expected[0] if expected else None,
        expected_end=expected[1] if expected else None,
        late=bool(expected and expected[2]),
        stops_before=before,
        on_route=visit is not None,
        arrived_at=stop.arrived_at,
        completed_at=stop.completed_at,
        outcome=stop.outcome,
        failure_reason=stop.failure_reason,
    )
