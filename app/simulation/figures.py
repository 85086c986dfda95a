"""What the customers of simulated days experienced, counted from the database.

Definitions (each over the orders of the depot with a delivery day in the range):

- **inside the promised window**: orders whose delivery stop was reported delivered with its
  arrival (the courier at the door) between the start and the end of the window chosen at
  checkout (the order's own window). An order never delivered counts as not inside.
- **arrived inside the promised window**: orders whose courier was at the door inside that
  window, whatever happened there (delivered, or nobody at home). This is the promise the
  fleet makes; "delivered inside" also counts the customers who were out.
- **offered windows kept by the plan**: orders taken in a window the promise engine offered
  that the day's first published plan put on a route (a planned visit keeps its window: the
  solver's time windows are hard). What the street then made of it is the figure above;
  together they separate a promise the fleet could not keep from one the street broke.
- **first attempt**: of orders whose delivery was attempted (a stop reported delivered or
  failed), those whose first attempt was the delivery.
- **told before the promise broke**: of delivery stops that arrived after the window's end,
  those whose customer had a ``late`` notification created before the window's end.
- **return decision latency**: decided minus opened, in hours, per path: fast-track (any rule
  but the standard one: decided when opened) and standard (a person decides); standard cases
  still waiting are counted apart.

The checkout figures (windows shown, available, refused when placing) are the simulator's
own count: offers are answers to a page, not rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.fleet.models import Inspection, Shift
from app.messages import Message, say, say_n
from app.notifications.models import NoticeKind, Notification
from app.orders.models import Order
from app.planning.enums import FailureReason, StopKind, StopOutcome
from app.planning.models import Plan, PlanRoute, PlanVisit, Stop
from app.quality.models import DeliveryRating, NpsAnswer, SupportCase
from app.stats import median, p90
from returns.models import ReturnCase
from returns.policy import Outcome, Rule


@dataclass(frozen=True, slots=True)
class Latency:
    """Hours from a return's opening to its decision."""

    cases: int
    median_h: float | None
    p90_h: float | None

    @classmethod
    def of(cls, hours: list[float]) -> Latency:
        if not hours:
            return cls(0, None, None)
        middle, high = median(hours), p90(hours)
        assert middle is not None  # hours is not empty
        assert high is not None
        return cls(len(hours), round(middle, 2), round(high, 2))


@dataclass(frozen=True, slots=True)
class Checkout:
    checkouts: int = 0
    windows_shown: int = 0
    windows_available: int = 0
    refused_at_placing: int = 0
    no_window: int = 0


