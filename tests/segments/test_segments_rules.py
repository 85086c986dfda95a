"""Recognised regulars (L4): each segment rule at its boundaries, the facts counted from the
history, the monthly offer through the ledger (once a month), demanding customers' feedback
routed to who can fix it, and support's page showing the segments and why."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.background import schedule
from app.messages import say
from app.notifications.models import Notification
from app.orders.models import Order
from app.planning.models import Stop
from app.quality.models import DeliveryRating
from app.segments import jobs as segment_jobs
from app.segments import services as segment_services
from app.segments.policy import (
    CustomerFacts,
    SegmentId,
    SegmentRules,
    offer_for,
    segments,
)
from loyalty.models import LedgerEntry
from returns.models import ReturnCase

NOW = datetime(2030, 6, 1, 9, tzinfo=UTC)
RULES = SegmentRules()  # the defaults: 180 days, 6 orders, 5 %, 20 %, 2 low of 30 %, 80 chars
DAY = timedelta(days=1)
LONG = "x" * 80  # a comment exactly as long as "detailed" asks

# --- The rules, pure -----------------------------------------------------------------------

LOYAL = CustomerFacts(
    delivered_orders=6, delivered_recent=6, first_delivered_at=NOW - timedelta(days=180)
)


def ids(facts: CustomerFacts, rules: SegmentRules = RULES) -> set[SegmentId]:
    return {s.id for s in segments(facts, rules, NOW)}


@pytest.mark.parametrize(
    ("facts", "loyal"),
    [
        (LOYAL, True),  # 6 orders, a customer for exactly 180 days
        (replace(LOYAL, delivered_recent=5), False),  # one order short
        (replace(LOYAL, first_delivered_at=NOW - timedelta(days=179)), False),  # a day too new
        (replace(LOYAL, first_delivered_at=None), False),
    ],
)
def test_loyal_needs_six_recent_orders_and_180_days_as_a_customer(facts, loyal):
    """Loyal: at least 6 delivered orders in the last 180 days and the first one placed at
    least 180 days ago; exactly at each threshold is enough, one below is not."""
    assert (SegmentId.LOYAL in ids(facts)) is loyal


@pytest.mark.parametrize(
    ("delivered", "returned", "rated", "careful"),
    [
        (3, 0, 0, True),  # the fewest orders
        (2, 0, 0, False),
        (20, 1, 0, True),  # returns exactly 5 %
        (19, 1, 0, False),  # 5.3 %
        (5, 0, 1, True),  # rated exactly 20 %
        (4, 0, 1, False),  # 25 %
    ],
)
def test_careful_returns_at_most_5_percent_and_rates_at_most_20_percent(
    delivered, returned, rated, careful
):
    """Careful: at least 3 delivered orders, orders returned at most 5 % of them and ratings
    at most 20 % of them (whole history); exactly at a share is still careful."""
    facts = CustomerFacts(
        delivered_orders=delivered, delivered_recent=0, returned_orders=returned, ratings=rated
    )
    assert (SegmentId.CAREFUL in ids(facts)) is careful


DEMANDING = CustomerFacts(
    ratings=2, ratings_recent=2, low_ratings_recent=2, comments_recent=2, comment_chars_recent=160
)


@pytest.mark.parametrize(
    ("facts", "demanding"),
    [
        (DEMANDING, True),  # 2 low ratings of 2, comments 80 characters on average
        (replace(DEMANDING, ratings_recent=1, low_ratings_recent=1), False),  # one low rating
        (replace(DEMANDING, ratings_recent=10, low_ratings_recent=3), True),  # exactly 30 %
        (replace(DEMANDING, ratings_recent=11, low_ratings_recent=3), False),  # 27 %
        (replace(DEMANDING, comment_chars_recent=159), False),  # 79.5 characters
        (replace(DEMANDING, comments_recent=0, comment_chars_recent=0), False),  # no comments
    ],
)
def test_demanding_rates_low_often_and_writes_detailed_comments(facts, demanding):
    """Demanding: at least 2 ratings of 2 or less in the last 180 days, at least 30 % of
    their ratings there, and comments of 80 characters or more on average."""
    assert (SegmentId.DEMANDING in ids(facts)) is demanding


def test_a_customer_may_be_in_all_three_segments_each_with_its_reason():
    """Segments are independent: one customer can be loyal, careful and demanding at once,
    and each says why in words a support agent reads."""
    facts = CustomerFacts(
        delivered_orders=20,
        delivered_recent=8,
        first_delivered_at=datetime(2029, 3, 3, 12, tzinfo=UTC),
        returned_orders=1,
        ratings=4,
        ratings_recent=4,
        low_ratings_recent=2,
        comments_recent=2,
        comment_chars_recent=170,
    )
    found = segments(facts, RULES, NOW)
    assert [s.id for s in found] == [SegmentId.LOYAL, SegmentId.CAREFUL, SegmentId.DEMANDING]
    loyal, careful, demanding = (s.reason for s in found)
    assert loyal.msgid.startswith("%(n)s delivered order in the last %(days)s days")
    assert (loyal.params["n"], loyal.params["since"]) == (8, date(2029, 3, 3))
    assert str(careful) == "Returned 1 and rated 4 of 20 delivered orders."
    assert str(demanding) == (
        "2 of 4 ratings in the last 180 days were 2 or less; their comments are 85 characters "
        "long on average."
    )


def test_a_new_customer_is_in_no_segment():
    """No orders, no ratings: no segment (careful needs orders, too)."""
    assert segments(CustomerFacts(), RULES, NOW) == []


def test_the_rules_are_tuned_from_the_environment_within_bounds():
    """Every threshold is a ROUNDTRIP_SEGMENT_* setting; unset ones keep their default."""
    rules = SegmentRules.from_env(
        {"ROUNDTRIP_SEGMENT_LOYAL_MIN_ORDERS": "4", "ROUNDTRIP_SEGMENT_LOYAL_BONUS_POINTS": "250"}
    )
    assert (rules.loyal_min_orders, rules.loyal_bonus_points, rules.recent_days) == (4, 250, 180)
    assert SegmentRules.from_env({}) == RULES


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("ROUNDTRIP_SEGMENT_LOYAL_MIN_ORDERS", "0"),
        ("ROUNDTRIP_SEGMENT_CAREFUL_MAX_RETURN_PERCENT", "101"),
        ("ROUNDTRIP_SEGMENT_LOW_SCORE", "5"),
        ("ROUNDTRIP_SEGMENT_RECENT_DAYS", "-1"),
        ("ROUNDTRIP_SEGMENT_DEMANDING_MIN_COMMENT_CHARS", "eighty"),
    ],
)
def test_a_setting_out_of_bounds_is_refused_naming_the_variable(variable, raw):
    """A wrong setting stops the rules being made, and the error says which one."""
    with pytest.raises(ValueError, match=variable):
        SegmentRules.from_env({variable: raw})


def test_rules_made_in_code_are_bounded_too():
    """The same bounds hold for rules made directly; the error names the field."""
    with pytest.raises(ValueError, match="low_score"):
        SegmentRules(low_score=5)


def test_only_loyal_customers_get_an_offer():
    """Loyal: bonus points for the next order (100 by default) with a reason and a key per
    customer and month; careful and demanding customers get no offer."""
    offer = offer_for(SegmentId.LOYAL, RULES)
    assert offer is not None
    assert offer.points == 100
    assert offer.key(7, NOW) == "segment:loyal:7:2030-06"
    assert offer_for(SegmentId.CAREFUL, RULES) is None
    assert offer_for(SegmentId.DEMANDING, RULES) is None


# --- Facts from the database ---------------------------------------------------------------

_numbers = itertools.count(1)


def order(session: Session, world: Any, placed_at: datetime, *, status: str = "delivered") -> Order:
    """An order of the world's customer placed at ``placed_at``."""
    made = Order(
        number=f"RT-SEG{next(_numbers):05d}",
        customer=world.customer,
        address=world.address,
        depot=world.depot,
        delivery_day=placed_at.date(),
        window_start_at=placed_at + timedelta(hours=20),
        window_end_at=placed_at + timedelta(hours=22),
        status=status,
        total_minor=1_000_00,
        created_at=placed_at,
    )
    session.add(made)
    session.flush()
    return made


