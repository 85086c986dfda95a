"""Feedback (Q1) on both databases: a delivery is rated once; a low rating (2 or less) or a
low NPS score (6 or less) opens a support case with a promised answer and tells the customer
when; the NPS question is put at most twice a year (2 asks in 365 days, 90 days apart);
support answers a case once and the customer gets the answer once; the desk lists open
cases first by their promise; the tracking page rates a delivery through a plain form."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, NotFound, ValidationFailed
from app.links import tracking_token
from app.notifications.models import NoticeKind, Notification
from app.quality import services as quality
from app.quality.models import DeliveryRating, NpsAnswer, SupportCase
from tests import factories as f
from tests.conftest import csrf_token
from tests.quality.helpers import DELIVERED_AT, LATER, delivered_order

DAY = timedelta(days=1)
RULES = quality.SupportRules(response=timedelta(hours=24))


def notices(session, customer_id: int, kind: NoticeKind) -> list[Notification]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(
            select(Notification).where(
                Notification.customer_id == customer_id, Notification.kind == kind.value
            )
        )
    )


def cases(session) -> list[SupportCase]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(SupportCase).order_by(SupportCase.id)))


def rate(session, order, score: int, comment: str | None = None, now=LATER):  # type: ignore[no-untyped-def]
    return quality.rate_delivery(
        session,
        order_id=order.id,
        customer_id=order.customer_id,
        score=score,
        comment=comment,
        now=now,
        rules=RULES,
    )


# --- Rating a delivery -------------------------------------------------------------------


def test_a_delivery_is_rated_once(session, world):
    """The first rating is kept; a second one for the same delivery is a Conflict that says
    so, and the first stays as it was."""
    order = delivered_order(session, world, "RT-Q-1")

    rated = rate(session, order, 4, "  Quick and polite.  ")
    with pytest.raises(Conflict, match="already rated the delivery of order RT-Q-1"):
        rate(session, order, 1, "Changed my mind")

    kept = session.scalars(select(DeliveryRating)).all()
    assert [(r.score, r.comment, r.order_id) for r in kept] == [(4, "Quick and polite.", order.id)]
    assert rated.case is None
    assert rated.told is None


def test_an_order_not_delivered_by_a_courier_has_nothing_to_rate(session, world):
    """A stop not reported delivered gives no rating (Conflict), and opens no case."""
    order = delivered_order(session, world, "RT-Q-2", deliver=False)

    with pytest.raises(Conflict, match="has not been delivered yet"):
        rate(session, order, 1)
    assert session.scalars(select(DeliveryRating)).all() == []
    assert cases(session) == []


def test_another_customer_cannot_rate_the_order(session, world):
    """The order must be the customer's own: otherwise it is not found."""
    order = delivered_order(session, world, "RT-Q-3")
    stranger = f.CustomerFactory()
    session.flush()

    with pytest.raises(NotFound, match="There is no order"):
        quality.rate_delivery(
            session, order_id=order.id, customer_id=stranger.id, score=5, comment="", now=LATER
        )


@pytest.mark.parametrize(
    ("score", "comment", "field"),
    [
        (0, None, "score"),
        (6, None, "score"),
        (True, None, "score"),
        ("5", None, "score"),
        (3, "x" * 1001, "comment"),
        (3, "null\x00byte", "comment"),
        (3, 42, "comment"),
    ],
)
def test_a_rating_out_of_bounds_is_refused_naming_the_field(session, world, score, comment, field):
    """1..5 only (a bool or a string is not a score); a comment of at most 1000 storable
    characters."""
    order = delivered_order(session, world, "RT-Q-4")

    with pytest.raises(ValidationFailed) as refused:
        rate(session, order, score, comment)
    assert list(refused.value.errors) == [field]


def test_a_comment_of_1000_characters_is_kept(session, world):
    """The bound itself is allowed."""
    order = delivered_order(session, world, "RT-Q-5")

    assert rate(session, order, 5, "y" * 1000).rating.comment == "y" * 1000


