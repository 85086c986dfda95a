"""A courier's day as their phone shows it (C2): their routes of the published plans, each
stop with what the courier needs at the door, and the rest of the day projected from what
they reported (C3). Customer names and phones are there only on the stop's own day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.fleet import inspection
from app.fleet.models import Courier
from app.planning.models import PlanRoute, Stop
from app.planning.progress import courier_routes, projection

# The maps app couriers in Moscow use; "{lat}" and "{lon}" are filled in.
DEFAULT_NAVIGATOR = "https://yandex.ru/maps/?rtext=~{lat},{lon}&rtt=auto"


@dataclass(frozen=True, slots=True)
class Item:
    name: str
    quantity: int


@dataclass(frozen=True, slots=True)
class DayStop:
    stop_id: int
    sequence: int
    number: str
    kind: str
    address: str
    instructions: str | None  # entrance, floor, code: from the address and the order
    lat: float
    lon: float
    window_start: datetime
    window_end: datetime
    planned_at: datetime
    eta: datetime | None  # projected from the reports; None once the stop is reported
    at_risk: bool
    hand_over: tuple[Item, ...]
    collect: tuple[Item, ...]
    customer: str | None  # only on the stop's own day
    phone: str | None
    arrived_at: datetime | None
    completed_at: datetime | None
    outcome: str | None
    failure_reason: str | None
    geo_uri: str
    navigator_url: str


@dataclass(frozen=True, slots=True)
class DayRoute:
    route_id: int
    shift_id: int
    day: date
    today: bool
    vehicle: str
    start_at: datetime
    end_at: datetime
    break_start_at: datetime | None
    break_end_at: datetime | None
    inspected: bool  # passed its check for this shift: the route is open
    stops: tuple[DayStop, ...]


def _hand_over(stop: Stop) -> tuple[Item, ...]:
    """What the courier hands over: the order's goods, or a return's new goods."""
    if stop.return_case_id is not None:
        return tuple(Item(g["name"], g["quantity"]) for g in stop.goods or () if not g["collect"])
    order = stop.order
    return tuple(Item(i.product.name, i.quantity) for i in order.items) if order else ()


def _stops(
    session: Session, route: PlanRoute, today: bool, now: datetime, navigator: str
) -> tuple[DayStop, ...]:
    progress = projection(session, route.plan, now=now)
    out = []
    for visit in route.visits:
        stop = visit.stop
        order = stop.order
        p = progress.get(visit.id)
        notes = [order.address.instructions, order.notes] if order is not None else []
        out.append(
            DayStop(
                stop_id=stop.id,
                sequence=visit.sequence,
                number=stop.label,
                kind=stop.kind,
                address=order.address.line if order else "",
                instructions=" · ".join(n for n in notes if n) or None,
                lat=stop.lat,
                lon=stop.lon,
                window_start=stop.window_start_at,
                window_end=stop.window_end_at,
                planned_at=visit.start_at,
                eta=p.projected_start if p else None,
                at_risk=bool(p and p.at_risk),
                hand_over=_hand_over(stop),
                collect=tuple(
                    Item(g["name"], g["quantity"]) for g in stop.goods or () if g["collect"]
                ),
                customer=order.customer.name if order and today else None,
                phone=order.customer.phone if order and today else None,
                arrived_at=stop.arrived_at,
                completed_at=stop.completed_at,
                outcome=stop.outcome,
                failure_reason=stop.failure_reason,
                geo_uri=f"geo:{stop.lat:.6f},{stop.lon:.6f}?q={stop.lat:.6f},{stop.lon:.6f}"
                f"({quote(stop.label)})",
                navigator_url=navigator.format(lat=f"{stop.lat:.6f}", lon=f"{stop.lon:.6f}"),
            )
        )
    return tuple(out)


def courier_day(
    session: Session, *, courier: Courier, now: datetime, navigator: str = DEFAULT_NAVIGATOR
) -> list[DayRoute]:
    """The courier's routes from today on, in order."""
    tz = ZoneInfo(courier.depot.timezone)
    today = now.astimezone(tz).date()
    out = []
    for route in courier_routes(session, courier_id=courier.id, now=now):
        day = route.plan.delivery_day
        out.append(
            DayRoute(
                route_id=route.id,
                shift_id=route.shift_id,
                day=day,
                today=day == today,
                vehicle=route.vehicle.registration,
                start_at=route.start_at,
                end_at=route.end_at,
                break_start_at=route.break_start_at,
                break_end_at=route.break_end_at,
                inspected=inspection.passed_for(session, route.shift_id) is not None,
                stops=_stops(session, route, day == today, now, navigator),
            )
        )
    return out
