"""One history per customer (Q3): the timeline's kinds, order, pages and filter; the
customer's version without staff notes; support's customer search; the two pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.customers import services as customer_services
from app.customers.models import Customer
from app.errors import ValidationFailed
from app.history import services as history
from app.history.events import KINDS, EventKind
from app.messages import say
from app.notifications.models import Notification
from app.orders.models import Order
from app.planning.models import Stop
from app.quality.models import DeliveryRating, NpsAnswer, SupportCase
from loyalty import services as loyalty_services
from returns.models import ReturnCase, ReturnEvent
from tests.conftest import csrf_token

T0 = datetime(2030, 3, 1, 9, tzinfo=UTC)
NOW = T0 + timedelta(days=1)
NUMBER = "RT-HIST2345"


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


@dataclass
class History:
    """A customer with one or more lines of every kind, each an hour after the last."""

    customer_id: int
    order_id: int
    case_id: int
    user_id: int
    # (kind, source) of every line, oldest first: the timeline must give them newest first.
    lines: list[tuple[str, str]]


def _stop(world, order: Order, hours: int, **facts) -> Stop:  # type: ignore[no-untyped-def]
    return Stop(
        depot_id=world.depot.id,
        delivery_day=facts.pop("delivery_day", at(hours).date()),
        kind=facts.pop("kind", "delivery"),
        order_id=order.id,
        lat=55.76,
        lon=37.6,
        window_start_at=at(hours) - timedelta(hours=1),
        window_end_at=at(hours) + timedelta(hours=1),
        delivery_units=1,
        service_s=300,
        completed_at=at(hours),
        **facts,
    )


def build_history(session: Session, world, staff_user_id: int) -> History:  # type: ignore[no-untyped-def]
    """Every kind of line for ``world.customer``, one an hour from T0 (13 lines)."""
    customer = world.customer
    order = Order(
        number=NUMBER,
        customer=customer,
        address=world.address,
        depot=world.depot,
        delivery_day=date(2030, 3, 2),
        window_start_at=at(1) - timedelta(hours=1),
        window_end_at=at(1) + timedelta(hours=1),
        total_minor=3_499_00,
        created_at=at(0),
    )
    session.add(order)
    session.flush()
    failed = _stop(
        world, order, 1, outcome="failed", failure_reason="not_home", failure_note="dog barked"
    )
    session.add(failed)
    session.add(
        Notification(
            key="hist:late",
            kind="late",
            customer_id=customer.id,
            order_id=order.id,
            message=say("Your courier is running late."),
            status="sent",
            email=customer.email,
            email_sent_at=at(2),
            sent_at=at(2),
            created_at=at(2),
        )
    )
    delivered = _stop(world, order, 3, delivery_day=date(2030, 3, 2), outcome="delivered")
    session.add(delivered)
    session.flush()
    loyalty_services.credit_bonus(
        session,
        customer_id=customer.id,
        points=150,
        reason=say("Sorry for the missed delivery."),
        source=f"order:{order.id}",
        now=at(4),
        key="hist:bonus",
    )
    rating = DeliveryRating(
        stop_id=delivered.id,
        order_id=order.id,
        customer_id=customer.id,
        score=2,
        comment="Late twice",
        created_at=at(5),
    )
    session.add(rating)
    case = ReturnCase(
        order_id=order.id,
        customer_id=customer.id,
        client_key="hist-1",
        reason="defective",
        resolution="refund",
        status="approved",
        rule="X2-fast-track",
        decision=say("Approved."),
        created_at=at(6),
        decided_at=at(6),
        pickup=True,
    )
    case.events = [ReturnEvent(at=at(6), message=say("Return started."))]
    session.add(case)
    session.flush()
    session.add(
        _stop(
            world,
            order,
            7,
            kind="pickup",
            return_case_id=case.id,
            outcome="collected",
            delivery_day=date(2030, 3, 3),
        )
    )
    session.add(
        NpsAnswer(customer_id=customer.id, asked_at=at(7), answered_at=at(8), score=4, why="Slow")
    )
    session.flush()
    session.add(
        SupportCase(
            customer_id=customer.id,
            order_id=order.id,
            source="rating",
            rating_id=rating.id,
            summary=say("Rated a delivery 2 of 5."),
            opened_at=at(9),
            respond_by=at(33),
            status="answered",
            answered_at=at(10),
            answered_by_user_id=staff_user_id,
            answer="We spoke to the courier.",
        )
    )
    session.add(
        SupportCase(
            customer_id=customer.id,
            source="callback",
            summary=say("Call me back at 18:30."),
            opened_at=at(11),
            respond_by=at(12),
            status="open",
        )
    )
    session.flush()
    history.add_note(
        session,
        customer_id=customer.id,
        user_id=staff_user_id,
        text="Prefers evening calls.",
        now=at(12),
    )
    session.commit()
    lines = [
        ("order_placed", "order"),
        ("delivery", "stop"),
        ("notification", "notification"),
        ("delivery", "stop"),
        ("points", "ledger"),
        ("rating", "rating"),
        ("return", "return_event"),
        ("delivery", "stop"),
        ("nps", "nps"),
        ("support_case", "case_opened"),
        ("support_case", "case_answered"),
        ("callback", "callback_opened"),
        ("staff_note", "staff_note"),
    ]
    return History(customer.id, order.id, case.id, staff_user_id, lines)


@pytest.fixture
def built(session, world, make_user) -> History:  # type: ignore[no-untyped-def]
    """The customer of ``world`` with 13 lines of history, one of each kind at least."""
    staff = make_user("support")
    return build_history(session, world, staff.id)


def test_every_kind_appears_newest_first(session, built):
    """Support's version has every kind of line, newest first, each at its own moment."""
    found = history.timeline(session, built.customer_id, audience="staff", page=1)

    assert found.total == 13
    assert found.pages == 1
    assert [(e.kind, e.source) for e in found.events] == built.lines[::-1]
    assert [e.at for e in found.events] == [at(h) for h in range(12, -1, -1)]
    assert {e.kind for e in found.events} == set(KINDS)


