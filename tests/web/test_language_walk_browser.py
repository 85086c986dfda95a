"""Every page of every role in Russian and in English, in Chromium (issue #10's acceptance).

The demo day is planned (with an order no courier reaches), a stop is moved against the
checker's advice, the plan is published and the demo courier has reported two stops. Then each
role signs in twice, once with a browser that asks for Russian (``ru-RU``) and once for English
(``en-US``), and opens every page it has. On each page the visible text (and the ``title``,
``placeholder``, ``aria-label`` and ``alt`` of visible elements) is read:

- in Russian no word of Latin letters may remain, and in English no Cyrillic word, apart from
  what people typed: names, addresses, e-mails, order numbers, SKUs, product names... read from
  the database (never copied from a page), brand words, and the other language's name in the
  language switch;
- the failure lists the words left over, page by page.

Russian screenshots go to a temporary folder, or, with ``ROUNDTRIP_SCREENSHOTS=docs/screenshots``
(``make screenshots``), to ``docs/screenshots/ru/<role>-<page>.png``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from app import demo
from app.accounts.models import User
from app.customers.models import Customer
from app.db import make_engine, make_session_factory, session_scope
from app.fleet.models import Courier, Depot
from app.geocoding import NoGeocoder
from app.orders import services as order_services
from app.orders.windows import windows_for_day
from app.planning import editing as planning_editing
from app.planning import flows as planning_flows
from app.planning import jobs as planning_jobs
from app.planning.models import Plan, PlanRoute
from app.planning.progress import Report, report_stop
from tests.browser import ARGS, DEMO_NOON, chromium_or_skip, demo_app, live_server
from tests.planning.helpers import inspected

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS_ENV = "ROUNDTRIP_SCREENSHOTS"

LANGUAGES = {"ru": "ru-RU", "en": "en-US"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# Words that are the same in both languages: the product's and the map library's names, and
# file formats a dispatcher meets in Russian too («файл CSV в кодировке UTF-8»).
BRAND_WORDS = frozenset({"Roundtrip", "Leaflet", "OpenStreetMap", "CSV", "UTF", "API", "JSON"})
# The switch names the other language in that language.
SWITCH_WORDS = {"ru": frozenset({"English"}), "en": frozenset({"Русский"})}

# What a person types: the import page's example columns and the rows of the file uploaded.
CSV_COLUMNS = (
    "external_ref",
    "customer_name",
    "customer_phone",
    "customer_email",
    "address",
    "lat",
    "lon",
    "delivery_day",
    "window",
    "items",
)
FAR_ADDRESS = "Nevsky prospekt 28, St Petersburg"
OVERRIDE_REASON = "Customer asked for a late drop"

# Addresses of pages and files (/api/v1/docs, openapi.json): what a person types, not words.
PATHS = re.compile(r"(?<![\w/])/[\w./-]*\w|\b[\w-]+\.(?:json|csv)\b")
# What the walk itself types into the address bar.
TYPED_QUERIES = ("tomorrowish", "Nobody Known")
LATIN_WORD = re.compile(r"[A-Za-z]+")
CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]+")
LETTER = r"[A-Za-zА-Яа-яЁё]"

# What people see on a page: its text, and the words of visible elements' attributes.
VISIBLE_TEXT = """
() => {
  const seen = [document.title, document.body.innerText];
  const shown = el =>
    el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const worded = "[title], [placeholder], [aria-label], [alt], "
    + "input[type=submit], input[type=button]";
  for (const el of document.querySelectorAll(worded)) {
    if (!shown(el)) { continue; }
    for (const name of ["title", "placeholder", "aria-label", "alt"]) {
      if (el.hasAttribute(name)) { seen.push(el.getAttribute(name)); }
    }
    if (el.matches("input[type=submit], input[type=button]")) { seen.push(el.value); }
  }
  return seen.join("\\n");
}
"""

# Texts people type, read from the database: (table, columns).
DATA_COLUMNS = {
    "users": ("name", "email"),
    "customers": ("name", "email", "phone"),
    "addresses": ("line", "instructions"),
    "orders": ("number", "external_ref", "notes"),
    "products": ("sku", "name"),
    "lots": ("code", "supplier"),
    "depots": ("code", "name", "address"),
    "vehicles": ("registration",),
    "couriers": ("name", "phone"),
    "plan_changes": ("override_reason",),
}


@dataclass
class World:
    """The demo day as the walk finds it: ids for the pages' addresses."""

    day: str
    plan_id: int
    customer_id: int
    move: tuple[int, int, int]  # order, shift, position: a move the checker objects to
    data: list[str] = field(default_factory=list)
    import_csv: str = ""


