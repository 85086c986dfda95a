"""A realistic demo city day in Moscow: one depot, 12 couriers, ~300 orders for tomorrow.

Everything goes through the domain services, so demo data obeys the same rules as real data.
Loading is idempotent: a second run finds the demo depot and writes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import services as account_services
from app.accounts.models import Role
from app.catalog.models import Lot, Product
from app.customers import services as customer_services
from app.customers.models import Address, Customer
from app.fleet import services as fleet_services
from app.fleet.models import Depot
from app.geocoding import NoGeocoder
from app.messages import say_n
from app.orders import services as order_services
from app.orders.models import DeliveryWindowTemplate, Order, OrderItem
from app.orders.windows import windows_for_day
from loyalty import services as loyalty_services

DEPOT_CODE = "MSK-1"
TIMEZONE = "Europe/Moscow"
SEED = 20261124
WELCOME_POINTS = 150


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: str
    email: str
    password: str
    name: str


LOGINS = (
    DemoLogin("admin", "admin@roundtrip.demo", "admin-demo-1", "Anna Admin"),
    DemoLogin("dispatcher", "dispatcher@roundtrip.demo", "dispatch-demo-1", "Dmitry Dispatcher"),
    DemoLogin("support", "support@roundtrip.demo", "support-demo-1", "Svetlana Support"),
    DemoLogin("courier", "courier1@roundtrip.demo", "courier-demo-1", "Ivan Petrov"),
    DemoLogin("customer", "customer@roundtrip.demo", "customer-demo-1", "Maria Smirnova"),
)
COURIER_PASSWORD = "courier-demo-1"  # courier1..courier12@roundtrip.demo

# (start, end, cut-off days before, cut-off time): morning windows close late the evening
# before, evening windows a few hours ahead on the same day (the extended ordering window).
WINDOWS = (
    ("08:00", "10:00", 1, "23:30"),
    ("10:00", "12:00", 1, "23:30"),
    ("12:00", "14:00", 0, "08:00"),
    ("14:00", "16:00", 0, "10:00"),
    ("16:00", "18:00", 0, "12:00"),
    ("18:00", "20:00", 0, "14:00"),
    ("20:00", "22:00", 0, "16:00"),
    ("21:00", "23:00", 0, "17:00"),
)
ORDERS_PER_WINDOW = (35, 35, 30, 30, 35, 55, 50, 30)

PRODUCTS = (  # sku, name, price in kopecks, food, load units
    ("KET-200", "Electric kettle 1.7 l", 3_499_00, False, 3),
    ("TST-110", "Toaster, 2 slots", 2_790_00, False, 3),
    ("BLN-500", "Blender 800 W", 5_990_00, False, 4),
    ("IRN-240", "Steam iron", 3_250_00, False, 2),
    ("HPH-330", "Wireless headphones", 7_490_00, False, 1),
    ("VAC-900", "Robot vacuum cleaner", 24_990_00, False, 6),
    ("LMP-120", "Desk lamp LED", 1_890_00, False, 2),
    ("PAN-280", "Frying pan 28 cm", 2_390_00, False, 2),
    ("TWL-050", "Bath towel set", 1_590_00, False, 2),
    ("BKS-010", "Children's book set", 1_290_00, False, 1),
    ("COF-001", "Coffee beans 1 kg", 1_650_00, True, 1),
    ("TEA-002", "Black tea, 100 bags", 390_00, True, 1),
    ("OIL-003", "Olive oil 1 l", 1_190_00, True, 1),
    ("CHO-004", "Dark chocolate, 5 bars", 650_00, True, 1),
    ("HNY-005", "Buckwheat honey 500 g", 720_00, True, 1),
    ("BBY-006", "Baby food, 12 jars", 1_080_00, True, 2),
    ("WAT-007", "Mineral water, 6 x 1.5 l", 540_00, True, 4),
    ("GRC-008", "Buckwheat groats 5 kg", 890_00, True, 3),
)
SUPPLIERS = ("Tekhnopark Supply", "Volga Trade", "Severny Import", "Ural Distribution")

# Real Moscow districts: (street, lat, lon of the district's centre).
PLACES = (
    ("ul. Arbat", 55.7494, 37.5916),
    ("Tverskaya ul.", 55.7651, 37.6050),
    ("Komsomolsky prospekt", 55.7290, 37.5710),
    ("Pyatnitskaya ul.", 55.7355, 37.6300),
    ("Baumanskaya ul.", 55.7720, 37.6780),
    ("Taganskaya ul.", 55.7400, 37.6600),
    ("ul. Krasnaya Presnya", 55.7600, 37.5600),
    ("Rusakovskaya ul.", 55.7890, 37.6790),
    ("ul. Akademika Koroleva", 55.8200, 37.6120),
    ("Sheremetyevskaya ul.", 55.7950, 37.6150),
    ("prospekt Marshala Zhukova", 55.7780, 37.4800),
    ("Stroginsky bulvar", 55.8030, 37.4030),
    ("Osenny bulvar", 55.7570, 37.4080),
    ("Yartsevskaya ul.", 55.7300, 37.4300),
    ("Michurinsky prospekt", 55.6970, 37.5000),
    ("prospekt Vernadskogo", 55.6770, 37.5040),
    ("Profsoyuznaya ul.", 55.6700, 37.5530),
    ("Novoyasenevsky prospekt", 55.6060, 37.5330),
    ("Chertanovskaya ul.", 55.6200, 37.6060),
    ("Lipetskaya ul.", 55.5920, 37.6650),
    ("Kaspiyskaya ul.", 55.6200, 37.6700),
    ("Lyublinskaya ul.", 55.6500, 37.7450),
    ("Sovkhoznaya ul.", 55.6760, 37.7620),
    ("Volgogradsky prospekt", 55.7000, 37.7700),
    ("Ryazansky prospekt", 55.7150, 37.8180),
    ("Zelyony prospekt", 55.7500, 37.7800),
    ("Pervomayskaya ul.", 55.7880, 37.7800),
    ("Bolshaya Cherkizovskaya ul.", 55.8150, 37.7100),
    ("Shirokaya ul.", 55.8800, 37.6500),
    ("Otradnaya ul.", 55.8610, 37.6050),
    ("Beskudnikovsky bulvar", 55.8800, 37.5600),
    ("Festivalnaya ul.", 55.8700, 37.4950),
    ("Leningradsky prospekt", 55.8000, 37.5330),
    ("Volokolamskoye shosse", 55.8050, 37.5150),
    ("Butyrskaya ul.", 55.7940, 37.5870),
    ("Lyusinovskaya ul.", 55.7200, 37.6230),
    ("prospekt Andropova", 55.6800, 37.6650),
    ("Brateyevskaya ul.", 55.6350, 37.7600),
    ("Svobodny prospekt", 55.7520, 37.8100),
    ("Snezhnaya ul.", 55.8550, 37.6500),
)

FIRST_NAMES = (
    "Alexei",
    "Olga",
    "Sergei",
    "Elena",
    "Nikolai",
    "Tatiana",
    "Pavel",
    "Irina",
    "Andrei",
    "Natalia",
    "Mikhail",
    "Yulia",
    "Artyom",
    "Ekaterina",
    "Roman",
    "Anastasia",
)
LAST_NAMES = (
    "Ivanov",
    "Kuznetsov",
    "Popov",
    "Sokolov",
    "Lebedev",
    "Kozlov",
    "Novikov",
    "Morozov",
    "Volkov",
    "Alekseev",
    "Fedorov",
    "Orlov",
    "Zaitsev",
    "Pavlov",
)

# Load units: a kettle is 3, a coffee pack 1. One trip per shift: the fleet carries a day's
# load (about 1,430 units) with some 20 % to spare.
FLEET = (("bike", 30),) * 4 + (("car", 140),) * 5 + (("van", 300),) * 3


@dataclass(frozen=True, slots=True)
class DemoSummary:
    created: bool
    delivery_day: date
    orders: int
    couriers: int
    today_orders: int = 0  # today's day under way (load(today=True))
    today_reported: int = 0
    kettle_order_id: int | None = None  # delivered two days ago: try a return with it


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _person(rng: random.Random, index: int) -> str:
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index * 7 + rng.randrange(len(LAST_NAMES))) % len(LAST_NAMES)]
    if first.endswith("a"):  # Russian surnames agree with the person: Sokolov, Sokolova
        last += "a"
    return f"{first} {last}"


def _phone(rng: random.Random) -> str:
    return (
        f"+7 9{rng.randrange(10, 99)} {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-"
        f"{rng.randrange(10, 99)}"
    )


def load(session: Session, *, now: datetime | None = None, today: bool = False) -> DemoSummary:
    """Load the demo city day for tomorrow (Moscow time) unless it is already there; with
    ``today``, also today's day under way as seen at ``now`` (what `roundtrip demo` shows)."""
    now = now or datetime.now(UTC)
    tz = ZoneInfo(TIMEZONE)
    existing = session.scalar(select(Depot).where(Depot.code == DEPOT_CODE))
    tomorrow = (now.astimezone(tz) + timedelta(days=1)).date()
    if existing is not None:
        return DemoSummary(created=False, delivery_day=tomorrow, orders=0, couriers=0)
    rng = random.Random(SEED)

    users = {
        login.role: account_services.create_user(
            session,
            email=login.email,
            name=login.name,
            role=login.role,
            password=login.password,
        )
        for login in LOGINS
    }
    depot = fleet_services.create_depot(
        session,
        code=DEPOT_CODE,
        name="Moscow South depot",
        address="Varshavskoye shosse 47, Moscow",
        lat=55.6860,
        lon=37.6215,
        timezone=TIMEZONE,
    )
    for start, end, days_before, cutoff in WINDOWS:
        session.add(
            DeliveryWindowTemplate(
                depot_id=depot.id,
                start_minute=_minutes(start),
                end_minute=_minutes(end),
                cutoff_days_before=days_before,
                cutoff_minute=_minutes(cutoff),
            )
        )
    for sku, name, price, food, load_units in PRODUCTS:
        product = Product(
            sku=sku, name=name, price_minor=price, is_food=food, load_units=load_units
        )
        session.add(product)
        for n in range(2):
            product.lots.append(
                Lot(
                    code=f"{sku}-L{n + 1}",
                    supplier=SUPPLIERS[(len(sku) + n) % len(SUPPLIERS)],
                    received_at=now - timedelta(days=30 - 10 * n),
                )
            )
    session.flush()

    crew: list[tuple[int, int, bool]] = []
    for i, (kind, capacity) in enumerate(FLEET):
        vehicle = fleet_services.create_vehicle(
            session,
            depot_id=depot.id,
            registration=f"DEMO{i + 1:02d}",
            type=kind,
            capacity_units=capacity,
        )
        if i == 0:
            user = users["courier"]
        else:
            user = account_services.create_user(
                session,
                email=f"courier{i + 1}@roundtrip.demo",
                name=_person(rng, i),
                role=Role.COURIER,
                password=COURIER_PASSWORD,
            )
        courier = fleet_services.create_courier(
            session,
            depot_id=depot.id,
            name=user.name,
            phone=_phone(rng),
            user_id=user.id,
            skills=["heavy"] if kind == "van" else [],
        )
        crew.append((courier.id, vehicle.id, i % 2 == 0))
    _shifts(session, crew, tomorrow, tz)

    demo_customer = customer_services.create_customer(
        session, name=LOGINS[4].name, email=LOGINS[4].email, phone=_phone(rng)
    )
    demo_customer.user_id = users["customer"].id
    loyalty_services.credit_bonus(
        session,
        customer_id=demo_customer.id,
        points=WELCOME_POINTS,
        reason=say_n(
            "Welcome to Roundtrip: %(n)s point towards your next order",
            "Welcome to Roundtrip: %(n)s points towards your next order",
            WELCOME_POINTS,
        ),
        source="demo",
        now=now,
        key="demo:welcome-bonus",
    )
    customers = [demo_customer] + [
        customer_services.create_customer(session, name=_person(rng, 100 + n), phone=_phone(rng))
        for n in range(219)
    ]

    # Orders are taken as if placed this morning, so every window's cut-off is still ahead.
    ordered_at = min(now, datetime.combine(now.astimezone(tz).date(), time(9, 0), tzinfo=tz))
    count = _orders(session, rng, customers, depot.id, tomorrow, tz, ordered_at, ORDERS_PER_WINDOW)
    under_way = (0, 0)
    kettle_order_id = None
    if today:
        under_way = _today_under_way(session, rng, customers, depot.id, crew, now, tz)
        kettle_order_id = _delivered_kettle(session, demo_customer, depot.id, now, tz)
    return DemoSummary(
        created=True,
        delivery_day=tomorrow,
        orders=count,
        couriers=len(FLEET),
        today_orders=under_way[0],
        today_reported=under_way[1],
        kettle_order_id=kettle_order_id,
    )


