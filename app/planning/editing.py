"""Changing a stored plan without a solve: a late order inserted, a stop moved by hand, a
held order's stop withdrawn.

Every change is re-timed by the independent checker before it is written. Insertion only
ever takes a position the checker accepts, so no stop already planned leaves its window; a
dispatcher's move may break a rule, but then only with a reason, which is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import messages
from app.errors import Conflict, NotFound, ValidationFailed
from app.fleet.models import Shift
from app.messages import Message, say
from app.orders.models import Order
from app.planning import stops as stop_service
from app.planning.days import ensure_day_not_over
from app.planning.enums import ChangeKind, PlanStatus, Reason
from app.planning.models import Plan, PlanChange, PlanRoute, PlanUnassigned, Stop
from app.planning.problem import (
    DayProblem,
    new_stop,
    plan_problem,
    refresh_totals,
    route_row,
    route_specs,
)
from app.planning.words import listed
from routing.feasibility import Violation, ViolationKind, minutes_up, time_route
from routing.insertion import InsertionIndex, verify
from routing.matrix import MatrixProvider

# Why a late stop fits nowhere, in the person's words (the reason's name is kept on the plan).
REFUSALS: dict[Reason, Message] = {
    Reason.NO_OPEN_ROUTE: say(
        "Every courier of the day has already left the depot, so nothing can be added; "
        "the next planning wave or another day can take it."
    ),
    Reason.NO_VEHICLE_WITH_SKILL: say("No courier of the day has what this order needs."),
    Reason.CAPACITY: say(
        "Every route that could take it is full; it waits for the next planning wave."
    ),
    Reason.WINDOW_UNREACHABLE: say(
        "No courier can reach it inside its window without making another stop late; it "
        "waits for the next planning wave."
    ),
}


@dataclass(frozen=True, slots=True)
class Placement:
    placed: bool
    message: Message
    route_id: int | None = None
    sequence: int | None = None
    reason_code: Reason | None = None
    reason: Message | None = None  # why it fits nowhere, in plain words
    stop_id: int | None = None


def insert_order(
    session: Session,
    *,
    plan_id: int,
    order_id: int,
    now: datetime,
    user_id: int | None = None,
    matrix: MatrixProvider | None = None,
) -> Placement:
    """Put a late order's delivery stop where it adds least travel and moves no stop out of
    its window."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(say("There is no order %(id)s.", id=order_id))
    stop = stop_service.delivery_stop(session, order)
    return insert_stop(session, plan_id=plan_id, stop=stop, now=now, user_id=user_id, matrix=matrix)


def insert_stop(
    session: Session,
    *,
    plan_id: int,
    stop: Stop,
    now: datetime,
    user_id: int | None = None,
    matrix: MatrixProvider | None = None,
) -> Placement:
    """Put a late stop where it adds least travel and moves no stop out of its window."""
    plan = _ready_plan(session, plan_id)
    ensure_day_not_over(session, depot_id=plan.depot_id, day=plan.delivery_day, now=now)
    if any(v.stop.id == stop.id for r in plan.routes for v in r.visits):
        raise Conflict(
            say("Order %(number)s is already on a route of this plan.", number=stop.label)
        )
    day = plan_problem(session, plan, extra=[stop], matrix=matrix)
    specs = route_specs(day, plan)
    index = InsertionIndex(day.problem, specs)
    s = day.stop_index[stop.id]
    outcome = index.insertions(
        new_stop(day.problem.stops[s]),
        index.travel_for_location(day.problem.stops[s].location),
        not_before_s=day.seconds(now),
    )
    for found in outcome.insertions:
        spec = specs[found.route]
        if verify(day.problem, spec, found.position, s):
            continue  # the screening is a relaxation (breaks); the checker has the last word
        stops = list(spec.stops)
        stops.insert(found.position, s)
        route = _rewrite(session, plan, day, spec.vehicle, stops)
        _now_on_a_route(session, plan, stop, now)
        facts = {
            "number": stop.label,
            "courier": day.shifts[spec.vehicle].courier.name,
            "position": found.position + 1,
        }
        summary = say("%(number)s added to %(courier)s's route as stop %(position)s", **facts)
        _record(session, plan, ChangeKind.INSERT, stop, summary, [], None, user_id, now)
        session.flush()
        said = say("%(number)s added to %(courier)s's route as stop %(position)s.", **facts)
        return Placement(True, said, route.id, found.position + 1, stop_id=stop.id)
    code = outcome.refusal or Reason.WINDOW_UNREACHABLE
    message = REFUSALS[code]
    listed = [u for u in plan.unassigned if u.stop.id == stop.id]
    if [u.reason_code for u in listed] != [code]:
        _drop_unassigned(plan, stop.id)
        plan.unassigned.append(PlanUnassigned(stop=stop, reason_code=code, message=message))
        plan.revision += 1
        refresh_totals(plan)
        session.flush()
    return Placement(
        False,
        say("%(number)s could not be placed: %(reason)s", number=stop.label, reason=message),
        reason_code=code,
        reason=message,
        stop_id=stop.id,
    )


