"""The promised response time (X3): a case waiting for a person is escalated to support once
its promise is near, and the customer gets one apology (with bonus points) once it broke;
both happen once however often, and however many workers at once, the job runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.catalog.models import Product
from app.customers.models import Address, Customer
from app.db import session_scope
from app.fleet.models import Depot
from app.notifications.models import Notification
from app.orders import services as order_services
from app.orders.models import Order, OrderItem
from loyalty.models import LedgerEntry
from returns import jobs, review
from returns import services as return_services
from returns.models import ReturnCase, ReturnEvent
from returns.policy import Resolution, ReturnReason

WINDOW = datetime(2030, 3, 1, 12, tzinfo=UTC)
STARTED = WINDOW + timedelta(days=1)
SOON = timedelta(hours=4)


def start_standard_return(session: Session, *, number: str = "RT-PROM-1") -> ReturnCase:
    """A delivered kettle its customer changed their mind about: under review, with an
    answer promised (by the policy's standard response time) after STARTED."""
    depot = Depot(
        code=f"P{number[-1]}",
        name="Depot",
        address="-",
        lat=55.7,
        lon=37.6,
        timezone="Europe/Moscow",
    )
    customer = Customer(name="Vera Petrova", email=f"{number.lower()}@example.org")
    address = Address(
        customer=customer, line="Tverskaya 7", lat=55.76, lon=37.6, coordinate_source="given"
    )
    kettle = Product(
        sku=f"KET-{number}", name="Kettle", price_minor=3_499_00, is_food=False, load_units=3
    )
    order = Order(
        number=number,
        customer=customer,
        address=address,
        depot=depot,
        delivery_day=WINDOW.date(),
        window_start_at=WINDOW - timedelta(hours=2),
        window_end_at=WINDOW,
        total_minor=3_499_00,
    )
    order.items = [OrderItem(product=kettle, quantity=1, unit_price_minor=3_499_00)]
    session.add(order)
    session.flush()
    order_services.mark_delivered(session, order_id=order.id, now=WINDOW)
    case = return_services.start_return(
        session,
        customer_id=customer.id,
        order_id=order.id,
        items=[return_services.Wanted(order.items[0].id, 1)],
        reason=ReturnReason.CHANGED_MIND,
        resolution=Resolution.REFUND,
        key="phone-1",
        now=STARTED,
    )
    assert case.status == "under_review"
    assert case.respond_by is not None
    return case


def notices(session: Session, case_id: int, kind: str) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(Notification.case_id == case_id, Notification.kind == kind)
        )
    )


def breach_bonuses(session: Session, case_id: int) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry).where(LedgerEntry.idempotency_key == f"return-breach:{case_id}")
        )
    )


def event_count(session: Session, case_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(ReturnEvent).where(ReturnEvent.case_id == case_id)
        )
        or 0
    )


def test_a_case_is_escalated_exactly_when_its_promise_comes_within_soon(session):
    """One second before respond_by - soon nothing happens; at it, support is told once."""
    case = start_standard_return(session)
    boundary = case.respond_by - SOON

    before = review.watch_promises(session, now=boundary - timedelta(seconds=1), soon=SOON)
    at = review.watch_promises(session, now=boundary, soon=SOON)
    again = review.watch_promises(session, now=boundary + timedelta(minutes=5), soon=SOON)

    assert (before, at, again) == ((0, 0), (1, 0), (0, 0))
    session.refresh(case)
    assert case.escalated_at == boundary
    assert case.breach_told_at is None
    (notice,) = notices(session, case.id, "escalation")
    assert notice.customer_id is None  # to support
    assert notice.key == f"escalate:{case.id}"
    assert "RT-PROM-1" in notice.message
    assert "senior member of our team" in case.events[-1].message


def test_a_broken_promise_is_apologised_for_once_with_a_bonus(session):
    """At respond_by the promise still holds; a minute later the customer gets one message
    and one apology bonus, and support is told too (it was never escalated)."""
    case = start_standard_return(session)
    due = case.respond_by

    at_due = review.watch_promises(session, now=due, soon=timedelta(0), bonus_points=100)
    late = review.watch_promises(
        session, now=due + timedelta(minutes=1), soon=SOON, bonus_points=100
    )
    later = review.watch_promises(
        session, now=due + timedelta(hours=1), soon=SOON, bonus_points=100
    )

    assert (at_due, late, later) == ((1, 0), (0, 1), (0, 0))
    session.refresh(case)
    assert case.breach_told_at == due + timedelta(minutes=1)
    (told,) = notices(session, case.id, "return_late")
    assert told.customer_id == case.customer_id
    assert told.key == f"breach:{case.id}"
    assert "We are sorry" in told.message
    (bonus,) = breach_bonuses(session, case.id)
    assert bonus.points == 100
    assert "answering late" in bonus.reason


def test_an_answered_case_is_neither_escalated_nor_apologised_for(session, make_user):
    """Support answering the customer keeps the promise: the watch leaves the case alone."""
    case = start_standard_return(session)
    agent = make_user("support")
    review.answer(
        session,
        case_id=case.id,
        text="We are looking at it today.",
        user_id=agent.id,
        now=STARTED + timedelta(hours=1),
    )

    watched = review.watch_promises(
        session, now=case.respond_by + timedelta(hours=1), soon=SOON, bonus_points=100
    )

    assert watched == (0, 0)
    session.refresh(case)
    assert (case.escalated_at, case.breach_told_at) == (None, None)
    assert breach_bonuses(session, case.id) == []


def test_the_scheduler_fires_the_watch_only_while_a_promise_needs_it(session):
    """No case near its promise: no firing; one near it: 'returns-escalate', on the five
    minutes."""
    from app.background import schedule

    timetable = schedule.Schedule(waves=(), same_day_every_min=0, expiry_grace=timedelta(0))
    case = start_standard_return(session)
    near = case.respond_by - timedelta(hours=1, minutes=2)

    quiet = schedule.due_now(session, now=STARTED + timedelta(hours=1), schedule=timetable)
    due = schedule.due_now(session, now=near, schedule=timetable)

    assert "returns-escalate" not in [d.job for d in quiet]
    (fired,) = [d for d in due if d.job == "returns-escalate"]
    assert fired.task == "returns.escalate"
    assert fired.due_at <= near < fired.due_at + timedelta(minutes=5)
    assert (fired.due_at.minute % 5, fired.due_at.second) == (0, 0)


@pytest.mark.concurrency
def test_the_job_run_twice_and_by_two_workers_at_once_acts_once(
    committed_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers run the job at the same moment, then one runs it again: support gets one
    message, the customer one apology and one bonus, the timeline two lines."""
    monkeypatch.setenv("ROUNDTRIP_RETURN_BREACH_BONUS_POINTS", "100")
    monkeypatch.setenv("ROUNDTRIP_RETURN_ESCALATE_HOURS", "4")
    with session_scope(committed_factory) as s:
        case = start_standard_return(s)
        case_id, late = case.id, case.respond_by + timedelta(minutes=10)
        lines_before = event_count(s, case_id)
    results: list[tuple[int, int]] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        results.append(jobs.escalate(committed_factory, now=late))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    again = jobs.escalate(committed_factory, now=late + timedelta(minutes=5))

    assert sum(escalated for escalated, _ in results) == 1
    assert sum(told for _, told in results) == 1
    assert again == (0, 0)
    with session_scope(committed_factory) as s:
        assert len(notices(s, case_id, "escalation")) == 1
        assert len(notices(s, case_id, "return_late")) == 1
        assert [b.points for b in breach_bonuses(s, case_id)] == [100]
        assert event_count(s, case_id) == lines_before + 2
