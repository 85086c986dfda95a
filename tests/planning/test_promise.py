"""The promise engine: windows offered from the plan by insertion, never by a solve."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.planning import promise
from tests.planning.conftest import DAY
from tests.planning.helpers import NEAR, NOW, ST_PETERSBURG, late_order, published


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    promise.clear_cache()
    yield
    promise.clear_cache()


def by_window(offers, day=DAY):  # type: ignore[no-untyped-def]
    return {o.window.label: o for o in offers if o.day == day}


def test_windows_come_from_the_plan_and_close_at_their_cutoff(session, day):
    published(session, day)

    before = by_window(promise.offers(session, depot=day.depot, lat=NEAR[0], lon=NEAR[1], now=NOW))
    assert [(label, o.available) for label, o in before.items()] == [
        ("08:00–10:00", True),
        ("20:00–22:00", True),
    ]

    midnight = datetime(2030, 1, 14, 21, tzinfo=UTC)  # 00:00 in Moscow: 08:00 closed at 23:30
    after = by_window(
        promise.offers(session, depot=day.depot, lat=NEAR[0], lon=NEAR[1], now=midnight, days=1)
    )
    morning = after["08:00–10:00"]
    assert (morning.available, morning.reason) == (False, "CUTOFF_PASSED")
    assert morning.message == "Orders for this window closed at 23:30 on 14 Jan 2030."
    assert after["20:00–22:00"].available


def test_too_far_and_too_big_are_told_apart(session, day):
    published(session, day)

    far = by_window(
        promise.offers(
            session, depot=day.depot, lat=ST_PETERSBURG[0], lon=ST_PETERSBURG[1], now=NOW
        )
    )
    assert {o.reason for o in far.values()} == {"WINDOW_UNREACHABLE"}
    big = by_window(
        promise.offers(session, depot=day.depot, lat=NEAR[0], lon=NEAR[1], now=NOW, units=60)
    )
    assert {o.reason for o in big.values()} == {"CAPACITY"}


def test_an_order_taken_in_an_offered_window_fills_the_plan(session, day):
    plan = published(session, day)
    ask = {"depot": day.depot, "lat": NEAR[0], "lon": NEAR[1], "now": NOW, "units": 30}
    assert by_window(promise.offers(session, **ask))["08:00–10:00"].available

    heavy = late_order(session, day, "RT-HEAVY", *NEAR, hour_utc=5, units=30)  # 08:00 local
    promise.place_accepted_order(session, heavy, now=NOW)

    assert heavy.id in {v.stop.order_id for r in plan.routes for v in r.visits}
    # 30 of the car's 50 units are now taken: another 30 no longer fits (the cache follows
    # the plan's revision), 20 still does.
    assert by_window(promise.offers(session, **ask))["08:00–10:00"].reason == "CAPACITY"
    ask["units"] = 20
    assert by_window(promise.offers(session, **ask))["08:00–10:00"].available


def test_without_a_plan_the_fleet_and_the_goods_already_accepted_decide(session, day):
    ask = {"depot": day.depot, "lat": NEAR[0], "lon": NEAR[1], "now": NOW}
    assert all(o.available for o in by_window(promise.offers(session, **ask, units=40)).values())

    late_order(session, day, "RT-BULK", *NEAR, hour_utc=9, units=20)

    full = by_window(promise.offers(session, **ask, units=40)).values()
    assert {o.reason for o in full} == {"CAPACITY"}
    far = promise.offers(session, **{**ask, "lat": ST_PETERSBURG[0], "lon": ST_PETERSBURG[1]})
    assert {o.reason for o in by_window(far).values()} == {"WINDOW_UNREACHABLE"}
