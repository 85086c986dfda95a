"""A one-star delivery on a 390 x 844 phone in headless Chromium (Q1): the customer opens
the tracking link of a delivered order, rates it 1 with a comment through five buttons at
least 48 px tall, and is told when support will answer; support signs in, sees the case due
on the desk, finds the customer by the order number, sees the rating and its case in their
history, opens the case and answers; the customer's page then shows the answer. Screenshots
go to test-artifacts/ (docs/screenshots/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import demo
from app.catalog.models import Product
from app.customers.models import Address, Customer
from app.db import make_engine, make_session_factory, session_scope
from app.fleet.models import Depot
from app.links import tracking_token
from app.orders.models import Order, OrderItem
from app.planning import stops as stop_service
from app.planning.enums import StopOutcome
from app.quality.models import SupportCase
from tests.browser import ARGS, ARTEFACTS, DEMO_NOON, chromium_or_skip, demo_app, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CUSTOMER = next(d for d in demo.LOGINS if d.role == "customer")
SUPPORT = next(d for d in demo.LOGINS if d.role == "support")
PHONE = {"width": 390, "height": 844}
DELIVERED_AT = DEMO_NOON - timedelta(hours=3)


def a_delivered_kettle(session) -> None:  # type: ignore[no-untyped-def]
    """The demo customer's kettle, its courier reported it delivered three hours ago."""
    customer = session.scalar(select(Customer).where(Customer.email == CUSTOMER.email))
    depot = session.scalars(select(Depot)).first()
    address = session.scalar(select(Address).where(Address.customer_id == customer.id))
    kettle = session.scalar(select(Product).where(Product.sku == "KET-200"))
    order = Order(
        number="RT-RATE-1",
        customer=customer,
        address=address,
        depot=depot,
        delivery_day=DELIVERED_AT.date(),
        window_start_at=DELIVERED_AT - timedelta(hours=2),
        window_end_at=DELIVERED_AT,
        total_minor=kettle.price_minor,
    )
    order.items = [OrderItem(product=kettle, quantity=1, unit_price_minor=kettle.price_minor)]
    session.add(order)
    session.flush()
    stop = stop_service.delivery_stop(session, order)
    stop_service.complete(session, stop, StopOutcome.DELIVERED, at=DELIVERED_AT, courier_id=None)


@pytest.fixture
def shop(tmp_path, clock):  # type: ignore[no-untyped-def]
    """The demo shop at DEMO_NOON (the clock ticks) with the delivered kettle."""
    clock(DEMO_NOON, tick=True)
    return demo_app(tmp_path, time_limit_s=3, change=a_delivered_kettle)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTEFACTS / f"feedback-{name}.png", full_page=True)


def test_a_one_star_delivery_opens_a_case_that_support_answers(shop):
    """Rate 1 at phone size → a case opens with its promise → support answers it from the
    desk → the customer's page shows the answer."""
    from playwright.sync_api import expect, sync_playwright

    executable = chromium_or_skip()
    engine = make_engine(shop.config["DATABASE_URL"])
    with session_scope(make_session_factory(engine)) as session:
        order_id = session.scalar(select(Order.id).where(Order.number == "RT-RATE-1"))
    engine.dispose()
    link = f"/t/{tracking_token(shop.config['SECRET_KEY'], order_id)}"
    with live_server(shop) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
        phone.clock.install(time=DEMO_NOON)
        page = phone.new_page()
        page.on("pageerror", lambda e: print("pageerror:", e))

        # The delivered order asks how it went: five buttons a thumb can hit.
        page.goto(base + link)
        expect(page.get_by_test_id("feedback")).to_contain_text("How was your delivery?")
        for n in range(1, 6):
            box = page.get_by_test_id(f"score-{n}").bounding_box()
            assert box is not None
            assert box["height"] >= 48
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_test_id("score-1").click()
        page.get_by_test_id("rating-comment").fill("The box was crushed and the kettle dented.")
        shot(page, "1-rating")
        page.get_by_test_id("send-rating").click()

        # Told when support will answer; the NPS question follows.
        expect(page.get_by_test_id("rated")).to_contain_text("1 of 5")
        expect(page.get_by_test_id("support-promise")).to_contain_text(
            "A person from our support team will answer you by"
        )
        expect(page.get_by_test_id("nps-form")).to_be_visible()
        shot(page, "2-promise")

        # Support finds the case on the desk and answers it.
        desk = browser.new_context(locale="en-GB")
        desk.clock.install(time=DEMO_NOON)
        staff = desk.new_page()
        staff.goto(base + "/login")
        staff.fill("input[name=email]", SUPPORT.email)
        staff.fill("input[name=password]", SUPPORT.password)
        staff.click("button[type=submit]")
        # The desk has it as due.
        staff.goto(base + "/support/")
        staff.get_by_test_id("support-cases-link").click()
        row = staff.get_by_test_id("case-row").filter(has_text="RT-RATE-1")
        expect(row.get_by_test_id("due")).to_have_text("due in 23 h")
        # By the order number the customer gives: their page, their whole history with it.
        staff.goto(base + "/support/")
        staff.fill("input[name=q]", "rt-rate-1")
        staff.keyboard.press("Enter")
        found = staff.get_by_test_id("customer").filter(has_text=CUSTOMER.name)
        expect(found.get_by_test_id("matched-order")).to_have_text("order RT-RATE-1")
        found.get_by_role("link", name=CUSTOMER.name).click()
        expect(staff.get_by_test_id("history")).to_contain_text(
            "The box was crushed and the kettle dented."
        )
        staff.screenshot(path=ARTEFACTS / "feedback-3-support-history.png", full_page=True)
        staff.locator("[data-testid=history] a[href*='/support/cases/']").first.click()
        expect(staff.get_by_test_id("case-customer")).to_have_text(CUSTOMER.name)
        expect(staff.get_by_test_id("case-rating")).to_contain_text(
            "The box was crushed and the kettle dented."
        )
        staff.get_by_test_id("text").fill("We are sorry. A new kettle comes tomorrow morning.")
        staff.get_by_test_id("send-answer").click()
        expect(staff.get_by_test_id("case-status")).to_have_text("answered")
        staff.screenshot(path=ARTEFACTS / "feedback-4-support-answered.png", full_page=True)

        # The customer's page has the answer.
        page.reload()
        expect(page.get_by_test_id("support-answer")).to_contain_text(
            "A new kettle comes tomorrow morning."
        )
        shot(page, "5-answer")
        browser.close()

    with session_scope(make_session_factory(make_engine(shop.config["DATABASE_URL"]))) as session:
        case = session.scalars(select(SupportCase)).one()
        assert (case.source, case.status) == ("rating", "answered")