def test_a_rating_of_2_opens_a_case_with_a_promise_and_tells_the_customer(session, world):
    """Score 2: a case from the rating, due 24 hours later; the customer gets one message
    saying when we will answer, and the service returns the same words for the page."""
    order = delivered_order(session, world, "RT-Q-6")

    rated = rate(session, order, 2, "Left at the wrong door.")

    (case,) = cases(session)
    assert (case.source, case.status, case.order_id, case.rating_id) == (
        "rating",
        "open",
        order.id,
        rated.rating.id,
    )
    assert case.opened_at == LATER
    assert case.respond_by == LATER + timedelta(hours=24)
    assert "Left at the wrong door." in case.summary
    assert "2 of 5" in case.summary
    assert rated.case is case
    (told,) = notices(session, order.customer_id, NoticeKind.SUPPORT_OPENED)
    assert told.order_id == order.id
    assert "will answer you by" in told.message
    assert rated.told is not None
    assert rated.told.msgid == told.message.msgid
    assert rated.told.params["time"] == told.message.params["time"] == case.respond_by


def test_a_rating_of_3_opens_no_case(session, world):
    """The boundary the other way: 3 is not low."""
    order = delivered_order(session, world, "RT-Q-7")

    rate(session, order, 3)

    assert cases(session) == []
    assert notices(session, order.customer_id, NoticeKind.SUPPORT_OPENED) == []


def test_the_promised_response_time_comes_from_the_environment_within_bounds():
    """ROUNDTRIP_SUPPORT_RESPONSE_HOURS: 24 by default, 1 to 336 hours, a number."""
    assert quality.SupportRules.from_env({}).response == timedelta(hours=24)
    assert quality.SupportRules.from_env(
        {"ROUNDTRIP_SUPPORT_RESPONSE_HOURS": "4"}
    ).response == timedelta(hours=4)
    for bad in ("0", "337", "soon", "nan"):
        with pytest.raises(ValueError, match="ROUNDTRIP_SUPPORT_RESPONSE_HOURS"):
            quality.SupportRules.from_env({"ROUNDTRIP_SUPPORT_RESPONSE_HOURS": bad})


def test_a_delivered_customer_is_invited_to_rate_once_within_48_hours(session, world):
    """The invitation is a message with the order (its link opens the rating form); it is
    sent once per delivery, not for a delivery already rated, nor one older than 48 hours."""
    invited = delivered_order(session, world, "RT-Q-I1")
    rated = delivered_order(session, world, "RT-Q-I2")
    rate(session, rated, 5)
    stop_id = quality.delivered_stop(session, invited.id).id

    assert quality.rating_invites_due(session, now=LATER) == [stop_id]
    assert quality.invite_to_rate(session, stop_id=stop_id, now=LATER)
    assert not quality.invite_to_rate(session, stop_id=stop_id, now=LATER)
    assert quality.rating_invites_due(session, now=LATER) == []
    (sent,) = notices(session, world.customer.id, NoticeKind.RATING_INVITE)
    assert sent.order_id == invited.id
    assert "RT-Q-I1" in sent.message
    late = quality.delivered_stop(session, delivered_order(session, world, "RT-Q-I3").id)
    just_in_time = DELIVERED_AT + 2 * DAY - timedelta(seconds=1)
    assert quality.rating_invites_due(session, now=just_in_time) == [late.id]
    assert quality.rating_invites_due(session, now=DELIVERED_AT + 2 * DAY) == []


# --- The NPS question --------------------------------------------------------------------


def ask_and_answer(session, customer_id: int, now, score: int = 9) -> NpsAnswer:  # type: ignore[no-untyped-def]
    ask = quality.ask_nps(session, customer_id=customer_id, now=now)
    assert ask is not None, f"the question is due at {now}"
    return quality.answer_nps(
        session, customer_id=customer_id, score=score, why="", now=now, rules=RULES
    )


def test_nps_is_asked_again_only_90_days_after_the_last_ask(session, world):
    """Asked at T: not due at T + 90 days - 1 s; due at exactly T + 90 days."""
    customer = world.customer.id
    first = LATER

    assert quality.nps_due(session, customer, first)
    ask_and_answer(session, customer, first)

    assert not quality.nps_due(session, customer, first + 90 * DAY - timedelta(seconds=1))
    assert quality.nps_due(session, customer, first + 90 * DAY)


