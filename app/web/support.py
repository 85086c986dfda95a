"""Support agents: find a customer and see their orders in one place."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, or_, select

from app.customers.models import Customer
from app.orders.models import Order
from app.web.auth import area_required
from app.web.database import db

bp = Blueprint("support", __name__, url_prefix="/support")


@bp.get("/")
@area_required("support")
def index() -> str:
    q = request.args.get("q", "").strip()
    query = (
        select(Customer, func.count(Order.id))
        .outerjoin(Order, Order.customer_id == Customer.id)
        .group_by(Customer.id)
        .order_by(Customer.name)
        .limit(50)
    )
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(
                Customer.name.ilike(like),
                Customer.email.ilike(like),
                Customer.phone.ilike(like),
                Customer.id == (int(q) if q.isdigit() else -1),
            )
        )
    return render_template("support/index.html", q=q, rows=db().execute(query).all())


@bp.get("/customers/<int:customer_id>")
@area_required("support")
def customer(customer_id: int) -> str:
    found = db().get(Customer, customer_id)
    if found is None:
        abort(404)
    orders = (
        db()
        .scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.delivery_day.desc())
        )
        .all()
    )
    return render_template("support/customer.html", customer=found, orders=orders)
