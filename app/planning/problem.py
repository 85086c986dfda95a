"""Between the database and ``routing``: a day's stops and shifts as a routing problem, and
a routing route as a stored one.

Routing times are seconds since local midnight of the delivery day. A route is *under way*
once its courier has reported a stop: it has left the depot, the goods of its remaining
stops are on board, so in the problem it starts where the courier is free next, carries
exactly those goods and nothing can be added to it (R5). ``UnderWay`` is the one place
that says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.errors import DomainError, NotFound
from app.fleet.models import Depot, Shift, Vehicle
from app.messages import say
from app.orders.models import Order, OrderItem, OrderStatus
from app.orders.windows import local_midnight
from app.planning import stops as stop_service
from app.planning.models import Plan, PlanRoute, PlanVisit, Stop
from routing import model as rm
from routing.insertion import NewStop, RouteSpec
from routing.matrix import GeodesicMatrix, MatrixProvider
from routing.plan import Route

PLANNABLE = (OrderStatus.NEW, OrderStatus.PLANNED)
# A day has a thousand orders: load addresses and items with them, not one by one.
ORDER_LOADING = (
    selectinload(Order.address),
    selectinload(Order.items).selectinload(OrderItem.product),
)
service_s = stop_service.service_s


class NothingToPlanWith(DomainError):
    pass


def offset_s(moment: datetime, epoch: datetime) -> int:
    """Routing time: whole seconds since the day's local midnight, never negative."""
    return max(0, int((moment - epoch).total_seconds()))


@dataclass(frozen=True)
class UnderWay:
    """A route that has left the depot: its fixed visits and where its courier is free next."""

    shift_id: int
    fixed: list[PlanVisit]  # the reported visits and every visit before them, in order
    remaining: list[PlanVisit]  # on board, not yet reported
    ready_at: datetime

    @property
    def point(self) -> tuple[float, float]:
        last = self.fixed[-1].stop
        return (last.lat, last.lon)

    @property
    def fixed_points(self) -> list[tuple[float, float]]:
        return [(v.stop.lat, v.stop.lon) for v in self.fixed]


def under_way(route: PlanRoute) -> UnderWay | None:
    """The route's fixed part, if its courier has reported a stop; else None."""
    reported = [n for n, v in enumerate(route.visits) if v.reported]
    if not reported:
        return None
    last = route.visits[reported[-1]]
    if last.stop.completed_at is not None:
        ready = last.stop.completed_at
    else:
        assert last.stop.arrived_at is not None
        ready = last.stop.arrived_at + (last.departure_at - last.start_at)
    return UnderWay(
        shift_id=route.shift_id,
        fixed=list(route.visits[: reported[-1] + 1]),
        remaining=list(route.visits[reported[-1] + 1 :]),
        ready_at=ready,
    )


def routes_under_way(plan: Plan) -> list[UnderWay]:
    return [u for r in plan.routes if (u := under_way(r)) is not None]


def _with_shifts(session: Session, shifts: list[Shift], shift_ids: Iterable[int]) -> list[Shift]:
    """The day's shifts plus those a plan still uses (a vehicle since taken out of service)."""
    known = {s.id for s in shifts}
    return shifts + [session.get_one(Shift, i) for i in dict.fromkeys(shift_ids) if i not in known]


@dataclass(frozen=True)
class DayProblem:
    problem: rm.Problem
    epoch: datetime  # local midnight of the day: routing times are seconds since then
    stops: list[Stop]  # routing stop i is stops[i]
    shifts: list[Shift]  # vehicle k is shifts[k]
    points: list[tuple[float, float]]  # matrix location i at (lat, lon)
    under_way: dict[int, UnderWay]  # by shift id; they start where their courier is
    stop_index: dict[int, int] = field(init=False)  # by stop id
    vehicle_index: dict[int, int] = field(init=False)  # by shift id

    def __post_init__(self) -> None:
        object.__setattr__(self, "stop_index", {s.id: i for i, s in enumerate(self.stops)})
        object.__setattr__(self, "vehicle_index", {s.id: k for k, s in enumerate(self.shifts)})

    def seconds(self, moment: datetime) -> int:
        return offset_s(moment, self.epoch)

    def at(self, seconds: int) -> datetime:
        return self.epoch + timedelta(seconds=seconds)

    def label(self, stop: int) -> str:
        return self.stops[stop].label