def rate(
    session: Session, world: Any, placed: Order, score: int, comment: str | None, at: datetime
) -> DeliveryRating:
    """The customer's rating of ``placed`` (its delivered stop made here), given at ``at``."""
    stop = Stop(
        depot_id=world.depot.id,
        delivery_day=placed.delivery_day,
        kind="delivery",
        order_id=placed.id,
        lat=55.76,
        lon=37.6,
        window_start_at=placed.window_start_at,
        window_end_at=placed.window_end_at,
        delivery_units=1,
        service_s=300,
        completed_at=placed.window_end_at,
        outcome="delivered",
    )
    session.add(stop)
    session.flush()
    rating = DeliveryRating(
        stop_id=stop.id,
        order_id=placed.id,
        customer_id=placed.customer_id,
        score=score,
        comment=comment,
        created_at=at,
    )
    session.add(rating)
    session.flush()
    return rating


def return_of(session: Session, placed: Order, reason: str, at: datetime) -> ReturnCase:
    """A return case of ``placed`` opened at ``at`` (decided at once, for the standard path)."""
    case = ReturnCase(
        order_id=placed.id,
        customer_id=placed.customer_id,
        client_key=f"seg-{next(_numbers)}",
        reason=reason,
        resolution="refund",
        description="The lid cracked the first time it was used.",
        status="under_review",
        rule="X2-standard",
        decision=say("A person looks at it on receipt."),
        created_at=at,
        decided_at=at,
    )
    session.add(case)
    session.flush()
    return case