def test_nps_is_asked_at_most_twice_in_365_days(session, world):
    """Asked at T and T + 90 days: not again while both are within 365 days (even long
    after the 90-day gap); at T + 365 days the first no longer counts, so it is due."""
    customer = world.customer.id
    first = LATER
    ask_and_answer(session, customer, first)
    ask_and_answer(session, customer, first + 90 * DAY)

    assert not quality.nps_due(session, customer, first + 200 * DAY)
    assert not quality.nps_due(session, customer, first + 365 * DAY - timedelta(seconds=1))
    assert quality.nps_due(session, customer, first + 365 * DAY)


def test_an_unanswered_question_counts_and_stays_open_for_90_days(session, world):
    """An ask never answered counts as an ask; asking again within 90 days returns the same
    open question (no second ask), which can still be answered."""
    customer = world.customer.id
    ask = quality.ask_nps(session, customer_id=customer, now=LATER)

    again = quality.ask_nps(session, customer_id=customer, now=LATER + 10 * DAY)
    assert again is not None
    assert again.id == ask.id
    assert not quality.nps_due(session, customer, LATER + 10 * DAY)
    answered = quality.answer_nps(
        session, customer_id=customer, score=8, why="Fine", now=LATER + 11 * DAY, rules=RULES
    )
    assert answered.id == ask.id
    assert answered.score == 8
    assert session.scalars(select(NpsAnswer)).all() == [answered]


def test_answering_twice_is_a_conflict(session, world):
    """Once answered, the question is not answered again until the next one is due."""
    customer = world.customer.id
    ask_and_answer(session, customer, LATER)

    with pytest.raises(Conflict, match="already told us"):
        quality.answer_nps(
            session, customer_id=customer, score=3, why="", now=LATER + DAY, rules=RULES
        )


def test_nps_of_6_opens_a_case_and_7_does_not(session, world):
    """6 is a detractor (a case with the why, a message with the promise); 7 is not."""
    other = f.CustomerFactory()
    session.flush()
    order = delivered_order(session, world, "RT-Q-8")
    quality.ask_nps(session, customer_id=world.customer.id, now=LATER, order_id=order.id)
    low = quality.answer_nps(
        session,
        customer_id=world.customer.id,
        score=6,
        why="Deliveries are always late.",
        now=LATER,
        rules=RULES,
    )
    ask_and_answer(session, other.id, LATER, score=7)

    (case,) = cases(session)
    assert (case.source, case.customer_id, case.order_id, case.nps_answer_id) == (
        "nps",
        world.customer.id,
        order.id,
        low.id,
    )
    assert "Deliveries are always late." in case.summary
    assert case.respond_by == LATER + timedelta(hours=24)
    assert len(notices(session, world.customer.id, NoticeKind.SUPPORT_OPENED)) == 1
    assert notices(session, other.id, NoticeKind.SUPPORT_OPENED) == []


@pytest.mark.parametrize(
    ("score", "why", "field"), [(-1, "", "score"), (11, "", "score"), (5, "z" * 1001, "why")]
)
def test_an_nps_answer_out_of_bounds_is_refused_naming_the_field(session, world, score, why, field):
    """0..10 and a why of at most 1000 characters; nothing is asked or kept when refused."""
    with pytest.raises(ValidationFailed) as refused:
        quality.answer_nps(session, customer_id=world.customer.id, score=score, why=why, now=LATER)
    assert list(refused.value.errors) == [field]
    assert session.scalars(select(NpsAnswer)).all() == []


# --- Support answers ---------------------------------------------------------------------


