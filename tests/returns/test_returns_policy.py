"""The fast-track policy (X2), rule by rule and at its edges: the last day of the period,
a second incident, the cap; food refunded without a pickup; a swap with nothing in stock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from returns.policy import (
    Line,
    Outcome,
    Resolution,
    ReturnReason,
    ReturnRequest,
    ReturnRules,
    Rule,
    decide,
)

MOSCOW = ZoneInfo("Europe/Moscow")
DELIVERED = datetime(2030, 3, 1, 15, 0, tzinfo=MOSCOW)
KETTLE = Line(unit_price_minor=3_499_00, quantity=1, food=False)
YOGHURT = Line(unit_price_minor=89_00, quantity=4, food=True)
RULES = ReturnRules()


def ask(**changes: object) -> ReturnRequest:
    request = {
        "reason": ReturnReason.DEFECTIVE,
        "resolution": Resolution.REFUND,
        "lines": (KETTLE,),
        "delivered_at": DELIVERED,
        "now": DELIVERED + timedelta(days=2),
        "tz": MOSCOW,
        **changes,
    }
    return ReturnRequest(**request)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("now", "outcome"),
    [
        (datetime(2030, 3, 15, 23, 59, 59, tzinfo=MOSCOW), Outcome.APPROVED),  # the last day
        (datetime(2030, 3, 16, 0, 0, tzinfo=MOSCOW), Outcome.DECLINED),  # the day after
    ],
)
def test_the_return_period_ends_at_midnight_after_its_last_day(now, outcome):
    decision = decide(ask(now=now))

    assert decision.outcome is outcome
    if outcome is Outcome.DECLINED:
        assert decision.rule is Rule.OUTSIDE_PERIOD
        assert "14 days after delivery" in decision.reason
        assert "warranty" in decision.reason  # what the customer can still do


def test_a_defective_kettle_is_approved_at_once_with_a_tenth_of_its_price_in_points():
    decision = decide(ask())

    assert (decision.rule, decision.outcome) == (Rule.FAST_TRACK, Outcome.APPROVED)
    assert decision.bonus_points == 349  # 10 % of 3,499.00 at 1.00 a point
    assert (decision.refund_now, decision.pickup, decision.delivery) == (True, True, False)


def test_a_second_incident_within_90_days_doubles_the_bonus_up_to_the_cap():
    assert decide(ask(incidents_in_repeat_window=1)).bonus_points == 698
    big = Line(unit_price_minor=60_000_00, quantity=1, food=False)
    assert decide(ask(lines=(big,))).bonus_points == RULES.bonus_cap_points
    assert decide(ask(lines=(big,), incidents_in_repeat_window=1)).bonus_points == 1_000


def test_a_replacement_in_stock_is_one_visit_and_out_of_stock_a_refund():
    swap = decide(ask(resolution=Resolution.REPLACEMENT))
    nothing = decide(ask(resolution=Resolution.EXCHANGE, in_stock=False))

    assert (swap.pickup, swap.delivery, swap.refund_now) == (True, True, False)
    assert (nothing.pickup, nothing.delivery, nothing.refund_now) == (True, False, True)
    assert "none in stock" in nothing.reason


@pytest.mark.parametrize("reason", [ReturnReason.DEFECTIVE, ReturnReason.DAMAGED])
def test_bad_food_is_refunded_without_a_pickup(reason):
    decision = decide(ask(reason=reason, lines=(YOGHURT,)))

    assert (decision.rule, decision.outcome) == (Rule.FOOD_REFUND, Outcome.APPROVED)
    assert (decision.refund_now, decision.pickup) == (True, False)
    assert decision.bonus_points == 35  # 10 % of 4 x 89.00


@pytest.mark.parametrize("reason", [ReturnReason.CHANGED_MIND, ReturnReason.NOT_AS_DESCRIBED])
def test_other_reasons_take_the_standard_path_with_a_promised_answer(reason):
    now = DELIVERED + timedelta(days=3)

    decision = decide(ask(reason=reason, now=now))

    assert (decision.rule, decision.outcome) == (Rule.STANDARD, Outcome.UNDER_REVIEW)
    assert (decision.bonus_points, decision.refund_now, decision.pickup) == (0, False, True)
    assert decision.respond_by == now + timedelta(hours=48)


def test_items_already_returned_are_declined_with_where_to_look():
    decision = decide(ask(already_returned=True))

    assert (decision.rule, decision.outcome) == (Rule.ALREADY_RETURNED, Outcome.DECLINED)
    assert "already in a return" in decision.reason


def test_the_rules_come_from_the_environment():
    rules = ReturnRules.from_env(
        {"ROUNDTRIP_RETURN_DAYS": "30", "ROUNDTRIP_RETURN_BONUS_CAP": "50"}
    )

    assert (rules.return_days, rules.bonus_cap_points) == (30, 50)
    assert decide(ask(now=DELIVERED + timedelta(days=20)), rules).outcome is Outcome.APPROVED


def test_a_basket_with_food_and_a_kettle_is_collected_not_refunded_without_a_pickup():
    decision = decide(ask(reason=ReturnReason.DAMAGED, lines=(YOGHURT, KETTLE)))

    assert decision.rule is Rule.FAST_TRACK
    assert decision.pickup
