"""From the database to a routing problem and back to a stored, versioned plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, DomainError, NotFound
from app.fleet.models import Depot, Shift, Vehicle
from app.orders.models import Order, OrderStatus
from app.orders.windows import local_midnight
from app.planning.models import Plan, PlanRoute, PlanStatus, PlanUnassigned, PlanVisit
from routing import model as rm
from routing.matrix import GeodesicMatrix, MatrixProvider
from routing.solver import SolveParameters, solve

# Parking, the walk to the door and the handover, plus a little per unit carried.
SERVICE_S_BASE = 240
SERVICE_S_PER_UNIT = 20
PLANNABLE = (OrderStatus.NEW, OrderStatus.PLANNED)


class NothingToPlanWith(DomainError):
    pass


@dataclass(frozen=True)
class DayProblem:
    problem: rm.Problem
    epoch: datetime  # local midnight of the day: routing times are seconds since then
    orders: list[Order]  # stop i is orders[i]
    shifts: list[Shift]  # vehicle k is shifts[k]


def _seconds(moment: datetime, epoch: datetime) -> int:
    return max(0, int((moment - epoch).total_seconds()))


def build_problem(
    session: Session, *, depot_id: int, day: date, matrix: MatrixProvider | None = None
) -> DayProblem:
    depot = session.get(Depot, depot_id)
    if depot is None:
        raise NotFound(f"There is no depot {depot_id}.")
    epoch = local_midnight(day, ZoneInfo(depot.timezone))
    shifts = list(
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
        )
    )
    if not shifts:
        raise NothingToPlanWith(
            f"No courier has a shift with a vehicle in service at {depot.name} on "
            f"{day.isoformat()}; add shifts or put a vehicle back in service, then plan again."
        )
    orders = list(
        session.scalars(
            select(Order)
            .where(
                Order.depot_id == depot_id, Order.delivery_day == day, Order.status.in_(PLANNABLE)
            )
            .order_by(Order.window_start_at, Order.id)
        )
    )
    points = [(depot.lat, depot.lon)] + [(o.address.lat, o.address.lon) for o in orders]
    profiles = sorted({s.vehicle.type for s in shifts if s.vehicle is not None})
    distance, durations = (matrix or GeodesicMatrix()).matrices(points, profiles)
    stops = [
        rm.Stop(
            id=o.number,
            kind=rm.StopKind.DELIVERY,
            location=i + 1,
            windows=(
                rm.TimeWindow(_seconds(o.window_start_at, epoch), _seconds(o.window_end_at, epoch)),
            ),
            service_s=SERVICE_S_BASE + SERVICE_S_PER_UNIT * o.load_units,
            delivery=(o.load_units,),
        )
        for i, o in enumerate(orders)
    ]
    vehicles = []
    for s in shifts:
        assert s.vehicle is not None
        vehicles.append(
            rm.Vehicle(
                id=f"{s.vehicle.registration}/{s.courier.name}",
                capacity=(s.vehicle.capacity_units,),
                shift=rm.TimeWindow(_seconds(s.starts_at, epoch), _seconds(s.ends_at, epoch)),
                start_depot=0,
                end_depot=0,
                profile=s.vehicle.type,
                skills=frozenset(s.courier.skills),
            )
        )
    problem = rm.Problem(
        depots=[rm.Depot(depot.code, 0)],
        vehicles=vehicles,
        stops=stops,
        distance_m=distance,
        duration_s=durations,
    )
    return DayProblem(problem, epoch, orders, shifts)


def start_plan(
    session: Session,
    *,
    depot_id: int,
    day: date,
    time_limit_s: float,
    user_id: int | None = None,
) -> Plan:
    """A new version in state 'solving'; commit it so the page can show progress."""
    latest = (
        session.scalar(
            select(func.max(Plan.version)).where(
                Plan.depot_id == depot_id, Plan.delivery_day == day
            )
        )
        or 0
    )
    plan = Plan(
        depot_id=depot_id,
        delivery_day=day,
        version=latest + 1,
        status=PlanStatus.SOLVING,
        time_limit_s=time_limit_s,
        created_by_user_id=user_id,
    )
    session.add(plan)
    session.flush()
    return plan


def solve_plan(
    session: Session,
    *,
    plan_id: int,
    now: datetime,
    params: SolveParameters | None = None,
    matrix: MatrixProvider | None = None,
) -> Plan:
    """Solve and store the whole result, or raise and store nothing (the caller rolls back)."""
    plan = session.get_one(Plan, plan_id)
    day = build_problem(session, depot_id=plan.depot_id, day=plan.delivery_day, matrix=matrix)
    result = solve(day.problem, params or SolveParameters(time_limit_s=plan.time_limit_s))
    for route in result.routes:
        shift = day.shifts[route.vehicle]
        assert shift.vehicle_id is not None
        stored = PlanRoute(
            shift_id=shift.id,
            vehicle_id=shift.vehicle_id,
            courier_id=shift.courier_id,
            start_at=day.epoch + timedelta(seconds=route.start_s),
            end_at=day.epoch + timedelta(seconds=route.end_s),
            distance_m=route.distance_m,
            load_start=list(route.load_start),
        )
        for n, visit in enumerate(route.visits):
            stored.visits.append(
                PlanVisit(
                    order_id=day.orders[visit.stop].id,
                    sequence=n + 1,
                    arrival_at=day.epoch + timedelta(seconds=visit.arrival_s),
                    start_at=day.epoch + timedelta(seconds=visit.start_s),
                    departure_at=day.epoch + timedelta(seconds=visit.departure_s),
                    load_after=list(visit.load_after),
                )
            )
        plan.routes.append(stored)
    for left in result.unassigned:
        plan.unassigned.append(
            PlanUnassigned(
                order_id=day.orders[left.stop].id,
                reason_code=left.reason.value,
                message=left.message,
            )
        )
    plan.status = PlanStatus.READY
    plan.engine = result.engine
    plan.distance_m = result.distance_m
    plan.stops_assigned = sum(len(r.visits) for r in result.routes)
    plan.stops_unassigned = len(result.unassigned)
    plan.finished_at = now
    session.flush()
    return plan


def mark_failed(session: Session, *, plan_id: int, error: str, now: datetime) -> Plan:
    plan = session.get_one(Plan, plan_id)
    plan.status = PlanStatus.FAILED
    plan.error = error
    plan.finished_at = now
    session.flush()
    return plan


def publish(session: Session, *, plan_id: int, now: datetime) -> Plan:
    """Make a ready plan the one couriers see; its orders become 'planned'."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"There is no plan {plan_id}.")
    if plan.status != PlanStatus.READY:
        raise Conflict(
            f"Plan version {plan.version} is {plan.status}; only a ready plan can be published."
        )
    plan.published_at = now
    order_ids = [v.order_id for r in plan.routes for v in r.visits]
    for order in session.scalars(select(Order).where(Order.id.in_(order_ids))):
        if order.status == OrderStatus.NEW:
            order.status = OrderStatus.PLANNED
    session.flush()
    return plan


def published_plan(session: Session, *, depot_id: int, day: date) -> Plan | None:
    return session.scalar(
        select(Plan)
        .where(Plan.depot_id == depot_id, Plan.delivery_day == day, Plan.published_at.is_not(None))
        .order_by(Plan.published_at.desc(), Plan.version.desc())
        .limit(1)
    )
