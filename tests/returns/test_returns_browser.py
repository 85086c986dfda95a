"""A broken kettle on a 390 x 844 phone in headless Chromium (P1, X1, X2): the customer opens
the tracking link of a delivered order, returns the defective kettle with a photo, sees
"approved" with the reason and the bonus at once; the evening's planning puts the exchange
on a route and the open page shows the visit's window without a reload; the courier's phone
then shows the exchange stop. Screenshots go to test-artifacts/ (docs/screenshots/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import demo
from app.catalog.models import Product
from app.customers.models import Address, Customer
from app.db import make_engine, make_session_factory, session_scope
from app.fleet.models import Courier, Depot
from app.links import tracking_token
from app.orders import services as order_services
from app.orders.models import Order, OrderItem
from app.planning.models import Plan, PlanRoute, PlanVisit, Stop
from returns.models import ReturnCase
from tests.browser import ARGS, ARTEFACTS, DEMO_NOON, chromium_or_skip, demo_app, live_server
from tests.planning.test_courier_offline_browser import one_pixel_png, publish_the_demo_day

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CUSTOMER = next(d for d in demo.LOGINS if d.role == "customer")
COURIER = next(d for d in demo.LOGINS if d.role == "courier")
PHONE = {"width": 390, "height": 844}
DELIVERED_AT = DEMO_NOON - timedelta(days=2)


def a_delivered_kettle(session) -> None:  # type: ignore[no-untyped-def]
    """The demo customer's order of a kettle, delivered two days ago."""
    customer = session.scalar(select(Customer).where(Customer.email == CUSTOMER.email))
    depot = session.scalars(select(Depot)).first()
    address = session.scalar(select(Address).where(Address.customer_id == customer.id))
    if address is None:
        address = Address(
            customer=customer,
            line="Tverskaya 7, flat 12",
            lat=55.757,
            lon=37.612,
            coordinate_source="given",
        )
    kettle = session.scalar(select(Product).where(Product.sku == "KET-200"))
    order = Order(
        number="RT-KETTLE",
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
    order_services.mark_delivered(session, order_id=order.id, now=DELIVERED_AT)


@pytest.fixture
def shop(tmp_path, clock):  # type: ignore[no-untyped-def]
    clock(DEMO_NOON, tick=True)
    return demo_app(tmp_path, time_limit_s=3, change=a_delivered_kettle)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTEFACTS / f"customer-{name}.png", full_page=True)


def the_evening_wave(app) -> int:  # type: ignore[no-untyped-def]
    """Tomorrow planned and published; the courier signing in as COURIER is given the route
    with the exchange stop. Returns that stop's id."""
    engine = make_engine(app.config["DATABASE_URL"])
    with session_scope(make_session_factory(engine)) as session:
        publish_the_demo_day(session)
        stop = session.scalars(select(Stop).where(Stop.return_case_id.is_not(None))).one()
        plan = session.scalars(select(Plan).where(Plan.published_at.is_not(None))).one()
        visit = session.scalar(
            select(PlanVisit)
            .join(PlanRoute, PlanVisit.route_id == PlanRoute.id)
            .where(PlanRoute.plan_id == plan.id, PlanVisit.stop_id == stop.id)
        )
        assert visit is not None, "the exchange stop is on a route of the published plan"
        theirs = session.get_one(Courier, visit.route.courier_id)
        signing_in = session.scalars(select(Courier).where(Courier.user_id.is_not(None))).first()
        if signing_in.id != theirs.id:
            user_id = signing_in.user_id
            signing_in.user_id = None
            session.flush()
            theirs.user_id = user_id
        stop_id = stop.id
    engine.dispose()
    return stop_id


def test_a_broken_kettle_returned_from_the_tracking_link_comes_back_as_an_exchange(shop):
    from playwright.sync_api import expect, sync_playwright

    executable = chromium_or_skip()
    engine = make_engine(shop.config["DATABASE_URL"])
    with session_scope(make_session_factory(engine)) as session:
        order_id = session.scalar(select(Order.id).where(Order.number == "RT-KETTLE"))
    engine.dispose()
    link = f"/t/{tracking_token(shop.config['SECRET_KEY'], order_id)}"
    with live_server(shop) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        context = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB"
        )
        context.clock.install(time=DEMO_NOON)
        page = context.new_page()
        page.on("pageerror", lambda e: print("pageerror:", e))

        # The tracking link, no sign-in.
        page.goto(base + link)
        expect(page.get_by_test_id("order-status")).to_have_text("delivered")
        expect(page.get_by_test_id("order-items")).to_contain_text("Electric kettle 1.7 l")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "1-tracking-delivered")

        # The return: one kettle, defective, a photo, a new one at the door.
        page.get_by_test_id("start-return").click()
        page.get_by_label("It does not work (defective)").check()
        page.fill("#description", "It stopped heating on the second day.")
        page.get_by_test_id("photos").set_input_files(
            {"name": "kettle.png", "mimeType": "image/png", "buffer": one_pixel_png()}
        )
        expect(page.get_by_label("A new one, swapped at the door")).to_be_checked()
        for target in (page.get_by_test_id("send-return"), page.locator(".tracking-choice").first):
            box = target.bounding_box()
            assert box is not None
            assert box["height"] >= 48
        shot(page, "2-return-form")
        page.get_by_test_id("send-return").click()

        # Approved at once, with the reason and the bonus.
        expect(page.get_by_test_id("case-status")).to_have_text("approved")
        expect(page.get_by_test_id("case-decision")).to_contain_text(
            "Approved at once, and we are sorry."
        )
        expect(page.get_by_test_id("case-bonus")).to_contain_text(
            "349 bonus points are on your account."
        )
        expect(page.get_by_test_id("live-expected")).to_contain_text(
            "The courier's visit is planned the evening before"
        )
        shot(page, "3-return-approved")

        # The evening's wave; the open page learns the visit's window by itself.
        stop_id = the_evening_wave(shop)
        page.clock.fast_forward(31_000)
        expect(page.get_by_test_id("live-expected")).to_contain_text(
            "The courier now expects to come", timeout=10_000
        )
        shot(page, "4-exchange-window")

        # The courier's phone shows the exchange stop.
        courier = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB"
        )
        courier.clock.install(time=DEMO_NOON)
        phone = courier.new_page()
        phone.goto(base + "/login")
        phone.fill("input[name=email]", COURIER.email)
        phone.fill("input[name=password]", COURIER.password)
        phone.click("button[type=submit]")
        phone.goto(base + "/courier/")
        card = phone.locator(f"#courier-app #stop-{stop_id}")
        expect(card.get_by_test_id("stop-kind")).to_have_text("Exchange: new for old in one visit")
        expect(card).to_contain_text("Take back: 1 × Electric kettle 1.7 l")
        expect(card).to_contain_text("Hand over: 1 × Electric kettle 1.7 l")
        card.scroll_into_view_if_needed()
        phone.screenshot(path=ARTEFACTS / "courier-exchange-stop.png", full_page=False)
        browser.close()

    with session_scope(make_session_factory(make_engine(shop.config["DATABASE_URL"]))) as session:
        case = session.scalars(select(ReturnCase)).one()
        assert (case.status, case.bonus_points, len(case.photos)) == ("approved", 349, 1)
