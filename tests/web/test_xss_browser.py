"""Hostile text in every field the API takes is shown as text on every page, in Chromium.

Orders, customers, couriers, vehicles, a depot, people's names and a points adjustment carry
markup, script tags, ``javascript:`` URLs and ``${...}`` template strings. The day is planned
and published so they reach the dispatcher's map (pop-ups too), the route table, the list of
orders not planned, the courier's route, the customer's portal, the support and admin pages and
the 403 page. Each page is opened twice: once with the Content-Security-Policy bypassed, so
only rendering as text can stop the script, and once with it enforced, where any attempt shows
up as a CSP violation in the console.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app import demo
from app.accounts import services as account_services
from app.customers.models import Customer
from app.db import make_engine, make_session_factory, session_scope
from app.fleet.models import Courier, Depot
from tests.browser import ARGS, ARTEFACTS, DEMO_NOON, chromium_or_skip, demo_app, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def hostile(n: int, label: str = "") -> str:
    """Every kind of payload, each calling xss(n) if it ever runs."""
    return (
        f'{label}"><img src=x onerror=xss({n})> <script>xss({n})</script> '
        f"javascript:xss({n}) ${{xss({n})}} <svg onload=xss({n})>"
    )


# Fields with short length limits get the payload that fits.
REGISTRATION = "<svg onload=xss(20)>"  # 20 characters, the limit
REGISTRATION_SHOWN = REGISTRATION.upper()  # registrations are kept in capitals: XSS(20)
CUSTOMER_PHONE = '"><img src=x onerror=xss(21)>'
COURIER_PHONE = "javascript:xss(22)//<b>"
PASSWORD = "hostile-pass-1"

DEPOT_NAME = hostile(1, "Depot ")
DEPOT_ADDRESS = hostile(2, "Street ")
CUSTOMER_NAME = hostile(3, "Cust ")
ADDRESS_LINE = hostile(4, "Addr ")
FAR_ADDRESS_LINE = hostile(5, "Far ")
INSTRUCTIONS = hostile(6, "Ring ")
EXTERNAL_REF = '"><img src=x onerror=xss(7)>${xss(7)}'
NOTES = hostile(8, "Note ")
COURIER_NAME = hostile(9, "Courier ")
SKILL = "<script>xss(10)</script>"
POINTS_REASON = hostile(11, "Sorry ")
COURIER_USER_NAME = hostile(12, "CourierUser ")
CUSTOMER_USER_NAME = hostile(13, "CustomerUser ")

CATCH_SCRIPT = """
window.__xss = [];
window.xss = window.XSS = n => window.__xss.push(n);
"""


@dataclass
class World:
    base_url: str = ""
    day: str = ""
    customer_id: int = 0
    courier_email: str = "hostile-courier@example.org"
    customer_email: str = "hostile-customer@example.org"
    pages: list[str] = field(default_factory=list)


@pytest.fixture
def hostile_app(tmp_path, clock):  # type: ignore[no-untyped-def]
    """The real app with the demo data and a depot with a hostile name and address, the clock
    running from noon the day before the demo day."""
    clock(DEMO_NOON, tick=True)

    def hostile_depot(session) -> None:  # type: ignore[no-untyped-def]
        depot = session.scalars(select(Depot)).one()
        depot.name = DEPOT_NAME
        depot.address = DEPOT_ADDRESS

    return demo_app(tmp_path, time_limit_s=2, change=hostile_depot)


def _load_hostile_day(app) -> World:  # type: ignore[no-untyped-def]
    """Everything through the API as the shop and dispatch would send it; people's accounts
    (which the API does not create) through the account services."""
    client = app.test_client()
    login = next(d for d in demo.LOGINS if d.role == "admin")  # may do all of it
    token = client.post(
        "/api/v1/auth/tokens", json={"email": login.email, "password": login.password}
    )
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}

    def post(path: str, body: dict, **extra: str) -> dict:  # type: ignore[type-arg]
        response = client.post(path, json=body, headers=headers | extra)
        assert response.status_code == 201, (path, response.get_json())
        return response.get_json()  # type: ignore[no-any-return]

    tz = ZoneInfo(demo.TIMEZONE)
    day = (DEMO_NOON.astimezone(tz) + timedelta(days=2)).date()  # every cut-off is ahead
    engine = make_engine(app.config["DATABASE_URL"])
    with session_scope(make_session_factory(engine)) as session:
        depot = session.scalars(select(Depot)).one()
        depot_id, lat, lon = depot.id, depot.lat, depot.lon

    def at(hour: int) -> str:
        return datetime.combine(day, time(hour), tzinfo=tz).isoformat()

    customer = post("/api/v1/customers", {"name": CUSTOMER_NAME, "phone": CUSTOMER_PHONE})
    vehicle = post(
        "/api/v1/vehicles",
        {"depot_id": depot_id, "registration": REGISTRATION, "type": "van", "capacity_units": 50},
    )
    # Skills are codes (short words): a hostile one is refused, never stored.
    hostile_skill = client.post(
        "/api/v1/couriers",
        json={
            "depot_id": depot_id,
            "name": COURIER_NAME,
            "phone": COURIER_PHONE,
            "skills": [SKILL],
        },
        headers=headers,
    )
    assert hostile_skill.status_code == 422
    assert "skills" in hostile_skill.get_json()["errors"]
    courier = post(
        "/api/v1/couriers",
        {"depot_id": depot_id, "name": COURIER_NAME, "phone": COURIER_PHONE, "skills": ["heavy"]},
    )
    post(
        "/api/v1/shifts",
        {
            "courier_id": courier["id"],
            "vehicle_id": vehicle["id"],
            "starts_at": at(7),
            "ends_at": at(20),
        },
    )
    order = {
        "customer_id": customer["id"],
        "depot_id": depot_id,
        "delivery_day": day.isoformat(),
        "items": [{"sku": "KET-200", "quantity": 1}],
    }
    post(
        "/api/v1/orders",
        order
        | {
            "window_start_at": at(10),
            "window_end_at": at(12),
            "address": {
                "line": ADDRESS_LINE,
                "lat": lat + 0.01,
                "lon": lon + 0.01,
                "instructions": INSTRUCTIONS,
            },
            "external_ref": EXTERNAL_REF,
            "notes": NOTES,
        },
    )
    post(  # St Petersburg: no courier of a Moscow depot reaches it, so it stays unplanned
        "/api/v1/orders",
        order
        | {
            "window_start_at": at(8),
            "window_end_at": at(10),
            "address": {"line": FAR_ADDRESS_LINE, "lat": 59.9343, "lon": 30.3351},
            "notes": NOTES,
        },
    )
    post(
        f"/api/v1/customers/{customer['id']}/points/adjustments",
        {"points": 25, "reason": POINTS_REASON},
        **{"Idempotency-Key": "xss-test-adjustment"},
    )
    world = World(day=day.isoformat(), customer_id=customer["id"])
    with session_scope(make_session_factory(engine)) as session:
        courier_user = account_services.create_user(
            session,
            email=world.courier_email,
            name=COURIER_USER_NAME,
            role="courier",
            password=PASSWORD,
        )
        customer_user = account_services.create_user(
            session,
            email=world.customer_email,
            name=CUSTOMER_USER_NAME,
            role="customer",
            password=PASSWORD,
        )
        session.get_one(Courier, courier["id"]).user_id = courier_user.id
        session.get_one(Customer, customer["id"]).user_id = customer_user.id
    engine.dispose()
    return world


class Watch:
    """What a browser context saw: scripts that ran, dialogs, CSP violations, page errors."""

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        self.dialogs: list[str] = []
        self.violations: list[str] = []
        self.errors: list[str] = []
        context.add_init_script(CATCH_SCRIPT)
        context.on("page", self.attach)

    def attach(self, page) -> None:  # type: ignore[no-untyped-def]
        def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def on_console(self, message) -> None:  # type: ignore[no-untyped-def]
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(message.text)

    def assert_nothing_ran(self, page) -> None:  # type: ignore[no-untyped-def]
        ran = page.evaluate("window.__xss")
        injected = page.locator("img[src='x'], body script:not([src]):not([type])").count()
        assert ran == [], f"hostile script ran on {page.url}: xss{ran}"
        assert injected == 0, f"hostile markup became elements on {page.url}"
        assert self.dialogs == [], self.dialogs
        assert self.errors == [], self.errors


def sign_in(browser, world: World, email: str, password: str, *, bypass_csp: bool):  # type: ignore[no-untyped-def]
    context = browser.new_context(bypass_csp=bypass_csp, viewport={"width": 1440, "height": 1000})
    watch = Watch(context)
    page = context.new_page()
    page.goto(world.base_url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page, watch


def visit(page, watch: Watch, world: World, path: str, *texts: str) -> None:  # type: ignore[no-untyped-def]
    """Open a page, check each hostile text is shown as text, and that nothing ran."""
    from playwright.sync_api import expect

    page.goto(world.base_url + path)
    for text in texts:
        expect(page.locator("body")).to_contain_text(text)
    watch.assert_nothing_ran(page)
    world.pages.append(path)


def demo_login(role: str) -> tuple[str, str]:
    login = next(d for d in demo.LOGINS if d.role == role)
    return login.email, login.password


def plan_and_publish(page, watch: Watch, world: World) -> str:  # type: ignore[no-untyped-def]
    """The dispatcher plans the hostile day, reads the map's pop-ups, and publishes."""
    from playwright.sync_api import expect

    visit(page, watch, world, f"/dispatcher/?day={world.day}", DEPOT_NAME, DEPOT_ADDRESS)
    expect(page.locator("body")).to_contain_text(COURIER_NAME)
    expect(page.locator("body")).to_contain_text(REGISTRATION_SHOWN)
    page.get_by_test_id("plan-day").click()
    expect(page.get_by_test_id("map")).to_be_visible(timeout=60_000)
    plan_path = page.url.removeprefix(world.base_url)
    world.pages.append(plan_path)
    expect(page.get_by_test_id("unassigned")).to_contain_text(FAR_ADDRESS_LINE)
    expect(page.get_by_test_id("routes")).to_contain_text(COURIER_NAME)
    expect(page.get_by_test_id("routes")).to_contain_text(REGISTRATION_SHOWN)
    expect(page.locator("h1")).to_contain_text(DEPOT_NAME)

    popup = page.locator(".leaflet-popup-content")
    stops = page.locator(".leaflet-marker-icon .stop-label")
    assert stops.count() == 1
    stops.first.click()
    expect(popup).to_contain_text(ADDRESS_LINE)
    expect(popup).to_contain_text(COURIER_NAME)
    # Far apart on one screen the markers overlap: a click event on each opens its pop-up.
    page.locator(".leaflet-marker-icon[title=Depot]").dispatch_event("click")
    expect(popup.filter(has_text=DEPOT_NAME)).to_be_visible()
    page.locator("path.unassigned-marker").dispatch_event("click")
    expect(popup.filter(has_text=FAR_ADDRESS_LINE)).to_be_visible()
    watch.assert_nothing_ran(page)
    page.screenshot(path=ARTEFACTS / "xss-plan.png", full_page=True)

    if page.get_by_test_id("publish").count():
        page.get_by_test_id("publish").click()
        page.wait_for_load_state()
    watch.assert_nothing_ran(page)
    return plan_path


