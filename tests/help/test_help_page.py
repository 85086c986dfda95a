"""Help without a queue (P3) on both databases: the FAQ is ordered by the cases tagged with
each question in the last 90 days; each channel's response time (median and 90th percentile
over the last 30 days) equals a direct computation over the same cases; a callback takes
only a free 30-minute slot within support's hours, today or tomorrow, not yet started;
support is reminded once of a callback nobody made; the pages bound what they are sent."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import stats
from app.background import schedule as schedule_module
from app.errors import Conflict, ValidationFailed
from app.help import jobs as help_jobs
from app.help import services as help_services
from app.help.models import CallbackRequest
from app.messages import say
from app.notifications.models import NoticeKind, Notification
from app.quality import services as quality
from app.quality.models import SupportCase
from tests.conftest import csrf_token

TOKEN = re.compile(r'name="(?:contact|callback)-csrf_token"[^>]*value="([^"]+)"')

NOW = datetime(2030, 3, 1, 9, tzinfo=UTC)  # 12:00 in Moscow, support's zone
RULES = help_services.HelpRules()  # 09:00-21:00 Europe/Moscow, 3 callbacks a slot
MSK = RULES.zone


def msk(hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    """A moment on NOW's Moscow day (``days`` later), as UTC."""
    day = NOW.astimezone(MSK).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MSK).astimezone(UTC)


def a_case(  # type: ignore[no-untyped-def]
    session,
    customer,
    *,
    source: str = "contact",
    opened_at: datetime,
    answered_after: timedelta | None = None,
    tag: str | None = None,
) -> SupportCase:
    """A support case of ``customer``, answered ``answered_after`` it opened (if given)."""
    case = SupportCase(
        customer_id=customer.id,
        source=source,
        summary=say("Wrote to us: %(text)s", text="Where is my order?"),
        opened_at=opened_at,
        respond_by=opened_at + timedelta(hours=24),
        status="answered" if answered_after is not None else "open",
        answered_at=opened_at + answered_after if answered_after is not None else None,
        answer="Here it is." if answered_after is not None else None,
        question_tag=tag,
    )
    session.add(case)
    session.flush()
    return case


def an_entry(session, tag: str, question_en: str, *, question_ru: str = "", published=True):  # type: ignore[no-untyped-def]
    """A FAQ entry with answers in the languages given."""
    return help_services.save_faq(
        session,
        tag=tag,
        question_en=question_en,
        answer_en=f"Answer to {question_en}" if question_en else "",
        question_ru=question_ru,
        answer_ru=f"Ответ: {question_ru}" if question_ru else "",
        published=published,
        now=NOW,
    )


# --- The FAQ -------------------------------------------------------------------------------


def test_faq_is_ordered_by_the_cases_tagged_in_the_last_90_days(session, world):
    """Three cases tagged "late" and two "refund" within 90 days put "late" first; a
    "refund" case opened exactly 90 days ago and one of "address" 91 days ago do not count;
    an unpublished entry is not shown to customers but support sees it."""
    an_entry(session, "address", "How do I change my address?")
    an_entry(session, "refund", "When do I get my money back?")
    an_entry(session, "late", "Where is my order?")
    an_entry(session, "hidden", "Draft question", published=False)
    for days in (1, 10, 89):
        a_case(session, world.customer, opened_at=NOW - timedelta(days=days), tag="late")
    for days in (2, 3):
        a_case(session, world.customer, opened_at=NOW - timedelta(days=days), tag="refund")
    a_case(session, world.customer, opened_at=NOW - timedelta(days=90), tag="refund")
    a_case(session, world.customer, opened_at=NOW - timedelta(days=91), tag="address")
    a_case(session, world.customer, opened_at=NOW - timedelta(days=91), tag="address")
    a_case(session, world.customer, opened_at=NOW - timedelta(hours=1), tag="hidden")

    shown = help_services.faq(session, now=NOW)
    assert [(e.tag, e.asked) for e in shown] == [("late", 3), ("refund", 2), ("address", 0)]
    everything = help_services.faq(session, now=NOW, published_only=False)
    assert [e.tag for e in everything] == ["late", "refund", "hidden", "address"]
    assert help_services.asked_counts(session, now=NOW) == {"late": 3, "refund": 2, "hidden": 1}


