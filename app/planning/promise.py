"""The promise engine (R6): which windows can we still offer this address?

Answered from the day's current plan (the published one, else the newest ready draft) by an
insertion check: a window is offered when some courier still at the depot can take the
order inside it without making any planned stop late, without overloading the vehicle and
within the shift. Nothing is solved. The plan's insertion positions are built once per plan
revision and cached in the process, so a checkout asks in milliseconds.

A day with no plan yet is judged against its shifts: some courier can reach the address in
the window and be back by the end of the shift, and the goods already accepted for the day
plus these fit the vehicles. The first planning wave replaces that estimate with a plan.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog.models import Product
from app.errors import Conflict, ErrorCollector
from app.fleet.models import Depot
from app.messages import Message, say
from app.orders.models import Order, OrderItem
from app.orders.windows import DayWindow, local_midnight, windows_for_day
from app.planning.editing import insert_order
from app.planning.enums import Reason
from app.planning.models import Plan
from app.planning.problem import (
    PLANNABLE,
    assemble,
    day_shifts,
    offset_s,
    plan_problem,
    route_specs,
    service_s,
)
from app.planning.services import current_plan
from routing.insertion import InsertionIndex, NewStop, Outcome, RouteSpec, Travel
from routing.matrix import GeodesicMatrix
from routing.model import TimeWindow

# Ordering for the window has closed: the one reason a window is not offered that is not
# routing's (the others are routing.plan.Reason names).
CUTOFF_PASSED: Final = "CUTOFF_PASSED"

# What a customer reads next to a window on offer no longer, by routing's reason.
MESSAGES = {
    Reason.WINDOW_UNREACHABLE: say(
        "No courier can reach this address in this window without making another customer "
        "wait; choose a later window."
    ),
    Reason.NO_VEHICLE_WITH_SKILL: say(
        "No courier can reach this address in this window without making another customer "
        "wait; choose a later window."
    ),
    Reason.CAPACITY: say("The vans are full for this window; choose another one."),
    Reason.NO_OPEN_ROUTE: say(
        "Every courier of that day has already left the depot; choose another day."
    ),
}


def cutoff_passed(cutoff: datetime) -> Message:
    """Why a window is closed: when it closed (``cutoff`` in the depot's time)."""
    return say(
        "Orders for this window closed at %(time)s on %(day)s.",
        time=f"{cutoff:%H:%M}",
        day=cutoff.date(),
    )


@dataclass(frozen=True, slots=True)
class Offer:
    day: date
    window: DayWindow
    available: bool
    reason: Reason | Literal["CUTOFF_PASSED"] | None = None
    message: Message | None = None


@dataclass(frozen=True)
class DayIndex:
    """Insertion positions of one day's plan (or of its empty shifts) with the matrix points."""

    index: InsertionIndex
    points: np.ndarray  # (n, 2) lat, lon of each matrix location
    epoch: datetime
    from_plan: bool
    accepted_units: int = 0  # goods already accepted for the day (no-plan estimate only)


_CACHE: OrderedDict[tuple[object, ...], DayIndex] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 32


def _cached(key: tuple[object, ...], build: Callable[[], DayIndex]) -> DayIndex:
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    built = build()  # outside the lock: two first callers may both build, which is harmless
    with _CACHE_LOCK:
        _CACHE[key] = built
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return built


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def _plan_index(session: Session, plan: Plan, matrix: GeodesicMatrix) -> DayIndex:
    def build() -> DayIndex:
        day = plan_problem(session, plan, matrix=matrix)
        return DayIndex(
            InsertionIndex(day.problem, route_specs(day, plan)),
            np.asarray(day.points, dtype=np.float64),
            day.epoch,
            from_plan=True,
        )

    return _cached(("plan", plan.id, plan.revision), build)


def _fleet_index(
    session: Session, depot: Depot, day: date, matrix: GeodesicMatrix
) -> DayIndex | None:
    epoch = local_midnight(day, ZoneInfo(depot.timezone))
    shifts = day_shifts(session, depot.id, epoch)
    if not shifts:
        return None
    accepted = session.scalar(
        select(func.coalesce(func.sum(OrderItem.quantity * Product.load_units), 0))
        .join(Order, OrderItem.order_id == Order.id)
        .join(Product, OrderItem.product_id == Product.id)
        .where(Order.depot_id == depot.id, Order.delivery_day == day, Order.status.in_(PLANNABLE))
    )
    key = ("fleet", depot.id, day, tuple(s.id for s in shifts), int(accepted or 0))

    def build() -> DayIndex:
        # The day's shifts over no stops at all: each an empty route from the depot and back.
        day_problem = assemble(depot, epoch, [], shifts, matrix=matrix)
        routes = [RouteSpec(k, ()) for k in range(len(shifts))]
        return DayIndex(
            InsertionIndex(day_problem.problem, routes),
            np.asarray(day_problem.points, dtype=np.float64),
            epoch,
            from_plan=False,
            accepted_units=int(accepted or 0),
        )

    return _cached(key, build)


def load_units(session: Session, items: Sequence[tuple[str, int]]) -> int:
    """Load of a basket given as (SKU, quantity); unknown SKUs are reported by position."""
    errors = ErrorCollector()
    total = 0
    for i, (sku, quantity) in enumerate(items):
        product = session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            errors.add(f"items.{i}", say("There is no product with SKU %(sku)s.", sku=sku))
        elif quantity < 1:
            errors.add(f"items.{i}", say("Quantity must be at least 1."))
        else:
            total += product.load_units * quantity
    errors.raise_if_any()
    return total


def offers(
    session: Session,
    *,
    depot: Depot,
    lat: float,
    lon: float,
    now: datetime,
    days: int = 3,
    units: int = 0,
    matrix: GeodesicMatrix | None = None,
) -> list[Offer]:
    """Every window of today and the next days, each available or not and why."""
    matrix = matrix or GeodesicMatrix()
    tz = ZoneInfo(depot.timezone)
    today = now.astimezone(tz).date()
    out: list[Offer] = []
    for d in range(days):
        day = today + timedelta(days=d)
        windows = windows_for_day(session, depot.id, day, tz)
        if not any(w.is_open(now) for w in windows):
            out += [_closed(day, w, tz) for w in windows]
            continue
        plan = current_plan(session, depot_id=depot.id, day=day)
        found = (
            _plan_index(session, plan, matrix)
            if plan is not None
            else _fleet_index(session, depot, day, matrix)
        )
        travel = _travel(found, matrix, (lat, lon)) if found is not None else None
        for w in windows:
            if not w.is_open(now):
                out.append(_closed(day, w, tz))
                continue
            if found is None or travel is None:
                out.append(_no(day, w, Reason.NO_OPEN_ROUTE, say("No courier works that day yet.")))
                continue
            stop = NewStop(
                windows=(
                    TimeWindow(offset_s(w.start_at, found.epoch), offset_s(w.end_at, found.epoch)),
                ),
                service_s=service_s(units),
                delivery=(units,),
            )
            not_before = offset_s(now, found.epoch)
            outcome = found.index.insertions(stop, travel, not_before_s=not_before)
            if outcome.refusal is not None:
                out.append(_no(day, w, outcome.refusal))
            elif not found.from_plan and not _fleet_has_room(found, outcome, units):
                out.append(_no(day, w, Reason.CAPACITY))
            else:
                out.append(Offer(day, w, True))
    return out


def _fleet_has_room(found: DayIndex, outcome: Outcome, units: int) -> bool:
    problem = found.index.problem
    room = sum(
        problem.vehicles[found.index.routes[i.route].vehicle].capacity[0]
        for i in outcome.insertions
    )
    return found.accepted_units + units <= room


def _travel(found: DayIndex, matrix: GeodesicMatrix, point: tuple[float, float]) -> Travel:
    profiles = found.index.profiles
    metres, seconds = matrix.between([point], found.points, profiles)
    # Geodesic travel is symmetric: one row serves both directions.
    return Travel(
        to_s={p: seconds[p][0] for p in profiles},
        from_s={p: seconds[p][0] for p in profiles},
        to_m=metres[0],
        from_m=metres[0],
    )


def _closed(day: date, w: DayWindow, tz: ZoneInfo) -> Offer:
    message = cutoff_passed(w.cutoff_at.astimezone(tz))
    return Offer(day, w, False, CUTOFF_PASSED, message)


def _no(day: date, w: DayWindow, reason: Reason, message: Message | None = None) -> Offer:
    return Offer(day, w, False, reason, message or MESSAGES[reason])


def place_accepted_order(session: Session, order: Order, *, now: datetime) -> None:
    """A new order joins its day's current plan at once, or is refused with the reason.

    Without a plan for the day, the next planning wave takes it.
    """
    plan = current_plan(session, depot_id=order.depot_id, day=order.delivery_day)
    if plan is None:
        return
    placed = insert_order(session, plan_id=plan.id, order_id=order.id, now=now)
    if not placed.placed:
        start = order.window_start_at.astimezone(ZoneInfo(order.depot.timezone))
        raise Conflict(
            say(
                "The %(time)s window on %(day)s can no longer be promised for this address: "
                "%(reason)s Ask GET /api/v1/delivery-windows for the windows still open.",
                time=f"{start:%H:%M}",
                day=order.delivery_day,
                reason=placed.reason or "",
            )
        )
