"""Starting a return (X1) and deciding it by the policy (X2), in one transaction with its
apology bonus and its refund: a case is never approved without its bonus, nor the other way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.catalog.models import Lot
from app.errors import Conflict, ErrorCollector, NotFound
from app.messages import say
from app.notifications import services as notifications
from app.orders.models import DeliveryWindowTemplate, Order, OrderItem, OrderStatus
from app.orders.windows import local_midnight
from app.planning import editing
from app.planning import services as planning_services
from app.planning import stops as stop_service
from app.planning.enums import StopKind
from app.planning.models import Stop
from loyalty import services as loyalty_services
from loyalty.policy import LoyaltyRules
from returns.models import ReturnCase, ReturnEvent, ReturnItem, ReturnPhoto
from returns.policy import (
    FAULTS,
    Decision,
    Line,
    Resolution,
    ReturnReason,
    ReturnRequest,
    ReturnRules,
    decide,
)

MAX_PHOTOS = 5
MAX_DESCRIPTION = 2_000


@dataclass(frozen=True, slots=True)
class Wanted:
    order_item_id: int
    quantity: int


def _delivered_at(session: Session, order: Order) -> datetime:
    """When the courier handed it over (the stop's own time); else the end of its window."""
    done = session.scalar(
        select(func.max(Stop.completed_at)).where(
            Stop.order_id == order.id,
            Stop.return_case_id.is_(None),  # an exchange does not restart the period
            Stop.outcome == "delivered",
        )
    )
    return done or order.window_end_at


def returned_quantities(session: Session, order_item_ids: Sequence[int]) -> dict[int, int]:
    """How many of each line are already in a return that was not declined."""
    # Two reads by index and no join: a join's plan cached by PostgreSQL while the return
    # tables were nearly empty scans both in full, and slows with every return after
    # (docs/benchmarks.md, "Returns").
    lines = session.execute(
        select(ReturnItem.order_item_id, ReturnItem.case_id, ReturnItem.quantity).where(
            ReturnItem.order_item_id.in_(order_item_ids)
        )
    ).all()
    if not lines:
        return {}
    declined = set(
        session.scalars(
            select(ReturnCase.id).where(
                ReturnCase.id.in_({case_id for _, case_id, _ in lines}),
                ReturnCase.status == "declined",
            )
        )
    )
    out: dict[int, int] = {}
    for item_id, case_id, quantity in lines:
        if case_id not in declined:
            out[item_id] = out.get(item_id, 0) + quantity
    return out


def in_stock(session: Session, items: Sequence[OrderItem]) -> bool:
    """Whether each product has a lot that may be shipped (not blocked)."""
    for item in items:
        usable = session.scalar(
            select(func.count())
            .select_from(Lot)
            .where(Lot.product_id == item.product_id, Lot.blocked.is_(False))
        )
        if not usable:
            return False
    return True


def incidents_in_window(
    session: Session, customer_id: int, now: datetime, rules: ReturnRules
) -> int:
    """The customer's fault returns (not declined) within the repeat window before ``now``: the
    fast track is for a first incident (staff review counts them the same way)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(ReturnCase)
            .where(
                ReturnCase.customer_id == customer_id,
                ReturnCase.reason.in_([r.value for r in FAULTS]),
                ReturnCase.status != "declined",
                ReturnCase.created_at >= now - timedelta(days=rules.repeat_days),
            )
        )
        or 0
    )


def start_return(
    session: Session,
    *,
    customer_id: int,
    order_id: int,
    items: Sequence[Wanted],
    reason: ReturnReason,
    resolution: Resolution,
    key: str,
    now: datetime,
    description: str | None = None,
    photos: Sequence[str] = (),
    rules: ReturnRules | None = None,
    loyalty_rules: LoyaltyRules | None = None,
) -> ReturnCase:
    """Open a return of a delivered order and decide it at once by the policy.

    The same ``key`` from the same customer returns the first case and changes nothing (a
    phone that sent the form twice). An approval credits its apology bonus and pays its
    refund in this transaction; if either fails, nothing of the case is kept.
    """
    rules = rules or ReturnRules.from_env()
    found = session.scalar(
        select(ReturnCase).where(
            ReturnCase.customer_id == customer_id, ReturnCase.client_key == key
        )
    )
    if found is not None:
        return found
    # One return of an order at a time (PostgreSQL): two forms racing for the same items
    # must not both be approved and refunded.
    order = session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .options(selectinload(Order.items).selectinload(OrderItem.product))
        .with_for_update(of=Order)
    )
    if order is None or order.customer_id != customer_id:
        raise NotFound(say("There is no order %(id)s of yours.", id=order_id))
    if order.status != OrderStatus.DELIVERED:
        raise Conflict(
            say(
                "Order %(number)s has not been delivered yet, so there is nothing to return; "
                "its page shows when it comes.",
                number=order.number,
            )
        )
    errors = ErrorCollector()
    lines = {item.id: item for item in order.items}
    if not items:
        errors.add("items", say("Choose what you are sending back."))
    if description is not None and len(description) > MAX_DESCRIPTION:
        errors.add("description", say("Keep it under %(n)s characters.", n=MAX_DESCRIPTION))
    if len(photos) > MAX_PHOTOS:
        errors.add("photos", say("Send at most %(n)s photos.", n=MAX_PHOTOS))
    already = returned_quantities(session, list(lines))
    repeated = False
    seen: set[int] = set()
    for n, wanted in enumerate(items):
        line = lines.get(wanted.order_item_id)
        if wanted.order_item_id in seen:
            errors.add(f"items.{n}", say("This item is listed twice; give it once, with how many."))
            continue
        seen.add(wanted.order_item_id)
        if line is None:
            errors.add(f"items.{n}", say("That item is not part of this order."))
            continue
        left = line.quantity - already.get(line.id, 0)
        if left <= 0:
            repeated = True
        elif not 1 <= wanted.quantity <= left:
            errors.add(
                f"items.{n}",
                say("You can return 1 to %(n)s of %(name)s.", n=left, name=line.product.name),
            )
    errors.raise_if_any()
    chosen = [lines[w.order_item_id] for w in items]
    tz = ZoneInfo(order.depot.timezone)
    decision = decide(
        ReturnRequest(
            reason=reason,
            resolution=resolution,
            lines=[
                Line(i.unit_price_minor, w.quantity, i.product.is_food)
                for i, w in zip(chosen, items, strict=True)
            ],
            delivered_at=_delivered_at(session, order),
            now=now,
            tz=tz,
            already_returned=repeated,
            incidents_in_repeat_window=incidents_in_window(session, customer_id, now, rules),
            in_stock=in_stock(session, chosen),
        ),
        rules,
    )
    case = ReturnCase(
        order_id=order.id,
        customer_id=customer_id,
        client_key=key,
        reason=reason,
        resolution=resolution,
        description=(description or "").strip() or None,
        status=decision.outcome,
        rule=decision.rule,
        decision=decision.reason,
        bonus_points=decision.bonus_points,
        pickup=decision.pickup,
        delivery=decision.delivery,
        respond_by=decision.respond_by,
        created_at=now,
        decided_at=now,
    )
    # Kept on a declined case too (what was asked for), so staff can approve it later;
    # returned_quantities counts only cases not declined.
    case.items = [ReturnItem(order_item_id=w.order_item_id, quantity=w.quantity) for w in items]
    case.photos = [ReturnPhoto(photo=p) for p in photos]
    case.events = [ReturnEvent(at=now, message=say("Return started."))]
    session.add(case)
    session.flush()
    carry_out(session, case, order, decision, chosen, items, now, loyalty_rules)
    if decision.pickup:
        schedule_collection(session, case, now=now)
    # The decision also goes to them in writing, with the link back to the case.
    notifications.notify(
        session,
        customer_id=customer_id,
        kind=notifications.NoticeKind.RETURN_UPDATE,
        message=say(
            "Your return from order %(number)s: %(decision)s",
            number=order.number,
            decision=decision.reason,
        ),
        key=f"return:{case.id}:decided",
        now=now,
        order_id=order.id,
        case_id=case.id,
    )
    session.flush()
    return case


def collection_day(
    session: Session, order: Order, now: datetime
) -> tuple[date, datetime, datetime]:
    """When a return is collected: the shop's next day, within the hours it delivers.

    The whole delivering day is the window, so the evening's planning is free to put the
    visit where it fits best; the customer sees the narrower window the plan gives it.
    """
    tz = ZoneInfo(order.depot.timezone)
    day = now.astimezone(tz).date() + timedelta(days=1)
    first, last = session.execute(
        select(
            func.min(DeliveryWindowTemplate.start_minute),
            func.max(DeliveryWindowTemplate.end_minute),
        ).where(DeliveryWindowTemplate.depot_id == order.depot_id)
    ).one()
    first = 9 * 60 if first is None else first
    last = 21 * 60 if last is None else last
    midnight = local_midnight(day, tz)
    return day, midnight + timedelta(minutes=first), midnight + timedelta(minutes=last)


def schedule_collection(session: Session, case: ReturnCase, *, now: datetime) -> Stop:
    """The case's stop on the next day's routes: collect the items, and for an exchange bring
    the new ones in the same visit. If that day is already published, the stop is put on a
    route at once where it fits; otherwise the evening's planning places it."""
    order = case.order
    day, start, end = collection_day(session, order, now)
    goods: list[dict[str, object]] = []
    for item in case.items:
        line = item.order_item
        units = item.quantity * line.product.load_units
        goods.append(
            {"name": line.product.name, "quantity": item.quantity, "collect": True, "units": units}
        )
        if case.delivery:
            goods.append(
                {
                    "name": line.product.name,
                    "quantity": item.quantity,
                    "collect": False,
                    "units": units,
                }
            )
    stop = stop_service.return_stop(
        session,
        order=order,
        case_id=case.id,
        kind=StopKind.EXCHANGE if case.delivery else StopKind.PICKUP,
        goods=goods,
        day=day,
        window_start_at=start,
        window_end_at=end,
    )
    published = planning_services.published_plan(session, depot_id=order.depot_id, day=day)
    if published is not None:
        editing.insert_stop(session, plan_id=published.id, stop=stop, now=now)
    return stop


def carry_out(
    session: Session,
    case: ReturnCase,
    order: Order,
    decision: Decision,
    chosen: Sequence[OrderItem],
    items: Sequence[Wanted],
    now: datetime,
    loyalty_rules: LoyaltyRules | None,
) -> None:
    """What an approval means, now: the apology bonus, the refund and its points reversed."""
    case.events.append(ReturnEvent(at=now, message=decision.reason))
    if decision.bonus_points:
        loyalty_services.credit_bonus(
            session,
            customer_id=case.customer_id,
            points=decision.bonus_points,
            reason=say("Our apology for the faulty item in order %(number)s", number=order.number),
            source="returns",
            now=now,
            key=f"return:{case.customer_id}:{case.client_key}:apology",
            **({"rules": loyalty_rules} if loyalty_rules else {}),
        )
    if decision.refund_now:
        refund = sum(i.unit_price_minor * w.quantity for i, w in zip(chosen, items, strict=True))
        case.refund_minor = refund
        case.refunded_at = now
        earlier = int(
            session.scalar(
                select(func.coalesce(func.sum(ReturnCase.refund_minor), 0)).where(
                    ReturnCase.order_id == order.id, ReturnCase.id != case.id
                )
            )
            or 0
        )
        loyalty_services.refund_order(
            session,
            customer_id=case.customer_id,
            order_id=order.id,
            order_ref=order.number,
            order_total_minor=order.total_minor,
            refunded_total_minor=min(order.total_minor, earlier + refund),
            now=now,
            key=f"return:{case.customer_id}:{case.client_key}:refund",
            **({"rules": loyalty_rules} if loyalty_rules else {}),
        )