def test_faq_in_the_readers_language_falls_back_and_filters(session, world):
    """A Russian reader gets the Russian side, or the English one where the Russian is
    empty; the filter keeps entries whose question or answer contains the words (any case)."""
    an_entry(session, "both", "Can I pay by card?", question_ru="Можно ли оплатить картой?")
    an_entry(session, "english", "Do you deliver on Sunday?")
    an_entry(session, "russian", "", question_ru="Где мой заказ?")

    russian = {
        e.tag: (e.question, e.language) for e in help_services.faq(session, now=NOW, language="ru")
    }
    assert russian == {
        "both": ("Можно ли оплатить картой?", "ru"),
        "english": ("Do you deliver on Sunday?", "en"),
        "russian": ("Где мой заказ?", "ru"),
    }
    english = {e.tag: e.language for e in help_services.faq(session, now=NOW, language="en")}
    assert english == {"both": "en", "english": "en", "russian": "ru"}
    found = help_services.faq(session, now=NOW, query="SUNDAY")
    assert [e.tag for e in found] == ["english"]
    assert help_services.faq(session, now=NOW, language="ru", query="картой")[0].tag == "both"


def test_faq_entries_are_checked_and_tags_unique(session, world):
    """A tag that is not a short code, a question without its answer, or no language at all
    is refused naming the field; a second entry with the same tag is a Conflict."""
    with pytest.raises(ValidationFailed) as refused:
        help_services.save_faq(
            session,
            tag="Late Delivery!",
            question_en="Where is it?",
            answer_en="",
            question_ru="",
            answer_ru="",
            published=True,
            now=NOW,
        )
    assert set(refused.value.errors) == {"tag", "answer_en", "question_en"}
    an_entry(session, "late", "Where is my order?")
    with pytest.raises(Conflict, match="late already has a FAQ entry"):
        an_entry(session, "late", "Where is my parcel?")


# --- Response times ------------------------------------------------------------------------


def form_token(html: str) -> str:
    """The CSRF token of the help page's forms (their fields carry a prefix)."""
    match = TOKEN.search(html)
    assert match, "the help page has no form with a CSRF token"
    return match.group(1)


def nearest_rank_p90(values: list[float]) -> float:
    """The smallest value that at least 90 % of the values do not exceed (by counting)."""
    return min(v for v in values if sum(x <= v for x in values) >= 0.9 * len(values))


def test_response_times_equal_a_direct_computation_over_30_days(session, world):
    """Per channel, the median and p90 of opened → answered over cases answered in the last
    30 days equal a direct computation; an answer exactly 30 days old, one in the future,
    an open case and the cases a low score opened (not a channel) do not count."""
    minutes = [5, 12, 30, 31, 47, 60, 95, 120, 240, 1440, 17]
    for n, m in enumerate(minutes):
        answered_at = NOW - timedelta(days=n * 2, hours=1)
        a_case(
            session,
            world.customer,
            opened_at=answered_at - timedelta(minutes=m),
            answered_after=timedelta(minutes=m),
        )
    # Answered exactly 30 days ago: outside; a second less than 30 days ago: inside.
    a_case(
        session,
        world.customer,
        opened_at=NOW - timedelta(days=30, minutes=999),
        answered_after=timedelta(minutes=999),
    )
    a_case(
        session,
        world.customer,
        opened_at=NOW - timedelta(days=30) + timedelta(seconds=1) - timedelta(minutes=3),
        answered_after=timedelta(minutes=3),
    )
    a_case(session, world.customer, opened_at=NOW - timedelta(hours=2))  # still open
    a_case(
        session,
        world.customer,
        source="rating",
        opened_at=NOW - timedelta(hours=5),
        answered_after=timedelta(hours=4),
    )
    callbacks = [20, 40, 600]
    for m in callbacks:
        a_case(
            session,
            world.customer,
            source="callback",
            opened_at=NOW - timedelta(days=1, minutes=m),
            answered_after=timedelta(minutes=m),
        )

    times = {t.channel: t for t in help_services.response_times(session, now=NOW)}

    contact = [m * 60.0 for m in [*minutes, 3]]
    ordered = sorted(contact)
    assert times["contact"].answered == len(contact) == 12
    assert times["contact"].median_s == (ordered[5] + ordered[6]) / 2
    assert times["contact"].p90_s == nearest_rank_p90(contact) == 240 * 60
    assert times["callback"].answered == 3
    assert times["callback"].median_s == 40 * 60
    assert times["callback"].p90_s == nearest_rank_p90([m * 60.0 for m in callbacks])
    assert set(times) == {"contact", "callback"}