def people_typed(url: str, extra: Iterable[str] = ()) -> list[str]:
    """Every text a person typed into the database, with ``extra`` (what the walk types)."""
    engine = make_engine(url)
    found: set[str] = set(extra)
    with engine.connect() as connection:
        for table, columns in DATA_COLUMNS.items():
            for row in connection.execute(text(f"SELECT {', '.join(columns)} FROM {table}")):
                found.update(value for value in row if value)
        for (skills,) in connection.execute(text("SELECT skills FROM couriers")):
            found.update(json.loads(skills or "[]"))
    engine.dispose()
    return sorted(t.strip() for t in found if t.strip())


def leftovers(
    seen: str, language: str, data: list[str], typed_here: Iterable[str] = ()
) -> tuple[list[str], list[str]]:
    """Words of the other language on a page in ``language`` once data is taken out, and the
    lines they stand in. Data goes longest first (a name inside an address must not leave
    the rest of the address behind) and never as part of a word (the skill "heavy" must not
    hide "heavyweight")."""
    texts = sorted({*data, *typed_here}, key=len, reverse=True)
    if texts:
        pattern = re.compile(
            rf"(?<!{LETTER})(?:{'|'.join(re.escape(t) for t in texts)})(?!{LETTER})"
        )
        seen = pattern.sub(" ", seen)
    rest = PATHS.sub(" ", seen)
    foreign = LATIN_WORD if language == "ru" else CYRILLIC_WORD
    allowed = BRAND_WORDS | SWITCH_WORDS[language]

    def words_of(line: str) -> list[str]:
        return [w for w in foreign.findall(line) if len(w) >= 2 and w not in allowed]

    words = words_of(rest)
    lines = [line.strip() for line in rest.splitlines() if words_of(line)]
    return sorted(set(words), key=words.index), sorted(set(lines), key=lines.index)


def screenshot_folder(tmp_path: Path) -> Path:
    """docs/screenshots/ru only when asked (make screenshots): a test run leaves docs alone."""
    chosen = os.environ.get(SCREENSHOTS_ENV)
    base = (ROOT / chosen) if chosen else tmp_path / "screenshots"
    folder = base / "ru"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _far_order(session) -> None:  # type: ignore[no-untyped-def]
    """An order in St Petersburg: no courier of the Moscow depot reaches it, so the plan
    leaves it out and says why."""
    depot = session.scalars(select(Depot)).one()
    tz = ZoneInfo(depot.timezone)
    day = (DEMO_NOON.astimezone(tz) + timedelta(days=1)).date()
    window = next(w for w in windows_for_day(session, depot.id, day, tz) if w.is_open(DEMO_NOON))
    customer = session.scalars(select(Customer).order_by(Customer.id).offset(1).limit(1)).one()
    order_services.create_order(
        session,
        customer_id=customer.id,
        delivery_day=day,
        window_start_at=window.start_at,
        window_end_at=window.end_at,
        items=[order_services.ItemRequest(sku="KET-200", quantity=1)],
        address=order_services.AddressRequest(line=FAR_ADDRESS, lat=59.9343, lon=30.3351),
        now=DEMO_NOON,
        geocoder=NoGeocoder(),
    )


