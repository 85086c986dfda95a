"""``roundtrip simulate``'s engine on two small days: its figures are what the rows say, every
moment it stores is a simulated one, and the same seed takes the same orders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from app.customers.models import Customer
from app.fleet.models import Depot, Inspection
from app.notifications.models import NoticeKind, Notification
from app.orders.models import Order
from app.planning.enums import StopKind, StopOutcome
from app.planning.models import Plan, PlanRoute, PlanVisit, Stop, StopEvent
from app.quality.models import DeliveryRating, NpsAnswer, SupportCase
from app.simulation import world
from app.simulation.aftercare import Habits
from app.simulation.run import Result, Settings, simulate
from loyalty.models import LedgerEntry
from returns.models import ReturnCase

FIRST_DAY = date(2026, 11, 2)
DAYS = 2
# The wall clock stands years away from the simulated days: a moment read from it shows.
WALL = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
TZ = ZoneInfo(world.TIMEZONE)
SIM_FROM = datetime.combine(FIRST_DAY - timedelta(days=1), time(0), tzinfo=TZ)
SIM_UNTIL = datetime.combine(FIRST_DAY + timedelta(days=DAYS), time(0), tzinfo=TZ)


def o_id(stop: Stop) -> int:
    assert stop.order_id is not None
    return stop.order_id


def small(**changes: Any) -> Settings:
    """Two days of 30 orders, 1 s of planning; customers busier than life, so that returns,
    ratings and NPS answers happen in so small a run."""
    habits = Habits(
        rate=0.5, nps=0.5, returns=0.3, return_after_h=(1.0, 4.0), decide_hours=(1.0, 3.0)
    )
    values: dict[str, Any] = {
        "days": DAYS,
        "orders_per_day": 30,
        "start": FIRST_DAY,
        "seed": 7,
        "time_limit_s": 1.0,
        "habits": habits,
    }
    return Settings(**(values | changes))


@pytest.fixture
def simulated(
    session_factory: sessionmaker[Session], clock: Callable[..., None]
) -> tuple[Result, int]:
    """The two small days, run; with the depot they ran at."""
    clock(WALL)
    outcome = simulate(session_factory, small())
    with session_factory() as session:
        depot_id = session.scalars(select(Depot.id).where(Depot.code == world.DEPOT_CODE)).one()
    return outcome, depot_id


def test_the_figures_are_what_the_rows_say(session: Session, simulated: tuple[Result, int]) -> None:
    outcome, depot_id = simulated
    orders = session.scalars(select(Order).where(Order.depot_id == depot_id)).all()
    stops = {
        s.order_id: s
        for s in session.scalars(select(Stop).where(Stop.kind == StopKind.DELIVERY))
        if s.order_id is not None
    }
    windows = {o.id: (o.window_start_at, o.window_end_at) for o in orders}
    inside = [
        o
        for o in orders
        if (stop := stops.get(o.id)) is not None
        and stop.outcome == StopOutcome.DELIVERED
        and stop.arrived_at is not None
        and o.window_start_at <= stop.arrived_at <= o.window_end_at
    ]
    at_the_door = [
        s
        for s in stops.values()
        if s.arrived_at is not None and windows[o_id(s)][0] <= s.arrived_at <= windows[o_id(s)][1]
    ]
    attempted = [s for s in stops.values() if s.completed_at is not None]
    late = [
        s for s in stops.values() if s.arrived_at is not None and s.arrived_at > windows[o_id(s)][1]
    ]
    told_before = [
        s
        for s in late
        if session.scalar(
            select(Notification.id).where(
                Notification.order_id == s.order_id,
                Notification.kind == NoticeKind.LATE,
                Notification.created_at < windows[o_id(s)][1],
            )
        )
    ]
    first_plans: dict[date, int] = {}
    for plan in session.scalars(
        select(Plan).where(Plan.published_at.is_not(None)).order_by(Plan.published_at)
    ):
        first_plans.setdefault(plan.delivery_day, plan.id)
    routed = set(
        session.scalars(
            select(Stop.order_id)
            .join(PlanVisit, PlanVisit.stop_id == Stop.id)
            .join(PlanRoute, PlanVisit.route_id == PlanRoute.id)
            .where(PlanRoute.plan_id.in_(first_plans.values()), Stop.kind == StopKind.DELIVERY)
        )
    )
    total = outcome.total

    assert len(orders) == total.orders == 2 * 30
    assert total.inside_window == len(inside)
    assert total.arrived_inside == len(at_the_door)
    assert total.attempted == len(attempted)
    assert total.first_attempt_delivered == sum(
        s.outcome == StopOutcome.DELIVERED for s in attempted
    )
    assert (total.late_arrivals, total.late_told_before) == (len(late), len(told_before))
    assert total.kept_by_plan == len(routed & {o.id for o in orders})
    assert total.returns == len(session.scalars(select(ReturnCase)).all())
    assert total.ratings == len(session.scalars(select(DeliveryRating)).all())
    assert total.nps_answers == len(
        session.scalars(select(NpsAnswer).where(NpsAnswer.answered_at.is_not(None))).all()
    )
    # What the run printed per day adds up to its total.
    assert [d.first_day for d in outcome.days] == [FIRST_DAY, FIRST_DAY + timedelta(days=1)]
    assert sum(d.inside_window for d in outcome.days) == total.inside_window
    # The small days really went through the street and after it.
    assert total.inside_window > 0.8 * total.orders
    assert total.ratings > 0


def test_every_moment_stored_is_a_simulated_one(
    session: Session, simulated: tuple[Result, int]
) -> None:
    """Rows the run wrote carry moments of the simulated days, never the wall clock's.

    Excluded: a plan's started_at and finished_at (and its lease), which the planning job
    records on the wall clock by design (``jobs.solve_started``)."""
    moments = {
        "orders": session.scalars(select(Order.created_at)).all(),
        "stops": session.scalars(select(Stop.created_at)).all(),
        "arrivals": session.scalars(select(Stop.arrived_at)).all(),
        "completions": session.scalars(select(Stop.completed_at)).all(),
        "events": session.scalars(select(StopEvent.received_at)).all(),
        "inspections": session.scalars(select(Inspection.inspected_at)).all(),
        "plans": session.scalars(select(Plan.created_at)).all(),
        "published": session.scalars(select(Plan.published_at)).all(),
        "notifications": session.scalars(select(Notification.created_at)).all(),
        "ledger": session.scalars(select(LedgerEntry.created_at)).all(),
        "ratings": session.scalars(select(DeliveryRating.created_at)).all(),
        "nps": session.scalars(select(NpsAnswer.asked_at)).all(),
        "cases": session.scalars(select(SupportCase.opened_at)).all(),
        "answers": session.scalars(select(SupportCase.answered_at)).all(),
        "returns": session.scalars(select(ReturnCase.created_at)).all(),
        "decisions": session.scalars(select(ReturnCase.decided_at)).all(),
        "customers": session.scalars(select(Customer.created_at)).all(),
    }
    outside = {
        table: [m for m in found if m is not None and not SIM_FROM <= m < SIM_UNTIL]
        for table, found in moments.items()
    }

    assert {t: m for t, m in outside.items() if m} == {}
    assert all(moments[t] for t in ("orders", "completions", "notifications", "returns"))
    # Services that take no ``now`` left these to the column default; the clock stamped them.
    assert set(simulated[0].stamped) <= {"customers", "stops", "users"}


def test_the_same_seed_takes_the_same_orders(
    connection: Connection, session_factory: sessionmaker[Session], clock: Callable[..., None]
) -> None:
    """Orders (who, when, which window, what) repeat with the seed. Without the 18:00 draft
    wave, as here, checkouts are promised against the shifts alone: the one input that a
    time-limited solver could change from one run to the next is out of the way."""
    clock(WALL)
    runs = []
    for _ in range(2):
        undo = connection.begin_nested()
        simulate(session_factory, small(draft_waves=()))
        with session_factory() as session:
            runs.append(
                [
                    (
                        o.customer.email,
                        o.created_at,
                        o.window_start_at,
                        sorted((i.product.sku, i.quantity) for i in o.items),
                    )
                    for o in session.scalars(select(Order).order_by(Order.created_at, Order.id))
                ]
            )
        undo.rollback()

    assert len(runs[0]) == 60
    assert runs[0] == runs[1]
