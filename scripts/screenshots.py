"""Save screenshots of the main pages into docs/screenshots/ (needs a running `make run`).

Uses Debian's chromium (Playwright cannot download browsers here):
    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:5000]
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from app.demo import LOGINS

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=DESKTOP)
        page.goto(base + "/")
        page.screenshot(path=OUT / "landing.png", full_page=True)
        page.goto(base + "/api/v1/docs")
        page.wait_for_selector(".swagger-ui .opblock")
        page.screenshot(path=OUT / "api-docs.png")
        page.close()
        # The dispatcher first: the plan they publish is the route the courier then sees.
        for login in sorted(LOGINS, key=lambda d: d.role != "dispatcher"):
            phone = login.role in ("courier", "customer")
            context = browser.new_context(viewport=PHONE if phone else DESKTOP)
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("input[name=email]", login.email)
            page.fill("input[name=password]", login.password)
            page.click("main form button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=OUT / f"{login.role}.png", full_page=not phone)
            if login.role == "dispatcher":
                for part in ("shifts", "vehicles"):
                    page.goto(base + f"/dispatcher/fleet/{part}")
                    page.screenshot(path=OUT / f"dispatcher-fleet-{part}.png", full_page=True)
                page.goto(base + "/dispatcher/")
                page.get_by_test_id("plan-day").first.click()
                page.get_by_test_id("map").wait_for(timeout=60_000)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=OUT / "dispatcher-plan.png", full_page=True)
                page.get_by_test_id("publish").click()
                page.wait_for_load_state("networkidle")
                # Move the first stop of the first route to the front of the last courier's.
                page.evaluate("document.querySelector('.move-pick').click()")
                shift = page.get_by_test_id("move-shift")
                last = shift.locator("option").last.get_attribute("value")
                shift.select_option(last)
                page.get_by_test_id("violation").first.wait_for(timeout=30_000)
                page.get_by_test_id("move-card").screenshot(path=OUT / "dispatcher-move.png")
            if login.role == "customer":
                page.goto(base + "/portal/points")
                page.screenshot(path=OUT / "customer-points.png", full_page=True)
                page.goto(base + "/portal/history")
                page.screenshot(path=OUT / "customer-history.png", full_page=True)
            if login.role == "support":
                for path, name in (
                    ("/support/returns/", "support-returns"),
                    ("/support/lots/", "support-lots"),
                    ("/support/notifications/", "support-notifications"),
                    ("/support/cases/", "support-cases"),
                ):
                    page.goto(base + path)
                    page.screenshot(path=OUT / f"{name}.png", full_page=True)
                page.goto(base + "/support/?q=RT-DEMO-KETTLE")
                page.screenshot(path=OUT / "support-search.png", full_page=True)
                page.locator("main a[href*='/support/customers/']").first.click()
                page.wait_for_load_state("networkidle")
                page.screenshot(path=OUT / "support-customer-history.png", full_page=True)
                # The dashboard over the simulated weeks (`roundtrip demo --history-weeks 6`):
                # every depot, then the simulated one, then the list behind its on-time figure.
                page.goto(base + "/dashboard/")
                page.screenshot(path=OUT / "dashboard-all.png", full_page=True)
                page.get_by_label("Depot").select_option(label="Simulated depot")
                page.get_by_role("button", name="Show").click()
                page.screenshot(path=OUT / "dashboard-depot.png", full_page=True)
                page.get_by_test_id("figure-on_time").click()
                page.screenshot(path=OUT / "dashboard-list.png", full_page=True)
            if login.role == "courier":
                page.goto(base + "/dispatcher/")
                page.screenshot(path=OUT / "forbidden.png")
            context.close()
        browser.close()
    print(f"screenshots saved in {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000")
