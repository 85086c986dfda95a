"""Blocking a lot (X4), on both databases: exactly the undelivered orders carrying it are held
(or moved to another lot with stock), taken off the published plan, their customers told
once with an apology bonus; a return to the supplier counts what goes back; nothing of the
lot is taken or delivered afterwards; support is asked to block at the threshold."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.catalog.models import Lot, Product
from app.customers.models import Address, Customer
from app.db import session_scope
from app.errors import Conflict
from app.fleet.models import Depot
from app.geocoding import NoGeocoder
from app.messages import say
from app.notifications.models import Notification
from app.orders import services as order_services
from app.orders.models import Order, OrderItem, OrderStatus
from app.planning import editing
from app.planning import services as planning_services
from app.planning import stops as stop_service
from app.planning.enums import StopOutcome
from app.planning.models import PlanChange
from app.planning.problem import day_orders
from app.planning.progress import Report, report_stop
from loyalty.models import LedgerEntry
from returns import lots
from returns.models import ReturnCase, ReturnItem, SupplierReturn
from tests import factories as f
from tests.conftest import csrf_token
from tests.planning.helpers import NOW, QUICK, published

DAY = date(2030, 1, 15)
MORNING = datetime(2030, 1, 15, 5, tzinfo=UTC)  # 08:00-10:00 in Moscow
RULES = lots.LotRules(defect_threshold=3, defect_days=30, hold_bonus_points=100)


def an_order(session, world, number: str, lot: Lot, *, status=OrderStatus.NEW, hour=0, qty=1):  # type: ignore[no-untyped-def]
    """An order of ``qty`` kettles from ``lot`` on DAY, for a customer of its own."""
    customer = f.CustomerFactory()
    start = MORNING + timedelta(hours=hour)
    placed = Order(
        number=number,
        customer=customer,
        address=f.AddressFactory(customer=customer, lat=55.75 + hour / 100, lon=37.60),
        depot=world.depot,
        delivery_day=DAY,
        window_start_at=start,
        window_end_at=start + timedelta(hours=2),
        status=status,
        total_minor=qty * world.kettle.price_minor,
    )
    placed.items = [
        OrderItem(
            product=world.kettle, lot=lot, quantity=qty, unit_price_minor=world.kettle.price_minor
        )
    ]
    session.add(placed)
    session.flush()
    return placed


def lots_of_kettle(session, world, *, spare_units: int | None = 1):  # type: ignore[no-untyped-def]
    """The kettle's old lot (to be blocked, 5 units on the shelf) and a newer one."""
    (old,) = world.kettle.lots
    old.stock_units = 5
    new = f.LotFactory(
        product=world.kettle,
        code="KET-NEW",
        received_at=old.received_at + timedelta(days=30),
        stock_units=spare_units,
    )
    session.flush()
    return old, new


def a_courier(session, world) -> None:  # type: ignore[no-untyped-def]
    f.ShiftFactory(
        courier=f.CourierFactory(depot=world.depot),
        vehicle=f.VehicleFactory(depot=world.depot, type="car", capacity_units=50),
        starts_at=datetime(2030, 1, 15, 4, tzinfo=UTC),
        ends_at=datetime(2030, 1, 15, 20, tzinfo=UTC),
    )
    session.flush()


def notices(session, customer_id: int) -> list[Notification]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(select(Notification).where(Notification.customer_id == customer_id))
    )


def bonuses(session, customer_id: int) -> list[LedgerEntry]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.customer_id == customer_id, LedgerEntry.kind == "bonus"
            )
        )
    )