def _delivered_kettle(
    session: Session, customer: Customer, depot_id: int, now: datetime, tz: ZoneInfo
) -> int:
    """The demo customer's kettle, delivered two days ago: the order to try a return with."""
    session.refresh(customer, ["addresses"])
    address = customer.addresses[0] if customer.addresses else None
    if address is None:
        address = Address(
            customer=customer,
            line="Tverskaya ul. 7, apt 12, Moscow",
            lat=55.7575,
            lon=37.6126,
            coordinate_source="given",
        )
    kettle = session.scalars(select(Product).where(Product.sku == "KET-200")).one()
    day = (now - timedelta(days=2)).astimezone(tz).date()
    start = datetime.combine(day, time(10, 0), tzinfo=tz)
    order = Order(
        number="RT-DEMO-KETTLE",
        customer=customer,
        address=address,
        depot_id=depot_id,
        delivery_day=day,
        window_start_at=start,
        window_end_at=start + timedelta(hours=2),
        total_minor=kettle.price_minor,
        created_at=start - timedelta(days=1),  # ordered the day before it came
    )
    order.items = [OrderItem(product=kettle, quantity=1, unit_price_minor=kettle.price_minor)]
    session.add(order)
    session.flush()
    order_services.mark_delivered(session, order_id=order.id, now=start + timedelta(hours=1))
    return order.id


