"""Customers (phone layout): their orders and what happens next."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.customers import services as customer_services
from app.db import utcnow
from app.history import services as history_services
from app.history.events import Audience
from app.orders import services as order_services
from app.orders.models import Order
from app.web.auth import area_required
from app.web.database import db
from app.web.support import history_words, kinds_arg, page_arg
from loyalty import services as loyalty_services
from loyalty.models import LoyaltyAccount
from loyalty.policy import LoyaltyRules

bp = Blueprint("portal", __name__, url_prefix="/portal")

NEXT_STEP = {
    "new": _l("We have your order and will plan the courier's route the evening before."),
    "planned": _l("A courier is assigned; you will get a narrower arrival time on the day."),
    "out_for_delivery": _l("The courier is on the way."),
    "delivered": _l("Delivered. Something wrong with it? You can start a return."),
    "failed": _l("The courier could not deliver; we will contact you to arrange a new time."),
    "held": _l("We are holding this order while we check its goods; we will write to you."),
    "cancelled": _l("This order was cancelled."),
}


@bp.get("/")
@area_required("portal")
def index() -> str:
    customer = customer_services.customer_for_user(db(), current_user.id)
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


@bp.get("/points")
@area_required("portal")
def points() -> str:
    customer = customer_services.customer_for_user(db(), current_user.id)
    account = entries = grants = None
    pending = 0
    if customer is not None:
        pending = order_services.pending_points(
            db(), customer_id=customer.id, rules=LoyaltyRules.from_env()
        )
        account = db().get(LoyaltyAccount, customer.id)
        entries = db().scalars(loyalty_services.history_query(customer.id).limit(100)).all()
        grants = loyalty_services.open_grants(db(), customer.id, now=utcnow())
    soon = utcnow() + timedelta(days=30)
    return render_template(
        "portal/points.html",
        account=account,
        entries=entries or [],
        expiring=[(g, unused) for g, unused in grants or [] if g.expires_at <= soon],
        available=sum(unused for _, unused in grants or []),
        pending=pending,
    )


PER_PAGE = 20  # a phone screen or two


@bp.get("/history")
@area_required("portal")
def history() -> str:
    """My history: everything that happened with my orders, returns, points and requests,
    newest first (the customer's version: no staff notes, no internal details)."""
    customer = customer_services.customer_for_user(db(), current_user.id)
    kinds = kinds_arg(Audience.CUSTOMER)
    page = page_arg()
    found = None
    if customer is not None:
        found = history_services.timeline(
            db(),
            customer.id,
            audience=Audience.CUSTOMER,
            kinds=kinds,
            page=page,
            per_page=PER_PAGE,
        )
    return render_template(
        "portal/history.html",
        customer=customer,
        history=found,
        all_kinds=history_services.kinds_for(Audience.CUSTOMER),
        chosen=sorted(kinds or ()),
        **history_words(),
    )