@dataclass(frozen=True, slots=True)
class Figures:
    first_day: date
    last_day: date
    orders: int
    inside_window: int
    arrived_inside: int
    kept_by_plan: int
    attempted: int
    first_attempt_delivered: int
    late_arrivals: int
    late_told_before: int
    never_attempted: int
    delivery_stops: int
    couriers: int
    failed_inspections: int
    not_home: int
    late_notices: int
    returns: int
    fast_track: Latency
    standard: Latency
    standard_waiting: int
    ratings: int
    nps_answers: int
    support_cases: int
    checkout: Checkout = field(default_factory=Checkout)

    @property
    def inside_window_share(self) -> float | None:
        return _share(self.inside_window, self.orders)

    @property
    def arrived_inside_share(self) -> float | None:
        return _share(self.arrived_inside, self.orders)

    @property
    def kept_by_plan_share(self) -> float | None:
        return _share(self.kept_by_plan, self.orders)

    @property
    def first_attempt_share(self) -> float | None:
        return _share(self.first_attempt_delivered, self.attempted)

    @property
    def told_before_share(self) -> float | None:
        return _share(self.late_told_before, self.late_arrivals)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_day"], data["last_day"] = self.first_day.isoformat(), self.last_day.isoformat()
        data["shares"] = {
            "inside_window": self.inside_window_share,
            "arrived_inside": self.arrived_inside_share,
            "kept_by_plan": self.kept_by_plan_share,
            "first_attempt": self.first_attempt_share,
            "told_before_late": self.told_before_share,
        }
        return data

    def line(self) -> Message:
        """One line: a day's progress."""
        return say(
            "%(day)s: %(orders)s orders, delivered inside the window %(inside)s (at the door "
            "inside it %(arrived)s), kept by the plan "
            "%(kept)s, first attempt %(first)s, late %(late)s (told before %(told)s), not at "
            "home %(not_home)s, failed checks %(checks)s, returns %(returns)s, ratings "
            "%(ratings)s",
            day=self.first_day,
            orders=self.orders,
            inside=_pct(self.inside_window_share),
            arrived=_pct(self.arrived_inside_share),
            kept=_pct(self.kept_by_plan_share),
            first=_pct(self.first_attempt_share),
            late=self.late_arrivals,
            told=_pct(self.told_before_share),
            not_home=self.not_home,
            checks=self.failed_inspections,
            returns=self.returns,
            ratings=self.ratings,
        )

    def lines(self) -> list[Message]:
        """The whole report, one figure a line."""
        c = self.checkout
        return [
            say("Simulated days %(first)s – %(last)s", first=self.first_day, last=self.last_day),
            say("  orders: %(n)s", n=self.orders),
            say(
                "  delivered inside the promised window: %(share)s (%(part)s of %(whole)s)",
                share=_pct(self.inside_window_share),
                part=self.inside_window,
                whole=self.orders,
            ),
            say(
                "  courier at the door inside the promised window: %(share)s (%(part)s of "
                "%(whole)s)",
                share=_pct(self.arrived_inside_share),
                part=self.arrived_inside,
                whole=self.orders,
            ),
            say(
                "  offered windows kept by the first published plan: %(share)s "
                "(%(part)s of %(whole)s)",
                share=_pct(self.kept_by_plan_share),
                part=self.kept_by_plan,
                whole=self.orders,
            ),
            say(
                "  first-attempt rate: %(share)s (%(part)s of %(whole)s attempted)",
                share=_pct(self.first_attempt_share),
                part=self.first_attempt_delivered,
                whole=self.attempted,
            ),
            say(
                "  told before the promise broke: %(share)s (%(part)s of %(whole)s late arrivals)",
                share=_pct(self.told_before_share),
                part=self.late_told_before,
                whole=self.late_arrivals,
            ),
            say("  never attempted: %(n)s", n=self.never_attempted),
            say("  return decisions, fast-track: %(latency)s", latency=_latency(self.fast_track)),
            say(
                "  return decisions, standard: %(latency)s; still waiting: %(waiting)s",
                latency=_latency(self.standard),
                waiting=self.standard_waiting,
            ),
            say(
                "  checkouts %(checkouts)s: windows shown %(shown)s, available %(available)s, "
                "refused when placed %(refused)s, no window left %(none)s",
                checkouts=c.checkouts,
                shown=c.windows_shown,
                available=c.windows_available,
                refused=c.refused_at_placing,
                none=c.no_window,
            ),
            say(
                "  couriers %(couriers)s, delivery stops %(stops)s, failed inspections "
                "%(checks)s, not at home %(not_home)s",
                couriers=self.couriers,
                stops=self.delivery_stops,
                checks=self.failed_inspections,
                not_home=self.not_home,
            ),
            say(
                "  late notices %(notices)s, returns %(returns)s, ratings %(ratings)s, NPS "
                "answers %(nps)s, support cases %(cases)s",
                notices=self.late_notices,
                returns=self.returns,
                ratings=self.ratings,
                nps=self.nps_answers,
                cases=self.support_cases,
            ),
        ]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.2f} %"


