"""Delivering the outbox (Q4): each message said in its reader's language with a link to the
order's page, on each channel it has; failures retried with backoff until they give up;
two workers never send one message twice."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.background.tasks import run_task
from app.customers.models import Customer
from app.db import session_scope
from app.links import tracking_url
from app.messages import say
from app.notifications import jobs, services
from app.notifications.models import NoticeKind, Notification
from tests.notifications.helpers import NOW, SECRET, RecordingSender, RefusingSender

LATE = say("%(courier)s's route: late by %(minutes)s min", courier="Ivan", minutes=12)


def speaking(session, world, language: str | None) -> Customer:  # type: ignore[no-untyped-def]
    """A customer whose account chose ``language`` (None: never chose)."""
    user = User(
        email=f"{language}-speaker@example.org",
        name=f"{language} speaker",
        role="customer",
        password_hash="-",
        language=language,
    )
    customer = Customer(name=f"{language} speaker", email=f"{language}@example.org")
    session.add_all([user, customer])
    session.flush()
    customer.user_id = user.id
    session.flush()
    return customer


def channels() -> tuple[RecordingSender, RecordingSender]:
    return RecordingSender("email"), RecordingSender("sms")


def test_a_message_is_said_in_russian_for_a_russian_customer_and_english_for_an_english_one(
    session, session_factory, world, settings
):
    """The customer's language is the one chosen on their account, at the time it is sent."""
    for language in ("ru", "en"):
        customer = speaking(session, world, language)
        services.notify(
            session,
            customer_id=customer.id,
            kind=NoticeKind.LATE,
            message=LATE,
            key=f"late:{language}",
            now=NOW,
        )
    session.commit()
    email, sms = channels()

    sent = jobs.deliver(session_factory, now=NOW, senders=[email, sms], settings=settings)

    assert sent == 2
    bodies = {m.to: m.body for m in email.sent}
    assert bodies["ru@example.org"] == "Маршрут курьера Ivan: опоздание 12 мин"
    assert bodies["en@example.org"] == "Ivan's route: late by 12 min"
    rows = session.scalars(select(Notification).order_by(Notification.key)).all()
    assert [(r.key, r.language) for r in rows] == [("late:en", "en"), ("late:ru", "ru")]


def test_a_customer_who_never_chose_a_language_hears_the_installations_default(
    session, session_factory, world, order, settings
):
    """No account (or no choice): the first of ROUNDTRIP_LANGUAGES, here Russian; the
    message ends with the link to the order's tracking page."""
    services.notify(
        session,
        customer_id=world.customer.id,
        kind=NoticeKind.LATE,
        message=LATE,
        key="late:default",
        now=NOW,
        order_id=order.id,
    )
    session.commit()
    email, sms = channels()

    jobs.deliver(session_factory, now=NOW, senders=[email, sms], settings=settings)

    (mail,) = email.sent
    link = tracking_url("https://shop.example", SECRET, order.id)
    assert mail.body.startswith("Маршрут курьера Ivan: опоздание 12 мин\n\n")
    assert mail.body.endswith(link)
    assert mail.to == world.customer.email
    (text,) = sms.sent
    assert (text.to, text.body) == (world.customer.phone, mail.body)


def test_delivery_sends_nothing_before_it_is_due_and_each_message_once(
    session, session_factory, world, settings
):
    """A sent message is marked sent and never picked again."""
    services.notify(
        session,
        customer_id=world.customer.id,
        kind=NoticeKind.LATE,
        message=LATE,
        key="late:once",
        now=NOW,
    )
    session.commit()
    email, sms = channels()

    early = jobs.deliver(
        session_factory, now=NOW - timedelta(seconds=1), senders=[email, sms], settings=settings
    )
    first = jobs.deliver(session_factory, now=NOW, senders=[email, sms], settings=settings)
    later = jobs.deliver(
        session_factory, now=NOW + timedelta(hours=1), senders=[email, sms], settings=settings
    )

    assert (early, first, later) == (0, 1, 0)
    assert len(email.sent) == len(sms.sent) == 1
    row = session.scalars(select(Notification)).one()
    session.refresh(row)
    assert (row.status, row.sent_at, row.attempts, row.next_attempt_at) == ("sent", NOW, 1, None)


def test_a_failing_send_is_retried_with_backoff_and_ends_failed_after_eight_attempts(
    session, session_factory, world, settings
):
    """Tried again 1, 2, 4 ... 64 minutes after each failure; the 8th failure gives up and
    keeps the last error for the staff page."""
    services.notify(
        session,
        customer_id=world.customer.id,
        kind=NoticeKind.LATE,
        message=LATE,
        key="late:retry",
        now=NOW,
    )
    session.commit()
    down = RefusingSender("email")
    senders = [down, RecordingSender("sms")]
    row = session.scalars(select(Notification)).one()
    at = NOW
    waits = []
    for attempt in range(1, 9):
        # A moment before it is due nothing happens.
        before = at - timedelta(seconds=1)
        assert jobs.deliver(session_factory, now=before, senders=senders, settings=settings) == 0
        assert jobs.deliver(session_factory, now=at, senders=senders, settings=settings) == 0
        session.refresh(row)
        assert (row.attempts, down.tries) == (attempt, attempt)
        if row.next_attempt_at is not None:
            waits.append(row.next_attempt_at - at)
            at = row.next_attempt_at

    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 64)]
    assert (row.status, row.next_attempt_at) == ("failed", None)
    assert row.last_error == "email: ConnectionRefusedError: email gateway unreachable"
    next_day = at + timedelta(days=1)
    assert jobs.deliver(session_factory, now=next_day, senders=senders, settings=settings) == 0


