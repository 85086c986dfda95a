"""Segments from the database: a customer's facts in three aggregate queries, the month's
offers through the ledger, and a demanding customer's feedback routed to who can fix it.

Services take a Session and ``now`` and only flush; the caller commits.

Routing, as decided: when a customer who is *demanding* at that moment rates a delivery,

- a rating of ROUNDTRIP_SEGMENT_LOW_SCORE (2) or less that came with a comment is a delivery
  complaint: it goes to the courier lead (ROUNDTRIP_COURIER_LEAD_EMAIL);
- every return case of the rated order whose reason is defective or damaged is a product
  defect: it goes to the category manager (ROUNDTRIP_CATEGORY_MANAGER_EMAIL).

``notifications.notify_staff`` sends to support's address only, so each message names the
role (and its address, when set) for support to pass on. Each has a key per rating or return
case: routing the same rating again writes nothing new.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.customers.models import Customer
from app.errors import NotFound
from app.messages import Message, say
from app.notifications import services as notifications
from app.orders.models import Order, OrderStatus
from app.quality.models import DeliveryRating
from app.segments.policy import (
    CustomerFacts,
    Offer,
    Segment,
    SegmentId,
    SegmentRules,
    offer_for,
    segments,
)
from loyalty import services as loyalty_services
from loyalty.models import LedgerEntry
from returns.models import ReturnCase
from returns.policy import ReturnReason

__all__ = [
    "DEFECT_REASONS",
    "FeedbackRouting",
    "Segment",
    "SegmentRules",
    "customer_facts",
    "customer_segments",
    "give_offers",
    "offers_due",
    "route_feedback",
]

DEFAULT_RULES = SegmentRules()
# Return reasons that say the product itself was at fault: the category manager's to fix.
DEFECT_REASONS: Mapping[str, Message] = {
    ReturnReason.DEFECTIVE.value: say("a defective item"),
    ReturnReason.DAMAGED.value: say("a damaged item"),
}


def customer_facts(
    session: Session, customer_id: int, now: datetime, *, rules: SegmentRules = DEFAULT_RULES
) -> CustomerFacts:
    """The counts the segments are decided on, at ``now`` (nothing later is counted): one
    aggregate query each over the customer's orders, return cases and ratings."""
    since = now - rules.recent
    delivered = Order.status == OrderStatus.DELIVERED.value
    recent_order = (Order.created_at > since) & delivered
    orders = session.execute(
        select(
            func.count(Order.id).filter(delivered),
            func.count(Order.id).filter(recent_order),
            func.min(case((delivered, Order.created_at))),
        ).where(Order.customer_id == customer_id, Order.created_at <= now)
    ).one()
    returned = session.scalar(
        select(func.count(func.distinct(ReturnCase.order_id))).where(
            ReturnCase.customer_id == customer_id, ReturnCase.created_at <= now
        )
    )
    recent_rating = DeliveryRating.created_at > since
    commented = recent_rating & DeliveryRating.comment.is_not(None) & (DeliveryRating.comment != "")
    ratings = session.execute(
        select(
            func.count(DeliveryRating.id),
            func.count(DeliveryRating.id).filter(recent_rating),
            func.count(DeliveryRating.id).filter(
                recent_rating & (DeliveryRating.score <= rules.low_score)
            ),
            func.count(DeliveryRating.id).filter(commented),
            func.coalesce(func.sum(case((commented, func.length(DeliveryRating.comment)))), 0),
        ).where(DeliveryRating.customer_id == customer_id, DeliveryRating.created_at <= now)
    ).one()
    first = orders[2]
    if first is not None and first.tzinfo is None:  # an aggregate loses the column's type
        first = first.replace(tzinfo=UTC)
    return CustomerFacts(
        delivered_orders=int(orders[0]),
        delivered_recent=int(orders[1]),
        first_delivered_at=first,
        returned_orders=int(returned or 0),
        ratings=int(ratings[0]),
        ratings_recent=int(ratings[1]),
        low_ratings_recent=int(ratings[2]),
        comments_recent=int(ratings[3]),
        comment_chars_recent=int(ratings[4]),
    )


def customer_segments(
    session: Session,
    customer_id: int,
    *,
    now: datetime,
    rules: SegmentRules | None = None,
    tz: tzinfo = UTC,
) -> list[Segment]:
    """The segments the customer is in at ``now``, each with its reason (support's page)."""
    rules = rules or SegmentRules.from_env()
    facts = customer_facts(session, customer_id, now, rules=rules)
    return segments(facts, rules, now, tz=tz)


# --- Offers -------------------------------------------------------------------------------


def offers_due(
    session: Session, *, now: datetime, rules: SegmentRules, limit: int | None = None
) -> list[int]:
    """Customers who may be loyal at ``now`` and have not had this month's loyal offer yet
    (the only segment with an offer), by id; the job decides each with its whole facts."""
    since = now - rules.recent
    offer = offer_for(SegmentId.LOYAL, rules)
    assert offer is not None, "the loyal segment has an offer"
    delivered = Order.status == OrderStatus.DELIVERED.value
    candidates = session.scalars(
        select(Order.customer_id)
        .where(delivered, Order.created_at <= now)
        .group_by(Order.customer_id)
        .having(
            func.count(Order.id).filter(Order.created_at > since) >= rules.loyal_min_orders,
            func.min(Order.created_at) <= now - timedelta(days=rules.loyal_min_days),
        )
        .order_by(Order.customer_id)
    ).all()
    due: list[int] = []
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        keys = {offer.key(c, now): c for c in chunk}
        given = set(
            session.scalars(
                select(LedgerEntry.idempotency_key).where(LedgerEntry.idempotency_key.in_(keys))
            )
        )
        due.extend(c for key, c in keys.items() if key not in given)
        if limit is not None and len(due) >= limit:
            return due[:limit]
    return due


