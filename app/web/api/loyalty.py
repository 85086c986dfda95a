from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask import abort, current_app, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role
from app.customers.models import Customer
from app.db import utcnow
from app.errors import NotFound, ValidationFailed
from app.orders import services as order_services
from app.orders.models import Order
from app.web import bounds
from app.web.api.common import (
    Boolean,
    BoundedInteger,
    Id,
    MoneyMinor,
    PageArgs,
    Points,
    Text,
    UtcDateTime,
    paginate,
)
from app.web.auth import api_roles, current_api_user
from app.web.bounds import ID_RULE
from app.web.database import db
from app.web.i18n import localize
from loyalty import services as loyalty_services
from loyalty.models import LedgerEntry, LoyaltyAccount
from loyalty.policy import LoyaltyRules

PREFIX = "/customers"
blp = Blueprint("loyalty", __name__, description="Loyalty points: balance, history, redeem")

STAFF = (Role.ADMIN, Role.DISPATCHER, Role.SUPPORT)
EXPIRING_SOON = timedelta(days=30)


class Said(ma.fields.String):
    """A stored text in the caller's Accept-Language (a Message the system wrote is
    translated; what a person typed is kept as written)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else localize(value)


class EntryOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "What the entry is, for programs"})
    points = ma.fields.Integer()
    reason = Said(
        metadata={
            "description": "Why, in plain words: in the Accept-Language when the system "
            "wrote it, as typed when a person did"
        }
    )
    source = ma.fields.String(allow_none=True)
    created_at = UtcDateTime()
    expires_at = UtcDateTime(allow_none=True)


class BalanceOut(ma.Schema):
    customer_id = ma.fields.Integer()
    balance_points = ma.fields.Integer()
    available_points = ma.fields.Integer(metadata={"description": "Not yet expired"})
    owed_points = ma.fields.Integer()
    pending_points = ma.fields.Integer(
        metadata={"description": "What orders on their way will earn when delivered"}
    )
    expiring_soon = ma.fields.List(
        ma.fields.Dict(),
        metadata={"description": "Grants with unused points expiring within 30 days"},
    )


class HistoryOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(EntryOut))
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()
    total = ma.fields.Integer()
    pages = ma.fields.Integer()


class QuoteArgs(ma.Schema):
    order_total_minor = MoneyMinor(required=True, strict=False)


class QuoteOut(ma.Schema):
    balance_points = ma.fields.Integer()
    available_points = ma.fields.Integer()
    cap_points = ma.fields.Integer(metadata={"description": "The most this order may take"})
    usable_points = ma.fields.Integer()
    usable_minor = ma.fields.Integer()


class RedeemIn(ma.Schema):
    order_id = Id(required=True)
    points = Points(required=True)


class AdjustIn(ma.Schema):
    points = BoundedInteger(
        -bounds.POINTS_MAX,
        bounds.POINTS_MAX,
        required=True,
        metadata={
            "description": "+ to add, - to remove; at most ROUNDTRIP_ADJUSTMENT_MAX_POINTS "
            "(default 10,000) either way"
        },
    )
    reason = Text(required=True, min_length=1, max_length=300)
    confirm = Boolean(
        load_default=False,
        metadata={
            "description": "Must be true above ROUNDTRIP_ADJUSTMENT_CONFIRM_POINTS "
            "(default 1,000) either way"
        },
    )


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": True,
    "description": "Any unique string (e.g. a UUID); a retry with the same key and body "
    "answers with the first result and changes nothing.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": "^[!-~]+$"},
}


def _customer(customer_id: int) -> Customer:
    """The customer, if the caller may see them (customers only themselves)."""
    user = current_api_user()
    found = db().get(Customer, customer_id)
    if found is None or (user.role == Role.CUSTOMER and found.user_id != user.id):
        raise NotFound(_("There is no customer %(id)s.", id=customer_id))
    return found


def _idempotency_key(customer_id: int, operation: str) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 80 or not all("!" <= c <= "~" for c in key):
        abort(
            400,
            description=_(
                "Send an Idempotency-Key header (up to 80 visible ASCII characters, "
                "e.g. a UUID) so that a retried request is never applied twice."
            ),
        )
    return f"api:{customer_id}:{operation}:{key}"


def _apply_once(customer_id: int, key: str, write: Callable[[], LedgerEntry]) -> Any:
    """Run a ledger write once per Idempotency-Key and commit it: 201 for the request that
    wrote, the stored entry with 200 and ``Idempotent-Replayed: true`` for every other one.

    The customer's account lock is taken before the key is looked up, so a concurrent
    request with the same key waits for the first one's commit and then finds its entries.
    Should two requests still race to insert the key, the loser's unique-key violation
    becomes a replay too (``write`` then returns the stored entry, or refuses with 409 when
    the key was used for a different request).
    """
    session = db()
    replay = loyalty_services.applied(session, customer_id=customer_id, key=key)
    try:
        entry = write()
        session.commit()
    except IntegrityError:
        session.rollback()
        if not loyalty_services.applied(session, customer_id=customer_id, key=key):
            raise
        entry = write()
        session.commit()
        replay = True
    return (entry, 200, {"Idempotent-Replayed": "true"}) if replay else entry


@blp.route(f"/<{ID_RULE}:customer_id>/points", methods=["GET"])
@api_roles(Role.ADMIN, Role.SUPPORT, Role.CUSTOMER)
@blp.response(200, BalanceOut)
def balance(customer_id: int) -> dict[str, Any]:
    """The balance, what can be spent now, and what expires soon."""
    _customer(customer_id)
    now = utcnow()
    account = db().get(LoyaltyAccount, customer_id)
    grants = loyalty_services.open_grants(db(), customer_id, now=now)
    return {
        "customer_id": customer_id,
        "balance_points": account.balance_points if account else 0,
        "available_points": sum(unused for _, unused in grants),
        "owed_points": account.owed_points if account else 0,
        "pending_points": order_services.pending_points(
            db(), customer_id=customer_id, rules=LoyaltyRules.from_env()
        ),
        "expiring_soon": [
            {
                "points": unused,
                "expires_at": grant.expires_at.isoformat(),
                "reason": localize(grant.reason),
            }
            for grant, unused in grants
            if grant.expires_at is not None and grant.expires_at <= now + EXPIRING_SOON
        ],
    }


@blp.route(f"/<{ID_RULE}:customer_id>/points/history", methods=["GET"])
@api_roles(Role.ADMIN, Role.SUPPORT, Role.CUSTOMER)
@blp.arguments(PageArgs, location="query")
@blp.response(200, HistoryOut)
def history(args: dict[str, Any], customer_id: int) -> dict[str, Any]:
    """Every entry, newest first, each with its reason."""
    _customer(customer_id)
    return paginate(loyalty_services.history_query(customer_id), args["page"], args["page_size"])


@blp.route(f"/<{ID_RULE}:customer_id>/points/quote", methods=["GET"])
@api_roles(Role.ADMIN, Role.SUPPORT, Role.CUSTOMER)
@blp.arguments(QuoteArgs, location="query")
@blp.response(200, QuoteOut)
def quote(args: dict[str, Any], customer_id: int) -> Any:
    """How many points could pay for a cart of this value."""
    _customer(customer_id)
    return loyalty_services.quote(
        db(),
        customer_id=customer_id,
        order_total_minor=args["order_total_minor"],
        now=utcnow(),
        rules=LoyaltyRules.from_env(),
    )


@blp.route(f"/<{ID_RULE}:customer_id>/points/redemptions", methods=["POST"])
@api_roles(Role.CUSTOMER)  # only the customer spends their own points
@blp.arguments(RedeemIn)
@blp.doc(parameters=[IDEMPOTENCY_KEY])
@blp.response(201, EntryOut)
@blp.alt_response(200, schema=EntryOut, description="A replay: the first result")
def redeem(args: dict[str, Any], customer_id: int) -> Any:
    """Pay part of one of the customer's orders with points (Idempotency-Key required)."""
    _customer(customer_id)
    key = _idempotency_key(customer_id, "redeem")
    order = db().get(Order, args["order_id"])
    if order is None or order.customer_id != customer_id:
        raise NotFound(
            _(
                "Customer %(customer)s has no order %(order)s.",
                customer=customer_id,
                order=args["order_id"],
            )
        )

    def write() -> LedgerEntry:
        return loyalty_services.redeem(
            db(),
            customer_id=customer_id,
            order_id=order.id,
            order_ref=order.number,
            order_total_minor=order.total_minor,
            points=args["points"],
            now=utcnow(),
            key=key,
            rules=LoyaltyRules.from_env(),
            user_id=current_api_user().id,
        )

    return _apply_once(customer_id, key, write)