def test_a_retry_after_a_partial_failure_sends_only_the_channel_that_failed(
    session, session_factory, world, settings
):
    """The e-mail went out, the SMS gateway was down: the retry sends the SMS alone."""
    services.notify(
        session,
        customer_id=world.customer.id,
        kind=NoticeKind.LATE,
        message=LATE,
        key="late:partial",
        now=NOW,
    )
    session.commit()
    email, sms = channels()

    jobs.deliver(
        session_factory, now=NOW, senders=[email, RefusingSender("sms")], settings=settings
    )
    jobs.deliver(
        session_factory, now=NOW + timedelta(minutes=1), senders=[email, sms], settings=settings
    )

    assert (len(email.sent), len(sms.sent)) == (1, 1)
    row = session.scalars(select(Notification)).one()
    session.refresh(row)
    assert (row.status, row.email_sent_at, row.sms_sent_at) == (
        "sent",
        NOW,
        NOW + timedelta(minutes=1),
    )
    assert row.last_error is None


def test_a_staff_message_goes_to_the_support_address_in_the_default_language(
    session, session_factory, order, settings
):
    """Escalations go by e-mail to ROUNDTRIP_SUPPORT_EMAIL, linking the customer's page."""
    services.notify_staff(
        session,
        kind=NoticeKind.ESCALATION,
        message=LATE,
        key="esc:1",
        now=NOW,
        order_id=order.id,
    )
    session.commit()
    email, sms = channels()

    assert jobs.deliver(session_factory, now=NOW, senders=[email, sms], settings=settings) == 1

    (mail,) = email.sent
    assert mail.to == "support@shop.example"
    assert mail.body.startswith("Маршрут курьера Ivan")
    assert mail.body.endswith(tracking_url("https://shop.example", SECRET, order.id))
    assert sms.sent == []


def test_a_staff_message_with_a_roles_address_goes_there_not_to_support(
    session, session_factory, order, settings
):
    """Feedback routed to the courier lead is e-mailed to the courier lead."""
    services.notify_staff(
        session,
        kind=NoticeKind.FEEDBACK,
        message=LATE,
        key="feedback:1",
        now=NOW,
        order_id=order.id,
        email="lead@shop.example",
    )
    session.commit()
    email, sms = channels()

    assert jobs.deliver(session_factory, now=NOW, senders=[email, sms], settings=settings) == 1

    (mail,) = email.sent
    assert mail.to == "lead@shop.example"
    assert sms.sent == []


def test_the_scheduled_task_sends_through_the_embedded_modes_log(
    session, session_factory, world, clock, monkeypatch, tmp_path, caplog
):
    """Without ROUNDTRIP_SMTP_URL the e-mail and the SMS are written to the log, and the row
    is marked sent (the staff page shows it)."""
    clock(NOW)
    monkeypatch.setenv("ROUNDTRIP_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("ROUNDTRIP_LANGUAGES", "en,ru")
    monkeypatch.delenv("ROUNDTRIP_SMTP_URL", raising=False)
    services.notify(
        session,
        customer_id=world.customer.id,
        kind=NoticeKind.LATE,
        message=LATE,
        key="late:task",
        now=NOW,
    )
    session.commit()

    with caplog.at_level(logging.INFO, logger="app.notifications.senders"):
        run_task(session_factory, "notifications.deliver", {})

    row = session.scalars(select(Notification)).one()
    session.refresh(row)
    assert row.status == "sent"
    logged = caplog.text
    assert f"e-mail to {world.customer.email}: Your delivery is running late" in logged
    assert f"SMS to {world.customer.phone}: Ivan's route: late by 12 min" in logged


@pytest.mark.concurrency
def test_two_workers_delivering_at_once_send_each_message_once(committed_factory, settings):
    """Both claim batches from the same due rows at the same moment; every message goes out
    exactly once (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer at a time)."""
    with session_scope(committed_factory) as s:
        customers = [Customer(name=f"Customer {n}", email=f"c{n}@example.org") for n in range(40)]
        s.add_all(customers)
        s.flush()
        for c in customers:
            services.notify(
                s, customer_id=c.id, kind=NoticeKind.LATE, message=LATE, key=f"k{c.id}", now=NOW
            )
    email = RecordingSender("email", delay_s=0.005)
    start = threading.Barrier(2)
    totals: list[int] = []

    def worker() -> None:
        start.wait()
        total = 0
        while sent := jobs.deliver(
            committed_factory, now=NOW, senders=[email], batch=7, settings=settings
        ):
            total += sent
        totals.append(total)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    recipients = [m.to for m in email.sent]
    assert sorted(recipients) == sorted({f"c{n}@example.org" for n in range(40)})
    assert sum(totals) == 40
    with session_scope(committed_factory) as s:
        statuses = s.scalars(select(Notification.status)).all()
        assert statuses == ["sent"] * 40


def test_a_run_whose_claim_runs_out_gives_back_what_it_did_not_send(
    session, session_factory, world, settings, monkeypatch
):
    """A worker sends nothing it may no longer own: past its claim's margin it stops, and
    the rest are due again at once, the attempt not counted."""
    services.notify(
        session,
        customer_id=world.customer.id,
        kind=NoticeKind.LATE,
        message=LATE,
        key="late:slow",
        now=NOW,
    )
    session.commit()
    monkeypatch.setattr(jobs, "CLAIM_MARGIN", jobs.CLAIM + timedelta(seconds=1))
    email, sms = channels()

    assert jobs.deliver(session_factory, now=NOW, senders=[email, sms], settings=settings) == 0

    assert email.sent == sms.sent == []
    row = session.scalars(select(Notification)).one()
    session.refresh(row)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, NOW)