def a_defect_return(session, world, lot: Lot, *, at: datetime, **changes: object) -> ReturnCase:  # type: ignore[no-untyped-def]
    """A delivered order of one kettle from ``lot``, sent back as defective at ``at``."""
    order = an_order(session, world, f"RT-D{at:%m%d%H%M%S}{len(changes)}", lot)
    order.status = OrderStatus.DELIVERED
    values: dict[str, object] = {
        "reason": "defective",
        "resolution": "refund",
        "status": "approved",
        "rule": "X2-fast-track",
        "pickup": True,
        **changes,
    }
    case = ReturnCase(
        order_id=order.id,
        customer_id=order.customer_id,
        client_key=f"k-{order.number}",
        decision="Approved at once.",
        created_at=at,
        decided_at=at,
        **values,
    )
    case.items = [ReturnItem(order_item_id=order.items[0].id, quantity=1)]
    session.add(case)
    session.flush()
    return case


def test_blocking_a_lot_holds_exactly_the_affected_undelivered_orders(session, world, clock):
    """Of five orders: the earliest with the lot moves to the spare lot's one unit; the next
    is held and leaves the published plan; one of another lot, one delivered and one on the
    van are untouched (the last listed for the dispatcher). Only the held order's customer
    hears of it, once, with one bonus."""
    clock(NOW)
    old, new = lots_of_kettle(session, world, spare_units=1)
    a_courier(session, world)
    moved = an_order(session, world, "RT-MOVED", old, hour=0)
    held = an_order(session, world, "RT-HELD", old, hour=1)
    other = an_order(session, world, "RT-OTHER", new, hour=2)
    plan = published(session, world)
    draft = planning_services.start_plan(
        session, depot_id=world.depot.id, day=DAY, time_limit_s=2, now=NOW
    )
    planning_services.solve_plan(session, plan_id=draft.id, now=NOW, params=QUICK)
    for version in (plan, draft):
        on_plan = {v.stop.order_id for r in version.routes for v in r.visits}
        assert {moved.id, held.id, other.id} <= on_plan
    delivered = an_order(session, world, "RT-DELIVERED", old, status=OrderStatus.DELIVERED)
    on_van = an_order(session, world, "RT-ON-VAN", old, status=OrderStatus.OUT_FOR_DELIVERY)

    result = lots.block_lot(
        session, lot_id=old.id, reason="Lids crack when hot", user_id=None, now=NOW, rules=RULES
    )

    assert result.held == ("RT-HELD",)
    assert result.reallocated == ("RT-MOVED",)
    assert result.on_the_road == ("RT-ON-VAN",)
    assert result.customers_told == 1
    statuses = {o.number: o.status for o in (moved, held, other, delivered, on_van)}
    assert statuses == {
        "RT-MOVED": OrderStatus.PLANNED,
        "RT-HELD": OrderStatus.HELD,
        "RT-OTHER": OrderStatus.PLANNED,
        "RT-DELIVERED": OrderStatus.DELIVERED,
        "RT-ON-VAN": OrderStatus.OUT_FOR_DELIVERY,
    }
    assert moved.items[0].lot_id == new.id
    assert new.stock_units == 0
    assert (old.blocked, old.blocked_reason, old.blocked_at) == (True, "Lids crack when hot", NOW)
    # The held order's stop is off the published plan and off the newer draft, which could
    # be published next (not even listed as not planned there).
    session.expire_all()
    for version in (plan, draft):
        on_plan = {v.stop.order_id for r in version.routes for v in r.visits}
        assert held.id not in on_plan
        assert {moved.id, other.id} <= on_plan
        assert held.id not in {u.stop.order_id for u in version.unassigned}
    changes = session.scalars(select(PlanChange).where(PlanChange.kind == "withdraw")).all()
    assert sorted((c.plan_id, c.stop.order_id) for c in changes) == [
        (plan.id, held.id),
        (draft.id, held.id),
    ]
    assert "taken off the plan" in changes[0].summary
    # Exactly one message and one bonus, to the held order's customer only.
    (notice,) = notices(session, held.customer_id)
    assert (notice.kind, notice.order_id) == ("held", held.id)
    assert "We are holding order RT-HELD" in notice.message
    assert [b.points for b in bonuses(session, held.customer_id)] == [100]
    for untouched in (moved, other, delivered, on_van):
        assert notices(session, untouched.customer_id) == []
        assert bonuses(session, untouched.customer_id) == []