def withdraw_stop(
    session: Session,
    *,
    stop_id: int,
    now: datetime,
    reason: Message,
    user_id: int | None = None,
    matrix: MatrixProvider | None = None,
) -> list[int]:
    """Take one stop off every ready version of its day (see :func:`withdraw_stops`)."""
    return withdraw_stops(
        session, stop_ids=[stop_id], now=now, reason=reason, user_id=user_id, matrix=matrix
    )


def stops_on_board(session: Session, stop_ids: Iterable[int]) -> set[int]:
    """Of these stops, those whose goods have left: reported by a courier, or on a route
    under way in a ready version of their day. Those cannot be withdrawn."""
    stops = stop_service.stops_by_id(session, stop_ids)
    gone = {i for i, stop in stops.items() if stop.reported}
    for plan in _ready_versions(session, stops.values()):
        for route in plan.routes:
            if route.under_way:
                gone |= {v.stop_id for v in route.visits if v.stop_id in stops}
    return gone


def withdraw_stops(
    session: Session,
    *,
    stop_ids: Iterable[int],
    now: datetime,
    reason: Message,
    user_id: int | None = None,
    matrix: MatrixProvider | None = None,
) -> list[int]:
    """Take stops off every ready version of their days, published or not, so that no
    version a dispatcher publishes later brings them back (their orders are held: a blocked
    lot, say).

    Each route that carried one is re-timed once by the checker without them; not-planned
    entries are dropped; each version records a change per stop saying ``reason``. The
    orders' status is the caller's. Refused, with nothing changed, when a courier has
    reported one of them or left with it on board (:func:`stops_on_board`): those goods
    are on the van. Returns the ids of the versions changed.
    """
    wanted = list(stop_ids)
    stops = stop_service.stops_by_id(session, wanted)
    missing = sorted(set(wanted) - set(stops))
    if missing:
        raise NotFound(say("There is no stop %(id)s.", id=missing[0]))
    gone = stops_on_board(session, stops)
    if gone:
        raise Conflict(
            say(
                "%(number)s is already on its way with its courier, so it cannot be taken off "
                "the route; call the courier back.",
                number=stops[min(gone)].label,
            )
        )
    changed = []
    for plan in _ready_versions(session, stops.values()):
        routes = [r for r in plan.routes if any(v.stop_id in stops for v in r.visits)]
        listed_here = {u.stop_id for u in plan.unassigned if u.stop_id in stops}
        if not routes and not listed_here:
            continue
        for stop_id in listed_here:
            _drop_unassigned(plan, stop_id)
        taken = [v.stop for r in routes for v in r.visits if v.stop_id in stops]
        if routes:
            day = plan_problem(session, plan, matrix=matrix)
            specs = route_specs(day, plan)
            out = {day.stop_index[i] for i in stops}
            for route in routes:
                vehicle = day.vehicle_index[route.shift_id]
                kept = [i for i in specs[vehicle].stops if i not in out]
                _rewrite(session, plan, day, vehicle, kept)
        else:
            plan.revision += 1
            refresh_totals(plan)
        for stop in [*taken, *(stops[i] for i in sorted(listed_here))]:
            summary = say(
                "%(number)s taken off the plan: %(reason)s", number=stop.label, reason=reason
            )
            _record(session, plan, ChangeKind.WITHDRAW, stop, summary, [], None, user_id, now)
        changed.append(plan.id)
    session.flush()
    return changed


def _ready_versions(session: Session, stops: Iterable[Stop]) -> list[Plan]:
    """Every ready version, published or not, of the depots and days of these stops."""
    days = {(s.depot_id, s.delivery_day) for s in stops}
    if not days:
        return []
    return list(
        session.scalars(
            select(Plan)
            .where(
                Plan.status == PlanStatus.READY,
                or_(*(and_(Plan.depot_id == d, Plan.delivery_day == day) for d, day in days)),
            )
            .order_by(Plan.delivery_day, Plan.depot_id, Plan.version)
        )
    )