def make_loyal(session: Session, world: Any) -> list[Order]:
    """The world's customer since 200 days ago, with 6 delivered orders in the last 180 days."""
    placed = [order(session, world, NOW - timedelta(days=200))]
    placed += [order(session, world, NOW - timedelta(days=10 * n)) for n in range(1, 7)]
    session.commit()
    return placed


def test_facts_are_counted_from_the_history_up_to_now(session, world):
    """Delivered orders only; "recent" is after now - 180 days (an order or rating placed
    exactly 180 days ago is not recent); nothing after now; an order returned twice counts
    once; comments are measured in characters, ratings without one are left out."""
    edge = NOW - timedelta(days=180)
    first = order(session, world, edge)  # delivered, not recent
    inside = order(session, world, edge + timedelta(seconds=1))
    order(session, world, NOW - DAY, status="cancelled")
    order(session, world, NOW + DAY)  # after now: not counted
    return_of(session, inside, "changed_mind", NOW - DAY)
    return_of(session, inside, "defective", NOW - DAY)
    rate(session, world, first, 1, "too late, " * 5, edge)  # not recent
    rate(session, world, inside, 2, "опять поздно" * 7 + "!" * 6, NOW - DAY)  # 90 characters
    session.commit()

    facts = segment_services.customer_facts(session, world.customer.id, NOW)

    assert facts == CustomerFacts(
        delivered_orders=2,
        delivered_recent=1,
        first_delivered_at=edge,
        returned_orders=1,
        ratings=2,
        ratings_recent=1,
        low_ratings_recent=1,
        comments_recent=1,
        comment_chars_recent=90,
    )


def test_a_new_customer_is_in_no_segment_on_the_database(session, world):
    """A customer with no orders: no segment, and no offer due."""
    assert segment_services.customer_segments(session, world.customer.id, now=NOW) == []
    assert segment_services.offers_due(session, now=NOW, rules=RULES) == []


def test_loyal_and_demanding_at_once_from_the_history(session, world):
    """Six recent orders since 200 days, two of them rated 1 with long comments: loyal and
    demanding (rated 2 of 7 deliveries, so not careful); the reasons carry the numbers."""
    placed = make_loyal(session, world)
    rate(session, world, placed[1], 1, LONG, NOW - DAY)
    rate(session, world, placed[2], 1, LONG, NOW - DAY)
    session.commit()

    found = segment_services.customer_segments(session, world.customer.id, now=NOW, rules=RULES)

    assert [s.id for s in found] == [SegmentId.LOYAL, SegmentId.DEMANDING]
    assert found[0].reason.params["n"] == 6
    assert found[0].reason.params["since"] == (NOW - timedelta(days=200)).date()


def test_one_order_short_is_not_loyal_on_the_database(session, world):
    """Five recent orders (the sixth placed exactly 180 days ago) is one short of loyal."""
    order(session, world, NOW - timedelta(days=200))
    order(session, world, NOW - timedelta(days=180))
    for n in range(1, 6):
        order(session, world, NOW - timedelta(days=10 * n))
    session.commit()

    found = segment_services.customer_segments(session, world.customer.id, now=NOW, rules=RULES)

    assert SegmentId.LOYAL not in {s.id for s in found}


# --- Offers --------------------------------------------------------------------------------


def _offers(session: Session, customer_id: int) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.customer_id == customer_id, LedgerEntry.source == "segment:loyal")
            .order_by(LedgerEntry.id)
        )
    )


def test_the_loyal_offer_is_credited_once_a_month(session, session_factory, world):
    """The job credits the loyal bonus through the ledger with its reason; run twice in June
    it writes one entry, and July brings the next."""
    make_loyal(session, world)

    first = segment_jobs.monthly_offers(session_factory, now=NOW, rules=RULES)
    again = segment_jobs.monthly_offers(session_factory, now=NOW + DAY, rules=RULES)

    entries = _offers(session, world.customer.id)
    assert (first, again, len(entries)) == (1, 0, 1)
    assert entries[0].points == 100
    assert entries[0].idempotency_key == f"segment:loyal:{world.customer.id}:2030-06"
    assert entries[0].reason.startswith("Thank you for ordering with us regularly")

    july = datetime(2030, 7, 1, 9, tzinfo=UTC)
    assert segment_jobs.monthly_offers(session_factory, now=july, rules=RULES) == 1
    assert len(_offers(session, world.customer.id)) == 2


