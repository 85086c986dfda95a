"""The fast-track return policy (X2): pure rules, no database, every decision with a rule id
and a reason the customer reads.

- A defective, damaged or wrong **non-food** item inside the return period is approved at
  once with an apology bonus; a replacement or exchange becomes one visit (pickup and
  delivery) if the item is in stock, else the customer is refunded; a refund is paid at once
  and the item collected.
- A defective, damaged or wrong **food** item is refunded at once, without a pickup (nobody
  wants a spoiled yoghurt back), with an apology bonus.
- "Not as described" and "changed my mind" take the standard path: the item is collected, a
  person looks at it, the refund follows on receipt, no bonus; the customer is told by when
  they will hear back.
- Outside the return period, or for items already returned, the return is declined with the
  reason and what the customer can still do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from app.messages import Message, say, say_n


class ReturnReason(StrEnum):
    DEFECTIVE = "defective"
    DAMAGED = "damaged"  # in delivery
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    CHANGED_MIND = "changed_mind"


class Resolution(StrEnum):
    REFUND = "refund"
    REPLACEMENT = "replacement"  # a new one brought, the faulty one collected: one visit
    EXCHANGE = "exchange"  # the same at the door, for another item of the order's kind


class Outcome(StrEnum):
    APPROVED = "approved"
    UNDER_REVIEW = "under_review"  # the standard path: a person decides on receipt
    DECLINED = "declined"


class Rule(StrEnum):
    """Which rule decided: kept on the case, so that every decision can be explained."""

    FAST_TRACK = "X2-fast-track"
    FOOD_REFUND = "X2-food-refund"
    STANDARD = "X2-standard"
    OUTSIDE_PERIOD = "X2-outside-period"
    ALREADY_RETURNED = "X2-already-returned"


FAULTS = frozenset({ReturnReason.DEFECTIVE, ReturnReason.DAMAGED, ReturnReason.WRONG_ITEM})


@dataclass(frozen=True, slots=True)
class ReturnRules:
    return_days: int = 14  # after delivery, the last day included
    bonus_percent: int = 10  # of the returned items' price, in points
    repeat_multiplier: int = 2  # a second incident within repeat_days
    repeat_days: int = 90
    bonus_cap_points: int = 1_000
    point_value_minor: int = 100  # one point is worth 1.00 of the currency (the ledger's)
    standard_response: timedelta = timedelta(days=2)
    fast_response: timedelta = timedelta(hours=2)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReturnRules:
        env = os.environ if env is None else env
        return cls(
            return_days=int(env.get("ROUNDTRIP_RETURN_DAYS", "14")),
            bonus_percent=int(env.get("ROUNDTRIP_RETURN_BONUS_PERCENT", "10")),
            repeat_multiplier=int(env.get("ROUNDTRIP_RETURN_REPEAT_MULTIPLIER", "2")),
            bonus_cap_points=int(env.get("ROUNDTRIP_RETURN_BONUS_CAP", "1000")),
            point_value_minor=int(env.get("ROUNDTRIP_LOYALTY_POINT_VALUE_MINOR", "100")),
            standard_response=timedelta(
                hours=int(env.get("ROUNDTRIP_RETURN_RESPONSE_HOURS", "48"))
            ),
        )


@dataclass(frozen=True, slots=True)
class Line:
    """One returned line: its price each, how many, and whether it is food."""

    unit_price_minor: int
    quantity: int
    food: bool


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    reason: ReturnReason
    resolution: Resolution
    lines: Sequence[Line]
    delivered_at: datetime
    now: datetime
    tz: tzinfo = UTC  # the shop's: "the last day" is a day of its calendar
    already_returned: bool = False
    incidents_in_repeat_window: int = 0  # earlier fault returns by this customer
    in_stock: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    rule: Rule
    outcome: Outcome
    reason: Message  # what the customer reads
    bonus_points: int = 0
    refund_now: bool = False  # paid when approved, not on receipt
    pickup: bool = False  # the item is collected from the customer
    delivery: bool = False  # a replacement or an exchange is brought (with the pickup)
    respond_by: datetime | None = None


def period_end(delivered_at: datetime, rules: ReturnRules, tz: tzinfo) -> datetime:
    """The end of the return period: midnight after its last day, on the shop's calendar
    (delivered on the 1st with 14 days: returns are taken until the 15th, 23:59)."""
    last = delivered_at.astimezone(tz).date() + timedelta(days=rules.return_days)
    return datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def bonus(lines: Sequence[Line], incidents: int, rules: ReturnRules) -> int:
    """The apology: a share of what the returned items cost, more for a repeat, capped."""
    value_minor = sum(line.unit_price_minor * line.quantity for line in lines)
    points = value_minor * rules.bonus_percent // (100 * rules.point_value_minor)
    if incidents > 0:
        points *= rules.repeat_multiplier
    return max(1, min(points, rules.bonus_cap_points)) if value_minor > 0 else 0


def decide(request: ReturnRequest, rules: ReturnRules | None = None) -> Decision:
    rules = rules or ReturnRules()
    now = request.now
    if request.already_returned:
        return Decision(
            Rule.ALREADY_RETURNED,
            Outcome.DECLINED,
            say(
                "These items are already in a return, so they cannot be returned again. The "
                "first return's page shows how it is going; write to us there if something "
                "is wrong with it."
            ),
        )
    deadline = period_end(request.delivered_at, rules, request.tz)
    if now >= deadline:
        return Decision(
            Rule.OUTSIDE_PERIOD,
            Outcome.DECLINED,
            say_n(
                "Returns are accepted for %(n)s day after delivery, and this order was "
                "delivered on %(day)s. If the item has stopped working, it may still be "
                "under the maker's warranty: write to us and we will help you with it.",
                "Returns are accepted for %(n)s days after delivery, and this order was "
                "delivered on %(day)s. If the item has stopped working, it may still be "
                "under the maker's warranty: write to us and we will help you with it.",
                rules.return_days,
                day=request.delivered_at.astimezone(request.tz).date(),
            ),
        )
    fault = request.reason in FAULTS
    # Only a basket of food alone is refunded without a pickup: one yoghurt must not make a
    # television's return a refund with nothing collected.
    food = bool(request.lines) and all(line.food for line in request.lines)
    if fault and food:
        return Decision(
            Rule.FOOD_REFUND,
            Outcome.APPROVED,
            say(
                "Approved at once: we are sorry the food was not right. Your money is on its "
                "way back and you do not need to return anything; the bonus points are our "
                "apology."
            ),
            bonus_points=bonus(request.lines, request.incidents_in_repeat_window, rules),
            refund_now=True,
            respond_by=now,
        )
    if fault:
        points = bonus(request.lines, request.incidents_in_repeat_window, rules)
        swap = request.resolution in (Resolution.REPLACEMENT, Resolution.EXCHANGE)
        if swap and request.in_stock:
            reason = say(
                "Approved at once, and we are sorry. A courier will bring the new one and take "
                "the faulty one in the same visit; you will see the window as soon as the next "
                "plan is made. The bonus points are our apology."
            )
            return Decision(
                Rule.FAST_TRACK,
                Outcome.APPROVED,
                reason,
                points,
                pickup=True,
                delivery=True,
                respond_by=now,
            )
        reason = (
            say(
                "Approved at once, and we are sorry. We have none in stock to bring you, so "
                "your money is on its way back instead; a courier will collect the item. The "
                "bonus points are our apology."
            )
            if swap
            else say(
                "Approved at once, and we are sorry. Your money is on its way back and a "
                "courier will collect the item; the bonus points are our apology."
            )
        )
        return Decision(
            Rule.FAST_TRACK,
            Outcome.APPROVED,
            reason,
            points,
            refund_now=True,
            pickup=True,
            respond_by=now,
        )
    respond_by = now + rules.standard_response
    return Decision(
        Rule.STANDARD,
        Outcome.UNDER_REVIEW,
        say(
            "We have your return. A courier will collect the item; once we have it, we check "
            "it and refund you. You will hear from us by %(time)s at the latest.",
            time=respond_by.astimezone(request.tz),
        ),
        pickup=True,
        respond_by=respond_by,
    )