def test_an_order_on_a_route_under_way_is_left_to_the_dispatcher(session, world, clock):
    """Once the courier has reported the first stop, the goods of the rest are on the van:
    the block lists that order for the dispatcher and neither holds it nor takes its stop
    off the route, which could not be done anyway."""
    clock(NOW)
    old, new = lots_of_kettle(session, world, spare_units=0)
    a_courier(session, world)
    first = an_order(session, world, "RT-FIRST", new, hour=0)
    later = an_order(session, world, "RT-LATER", old, hour=3)
    plan = published(session, world)
    (route,) = plan.routes
    assert [v.stop.order_id for v in route.visits] == [first.id, later.id]
    report_stop(session, stop_id=route.visits[0].stop.id, report=Report.ARRIVED, at=MORNING)
    assert later.status == OrderStatus.OUT_FOR_DELIVERY

    result = lots.block_lot(
        session, lot_id=old.id, reason="Cracks", user_id=None, now=MORNING, rules=RULES
    )

    assert (result.held, result.on_the_road, result.customers_told) == ((), ("RT-LATER",), 0)
    assert later.status == OrderStatus.OUT_FOR_DELIVERY
    later_stop = route.visits[1].stop
    with pytest.raises(Conflict, match="call the courier back"):
        editing.withdraw_stop(session, stop_id=later_stop.id, now=MORNING, reason=say("test"))
    assert [v.stop.order_id for v in route.visits] == [first.id, later.id]
    assert notices(session, later.customer_id) == []


def test_the_supplier_return_counts_the_shelf_the_waiting_orders_and_collected_returns(
    session, world, clock
):
    """5 on the shelf + 2 for orders in the depot (one held, one moved) + 2 collected
    defect returns = 9; food-style returns refunded without a pickup, and declined ones,
    never come back, so they are not counted."""
    clock(NOW)
    old, _ = lots_of_kettle(session, world, spare_units=1)
    an_order(session, world, "RT-A", old, hour=0)
    an_order(session, world, "RT-B", old, hour=1)
    for n in range(2):
        a_defect_return(session, world, old, at=NOW - timedelta(days=n + 1))
    a_defect_return(session, world, old, at=NOW - timedelta(days=3), pickup=False)
    a_defect_return(session, world, old, at=NOW - timedelta(days=4), status="declined")

    result = lots.block_lot(
        session, lot_id=old.id, reason="Supplier recall", user_id=None, now=NOW, rules=RULES
    )

    returned = session.get(SupplierReturn, result.supplier_return_id)
    assert (returned.stock_units, returned.order_units, returned.returned_units) == (5, 2, 2)
    assert returned.quantity == result.quantity_to_return == 9
    assert returned.reason == "Supplier recall"
    assert old.stock_units == 0


def test_a_lot_already_blocked_is_refused_and_nothing_is_done_twice(session, world, clock):
    """The second block is a Conflict: no second return to the supplier, no second message."""
    clock(NOW)
    old, _ = lots_of_kettle(session, world, spare_units=0)
    held = an_order(session, world, "RT-HELD", old)
    lots.block_lot(session, lot_id=old.id, reason="Cracks", user_id=None, now=NOW, rules=RULES)

    with pytest.raises(Conflict, match="already blocked"):
        lots.block_lot(session, lot_id=old.id, reason="Again", user_id=None, now=NOW, rules=RULES)

    assert len(session.scalars(select(SupplierReturn)).all()) == 1
    assert len(notices(session, held.customer_id)) == 1
    assert old.blocked_reason == "Cracks"


