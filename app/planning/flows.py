"""Work in several steps over planning's parts: publishing a version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.messages import say, say_n
from app.orders.models import Order, OrderStatus
from app.planning import stops as stop_service
from app.planning.days import ensure_day_not_over
from app.planning.editing import Placement, insert_stop, withdraw_stops
from app.planning.enums import PlanStatus
from app.planning.models import Plan
from app.planning.problem import PLANNABLE, plan_stops
from app.planning.services import published_plan
from routing.matrix import MatrixProvider


def publish(
    session: Session, *, plan_id: int, now: datetime, matrix: MatrixProvider | None = None
) -> tuple[Plan, list[Placement]]:
    """Make a ready version the one couriers see, first inserting the orders that arrived
    after it was solved; returns it and where each late one went.

    Its stops' orders become 'planned'; orders the previous published version had on a route
    and this one does not are 'new' again. Refused when couriers have reported stops the
    version does not know of: publishing it would throw their progress away; a new re-plan
    keeps it.
    """
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(say("There is no plan %(id)s.", id=plan_id))
    if plan.status == PlanStatus.SOLVING:
        raise Conflict(
            say(
                "Plan version %(version)s is still being planned; it can be published once it "
                "is ready.",
                version=plan.version,
            )
        )
    if plan.status != PlanStatus.READY:
        raise Conflict(
            say(
                "Plan version %(version)s could not be planned, so it cannot be published; "
                "plan the day again.",
                version=plan.version,
            )
        )
    ensure_day_not_over(session, depot_id=plan.depot_id, day=plan.delivery_day, now=now)
    current = published_plan(session, depot_id=plan.depot_id, day=plan.delivery_day)
    if current is not None and current.id != plan.id:
        reported = {v.stop.id for r in current.routes for v in r.visits if v.reported}
        kept = {v.stop.id for r in plan.routes for v in r.visits if v.reported}
        if reported - kept:
            raise Conflict(
                say_n(
                    "Couriers have reported %(n)s stop since version %(version)s was planned, "
                    "so publishing it would lose their progress. Plan the day again: the new "
                    "version keeps every started stop as it is.",
                    "Couriers have reported %(n)s stops since version %(version)s was planned, "
                    "so publishing it would lose their progress. Plan the day again: the new "
                    "version keeps every started stop as it is.",
                    len(reported - kept),
                    version=plan.version,
                )
            )
    # An order held while this version was being solved (its lot blocked) is not shipped.
    # A return called off (declined) meanwhile is not collected either.
    held = [
        s.id
        for s in plan_stops(plan)
        if not s.reported
        and (
            s.called_off_at is not None
            or (
                s.return_case_id is None
                and s.order is not None
                and s.order.status in (OrderStatus.HELD, OrderStatus.CANCELLED)
            )
        )
    ]
    if held:
        withdraw_stops(
            session,
            stop_ids=held,
            now=now,
            reason=say("its order is held or cancelled, or its return was declined"),
            matrix=matrix,
        )
    known = {s.order_id for s in plan_stops(plan)}
    missing = session.scalars(
        select(Order)
        .where(
            Order.depot_id == plan.depot_id,
            Order.delivery_day == plan.delivery_day,
            Order.status.in_(PLANNABLE),
            Order.id.not_in([i for i in known if i is not None]),
        )
        .order_by(Order.window_start_at, Order.id)
    ).all()
    placements = [
        insert_stop(
            session,
            plan_id=plan.id,
            stop=stop_service.delivery_stop(session, order),
            now=now,
            matrix=matrix,
        )
        for order in missing
    ]
    # Returns approved since the run was made are collected on this day too.
    listed = {s.id for s in plan_stops(plan)}
    placements += [
        insert_stop(session, plan_id=plan.id, stop=stop, now=now, matrix=matrix)
        for stop in stop_service.open_return_stops(
            session, depot_id=plan.depot_id, day=plan.delivery_day
        )
        if stop.id not in listed
    ]
    plan.published_at = now
    routed = [v.stop for r in plan.routes for v in r.visits]
    stop_service.placed(session, routed, now=now)
    on_routes = {s.order_id for s in routed}
    dropped = session.scalars(
        select(Order).where(
            Order.depot_id == plan.depot_id,
            Order.delivery_day == plan.delivery_day,
            Order.status == OrderStatus.PLANNED,
            Order.id.not_in([i for i in on_routes if i is not None]),
        )
    ).all()
    stop_service.unplaced(session, stop_service.delivery_stops(session, list(dropped)), now=now)
    session.flush()
    return plan, placements
