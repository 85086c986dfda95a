"""From the database to a routing problem: a day's orders and shifts, or a stored plan.

Routing times are seconds since local midnight of the delivery day. A route whose courier
has reported a stop has left the depot: the goods of its remaining stops are on board, so in
the problem it starts where the courier is free next, carries exactly those goods and
nothing can be added to it (R5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
from app.planning.models import Plan, PlanRoute, PlanVisit
from routing import model as rm
from routing.matrix import GeodesicMatrix, MatrixProvider

# Parking, the walk to the door and the handover, plus a little per unit carried.
SERVICE_S_BASE = 240
SERVICE_S_PER_UNIT = 20
PLANNABLE = (OrderStatus.NEW, OrderStatus.PLANNED)
# A day has a thousand orders: load addresses and items with them, not one by one.
ORDER_LOADING = (
    selectinload(Order.address),
    selectinload(Order.items).selectinload(OrderItem.product),
)


class NothingToPlanWith(DomainError):
    pass


def offset_s(moment: datetime, epoch: datetime) -> int:
    """Routing time: whole seconds since the day's local midnight, never negative."""
    return max(0, int((moment - epoch).total_seconds()))


def service_s(load_units: int) -> int:
    return SERVICE_S_BASE + SERVICE_S_PER_UNIT * load_units


@dataclass(frozen=True)
class UnderWay:
    """A route that has left the depot: its fixed visits and where its courier is free next."""

    shift_id: int
    fixed: list[PlanVisit]  # the reported visits and every visit before them, in order
    remaining: list[PlanVisit]  # on board, not yet reported
    fixed_points: list[tuple[float, float]]  # (lat, lon) of each fixed visit
    ready_at: datetime

    @property
    def point(self) -> tuple[float, float]:
        return self.fixed_points[-1]


def under_way(route: PlanRoute, orders: Mapping[int, Order]) -> UnderWay | None:
    reported = [n for n, v in enumerate(route.visits) if v.reported]
    if not reported:
        return None
    last = route.visits[reported[-1]]
    if last.completed_at is not None:
        ready = last.completed_at
    else:
        assert last.arrived_at is not None
        ready = last.arrived_at + (last.departure_at - last.start_at)
    fixed = list(route.visits[: reported[-1] + 1])
    return UnderWay(
        shift_id=route.shift_id,
        fixed=fixed,
        remaining=list(route.visits[reported[-1] + 1 :]),
        fixed_points=[
            (orders[v.order_id].address.lat, orders[v.order_id].address.lon) for v in fixed
        ],
        ready_at=ready,
    )


def routes_under_way(plan: Plan, orders: Mapping[int, Order]) -> list[UnderWay]:
    return [u for r in plan.routes if (u := under_way(r, orders)) is not None]


def _with_shifts(session: Session, shifts: list[Shift], shift_ids: Iterable[int]) -> list[Shift]:
    """The day's shifts plus those a plan still uses (a vehicle since taken out of service)."""
    known = {s.id for s in shifts}
    return shifts + [session.get_one(Shift, i) for i in dict.fromkeys(shift_ids) if i not in known]


