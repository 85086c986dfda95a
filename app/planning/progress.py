"""Live progress (D5): what couriers report, and the rest of the day projected from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.messages import Message, say
from app.orders import services as order_services
from app.orders.models import Order, OrderStatus
from app.planning.days import DEFAULT_REPORT_MARGIN, ensure_reportable
from app.planning.models import Plan, PlanRoute, PlanVisit, VisitOutcome
from app.planning.problem import plan_problem
from app.planning.services import published_plan
from routing.feasibility import time_route

# A stop is at risk when the projection starts serving it this close to the window's end.
AT_RISK_MARGIN = timedelta(minutes=10)


class Report(StrEnum):
    ARRIVED = "arrived"
    DELIVERED = "delivered"
    FAILED = "failed"


def report_visit(
    session: Session,
    *,
    visit_id: int,
    report: Report,
    at: datetime,
    courier_id: int | None = None,
    margin: timedelta = DEFAULT_REPORT_MARGIN,
) -> PlanVisit:
    """Record what the courier says of a stop of a published plan, on the stop's own day.

    The first report of a route means it has left the depot: every order still on it is
    out for delivery from then on.
    """
    visit = session.get(PlanVisit, visit_id)
    if visit is None:
        raise NotFound(say("There is no stop %(id)s.", id=visit_id))
    route = visit.route
    plan = route.plan
    current = published_plan(session, depot_id=plan.depot_id, day=plan.delivery_day)
    if current is None or current.id != plan.id:
        raise Conflict(
            say("This route has been replaced by a newer plan; reload the page to see your stops.")
        )
    if courier_id is not None and route.courier_id != courier_id:
        raise NotFound(say("There is no stop %(id)s on your route.", id=visit_id))
    if visit.completed_at is not None:
        raise Conflict(
            say("This stop was already reported %(outcome)s.", outcome=outcome_word(visit.outcome))
        )
    ensure_reportable(session, depot_id=plan.depot_id, day=plan.delivery_day, at=at, margin=margin)
    if not any(v.reported for v in route.visits):
        for order in session.scalars(
            select(Order).where(Order.id.in_([v.order_id for v in route.visits]))
        ):
            if order.status in (OrderStatus.NEW, OrderStatus.PLANNED):
                order.status = OrderStatus.OUT_FOR_DELIVERY
    if report is Report.ARRIVED:
        visit.arrived_at = visit.arrived_at or at
    else:
        visit.arrived_at = visit.arrived_at or at
        visit.completed_at = at
        visit.outcome = VisitOutcome(report.value)
        if report is Report.DELIVERED:
            order_services.mark_delivered(session, order_id=visit.order_id, now=at)
        else:
            session.get_one(Order, visit.order_id).status = OrderStatus.FAILED
    session.flush()
    return visit


def outcome_word(outcome: str | None) -> Message:
    """A reported stop's result as a word in sentences (the same words as the pages')."""
    if outcome == VisitOutcome.DELIVERED:
        return say("delivered")
    return say("failed")


def courier_routes(
    session: Session, *, courier_id: int, now: datetime
) -> list[tuple[PlanRoute, list[tuple[PlanVisit, Order]]]]:
    """A courier's routes in the published plans, from the last 12 hours on, with their orders.

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
        orders = {
            o.id: o
            for o in session.scalars(
                select(Order).where(Order.id.in_([v.order_id for v in route.visits]))
            )
        }
        routes.append((route, [(v, orders[v.order_id]) for v in route.visits]))
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
    orders = {o.id: o for o in day.orders}
    out: dict[int, StopProgress] = {}
    for route in plan.routes:
        moving = day.moving.get(route.shift_id)
        remaining = moving.remaining if moving is not None else list(route.visits)
        vehicle = day.vehicle_index[route.shift_id]
        stops = [day.stop_index[v.order_id] for v in remaining]
        timed = time_route(day.problem, vehicle, stops).route
        projected = {v.id: day.at(t.start_s) for v, t in zip(remaining, timed.visits, strict=True)}
        # A plan not yet started is judged by its own promise (late or not); once the route
        # is under way, or should be, a stop close to its window's end is at risk too.
        live = moving is not None or now >= route.start_at
        for visit in route.visits:
            order = orders[visit.order_id]
            start = projected.get(visit.id)
            late = start - order.window_end_at if start is not None else None
            out[visit.id] = StopProgress(
                visit_id=visit.id,
                planned_start=visit.start_at,
                actual_arrival=visit.arrived_at,
                completed_at=visit.completed_at,
                outcome=visit.outcome,
                projected_start=start,
                late_by=late if late is not None and late > timedelta(0) else None,
                at_risk=start is not None
                and (
                    start > order.window_end_at
                    or (live and start > order.window_end_at - AT_RISK_MARGIN)
                ),
            )
    return out
