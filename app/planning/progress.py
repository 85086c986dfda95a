"""Live progress (D5): what couriers report, and the rest of the day projected from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.fleet import inspection
from app.messages import Message, say
from app.planning import stops as stop_service
from app.planning.days import DEFAULT_REPORT_MARGIN, ensure_reportable
from app.planning.enums import FailureReason, StopOutcome
from app.planning.models import Plan, PlanRoute, PlanVisit, Stop
from app.planning.problem import plan_problem
from app.planning.services import published_plan
from routing.feasibility import time_route

# A stop is at risk when the projection starts serving it this close to the window's end.
AT_RISK_MARGIN = timedelta(minutes=10)


class Report(StrEnum):
    ARRIVED = "arrived"
    DELIVERED = "delivered"
    FAILED = "failed"


def current_visit(session: Session, stop: Stop) -> PlanVisit | None:
    """Where the published plan of the stop's day has it, if on a route."""
    plan = published_plan(session, depot_id=stop.depot_id, day=stop.delivery_day)
    if plan is None:
        return None
    return session.scalar(
        select(PlanVisit)
        .join(PlanRoute, PlanVisit.route_id == PlanRoute.id)
        .where(PlanRoute.plan_id == plan.id, PlanVisit.stop_id == stop.id)
    )


def report_stop(
    session: Session,
    *,
    stop_id: int,
    report: Report,
    at: datetime,
    courier_id: int | None = None,
    reason: FailureReason | None = None,
    note: str | None = None,
    recipient: str | None = None,
    margin: timedelta = DEFAULT_REPORT_MARGIN,
) -> PlanVisit:
    """Record what the courier says of a stop on their route of the published plan, on the
    stop's own day; returns its visit.

    The first report of a route means it has left the depot: every stop still on it is
    loaded from then on. A courier's report of another courier's stop is 404: they do not
    learn it exists.
    """
    stop = session.get(Stop, stop_id)
    visit = current_visit(session, stop) if stop is not None else None
    if (
        stop is None
        or visit is None
        or (courier_id is not None and visit.route.courier_id != courier_id)
    ):
        raise NotFound(say("There is no stop %(id)s on your route.", id=stop_id))
    route = visit.route
    if stop.completed_at is not None:
        raise Conflict(
            say("This stop was already reported %(outcome)s.", outcome=outcome_word(stop.outcome))
        )
    ensure_reportable(session, depot_id=stop.depot_id, day=stop.delivery_day, at=at, margin=margin)
    if inspection.passed_for(session, route.shift_id) is None:
        raise Conflict(
            say(
                "Check your vehicle first: the route opens once its inspection has passed. "
                "Nothing was recorded."
            )
        )
    if not _under_way(session, route.id):  # its first report: the goods are on board
        stop_service.loaded(session, [v.stop for v in route.visits], now=at)
    if report is Report.ARRIVED:
        stop_service.arrive(stop, at=at, courier_id=courier_id)
    elif report is Report.DELIVERED:  # "done": a return stop is collected or exchanged
        stop_service.complete(
            session,
            stop,
            stop_service.done_outcome(stop),
            at=at,
            courier_id=courier_id,
            recipient=recipient,
        )
    else:
        stop_service.complete(
            session,
            stop,
            StopOutcome.FAILED,
            at=at,
            courier_id=courier_id,
            reason=reason or FailureReason.OTHER,
            note=note,
        )
    session.flush()
    return visit


def _under_way(session: Session, route_id: int) -> bool:
    """PlanRoute.under_way in one query (a courier's report must not load the whole route)."""
    reported = or_(Stop.arrived_at.is_not(None), Stop.completed_at.is_not(None))
    return bool(
        session.scalar(
            select(
                exists().where(
                    PlanVisit.route_id == route_id, PlanVisit.stop_id == Stop.id, reported
                )
            )
        )
    )


def outcome_word(outcome: str | None) -> Message:
    """A reported stop's result as a word in sentences (the same words as the pages')."""
    if outcome == StopOutcome.DELIVERED:
        return say("delivered")
    if outcome == StopOutcome.COLLECTED:
        return say("collected")
    if outcome == StopOutcome.EXCHANGED:
        return say("exchanged")
    return say("failed")


def courier_routes(session: Session, *, courier_id: int, now: datetime) -> list[PlanRoute]:
    """A courier's routes in the published plans, from the last 12 hours on.

    A route of a version since replaced by a newer published one is not theirs any more.
    """
    found = session.scalars(
        select(PlanRoute)
        .join(Plan, PlanRoute.plan_id == Plan.id)
        .where(
            PlanRoute.courier_id == courier_id,
            Plan.published_at.is_not(None),
            PlanRoute.end_at > now - timedelta(hours=12),
        )
        .order_by(PlanRoute.start_at)
    )
    current: dict[tuple[int, date], int | None] = {}
    routes = []
    for route in found:
        key = (route.plan.depot_id, route.plan.delivery_day)
        if key not in current:
            latest = published_plan(session, depot_id=key[0], day=key[1])
            current[key] = latest.id if latest is not None else None
        if route.plan_id != current[key]:
            continue
        routes.append(route)
    return routes


@dataclass(frozen=True, slots=True)
class StopProgress:
    visit_id: int
    planned_start: datetime
    actual_arrival: datetime | None
    completed_at: datetime | None
    outcome: str | None
    projected_start: datetime | None  # None once reported
    late_by: timedelta | None  # projected past the window's end
    at_risk: bool


def projection(session: Session, plan: Plan, *, now: datetime) -> dict[int, StopProgress]:
    """Per visit: planned against actual, and for the rest a projection from the last report.

    Routes not yet under way are projected from the depot at their start or now, whichever
    is later; so a courier who has not left on time puts their first stops at risk.
    """
    day = plan_problem(session, plan, now=now, project=True)
    out: dict[int, StopProgress] = {}
    for route in plan.routes:
        going = day.under_way.get(route.shift_id)
        remaining = going.remaining if going is not None else list(route.visits)
        vehicle = day.vehicle_index[route.shift_id]
        stops = [day.stop_index[v.stop.id] for v in remaining]
        timed = time_route(day.problem, vehicle, stops).route
        projected = {v.id: day.at(t.start_s) for v, t in zip(remaining, timed.visits, strict=True)}
        # A plan not yet started is judged by its own promise (late or not); once the route
        # is under way, or should be, a stop close to its window's end is at risk too.
        live = going is not None or now >= route.start_at
        for visit in route.visits:
            stop = visit.stop
            start = projected.get(visit.id)
            late = start - stop.window_end_at if start is not None else None
            out[visit.id] = StopProgress(
                visit_id=visit.id,
                planned_start=visit.start_at,
                actual_arrival=stop.arrived_at,
                completed_at=stop.completed_at,
                outcome=stop.outcome,
                projected_start=start,
                late_by=late if late is not None and late > timedelta(0) else None,
                at_risk=start is not None
                and (
                    start > stop.window_end_at
                    or (live and start > stop.window_end_at - AT_RISK_MARGIN)
                ),
            )
    return out
