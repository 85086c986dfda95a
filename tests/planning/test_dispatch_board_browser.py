"""The real board in headless Chromium: sign in, plan the demo day, read the map."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import demo
from app.db import make_engine, make_session_factory, session_scope
from app.planning.models import Plan, PlanRoute, PlanUnassigned
from tests.browser import ARGS, ARTEFACTS, DEMO_NOON, chromium_or_skip, demo_app, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def board_app(tmp_path, clock):  # type: ignore[no-untyped-def]
    """The real app with the demo day, solving in its own thread, the clock running from noon
    the day before."""
    clock(DEMO_NOON, tick=True)
    return demo_app(tmp_path, time_limit_s=3)


def test_dispatcher_plans_the_demo_day_and_sees_every_route(board_app):
    from playwright.sync_api import expect, sync_playwright

    executable = chromium_or_skip()
    ARTEFACTS.mkdir(exist_ok=True)
    login = next(d for d in demo.LOGINS if d.role == "dispatcher")
    with live_server(board_app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(base + "/login")
        page.fill("input[name=email]", login.email)
        page.fill("input[name=password]", login.password)
        page.click("button[type=submit]")
        page.get_by_role("link", name="Dispatch").count()  # the nav is there once signed in
        page.goto(base + "/dispatcher/")
        page.screenshot(path=ARTEFACTS / "dispatch-board-day.png", full_page=True)
        page.get_by_test_id("plan-day").click()
        expect(page.get_by_test_id("progress")).to_be_visible()
        page.screenshot(path=ARTEFACTS / "dispatch-board-solving.png")
        expect(page.get_by_test_id("map")).to_be_visible(timeout=30_000)
        unassigned_items = page.get_by_test_id("unassigned").locator("li").count()
        rows = page.get_by_test_id("route-row").count()  # in the page as served
        # The map draws its lines from script after load: wait for them, do not count early.
        expect(page.locator("path.route-line")).to_have_count(rows, timeout=15_000)
        lines = page.locator("path.route-line").count()
        page.screenshot(path=ARTEFACTS / "dispatch-board-plan.png", full_page=True)

        # Move the first stop of the earliest route to the end of the route that ends last.
        order_id, shift_id, position = _a_move_that_breaks_a_window(board_app)
        page.get_by_test_id("move-order").select_option(str(order_id))
        page.get_by_test_id("move-shift").select_option(str(shift_id))
        page.get_by_test_id("move-position").fill(str(position))
        page.get_by_test_id("move-position").dispatch_event("change")
        # The stop is late there (the move may break the route's break or shift end too).
        violation = page.get_by_test_id("violation").filter(has_text="late by").first
        expect(violation).to_be_visible(timeout=15_000)
        expect(page.get_by_test_id("move-reason")).to_be_visible()
        page.get_by_test_id("move-card").screenshot(path=ARTEFACTS / "dispatch-board-move.png")
        message = violation.inner_text()
        page.get_by_test_id("move-reason").fill("Customer asked for a late drop")
        page.get_by_test_id("move-save").click()
        expect(page.get_by_test_id("changes")).to_contain_text("Customer asked for a late drop")
        page.screenshot(path=ARTEFACTS / "dispatch-board-after-move.png", full_page=True)
        browser.close()

    with session_scope(make_session_factory(make_engine(board_app.config["DATABASE_URL"]))) as s:
        plan = s.scalars(select(Plan)).one()
        routes = s.scalar(select(func.count()).select_from(PlanRoute))
        left_out = s.scalar(select(func.count()).select_from(PlanUnassigned))
    assert plan.status == "ready"
    assert lines == rows == routes > 0
    assert unassigned_items == left_out
    assert " min at stop " in message


def _a_move_that_breaks_a_window(app) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with session_scope(make_session_factory(make_engine(app.config["DATABASE_URL"]))) as s:
        routes = s.scalars(select(PlanRoute)).all()
        first = min(routes, key=lambda r: r.start_at)
        last = max((r for r in routes if r is not first), key=lambda r: r.end_at)
        return first.visits[0].stop.id, last.shift_id, len(last.visits) + 1
