"""A courier's morning on a 390 x 844 phone in headless Chromium (C1, C2, offline): the route
stays locked until the vehicle is checked; one stop delivered with a photo, one failed with
a reason; then the network goes, two more stops are reported, the page is reloaded with no
network, the network comes back, and the server holds each action exactly once with the
courier's own times. Screenshots of each step go to test-artifacts/ (docs/screenshots/)."""

from __future__ import annotations

import struct
import zlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app import demo
from app.db import make_engine, make_session_factory, session_scope
from app.fleet.models import Courier
from app.planning import flows, services
from app.planning.models import Plan, StopEvent
from routing.solver import SolveParameters
from tests.browser import ARGS, ARTEFACTS, DEMO_NOON, chromium_or_skip, demo_app, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COURIER = next(d for d in demo.LOGINS if d.role == "courier")
# 07:40 in Moscow on the demo day: the courier's early shift has begun.
MORNING = DEMO_NOON + timedelta(hours=19, minutes=40)
PHONE = {"width": 390, "height": 844}


def one_pixel_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def publish_the_demo_day(session) -> None:  # type: ignore[no-untyped-def]
    depot_id = session.scalar(select(Courier.depot_id).limit(1))
    day = (DEMO_NOON + timedelta(days=1)).date()
    plan = services.start_plan(session, depot_id=depot_id, day=day, time_limit_s=3, now=DEMO_NOON)
    services.solve_plan(
        session,
        plan_id=plan.id,
        now=DEMO_NOON,
        params=SolveParameters(time_limit_s=3, seed=1, iteration_limit=400),
    )
    flows.publish(session, plan_id=plan.id, now=DEMO_NOON)


@pytest.fixture
def phone_app(tmp_path, clock):  # type: ignore[no-untyped-def]
    clock(DEMO_NOON, tick=True)
    app = demo_app(tmp_path, time_limit_s=3, change=publish_the_demo_day)
    clock(MORNING, tick=True)
    return app


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTEFACTS / f"courier-{name}.png", full_page=True)


def stop(page, n: int):  # type: ignore[no-untyped-def]
    return page.locator("#courier-app [data-testid=route-stop]").nth(n)


def test_a_courier_morning_with_the_network_going_and_coming_back(phone_app):
    from playwright.sync_api import expect, sync_playwright

    executable = chromium_or_skip()
    with live_server(phone_app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        # The phone's clock reads the demo morning too (and runs on from there).
        context.clock.install(time=MORNING)
        page = context.new_page()
        page.on("console", lambda m: print("console:", m.type, m.text))
        page.on("pageerror", lambda e: print("pageerror:", e))
        page.goto(base + "/login")
        page.fill("input[name=email]", COURIER.email)
        page.fill("input[name=password]", COURIER.password)
        page.click("button[type=submit]")
        page.goto(base + "/courier/")

        # Locked until the vehicle is checked.
        expect(page.get_by_test_id("inspection")).to_be_visible()
        expect(page.locator("#courier-app [data-testid=route-stop]")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "1-inspection")
        for label in page.locator("[data-testid=inspection-item] label.btn-outline-success").all():
            label.click()
        odometer = page.locator("input[name=odometer_km]")
        if odometer.count():
            odometer.fill("48210")
        page.get_by_test_id("inspection-submit").click()
        expect(page.get_by_text("Check passed; your route is open.")).to_be_visible()
        expect(stop(page, 0)).to_be_visible()
        page.wait_for_function(
            "navigator.serviceWorker && navigator.serviceWorker.controller !== null"
        )
        for target in page.locator("#courier-app .courier-actions .btn").all()[:3]:
            box = target.bounding_box()
            assert box is not None
            assert box["height"] >= 48
        shot(page, "2-route-open")

        pending = page.get_by_test_id("pending")
        # Stop 1: delivered, with a name and a photo.
        stop(page, 0).get_by_test_id("delivered").click()
        stop(page, 0).get_by_test_id("recipient").fill("Olga at the door")
        stop(page, 0).get_by_test_id("photo").set_input_files(
            {"name": "proof.png", "mimeType": "image/png", "buffer": one_pixel_png()}
        )
        stop(page, 0).get_by_test_id("confirm").click()
        expect(page.get_by_test_id("undo")).to_be_visible()
        expect(pending).to_have_attribute("data-count", "1")  # kept on the phone at once
        shot(page, "3-delivered-undo")
        expect(pending).to_have_attribute("data-count", "0", timeout=20_000)
        # Stop 2: nobody home.
        stop(page, 1).get_by_test_id("failed").click()
        stop(page, 1).get_by_test_id("reason-not_home").check()
        stop(page, 1).get_by_test_id("confirm").click()
        expect(pending).to_have_attribute("data-count", "1")
        expect(pending).to_have_attribute("data-count", "0", timeout=20_000)
        expect(stop(page, 1).get_by_test_id("stop-result")).to_be_visible()
        shot(page, "4-failed-with-reason")

        # No network: two more stops, kept on the phone.
        context.set_offline(True)
        stop(page, 2).get_by_test_id("delivered").click()
        stop(page, 2).get_by_test_id("confirm").click()
        expect(pending).to_have_attribute("data-count", "1", timeout=20_000)
        stop(page, 3).get_by_test_id("failed").click()
        stop(page, 3).get_by_test_id("reason-wrong_address").check()
        stop(page, 3).get_by_test_id("confirm").click()
        expect(pending).to_have_attribute("data-count", "2", timeout=20_000)
        shot(page, "5-offline-two-waiting")

        # A reload with no network: the route and the two waiting actions are still there.
        page.reload()
        expect(pending).to_have_attribute("data-count", "2", timeout=10_000)
        expect(stop(page, 2).get_by_test_id("stop-waiting")).to_be_visible()
        expect(stop(page, 3).get_by_test_id("stop-result")).to_be_visible()
        shot(page, "6-reloaded-offline")
        with session_scope(
            make_session_factory(make_engine(phone_app.config["DATABASE_URL"]))
        ) as s:
            assert len(s.scalars(select(StopEvent)).all()) == 2  # nothing reached the server

        # The network is back: everything is sent, once.
        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(pending).to_have_attribute("data-count", "0", timeout=30_000)
        shot(page, "7-back-online")
        browser.close()

    with session_scope(make_session_factory(make_engine(phone_app.config["DATABASE_URL"]))) as s:
        events = s.scalars(select(StopEvent).order_by(StopEvent.id)).all()
        assert [e.kind for e in events] == ["delivered", "failed", "delivered", "failed"]
        assert len({e.client_event_id for e in events}) == 4
        assert len({e.stop_id for e in events}) == 4
        stops = {e.stop_id: e for e in events}
        plan = s.scalar(select(Plan).where(Plan.published_at.is_not(None)))
        for visit in [v for r in plan.routes for v in r.visits if v.stop_id in stops]:
            event = stops[visit.stop_id]
            # The stop keeps the courier's time, not the server's.
            assert visit.stop.completed_at == event.courier_at
        offline = events[2:]
        assert all(e.received_at - e.courier_at > timedelta(seconds=1) for e in offline)
        assert events[0].payload["photo"]
        assert events[1].payload["reason"] == "not_home"
        assert events[3].payload["reason"] == "wrong_address"
        assert isinstance(events[0].courier_at, datetime)
