"""Support's outbox page: every message newest first, in the reader's language, with how
sending went; filtered by status; fifty a page; for support staff only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.messages import say
from app.notifications import services
from app.notifications.models import NoticeKind, Notification
from tests.notifications.helpers import NOW

LATE = say("%(courier)s's route: late by %(minutes)s min", courier="Ivan", minutes=12)


def write(session, customer_id: int, key: str, *, minutes: int = 0) -> Notification:  # type: ignore[no-untyped-def]
    return services.notify(
        session,
        customer_id=customer_id,
        kind=NoticeKind.LATE,
        message=LATE,
        key=key,
        now=NOW + timedelta(minutes=minutes),
    )


def test_the_staff_page_lists_a_notification(client, session, world, login_as, clock):
    """Its kind, status, channels, recipient, message (said in English for an English
    page), attempts and last error."""
    clock(NOW)
    row = write(session, world.customer.id, "late:page")
    row.attempts, row.last_error = 2, "email: ConnectionRefusedError: down"
    session.commit()
    login_as("support")

    page = client.get("/support/notifications/", headers={"Accept-Language": "en"})

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ivan&#39;s route: late by 12 min" in html
    assert world.customer.email in html
    assert world.customer.phone in html
    assert "e-mail, SMS" in html
    assert "email: ConnectionRefusedError: down" in html
    assert "running late" in html


def test_the_page_says_the_message_in_the_readers_language(
    app, client, session, world, login_as, clock
):
    """A Russian-speaking agent reads the same stored message in Russian."""
    clock(NOW)
    app.config["LANGUAGES"] = ("ru", "en")
    write(session, world.customer.id, "late:ru")
    session.commit()
    login_as("support")

    html = client.get("/support/notifications/", headers={"Accept-Language": "ru"}).get_data(
        as_text=True
    )

    assert "Маршрут курьера Ivan: опоздание 12 мин" in html


def test_the_page_filters_by_status(client, session, world, login_as, clock):
    """?status=sent shows only what went out."""
    clock(NOW)
    write(session, world.customer.id, "waiting")
    sent = write(session, world.customer.id, "gone", minutes=1)
    session.execute(
        update(Notification)
        .where(Notification.id == sent.id)
        .values(status="sent", sent_at=NOW, next_attempt_at=None)
    )
    session.commit()
    login_as("support")

    only_sent = client.get("/support/notifications/?status=sent").get_data(as_text=True)
    everything = client.get("/support/notifications/?status=nonsense").get_data(as_text=True)

    assert f"<td>{sent.id}</td>" in only_sent
    assert only_sent.count("<tr>") == 2  # the header and one message
    assert everything.count("<tr>") == 3


def test_the_page_shows_fifty_messages_a_page_newest_first(client, session, world, login_as, clock):
    """The 51st newest message is alone on page 2."""
    clock(NOW)
    rows = [write(session, world.customer.id, f"k{n}", minutes=n) for n in range(51)]
    session.commit()
    login_as("support")

    first = client.get("/support/notifications/").get_data(as_text=True)
    second = client.get("/support/notifications/?page=2").get_data(as_text=True)

    assert first.count("<tr>") == 51
    assert first.index(f"<td>{rows[50].id}</td>") < first.index(f"<td>{rows[1].id}</td>")
    assert f"<td>{rows[0].id}</td>" not in first
    assert second.count("<tr>") == 2
    assert f"<td>{rows[0].id}</td>" in second


def test_only_support_staff_see_the_outbox(client, login_as, clock):
    """A courier signed in is refused."""
    clock(NOW)
    login_as("courier")

    assert client.get("/support/notifications/").status_code == 403


def test_the_support_index_links_to_the_outbox(client, login_as, clock):
    """Support agents find the page from their start page."""
    clock(NOW)
    login_as("support")

    html = client.get("/support/").get_data(as_text=True)

    assert 'href="/support/notifications/"' in html
