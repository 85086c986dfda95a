"""Help without a queue on a 390 x 844 phone in headless Chromium (P3, issue 15's
acceptance): the help page shows each contact channel with its hours and the response times
computed from the cases support answered; the signed-in demo customer asks to be called back
at 18:30 today through controls at least 48 px tall and is told when we call; support signs
in and sees the callback as a task, due at its slot, with the customer's history one click
away. Screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app import demo
from app.customers.models import Customer
from app.db import make_engine, make_session_factory, session_scope
from app.help import services as help_services
from app.messages import say
from app.quality.models import SupportCase
from tests.browser import ARGS, ARTEFACTS, DEMO_NOON, chromium_or_skip, demo_app, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CUSTOMER = next(d for d in demo.LOGINS if d.role == "customer")
SUPPORT = next(d for d in demo.LOGINS if d.role == "support")
PHONE = {"width": 390, "height": 844}
MSK = ZoneInfo("Europe/Moscow")  # support's hours are read here (HelpRules' default)
SLOT = datetime.combine(DEMO_NOON.astimezone(MSK).date(), datetime.min.time(), MSK).replace(
    hour=18, minute=30
)
# Answered messages and callbacks of the last weeks: (days ago, minutes to answer).
MESSAGES = [(1, 35), (3, 80), (6, 20), (9, 240), (12, 55), (40, 5)]  # the last is too old
CALLBACKS = [(2, 10), (5, 30)]


def answered_cases(session) -> None:  # type: ignore[no-untyped-def]
    """The demo customer's answered messages and callbacks, as support answered them."""
    customer = session.scalar(select(Customer).where(Customer.email == CUSTOMER.email))
    for source, answers in (("contact", MESSAGES), ("callback", CALLBACKS)):
        for days, minutes in answers:
            answered_at = DEMO_NOON - timedelta(days=days)
            session.add(
                SupportCase(
                    customer_id=customer.id,
                    source=source,
                    summary=say("Wrote to us: %(text)s", text="Where is my order?"),
                    opened_at=answered_at - timedelta(minutes=minutes),
                    respond_by=answered_at + timedelta(hours=20),
                    status="answered",
                    answered_at=answered_at,
                    answer="It comes tomorrow.",
                    question_tag="where-is-my-order" if source == "contact" else None,
                )
            )
    help_services.save_faq(
        session,
        tag="where-is-my-order",
        question_en="Where is my order?",
        answer_en="Open the tracking link from your confirmation: it shows where the courier is.",
        question_ru="",
        answer_ru="",
        published=True,
        now=DEMO_NOON,
    )


@pytest.fixture
def shop(tmp_path, clock):  # type: ignore[no-untyped-def]
    """The demo shop at DEMO_NOON (12:00 in Moscow; the clock ticks) with answered cases."""
    clock(DEMO_NOON, tick=True)
    return demo_app(tmp_path, time_limit_s=3, change=answered_cases)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTEFACTS / f"help-{name}.png", full_page=True)


def test_a_customer_books_a_callback_at_1830_that_support_sees_as_a_task(shop):
    """Response times on the page equal the ones computed from the cases → the customer
    books 18:30 → support's callbacks list shows it due at 18:30 with the history link."""
    from playwright.sync_api import expect, sync_playwright

    from app.web.help import plain_duration

    executable = chromium_or_skip()
    engine = make_engine(shop.config["DATABASE_URL"])
    with session_scope(make_session_factory(engine)) as session:
        times = {t.channel: t for t in help_services.response_times(session, now=DEMO_NOON)}
    engine.dispose()
    assert times["contact"].answered == 5  # the 40-day-old answer is left out
    assert times["contact"].median_s == 55 * 60
    with live_server(shop) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
        phone.clock.install(time=DEMO_NOON)
        page = phone.new_page()
        page.on("pageerror", lambda e: print("pageerror:", e))
        page.goto(base + "/login")
        page.fill("input[name=email]", CUSTOMER.email)
        page.fill("input[name=password]", CUSTOMER.password)
        page.click("button[type=submit]")

        # Every channel with its hours and the times computed from the cases.
        page.goto(base + "/help/")
        for code in ("contact", "callback"):
            card = page.get_by_test_id(f"channel-{code}")
            expect(card.get_by_test_id("channel-hours")).to_contain_text("09:00–21:00")
            expect(card.get_by_test_id("channel-times")).to_contain_text(
                f"Half of the answers within {plain_duration(times[code].median_s)}; "
                f"nine in ten within {plain_duration(times[code].p90_s)}."
            )
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        expect(page.get_by_test_id("faq-entry")).to_contain_text("Where is my order?")
        for test_id in ("faq-search", "callback-slot", "callback-phone", "send-callback"):
            box = page.get_by_test_id(test_id).bounding_box()
            assert box is not None
            assert box["height"] >= 48, test_id
        question = page.get_by_test_id("faq-entry").locator("summary").bounding_box()
        assert question is not None
        assert question["height"] >= 48
        shot(page, "1-channels")

        # 18:30 today, on the customer's number.
        page.get_by_test_id("callback-slot").select_option(SLOT.astimezone(UTC).isoformat())
        expect(page.get_by_test_id("callback-phone")).not_to_have_value("")  # theirs, filled in
        page.get_by_test_id("callback-phone").fill("+7 912 345-67-89")
        page.get_by_test_id("callback-note").fill("About tomorrow's delivery.")
        page.get_by_test_id("send-callback").click()
        expect(page.get_by_role("status")).to_contain_text(
            "We will call you on +7 912 345-67-89 between"
        )
        expect(page.get_by_role("status")).to_contain_text("18:30 and 19:00")
        shot(page, "2-booked")

        # Support sees it as a task, due at the slot, with the customer's history.
        desk = browser.new_context(locale="en-GB")
        desk.clock.install(time=DEMO_NOON)
        staff = desk.new_page()
        staff.goto(base + "/login")
        staff.fill("input[name=email]", SUPPORT.email)
        staff.fill("input[name=password]", SUPPORT.password)
        staff.click("button[type=submit]")
        staff.goto(base + "/support/cases/")
        staff.get_by_test_id("callbacks-link").click()
        task = staff.get_by_test_id("callback-task")
        expect(task).to_have_count(1)
        expect(task).to_contain_text("18:30")
        expect(task.get_by_test_id("due")).to_have_text("due in 6 h")
        expect(task.get_by_test_id("callback-phone")).to_have_text("+7 912 345-67-89")
        staff.screenshot(path=ARTEFACTS / "help-3-support-callbacks.png", full_page=True)
        task.get_by_test_id("callback-history").click()
        expect(staff.locator("h1")).to_contain_text(CUSTOMER.name)
        browser.close()

    with session_scope(make_session_factory(make_engine(shop.config["DATABASE_URL"]))) as session:
        case = session.scalars(select(SupportCase).where(SupportCase.status == "open")).one()
        assert (case.source, case.respond_by) == ("callback", SLOT.astimezone(UTC))
        customer = session.get_one(Customer, case.customer_id)
        assert customer.email == CUSTOMER.email