def test_giving_the_offer_twice_in_a_month_writes_one_entry(session, world):
    """The service itself is idempotent per month, even if the bonus setting changed since
    (the first entry stands; the ledger would refuse the key with another amount)."""
    make_loyal(session, world)

    written = segment_services.give_offers(
        session, customer_id=world.customer.id, now=NOW, rules=RULES
    )
    bigger = replace(RULES, loyal_bonus_points=500)
    again = segment_services.give_offers(
        session, customer_id=world.customer.id, now=NOW + DAY, rules=bigger
    )

    assert (len(written), again) == (1, [])
    assert [e.points for e in _offers(session, world.customer.id)] == [100]


def test_the_scheduler_fires_the_offers_once_a_day_while_one_is_due(
    session, session_factory, world
):
    """At 04:00 in the shop's zone (within the hour) the offers job is due while a loyal
    customer waits for this month's offer, and not once they all have it."""
    make_loyal(session, world)
    timetable = schedule.Schedule(waves=(), same_day_every_min=0)
    moscow_04_10 = datetime(2030, 6, 1, 1, 10, tzinfo=UTC)

    due = {d.job: d for d in schedule.due_now(session, now=moscow_04_10, schedule=timetable)}
    assert due["segment-offers"].task == "segments.monthly_offers"
    assert due["segment-offers"].due_at == datetime(2030, 6, 1, 1, 0, tzinfo=UTC)
    later = {
        d.job
        for d in schedule.due_now(
            session, now=moscow_04_10 + timedelta(hours=1), schedule=timetable
        )
    }
    assert "segment-offers" not in later

    segment_jobs.monthly_offers(session_factory, now=moscow_04_10, rules=RULES)
    done = {d.job for d in schedule.due_now(session, now=moscow_04_10, schedule=timetable)}
    assert "segment-offers" not in done


# --- Routing a demanding customer's feedback -----------------------------------------------

ROUTING = segment_services.FeedbackRouting(
    courier_lead_email="lead@example.org", category_manager_email="category@example.org"
)


def test_a_demanding_customers_complaint_and_defect_go_to_who_can_fix_them(session, world):
    """A demanding customer's low rating with a comment goes to the courier lead, a defective
    return of the rated order to the category manager; routed again, nothing new is written."""
    placed = make_loyal(session, world)
    rate(session, world, placed[1], 1, LONG, NOW - DAY)
    return_of(session, placed[2], "defective", NOW - DAY)
    rating = rate(session, world, placed[2], 2, "The kettle leaks. " * 5, NOW)
    session.commit()

    sent = segment_services.route_feedback(
        session, rating_id=rating.id, now=NOW, rules=RULES, routing=ROUTING
    )
    again = segment_services.route_feedback(
        session, rating_id=rating.id, now=NOW, rules=RULES, routing=ROUTING
    )

    assert [n.key for n in sent] == [
        f"segment-feedback:rating:{rating.id}:courier-lead",
        f"segment-feedback:return:{sent[1].case_id}:category-manager",
    ]
    assert [n.id for n in again] == [n.id for n in sent]
    assert all(n.customer_id is None for n in sent)  # to staff
    assert sent[0].message.startswith("For the courier lead (lead@example.org): ")
    assert "The kettle leaks." in sent[0].message
    assert sent[1].message.startswith("For the category manager (category@example.org): ")
    assert "a defective item" in sent[1].message
    # Each goes to that person's own address, not to support's.
    assert [n.email for n in sent] == ["lead@example.org", "category@example.org"]


def test_feedback_of_a_customer_who_is_not_demanding_is_not_routed(session, world):
    """One low rating is not "often": nothing is routed (support's case handles it)."""
    placed = order(session, world, NOW - 3 * DAY)
    rating = rate(session, world, placed, 1, LONG, NOW)
    session.commit()

    sent = segment_services.route_feedback(
        session, rating_id=rating.id, now=NOW, rules=RULES, routing=ROUTING
    )

    assert sent == []
    assert session.scalar(select(Notification.id).where(Notification.customer_id.is_(None))) is None


# --- Support's page ------------------------------------------------------------------------


def test_support_sees_the_segments_and_why(session, world, client, login_as, clock):
    """Support's customer page shows a badge per segment with its reason as text."""
    make_loyal(session, world)
    clock(NOW)
    login_as("support")

    page = client.get(f"/support/customers/{world.customer.id}").get_data(as_text=True)

    assert 'data-segment="loyal"' in page
    assert "6 delivered orders in the last 180 days, a customer since" in page
    assert 'data-segment="careful"' in page  # 7 delivered orders, none returned or rated
    assert 'data-segment="demanding"' not in page


def test_support_sees_no_segment_line_for_a_new_customer(session, world, client, login_as, clock):
    """A customer in no segment: no badges at all."""
    clock(NOW)
    login_as("support")

    page = client.get(f"/support/customers/{world.customer.id}").get_data(as_text=True)

    assert 'data-testid="segments"' not in page