def test_percentiles_on_small_samples():
    """The median of an even count is the mean of the middle two; p90 is by nearest rank;
    no values give None."""
    assert stats.median([4, 1, 3, 2]) == 2.5
    assert stats.median([7]) == 7
    assert stats.p90(list(range(1, 11))) == 9
    assert stats.p90(list(range(1, 12))) == 10
    assert stats.median([]) is None
    assert stats.p90([]) is None
    for n in range(1, 40):
        values = [float(v) for v in range(n)]
        assert stats.p90(values) == nearest_rank_p90(values)
        assert stats.p90(values) == values[math.ceil(0.9 * n) - 1]


def test_the_help_page_says_when_a_channel_has_no_answers_yet(client, session, world, clock):
    """With no answered cases, each channel says so instead of a made-up time; with some,
    the page shows the computed median."""
    clock(NOW)
    page = client.get("/help/").get_data(as_text=True)
    assert page.count("No answers in the last 30 days yet.") == 2
    a_case(
        session,
        world.customer,
        opened_at=NOW - timedelta(hours=3),
        answered_after=timedelta(minutes=25),
    )
    session.commit()
    page = client.get("/help/").get_data(as_text=True)
    assert page.count("No answers in the last 30 days yet.") == 1
    assert "Half of the answers within 25 minutes; nine in ten within 25 minutes." in page


# --- Callbacks -----------------------------------------------------------------------------


def book(session, slot, *, now=NOW, phone="+7 912 345-67-89", name="Anna"):  # type: ignore[no-untyped-def]
    return help_services.request_callback(
        session, slot=slot, phone=phone, now=now, name=name, email=None, rules=RULES
    )


def test_a_callback_becomes_a_case_due_at_its_slot(session, world):
    """A free slot today: a callback case due at the slot's start, the number kept, and the
    customer (found by phone, here new) told when we call."""
    booked = book(session, msk(18, 30).isoformat())

    case = booked.case
    assert (case.source, case.status, case.respond_by) == ("callback", "open", msk(18, 30))
    assert booked.callback is not None
    assert (booked.callback.slot_start_at, booked.callback.phone) == (
        msk(18, 30),
        "+7 912 345-67-89",
    )
    assert "We will call you on +7 912 345-67-89 between" in booked.told
    assert booked.told.endswith("and 19:00.")
    again = book(session, msk(19, 0), phone="+7 912 345-67-89", name="Anna again")
    assert again.case.customer_id == case.customer_id  # the same customer, found by phone


@pytest.mark.parametrize(
    ("slot", "problem"),
    [
        (msk(11, 30), "That time has passed"),  # started before 12:00
        (msk(12, 0), "That time has passed"),  # starts right now
        (msk(8, 30), "We call back between 09:00 and 21:00"),  # before the hours
        (msk(21, 0), "We call back between 09:00 and 21:00"),  # would end after them
        (msk(14, 15), "We call back between 09:00 and 21:00"),  # not on the half hour
        (msk(10, 0, days=2), "Choose a time today or tomorrow"),
        ("tomorrow at ten", "Choose a time from the list"),
        (datetime(2030, 3, 1, 15, 30), "Choose a time from the list"),  # noqa: DTZ001 (no zone)
    ],
)
def test_a_callback_slot_outside_the_rules_is_refused(session, world, slot, problem):
    """Past, outside the hours, off the 30-minute grid, beyond tomorrow, or not a time:
    refused, naming the slot, and nothing is booked."""
    with pytest.raises(ValidationFailed) as refused:
        book(session, slot)
    assert list(refused.value.errors) == ["slot"]
    assert problem in refused.value.errors["slot"][0]
    assert session.scalars(select(SupportCase)).all() == []