@dataclass(frozen=True, slots=True)
class MovePreview:
    violations: list[Message]
    summary: Message

    @property
    def ok(self) -> bool:
        return not self.violations


def preview_move(
    session: Session,
    *,
    plan_id: int,
    stop_id: int,
    shift_id: int,
    position: int,
    matrix: MatrixProvider | None = None,
) -> MovePreview:
    """What the checker says of the plan after the move; nothing is written."""
    preview, _, _ = _move(session, plan_id, stop_id, shift_id, position, matrix)
    return preview


def apply_move(
    session: Session,
    *,
    plan_id: int,
    stop_id: int,
    shift_id: int,
    position: int,
    now: datetime,
    override_reason: str | None = None,
    user_id: int | None = None,
    matrix: MatrixProvider | None = None,
) -> MovePreview:
    """Save a move; one that breaks a rule needs a reason, recorded with the violations."""
    found = _ready_plan(session, plan_id)
    ensure_day_not_over(session, depot_id=found.depot_id, day=found.delivery_day, now=now)
    preview, day, changed = _move(session, plan_id, stop_id, shift_id, position, matrix)
    reason = (override_reason or "").strip() or None
    if preview.violations and reason is None:
        raise ValidationFailed(
            {
                "override_reason": [
                    say(
                        "This move breaks the plan: %(problems)s. Give a reason to save it "
                        "anyway, or choose another place.",
                        problems=listed(preview.violations),
                    )
                ]
            }
        )
    plan = session.get_one(Plan, plan_id)
    for vehicle, stops in changed.items():
        _rewrite(session, plan, day, vehicle, stops)
    stop = day.stops[day.stop_index[stop_id]]
    _now_on_a_route(session, plan, stop, now)
    _record(
        session,
        plan,
        ChangeKind.MOVE,
        stop,
        preview.summary,
        preview.violations,
        reason if preview.violations else None,
        user_id,
        now,
    )
    session.flush()
    return preview


def _move(
    session: Session,
    plan_id: int,
    stop_id: int,
    shift_id: int,
    position: int,
    matrix: MatrixProvider | None,
) -> tuple[MovePreview, DayProblem, dict[int, list[int]]]:
    plan = _ready_plan(session, plan_id)
    day = plan_problem(session, plan, matrix=matrix)
    if stop_id not in day.stop_index:
        raise ValidationFailed({"stop_id": [say("That stop is not part of this plan.")]})
    if shift_id not in day.vehicle_index:
        raise ValidationFailed({"shift_id": [say("That courier has no shift on this plan's day.")]})
    specs = route_specs(day, plan)
    s = day.stop_index[stop_id]
    target = day.vehicle_index[shift_id]
    source = next((sp.vehicle for sp in specs if s in sp.stops), None)
    if source is not None and specs[source].under_way:
        raise Conflict(
            say(
                "%(courier)s's route is under way: this order is on that vehicle, so it stays.",
                courier=_courier(day, source),
            )
        )
    if specs[target].under_way:
        raise Conflict(
            say(
                "%(courier)s's route is under way: it can take nothing more until it is back.",
                courier=_courier(day, target),
            )
        )
    changed = {k: list(specs[k].stops) for k in {target, source} if k is not None}
    if source is not None:
        changed[source].remove(s)
    if not 1 <= position <= len(changed[target]) + 1:
        raise ValidationFailed(
            {
                "position": [
                    say("Choose a position from 1 to %(last)s.", last=len(changed[target]) + 1)
                ]
            }
        )
    changed[target].insert(position - 1, s)
    found = [
        _say(day, k, stops, v)
        for k, stops in sorted(changed.items())
        for v in time_route(day.problem, k, stops).violations
    ]
    summary = say(
        "%(number)s moved to %(courier)s's route as stop %(position)s",
        number=day.label(s),
        courier=_courier(day, target),
        position=position,
    )
    return MovePreview(found, summary), day, changed


def _courier(day: DayProblem, vehicle: int) -> str:
    return day.shifts[vehicle].courier.name


