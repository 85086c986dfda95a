"""Support agents: find a customer and see their orders in one place."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from app.accounts.models import User
from app.customers.models import Customer
from app.db import utcnow
from app.errors import ValidationFailed
from app.orders.models import Order
from app.web import bounds
from app.web.auth import area_required
from app.web.database import db
from app.web.filters import signed_number
from app.web.forms import AdjustPointsForm
from app.web.i18n import localize
from loyalty import services as loyalty_services
from loyalty.models import LedgerEntry, LoyaltyAccount
from loyalty.policy import LoyaltyRules

bp = Blueprint("support", __name__, url_prefix="/support")


@bp.get("/")
@area_required("support")
def index() -> str:
    q = request.args.get("q", "").strip()
    q_error = bounds.text_problem(q) or (
        _("Search for at most 254 characters.") if len(q) > 254 else None
    )
    if q_error:
        flash(_("Search: %(problem)s", problem=q_error), "warning")
        q = ""
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
                Customer.id == (int(q) if bounds.is_id(q) else -1),
            )
        )
    return render_template("support/index.html", q=q, rows=db().execute(query).all())


@bp.get(f"/customers/<{bounds.ID_RULE}:customer_id>")
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


@bp.route(f"/customers/<{bounds.ID_RULE}:customer_id>/points", methods=["GET", "POST"])
@area_required("support")
def points(customer_id: int) -> str | Response | tuple[str, int]:
    found = db().get(Customer, customer_id)
    if found is None:
        abort(404)
    form = AdjustPointsForm()
    confirm = None
    cap, threshold = bounds.adjustment_limits(current_app.config)
    if form.validate_on_submit():
        points = int(form.points.data or 0)  # present: InputRequired
        if threshold < abs(points) <= cap and not form.confirmed.data:
            # Saved only once the agent confirms: an extra zero typed by mistake costs nothing.
            confirm = (
                ngettext(
                    "Add %(points)s point to %(name)s?",
                    "Add %(points)s points to %(name)s?",
                    points,
                    points=format_decimal(points),
                    name=found.name,
                )
                if points > 0
                else ngettext(
                    "Remove %(points)s point from %(name)s?",
                    "Remove %(points)s points from %(name)s?",
                    -points,
                    points=format_decimal(-points),
                    name=found.name,
                )
            )
        else:
            try:
                entry = loyalty_services.adjust(
                    db(),
                    customer_id=customer_id,
                    points=points,
                    reason=form.reason.data,
                    user_id=current_user.id,
                    now=utcnow(),
                    key=f"page:{customer_id}:adjust:{form.token.data}",
                    rules=LoyaltyRules.from_env(),
                    max_points=cap,
                )
            except ValidationFailed as exc:
                for field, messages in exc.errors.items():
                    getattr(form, field).errors.extend(messages)
            else:
                db().commit()
                flash(
                    ngettext(
                        "Adjusted by %(points)s point: %(reason)s",
                        "Adjusted by %(points)s points: %(reason)s",
                        abs(entry.points),
                        points=signed_number(entry.points),
                        reason=localize(entry.reason),
                    ),
                    "success",
                )
                return redirect(url_for("support.points", customer_id=customer_id))
    if not form.token.data:
        form.token.data = uuid.uuid4().hex
    entries = db().scalars(loyalty_services.history_query(customer_id).limit(200)).all()
    actors = dict(
        db()
        .execute(
            select(User.id, User.name)
            .join(LedgerEntry, LedgerEntry.created_by_user_id == User.id)
            .where(LedgerEntry.customer_id == customer_id)
            .distinct()
        )
        .all()
    )
    page = render_template(
        "support/points.html",
        customer=found,
        form=form,
        entries=entries,
        actors=actors,
        confirm=confirm,
        account=db().get(LoyaltyAccount, customer_id),
    )
    return (page, 400) if form.errors else page