def _a_move_the_checker_objects_to(session, plan_id: int) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """The first stop of the earliest route to the end of the route that ends last (neither
    under way)."""
    routes = [
        r
        for r in session.scalars(select(PlanRoute).where(PlanRoute.plan_id == plan_id))
        if not any(v.reported for v in r.visits)
    ]
    first = min(routes, key=lambda r: r.start_at)
    last = max((r for r in routes if r is not first), key=lambda r: r.end_at)
    return first.visits[0].stop.id, last.shift_id, len(last.visits) + 1


def _plan_the_day(url: str) -> World:
    """Plan, move a stop with a reason, publish; the demo courier reports two stops the next
    morning."""
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as session:
        depot = session.scalars(select(Depot)).one()
        tz = ZoneInfo(depot.timezone)
        day = (DEMO_NOON.astimezone(tz) + timedelta(days=1)).date()
        depot_id = depot.id
    plan_id = planning_jobs.run_planning(
        factory, depot_id=depot_id, day=day, time_limit_s=2, now=DEMO_NOON
    )
    with session_scope(factory) as session:
        stop_id, shift_id, position = _a_move_the_checker_objects_to(session, plan_id)
        planning_editing.apply_move(
            session,
            plan_id=plan_id,
            stop_id=stop_id,
            shift_id=shift_id,
            position=position,
            now=DEMO_NOON,
            override_reason=OVERRIDE_REASON,
        )
    with session_scope(factory) as session:
        planning_flows.publish(session, plan_id=plan_id, now=DEMO_NOON)
    with session_scope(factory) as session:
        courier_email = next(d.email for d in demo.LOGINS if d.role == "courier")
        courier = session.scalars(
            select(Courier)
            .join(User, Courier.user_id == User.id)
            .where(User.email == courier_email)
        ).one()
        plan = session.get_one(Plan, plan_id)
        route = next(r for r in plan.routes if r.courier_id == courier.id)
        at = morning(day, tz)
        inspected(session, plan, at=at)
        report_stop(session, stop_id=route.visits[0].stop.id, report=Report.DELIVERED, at=at)
        report_stop(session, stop_id=route.visits[1].stop.id, report=Report.FAILED, at=at)
        customer_id = session.scalars(
            select(Customer.id).where(Customer.email == demo.LOGINS[4].email)
        ).one()
        move = _a_move_the_checker_objects_to(session, plan_id)
    return World(day=day.isoformat(), plan_id=plan_id, customer_id=customer_id, move=move)


def morning(day, tz: ZoneInfo) -> datetime:  # type: ignore[no-untyped-def]
    """Half past nine on the delivery day: routes under way, most stops ahead."""
    return datetime.combine(day, time(9, 30), tzinfo=tz)


@pytest.fixture
def walk_app(tmp_path, clock):  # type: ignore[no-untyped-def]
    clock(DEMO_NOON, tick=True)
    app = demo_app(tmp_path, time_limit_s=2, change=_far_order)
    app.config["LANGUAGES"] = ("ru", "en")
    world = _plan_the_day(app.config["DATABASE_URL"])
    clock(morning(datetime.fromisoformat(world.day).date(), ZoneInfo(demo.TIMEZONE)), tick=True)
    return app, world


# --- the walk ---------------------------------------------------------------------------