def tour(
    browser, world: World, *, bypass_csp: bool, plan_path: str | None
) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Every page the hostile data reaches, as the person who sees it; CSP violations seen."""
    violations: list[str] = []

    context, page, watch = sign_in(browser, world, *demo_login("dispatcher"), bypass_csp=bypass_csp)
    if plan_path is None:
        plan_path = plan_and_publish(page, watch, world)
    else:
        visit(page, watch, world, plan_path, FAR_ADDRESS_LINE, COURIER_NAME, DEPOT_NAME)
        page.locator(".leaflet-marker-icon .stop-label").first.click()
        from playwright.sync_api import expect

        expect(page.locator(".leaflet-popup-content")).to_contain_text(ADDRESS_LINE)
        watch.assert_nothing_ran(page)
    visit(page, watch, world, f"/dispatcher/?day={world.day}", DEPOT_NAME, COURIER_NAME)
    violations += watch.violations
    context.close()

    context, page, watch = sign_in(
        browser, world, world.courier_email, PASSWORD, bypass_csp=bypass_csp
    )
    visit(
        page, watch, world, "/courier/", ADDRESS_LINE, COURIER_NAME, DEPOT_NAME, REGISTRATION_SHOWN
    )
    visit(page, watch, world, "/dispatcher/", COURIER_USER_NAME)  # the 403 page names them
    violations += watch.violations
    context.close()

    context, page, watch = sign_in(
        browser, world, world.customer_email, PASSWORD, bypass_csp=bypass_csp
    )
    visit(page, watch, world, "/portal/", ADDRESS_LINE, CUSTOMER_USER_NAME)
    visit(page, watch, world, "/portal/points", POINTS_REASON)
    violations += watch.violations
    context.close()

    context, page, watch = sign_in(browser, world, *demo_login("support"), bypass_csp=bypass_csp)
    visit(page, watch, world, "/support/?q=Cust", CUSTOMER_NAME, CUSTOMER_PHONE)
    visit(
        page,
        watch,
        world,
        f"/support/customers/{world.customer_id}",
        CUSTOMER_NAME,
        CUSTOMER_PHONE,
        ADDRESS_LINE,
        FAR_ADDRESS_LINE,
    )
    visit(page, watch, world, f"/support/customers/{world.customer_id}/points", POINTS_REASON)
    violations += watch.violations
    context.close()

    context, page, watch = sign_in(browser, world, *demo_login("admin"), bypass_csp=bypass_csp)
    visit(page, watch, world, "/admin/", COURIER_USER_NAME, CUSTOMER_USER_NAME)
    visit(page, watch, world, "/api/v1/docs")
    from playwright.sync_api import expect

    expect(page.locator(".swagger-ui .info")).to_contain_text("Roundtrip API", timeout=15_000)
    violations += watch.violations
    context.close()
    return plan_path, violations


def test_hostile_text_never_runs_and_is_shown_as_text(hostile_app):
    from playwright.sync_api import sync_playwright

    executable = chromium_or_skip()
    ARTEFACTS.mkdir(exist_ok=True)
    world = _load_hostile_day(hostile_app)
    with live_server(hostile_app) as base, sync_playwright() as p:
        world.base_url = base
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        # Without the CSP's help: only rendering as text keeps the payloads inert.
        plan_path, _ = tour(browser, world, bypass_csp=True, plan_path=None)
        # With the CSP: the pages work and nothing even tries to run inline code.
        _, violations = tour(browser, world, bypass_csp=False, plan_path=plan_path)
        browser.close()

    assert violations == []
    assert len(world.pages) >= 2 * 10