def _shifts(session: Session, crew: list[tuple[int, int, bool]], day: date, tz: ZoneInfo) -> None:
    """Half the fleet works the morning, half the late evening: ten hours each, with the
    30-minute break the labour rules ask for (fleet.services gives it, in the middle two)."""
    day_start = datetime.combine(day, time(0, 0), tzinfo=tz)
    for courier_id, vehicle_id, early in crew:
        starts = day_start + (
            timedelta(hours=7, minutes=30) if early else timedelta(hours=13, minutes=30)
        )
        fleet_services.create_shift(
            session,
            courier_id=courier_id,
            vehicle_id=vehicle_id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=10),
        )


def _orders(
    session: Session,
    rng: random.Random,
    customers: list[Customer],
    depot_id: int,
    day: date,
    tz: ZoneInfo,
    ordered_at: datetime,
    per_window: tuple[int, ...],
) -> int:
    windows = windows_for_day(session, depot_id, day, tz)
    products = [p[0] for p in PRODUCTS]
    count = 0
    for window, how_many in zip(windows, per_window, strict=True):
        for _ in range(how_many):
            customer = customers[count % len(customers)]
            street, lat, lon = rng.choice(PLACES)
            address = None
            address_id = None
            if customer.addresses and rng.random() < 0.7:
                address_id = customer.addresses[0].id
            else:
                address = order_services.AddressRequest(
                    line=f"{street} {rng.randrange(1, 120)}, apt {rng.randrange(1, 300)}, Moscow",
                    lat=round(lat + rng.uniform(-0.006, 0.006), 6),
                    lon=round(lon + rng.uniform(-0.011, 0.011), 6),
                )
            items = [
                order_services.ItemRequest(sku=sku, quantity=rng.choice((1, 1, 1, 2)))
                for sku in rng.sample(products, rng.choice((1, 1, 2, 3)))
            ]
            order_services.create_order(
                session,
                customer_id=customer.id,
                delivery_day=day,
                window_start_at=window.start_at,
                window_end_at=window.end_at,
                items=items,
                address=address,
                address_id=address_id,
                now=ordered_at,
                geocoder=NoGeocoder(),
            )
            session.refresh(customer, ["addresses"])
            count += 1
    return count


