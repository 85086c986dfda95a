"""People on a return (X2, X3): the promised response time watched, support's answers, a
decision overridden with a reason, and the item received back at the depot.

Services only flush; the caller commits. Each step that must happen once however many
workers run it (an escalation, the apology for a broken promise) claims its case by a
compare-and-set (``UPDATE ... WHERE escalated_at IS NULL``): of two transactions only the one
whose UPDATE changed the row goes on, on PostgreSQL and on SQLite alike.

Overrides, as decided here:

- Only ``approved`` or ``declined`` may be chosen, with a reason of 3 to 500 characters that
  the customer reads. Choosing what the case already is, or overriding a case that was
  received or closed, is refused (nothing would change, or the item is already back).
- Approving a declined or under-review case does what an approval means now: a fault
  (defective, damaged, wrong item) gets the policy's apology bonus (once per case: a bonus
  already credited is not credited again); a refund is paid through the ledger unless the
  resolution is a replacement or exchange in stock (then one visit brings the new one and
  collects the old); food alone is refunded without a pickup. A declined case whose items
  are now in another return cannot be approved (they would be returned twice).
- Declining is refused once the refund was paid: the money has gone back. Declining an
  approved case before any money went back keeps its apology bonus (taking points back from
  a customer we apologised to would make things worse) and drops the pickup and delivery.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy import case as case_when
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from app.accounts.models import User
from app.customers.models import Customer
from app.errors import Conflict, ErrorCollector, NotFound
from app.fleet.models import Depot
from app.messages import Message, say, say_n
from app.notifications import services as notifications
from app.orders.models import Order, OrderItem
from app.planning import editing
from app.planning import stops as stop_service
from app.planning.enums import StopKind
from app.planning.models import Stop
from loyalty import services as loyalty_services
from loyalty.policy import LoyaltyRules
from returns import services as return_services
from returns.models import ReturnCase, ReturnEvent, ReturnItem
from returns.policy import (
    FAULTS,
    Decision,
    Line,
    Outcome,
    Resolution,
    ReturnReason,
    ReturnRules,
    Rule,
    bonus,
)

REASON_MIN = 3
REASON_MAX = 500
ANSWER_MAX = 2_000
RECEIVED = "received"
CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class PromiseRules:
    """How the promised response time is watched (from the environment by default)."""

    soon: timedelta = timedelta(hours=4)  # support is told this long before the promise
    breach_bonus_points: int = 100  # the apology for a broken promise; 0: none

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PromiseRules:
        env = os.environ if env is None else env
        hours = float(env.get("ROUNDTRIP_RETURN_ESCALATE_HOURS", "4"))
        points = int(env.get("ROUNDTRIP_RETURN_BREACH_BONUS_POINTS", "100"))
        if not 0 <= hours <= 24 * 14:
            raise ValueError("ROUNDTRIP_RETURN_ESCALATE_HOURS must be between 0 and 336")
        if not 0 <= points <= 10_000:
            raise ValueError("ROUNDTRIP_RETURN_BREACH_BONUS_POINTS must be between 0 and 10000")
        return cls(soon=timedelta(hours=hours), breach_bonus_points=points)


# --- The promise (X3) -------------------------------------------------------------------


def _waiting() -> list[ColumnElement[bool]]:
    """A case waiting for a person: under review, never answered, with a promise."""
    return [
        ReturnCase.status == Outcome.UNDER_REVIEW.value,
        ReturnCase.answered_at.is_(None),
        ReturnCase.respond_by.is_not(None),
    ]


def promises_due(
    session: Session, *, now: datetime, soon: timedelta
) -> tuple[list[int], list[int]]:
    """Cases to escalate (the promise is within ``soon``, or already broken) and cases
    whose broken promise the customer has not yet been told of, oldest promise first."""
    to_escalate = session.scalars(
        select(ReturnCase.id)
        .where(
            *_waiting(),
            ReturnCase.escalated_at.is_(None),
            ReturnCase.respond_by <= now + soon,
        )
        .order_by(ReturnCase.respond_by, ReturnCase.id)
    ).all()
    broken = session.scalars(
        select(ReturnCase.id)
        .where(*_waiting(), ReturnCase.breach_told_at.is_(None), ReturnCase.respond_by < now)
        .order_by(ReturnCase.respond_by, ReturnCase.id)
    ).all()
    return list(to_escalate), list(broken)


def anything_to_watch(session: Session, *, now: datetime, soon: timedelta) -> bool:
    """Whether a case waits whose promise is within ``soon`` and is not yet escalated, or is
    broken and not yet apologised for (the scheduler fires the job only then)."""
    found = session.scalar(
        select(ReturnCase.id)
        .where(
            *_waiting(),
            ReturnCase.respond_by <= now + soon,
            ReturnCase.escalated_at.is_(None)
            | (ReturnCase.breach_told_at.is_(None) & (ReturnCase.respond_by < now)),
        )
        .limit(1)
    )
    return found is not None


def _claim(
    session: Session,
    case_id: int,
    column: InstrumentedAttribute[datetime | None],
    now: datetime,
    *when: ColumnElement[bool],
) -> ReturnCase | None:
    """Set ``column`` to ``now`` if it is still empty and the case still waits; the case if
    this transaction did it, None if another one did (or the case was answered meanwhile)."""
    taken = session.execute(
        update(ReturnCase)
        .where(ReturnCase.id == case_id, column.is_(None), *_waiting(), *when)
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(ReturnCase, case_id, populate_existing=True)


def _tz(case: ReturnCase) -> ZoneInfo:
    return ZoneInfo(case.order.depot.timezone)


def escalate_case(session: Session, *, case_id: int, now: datetime, soon: timedelta) -> bool:
    """Tell support that a case's promise is near (or broken), once; True if told now."""
    case = _claim(
        session, case_id, ReturnCase.escalated_at, now, ReturnCase.respond_by <= now + soon
    )
    if case is None:
        return False
    assert case.respond_by is not None  # _waiting()
    respond_by = case.respond_by.astimezone(_tz(case))
    case.events.append(
        ReturnEvent(
            at=now,
            message=(
                say("A senior member of our team is now looking after your return.")
                if case.respond_by < now
                else say(
                    "A senior member of our team is now looking after your return, so that "
                    "you hear from us by %(time)s.",
                    time=respond_by,
                )
            ),
        )
    )
    notifications.notify_staff(
        session,
        kind=notifications.NoticeKind.ESCALATION,
        message=(
            say(
                "Return %(case)s (order %(number)s) is waiting for an answer we promised by "
                "%(time)s; the promise is already broken.",
                case=case.id,
                number=case.order.number,
                time=respond_by,
            )
            if case.respond_by < now
            else say(
                "Return %(case)s (order %(number)s) is waiting for an answer we promised by "
                "%(time)s.",
                case=case.id,
                number=case.order.number,
                time=respond_by,
            )
        ),
        key=f"escalate:{case.id}",
        now=now,
        order_id=case.order_id,
        case_id=case.id,
    )
    session.flush()
    return True