@dataclass(frozen=True)
class DayProblem:
    problem: rm.Problem
    epoch: datetime  # local midnight of the day: routing times are seconds since then
    orders: list[Order]  # stop i is orders[i]
    shifts: list[Shift]  # vehicle k is shifts[k]
    points: list[tuple[float, float]]  # matrix location i at (lat, lon)
    moving: dict[int, UnderWay]  # routes under way by shift id; they start where it stands
    stop_index: dict[int, int] = field(init=False)
    vehicle_index: dict[int, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stop_index", {o.id: i for i, o in enumerate(self.orders)})
        object.__setattr__(self, "vehicle_index", {s.id: k for k, s in enumerate(self.shifts)})

    def seconds(self, moment: datetime) -> int:
        return offset_s(moment, self.epoch)

    def at(self, seconds: int) -> datetime:
        return self.epoch + timedelta(seconds=seconds)


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


def assemble(
    depot: Depot,
    epoch: datetime,
    orders: Sequence[Order],
    shifts: Sequence[Shift],
    *,
    matrix: MatrixProvider | None = None,
    now: datetime | None = None,
    moving: Iterable[UnderWay] = (),
) -> DayProblem:
    """The routing problem over these orders and shifts; nothing starts before ``now``."""
    moving_by_shift = {u.shift_id: u for u in moving}
    orders, shifts = list(orders), list(shifts)
    points = [(depot.lat, depot.lon)] + [(o.address.lat, o.address.lon) for o in orders]
    depots = [rm.Depot(depot.code, 0)]
    for u in moving_by_shift.values():
        depots.append(rm.Depot(f"courier-{u.shift_id}", len(points)))
        points.append(u.point)
    profiles = sorted({s.vehicle.type for s in shifts if s.vehicle is not None})
    distance, durations = (matrix or GeodesicMatrix()).matrices(points, profiles)
    now_s = offset_s(now, epoch) if now is not None else 0
    on_board = {v.order_id: u.shift_id for u in moving_by_shift.values() for v in u.remaining}
    # Goods are loaded at the depot: a vehicle out on the road can take no new order.
    loads = {"loaded-at-depot"} if moving_by_shift else set()
    stops = [
        rm.Stop(
            id=o.number,
            kind=rm.StopKind.DELIVERY,
            location=i + 1,
            windows=(
                rm.TimeWindow(offset_s(o.window_start_at, epoch), offset_s(o.window_end_at, epoch)),
            ),
            service_s=service_s(o.load_units),
            delivery=(o.load_units,),
            skills=frozenset({f"on-board-{on_board[o.id]}"} if o.id in on_board else loads),
        )
        for i, o in enumerate(orders)
    ]
    load_of = {o.id: o.load_units for o in orders}
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
        skills = frozenset(s.courier.skills)
        u = moving_by_shift.get(s.id)
        if u is not None:
            start = 1 + list(moving_by_shift).index(s.id)
            early = max(early, offset_s(u.ready_at, epoch))
            # Only what is on board can still be delivered until it comes back to the depot.
            capacity = sum(load_of[v.order_id] for v in u.remaining)
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
            )
        )
    problem = rm.Problem(
        depots=depots, vehicles=vehicles, stops=stops, distance_m=distance, duration_s=durations
    )
    return DayProblem(problem, epoch, orders, shifts, points, moving_by_shift)


def build_problem(
    session: Session,
    *,
    depot_id: int,
    day: date,
    matrix: MatrixProvider | None = None,
    now: datetime | None = None,
    moving: Iterable[UnderWay] = (),
    exclude_order_ids: Iterable[int] = (),
) -> DayProblem:
    """Every plannable order of the day over every shift with a vehicle in service."""
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
    moving = list(moving)
    on_board = {v.order_id for u in moving for v in u.remaining}
    excluded = set(exclude_order_ids)
    orders = [
        o
        for o in session.scalars(
            select(Order)
            .where(
                Order.depot_id == depot_id,
                Order.delivery_day == day,
                Order.status.in_((*PLANNABLE, OrderStatus.OUT_FOR_DELIVERY))
                | Order.id.in_(on_board),
            )
            .order_by(Order.window_start_at, Order.id)
            .options(*ORDER_LOADING)
        )
        if (o.status in PLANNABLE or o.id in on_board) and o.id not in excluded
    ]
    shifts = _with_shifts(session, shifts, [u.shift_id for u in moving])
    return assemble(depot, epoch, orders, shifts, matrix=matrix, now=now, moving=moving)


def plan_orders(session: Session, plan: Plan) -> list[Order]:
    """A plan's orders: those on its routes in route order, then those it left out."""
    order_ids = [v.order_id for r in plan.routes for v in r.visits]
    order_ids += [u.order_id for u in plan.unassigned]
    loaded = {
        o.id: o
        for o in session.scalars(
            select(Order).where(Order.id.in_(order_ids)).options(*ORDER_LOADING)
        )
    }
    return [loaded[i] for i in order_ids]


def plan_problem(
    session: Session,
    plan: Plan,
    *,
    extra_orders: Sequence[Order] = (),
    matrix: MatrixProvider | None = None,
    now: datetime | None = None,
    project: bool = False,
) -> DayProblem:
    """A stored plan's orders (routed and not) and every shift of its day, plus extras.

    With ``project``, routes under way start where their courier is free next, so re-timing
    them projects the rest of the day from what was reported.
    """
    depot = session.get_one(Depot, plan.depot_id)
    epoch = local_midnight(plan.delivery_day, ZoneInfo(depot.timezone))
    orders = plan_orders(session, plan)
    known = {o.id for o in orders}
    orders += [o for o in extra_orders if o.id not in known]
    shifts = _with_shifts(
        session, day_shifts(session, plan.depot_id, epoch), [r.shift_id for r in plan.routes]
    )
    moving = routes_under_way(plan, {o.id: o for o in orders}) if project else []
    return assemble(depot, epoch, orders, shifts, matrix=matrix, now=now, moving=moving)