def test_a_full_slot_is_refused_and_leaves_the_list(session, world):
    """Three callbacks fill a slot: the fourth is a Conflict; the slot shows 0 free; the
    first slot tomorrow opens at 09:00."""
    for n in range(3):
        book(session, msk(13, 0), phone=f"+7 900 000-00-0{n}", name=f"Caller {n}")
    with pytest.raises(Conflict, match="The 13:00 slot is full"):
        book(session, msk(13, 0), phone="+7 900 000-00-09")

    slots = {s.start_at: s for s in help_services.callback_slots(session, now=NOW, rules=RULES)}
    assert slots[msk(13, 0)].free == 0
    assert slots[msk(12, 30)].free == 3
    assert msk(12, 0) not in slots
    assert min(s for s in slots if slots[s].tomorrow) == msk(9, 0, days=1)
    assert max(slots) == msk(20, 30, days=1)
    assert len(slots) == 17 + 24


def test_support_is_reminded_once_of_a_missed_callback(session, session_factory, world):
    """Ten minutes after the slot started and still unanswered, support gets one reminder:
    not at nine minutes, not a second time, and never for a callback already made; the
    scheduler fires the job only while one is due."""
    missed = book(session, msk(13, 0)).case
    made = book(session, msk(13, 0), phone="+7 900 111-22-33", name="Boris").case
    session.commit()
    quality.answer_case(
        session,
        case_id=made.id,
        text="We called.",
        user_id=None,
        now=msk(13, 5),  # type: ignore[arg-type]
    )
    session.commit()

    def reminders() -> list[Notification]:
        return list(
            session.scalars(
                select(Notification).where(
                    Notification.kind == NoticeKind.CALLBACK_MISSED.value,
                    Notification.customer_id.is_(None),
                )
            )
        )

    def fired(now: datetime) -> list[str]:
        due = schedule_module.due_now(session, now=now, schedule=schedule_module.Schedule())
        return [d.task for d in due if d.task == "help.remind_callbacks"]

    assert fired(msk(13, 9)) == []
    assert help_jobs.remind_callbacks(session_factory, now=msk(13, 9)) == 0
    assert fired(msk(13, 10)) == ["help.remind_callbacks"]
    assert help_jobs.remind_callbacks(session_factory, now=msk(13, 10)) == 1
    assert help_jobs.remind_callbacks(session_factory, now=msk(13, 40)) == 0
    session.expire_all()
    assert fired(msk(13, 40)) == []
    sent = reminders()
    assert [n.key for n in sent] == [f"callback-missed:{missed.id}"]
    assert "nobody has called back yet" in sent[0].message
    kept = session.scalar(select(CallbackRequest).where(CallbackRequest.case_id == missed.id))
    assert kept is not None
    assert kept.reminded_at == msk(13, 10)


# --- The pages -----------------------------------------------------------------------------


def test_the_public_page_books_a_callback_and_takes_a_message(client, session, world, clock):
    """Without signing in: a callback at a listed slot and a message each open a case, and
    the customer reads when they will hear from us; support then sees the callback task."""
    clock(NOW)
    page = client.get("/help/").get_data(as_text=True)
    token = form_token(page)
    assert f'value="{msk(18, 30).isoformat()}"' in page
    booked = client.post(
        "/help/callback",
        data={
            "callback-csrf_token": token,
            "callback-slot": msk(18, 30).isoformat(),
            "callback-phone": "+7 912 000-11-22",
            "callback-name": "Vera",
        },
        follow_redirects=True,
    )
    assert booked.status_code == 200
    assert "We will call you on +7 912 000-11-22 between" in booked.get_data(as_text=True)
    sent = client.post(
        "/help/contact",
        data={
            "contact-csrf_token": token,
            "contact-text": "My kettle leaks.",
            "contact-name": "Vera",
            "contact-email": "vera@example.org",
        },
        follow_redirects=True,
    )
    assert "A person from our support team will answer you by" in sent.get_data(as_text=True)
    cases = session.scalars(select(SupportCase).order_by(SupportCase.id)).all()
    assert [(c.source, c.status) for c in cases] == [("callback", "open"), ("contact", "open")]
    assert cases[0].respond_by == msk(18, 30)