def _say(day: DayProblem, vehicle: int, stops: list[int], v: Violation) -> Message:
    """A violation in the dispatcher's words: stops counted along the route from 1, each
    named by its order's number."""
    courier = _courier(day, vehicle)
    at = stops.index(v.stop) + 1 if v.stop is not None and v.stop in stops else None
    number = day.label(v.stop) if at is not None and v.stop is not None else ""
    if v.kind is ViolationKind.LATE:
        if at is None:
            return say(
                "%(courier)s's route: late by %(minutes)s min",
                courier=courier,
                minutes=minutes_up(v.amount),
            )
        return say(
            "%(courier)s's route: late by %(minutes)s min at stop %(stop)s (%(number)s)",
            courier=courier,
            minutes=minutes_up(v.amount),
            stop=at,
            number=number,
        )
    if v.kind is ViolationKind.CAPACITY:
        if at is None:
            return say(
                "%(courier)s's route: over capacity by %(units)s leaving the depot",
                courier=courier,
                units=v.amount,
            )
        return say(
            "%(courier)s's route: over capacity by %(units)s at stop %(stop)s (%(number)s)",
            courier=courier,
            units=v.amount,
            stop=at,
            number=number,
        )
    if v.kind is ViolationKind.SHIFT_END:
        return say(
            "%(courier)s's route: past shift end by %(minutes)s min",
            courier=courier,
            minutes=minutes_up(v.amount),
        )
    if v.kind is ViolationKind.BREAK:
        return say(
            "%(courier)s's route: the break starts %(minutes)s min after its time",
            courier=courier,
            minutes=minutes_up(v.amount),
        )
    if v.kind is ViolationKind.SKILL and at is not None:
        return say(
            "%(courier)s's route: the courier lacks what order %(number)s needs",
            courier=courier,
            number=number,
        )
    # The checker's other findings (a stop twice, an unknown one) cannot come from a move.
    return say("%(courier)s's route cannot be driven as planned", courier=courier)


def _ready_plan(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(say("There is no plan %(id)s.", id=plan_id))
    if plan.status == PlanStatus.SOLVING:
        raise Conflict(
            say(
                "Plan version %(version)s is still being planned; it cannot be changed yet.",
                version=plan.version,
            )
        )
    if plan.status != PlanStatus.READY:
        raise Conflict(
            say(
                "Plan version %(version)s could not be planned, so it cannot be changed; plan "
                "the day again.",
                version=plan.version,
            )
        )
    return plan


def _rewrite(
    session: Session, plan: Plan, day: DayProblem, vehicle: int, stops: list[int]
) -> PlanRoute:
    """Store one route re-timed by the checker (kept as is, violations and all)."""
    shift: Shift = day.shifts[vehicle]
    existing = next((r for r in plan.routes if r.shift_id == shift.id), None)
    fresh = route_row(day, vehicle, time_route(day.problem, vehicle, stops).route)
    plan.revision += 1
    if existing is None:
        if stops:
            plan.routes.append(fresh)
    elif not stops:
        plan.routes.remove(existing)
    else:
        # The row stays (its id and colour on the board); its visits are written anew.
        existing.visits.clear()
        session.flush()
        for name in (
            "start_at",
            "end_at",
            "distance_m",
            "load_start",
            "break_start_at",
            "break_end_at",
        ):
            setattr(existing, name, getattr(fresh, name))
        visits = list(fresh.visits)
        fresh.visits.clear()
        existing.visits.extend(visits)
        fresh = existing
    refresh_totals(plan)
    session.flush()
    return fresh


def _now_on_a_route(session: Session, plan: Plan, stop: Stop, now: datetime) -> None:
    """The stop left the plan's not-planned list; on a published plan it is now planned."""
    _drop_unassigned(plan, stop.id)
    if plan.published_at is not None:
        stop_service.placed(session, [stop], now=now)


def _drop_unassigned(plan: Plan, stop_id: int) -> None:
    for u in [u for u in plan.unassigned if u.stop.id == stop_id]:
        plan.unassigned.remove(u)


def _record(
    session: Session,
    plan: Plan,
    kind: ChangeKind,
    stop: Stop,
    summary: Message,
    violations: list[Message],
    reason: str | None,
    user_id: int | None,
    now: datetime,
) -> None:
    session.add(
        PlanChange(
            plan_id=plan.id,
            kind=kind,
            stop_id=stop.id,
            summary=summary,
            violations=messages.dump_list(list(violations)),
            override_reason=reason,
            user_id=user_id,
            created_at=now,
        )
    )
