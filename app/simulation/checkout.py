"""Customers ordering for tomorrow through the day and late into the evening.

Each checkout asks the promise engine which windows of the delivery day it offers for the
address and basket, picks one of the available ones at random, and takes the order the
way the API does: ``create_order`` then ``place_accepted_order`` (which inserts it into
the day's plan once one exists, or refuses). A refusal at that last step is a window the
engine offered but the plan could not keep; the customer then tries another offered one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.errors import DomainError
from app.fleet.models import Depot
from app.geocoding import NoGeocoder
from app.orders import services as order_services
from app.planning import promise
from app.simulation.world import Home, World
from routing.matrix import GeodesicMatrix

# Orders per hour of the evening before, relative: a trickle in the morning, most after
# work; the last hour before the 23:00 cut-off is busy but not the busiest.
HOURLY_WEIGHTS = {
    8: 1,
    9: 2,
    10: 3,
    11: 3,
    12: 4,
    13: 4,
    14: 4,
    15: 4,
    16: 5,
    17: 6,
    18: 7,
    19: 8,
    20: 9,
    21: 9,
    22: 8,
}


@dataclass
class CheckoutTally:
    """What the customers saw at checkout (the offers themselves are not stored anywhere)."""

    checkouts: int = 0
    windows_shown: int = 0
    windows_available: int = 0
    taken: int = 0
    refused_at_placing: int = 0  # offered, chosen, then refused by place_accepted_order
    no_window: int = 0  # nothing left to offer for the day: the customer went away
    order_ids: list[int] = field(default_factory=list)

    def add(self, other: CheckoutTally) -> None:
        self.checkouts += other.checkouts
        self.windows_shown += other.windows_shown
        self.windows_available += other.windows_available
        self.taken += other.taken
        self.refused_at_placing += other.refused_at_placing
        self.no_window += other.no_window
        self.order_ids += other.order_ids


def arrival_times(
    rng: random.Random, day: date, world: World, count: int, cutoff_minute: int
) -> list[datetime]:
    """When the ``count`` orders for ``day`` come in: the evening before, until the cut-off."""
    eve = day - timedelta(days=1)
    hours = [h for h in HOURLY_WEIGHTS if h * 60 < cutoff_minute]
    weights = [HOURLY_WEIGHTS[h] for h in hours]
    moments = []
    for hour in rng.choices(hours, weights, k=count):
        second = rng.randrange(3600)
        moment = datetime.combine(eve, time(hour), tzinfo=world.tz) + timedelta(seconds=second)
        cutoff = datetime.combine(eve, time(0), tzinfo=world.tz) + timedelta(minutes=cutoff_minute)
        moments.append(min(moment, cutoff - timedelta(seconds=1)))
    return sorted(moments)


def basket(rng: random.Random, world: World) -> list[order_services.ItemRequest]:
    skus = rng.sample(world.skus, rng.choice((1, 1, 1, 2, 2, 3)))
    return [order_services.ItemRequest(sku=s, quantity=rng.choice((1, 1, 1, 2))) for s in skus]


def checkout(
    factory: sessionmaker[Session],
    world: World,
    rng: random.Random,
    *,
    day: date,
    now: datetime,
    tally: CheckoutTally,
    matrix: GeodesicMatrix,
) -> int | None:
    """One customer orders for ``day`` at ``now``; returns the order taken, if any."""
    home = rng.choice(world.homes)
    items = basket(rng, world)
    tally.checkouts += 1
    with session_scope(factory) as session:
        depot = session.get_one(Depot, world.depot_id)
        units = promise.load_units(session, [(i.sku or "", i.quantity) for i in items])
        shown = [
            o
            for o in promise.offers(
                session,
                depot=depot,
                lat=home.lat,
                lon=home.lon,
                now=now,
                days=2,
                units=units,
                matrix=matrix,
            )
            if o.day == day
        ]
        available = [o for o in shown if o.available]
        tally.windows_shown += len(shown)
        tally.windows_available += len(available)
        # The customer's preference is random; refused windows are crossed off in turn.
        rng.shuffle(available)
        for offer in available:
            try:
                order_id = _take(session, world, home, offer, items, now)
            except DomainError:
                tally.refused_at_placing += 1
                continue
            tally.taken += 1
            tally.order_ids.append(order_id)
            return order_id
    tally.no_window += 1
    return None


def _take(
    session: Session,
    world: World,
    home: Home,
    offer: promise.Offer,
    items: list[order_services.ItemRequest],
    now: datetime,
) -> int:
    # A savepoint: a refused placement leaves no order behind, as the API's 409 does.
    with session.begin_nested():
        order = order_services.create_order(
            session,
            customer_id=home.customer_id,
            depot_id=world.depot_id,
            delivery_day=offer.day,
            window_start_at=offer.window.start_at,
            window_end_at=offer.window.end_at,
            items=items,
            address_id=home.address_id,
            now=now,
            geocoder=NoGeocoder(),
        )
        promise.place_accepted_order(session, order, now=now)
    return order.id
