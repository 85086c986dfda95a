"""Customers (phone layout): their orders and what happens next."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from app.customers.models import Customer
from app.orders.models import Order
from app.web.auth import area_required
from app.web.database import db

bp = Blueprint("portal", __name__, url_prefix="/portal")

NEXT_STEP = {
    "new": "We have your order and will plan the courier's route the evening before.",
    "planned": "A courier is assigned; you will get a narrower arrival time on the day.",
    "out_for_delivery": "The courier is on the way.",
    "delivered": "Delivered. Something wrong with it? You can start a return.",
    "failed": "The courier could not deliver; we will contact you to arrange a new time.",
    "held": "We are holding this order while we check its goods; we will write to you.",
    "cancelled": "This order was cancelled.",
}


@bp.get("/")
@area_required("portal")
def index() -> str:
    customer = db().scalar(select(Customer).where(Customer.user_id == current_user.id))
    orders = []
    if customer is not None:
        orders = (
            db()
            .scalars(
                select(Order)
                .where(Order.customer_id == customer.id)
                .order_by(Order.delivery_day.desc(), Order.window_start_at)
            )
            .all()
        )
    return render_template(
        "portal/index.html", customer=customer, orders=orders, next_step=NEXT_STEP
    )