def test_a_new_order_never_gets_a_blocked_lot(session, world, clock):
    """Order taking takes the next lot that is not blocked, even when the blocked one came
    in first."""
    clock(NOW)
    old, new = lots_of_kettle(session, world)
    lots.block_lot(session, lot_id=old.id, reason="Cracks", user_id=None, now=NOW, rules=RULES)

    order = order_services.create_order(
        session,
        customer_id=world.customer.id,
        delivery_day=DAY,
        window_start_at=MORNING,
        window_end_at=MORNING + timedelta(hours=2),
        items=[order_services.ItemRequest(sku="KET-1", quantity=1)],
        address_id=world.address.id,
        now=NOW,
        geocoder=NoGeocoder(),
    )

    assert [i.lot_id for i in order.items] == [new.id]


def test_a_held_order_is_neither_planned_nor_delivered(session, world, clock):
    """Held, the order is left out of the day's planning, and a courier's delivery report
    for its stop is refused by the service."""
    clock(NOW)
    old, _ = lots_of_kettle(session, world, spare_units=0)
    held = an_order(session, world, "RT-HELD", old)
    stop = stop_service.delivery_stop(session, held)
    lots.block_lot(session, lot_id=old.id, reason="Cracks", user_id=None, now=NOW, rules=RULES)
    assert held.status == OrderStatus.HELD

    assert held not in day_orders(session, depot_id=world.depot.id, day=DAY)
    with pytest.raises(Conflict, match="is held"):
        stop_service.complete(
            session,
            stop,
            StopOutcome.DELIVERED,
            at=MORNING + timedelta(minutes=30),
            courier_id=None,
        )
    with pytest.raises(Conflict, match="is held"):
        order_services.mark_delivered(session, order_id=held.id, now=MORNING)


def test_a_block_is_suggested_at_the_threshold_and_not_below(session, world, clock):
    """Two defect returns in 30 days: no suggestion; the third makes one. Returns declined,
    older than 30 days or for a change of mind do not count."""
    clock(NOW)
    old, _ = lots_of_kettle(session, world)
    a_defect_return(session, world, old, at=NOW - timedelta(days=1))
    a_defect_return(session, world, old, at=NOW - timedelta(days=2), reason="damaged")
    a_defect_return(session, world, old, at=NOW - timedelta(days=3), status="declined")
    a_defect_return(session, world, old, at=NOW - timedelta(days=31))
    a_defect_return(session, world, old, at=NOW - timedelta(days=4), reason="changed_mind")

    assert lots.suggested_blocks(session, now=NOW, threshold=3, days=30) == []

    a_defect_return(session, world, old, at=NOW - timedelta(days=5))
    (suggested,) = lots.suggested_blocks(session, now=NOW, threshold=3, days=30)

    assert (suggested.lot_id, suggested.defect_returns) == (old.id, 3)
    lots.block_lot(session, lot_id=old.id, reason="Cracks", user_id=None, now=NOW, rules=RULES)
    assert lots.suggested_blocks(session, now=NOW, threshold=3, days=30) == []


def test_support_blocks_a_suggested_lot_from_its_page(client, session, world, clock, login_as):
    """The page highlights the suggestion, asks for a reason and a confirmation, then shows
    what the block did and lists the return to the supplier."""
    clock(NOW)
    old, _ = lots_of_kettle(session, world, spare_units=0)
    for n in range(4):
        a_defect_return(session, world, old, at=NOW - timedelta(days=n + 1))
    an_order(session, world, "RT-HELD", old)
    session.commit()
    agent = login_as("support")

    page = client.get("/support/lots/").get_data(as_text=True)
    assert "Block suggested: 4 defect returns in 30 days" in page
    form = client.get(f"/support/lots/{old.id}/block").get_data(as_text=True)
    asked = client.post(
        f"/support/lots/{old.id}/block",
        data={"reason": "Lids crack when hot", "csrf_token": csrf_token(form)},
    )
    assert asked.status_code == 200
    assert "Block lot KET-OLD? 1 order waiting in the depot carries it." in asked.get_data(
        as_text=True
    )
    assert not session.get(Lot, old.id).blocked

    done = client.post(
        f"/support/lots/{old.id}/block",
        data={
            "reason": "Lids crack when hot",
            "confirmed": "y",
            "csrf_token": csrf_token(asked.get_data(as_text=True)),
        },
    )

    text = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "1 order held: RT-HELD" in text
    assert "1 customer told, with an apology bonus" in text
    assert "units to send back to the supplier" in text
    session.expire_all()
    lot = session.get(Lot, old.id)
    assert (lot.blocked, lot.blocked_by_user_id) == (True, agent.id)
    listed = client.get("/support/lots/").get_data(as_text=True)
    assert "Block suggested" not in listed
    assert "Lids crack when hot" in listed
    again = client.post(
        f"/support/lots/{old.id}/block",
        data={"reason": "Again", "confirmed": "y", "csrf_token": csrf_token(listed)},
    )
    assert again.status_code == 302