@blp.route(f"/<{ID_RULE}:customer_id>/points/adjustments", methods=["POST"])
@api_roles(Role.ADMIN, Role.SUPPORT)
@blp.arguments(AdjustIn)
@blp.doc(parameters=[IDEMPOTENCY_KEY])
@blp.response(201, EntryOut)
@blp.alt_response(200, schema=EntryOut, description="A replay: the first result")
def adjust(args: dict[str, Any], customer_id: int) -> Any:
    """Staff correction with a mandatory reason, shown to the customer (Idempotency-Key).

    At most ROUNDTRIP_ADJUSTMENT_MAX_POINTS either way; above
    ROUNDTRIP_ADJUSTMENT_CONFIRM_POINTS the body must say `"confirm": true`. The entry
    records who made it.
    """
    _customer(customer_id)
    key = _idempotency_key(customer_id, "adjust")
    cap, threshold = bounds.adjustment_limits(current_app.config)
    if threshold < abs(args["points"]) <= cap and not args["confirm"]:
        raise ValidationFailed(
            {
                "confirm": [
                    _(
                        'Adjusting by more than %(points)s points needs "confirm": true.',
                        points=format_decimal(threshold),
                    )
                ]
            }
        )

    def write() -> LedgerEntry:
        return loyalty_services.adjust(
            db(),
            customer_id=customer_id,
            points=args["points"],
            reason=args["reason"],
            user_id=current_api_user().id,
            now=utcnow(),
            key=key,
            rules=LoyaltyRules.from_env(),
            max_points=cap,
        )

    return _apply_once(customer_id, key, write)