def _today_under_way(
    session: Session,
    rng: random.Random,
    customers: list[Customer],
    depot_id: int,
    crew: list[tuple[int, int, bool]],
    now: datetime,
    tz: ZoneInfo,
) -> tuple[int, int]:
    """Today as a working day seen at ``now``: about half of tomorrow's orders, planned and
    published the evening before; every shift that has begun checked its vehicle; every stop
    that should be done by now is reported (a few failed, nobody home), except on one route
    whose courier is running late, so its next stop is at risk on the board. Returns today's
    orders and the stops reported."""
    from app.fleet import inspection
    from app.planning import flows, services
    from app.planning.enums import FailureReason
    from app.planning.progress import Report, report_stop
    from routing.solver import SolveParameters

    today = now.astimezone(tz).date()
    evening_before = datetime.combine(today - timedelta(days=1), time(22, 0), tzinfo=tz)
    _shifts(session, crew, today, tz)
    orders = _orders(
        session,
        rng,
        customers,
        depot_id,
        today,
        tz,
        evening_before - timedelta(hours=10),
        tuple(n // 2 for n in ORDERS_PER_WINDOW),
    )
    plan = services.start_plan(
        session, depot_id=depot_id, day=today, time_limit_s=3, now=evening_before
    )
    services.solve_plan(
        session,
        plan_id=plan.id,
        now=evening_before,
        params=SolveParameters(time_limit_s=3, seed=SEED, iteration_limit=1500),
    )
    flows.publish(session, plan_id=plan.id, now=evening_before)
    late = max(
        plan.routes, key=lambda r: sum(v.departure_at <= now for v in r.visits), default=None
    )
    reported = 0
    for route in plan.routes:
        shift = route.shift
        if shift.starts_at > now or shift.vehicle is None:
            continue
        inspection.submit(
            session,
            shift_id=shift.id,
            courier_id=route.courier_id,
            answers={item.code: True for item in inspection.checklist(shift.vehicle)},
            odometer_km=rng.randrange(20_000, 90_000)
            if inspection.needs_odometer(shift.vehicle)
            else None,
            at=shift.starts_at + timedelta(minutes=5),
            now=shift.starts_at + timedelta(minutes=5),
        )
        done = [v for v in route.visits if v.departure_at <= now - timedelta(minutes=10)]
        if route is late and done:
            # This courier is running behind: the last stop took 40 minutes longer.
            done = done[:-1]
        for n, visit in enumerate(done):
            at = visit.departure_at
            if route is late and n == len(done) - 1:
                at = min(now - timedelta(minutes=1), at + timedelta(minutes=40))
            failed = rng.random() < 0.08
            report_stop(
                session,
                stop_id=visit.stop.id,
                report=Report.FAILED if failed else Report.DELIVERED,
                at=at,
                courier_id=route.courier_id,
                reason=FailureReason.NOT_HOME if failed else None,
            )
            reported += 1
    return orders, reported