def _latency(latency: Latency) -> Message:
    if not latency.cases:
        return say("no cases")
    return say_n(
        "%(n)s case, median %(median)s h, p90 %(p90)s h",
        "%(n)s cases, median %(median)s h, p90 %(p90)s h",
        latency.cases,
        median=str(latency.median_h),
        p90=str(latency.p90_h),
    )


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def measure(
    session: Session,
    *,
    depot_id: int,
    first_day: date,
    last_day: date,
    checkout: Checkout | None = None,
) -> Figures:
    """The figures of the depot's delivery days ``first_day``..``last_day`` (included)."""
    of_days = and_(
        Order.depot_id == depot_id,
        Order.delivery_day >= first_day,
        Order.delivery_day <= last_day,
    )
    orders = {
        oid: (start, end, day)
        for oid, start, end, day in session.execute(
            select(Order.id, Order.window_start_at, Order.window_end_at, Order.delivery_day).where(
                of_days
            )
        )
    }
    stops = session.execute(
        select(
            Stop.id,
            Stop.order_id,
            Stop.arrived_at,
            Stop.completed_at,
            Stop.outcome,
            Stop.failure_reason,
        )
        .join(Order, Stop.order_id == Order.id)
        .where(of_days, Stop.kind == StopKind.DELIVERY)
        .order_by(Stop.completed_at, Stop.id)
    ).all()
    inside: set[int] = set()
    arrived_inside: set[int] = set()
    first_outcome: dict[int, str] = {}
    late_stops: dict[int, int] = {}  # stop -> order
    not_home = 0
    for stop_id, order_id, arrived, completed, outcome, reason in stops:
        if order_id is None:  # nullable for return visits; the join keeps deliveries only
            continue
        start, end, _ = orders[order_id]
        if outcome == StopOutcome.DELIVERED and arrived is not None and start <= arrived <= end:
            inside.add(order_id)
        if arrived is not None and start <= arrived <= end:
            arrived_inside.add(order_id)
        if completed is not None and outcome is not None:
            first_outcome.setdefault(order_id, outcome)
        if arrived is not None and arrived > end:
            late_stops[stop_id] = order_id
        not_home += reason == FailureReason.NOT_HOME
    told_at: dict[int, datetime] = {}
    for order_id, created in session.execute(
        select(Notification.order_id, Notification.created_at)
        .join(Order, Notification.order_id == Order.id)
        .where(of_days, Notification.kind == NoticeKind.LATE)
        .order_by(Notification.created_at)
    ):
        if order_id is not None:
            told_at.setdefault(order_id, created)
    told_before = sum(
        1
        for order_id in late_stops.values()
        if order_id in told_at and told_at[order_id] < orders[order_id][1]
    )
    kept = _kept_by_first_plan(session, depot_id, first_day, last_day, set(orders))
    fast: list[float] = []
    standard: list[float] = []
    waiting = 0
    for rule, status, created, decided in session.execute(
        select(ReturnCase.rule, ReturnCase.status, ReturnCase.created_at, ReturnCase.decided_at)
        .join(Order, ReturnCase.order_id == Order.id)
        .where(of_days)
    ):
        if rule != Rule.STANDARD:
            fast.append(_hours(created, decided))
        elif status == Outcome.UNDER_REVIEW:
            waiting += 1
        else:
            standard.append(_hours(created, decided))
    return Figures(
        first_day=first_day,
        last_day=last_day,
        orders=len(orders),
        inside_window=len(inside),
        arrived_inside=len(arrived_inside),
        kept_by_plan=kept,
        attempted=len(first_outcome),
        first_attempt_delivered=sum(o == StopOutcome.DELIVERED for o in first_outcome.values()),
        late_arrivals=len(late_stops),
        late_told_before=told_before,
        never_attempted=len(orders) - len(first_outcome),
        delivery_stops=len(stops),
        couriers=_couriers(session, depot_id, first_day, last_day),
        failed_inspections=_count(
            session,
            select(func.count(Inspection.id))
            .join(Shift, Inspection.shift_id == Shift.id)
            .where(
                Shift.depot_id == depot_id,
                ~Inspection.passed,
                Shift.id.in_(_shift_ids(depot_id, first_day, last_day)),
            ),
        ),
        not_home=not_home,
        late_notices=len(told_at),
        returns=len(fast) + len(standard) + waiting,
        fast_track=Latency.of(fast),
        standard=Latency.of(standard),
        standard_waiting=waiting,
        ratings=_count(
            session,
            select(func.count(DeliveryRating.id))
            .join(Order, DeliveryRating.order_id == Order.id)
            .where(of_days),
        ),
        nps_answers=_count(
            session,
            select(func.count(NpsAnswer.id))
            .join(Order, NpsAnswer.order_id == Order.id)
            .where(of_days, NpsAnswer.answered_at.is_not(None)),
        ),
        support_cases=_count(
            session,
            select(func.count(SupportCase.id))
            .join(Order, SupportCase.order_id == Order.id)
            .where(of_days),
        ),
        checkout=checkout or Checkout(),
    )


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(query) or 0)


def _published(depot_id: int, first_day: date, last_day: date) -> Any:
    return and_(
        Plan.depot_id == depot_id,
        Plan.delivery_day >= first_day,
        Plan.delivery_day <= last_day,
        Plan.published_at.is_not(None),
    )


def _kept_by_first_plan(
    session: Session, depot_id: int, first_day: date, last_day: date, order_ids: set[int]
) -> int:
    firsts: dict[date, int] = {}
    for plan_id, day in session.execute(
        select(Plan.id, Plan.delivery_day)
        .where(_published(depot_id, first_day, last_day))
        .order_by(Plan.published_at, Plan.id)
    ):
        firsts.setdefault(day, plan_id)
    routed = session.scalars(
        select(Stop.order_id)
        .join(PlanVisit, PlanVisit.stop_id == Stop.id)
        .join(PlanRoute, PlanVisit.route_id == PlanRoute.id)
        .where(PlanRoute.plan_id.in_(list(firsts.values())), Stop.kind == StopKind.DELIVERY)
    )
    return len(set(routed) & order_ids)


def _couriers(session: Session, depot_id: int, first_day: date, last_day: date) -> int:
    return _count(
        session,
        select(func.count(func.distinct(PlanRoute.courier_id)))
        .join(Plan, PlanRoute.plan_id == Plan.id)
        .where(_published(depot_id, first_day, last_day)),
    )


def _shift_ids(depot_id: int, first_day: date, last_day: date) -> Any:
    # A shift belongs to the delivery day of its plan's routes.
    return (
        select(PlanRoute.shift_id)
        .join(Plan, PlanRoute.plan_id == Plan.id)
        .where(_published(depot_id, first_day, last_day))
    )