@pytest.mark.parametrize(
    ("data", "field", "status"),
    [
        ({"callback-slot": "x" * 41, "callback-phone": "+7 912 000-11-22"}, "callback-slot", 400),
        (
            {"callback-slot": "2030-03-01T08:00:00+00:00", "callback-phone": "+7"},
            "callback-phone",
            400,
        ),
        (
            {"callback-slot": "2030-03-01T08:00:00+00:00", "callback-phone": "1" * 33},
            "callback-phone",
            400,
        ),
        (
            {"callback-slot": "2030-03-01T07:00:00+00:00", "callback-phone": "+7 912 000-11-22"},
            "callback-slot",
            400,
        ),
    ],
)
def test_the_callback_form_refuses_naming_the_field(client, world, clock, data, field, status):
    """A slot too long or in the past, a phone too short or too long: a 4xx whose error sits
    under the field sent."""
    clock(NOW)
    token = form_token(client.get("/help/").get_data(as_text=True))
    response = client.post(
        "/help/callback", data={"callback-csrf_token": token, "callback-name": "V", **data}
    )
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert f'id="{field}"' in html
    start = html.index(f'id="{field}"')
    assert "is-invalid" in html[html.rindex("<", 0, start) : start + 400]


def test_a_search_too_long_is_refused(client, world, clock):
    """A filter over 100 characters is a 400 that says so, and the page still shows."""
    clock(NOW)
    response = client.get("/help/?q=" + "a" * 101)
    assert response.status_code == 400
    assert "Keep it under 100 characters." in response.get_data(as_text=True)


def test_support_maintains_the_faq_and_sees_callbacks(client, session, world, login_as, clock):
    """Support adds a question on /support/faq, the case page offers its tag, and the
    callbacks list shows a booked callback with the customer's history link."""
    clock(NOW)
    book(session, msk(18, 30))
    a_case(session, world.customer, opened_at=NOW - timedelta(days=1), tag="refund")
    session.commit()
    login_as("support")
    page = client.get("/support/faq").get_data(as_text=True)
    saved = client.post(
        "/support/faq",
        data={
            "csrf_token": csrf_token(page),
            "tag": "late",
            "question_en": "Where is my order?",
            "answer_en": "The tracking link shows it.",
            "published": "y",
        },
    )
    assert saved.status_code == 302
    assert "<code>refund</code>" in page  # asked, but no entry yet
    again = client.post(
        "/support/faq",
        data={
            "csrf_token": csrf_token(page),
            "tag": "late",
            "question_en": "Where?",
            "answer_en": "There.",
        },
    )
    assert again.status_code == 409
    too_long = client.post("/support/faq", data={"csrf_token": csrf_token(page), "tag": "x" * 81})
    assert too_long.status_code == 400
    case = session.scalars(select(SupportCase).where(SupportCase.source == "callback")).one()
    case_page = client.get(f"/support/cases/{case.id}").get_data(as_text=True)
    assert '<option value="late">' in case_page
    tasks = client.get("/support/cases/callbacks").get_data(as_text=True)
    assert "+7 912 345-67-89" in tasks
    assert f"/support/customers/{case.customer_id}" in tasks
    assert client.get("/help/").get_data(as_text=True).count("Where is my order?") == 1


def test_response_times_read_in_plain_words(app):
    """Seconds become words a customer reads at a glance, rounded to the minute."""
    from app.web.help import plain_duration

    with app.test_request_context("/help/"):
        assert plain_duration(30) == "under a minute"
        assert plain_duration(25 * 60 + 10) == "25 minutes"
        assert plain_duration(4 * 3600) == "4 h"
        assert plain_duration(3 * 3600 + 10 * 60) == "3 h 10 min"
        assert plain_duration(2 * 86400 + 4 * 3600) == "2 days 4 h"
        assert plain_duration(86400) == "1 day"