def day_shifts(session: Session, depot_id: int, epoch: datetime) -> list[Shift]:
    return list(
        session.scalars(
            select(Shift)
            .join(Vehicle, Shift.vehicle_id == Vehicle.id)
            .where(
                Shift.depot_id == depot_id,
                Vehicle.in_service,
                Shift.starts_at < epoch + timedelta(days=1),
                Shift.ends_at > epoch,
            )
            .order_by(Shift.starts_at, Shift.id)
            .options(selectinload(Shift.vehicle), selectinload(Shift.courier))
        )
    )


def shift_breaks(shift: Shift, epoch: datetime, free_from_s: int) -> tuple[rm.Break, ...]:
    """The shift's break as routing's rule: ``break_minutes`` starting early enough to end by
    ``break_until_at``. A break that can no longer start (its time has passed while the
    route was under way, so it was taken or is lost) is not asked for again."""
    if shift.break_minutes is None or shift.break_from_at is None or shift.break_until_at is None:
        return ()
    duration = 60 * shift.break_minutes
    latest = offset_s(shift.break_until_at, epoch) - duration
    earliest = offset_s(shift.break_from_at, epoch)
    if latest < max(earliest, free_from_s):
        return ()
    return (rm.Break(rm.TimeWindow(earliest, latest), duration, id=f"break-{shift.id}"),)


def _routing_stop(stop: Stop, location: int, epoch: datetime, skills: frozenset[str]) -> rm.Stop:
    return rm.Stop(
        id=stop.label,
        kind=rm.StopKind(stop.kind),
        location=location,
        windows=(
            rm.TimeWindow(
                offset_s(stop.window_start_at, epoch), offset_s(stop.window_end_at, epoch)
            ),
        ),
        service_s=stop.service_s,
        delivery=(stop.delivery_units,),
        pickup=(stop.pickup_units,),
        skills=skills,
    )


def assemble(
    depot: Depot,
    epoch: datetime,
    stops: Sequence[Stop],
    shifts: Sequence[Shift],
    *,
    matrix: MatrixProvider | None = None,
    now: datetime | None = None,
    under_way: Iterable[UnderWay] = (),
) -> DayProblem:
    """The routing problem over these stops and shifts; nothing starts before ``now``."""
    going = {u.shift_id: u for u in under_way}
    stops, shifts = list(stops), list(shifts)
    points = [(depot.lat, depot.lon)] + [(s.lat, s.lon) for s in stops]
    depots = [rm.Depot(depot.code, 0)]
    for u in going.values():
        depots.append(rm.Depot(f"courier-{u.shift_id}", len(points)))
        points.append(u.point)
    profiles = sorted({s.vehicle.type for s in shifts if s.vehicle is not None})
    distance, durations = (matrix or GeodesicMatrix()).matrices(points, profiles)
    now_s = offset_s(now, epoch) if now is not None else 0
    on_board = {v.stop.id: u.shift_id for u in going.values() for v in u.remaining}
    # Goods are loaded at the depot: a vehicle out on the road can take no new stop.
    loads = frozenset({"loaded-at-depot"} if going else ())
    routing_stops = [
        _routing_stop(
            s,
            i + 1,
            epoch,
            frozenset({f"on-board-{on_board[s.id]}"}) if s.id in on_board else loads,
        )
        for i, s in enumerate(stops)
    ]
    by_id = {s.id: s for s in stops}
    vehicles = []
    seen: set[str] = set()
    for s in shifts:
        assert s.vehicle is not None
        ident = f"{s.vehicle.registration}/{s.courier.name}"
        if ident in seen:
            ident = f"{ident}/{s.id}"
        seen.add(ident)
        late = offset_s(s.ends_at, epoch)
        early = max(offset_s(s.starts_at, epoch), now_s)
        start, capacity = 0, s.vehicle.capacity_units
        skills = frozenset(s.courier.skills) | frozenset(s.vehicle.skills or ())
        u = going.get(s.id)
        if u is not None:
            start = 1 + list(going).index(s.id)
            early = max(early, offset_s(u.ready_at, epoch))
            # Only what is on board can still be delivered until it comes back to the depot.
            # (and room for what its return stops collect).
            capacity = sum(
                by_id[v.stop.id].delivery_units + by_id[v.stop.id].pickup_units for v in u.remaining
            )
            skills = skills | {f"on-board-{s.id}"}
        else:
            skills = skills | loads
        vehicles.append(
            rm.Vehicle(
                id=ident,
                capacity=(capacity,),
                shift=rm.TimeWindow(min(early, late), late),
                start_depot=start,
                end_depot=0,
                profile=s.vehicle.type,
                skills=skills,
                breaks=shift_breaks(s, epoch, min(early, late)),
            )
        )
    problem = rm.Problem(
        depots=depots,
        vehicles=vehicles,
        stops=routing_stops,
        distance_m=distance,
        duration_s=durations,
    )
    return DayProblem(problem, epoch, stops, shifts, points, going)


