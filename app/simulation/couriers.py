"""Couriers driving the published plan of a day, with travel that is not what was planned.

Each courier checks their vehicle before the route (a failed check takes it out of service
and the day is re-planned on the rest of the fleet, as ``jobs.replan_without_vehicle`` does
for the courier's page), then drives their route of the *current* published plan stop by
stop: travel takes the planned leg times a lognormal factor (traffic), a courier early for
a window waits for its start, the service takes what the plan says, and now and then
nobody is at home. Every action reaches the product as the phone sends it:
``events.apply`` with a ``CourierEvent`` and the courier's own time.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.errors import DomainError
from app.fleet import inspection
from app.fleet import services as fleet_services
from app.fleet.models import Inspection, Shift, Vehicle
from app.planning import events, jobs
from app.planning.enums import EventKind, FailureReason, StopKind
from app.planning.models import PlanRoute, Stop
from app.planning.services import published_plan
from app.simulation.clock import Agenda
from app.simulation.world import World
from routing.matrix import GeodesicMatrix

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How the street differs from the plan."""

    travel_sigma: float = 0.15  # lognormal sigma of actual / planned travel time
    not_home: float = 0.02  # share of visits where nobody opens
    failed_inspection: float = 1 / 200  # per vehicle-day
    inspect_before: timedelta = timedelta(minutes=10)


@dataclass
class CourierState:
    courier_id: int
    shift_id: int
    vehicle_id: int
    profile: str
    at: tuple[float, float]
    break_taken: bool = False
    inspected: bool = False
    out: bool = False  # vehicle failed its check: no more driving today
    busy: bool = False  # an action of theirs is on the agenda


@dataclass
class DayTally:
    inspections: int = 0
    failed_inspections: int = 0
    replans: int = 0
    arrived: int = 0
    delivered: int = 0
    not_home: int = 0
    refused_reports: int = 0
    late_checks: int = 0


Delivered = Callable[[int, datetime], None]  # (stop id, moment) after a delivery


