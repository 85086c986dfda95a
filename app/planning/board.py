"""The dispatcher's board of one plan version, as a read model of frozen values.

Each stop carries its plan (where, when), what its courier reported and the projection of
the rest of the day from those reports (C3): pages and the API read this, and never the
tables. "Plan" means one thing per layer: ``models.Plan`` the stored version,
``routing.plan.Plan`` the search's solution, ``PlanBoard`` the page's view of a version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.fleet.models import Depot, Shift
from app.messages import Message, say
from app.orders.windows import local_midnight
from app.planning.enums import PlanStatus
from app.planning.models import Plan, PlanChange, Stop
from app.planning.problem import day_shifts
from app.planning.progress import projection
from routing.feasibility import minutes_up

# Route colours on the map and in the table: distinct at a glance, readable on white.
ROUTE_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#393b79",
    "#637939",
)


@dataclass(frozen=True, slots=True)
class BoardStop:
    stop_id: int
    sequence: int
    number: str
    address: str
    lat: float
    lon: float
    window_start: datetime
    window_end: datetime
    planned_start: datetime
    arrived_at: datetime | None
    completed_at: datetime | None
    outcome: str | None
    projected_start: datetime | None  # None once reported
    late_by: timedelta | None  # projected past the window's end
    at_risk: bool

    @property
    def late_min(self) -> int | None:
        return minutes_up(int(self.late_by.total_seconds())) if self.late_by else None


@dataclass(frozen=True, slots=True)
class BoardRoute:
    shift_id: int
    colour: str
    courier: str
    vehicle: str
    start_at: datetime
    end_at: datetime
    shift_use_percent: int  # of the shift the route takes
    distance_m: int
    load: int
    capacity: int
    under_way: bool
    stops: tuple[BoardStop, ...]
    break_start_at: datetime | None = None
    break_end_at: datetime | None = None

    @property
    def hours(self) -> float:
        return round((self.end_at - self.start_at).total_seconds() / 3600, 1)

    @property
    def km(self) -> float:
        return round(self.distance_m / 1000, 1)


@dataclass(frozen=True, slots=True)
class BoardLeftOut:
    stop_id: int
    number: str
    address: str
    lat: float
    lon: float
    reason: str  # routing's reason name
    message: Message


@dataclass(frozen=True, slots=True)
class PlanBoard:
    plan: Plan
    depot: Depot
    routes: tuple[BoardRoute, ...]
    left_out: tuple[BoardLeftOut, ...]
    changes: tuple[PlanChange, ...]  # newest first
    shifts: tuple[Shift, ...]  # of the day, for moving a stop onto any of them

    @property
    def ready(self) -> bool:
        return self.plan.status == PlanStatus.READY

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.depot.timezone)

    @property
    def km(self) -> float:
        return round((self.plan.distance_m or 0) / 1000, 1)

    @property
    def hours(self) -> float:
        return round(sum(r.hours for r in self.routes), 1)

    @property
    def at_risk(self) -> int:
        return sum(s.at_risk for r in self.routes for s in r.stops)

    def map_data(self, said: Callable[[str], str] = str) -> dict[str, Any]:
        """The routes and the stops left out as JSON values for the page's map, times on
        the depot's clock; ``said`` puts each reason in the reader's language."""

        def hhmm(moment: datetime) -> str:
            return f"{moment.astimezone(self.timezone):%H:%M}"

        return {
            "routes": [
                {
                    "colour": r.colour,
                    "courier": r.courier,
                    "stops": [
                        {
                            "stop_id": s.stop_id,
                            "seq": s.sequence,
                            "number": s.number,
                            "lat": s.lat,
                            "lon": s.lon,
                            "address": s.address,
                            "eta": hhmm(s.planned_start),
                            "window": f"{hhmm(s.window_start)}–{hhmm(s.window_end)}",
                        }
                        for s in r.stops
                    ],
                }
                for r in self.routes
            ],
            "unassigned": [
                {
                    "number": u.number,
                    "lat": u.lat,
                    "lon": u.lon,
                    "address": u.address,
                    "message": said(u.message),
                }
                for u in self.left_out
            ],
        }


def _address(stop: Stop) -> str:
    return stop.order.address.line if stop.order is not None else ""


def plan_board(session: Session, plan_id: int, now: datetime) -> PlanBoard:
    """The board of a plan version as it stands at ``now``."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(say("There is no plan %(id)s.", id=plan_id))
    depot = session.get_one(Depot, plan.depot_id)
    progress = projection(session, plan, now=now) if plan.routes else {}
    routes = []
    for n, route in enumerate(plan.routes):
        stops = []
        for visit in route.visits:
            stop, p = visit.stop, progress.get(visit.id)
            stops.append(
                BoardStop(
                    stop_id=stop.id,
                    sequence=visit.sequence,
                    number=stop.label,
                    address=_address(stop),
                    lat=stop.lat,
                    lon=stop.lon,
                    window_start=stop.window_start_at,
                    window_end=stop.window_end_at,
                    planned_start=visit.start_at,
                    arrived_at=stop.arrived_at,
                    completed_at=stop.completed_at,
                    outcome=stop.outcome,
                    projected_start=p.projected_start if p else None,
                    late_by=p.late_by if p else None,
                    at_risk=bool(p and p.at_risk),
                )
            )
        shift_length = max(route.shift.ends_at - route.shift.starts_at, timedelta(minutes=1))
        routes.append(
            BoardRoute(
                shift_id=route.shift_id,
                colour=ROUTE_COLOURS[n % len(ROUTE_COLOURS)],
                courier=route.courier.name,
                vehicle=route.vehicle.registration,
                start_at=route.start_at,
                end_at=route.end_at,
                shift_use_percent=round(100 * (route.end_at - route.start_at) / shift_length),
                distance_m=route.distance_m,
                load=route.load_start[0],
                capacity=route.vehicle.capacity_units,
                under_way=route.under_way,
                stops=tuple(stops),
                break_start_at=route.break_start_at,
                break_end_at=route.break_end_at,
            )
        )
    left_out = tuple(
        BoardLeftOut(
            stop_id=u.stop.id,
            number=u.stop.label,
            address=_address(u.stop),
            lat=u.stop.lat,
            lon=u.stop.lon,
            reason=u.reason_code,
            message=u.message,
        )
        for u in plan.unassigned
    )
    changes = session.scalars(
        select(PlanChange).where(PlanChange.plan_id == plan.id).order_by(PlanChange.id.desc())
    ).all()
    epoch = local_midnight(plan.delivery_day, ZoneInfo(depot.timezone))
    return PlanBoard(
        plan=plan,
        depot=depot,
        routes=tuple(routes),
        left_out=left_out,
        changes=tuple(changes),
        shifts=tuple(day_shifts(session, depot.id, epoch))
        if plan.status == PlanStatus.READY
        else (),
    )
