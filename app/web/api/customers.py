from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import or_, select

from app.accounts.models import Role
from app.customers import services as customer_services
from app.customers.models import Customer
from app.errors import NotFound
from app.web.api.common import Email, PageArgs, Text, UtcDateTime, page_schema, paginate
from app.web.api.orders import AddressOut
from app.web.auth import api_roles
from app.web.bounds import ID_RULE
from app.web.database import db

PREFIX = "/customers"
blp = Blueprint("customers", __name__, description="Customers and their addresses")

STAFF = (Role.ADMIN, Role.DISPATCHER, Role.SUPPORT)


class CustomerIn(ma.Schema):
    name = Text(required=True, min_length=1, max_length=120)
    email = Email(allow_none=True)
    phone = Text(allow_none=True, max_length=32)


class CustomerOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    created_at = UtcDateTime()
    addresses = ma.fields.List(ma.fields.Nested(AddressOut))


class CustomerListArgs(PageArgs):
    q = Text(max_length=254, metadata={"description": "Part of the name, e-mail or phone"})


@blp.route("", methods=["GET"])
@api_roles(*STAFF)
@blp.arguments(CustomerListArgs, location="query")
@blp.response(200, page_schema(CustomerOut, "CustomerPage"))
def list_customers(args: dict[str, Any]) -> dict[str, Any]:
    """Find customers by part of their name, e-mail or phone."""
    query = select(Customer).order_by(Customer.name, Customer.id)
    if args.get("q"):
        like = f"%{args['q'].lower()}%"
        query = query.where(
            or_(Customer.name.ilike(like), Customer.email.ilike(like), Customer.phone.ilike(like))
        )
    return paginate(query, args["page"], args["page_size"])


@blp.route("", methods=["POST"])
@api_roles(*STAFF)
@blp.arguments(CustomerIn)
@blp.response(201, CustomerOut)
def create_customer(args: dict[str, Any]) -> Customer:
    """Register a customer (addresses are added with their first order)."""
    customer = customer_services.create_customer(db(), **args)
    db().commit()
    return customer


@blp.route(f"/<{ID_RULE}:customer_id>", methods=["GET"])
@api_roles(*STAFF)
@blp.response(200, CustomerOut)
def get_customer(customer_id: int) -> Customer:
    customer = db().get(Customer, customer_id)
    if customer is None:
        raise NotFound(_("There is no customer %(id)s.", id=customer_id))
    return customer