def tell_breach(
    session: Session,
    *,
    case_id: int,
    now: datetime,
    bonus_points: int,
    loyalty_rules: LoyaltyRules | None = None,
) -> bool:
    """Apologise to the customer for a broken promise, once (with ``bonus_points`` if more
    than 0); True if told now."""
    case = _claim(session, case_id, ReturnCase.breach_told_at, now, ReturnCase.respond_by < now)
    if case is None:
        return False
    assert case.respond_by is not None  # _waiting()
    respond_by = case.respond_by.astimezone(_tz(case))
    if bonus_points > 0:
        message = say_n(
            "We promised to answer about your return by %(time)s and we have not. We are "
            "sorry: %(n)s bonus point is our apology, and a person is on it now.",
            "We promised to answer about your return by %(time)s and we have not. We are "
            "sorry: %(n)s bonus points are our apology, and a person is on it now.",
            bonus_points,
            time=respond_by,
        )
        loyalty_services.credit_bonus(
            session,
            customer_id=case.customer_id,
            points=bonus_points,
            reason=say(
                "Our apology for answering late about your return of order %(number)s",
                number=case.order.number,
            ),
            source="returns",
            now=now,
            key=f"return-breach:{case.id}",
            **({"rules": loyalty_rules} if loyalty_rules else {}),
        )
    else:
        message = say(
            "We promised to answer about your return by %(time)s and we have not. We are "
            "sorry; a person is on it now.",
            time=respond_by,
        )
    case.events.append(ReturnEvent(at=now, message=message))
    notifications.notify(
        session,
        customer_id=case.customer_id,
        kind=notifications.NoticeKind.RETURN_LATE,
        message=message,
        key=f"breach:{case.id}",
        now=now,
        order_id=case.order_id,
        case_id=case.id,
    )
    session.flush()
    return True


