"""Blocking a lot (X4): the suggestion, the block, and what it does to the orders carrying it.

When customers return goods of one lot as defective or damaged often enough, support is
asked whether to block the lot (:func:`suggested_blocks`). Blocking it (:func:`block_lot`)
is one transaction the caller commits:

- the lot is marked blocked, with the reason, when and by whom; order taking never
  allocates a blocked lot (``app.orders.services._shippable_lot``);
- every undelivered order with an item of the lot (new or planned) is moved to another
  lot of the same product that is not blocked and has the units (first in, first out; a
  lot whose stock is not counted is assumed to have them, as order taking assumes), or
  else it is **held**: taken off every ready plan version of its day, its customer told
  why with an apology bonus. A held order is not planned again and cannot be delivered
  (``app.planning.problem.PLANNABLE``, ``app.orders.services.mark_delivered``);
- an order already out for delivery is on the van: it is not changed, but listed in the
  result so that the dispatcher can call the courier back (so is a planned order whose
  route has already left);
- a return to the supplier is recorded with the units to send back (see
  ``returns.models.SupplierReturn``), and the lot's counted stock drops to zero.

Blocking a lot that is already blocked is refused (``Conflict``), so nothing is done twice.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session, selectinload

from app.catalog.models import Lot, Product
from app.errors import Conflict, NotFound, ValidationFailed
from app.messages import Message, say
from app.notifications import services as notifications
from app.orders.models import Order, OrderItem, OrderStatus
from app.planning import editing
from app.planning.enums import StopKind
from app.planning.models import Stop
from loyalty import services as loyalty_services
from returns.models import ReturnCase, ReturnItem, SupplierReturn
from returns.policy import Outcome, ReturnReason

# What counts against a lot: the goods were faulty (not a wrong pick, not a change of mind).
DEFECTS = (ReturnReason.DEFECTIVE.value, ReturnReason.DAMAGED.value)
# Orders whose goods are still in the depot; out for delivery they are on the van.
IN_DEPOT = (OrderStatus.NEW, OrderStatus.PLANNED)
REASON_MAX = 255  # lots.blocked_reason


@dataclass(frozen=True, slots=True)
class LotRules:
    defect_threshold: int = 3  # defect returns of one lot within ``defect_days``
    defect_days: int = 30
    hold_bonus_points: int = 100  # the apology for a held order; 0: none

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LotRules:
        env = os.environ if env is None else env
        rules = cls(
            defect_threshold=int(env.get("ROUNDTRIP_LOT_DEFECT_THRESHOLD", "3")),
            defect_days=int(env.get("ROUNDTRIP_LOT_DEFECT_DAYS", "30")),
            hold_bonus_points=int(env.get("ROUNDTRIP_HOLD_BONUS_POINTS", "100")),
        )
        for name, value, low, top in (
            ("ROUNDTRIP_LOT_DEFECT_THRESHOLD", rules.defect_threshold, 1, 10_000),
            ("ROUNDTRIP_LOT_DEFECT_DAYS", rules.defect_days, 1, 3_650),
            ("ROUNDTRIP_HOLD_BONUS_POINTS", rules.hold_bonus_points, 0, 10_000),
        ):
            if not low <= value <= top:
                raise ValueError(f"{name} must be between {low} and {top}")
        return rules


@dataclass(frozen=True, slots=True)
class LotDefects:
    """A lot as the staff page lists it, with its recent defect returns."""

    lot_id: int
    code: str
    product_id: int
    product_name: str
    supplier: str
    received_at: datetime
    stock_units: int | None
    defect_returns: int  # return cases within the window, not declined
    suggested: bool  # at or over the threshold and not blocked yet
    blocked: bool
    blocked_reason: str | None
    blocked_at: datetime | None


@dataclass(frozen=True, slots=True)
class BlockResult:
    """What a block did, for the person who asked for it."""

    lot_id: int
    lot_code: str
    product_name: str
    held: tuple[str, ...]  # order numbers now held
    reallocated: tuple[str, ...]  # order numbers moved to another lot
    on_the_road: tuple[str, ...]  # carrying the lot on a route under way: the dispatcher's
    customers_told: int
    supplier_return_id: int
    quantity_to_return: int


def _defects_since(since: datetime) -> ColumnElement[bool]:
    return and_(
        ReturnCase.reason.in_(DEFECTS),
        ReturnCase.status != Outcome.DECLINED.value,
        ReturnCase.created_at >= since,
    )


def defect_counts(session: Session, *, since: datetime) -> dict[int, int]:
    """Per lot: how many return cases since ``since`` sent its goods back as faulty."""
    rows = session.execute(
        select(OrderItem.lot_id, func.count(func.distinct(ReturnCase.id)))
        .join(ReturnItem, ReturnItem.order_item_id == OrderItem.id)
        .join(ReturnCase, ReturnCase.id == ReturnItem.case_id)
        .where(OrderItem.lot_id.is_not(None), _defects_since(since))
        .group_by(OrderItem.lot_id)
    ).all()
    return {lot_id: int(n) for lot_id, n in rows if lot_id is not None}


def lots_overview(
    session: Session, *, now: datetime, rules: LotRules | None = None
) -> list[LotDefects]:
    """Every lot, those suggested for a block first (most defect returns first), then the
    rest by product and arrival."""
    rules = rules or LotRules.from_env()
    counts = defect_counts(session, since=now - timedelta(days=rules.defect_days))
    found = session.execute(
        select(Lot, Product.name)
        .join(Product, Product.id == Lot.product_id)
        .order_by(Product.name, Lot.received_at, Lot.id)
    ).all()
    rows = [
        LotDefects(
            lot_id=lot.id,
            code=lot.code,
            product_id=lot.product_id,
            product_name=name,
            supplier=lot.supplier,
            received_at=lot.received_at,
            stock_units=lot.stock_units,
            defect_returns=counts.get(lot.id, 0),
            suggested=not lot.blocked and counts.get(lot.id, 0) >= rules.defect_threshold,
            blocked=lot.blocked,
            blocked_reason=lot.blocked_reason,
            blocked_at=lot.blocked_at,
        )
        for lot, name in found
    ]
    return sorted(rows, key=lambda r: (not r.suggested, -r.defect_returns if r.suggested else 0))


def suggested_blocks(
    session: Session,
    *,
    now: datetime,
    threshold: int | None = None,
    days: int | None = None,
) -> list[LotDefects]:
    """Lots not blocked whose goods came back as defective or damaged (cases not declined)
    at least ``threshold`` times in the last ``days`` days, most first.

    Defaults: ROUNDTRIP_LOT_DEFECT_THRESHOLD (3) and ROUNDTRIP_LOT_DEFECT_DAYS (30).
    """
    env = LotRules.from_env()
    rules = LotRules(
        defect_threshold=env.defect_threshold if threshold is None else threshold,
        defect_days=env.defect_days if days is None else days,
        hold_bonus_points=env.hold_bonus_points,
    )
    return [r for r in lots_overview(session, now=now, rules=rules) if r.suggested]


@dataclass(frozen=True, slots=True)
class BlockPreview:
    """What blocking would touch, asked before the person confirms."""

    orders_in_depot: int
    orders_on_the_road: int


def preview_block(session: Session, *, lot_id: int) -> BlockPreview:
    lot = _lot(session, lot_id)
    counts = dict(
        session.execute(
            select(Order.status, func.count(func.distinct(Order.id)))
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(
                OrderItem.lot_id == lot.id,
                Order.status.in_((*IN_DEPOT, OrderStatus.OUT_FOR_DELIVERY)),
            )
            .group_by(Order.status)
        ).all()
    )
    return BlockPreview(
        orders_in_depot=sum(int(counts.get(s, 0)) for s in IN_DEPOT),
        orders_on_the_road=int(counts.get(OrderStatus.OUT_FOR_DELIVERY, 0)),
    )


def block_lot(
    session: Session,
    *,
    lot_id: int,
    reason: str,
    user_id: int | None,
    now: datetime,
    rules: LotRules | None = None,
) -> BlockResult:
    """Block a lot and deal with every order carrying it (see the module's text); flushes,
    the caller commits. Refused with ``Conflict`` if the lot is blocked already."""
    rules = rules or LotRules.from_env()
    reason = reason.strip()
    if not reason:
        raise ValidationFailed({"reason": [say("Say why the lot is blocked.")]})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": [say("Keep it under %(n)s characters.", n=REASON_MAX)]})
    lot = _lot(session, lot_id)
    # The product's lots are the lock, taken in one order: two people blocking this lot at
    # once get one block, and blocks of two lots of one product (each the other's spare)
    # wait for each other instead of deadlocking. (PostgreSQL; SQLite writes one transaction
    # at a time, and supplier_returns.lot_id is unique.)
    session.scalars(
        select(Lot)
        .where(Lot.product_id == lot.product_id)
        .order_by(Lot.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    if lot.blocked:
        raise Conflict(
            say(
                "Lot %(code)s of %(product)s is already blocked: %(reason)s",
                code=lot.code,
                product=lot.product.name,
                reason=lot.blocked_reason or "",
            )
        )
    lot.blocked, lot.blocked_reason = True, reason
    lot.blocked_at, lot.blocked_by_user_id = now, user_id
    session.flush()

    orders = session.scalars(
        select(Order)
        .where(
            Order.id.in_(select(OrderItem.order_id).where(OrderItem.lot_id == lot.id)),
            Order.status.in_((*IN_DEPOT, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.HELD)),
        )
        .order_by(Order.delivery_day, Order.window_start_at, Order.id)
        .options(selectinload(Order.items))
        .with_for_update(of=Order)
    ).all()
    spare = _spare_lots(session, lot)
    stops = _delivery_stops(session, [o for o in orders if o.status in IN_DEPOT])
    gone = editing.stops_on_board(session, [s.id for s in stops.values()])
    held: list[Order] = []
    moved: list[str] = []
    on_the_road: list[str] = []
    order_units = 0
    for order in orders:
        items = [i for i in order.items if i.lot_id == lot.id]
        stop = stops.get(order.id)
        if order.status == OrderStatus.OUT_FOR_DELIVERY or (stop is not None and stop.id in gone):
            on_the_road.append(order.number)  # on the van: the dispatcher calls it back
            continue
        # An order already held (for another lot, say) stays as it is: it ships nothing,
        # takes no spare stock and its customer is not told twice.
        if order.status != OrderStatus.HELD:
            if _reallocate(items, spare):
                moved.append(order.number)
            else:
                order.status = OrderStatus.HELD
                held.append(order)
        # Held or moved, this lot's units for it are still in the depot: they go back.
        order_units += sum(i.quantity for i in items)
    withdrawn = [stops[o.id].id for o in held if o.id in stops]
    if withdrawn:
        editing.withdraw_stops(
            session,
            stop_ids=withdrawn,
            now=now,
            reason=say(
                "lot %(code)s of %(product)s is blocked", code=lot.code, product=lot.product.name
            ),
            user_id=user_id,
        )
    for order in held:
        _tell(session, order, lot, rules=rules, now=now)

    stock = lot.stock_units or 0
    returned = _returned_units(session, lot.id)
    sent_back = SupplierReturn(
        lot_id=lot.id,
        quantity=stock + order_units + returned,
        stock_units=stock,
        order_units=order_units,
        returned_units=returned,
        reason=reason,
        created_at=now,
        created_by_user_id=user_id,
    )
    session.add(sent_back)
    if lot.stock_units is not None:
        lot.stock_units = 0  # it all goes back
    session.flush()
    return BlockResult(
        lot_id=lot.id,
        lot_code=lot.code,
        product_name=lot.product.name,
        held=tuple(o.number for o in held),
        reallocated=tuple(moved),
        on_the_road=tuple(on_the_road),
        customers_told=len({o.customer_id for o in held}),
        supplier_return_id=sent_back.id,
        quantity_to_return=sent_back.quantity,
    )


def _lot(session: Session, lot_id: int) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(say("There is no lot %(id)s.", id=lot_id))
    return lot


def _spare_lots(session: Session, blocked: Lot) -> list[Lot]:
    """The other lots of the product that may still be shipped, oldest first."""
    return list(
        session.scalars(
            select(Lot)
            .where(
                Lot.product_id == blocked.product_id,
                Lot.id != blocked.id,
                Lot.blocked.is_(False),
            )
            .order_by(Lot.received_at, Lot.id)
        )
    )


def _reallocate(items: Sequence[OrderItem], spare: Sequence[Lot]) -> bool:
    """Move every item to one spare lot that has its units, or move none (an order is
    not split between shipping and waiting). Counted stock goes down by what is moved."""
    left = {lot.id: lot.stock_units for lot in spare}
    chosen: list[tuple[OrderItem, Lot]] = []
    for item in items:
        lot = next(
            (x for x in spare if left[x.id] is None or (left[x.id] or 0) >= item.quantity), None
        )
        if lot is None:
            return False
        if left[lot.id] is not None:
            left[lot.id] = (left[lot.id] or 0) - item.quantity
        chosen.append((item, lot))
    for item, lot in chosen:
        item.lot = lot
        if lot.stock_units is not None:
            lot.stock_units -= item.quantity
    return True


def _delivery_stops(session: Session, orders: Sequence[Order]) -> dict[int, Stop]:
    """The delivery stop of each order on its delivery day, where one was made (by order)."""
    if not orders:
        return {}
    days = {o.id: o.delivery_day for o in orders}
    found = session.scalars(
        select(Stop).where(
            Stop.order_id.in_(list(days)),
            Stop.kind == StopKind.DELIVERY,
            Stop.return_case_id.is_(None),
        )
    )
    return {
        s.order_id: s
        for s in found
        if s.order_id is not None and days[s.order_id] == s.delivery_day
    }


def _tell(session: Session, order: Order, lot: Lot, *, rules: LotRules, now: datetime) -> None:
    """The customer hears why the order waits, with an apology bonus (once per order and
    lot: the keys make a retry harmless)."""
    key = f"held:{order.id}:{lot.id}"
    points = rules.hold_bonus_points
    message: Message
    if points > 0:
        loyalty_services.credit_bonus(
            session,
            customer_id=order.customer_id,
            points=points,
            reason=say("Our apology for holding order %(number)s", number=order.number),
            source=f"order:{order.id}",
            now=now,
            key=key,
        )
        message = say(
            "We are holding order %(number)s: the batch of %(product)s meant for it did not "
            "pass our quality check, and we have no other batch to send yet. We will write "
            "to you as soon as it can come. We are sorry: %(points)s bonus points are on your "
            "account.",
            number=order.number,
            product=lot.product.name,
            points=points,
        )
    else:
        message = say(
            "We are holding order %(number)s: the batch of %(product)s meant for it did not "
            "pass our quality check, and we have no other batch to send yet. We will write "
            "to you as soon as it can come. We are sorry.",
            number=order.number,
            product=lot.product.name,
        )
    notifications.notify(
        session,
        customer_id=order.customer_id,
        kind=notifications.NoticeKind.HELD,
        message=message,
        key=key,
        now=now,
        order_id=order.id,
    )


def _returned_units(session: Session, lot_id: int) -> int:
    """Units of the lot customers sent back as faulty that come back to us (collected)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(ReturnItem.quantity), 0))
            .join(OrderItem, OrderItem.id == ReturnItem.order_item_id)
            .join(ReturnCase, ReturnCase.id == ReturnItem.case_id)
            .where(
                OrderItem.lot_id == lot_id,
                ReturnCase.reason.in_(DEFECTS),
                ReturnCase.status != Outcome.DECLINED.value,
                ReturnCase.pickup.is_(True),
            )
        )
        or 0
    )


@dataclass(frozen=True, slots=True)
class SupplierReturnRow:
    id: int
    lot_code: str
    product_name: str
    supplier: str
    quantity: int
    stock_units: int
    order_units: int
    returned_units: int
    reason: str
    created_at: datetime
    created_by_user_id: int | None


def supplier_returns(session: Session, *, limit: int = 200) -> list[SupplierReturnRow]:
    """Returns to suppliers, newest first."""
    rows = session.execute(
        select(SupplierReturn, Lot, Product.name)
        .join(Lot, Lot.id == SupplierReturn.lot_id)
        .join(Product, Product.id == Lot.product_id)
        .order_by(SupplierReturn.created_at.desc(), SupplierReturn.id.desc())
        .limit(limit)
    ).all()
    return [
        SupplierReturnRow(
            id=r.id,
            lot_code=lot.code,
            product_name=name,
            supplier=lot.supplier,
            quantity=r.quantity,
            stock_units=r.stock_units,
            order_units=r.order_units,
            returned_units=r.returned_units,
            reason=r.reason,
            created_at=r.created_at,
            created_by_user_id=r.created_by_user_id,
        )
        for r, lot, name in rows
    ]