def test_only_support_opens_the_lots_page(client, login_as, world):
    """The lots page is support's: a dispatcher is turned away."""
    login_as("dispatcher")

    assert client.get("/support/lots/").status_code == 403


@pytest.mark.concurrency
def test_two_people_blocking_one_lot_at_once_make_one_block(committed_factory):
    """Two agents confirm the same block together: one blocks it, the other is told it is
    already blocked; one return to the supplier, one message to the customer."""
    with session_scope(committed_factory) as s:
        depot = Depot(
            code="D1", name="Depot", address="x", lat=55.7, lon=37.6, timezone="Europe/Moscow"
        )
        kettle = Product(sku="KET-1", name="Kettle", price_minor=100_00, is_food=False)
        lot = Lot(product=kettle, code="KET-OLD", supplier="Volga", received_at=NOW)
        customer = Customer(name="Waiting Customer", email="wait@example.org")
        address = Address(
            customer=customer, line="y", lat=55.75, lon=37.6, coordinate_source="given"
        )
        order = Order(
            number="RT-WAIT",
            customer=customer,
            address=address,
            depot=depot,
            delivery_day=DAY,
            window_start_at=MORNING,
            window_end_at=MORNING + timedelta(hours=2),
            total_minor=100_00,
        )
        order.items = [OrderItem(product=kettle, lot=lot, quantity=1, unit_price_minor=100_00)]
        s.add(order)
        s.flush()
        lot_id, customer_id = lot.id, customer.id

    start = threading.Barrier(2)
    outcomes: list[str] = []

    def agent(name: str) -> None:
        start.wait()
        try:
            with session_scope(committed_factory) as s:
                lots.block_lot(s, lot_id=lot_id, reason=name, user_id=None, now=NOW, rules=RULES)
            outcomes.append("blocked")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=agent, args=(n,)) for n in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(outcomes) == ["blocked", "refused"]
    with session_scope(committed_factory) as s:
        assert len(s.scalars(select(SupplierReturn)).all()) == 1
        assert len(notices(s, customer_id)) == 1
        assert s.get(Order, s.scalars(select(Order.id)).one()).status == OrderStatus.HELD


def test_a_version_solved_while_its_order_was_held_does_not_ship_it(session, world, clock):
    """A run that was solving when the lot was blocked still holds the order's stop;
    publishing that version takes the stop off first."""
    from app.planning import flows

    clock(NOW)
    old, _ = lots_of_kettle(session, world, spare_units=0)
    a_courier(session, world)
    held = an_order(session, world, "RT-HELD-LATE", old)
    kept = an_order(session, world, "RT-KEPT", world.kettle.lots[1], hour=2)
    plan = planning_services.start_plan(
        session, depot_id=world.depot.id, day=DAY, time_limit_s=2, now=NOW
    )
    planning_services.solve_plan(session, plan_id=plan.id, now=NOW, params=QUICK)
    routed = {v.stop.order_id for r in plan.routes for v in r.visits}
    assert routed == {held.id, kept.id}
    held.status = OrderStatus.HELD  # as the block left it, while this version was solving

    flows.publish(session, plan_id=plan.id, now=NOW)

    assert {v.stop.order_id for r in plan.routes for v in r.visits} == {kept.id}
    assert held.status == OrderStatus.HELD