def watch_promises(
    session: Session,
    *,
    now: datetime,
    soon: timedelta,
    bonus_points: int | None = None,
    loyalty_rules: LoyaltyRules | None = None,
) -> tuple[int, int]:
    """Escalate every case whose promise is near, and apologise for every broken one, in
    this session; returns (escalated, apologised). ``returns.jobs.escalate`` does the same
    with one transaction per case."""
    if bonus_points is None:
        bonus_points = PromiseRules.from_env().breach_bonus_points
    to_escalate, broken = promises_due(session, now=now, soon=soon)
    escalated = sum(escalate_case(session, case_id=i, now=now, soon=soon) for i in to_escalate)
    told = sum(
        tell_breach(
            session, case_id=i, now=now, bonus_points=bonus_points, loyalty_rules=loyalty_rules
        )
        for i in broken
    )
    return escalated, told


# --- Staff's actions (X2) -----------------------------------------------------------------


def _locked(session: Session, case_id: int) -> ReturnCase:
    """The case with its order locked (PostgreSQL), as ``start_return`` locks it: a return of
    the same items being started meanwhile waits."""
    order_id = session.scalar(select(ReturnCase.order_id).where(ReturnCase.id == case_id))
    if order_id is None:
        raise NotFound(say("There is no return %(id)s.", id=case_id))
    session.scalar(select(Order.id).where(Order.id == order_id).with_for_update())
    found = session.scalar(
        select(ReturnCase)
        .where(ReturnCase.id == case_id)
        .options(
            selectinload(ReturnCase.items)
            .selectinload(ReturnItem.order_item)
            .selectinload(OrderItem.product)
        )
        .with_for_update(of=ReturnCase)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


def _tell(session: Session, case: ReturnCase, message: Message, key: str, now: datetime) -> None:
    notifications.notify(
        session,
        customer_id=case.customer_id,
        kind=notifications.NoticeKind.RETURN_UPDATE,
        message=message,
        key=key,
        now=now,
        order_id=case.order_id,
        case_id=case.id,
    )


def _said_by(case: ReturnCase, message: Message, user_id: int, now: datetime) -> ReturnEvent:
    event = ReturnEvent(at=now, message=message, user_id=user_id)
    case.events.append(event)
    return event


def _next_steps(*, refund_now: bool, pickup: bool, delivery: bool) -> Message:
    if delivery:
        return say(
            "A courier will bring the new one and take the old one in the same visit; you "
            "will see the window as soon as the next plan is made."
        )
    if refund_now and pickup:
        return say("Your money is on its way back and a courier will collect the item.")
    if refund_now:
        return say("Your money is on its way back; you do not need to return anything.")
    if pickup:
        return say("A courier will collect the item.")
    return say("There is nothing more you need to do.")


def _approve(
    session: Session,
    case: ReturnCase,
    why: str,
    user_id: int,
    now: datetime,
    rules: ReturnRules,
    loyalty_rules: LoyaltyRules | None,
) -> Message:
    if not case.items:
        raise Conflict(
            say(
                "This return has no items recorded, so there is nothing to approve. Ask the "
                "customer to start a new return."
            )
        )
    chosen = [item.order_item for item in case.items]
    wanted = [return_services.Wanted(i.order_item_id, i.quantity) for i in case.items]
    if case.status == Outcome.DECLINED:
        # A declined case's items count in no return: another may have taken them since.
        already = return_services.returned_quantities(session, [w.order_item_id for w in wanted])
        for line, w in zip(chosen, wanted, strict=True):
            if already.get(line.id, 0) + w.quantity > line.quantity:
                raise Conflict(
                    say(
                        "%(name)s is already in another return, so this one cannot be "
                        "approved: it would be returned twice. See the other return instead.",
                        name=line.product.name,
                    )
                )
    fault = ReturnReason(case.reason) in FAULTS
    lines = [
        Line(i.unit_price_minor, w.quantity, i.product.is_food)
        for i, w in zip(chosen, wanted, strict=True)
    ]
    food = all(line.food for line in lines)
    points = 0
    if fault and case.bonus_points == 0:  # an apology already credited is not repeated
        incidents = return_services.incidents_in_window(session, case.customer_id, now, rules)
        points = bonus(lines, incidents, rules)
    swap = case.resolution in (Resolution.REPLACEMENT, Resolution.EXCHANGE)
    # A collection already on the routes stays as it is: one bringing nothing new (the
    # standard path's) means the customer is refunded rather than sent a new one.
    visit = session.scalar(
        select(Stop.kind)
        .where(Stop.return_case_id == case.id, Stop.called_off_at.is_(None))
        .order_by(Stop.id)
        .limit(1)
    )
    if fault and food:
        refund, pickup, delivery = True, False, False
    elif swap and visit in (None, StopKind.EXCHANGE) and return_services.in_stock(session, chosen):
        refund, pickup, delivery = False, True, True
    else:
        refund, pickup, delivery = True, True, False
    refund = refund and case.refunded_at is None
    next_steps = _next_steps(refund_now=refund, pickup=pickup, delivery=delivery)
    message = (
        say(
            "Our team looked at your return again and approved it: %(why)s %(next)s The bonus "
            "points are our apology.",
            why=why,
            next=next_steps,
        )
        if points or (fault and case.bonus_points)
        else say(
            "Our team looked at your return again and approved it: %(why)s %(next)s",
            why=why,
            next=next_steps,
        )
    )
    case.status = Outcome.APPROVED
    case.decision = message
    case.decided_at = now
    case.bonus_points += points
    case.pickup, case.delivery = pickup, delivery
    decision = Decision(
        Rule(case.rule),
        Outcome.APPROVED,
        message,
        bonus_points=points,
        refund_now=refund,
        pickup=pickup,
        delivery=delivery,
    )
    # The same bonus and refund as a decision by the policy, under the same ledger keys: a
    # case is never credited or refunded twice, whoever approved it.
    return_services.carry_out(
        session, case, case.order, decision, chosen, wanted, now, loyalty_rules
    )
    case.events[-1].user_id = user_id  # carry_out wrote the decision into the timeline
    if pickup and visit is None:
        return_services.schedule_collection(session, case, now=now)
    elif not pickup and visit is not None:  # food refunded as it is: nothing to collect
        _call_off_visits(session, case, message, user_id, now)
    return message


def _call_off_visits(
    session: Session, case: ReturnCase, why: Message, user_id: int, now: datetime
) -> None:
    """Take the case's open visits off the routes for good; refused once a courier has it."""
    open_stops = [
        st
        for st in stop_service.stops_of_return(session, case.id)
        if not st.done and st.called_off_at is None
    ]
    visits = [st.id for st in open_stops]
    if editing.stops_on_board(session, visits):
        raise Conflict(
            say(
                "This return cannot be changed now: a courier is already on the way to "
                "collect it. Change it after the visit, or ask the dispatcher to call it off."
            )
        )
    if visits:
        editing.withdraw_stops(session, stop_ids=visits, now=now, reason=why, user_id=user_id)
        stop_service.call_off(open_stops, at=now)


def _decline(session: Session, case: ReturnCase, why: str, user_id: int, now: datetime) -> Message:
    if case.refunded_at is not None:
        raise Conflict(
            say(
                "This return cannot be declined: its refund was paid on %(day)s, so the money "
                "has already gone back to the customer. Write to the customer instead.",
                day=case.refunded_at.astimezone(_tz(case)).date(),
            )
        )
    message = say("Our team looked at your return again and declined it: %(why)s", why=why)
    # The courier's visit for it is called off; one already on its way is not.
    _call_off_visits(session, case, message, user_id, now)
    case.status = Outcome.DECLINED
    case.decision = message
    case.decided_at = now
    case.pickup = case.delivery = False
    _said_by(case, message, user_id, now)
    return message


def override(
    session: Session,
    *,
    case_id: int,
    outcome: Outcome | str,
    reason: str,
    user_id: int,
    now: datetime,
    rules: ReturnRules | None = None,
    loyalty_rules: LoyaltyRules | None = None,
) -> ReturnCase:
    """Approve or decline a case against the policy's decision, with a reason the customer
    reads; what the new decision means is carried out in this transaction (see the module's
    notes for what is refused) and the customer is told."""
    errors = ErrorCollector()
    chosen = outcome if outcome in (Outcome.APPROVED, Outcome.DECLINED) else None
    if chosen is None:
        errors.add("outcome", say("Choose to approve or to decline the return."))
    why = (reason or "").strip()
    if not REASON_MIN <= len(why) <= REASON_MAX:
        errors.add(
            "reason",
            say(
                "Say why in %(min)s to %(max)s characters; the customer reads it.",
                min=REASON_MIN,
                max=REASON_MAX,
            ),
        )
    errors.raise_if_any()
    assert chosen is not None
    case = _locked(session, case_id)
    if case.status in (RECEIVED, CLOSED):
        raise Conflict(
            say("This return was already received, so its decision can no longer be changed.")
            if case.status == RECEIVED
            else say("This return is closed, so its decision can no longer be changed.")
        )
    if case.status == chosen:
        raise Conflict(
            say("This return is already approved.")
            if chosen == Outcome.APPROVED
            else say("This return is already declined.")
        )
    if chosen == Outcome.APPROVED:
        message = _approve(
            session, case, why, user_id, now, rules or ReturnRules.from_env(), loyalty_rules
        )
    else:
        message = _decline(session, case, why, user_id, now)
    case.override_reason = why
    case.overridden_by_user_id = user_id
    case.answered_at = now
    session.flush()
    _tell(session, case, message, f"override:{case.id}:{len(case.events)}", now)
    session.flush()
    return case


def answer(session: Session, *, case_id: int, text: str, user_id: int, now: datetime) -> ReturnCase:
    """Support writes to the customer about the case: a line of its timeline (the customer
    sees it) and a message; an answer keeps the promised response time."""
    words = (text or "").strip()
    errors = ErrorCollector()
    if not words:
        errors.add("text", say("Write the answer the customer will read."))
    elif len(words) > ANSWER_MAX:
        errors.add("text", say("Keep it under %(n)s characters.", n=ANSWER_MAX))
    errors.raise_if_any()
    case = _locked(session, case_id)
    # Support's words are kept as written (plain text, not a Message to translate).
    case.events.append(ReturnEvent(at=now, message=words, user_id=user_id))
    case.answered_at = now
    session.flush()
    _tell(
        session,
        case,
        say("We answered about your return: %(text)s", text=words),
        f"answer:{case.id}:{len(case.events)}",
        now,
    )
    session.flush()
    return case


def receive(
    session: Session,
    *,
    case_id: int,
    user_id: int,
    now: datetime,
    loyalty_rules: LoyaltyRules | None = None,
) -> ReturnCase:
    """The item is back at the depot and was checked: a case still under review is refunded
    now (the standard path), an approved one has its item back; either is ``received``."""
    case = _locked(session, case_id)
    if case.status in (RECEIVED, CLOSED):
        raise Conflict(say("This return was already marked received."))
    if case.status == Outcome.DECLINED:
        raise Conflict(say("This return was declined, so there is nothing to receive."))
    if not case.pickup:
        raise Conflict(say("Nothing was to be collected for this return."))
    if case.status == Outcome.UNDER_REVIEW and case.refunded_at is None:
        message = say("We have your item back and checked it. Your money is on its way back.")
        chosen = [item.order_item for item in case.items]
        wanted = [return_services.Wanted(i.order_item_id, i.quantity) for i in case.items]
        return_services.carry_out(
            session,
            case,
            case.order,
            Decision(Rule(case.rule), Outcome.APPROVED, message, refund_now=True, pickup=True),
            chosen,
            wanted,
            now,
            loyalty_rules,
        )
        case.events[-1].user_id = user_id
        case.decision = message
        case.decided_at = now
    else:
        message = say("We have your item back at our depot.")
        _said_by(case, message, user_id, now)
    case.status = RECEIVED
    case.answered_at = now
    session.flush()
    _tell(session, case, message, f"received:{case.id}", now)
    session.flush()
    return case


# --- What the staff pages read ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeskRow:
    """One case in support's list."""

    id: int
    order_number: str
    customer_name: str
    reason: str
    status: str
    rule: str
    created_at: datetime
    respond_by: datetime | None
    waiting: bool  # for a person: under review, unanswered
    due_in_s: int | None  # while waiting: seconds to the promise (negative: overdue)
    escalated: bool
    timezone: str


@dataclass(frozen=True, slots=True)
class DeskPage:
    rows: list[DeskRow]
    page: int
    pages: int
    total: int


def desk(session: Session, *, now: datetime, page: int = 1, per_page: int = 25) -> DeskPage:
    """Every case, those waiting for a person first (the soonest promise first), then the
    ones still moving (approved), then the rest, newest first."""
    waiting = (ReturnCase.status == Outcome.UNDER_REVIEW.value) & ReturnCase.answered_at.is_(None)
    rank = case_when(
        (waiting, 0),
        (ReturnCase.status.in_((Outcome.UNDER_REVIEW.value, Outcome.APPROVED.value)), 1),
        else_=2,
    )
    total = session.scalar(select(func.count(ReturnCase.id))) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    found = session.execute(
        select(ReturnCase, Order.number, Customer.name, Depot.timezone)
        .join(Order, Order.id == ReturnCase.order_id)
        .join(Customer, Customer.id == ReturnCase.customer_id)
        .join(Depot, Depot.id == Order.depot_id)
        .order_by(
            rank,
            case_when((waiting, ReturnCase.respond_by), else_=None).asc().nulls_last(),
            ReturnCase.created_at.desc(),
            ReturnCase.id.desc(),
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    rows = []
    for c, number, name, zone in found:
        is_waiting = c.status == Outcome.UNDER_REVIEW and c.answered_at is None
        due = (
            int((c.respond_by - now).total_seconds())
            if is_waiting and c.respond_by is not None
            else None
        )
        rows.append(
            DeskRow(
                id=c.id,
                order_number=number,
                customer_name=name,
                reason=c.reason,
                status=c.status,
                rule=c.rule,
                created_at=c.created_at,
                respond_by=c.respond_by,
                waiting=is_waiting,
                due_in_s=due,
                escalated=c.escalated_at is not None,
                timezone=zone,
            )
        )
    return DeskPage(rows=rows, page=page, pages=pages, total=total)


@dataclass(frozen=True, slots=True)
class CaseLine:
    name: str
    quantity: int
    unit_price_minor: int
    food: bool


@dataclass(frozen=True, slots=True)
class CaseEvent:
    at: datetime
    message: str
    by: str | None  # the staff member's name; None: the system or the customer


@dataclass(frozen=True, slots=True)
class CasePage:
    """One case as support sees it."""

    case: ReturnCase
    order_number: str
    currency: str
    customer_id: int
    customer_name: str
    timezone: str
    lines: Sequence[CaseLine]
    photos: Sequence[tuple[int, str]]  # (photo id, stored name)
    events: Sequence[CaseEvent]
    overridden_by: str | None
    waiting: bool
    due_in_s: int | None
    can_receive: bool


def case_page(session: Session, *, case_id: int, now: datetime) -> CasePage:
    found = session.get(ReturnCase, case_id)
    if found is None:
        raise NotFound(say("There is no return %(id)s.", id=case_id))
    order = found.order
    customer = session.get_one(Customer, found.customer_id)
    authors = {e.user_id for e in found.events if e.user_id is not None}
    if found.overridden_by_user_id is not None:
        authors.add(found.overridden_by_user_id)
    names = (
        dict(session.execute(select(User.id, User.name).where(User.id.in_(authors))).all())
        if authors
        else {}
    )
    waiting = found.status == Outcome.UNDER_REVIEW and found.answered_at is None
    return CasePage(
        case=found,
        order_number=order.number,
        currency=order.currency,
        customer_id=customer.id,
        customer_name=customer.name,
        timezone=order.depot.timezone,
        lines=[
            CaseLine(
                i.order_item.product.name,
                i.quantity,
                i.order_item.unit_price_minor,
                i.order_item.product.is_food,
            )
            for i in found.items
        ],
        photos=[(p.id, p.photo) for p in found.photos],
        events=[
            CaseEvent(e.at, e.message, names.get(e.user_id) if e.user_id else None)
            for e in found.events
        ],
        overridden_by=names.get(found.overridden_by_user_id)
        if found.overridden_by_user_id
        else None,
        waiting=waiting,
        due_in_s=(
            int((found.respond_by - now).total_seconds())
            if waiting and found.respond_by is not None
            else None
        ),
        can_receive=found.pickup and found.status in (Outcome.UNDER_REVIEW, Outcome.APPROVED),
    )