def test_lines_say_what_happened_and_link_their_order(session, built):
    """A failed delivery says why (and, for staff, the courier's note); a points line
    carries its points and reason; return lines link the case; the note is staff-only."""
    found = history.timeline(session, built.customer_id, audience="staff", page=1)
    by_at = {e.at: e for e in found.events}

    failed = by_at[at(1)]
    assert failed.outcome == "failed"
    assert str(failed.title) == f"Order {NUMBER} could not be delivered"
    assert str(failed.text) == "nobody was home"
    assert failed.staff_detail == "dog barked"
    assert failed.order_id == built.order_id
    assert by_at[at(4)].points == 150
    assert str(by_at[at(4)].title) == "Sorry for the missed delivery."
    assert by_at[at(6)].return_case_id == built.case_id
    assert str(by_at[at(7)].title) == f"The return of order {NUMBER} was collected"
    assert by_at[at(5)].score == 2
    assert by_at[at(12)].staff_only
    assert by_at[at(12)].text == "Prefers evening calls."


def test_the_customers_version_never_shows_staff_notes(session, built):
    """The customer sees 12 lines: no staff note, even when asking for that kind, and no
    staff-only details."""
    mine = history.timeline(session, built.customer_id, audience="customer", page=1)
    asked = history.timeline(
        session, built.customer_id, audience="customer", kinds={"staff_note"}, page=1
    )

    assert mine.total == 12
    assert EventKind.STAFF_NOTE not in {e.kind for e in mine.events}
    assert all(e.staff_detail is None for e in mine.events)
    assert not any(e.staff_only for e in mine.events)
    assert asked.total == 0
    assert asked.events == ()


def test_pages_split_the_history_without_gaps_or_overlaps(session, built):
    """5 a page: pages of 5, 5 and 3 that together are the whole history in order; a page
    beyond the last is empty but still counts the total."""
    whole = history.timeline(session, built.customer_id, audience="staff", page=1)
    pages = [
        history.timeline(session, built.customer_id, audience="staff", page=n, per_page=5)
        for n in (1, 2, 3, 4)
    ]

    assert [len(p.events) for p in pages] == [5, 5, 3, 0]
    assert all(p.total == 13 and p.pages == 3 for p in pages)
    assert [e for p in pages for e in p.events] == list(whole.events)
    assert pages[0].has_next
    assert not pages[0].has_previous
    assert pages[2].has_previous
    assert not pages[2].has_next