def test_support_answers_once_and_the_customer_is_told_once(session, world, make_user):
    """The answer is kept with who and when; the customer gets it in one message; a second
    answer is a Conflict and sends nothing more."""
    agent = make_user("support")
    order = delivered_order(session, world, "RT-Q-9")
    case = rate(session, order, 1, "Broken box.").case
    answered_at = LATER + timedelta(hours=2)

    done = quality.answer_case(
        session,
        case_id=case.id,
        text=" We are sending a new box tomorrow. ",
        question_tag="Damaged packaging",
        user_id=agent.id,
        now=answered_at,
    )
    with pytest.raises(Conflict, match="already answered"):
        quality.answer_case(
            session, case_id=case.id, text="Again", user_id=agent.id, now=answered_at + DAY
        )

    assert (done.status, done.answer, done.answered_at, done.answered_by_user_id) == (
        "answered",
        "We are sending a new box tomorrow.",
        answered_at,
        agent.id,
    )
    assert done.question_tag == "Damaged packaging"
    (told,) = notices(session, order.customer_id, NoticeKind.SUPPORT_REPLY)
    assert "We are sending a new box tomorrow." in told.message
    assert "RT-Q-9" in told.message
    assert told.order_id == order.id


@pytest.mark.parametrize(
    ("text", "tag", "field"),
    [("   ", None, "text"), ("x" * 2001, None, "text"), ("Fine", "t" * 81, "question_tag")],
)
def test_an_answer_out_of_bounds_is_refused_naming_the_field(session, world, text, tag, field):
    """An answer has 1 to 2000 characters, its question tag at most 80."""
    order = delivered_order(session, world, "RT-Q-10")
    case = rate(session, order, 1).case

    with pytest.raises(ValidationFailed) as refused:
        quality.answer_case(
            session, case_id=case.id, text=text, question_tag=tag, user_id=1, now=LATER
        )
    assert list(refused.value.errors) == [field]


def test_the_desk_lists_open_cases_first_by_their_promise_with_a_total(session, world, make_user):
    """Open cases by the soonest promise, then answered ones; pages of a given size with the
    total; a page past the last shows the last; a bad page size is refused by name."""
    agent = make_user("support")
    orders = [delivered_order(session, world, f"RT-Q-D{i}") for i in range(3)]
    first = rate(session, orders[0], 1, now=LATER).case
    second = rate(session, orders[1], 2, now=LATER + timedelta(hours=1)).case
    third = rate(session, orders[2], 1, now=LATER + timedelta(hours=2)).case
    quality.answer_case(session, case_id=first.id, text="Sorry", user_id=agent.id, now=LATER)
    now = LATER + timedelta(hours=23)

    page = quality.cases_page(session, now=now, page=1, per_page=2)
    assert [r.id for r in page.rows] == [second.id, third.id]
    assert (page.total, page.pages, page.open) == (3, 2, 2)
    assert page.rows[0].due_in_s == 2 * 3600
    assert page.rows[0].order_number == "RT-Q-D1"
    last = quality.cases_page(session, now=now, page=9, per_page=2)
    assert ([r.id for r in last.rows], last.page) == ([first.id], 2)
    assert last.rows[0].due_in_s is None
    answered = quality.cases_page(session, now=now, status="answered")
    assert [r.id for r in answered.rows] == [first.id]
    with pytest.raises(ValidationFailed) as refused:
        quality.cases_page(session, now=now, per_page=101)
    assert list(refused.value.errors) == ["per_page"]


# --- Through the tracking page ---------------------------------------------------------------


def test_the_tracking_page_rates_a_delivery_and_asks_the_nps_question(
    client, app, session, world, clock
):
    """The delivered order's page offers 1..5; sending 1 with a comment shows the promised
    answer time; the NPS question follows and its answer is kept; the form is gone after."""
    clock(LATER)
    order = delivered_order(session, world, "RT-Q-P1")
    url = f"/t/{tracking_token(app.config['SECRET_KEY'], order.id)}"
    en = {"Accept-Language": "en"}

    page = client.get(url, headers=en).get_data(as_text=True)
    assert "How was your delivery?" in page
    assert len(re.findall(r'name="score" id="score-\d"', page)) == 5
    sent = client.post(
        url + "/rating",
        data={"score": "1", "comment": "The box was crushed.", "csrf_token": csrf_token(page)},
        headers=en,
    )
    assert sent.status_code == 303
    page = client.get(url, headers=en).get_data(as_text=True)
    assert "You rated this delivery 1 of 5" in page
    assert "will answer you by" in page
    assert 'data-testid="rate-form"' not in page
    assert "How likely are you to recommend us to a friend?" in page
    (case,) = cases(session)
    assert case.summary.endswith("The box was crushed.")

    sent = client.post(
        url + "/nps", data={"nps_score": "9", "why": "", "csrf_token": csrf_token(page)}, headers=en
    )
    assert sent.status_code == 303
    page = client.get(url, headers=en).get_data(as_text=True)
    assert 'data-testid="nps-form"' not in page
    assert 'data-testid="nps-thanks"' in page
    assert [a.score for a in session.scalars(select(NpsAnswer))] == [9]