def day_orders(
    session: Session, *, depot_id: int, day: date, also: Iterable[int] = ()
) -> list[Order]:
    """The day's orders still to plan, plus the orders ``also`` names (goods on board)."""
    also = set(also)
    return [
        o
        for o in session.scalars(
            select(Order)
            .where(
                Order.depot_id == depot_id,
                Order.delivery_day == day,
                Order.status.in_((*PLANNABLE, OrderStatus.OUT_FOR_DELIVERY)) | Order.id.in_(also),
            )
            .order_by(Order.window_start_at, Order.id)
            .options(*ORDER_LOADING)
        )
        if o.status in PLANNABLE or o.id in also
    ]


def build_problem(
    session: Session,
    *,
    depot_id: int,
    day: date,
    matrix: MatrixProvider | None = None,
    now: datetime | None = None,
    under_way: Iterable[UnderWay] = (),
) -> DayProblem:
    """Every stop of the day still to serve over every shift with a vehicle in service; the
    fixed visits of routes under way are not planned again."""
    depot = session.get(Depot, depot_id)
    if depot is None:
        raise NotFound(say("There is no depot %(id)s.", id=depot_id))
    epoch = local_midnight(day, ZoneInfo(depot.timezone))
    shifts = day_shifts(session, depot_id, epoch)
    if not shifts:
        raise NothingToPlanWith(
            say(
                "No courier has a shift with a vehicle in service at %(depot)s on %(day)s; add "
                "shifts or put a vehicle back in service, then plan again.",
                depot=depot.name,
                day=day,
            )
        )
    under_way = list(under_way)
    on_board = [v.stop for u in under_way for v in u.remaining]
    fixed = {v.stop.id for u in under_way for v in u.fixed}
    orders = day_orders(
        session, depot_id=depot_id, day=day, also=[s.order_id for s in on_board if s.order_id]
    )
    stops = stop_service.delivery_stops(session, orders)
    stops += stop_service.open_return_stops(session, depot_id=depot_id, day=day)
    stops = [s for s in stops if s.id not in fixed]
    shifts = _with_shifts(session, shifts, [u.shift_id for u in under_way])
    return assemble(depot, epoch, stops, shifts, matrix=matrix, now=now, under_way=under_way)


def plan_stops(plan: Plan) -> list[Stop]:
    """A plan's stops: those on its routes in route order, then those it left out."""
    return [v.stop for r in plan.routes for v in r.visits] + [u.stop for u in plan.unassigned]