@dataclass
class Walk:
    """One language's tour: what each page showed that it should not."""

    browser: object
    base: str
    language: str
    world: World
    shots: Path
    leftovers: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    pages: int = 0

    def context(self, role: str):  # type: ignore[no-untyped-def]
        viewport = PHONE if role in ("courier", "customer") else DESKTOP
        return self.browser.new_context(  # type: ignore[attr-defined]
            locale=LANGUAGES[self.language],
            extra_http_headers={"Accept-Language": self.language},
            viewport=viewport,
        )

    def read(self, page, role: str, name: str, typed_here: Iterable[str] = ()) -> None:  # type: ignore[no-untyped-def]
        """Read what the page shows now and keep its Russian screenshot; ``typed_here``: codes
        a person types that only this page shows."""
        page.wait_for_load_state("load")
        lang = page.evaluate("document.documentElement.lang")
        key = f"{role}-{name}"
        seen = page.evaluate(VISIBLE_TEXT)
        words, lines = leftovers(seen, self.language, self.world.data, typed_here)
        if lang != self.language:
            words = [f"<html lang={lang!r}>", *words]
        if words:
            self.leftovers[f"{key} ({page.url.removeprefix(self.base)})"] = (words, lines)
        if self.language == "ru":
            page.screenshot(path=self.shots / f"{key}.png", full_page=True)
        self.pages += 1

    def visit(self, page, role: str, name: str, path: str, typed_here: Iterable[str] = ()) -> None:  # type: ignore[no-untyped-def]
        page.goto(self.base + path)
        self.read(page, role, name, typed_here)

    def sign_in(self, page, role: str) -> None:  # type: ignore[no-untyped-def]
        login = next(d for d in demo.LOGINS if d.role == role)
        page.goto(self.base + "/login")
        page.fill("input[name=email]", login.email)
        page.fill("input[name=password]", login.password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(lambda url: "/login" not in url)


def walk_public(walk: Walk) -> None:
    context = walk.context("public")
    page = context.new_page()
    walk.visit(page, "public", "start", "/")
    walk.visit(page, "public", "sign-in", "/login")
    page.fill("input[name=email]", "nobody@roundtrip.demo")
    page.fill("input[name=password]", "not-the-password")
    page.locator("main form button[type=submit]").click()
    walk.read(page, "public", "sign-in-refused")
    walk.visit(page, "public", "not-found", "/no-such-page")
    context.close()


def walk_dispatcher(walk: Walk) -> None:
    from playwright.sync_api import expect

    world = walk.world
    context = walk.context("dispatcher")
    page = context.new_page()
    walk.sign_in(page, "dispatcher")
    walk.read(page, "dispatcher", "board-welcome")
    walk.visit(page, "dispatcher", "day", f"/dispatcher/?day={world.day}")
    walk.visit(page, "dispatcher", "day-unreadable", f"/dispatcher/?day={TYPED_QUERIES[0]}")

    walk.visit(page, "dispatcher", "plan", f"/dispatcher/plans/{world.plan_id}")
    expect(page.get_by_test_id("map")).to_be_visible()
    # Markers overlap on one screen: a click event on one opens its pop-up.
    page.locator(".leaflet-marker-icon:has(.stop-label)").first.dispatch_event("click")
    expect(page.locator(".leaflet-popup-content")).to_be_visible()
    walk.read(page, "dispatcher", "plan-stop")
    page.locator("path.unassigned-marker").first.dispatch_event("click")
    expect(page.locator(".leaflet-popup-content").last).to_be_visible()
    walk.read(page, "dispatcher", "plan-not-planned")
    order_id, shift_id, position = world.move
    page.get_by_test_id("move-order").select_option(str(order_id))
    page.get_by_test_id("move-shift").select_option(str(shift_id))
    page.get_by_test_id("move-position").fill(str(position))
    page.get_by_test_id("move-position").dispatch_event("change")
    expect(page.locator("#move-result .alert:not(.alert-secondary)")).to_be_visible(timeout=15_000)
    walk.read(page, "dispatcher", "plan-move")

    # The file's first line, as the page shows it: what the dispatcher types.
    walk.visit(page, "dispatcher", "import", "/dispatcher/import", [", ".join(CSV_COLUMNS)])
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "orders.csv", "mimeType": "text/csv", "buffer": world.import_csv.encode()}],
    )
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_test_id("import-result")).to_be_visible()
    walk.read(page, "dispatcher", "import-report", [", ".join(CSV_COLUMNS)])
    walk.visit(page, "dispatcher", "next-day", "/dispatcher/")
    context.close()


