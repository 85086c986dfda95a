"""Stops: made from their source, followed through plan versions, ended by their courier.

This module is the one place where a stop's outcome changes its source's status (an order
today, a return case later), so that one hook (``_source_changed``) can tell the customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.orders import services as order_services
from app.orders.models import Order, OrderStatus
from app.planning.enums import FailureReason, StopKind, StopOutcome
from app.planning.models import Stop

# Parking, the walk to the door and the handover, plus a little per unit carried.
SERVICE_S_BASE = 240
SERVICE_S_PER_UNIT = 20


def service_s(load_units: int) -> int:
    return SERVICE_S_BASE + SERVICE_S_PER_UNIT * load_units


def _refresh(stop: Stop, order: Order) -> None:
    """Where, when and how much, as the order says now (until the courier starts it)."""
    stop.lat, stop.lon = order.address.lat, order.address.lon
    stop.window_start_at, stop.window_end_at = order.window_start_at, order.window_end_at
    stop.delivery_units = order.load_units
    stop.service_s = service_s(order.load_units)


def delivery_stops(session: Session, orders: Sequence[Order]) -> list[Stop]:
    """Each order's delivery stop on its delivery day, in the orders' order: made on first
    need, refreshed from the order while nobody has reported it."""
    if not orders:
        return []
    found = {
        (s.order_id, s.delivery_day): s
        for s in session.scalars(
            select(Stop).where(
                Stop.order_id.in_([o.id for o in orders]), Stop.kind == StopKind.DELIVERY
            )
        )
    }
    out = []
    for order in orders:
        stop = found.get((order.id, order.delivery_day))
        if stop is None:
            stop = Stop(
                depot_id=order.depot_id,
                delivery_day=order.delivery_day,
                kind=StopKind.DELIVERY,
                order=order,
                order_id=order.id,
                pickup_units=0,
            )
            _refresh(stop, order)
            session.add(stop)
        elif not stop.reported:
            _refresh(stop, order)
        out.append(stop)
    session.flush()
    return out


def delivery_stop(session: Session, order: Order) -> Stop:
    (stop,) = delivery_stops(session, [order])
    return stop


def stops_by_id(session: Session, ids: Iterable[int]) -> dict[int, Stop]:
    wanted = list(dict.fromkeys(ids))
    return {s.id: s for s in session.scalars(select(Stop).where(Stop.id.in_(wanted)))}


def _source_changed(session: Session, stop: Stop, status: OrderStatus, *, now: datetime) -> None:
    """The one place a stop moves its source's status (and, later, tells the customer)."""
    order = stop.order
    if order is None or order.status == status:
        return
    if status is OrderStatus.DELIVERED:
        order_services.mark_delivered(session, order_id=order.id, now=now)
    else:
        order.status = status


def placed(session: Session, stops: Iterable[Stop], *, now: datetime) -> None:
    """On a published plan's route: a new order is planned."""
    for stop in stops:
        if stop.order is not None and stop.order.status == OrderStatus.NEW:
            _source_changed(session, stop, OrderStatus.PLANNED, now=now)


def unplaced(session: Session, stops: Iterable[Stop], *, now: datetime) -> None:
    """Off every route of the published plan again: a planned order waits anew."""
    for stop in stops:
        if stop.order is not None and stop.order.status == OrderStatus.PLANNED:
            _source_changed(session, stop, OrderStatus.NEW, now=now)


def loaded(session: Session, stops: Iterable[Stop], *, now: datetime) -> None:
    """The route left the depot with these stops' goods on board."""
    for stop in stops:
        if stop.order is not None and stop.order.status in (OrderStatus.NEW, OrderStatus.PLANNED):
            _source_changed(session, stop, OrderStatus.OUT_FOR_DELIVERY, now=now)


def arrive(stop: Stop, *, at: datetime, courier_id: int | None) -> None:
    stop.arrived_at = stop.arrived_at or at
    stop.reported_by_courier_id = courier_id or stop.reported_by_courier_id


def complete(
    session: Session,
    stop: Stop,
    outcome: StopOutcome,
    *,
    at: datetime,
    courier_id: int | None,
    reason: FailureReason | None = None,
    note: str | None = None,
    recipient: str | None = None,
) -> None:
    """Record how the stop ended (``at`` is the courier's time) and move its source."""
    arrive(stop, at=at, courier_id=courier_id)
    stop.completed_at = at
    stop.outcome = outcome
    stop.failure_reason = reason if outcome is StopOutcome.FAILED else None
    stop.failure_note = note
    stop.recipient_name = recipient
    if outcome is StopOutcome.FAILED:
        _source_changed(session, stop, OrderStatus.FAILED, now=at)
    elif outcome in (StopOutcome.DELIVERED, StopOutcome.EXCHANGED):
        _source_changed(session, stop, OrderStatus.DELIVERED, now=at)
