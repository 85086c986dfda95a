"""Which segments a customer is in, and why: pure rules over counts, no database.

The rules, as decided (every number is a setting, ``SegmentRules.from_env``):

- "Delivered orders" are orders with status delivered, counted by when they were placed
  (``Order.created_at``). "The last 180 days" (ROUNDTRIP_SEGMENT_RECENT_DAYS) is the moments
  after ``now - 180 days`` up to ``now``: an order placed exactly 180 days ago no longer counts.
- **loyal** (frequent and long-standing): at least 6 delivered orders in the last 180 days
  (ROUNDTRIP_SEGMENT_LOYAL_MIN_ORDERS), and the first delivered order was placed at least
  180 days ago (ROUNDTRIP_SEGMENT_LOYAL_MIN_DAYS; exactly 180 days is enough).
- **careful** (returns rarely, rates rarely), over the whole history: at least 3 delivered
  orders (ROUNDTRIP_SEGMENT_CAREFUL_MIN_ORDERS); orders with a return case (any reason, any
  outcome: the customer asked to send something back) at most 5 % of the delivered orders
  (ROUNDTRIP_SEGMENT_CAREFUL_MAX_RETURN_PERCENT; exactly 5 % is still careful); ratings at
  most 20 % of the delivered orders (ROUNDTRIP_SEGMENT_CAREFUL_MAX_RATED_PERCENT; exactly
  20 % is still careful).
- **demanding** (rates low often, writes detailed comments), over the last 180 days: at
  least 2 ratings of 2 or less (ROUNDTRIP_SEGMENT_LOW_SCORE,
  ROUNDTRIP_SEGMENT_DEMANDING_MIN_LOW_RATINGS), which are at least 30 % of their ratings
  (ROUNDTRIP_SEGMENT_DEMANDING_MIN_LOW_PERCENT; exactly 30 % is enough), and the comments
  they wrote (ratings without a comment are not counted) are 80 characters long or more on
  average (ROUNDTRIP_SEGMENT_DEMANDING_MIN_COMMENT_CHARS; exactly 80 is enough).

A customer may be in several segments; a new customer is in none. Shares are compared in
whole numbers (``part * 100 <= percent * whole``), so a boundary is exact.

Offers: a loyal customer gets ROUNDTRIP_SEGMENT_LOYAL_BONUS_POINTS (100) bonus points once a
calendar month, for their next order; careful and demanding customers get no offer (a
demanding customer's feedback is routed instead, ``app.segments.services.route_feedback``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from app.messages import Message, say, say_n


class SegmentId(StrEnum):
    LOYAL = "loyal"  # frequent and long-standing
    CAREFUL = "careful"  # returns rarely, rates rarely
    DEMANDING = "demanding"  # rates low often, writes detailed comments


SEGMENT_NAMES: Mapping[SegmentId, Message] = {
    SegmentId.LOYAL: say("loyal"),
    SegmentId.CAREFUL: say("careful"),
    SegmentId.DEMANDING: say("demanding"),
}

# field -> (environment variable, lowest, highest)
_BOUNDS: Mapping[str, tuple[str, int, int]] = {
    "recent_days": ("ROUNDTRIP_SEGMENT_RECENT_DAYS", 7, 3650),
    "loyal_min_orders": ("ROUNDTRIP_SEGMENT_LOYAL_MIN_ORDERS", 1, 1000),
    "loyal_min_days": ("ROUNDTRIP_SEGMENT_LOYAL_MIN_DAYS", 0, 3650),
    "careful_min_orders": ("ROUNDTRIP_SEGMENT_CAREFUL_MIN_ORDERS", 1, 1000),
    "careful_max_return_percent": ("ROUNDTRIP_SEGMENT_CAREFUL_MAX_RETURN_PERCENT", 0, 100),
    "careful_max_rated_percent": ("ROUNDTRIP_SEGMENT_CAREFUL_MAX_RATED_PERCENT", 0, 100),
    "low_score": ("ROUNDTRIP_SEGMENT_LOW_SCORE", 1, 4),
    "demanding_min_low_ratings": ("ROUNDTRIP_SEGMENT_DEMANDING_MIN_LOW_RATINGS", 1, 1000),
    "demanding_min_low_percent": ("ROUNDTRIP_SEGMENT_DEMANDING_MIN_LOW_PERCENT", 1, 100),
    "demanding_min_comment_chars": ("ROUNDTRIP_SEGMENT_DEMANDING_MIN_COMMENT_CHARS", 1, 1000),
    "loyal_bonus_points": ("ROUNDTRIP_SEGMENT_LOYAL_BONUS_POINTS", 1, 10_000),
}


@dataclass(frozen=True, slots=True)
class SegmentRules:
    """The thresholds of the segments and the size of their offers (see the module's text).

    Every value is a whole number within its bounds; a value out of them is refused when the
    rules are made, naming the field (or, from the environment, the variable)."""

    recent_days: int = 180
    loyal_min_orders: int = 6
    loyal_min_days: int = 180
    careful_min_orders: int = 3
    careful_max_return_percent: int = 5
    careful_max_rated_percent: int = 20
    low_score: int = 2
    demanding_min_low_ratings: int = 2
    demanding_min_low_percent: int = 30
    demanding_min_comment_chars: int = 80
    loyal_bonus_points: int = 100

    def __post_init__(self) -> None:
        for name, (_, low, high) in _BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(
                    f"SegmentRules.{name} must be a whole number from {low} to {high}, "
                    f"not {value!r}"
                )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SegmentRules:
        """The rules from ROUNDTRIP_SEGMENT_* (each unset one keeps its default)."""
        env = os.environ if env is None else env
        values: dict[str, int] = {}
        for field in fields(cls):
            variable, low, high = _BOUNDS[field.name]
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            if not (raw.isascii() and raw.isdigit() and low <= int(raw) <= high):
                raise ValueError(
                    f"{variable} must be a whole number from {low} to {high}, not {raw!r}"
                )
            values[field.name] = int(raw)
        return cls(**values)

    @property
    def recent(self) -> timedelta:
        return timedelta(days=self.recent_days)


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What the segments are decided on: counts from a customer's history at one moment.

    ``*_recent`` counts are over the rules' recent window (the last 180 days by default);
    the others over the whole history up to that moment."""

    delivered_orders: int = 0
    delivered_recent: int = 0
    first_delivered_at: datetime | None = None  # when the first delivered order was placed
    returned_orders: int = 0  # delivered or not, orders with at least one return case
    ratings: int = 0
    ratings_recent: int = 0
    low_ratings_recent: int = 0  # scored rules.low_score or less
    comments_recent: int = 0  # ratings in the window that came with a comment
    comment_chars_recent: int = 0  # their length in characters, added up


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment a customer is in, with the reason a support agent reads."""

    id: SegmentId
    reason: Message

    @property
    def name(self) -> Message:
        return SEGMENT_NAMES[self.id]


def is_loyal(facts: CustomerFacts, rules: SegmentRules, now: datetime) -> bool:
    return (
        facts.delivered_recent >= rules.loyal_min_orders
        and facts.first_delivered_at is not None
        and now - facts.first_delivered_at >= timedelta(days=rules.loyal_min_days)
    )


def is_careful(facts: CustomerFacts, rules: SegmentRules) -> bool:
    delivered = facts.delivered_orders
    return (
        delivered >= rules.careful_min_orders
        and facts.returned_orders * 100 <= rules.careful_max_return_percent * delivered
        and facts.ratings * 100 <= rules.careful_max_rated_percent * delivered
    )


def is_demanding(facts: CustomerFacts, rules: SegmentRules) -> bool:
    low = facts.low_ratings_recent
    return (
        low >= rules.demanding_min_low_ratings
        and low * 100 >= rules.demanding_min_low_percent * facts.ratings_recent
        and facts.comments_recent > 0
        and facts.comment_chars_recent >= rules.demanding_min_comment_chars * facts.comments_recent
    )


def segments(
    facts: CustomerFacts, rules: SegmentRules, now: datetime, *, tz: tzinfo = UTC
) -> list[Segment]:
    """The segments the facts put a customer in at ``now`` (loyal, careful, demanding, in
    that order), each with its reason; ``tz`` is the calendar "customer since" is told in."""
    found: list[Segment] = []
    if is_loyal(facts, rules, now):
        assert facts.first_delivered_at is not None  # is_loyal checked it
        found.append(
            Segment(
                SegmentId.LOYAL,
                say_n(
                    "%(n)s delivered order in the last %(days)s days, a customer since %(since)s.",
                    "%(n)s delivered orders in the last %(days)s days, a customer since %(since)s.",
                    facts.delivered_recent,
                    days=rules.recent_days,
                    since=facts.first_delivered_at.astimezone(tz).date(),
                ),
            )
        )
    if is_careful(facts, rules):
        found.append(
            Segment(
                SegmentId.CAREFUL,
                say_n(
                    "Returned %(returned)s and rated %(rated)s of %(n)s delivered order.",
                    "Returned %(returned)s and rated %(rated)s of %(n)s delivered orders.",
                    facts.delivered_orders,
                    returned=facts.returned_orders,
                    rated=facts.ratings,
                ),
            )
        )
    if is_demanding(facts, rules):
        found.append(
            Segment(
                SegmentId.DEMANDING,
                say(
                    "%(low)s of %(ratings)s ratings in the last %(days)s days were %(score)s "
                    "or less; their comments are %(chars)s characters long on average.",
                    low=facts.low_ratings_recent,
                    ratings=facts.ratings_recent,
                    days=rules.recent_days,
                    score=rules.low_score,
                    chars=facts.comment_chars_recent // facts.comments_recent,
                ),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class Offer:
    """What a segment gives a customer once a calendar month: bonus points for their next
    order, with the reason the ledger keeps (and the customer reads)."""

    segment: SegmentId
    points: int
    reason: Message

    def key(self, customer_id: int, now: datetime) -> str:
        """The ledger's idempotency key: one offer per segment, customer and month (UTC)."""
        return f"segment:{self.segment.value}:{customer_id}:{now.astimezone(UTC):%Y-%m}"


def offer_for(segment: Segment | SegmentId, rules: SegmentRules) -> Offer | None:
    """The offer a segment brings (None: none). Loyal: bonus points for the next order."""
    segment_id = segment.id if isinstance(segment, Segment) else SegmentId(segment)
    if segment_id is SegmentId.LOYAL:
        return Offer(
            segment_id,
            rules.loyal_bonus_points,
            say(
                "Thank you for ordering with us regularly: %(points)s bonus points for your "
                "next order.",
                points=rules.loyal_bonus_points,
            ),
        )
    return None
