"""factory-boy factories; the ``world`` fixture binds them to the test's session."""

from __future__ import annotations

from datetime import UTC, datetime

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.catalog.models import Lot, Product
from app.customers.models import Address, Customer
from app.fleet.models import Courier, Depot, Shift, Vehicle
from app.orders.models import DeliveryWindowTemplate


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


class DepotFactory(BaseFactory):
    class Meta:
        model = Depot

    code = factory.Sequence(lambda n: f"D{n}")
    name = factory.Sequence(lambda n: f"Depot {n}")
    address = "Varshavskoye shosse 47, Moscow"
    lat = 55.686
    lon = 37.6215
    timezone = "Europe/Moscow"


class WindowFactory(BaseFactory):
    class Meta:
        model = DeliveryWindowTemplate

    depot = factory.SubFactory(DepotFactory)
    start_minute = 8 * 60
    end_minute = 10 * 60
    cutoff_days_before = 1
    cutoff_minute = 23 * 60 + 30


class ProductFactory(BaseFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price_minor = 1_000_00
    is_food = False
    load_units = 1


class LotFactory(BaseFactory):
    class Meta:
        model = Lot

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"LOT-{n}")
    supplier = "Volga Trade"
    received_at = factory.Sequence(lambda n: datetime(2026, 10, 1 + n % 28, tzinfo=UTC))


class CustomerFactory(BaseFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.org")
    phone = "+7 900 000-00-00"


class AddressFactory(BaseFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    line = "Tverskaya ul. 7, Moscow"
    lat = 55.7651
    lon = 37.6050
    coordinate_source = "given"


class VehicleFactory(BaseFactory):
    class Meta:
        model = Vehicle

    depot = factory.SubFactory(DepotFactory)
    registration = factory.Sequence(lambda n: f"T{n:03d}")
    type = "car"
    capacity_units = 40


class CourierFactory(BaseFactory):
    class Meta:
        model = Courier

    depot = factory.SubFactory(DepotFactory)
    name = factory.Sequence(lambda n: f"Courier {n}")
    phone = "+7 901 000-00-00"
    skills = factory.LazyFunction(list)


class ShiftFactory(BaseFactory):
    class Meta:
        model = Shift

    courier = factory.SubFactory(CourierFactory)
    depot = factory.SelfAttribute("courier.depot")
    vehicle = None
    starts_at = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    ends_at = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


ALL = (
    DepotFactory,
    WindowFactory,
    ProductFactory,
    LotFactory,
    CustomerFactory,
    AddressFactory,
    VehicleFactory,
    CourierFactory,
    ShiftFactory,
)
