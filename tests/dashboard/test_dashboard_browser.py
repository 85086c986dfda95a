"""The service dashboard in headless Chromium (Q2): a dispatcher opens it from the menu, sees
each figure with its chart beside the company's own figure, and a point of the on-time chart
opens the list of that week, whose rows add up to the figure. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app import demo
from app.customers.models import Address, Customer
from app.dashboard import figures
from app.db import make_engine, make_session_factory, session_scope
from app.fleet.models import Depot
from tests.browser import ARGS, ARTEFACTS, DEMO_NOON, chromium_or_skip, demo_app, live_server
from tests.dashboard.test_dashboard_figures import _month

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DISPATCHER = next(d for d in demo.LOGINS if d.role == "dispatcher")


def history(session) -> None:  # type: ignore[no-untyped-def]
    """Five weeks of rows in the demo depot, up to the demo's today."""
    customer = session.scalar(select(Customer).order_by(Customer.id).limit(1))
    world = SimpleNamespace(
        depot=session.scalar(select(Depot).order_by(Depot.id).limit(1)),
        customer=customer,
        address=session.scalar(select(Address).where(Address.customer_id == customer.id)),
    )
    _month(session, world, 3, today=DEMO_NOON.date())


@pytest.fixture
def shop(tmp_path, clock):  # type: ignore[no-untyped-def]
    clock(DEMO_NOON, tick=True)
    return demo_app(tmp_path, time_limit_s=3, change=history)


def test_a_dispatcher_reads_the_customers_figures_and_opens_the_list_behind_one(shop):
    from playwright.sync_api import expect, sync_playwright

    executable = chromium_or_skip()
    engine = make_engine(shop.config["DATABASE_URL"])
    with session_scope(make_session_factory(engine)) as session:
        depot_id = session.scalar(select(Depot.id).order_by(Depot.id).limit(1))
        board = figures.dashboard(
            session, now=DEMO_NOON, depot_id=depot_id, shop_timezone="Europe/Moscow", weeks=12
        )
    engine.dispose()
    last_whole = board.weeks[-2]
    assert last_whole.on_time.total > 0
    with live_server(shop) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.clock.install(time=DEMO_NOON)
        page = context.new_page()
        page.goto(base + "/login")
        page.fill("input[name=email]", DISPATCHER.email)
        page.fill("input[name=password]", DISPATCHER.password)
        page.click("button[type=submit]")
        page.get_by_test_id("dashboard-link").click()
        page.get_by_label("Depot").select_option(str(depot_id))
        page.get_by_role("button", name="Show").click()

        for figure in ("on_time", "stops_completed", "first_attempt", "plans_feasible"):
            expect(page.get_by_test_id(f"chart-{figure}").locator("polyline").first).to_be_visible()
        share = 100 * last_whole.on_time.hit / last_whole.on_time.total
        expect(page.get_by_test_id("figure-on_time")).to_have_text(f"{share:.1f}\u00a0%")
        expect(page.get_by_test_id("detail-on_time")).to_have_text(
            f"{last_whole.on_time.hit} of {last_whole.on_time.total}"
        )
        expect(page.get_by_test_id("gap")).to_contain_text("The gap is")
        ARTEFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTEFACTS / "dashboard-1.png", full_page=True)

        # The point of the last whole week opens its list: the misses first, adding up.
        week = last_whole.start.isoformat()
        page.locator(f'[data-testid="chart-on_time"] a[href*="/{week}"]').last.click()
        expect(page).to_have_url(re.compile(rf"/dashboard/on_time/{week}\?depot={depot_id}"))
        expect(page.get_by_test_id("list-total")).to_have_text(
            f"{last_whole.on_time.total} rows counted"
        )
        counted = page.get_by_test_id("counted").all_inner_texts()
        assert counted.count("good") == last_whole.on_time.hit
        assert counted[0] == "missed"  # what needs looking at comes first
        page.screenshot(path=ARTEFACTS / "dashboard-2-list.png", full_page=True)
        assert last_whole.start + timedelta(days=7) == board.weeks[-1].start
        browser.close()