def plan_problem(
    session: Session,
    plan: Plan,
    *,
    extra: Sequence[Stop] = (),
    matrix: MatrixProvider | None = None,
    now: datetime | None = None,
    project: bool = False,
) -> DayProblem:
    """A stored plan's stops (routed and not) and every shift of its day, plus ``extra``.

    With ``project``, routes under way start where their courier is free next, so re-timing
    them projects the rest of the day from what was reported.
    """
    depot = session.get_one(Depot, plan.depot_id)
    epoch = local_midnight(plan.delivery_day, ZoneInfo(depot.timezone))
    stops = plan_stops(plan)
    known = {s.id for s in stops}
    stops += [s for s in extra if s.id not in known]
    shifts = _with_shifts(
        session, day_shifts(session, plan.depot_id, epoch), [r.shift_id for r in plan.routes]
    )
    going = routes_under_way(plan) if project else []
    return assemble(depot, epoch, stops, shifts, matrix=matrix, now=now, under_way=going)


def route_specs(day: DayProblem, plan: Plan) -> list[RouteSpec]:
    """One route per shift of the day, in vehicle order; a route under way takes nothing new."""
    stored = {r.shift_id: r for r in plan.routes}
    specs = []
    for k, shift in enumerate(day.shifts):
        route = stored.get(shift.id)
        visits = route.visits if route is not None else []
        specs.append(
            RouteSpec(
                k,
                tuple(day.stop_index[v.stop.id] for v in visits),
                under_way=route is not None and route.under_way,
            )
        )
    return specs


def new_stop(stop: rm.Stop) -> NewStop:
    return NewStop(stop.windows, stop.service_s, stop.delivery, stop.pickup, stop.skills)


def route_row(
    day: DayProblem,
    vehicle: int,
    route: Route | None,
    fixed: UnderWay | None = None,
    *,
    matrix: MatrixProvider | None = None,
) -> PlanRoute:
    """A stored route: the fixed visits of a route under way, then the timed ones."""
    shift = day.shifts[vehicle]
    assert shift.vehicle_id is not None
    visits = route.visits if route is not None else ()
    stored = PlanRoute(
        shift_id=shift.id,
        vehicle_id=shift.vehicle_id,
        courier_id=shift.courier_id,
        start_at=day.at(route.start_s if route is not None else 0),
        end_at=day.at(route.end_s if route is not None else 0),
        distance_m=route.distance_m if route is not None else 0,
        load_start=list(route.load_start) if route is not None else [0],
    )
    if route is not None and route.breaks:
        stored.break_start_at = day.at(route.breaks[0].start_s)
        stored.break_end_at = day.at(route.breaks[0].end_s)
    if fixed is not None:
        # The route began at the depot with everything on board; the prefix is kept as it was.
        first = fixed.fixed[0].route
        stored.start_at = first.start_at
        stored.load_start = list(first.load_start)
        points = [day.points[0], *fixed.fixed_points]
        dist, _ = (matrix or GeodesicMatrix()).matrices(points, [])
        stored.distance_m += sum(int(dist[i, i + 1]) for i in range(len(points) - 1))
        if route is None:
            stored.end_at = fixed.ready_at
        # A break that fell in the part already driven stays where it was.
        taken = first.break_start_at
        if stored.break_start_at is None and taken is not None and taken < fixed.ready_at:
            stored.break_start_at, stored.break_end_at = taken, first.break_end_at
        for v in fixed.fixed:
            stored.visits.append(
                PlanVisit(
                    stop=v.stop,
                    sequence=len(stored.visits) + 1,
                    arrival_at=v.arrival_at,
                    start_at=v.start_at,
                    departure_at=v.departure_at,
                    load_after=list(v.load_after),
                )
            )
    for visit in visits:
        stored.visits.append(
            PlanVisit(
                stop=day.stops[visit.stop],
                sequence=len(stored.visits) + 1,
                arrival_at=day.at(visit.arrival_s),
                start_at=day.at(visit.start_s),
                departure_at=day.at(visit.departure_s),
                load_after=list(visit.load_after),
            )
        )
    return stored


def refresh_totals(plan: Plan) -> None:
    plan.distance_m = sum(r.distance_m for r in plan.routes)
    plan.stops_assigned = sum(len(r.visits) for r in plan.routes)
    plan.stops_unassigned = len(plan.unassigned)