def walk_courier(walk: Walk) -> None:
    context = walk.context("courier")
    page = context.new_page()
    walk.sign_in(page, "courier")
    walk.read(page, "courier", "route")
    walk.visit(page, "courier", "forbidden", "/dispatcher/")
    context.close()


def walk_customer(walk: Walk) -> None:
    context = walk.context("customer")
    page = context.new_page()
    walk.sign_in(page, "customer")
    walk.read(page, "customer", "orders")
    walk.visit(page, "customer", "points", "/portal/points")
    context.close()


def walk_support(walk: Walk) -> None:
    customer = walk.world.customer_id
    context = walk.context("support")
    page = context.new_page()
    walk.sign_in(page, "support")
    walk.read(page, "support", "search")
    walk.visit(page, "support", "search-found", "/support/?q=Smirnova")
    walk.visit(page, "support", "search-none", f"/support/?q={quote(TYPED_QUERIES[1])}")
    walk.visit(page, "support", "customer", f"/support/customers/{customer}")
    walk.visit(page, "support", "points", f"/support/customers/{customer}/points")
    context.close()


def walk_admin(walk: Walk) -> None:
    context = walk.context("admin")
    page = context.new_page()
    walk.sign_in(page, "admin")
    walk.read(page, "admin", "people")
    context.close()


# The API's reference (/api/v1/docs) is not walked: Swagger UI and the OpenAPI description
# are for developers and exist in English only.
ROLES: tuple[Callable[[Walk], None], ...] = (
    walk_public,
    walk_dispatcher,
    walk_courier,
    walk_customer,
    walk_support,
    walk_admin,
)

# One row to import and one a person got wrong: nothing is imported (the box is not
# ticked), so both languages' walks upload the same file.
IMPORT_ROWS = (
    ("WALK-1", "Oleg Testov", "+7 916 000-00-01", "", "Tverskaya ul. 7, Moscow", "55.7651",
     "37.6050", "{day}", "18:00-20:00", "KET-200:1"),
    ("WALK-2", "Nina Testova", "+7 916 000-00-02", "", "Arbat 1, Moscow", "91", "37.6",
     "{day}", "25:00-26:00", "NOPE-1:0"),
)  # fmt: skip


def test_every_page_speaks_the_browser_language(walk_app, tmp_path):
    from playwright.sync_api import sync_playwright

    app, world = walk_app
    executable = chromium_or_skip()
    rows = [[cell.format(day=world.day) for cell in row] for row in IMPORT_ROWS]
    upload = io.StringIO()
    csv.writer(upload).writerows([CSV_COLUMNS, *rows])
    world.import_csv = upload.getvalue()
    world.data = people_typed(
        app.config["DATABASE_URL"],
        extra=[
            *(cell for row in rows for cell in row),
            "KET-200:1;COF-001:2",  # the import page's example of the items column
            *(d.password for d in demo.LOGINS),  # the start page lists the demo logins
            *TYPED_QUERIES,
        ],
    )
    shots = screenshot_folder(tmp_path)
    walks = []
    with live_server(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        for language in LANGUAGES:
            walk = Walk(browser=browser, base=base, language=language, world=world, shots=shots)
            for role in ROLES:
                role(walk)
            walks.append(walk)
        browser.close()

    assert all(w.pages >= 20 for w in walks), [w.pages for w in walks]
    report = []
    for w in walks:
        shown: set[str] = set()
        for page, (words, lines) in w.leftovers.items():
            new = [line for line in lines if line not in shown]
            shown.update(lines)
            report.append(f"{w.language}: {page}: {' '.join(words)}\n")
            report += [f"    | {line}\n" for line in new]
            if len(new) < len(lines):
                report.append(f"    | ... and {len(lines) - len(new)} lines as on pages above\n")
    assert report == [], "words of the other language, by page (lines as left):\n" + "".join(report)