def test_the_tracking_page_refuses_a_bad_score_and_a_second_rating(
    client, app, session, world, clock
):
    """A score that is not 1..5 is shown on the page (422, nothing kept); a second rating
    sent from an old page is refused with a plain message and keeps the first."""
    clock(LATER)
    order = delivered_order(session, world, "RT-Q-P2")
    url = f"/t/{tracking_token(app.config['SECRET_KEY'], order.id)}"
    en = {"Accept-Language": "en"}
    token = csrf_token(client.get(url, headers=en).get_data(as_text=True))

    bad = client.post(url + "/rating", data={"score": "9", "csrf_token": token}, headers=en)
    assert bad.status_code == 422
    assert "Choose a score from 1 to 5." in bad.get_data(as_text=True)
    assert session.scalars(select(DeliveryRating)).all() == []

    client.post(url + "/rating", data={"score": "5", "csrf_token": token}, headers=en)
    again = client.post(
        url + "/rating", data={"score": "1", "csrf_token": token}, headers=en, follow_redirects=True
    )
    assert "already rated the delivery" in again.get_data(as_text=True)
    assert [r.score for r in session.scalars(select(DeliveryRating))] == [5]
    assert cases(session) == []


def test_a_page_without_a_delivered_stop_offers_no_rating(client, app, session, world, clock):
    """Before the courier reports it delivered, the page has no rating form."""
    clock(LATER)
    order = delivered_order(session, world, "RT-Q-P3", deliver=False)
    url = f"/t/{tracking_token(app.config['SECRET_KEY'], order.id)}"

    page = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "How was your delivery?" not in page


def test_support_answers_a_case_from_the_desk(client, app, session, world, clock, login_as):
    """The desk lists the open case with its promise; the case page shows the customer, the
    rating and comment, and the order; the answer form sends the answer once."""
    clock(LATER + timedelta(hours=21))
    order = delivered_order(session, world, "RT-Q-S1")
    case = rate(session, order, 1, "Courier was rude.").case
    session.commit()
    login_as("support")
    en = {"Accept-Language": "en"}

    index = client.get("/support/cases/", headers=en).get_data(as_text=True)
    assert "RT-Q-S1" in index
    assert "due in 3 h" in index
    assert "/support/cases/" in client.get("/support/", headers=en).get_data(as_text=True)
    page = client.get(f"/support/cases/{case.id}", headers=en).get_data(as_text=True)
    assert world.customer.name in page
    assert "Courier was rude." in page
    assert "Delivery rated 1 of 5." in page
    assert "RT-Q-S1" in page
    sent = client.post(
        f"/support/cases/{case.id}/answer",
        data={
            "text": "We spoke to the courier.",
            "question_tag": "",
            "csrf_token": csrf_token(page),
        },
        headers=en,
    )
    assert sent.status_code == 302
    session.expire_all()
    assert session.get(SupportCase, case.id).status == "answered"
    assert len(notices(session, order.customer_id, NoticeKind.SUPPORT_REPLY)) == 1
    again = client.post(
        f"/support/cases/{case.id}/answer",
        data={"text": "Again.", "csrf_token": csrf_token(page)},
        headers=en,
    )
    assert again.status_code == 409
    assert len(notices(session, order.customer_id, NoticeKind.SUPPORT_REPLY)) == 1
    assert client.get("/support/cases/999999", headers=en).status_code == 404