def test_the_kind_filter_keeps_only_those_kinds(session, built):
    """Asking for deliveries and support cases gives the three stops and the two case
    lines, newest first, and counts only them."""
    found = history.timeline(
        session, built.customer_id, audience="staff", kinds={"delivery", "support_case"}, page=1
    )

    assert found.total == 5
    assert [e.at for e in found.events] == [at(10), at(9), at(7), at(3), at(1)]


def test_bad_page_or_kind_is_refused_naming_the_field(session, built):
    """Page 0, a page size beyond the limit and an unknown kind are refused by name."""
    with pytest.raises(ValidationFailed) as refused:
        history.timeline(
            session, built.customer_id, audience="staff", kinds={"gossip"}, page=0, per_page=500
        )

    assert set(refused.value.errors) == {"page", "per_page", "kinds"}


def test_a_page_costs_a_bounded_number_of_queries(session, world, make_user, engine):
    """However long the history, a page is a count, the page's keys and one query per
    source on the page: not one per line."""
    from sqlalchemy import event

    staff = make_user("support")
    built = build_history(session, world, staff.id)
    for n in range(60):
        history.add_note(
            session, customer_id=built.customer_id, user_id=staff.id, text=f"n{n}", now=at(20 + n)
        )
    session.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = history.timeline(session, built.customer_id, audience="staff", page=2, per_page=50)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert found.total == 73
    assert len(found.events) == 23
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 2 + len(history.SOURCES)


# --- support's search ----------------------------------------------------------------------


@pytest.fixture
def anna(session, world) -> Customer:  # type: ignore[no-untyped-def]
    """Anna Smirnova, with a phone as a shop writes it and an order RT-ANNA2345."""
    customer = Customer(name="Anna Smirnova", email="anna@example.org", phone="+79161234567")
    session.add(customer)
    session.flush()
    session.add(
        Order(
            number="RT-ANNA2345",
            customer=customer,
            address=world.address,
            depot=world.depot,
            delivery_day=date(2030, 3, 2),
            window_start_at=at(0),
            window_end_at=at(2),
        )
    )
    session.commit()
    return customer


@pytest.mark.parametrize(
    "q",
    [
        "rt-anna2345",
        "RT-ANNA2345",
        "+7 (916) 123-45-67",
        "916 123 45 67",
        "ANNA@EXAMPLE",
        "mirno",
    ],
)
def test_search_finds_by_order_number_phone_email_or_name(session, anna, q):
    """An order number (any case), a phone however punctuated, part of an e-mail or a name
    each find the customer, with their order count."""
    rows, total = customer_services.find_customers(session, q, page=1, per_page=25)

    assert total == 1
    assert rows[0].customer.id == anna.id
    assert rows[0].orders == 1


def test_an_order_number_puts_its_customer_first_and_names_the_order(session, anna, world):
    """A customer whose name merely contains the text comes after the order's owner."""
    session.add(Customer(name="Aaron rt-anna2345 Fan", email="aaron@example.org"))
    session.commit()

    rows, total = customer_services.find_customers(session, "rt-anna2345", page=1, per_page=25)

    assert total == 2
    assert rows[0].customer.id == anna.id
    assert rows[0].matched_order == "RT-ANNA2345"
    assert rows[1].matched_order is None


def test_search_pages_with_a_total(session, world):
    """37 customers named alike: a total of 37, pages of 25 and 12, no one twice."""
    session.add_all(
        Customer(name=f"Bulk Person {n:02d}", email=f"bulk{n}@example.org") for n in range(37)
    )
    session.commit()

    first, total = customer_services.find_customers(session, "bulk person", page=1, per_page=25)
    second, again = customer_services.find_customers(session, "bulk person", page=2, per_page=25)

    assert total == again == 37
    assert len(first) == 25
    assert len(second) == 12
    names = [r.customer.name for r in first + second]
    assert names == sorted(names)
    assert len(set(names)) == 37


def test_search_treats_wildcards_as_text(session, anna):
    """A % or _ typed in the box is a character, not a pattern."""
    assert customer_services.find_customers(session, "%", page=1, per_page=25)[1] == 0
    assert customer_services.find_customers(session, "_", page=1, per_page=25)[1] == 0


# --- pages -----------------------------------------------------------------------------------


