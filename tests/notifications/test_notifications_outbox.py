"""Writing to the outbox (Q4): in the caller's transaction, once per key, to the channels the
customer has; what the tracking page reads back; when the scheduler fires delivery."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.background import schedule
from app.background.tasks import TASKS
from app.customers.models import Customer
from app.db import session_scope
from app.errors import NotFound
from app.messages import say
from app.notifications import services
from app.notifications.models import NoticeKind, NoticeStatus, Notification
from tests.notifications.helpers import NOW

LATE = say("%(courier)s's route: late by %(minutes)s min", courier="Ivan", minutes=12)


def count(session: Session) -> int:
    return session.scalar(select(func.count(Notification.id))) or 0


def test_the_same_key_writes_one_row(session, world, order):
    """A stop flagged at risk twice gets one message: the second call returns the first row."""
    first = services.notify(
        session,
        customer_id=world.customer.id,
        kind=services.NoticeKind.LATE,
        message=LATE,
        key=f"late:order:{order.id}:1",
        now=NOW,
        order_id=order.id,
    )
    again = services.notify(
        session,
        customer_id=world.customer.id,
        kind=services.NoticeKind.LATE,
        message=say("Something else entirely"),
        key=f"late:order:{order.id}:1",
        now=NOW + timedelta(minutes=5),
        order_id=order.id,
    )

    assert again.id == first.id
    assert again.message == LATE
    assert count(session) == 1


def test_a_notice_is_part_of_the_callers_transaction(session, world, order):
    """Services only flush: when the event's transaction rolls back, its message goes too."""
    services.notify(
        session,
        customer_id=world.customer.id,
        kind=NoticeKind.HELD,
        message=LATE,
        key="held:1",
        now=NOW,
        order_id=order.id,
    )
    assert count(session) == 1

    session.rollback()

    assert count(session) == 0


def test_a_notice_goes_to_every_channel_the_customer_has(session, world, order):
    """E-mail and phone are copied onto the row, which is due at once."""
    row = services.notify(
        session,
        customer_id=world.customer.id,
        kind=NoticeKind.LATE,
        message=LATE,
        key="late:channels",
        now=NOW,
        order_id=order.id,
    )

    assert (row.email, row.phone) == (world.customer.email, world.customer.phone)
    assert [c.value for c in row.channels] == ["email", "sms"]
    assert (row.status, row.next_attempt_at, row.attempts) == ("pending", NOW, 0)


def test_a_customer_with_no_email_or_phone_still_sees_the_notice_on_the_order(session, world):
    """Nothing can be sent, so the row is kept as unreachable; the tracking page shows it."""
    quiet = Customer(name="No Contact")
    session.add(quiet)
    session.flush()

    row = services.notify(
        session, customer_id=quiet.id, kind=NoticeKind.LATE, message=LATE, key="late:q", now=NOW
    )

    assert (row.status, row.next_attempt_at, row.channels) == ("unreachable", None, ())


def test_a_notice_to_an_unknown_customer_is_refused(session):
    """A customer id that does not exist is a NotFound, and nothing is written."""
    with pytest.raises(NotFound):
        services.notify(
            session, customer_id=999_999, kind=NoticeKind.LATE, message=LATE, key="x", now=NOW
        )
    assert count(session) == 0


def test_a_key_longer_than_the_column_is_refused(session, world):
    """Keys are at most 120 characters: a longer one is a programming error, said at once."""
    with pytest.raises(ValueError, match="120"):
        services.notify(
            session,
            customer_id=world.customer.id,
            kind=NoticeKind.LATE,
            message=LATE,
            key="k" * 121,
            now=NOW,
        )


def test_order_notices_are_what_the_customer_was_told_oldest_first(session, world, order):
    """Staff escalations about the same order are not shown to the customer."""
    for minutes, key in ((10, "b"), (0, "a")):
        services.notify(
            session,
            customer_id=world.customer.id,
            kind=NoticeKind.LATE,
            message=LATE,
            key=key,
            now=NOW + timedelta(minutes=minutes),
            order_id=order.id,
        )
    services.notify_staff(
        session, kind=NoticeKind.ESCALATION, message=LATE, key="esc", now=NOW, order_id=order.id
    )

    told = services.order_notices(session, order.id)

    assert [n.key for n in told] == ["a", "b"]


def test_a_staff_notice_is_an_email_to_support(session, order):
    """Same outbox and same idempotency; no customer, so its address is support's."""
    row = services.notify_staff(
        session, kind=NoticeKind.ESCALATION, message=LATE, key="esc:1", now=NOW, case_id=None
    )
    again = services.notify_staff(
        session, kind=NoticeKind.ESCALATION, message=LATE, key="esc:1", now=NOW
    )

    assert again.id == row.id
    assert (row.customer_id, [c.value for c in row.channels]) == (None, ["email"])
    assert row.status == NoticeStatus.PENDING


def test_the_scheduler_fires_delivery_each_minute_while_a_message_waits(session, world, order):
    """Floored to the minute (one firing per minute however often the scheduler ticks), and
    nothing at all when the outbox has nothing due."""
    timetable = schedule.Schedule(waves=(), same_day_every_min=0, expiry_grace=timedelta(0))

    def delivery_due() -> list[schedule.Due]:
        found = schedule.due_now(session, now=NOW, schedule=timetable)
        return [d for d in found if d.job == "notifications-deliver"]

    assert delivery_due() == []
    services.notify(
        session, customer_id=world.customer.id, kind=NoticeKind.LATE, message=LATE, key="s", now=NOW
    )

    (due,) = delivery_due()
    assert (due.due_at, due.task) == (NOW.replace(second=0), "notifications.deliver")
    assert due.task in TASKS


@pytest.mark.concurrency
def test_two_transactions_writing_one_key_at_once_write_one_row(
    committed_factory, committed_customer
):
    """The unique key decides: the transaction that loses the race gets the winner's row."""
    customer_id = committed_customer
    results: dict[str, int] = {}
    first = committed_factory()
    winner = services.notify(
        first, customer_id=customer_id, kind=NoticeKind.LATE, message=LATE, key="race", now=NOW
    )

    def second() -> None:
        with session_scope(committed_factory) as s:
            row = services.notify(
                s, customer_id=customer_id, kind=NoticeKind.LATE, message=LATE, key="race", now=NOW
            )
            results["second"] = row.id

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.3)  # the second is now waiting on the first's uncommitted key
    first.commit()
    thread.join(timeout=30)
    first.close()

    assert results["second"] == winner.id
    with session_scope(committed_factory) as s:
        assert count(s) == 1


@pytest.fixture
def committed_customer(committed_factory) -> int:  # type: ignore[no-untyped-def]
    """A committed customer with e-mail and phone (for tests with real commits)."""
    with session_scope(committed_factory) as s:
        customer = Customer(name="Race", email="race@example.org", phone="+7 900 111-22-33")
        s.add(customer)
        s.flush()
        return customer.id