@dataclass
class CourierDay:
    """One day's couriers on the agenda."""

    factory: sessionmaker[Session]
    world: World
    day: date
    agenda: Agenda
    rng: random.Random
    behaviour: Behaviour
    time_limit_s: float | None
    on_delivered: Delivered
    matrix: GeodesicMatrix = field(default_factory=GeodesicMatrix)
    tally: DayTally = field(default_factory=DayTally)
    couriers: dict[int, CourierState] = field(default_factory=dict)
    _event_seq: int = 0

    def start(self, now: datetime) -> None:
        """Put each route of the day's published plan on the agenda: its check, then its
        first stop."""
        with session_scope(self.factory) as session:
            routes = self._routes(session)
            for route in routes:
                self._join(session, route, now)

    def _routes(self, session: Session) -> list[PlanRoute]:
        plan = published_plan(session, depot_id=self.world.depot_id, day=self.day)
        return list(plan.routes) if plan is not None else []

    def _route_of(self, session: Session, courier_id: int) -> PlanRoute | None:
        # One route, not the whole plan: a courier's phone asks for its own day only.
        plan = published_plan(session, depot_id=self.world.depot_id, day=self.day)
        if plan is None:
            return None
        mine = PlanRoute.plan_id == plan.id, PlanRoute.courier_id == courier_id
        return session.scalar(select(PlanRoute).where(*mine))

    def _join(self, session: Session, route: PlanRoute, now: datetime) -> None:
        if route.courier_id in self.couriers:
            return
        shift = session.get_one(Shift, route.shift_id)
        vehicle = session.get_one(Vehicle, route.vehicle_id)
        depot = shift.depot
        state = CourierState(
            courier_id=route.courier_id,
            shift_id=shift.id,
            vehicle_id=vehicle.id,
            profile=vehicle.type,
            at=(depot.lat, depot.lon),
        )
        self.couriers[route.courier_id] = state
        state.busy = True
        check_at = max(now, route.start_at - self.behaviour.inspect_before)
        self.agenda.at(check_at, lambda t: self._inspect(state, route.start_at, t))

    def _inspect(self, state: CourierState, leave_at: datetime, now: datetime) -> None:
        failed = self.rng.random() < self.behaviour.failed_inspection
        with session_scope(self.factory) as session:
            vehicle = session.get_one(Vehicle, state.vehicle_id)
            answers: dict[str, bool | None] = {i.code: True for i in inspection.checklist(vehicle)}
            if failed:
                answers["brakes"] = False
            odometer = None
            if inspection.needs_odometer(vehicle):
                last = session.scalar(
                    select(Inspection.odometer_km)
                    .where(
                        Inspection.vehicle_id == vehicle.id,
                        Inspection.odometer_km.is_not(None),
                    )
                    .order_by(Inspection.id.desc())
                    .limit(1)
                )
                odometer = (last or 20_000) + self.rng.randrange(30, 160)
            record = inspection.submit(
                session,
                shift_id=state.shift_id,
                courier_id=state.courier_id,
                answers=answers,
                odometer_km=odometer,
                at=now,
                now=now,
            )
        self.tally.inspections += 1
        if record.passed:
            state.inspected = True
            self.agenda.at(max(now, leave_at), lambda t: self._go(state, t))
            return
        self.tally.failed_inspections += 1
        state.out = True
        state.busy = False
        self._replan(now)

    def _replan(self, now: datetime) -> None:
        """The vehicle's stops go to the others: plan again, then wake whoever has work."""
        jobs.replan_without_vehicle(
            self.factory,
            depot_id=self.world.depot_id,
            day=self.day,
            now=now,
            time_limit_s=self.time_limit_s,
        )
        self.tally.replans += 1
        with session_scope(self.factory) as session:
            for route in self._routes(session):
                state = self.couriers.get(route.courier_id)
                if state is None:
                    self._join(session, route, now)
                elif state.inspected and not state.out and not state.busy and route.visits:
                    state.busy = True
                    self.agenda.at(now, partial(self._go, state))

    def _go(self, state: CourierState, now: datetime) -> None:
        """From where the courier is, to the next open stop of their current route."""
        with session_scope(self.factory) as session:
            route = self._route_of(session, state.courier_id)
            visit = None
            if route is not None:
                visit = next(
                    (
                        v
                        for v in route.visits
                        if v.stop.completed_at is None and v.stop.called_off_at is None
                    ),
                    None,
                )
            if route is None or visit is None:
                state.busy = False
                return
            stop = visit.stop
            leave = now
            if (
                not state.break_taken
                and route.break_start_at is not None
                and route.break_end_at is not None
                and now >= route.break_start_at
            ):
                # The plan's break, taken at the first stop boundary after it was due.
                leave = now + (route.break_end_at - route.break_start_at)
                state.break_taken = True
            _, seconds = self.matrix.between([state.at], [(stop.lat, stop.lon)], [state.profile])
            planned_s = float(seconds[state.profile][0][0])
            noise = math.exp(self.rng.gauss(0.0, self.behaviour.travel_sigma))
            arrival = leave + timedelta(seconds=planned_s * noise)
            begin = max(arrival, stop.window_start_at)
            stop_id, service_s, location = stop.id, stop.service_s, (stop.lat, stop.lon)
        self.agenda.at(begin, lambda t: self._arrive(state, stop_id, service_s, location, t))

    def _send(
        self,
        state: CourierState,
        stop_id: int,
        kind: EventKind,
        now: datetime,
        reason: FailureReason | None = None,
    ) -> bool:
        self._event_seq += 1
        event = events.CourierEvent(
            client_event_id=f"sim-{self.day:%Y%m%d}-{state.courier_id}-{self._event_seq}",
            stop_id=stop_id,
            kind=kind,
            courier_at=now,
            reason=reason,
            recipient="Sim customer" if kind is EventKind.DELIVERED else None,
        )
        try:
            with session_scope(self.factory) as session:
                events.apply(session, courier_id=state.courier_id, event=event, now=now)
        except DomainError as exc:
            # Re-planned away from this courier meanwhile, or past the day's margin.
            log.info("courier %s, stop %s: %s refused: %s", state.courier_id, stop_id, kind, exc)
            self.tally.refused_reports += 1
            return False
        return True

    def _arrive(
        self,
        state: CourierState,
        stop_id: int,
        service_s: int,
        location: tuple[float, float],
        now: datetime,
    ) -> None:
        if not self._send(state, stop_id, EventKind.ARRIVED, now):
            self.agenda.at(now, lambda t: self._go(state, t))
            return
        self.tally.arrived += 1
        state.at = location
        done_at = now + timedelta(seconds=service_s)
        self.agenda.at(done_at, lambda t: self._finish(state, stop_id, t))

    def _finish(self, state: CourierState, stop_id: int, now: datetime) -> None:
        if self.rng.random() < self.behaviour.not_home:
            sent = self._send(state, stop_id, EventKind.FAILED, now, FailureReason.NOT_HOME)
            self.tally.not_home += sent
        elif self._send(state, stop_id, EventKind.DELIVERED, now):
            self.tally.delivered += 1
            with session_scope(self.factory) as session:
                kind = session.scalar(select(Stop.kind).where(Stop.id == stop_id))
            if kind == StopKind.DELIVERY:
                self.on_delivered(stop_id, now)
        self.agenda.at(now, lambda t: self._go(state, t))

    def watch(self, now: datetime) -> None:
        """The product's late watch, as the scheduler runs it every few minutes."""
        jobs.watch_late(self.factory, now=now, depot_ids=[self.world.depot_id])
        self.tally.late_checks += 1

    def close(self, now: datetime) -> None:
        """Overnight, the workshop puts failed vehicles back on the road for tomorrow."""
        with session_scope(self.factory) as session:
            for state in self.couriers.values():
                if state.out:
                    fleet_services.put_back_in_service(session, vehicle_id=state.vehicle_id)
