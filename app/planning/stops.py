"""Stops: made from their source, followed through plan versions, ended by their courier.

This module is the one place where a stop's outcome changes its source's status (an order
today, a return case later), so that one hook (``_source_changed``) can tell the customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

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


def return_stop(
    session: Session,
    *,
    order: Order,
    case_id: int,
    kind: StopKind,
    goods: Sequence[Mapping[str, Any]],
    day: date,
    window_start_at: datetime,
    window_end_at: datetime,
) -> Stop:
    """The stop that collects a return of ``order`` (and, for an exchange, brings the new
    goods in the same visit) at the order's address on ``day``. ``goods`` lists names and
    quantities; ``collect`` says which way each goes."""
    units = {False: 0, True: 0}
    for line in goods:
        units[bool(line["collect"])] += int(line["units"])
    called_off = session.scalar(
        select(Stop).where(
            Stop.return_case_id == case_id,
            Stop.delivery_day == day,
            Stop.called_off_at.is_not(None),
            Stop.completed_at.is_(None),
        )
    )
    # Approved again after a decline on the same day: the same visit is back on.
    stop = called_off or Stop(
        depot_id=order.depot_id,
        delivery_day=day,
        order=order,
        order_id=order.id,
        return_case_id=case_id,
    )
    stop.called_off_at = None
    stop.kind = kind
    stop.lat, stop.lon = order.address.lat, order.address.lon
    stop.window_start_at, stop.window_end_at = window_start_at, window_end_at
    stop.delivery_units, stop.pickup_units = units[False], units[True]
    stop.service_s = service_s(units[False] + units[True])
    stop.goods = [
        {"name": str(g["name"]), "quantity": int(g["quantity"]), "collect": bool(g["collect"])}
        for g in goods
    ]
    session.add(stop)
    session.flush()
    return stop


def open_return_stops(session: Session, *, depot_id: int, day: date) -> list[Stop]:
    """The day's return stops still to serve (not cancelled with their case)."""
    return list(
        session.scalars(
            select(Stop)
            .where(
                Stop.depot_id == depot_id,
                Stop.delivery_day == day,
                Stop.return_case_id.is_not(None),
                Stop.completed_at.is_(None),
                Stop.called_off_at.is_(None),
            )
            .order_by(Stop.window_start_at, Stop.id)
        )
    )


def call_off(stops: Iterable[Stop], *, at: datetime) -> None:
    """These stops are no longer wanted (a declined return): no plan takes them again."""
    for stop in stops:
        if stop.completed_at is None and stop.called_off_at is None:
            stop.called_off_at = at


def stops_of_return(session: Session, case_id: int) -> list[Stop]:
    """A return case's stops, latest day last."""
    return list(
        session.scalars(
            select(Stop).where(Stop.return_case_id == case_id).order_by(Stop.delivery_day, Stop.id)
        )
    )


def stops_by_id(session: Session, ids: Iterable[int]) -> dict[int, Stop]:
    wanted = list(dict.fromkeys(ids))
    return {s.id: s for s in session.scalars(select(Stop).where(Stop.id.in_(wanted)))}


def _source_changed(session: Session, stop: Stop, status: OrderStatus, *, now: datetime) -> None:
    """The one place a stop moves its source's status (and, later, tells the customer).

    A return stop leaves its order as it is (delivered long ago); its case reads the stop."""
    order = stop.order
    if order is None or stop.return_case_id is not None or order.status == status:
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


def done_outcome(stop: Stop) -> StopOutcome:
    """What "done" means at this stop: delivered, collected, or exchanged."""
    return {
        StopKind.PICKUP: StopOutcome.COLLECTED,
        StopKind.EXCHANGE: StopOutcome.EXCHANGED,
    }.get(StopKind(stop.kind), StopOutcome.DELIVERED)


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