def test_support_finds_a_customer_by_order_number_on_the_page(client, login_as, anna, clock):
    """The search box takes an order number: the customer, the matched order, the total."""
    clock(NOW)
    login_as("support")

    page = client.get("/support/", query_string={"q": "rt-anna2345"}).get_data(as_text=True)

    assert "Anna Smirnova" in page
    assert "order RT-ANNA2345" in page
    assert "1 customer found" in page


def test_support_search_pages_say_where_they_are(client, login_as, session, world, clock):
    """37 customers: page 2 shows 12 of them, with the total and a link back."""
    clock(NOW)
    session.add_all(
        Customer(name=f"Bulk Person {n:02d}", email=f"bulk{n}@example.org") for n in range(37)
    )
    session.commit()
    login_as("support")

    page = client.get("/support/", query_string={"q": "bulk", "page": "2"}).get_data(as_text=True)

    assert "37 customers found" in page
    assert page.count('data-testid="customer"') == 12
    assert "page 2 of 2" in page


@pytest.mark.parametrize("page", ["0", "100001", "abc", "9" * 50])
def test_support_search_page_out_of_range_names_the_field(client, login_as, world, clock, page):
    """A page number outside 1..100,000 is refused with a message naming the page."""
    clock(NOW)
    login_as("support")

    response = client.get("/support/", query_string={"q": "x", "page": page})

    assert response.status_code == 422
    assert "Page: give a whole number from 1 to 100,000." in response.get_data(as_text=True)


def test_support_sees_the_whole_history_filters_it_and_adds_a_note(
    client, login_as, session, world, make_user, clock
):
    """The customer page lists every kind, newest first; ticking a kind keeps only it; a
    note added through the form shows at the top."""
    clock(NOW)
    staff = make_user("support")
    built = build_history(session, world, staff.id)
    login_as("support")
    url = f"/support/customers/{built.customer_id}"

    page = client.get(url).get_data(as_text=True)
    notes = client.get(url, query_string={"kind": "staff_note"}).get_data(as_text=True)
    sent = client.post(
        f"{url}/notes", data={"text": "Called, all fine now.", "csrf_token": csrf_token(page)}
    )
    after = client.get(url).get_data(as_text=True)

    assert page.count('data-testid="event"') == 13
    assert "13 events" in page
    assert page.index("Prefers evening calls.") < page.index(f"Order {NUMBER} placed")
    assert notes.count('data-testid="event"') == 1
    assert sent.status_code == 302
    assert after.index("Called, all fine now.") < after.index("Prefers evening calls.")


def test_support_note_too_long_is_refused(client, login_as, world, clock):
    """A note over 2,000 characters comes back with the form and nothing is saved."""
    clock(NOW)
    login_as("support")
    url = f"/support/customers/{world.customer.id}"
    page = client.get(url).get_data(as_text=True)

    response = client.post(
        f"{url}/notes", data={"text": "x" * 2001, "csrf_token": csrf_token(page)}
    )

    assert response.status_code == 400
    assert "Nothing here yet." in response.get_data(as_text=True)


def test_the_portal_shows_my_history_without_staff_notes(
    client, login_as, session, world, make_user, clock
):
    """The customer's "My history" lists their 12 lines and never the staff note; asking
    for staff notes by hand is refused."""
    clock(NOW)
    staff = make_user("support")
    built = build_history(session, world, staff.id)
    me = login_as("customer")
    session.get_one(Customer, built.customer_id).user_id = me.id
    session.commit()

    page = client.get("/portal/history").get_data(as_text=True)
    paged = client.get("/portal/history", query_string={"page": "2"}).get_data(as_text=True)
    refused = client.get("/portal/history", query_string={"kind": "staff_note"})

    assert "12 events" in page
    assert page.count('data-testid="event"') == 12
    assert "Prefers evening calls." not in page
    assert "dog barked" not in page
    assert "Sent by" not in page
    assert paged.count('data-testid="event"') == 0
    assert refused.status_code == 422


def test_search_finds_a_cyrillic_name_as_it_is_written(session, world):
    """«Иванов» finds Пётр Иванов on both databases (SQLite folds only ASCII letters, so the
    search folds both sides the same way)."""
    from tests import factories as f

    ivanov = f.CustomerFactory(name="Пётр Иванов")
    session.flush()

    rows, total = customer_services.find_customers(session, "Иванов", page=1, per_page=25)

    assert total == 1
    assert rows[0].customer.id == ivanov.id
