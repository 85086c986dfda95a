"""``simulate``: whole days run through the product's own services on a simulated clock.

Calendar day by calendar day, one agenda holds everything in time order: the orders for
tomorrow arriving from the morning until the 23:00 cut-off, the evening's planning waves
(a draft at 18:00 that later checkouts are promised against, the final one at the cut-off
that publishes), today's couriers on the street, the late watch every ten minutes, and
what customers and support do after a delivery. The figures come from the database after
each day (see ``figures``).

Same seed and start day, same orders, windows and street; only a time-limited solver may
plan differently, and what follows from its plan with it.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.errors import Conflict
from app.messages import say
from app.orders.models import Order
from app.planning import jobs, promise
from app.simulation import figures, world
from app.simulation.aftercare import Aftercare, AftercareTally, Habits
from app.simulation.checkout import CheckoutTally, arrival_times, checkout
from app.simulation.clock import Agenda, stamp_defaults
from app.simulation.couriers import Behaviour, CourierDay
from routing.matrix import GeodesicMatrix

MAX_DAYS = 60
MAX_ORDERS_PER_DAY = 5000
WATCH_EVERY = timedelta(minutes=10)
WATCH_FROM, WATCH_UNTIL = time(7, 30), time(21, 30)
COURIERS_START = time(6, 0)
WORKSHOP_AT = time(21, 45)  # failed vehicles back in service, before the final wave


@dataclass(frozen=True, slots=True)
class Settings:
    days: int
    orders_per_day: int
    start: date
    seed: int = 1
    time_limit_s: float | None = None  # None: the product's own budget (services.time_budget)
    draft_waves: Sequence[time] = (time(18, 0),)
    behaviour: Behaviour = field(default_factory=Behaviour)
    habits: Habits = field(default_factory=Habits)

    def __post_init__(self) -> None:
        if not 1 <= self.days <= MAX_DAYS:
            raise ValueError(f"days must be 1..{MAX_DAYS}")
        if not 1 <= self.orders_per_day <= MAX_ORDERS_PER_DAY:
            raise ValueError(f"orders_per_day must be 1..{MAX_ORDERS_PER_DAY}")

    @property
    def last_day(self) -> date:
        return self.start + timedelta(days=self.days - 1)


@dataclass(frozen=True, slots=True)
class Result:
    total: figures.Figures
    days: tuple[figures.Figures, ...]
    # Rows that services created without a ``now`` of their own (table -> rows): given the
    # simulated moment by the clock's stamp instead of the wall clock's column default.
    stamped: dict[str, int]


class AlreadySimulated(Conflict):
    """The simulated depot already has orders on one of the days asked for."""


def _moment(day: date, at: time, settings_world: world.World) -> datetime:
    return datetime.combine(day, at, tzinfo=settings_world.tz)


def simulate(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    progress: Callable[[figures.Figures], None] | None = None,
) -> Result:
    """Run ``settings.days`` days from ``settings.start``; returns their figures."""
    tz = ZoneInfo(world.TIMEZONE)
    eve = settings.start - timedelta(days=1)
    agenda = Agenda(datetime.combine(eve, time(7, 0), tzinfo=tz))
    promise.clear_cache()  # a cache from an earlier run in this process knows other plans
    per_day: list[figures.Figures] = []
    tally = CheckoutTally()
    care = AftercareTally()
    with stamp_defaults(factory, agenda) as stamped:
        with session_scope(factory) as session:
            sim = world.ensure_world(
                session, orders_per_day=settings.orders_per_day, seed=settings.seed
            )
            _refuse_days_done(session, sim, settings)
            for n in range(settings.days):
                world.ensure_shifts(session, sim, settings.start + timedelta(days=n))
        matrix = GeodesicMatrix()
        for n in range(-1, settings.days):
            today = settings.start + timedelta(days=n)
            tomorrow = today + timedelta(days=1)
            day_tally = None
            if tomorrow <= settings.last_day:
                day_tally = _plan_orders(factory, sim, settings, agenda, tomorrow, matrix)
            street = None
            if n >= 0:
                street = _plan_street(factory, sim, settings, agenda, today, care)
            agenda.run_until(_moment(tomorrow, time(0, 0), sim))
            if day_tally is not None:
                tally.add(day_tally)
            if street is not None:
                with session_scope(factory) as session:
                    day_figures = figures.measure(
                        session, depot_id=sim.depot_id, first_day=today, last_day=today
                    )
                per_day.append(day_figures)
                if progress is not None:
                    progress(day_figures)
        # Returns or answers due after the last simulated day are not simulated.
        agenda.drop_all()
        with session_scope(factory) as session:
            total = figures.measure(
                session,
                depot_id=sim.depot_id,
                first_day=settings.start,
                last_day=settings.last_day,
                checkout=figures.Checkout(
                    checkouts=tally.checkouts,
                    windows_shown=tally.windows_shown,
                    windows_available=tally.windows_available,
                    refused_at_placing=tally.refused_at_placing,
                    no_window=tally.no_window,
                ),
            )
    return Result(total=total, days=tuple(per_day), stamped=dict(Counter(stamped)))


def _refuse_days_done(session: Session, sim: world.World, settings: Settings) -> None:
    taken = session.scalar(
        select(func.count(Order.id)).where(
            Order.depot_id == sim.depot_id,
            Order.delivery_day >= settings.start,
            Order.delivery_day <= settings.last_day,
        )
    )
    if taken:
        raise AlreadySimulated(
            say(
                "The simulated depot already has %(n)s orders between %(first)s and %(last)s; "
                "choose other days with --start.",
                n=int(taken),
                first=settings.start,
                last=settings.last_day,
            )
        )


def _plan_orders(
    factory: sessionmaker[Session],
    sim: world.World,
    settings: Settings,
    agenda: Agenda,
    day: date,
    matrix: GeodesicMatrix,
) -> CheckoutTally:
    """Put on the agenda the checkouts for ``day`` (the evening before) and its waves."""
    rng = random.Random(f"{settings.seed}:orders:{day.isoformat()}")
    tally = CheckoutTally()
    eve = day - timedelta(days=1)

    def order(now: datetime) -> None:
        checkout(factory, sim, rng, day=day, now=now, tally=tally, matrix=matrix)

    for moment in arrival_times(rng, day, sim, settings.orders_per_day, world.CUTOFF_MINUTE):
        agenda.at(moment, order)
    for at in settings.draft_waves:
        agenda.at(
            _moment(eve, at, sim),
            lambda t: _wave(factory, sim, settings, t, final=False),
        )
    cutoff = datetime.combine(eve, time(0), tzinfo=sim.tz) + timedelta(minutes=world.CUTOFF_MINUTE)
    agenda.at(cutoff, lambda t: _wave(factory, sim, settings, t, final=True))
    return tally


def _wave(
    factory: sessionmaker[Session],
    sim: world.World,
    settings: Settings,
    now: datetime,
    *,
    final: bool,
) -> None:
    jobs.planning_wave(
        factory,
        now=now,
        final=final,
        time_limit_s=settings.time_limit_s,
        depot_ids=[sim.depot_id],
    )


def _plan_street(
    factory: sessionmaker[Session],
    sim: world.World,
    settings: Settings,
    agenda: Agenda,
    day: date,
    care: AftercareTally,
) -> CourierDay:
    """Put on the agenda ``day``'s couriers, the late watch and the overnight workshop."""
    aftercare = Aftercare(
        factory=factory,
        world=sim,
        agenda=agenda,
        rng=random.Random(f"{settings.seed}:aftercare:{day.isoformat()}"),
        habits=settings.habits,
        tally=care,
    )
    street = CourierDay(
        factory=factory,
        world=sim,
        day=day,
        agenda=agenda,
        rng=random.Random(f"{settings.seed}:street:{day.isoformat()}"),
        behaviour=settings.behaviour,
        time_limit_s=settings.time_limit_s,
        on_delivered=aftercare.delivered,
    )
    agenda.at(_moment(day, COURIERS_START, sim), street.start)
    tick = _moment(day, WATCH_FROM, sim)
    while tick <= _moment(day, WATCH_UNTIL, sim):
        agenda.at(tick, street.watch)
        tick += WATCH_EVERY
    agenda.at(_moment(day, WORKSHOP_AT, sim), street.close)
    return street
