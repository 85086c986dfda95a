from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask_babel import gettext as _
from flask_smorest import Blueprint

from app.accounts.models import Role
from app.customers import services as customer_services
from app.db import utcnow
from app.errors import NotFound
from app.orders import services as order_services
from app.orders.models import ORDER_STATUSES, Order
from app.planning import promise
from app.web.api.common import (
    Date,
    Float,
    Id,
    Length,
    List,
    Nested,
    OneOf,
    PageArgs,
    Quantity,
    Range,
    String,
    Text,
    UtcDateTime,
    page_schema,
    paginate,
)
from app.web.auth import api_roles, current_api_user
from app.web.bounds import ID_RULE
from app.web.database import db
from app.web.geocoder import configured_geocoder

PREFIX = "/orders"
blp = Blueprint("orders", __name__, description="Customer orders and their delivery windows")

STAFF = (Role.ADMIN, Role.DISPATCHER, Role.SUPPORT)


class ItemIn(ma.Schema):
    sku = Text(min_length=1, max_length=40, metadata={"description": "Product SKU (or product_id)"})
    product_id = Id()
    quantity = Quantity(required=True)


class AddressIn(ma.Schema):
    line = Text(required=True, min_length=1, max_length=255)
    lat = Float(allow_none=True, validate=Range(-90, 90))
    lon = Float(allow_none=True, validate=Range(-180, 180))
    instructions = Text(allow_none=True, max_length=255)


class OrderIn(ma.Schema):
    customer_id = Id(required=True)
    depot_id = Id(metadata={"description": "Optional when there is one depot"})
    delivery_day = Date(required=True)
    window_start_at = UtcDateTime(required=True, metadata={"example": "2026-11-25T08:00:00+03:00"})
    window_end_at = UtcDateTime(required=True, metadata={"example": "2026-11-25T10:00:00+03:00"})
    items = List(Nested(ItemIn), required=True, validate=Length(min=1))
    address_id = Id(metadata={"description": "A saved address of the customer"})
    address = Nested(AddressIn, metadata={"description": "Or a new address"})
    external_ref = Text(min_length=1, max_length=64)
    notes = Text(max_length=500)


class AddressOut(ma.Schema):
    id = ma.fields.Integer()
    line = ma.fields.String()
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    coordinate_source = ma.fields.String()
    instructions = ma.fields.String(allow_none=True)


class ItemOut(ma.Schema):
    product_id = ma.fields.Integer()
    sku = ma.fields.Function(lambda item: item.product.sku)
    name = ma.fields.Function(lambda item: item.product.name)
    lot_code = ma.fields.Function(lambda item: item.lot.code if item.lot else None)
    quantity = ma.fields.Integer()
    unit_price_minor = ma.fields.Integer()


class OrderOut(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    external_ref = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    customer_id = ma.fields.Integer()
    depot_id = ma.fields.Integer()
    delivery_day = ma.fields.Date()
    window_start_at = UtcDateTime()
    window_end_at = UtcDateTime()
    window_local = ma.fields.Function(
        lambda o: (
            f"{o.window_start_at.astimezone(ZoneInfo(o.depot.timezone)):%H:%M}–"
            f"{o.window_end_at.astimezone(ZoneInfo(o.depot.timezone)):%H:%M}"
        ),
        metadata={"description": "The window in the depot's local time"},
    )
    total_minor = ma.fields.Integer(metadata={"description": "Order value in minor units"})
    currency = ma.fields.String()
    address = ma.fields.Nested(AddressOut)
    items = ma.fields.List(ma.fields.Nested(ItemOut))
    created_at = UtcDateTime()


class OrderListArgs(PageArgs):
    status = String(validate=OneOf(ORDER_STATUSES))
    delivery_day = Date()
    depot_id = Id(strict=False)
    customer_id = Id(strict=False)


def _own_customer_id() -> int | None:
    """For a customer, the only customer whose orders they may see; None for staff."""
    user = current_api_user()
    if user.role != Role.CUSTOMER:
        return None
    own = customer_services.customer_for_user(db(), user.id)
    return own.id if own is not None else -1


@blp.route("", methods=["POST"])
@api_roles(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(OrderIn)
@blp.response(201, OrderOut)
def create_order(args: dict[str, Any]) -> Order:
    """Take an order for a delivery day and one of the depot's offered windows.

    Every problem in the input is reported at once, by field; nothing is saved unless the
    whole order is valid. When the day already has a plan, the order is inserted into it at
    once; if no courier can take it any more the answer is 409 and nothing is saved.
    """
    session = db()
    address = args.get("address")
    order = order_services.create_order(
        session,
        customer_id=args["customer_id"],
        depot_id=args.get("depot_id"),
        delivery_day=args["delivery_day"],
        window_start_at=args["window_start_at"],
        window_end_at=args["window_end_at"],
        items=[order_services.ItemRequest(**item) for item in args["items"]],
        address_id=args.get("address_id"),
        address=order_services.AddressRequest(**address) if address else None,
        external_ref=args.get("external_ref"),
        notes=args.get("notes"),
        now=utcnow(),
        geocoder=configured_geocoder(),
    )
    # A promise made is a promise kept: the order joins its day's plan now, or is refused.
    promise.place_accepted_order(session, order, now=utcnow())
    session.commit()
    return order


@blp.route("", methods=["GET"])
@api_roles(*STAFF, Role.CUSTOMER)
@blp.arguments(OrderListArgs, location="query")
@blp.response(200, page_schema(OrderOut, "OrderPage"))
def list_orders(args: dict[str, Any]) -> dict[str, Any]:
    """List orders, filtered and paginated; customers see only their own."""
    own = _own_customer_id()
    filters = order_services.OrderFilter(
        status=args.get("status"),
        delivery_day=args.get("delivery_day"),
        depot_id=args.get("depot_id"),
        customer_id=own if own is not None else args.get("customer_id"),
    )
    return paginate(order_services.orders_query(filters), args["page"], args["page_size"])


@blp.route(f"/<{ID_RULE}:order_id>", methods=["GET"])
@api_roles(*STAFF, Role.CUSTOMER)
@blp.response(200, OrderOut)
def get_order(order_id: int) -> Order:
    """One order with its items and address."""
    order = db().get(Order, order_id)
    own = _own_customer_id()
    if order is None or (own is not None and order.customer_id != own):
        raise NotFound(_("There is no order %(id)s.", id=order_id))
    return order