def give_offers(
    session: Session, *, customer_id: int, now: datetime, rules: SegmentRules
) -> list[LedgerEntry]:
    """Credit this month's offer of every segment the customer is in at ``now`` (with the
    segment's reason), once: a second call in the same month writes nothing. Returns the
    entries written now."""
    written: list[LedgerEntry] = []
    for segment in customer_segments(session, customer_id, now=now, rules=rules):
        offer: Offer | None = offer_for(segment, rules)
        if offer is None:
            continue
        key = offer.key(customer_id, now)
        # Looked up first: the rules may have changed since (another number of points), and
        # the ledger would refuse the same key with a different amount.
        if loyalty_services.applied(session, customer_id=customer_id, key=key):
            continue
        written.append(
            loyalty_services.credit_bonus(
                session,
                customer_id=customer_id,
                points=offer.points,
                reason=offer.reason,
                source=f"segment:{segment.id.value}",
                now=now,
                key=key,
            )
        )
        notifications.notify(
            session,
            customer_id=customer_id,
            kind=notifications.NoticeKind.OFFER,
            message=offer.reason,
            key=f"{key}:notice",
            now=now,
        )
    session.flush()
    return written


# --- Routing a demanding customer's feedback ---------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedbackRouting:
    """Who fixes what: the courier lead (delivery complaints), the category manager (product
    defects). Empty: the message still names the role, for support to pass on."""

    courier_lead_email: str = ""
    category_manager_email: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FeedbackRouting:
        env = os.environ if env is None else env
        found = {}
        for field, variable in (
            ("courier_lead_email", "ROUNDTRIP_COURIER_LEAD_EMAIL"),
            ("category_manager_email", "ROUNDTRIP_CATEGORY_MANAGER_EMAIL"),
        ):
            address = env.get(variable, "").strip()
            if address and ("@" not in address or len(address) > 254 or " " in address):
                raise ValueError(f"{variable} must be an e-mail address, not {address!r}")
            found[field] = address
        return cls(**found)

    def courier_lead(self) -> Message:
        if self.courier_lead_email:
            return say("the courier lead (%(email)s)", email=self.courier_lead_email)
        return say("the courier lead")

    def category_manager(self) -> Message:
        if self.category_manager_email:
            return say("the category manager (%(email)s)", email=self.category_manager_email)
        return say("the category manager")


def route_feedback(
    session: Session,
    *,
    rating_id: int,
    now: datetime,
    rules: SegmentRules | None = None,
    routing: FeedbackRouting | None = None,
) -> list[notifications.Notification]:
    """Pass a demanding customer's rating on to who can fix its cause (see the module's
    text); call it in the rating's transaction, after the rating is flushed. Returns the
    staff messages (none when the customer is not demanding, or nothing needs fixing).

    A bad ROUNDTRIP_SEGMENT_* or role address setting raises ValueError naming it."""
    rules = rules or SegmentRules.from_env()
    routing = routing or FeedbackRouting.from_env()
    rating = session.get(DeliveryRating, rating_id)
    if rating is None:
        raise NotFound(say("There is no rating %(id)s.", id=str(rating_id)))
    found = customer_segments(session, rating.customer_id, now=now, rules=rules)
    demanding = next((s for s in found if s.id is SegmentId.DEMANDING), None)
    if demanding is None:
        return []
    customer = session.get_one(Customer, rating.customer_id)
    order = session.get_one(Order, rating.order_id)
    sent: list[notifications.Notification] = []
    if rating.comment and rating.score <= rules.low_score:
        sent.append(
            notifications.notify_staff(
                session,
                kind=notifications.NoticeKind.FEEDBACK,
                message=say(
                    "For %(role)s: %(customer)s, a demanding customer (%(why)s), rated the "
                    "delivery of order %(number)s %(score)s of 5: %(comment)s",
                    role=routing.courier_lead(),
                    customer=customer.name,
                    why=demanding.reason,
                    number=order.number,
                    score=rating.score,
                    comment=rating.comment,
                ),
                key=f"segment-feedback:rating:{rating.id}:courier-lead",
                now=now,
                order_id=order.id,
                email=routing.courier_lead_email,
            )
        )
    defects = session.scalars(
        select(ReturnCase)
        .where(ReturnCase.order_id == order.id, ReturnCase.reason.in_(list(DEFECT_REASONS)))
        .order_by(ReturnCase.id)
    ).all()
    for return_case in defects:
        sent.append(
            notifications.notify_staff(
                session,
                kind=notifications.NoticeKind.FEEDBACK,
                message=say(
                    "For %(role)s: %(customer)s, a demanding customer (%(why)s), returned "
                    "%(what)s from order %(number)s (return R%(case)s): %(description)s",
                    role=routing.category_manager(),
                    customer=customer.name,
                    why=demanding.reason,
                    what=DEFECT_REASONS[return_case.reason],
                    number=order.number,
                    case=return_case.id,
                    description=return_case.description or rating.comment or "",
                ),
                key=f"segment-feedback:return:{return_case.id}:category-manager",
                now=now,
                order_id=order.id,
                case_id=return_case.id,
                email=routing.category_manager_email,
            )
        )
    session.flush()
    return sent
