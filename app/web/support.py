"""Support agents: find a customer (by order number, phone, e-mail or name) and see their
whole history in one place, with notes for the next person who helps them."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

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
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.accounts.models import User
from app.customers import services as customer_services
from app.customers.models import Customer
from app.db import utcnow
from app.errors import ValidationFailed
from app.history import services as history_services
from app.history.events import Audience
from app.orders.models import Order
from app.segments import services as segment_services
from app.web import bounds
from app.web.auth import area_required
from app.web.database import db
from app.web.filters import signed_number
from app.web.forms import AdjustPointsForm, StaffNoteForm
from app.web.i18n import localize
from app.web.words import HISTORY_KIND_NAMES, word
from loyalty import services as loyalty_services
from loyalty.models import LedgerEntry, LoyaltyAccount
from loyalty.policy import LoyaltyRules

bp = Blueprint("support", __name__, url_prefix="/support")


PER_PAGE = 25


def page_arg(name: str = "page") -> int:
    """The page number a list was asked for (1 when not given); anything else than a whole
    number from 1 to bounds.PAGE_MAX is refused (422) with the field named."""
    raw = request.args.get(name, "").strip() or "1"
    if raw.isascii() and raw.isdigit() and len(raw) <= 9 and 1 <= int(raw) <= bounds.PAGE_MAX:
        return int(raw)
    raise ValidationFailed(
        {
            name: [
                _(
                    "Page: give a whole number from 1 to %(max)s.",
                    max=format_decimal(bounds.PAGE_MAX),
                )
            ]
        }
    )


def kinds_arg(audience: str) -> set[str] | None:
    """The kinds of history line ticked in the filter (None: all of them)."""
    asked = {k for k in request.args.getlist("kind") if k}
    unknown = sorted(asked - set(history_services.kinds_for(audience)))
    if unknown:
        raise ValidationFailed(
            {
                "kind": [
                    _("Kind: no such kind of history line: %(kinds)s.", kinds=", ".join(unknown))
                ]
            }
        )
    return asked or None


def history_words() -> dict[str, object]:
    return {"kind_name": lambda code: word(HISTORY_KIND_NAMES, code)}


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
    page = page_arg()
    rows, total = customer_services.find_customers(db(), q, page=page, per_page=PER_PAGE)
    return render_template(
        "support/index.html",
        q=q,
        rows=rows,
        total=total,
        page=page,
        pages=-(-total // PER_PAGE),
    )


def _customer_page(
    customer_id: int, *, form: StaffNoteForm | None = None, status: int = 200
) -> tuple[str, int]:
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
    kinds = kinds_arg(Audience.STAFF)
    history = history_services.timeline(
        db(), customer_id, audience=Audience.STAFF, kinds=kinds, page=page_arg()
    )
    page = render_template(
        "support/customer.html",
        customer=found,
        segments=_segments(customer_id),
        orders=orders,
        history=history,
        all_kinds=history_services.kinds_for(Audience.STAFF),
        chosen=sorted(kinds or ()),
        note_form=form or StaffNoteForm(formdata=None),
        **history_words(),
    )
    return page, status


def _segments(customer_id: int) -> list[segment_services.Segment]:
    """The customer's segments and why (L4); none shown while a setting is wrong (logged)."""
    zone = ZoneInfo(current_app.config.get("SCHEDULER_TIMEZONE") or "Europe/Moscow")
    try:
        return segment_services.customer_segments(db(), customer_id, now=utcnow(), tz=zone)
    except ValueError as exc:  # a bad ROUNDTRIP_SEGMENT_* setting must not hide the customer
        current_app.logger.error("segments are not shown: %s", exc)
        return []


@bp.get(f"/customers/<{bounds.ID_RULE}:customer_id>")
@area_required("support")
def customer(customer_id: int) -> tuple[str, int]:
    return _customer_page(customer_id)


@bp.post(f"/customers/<{bounds.ID_RULE}:customer_id>/notes")
@area_required("support")
def add_note(customer_id: int) -> Response | tuple[str, int]:
    if db().get(Customer, customer_id) is None:
        abort(404)
    form = StaffNoteForm()
    if form.validate_on_submit():
        try:
            history_services.add_note(
                db(),
                customer_id=customer_id,
                user_id=current_user.id,
                text=form.text.data or "",
                now=utcnow(),
            )
        except ValidationFailed as exc:
            for messages in exc.errors.values():
                form.text.errors = [*form.text.errors, *(localize(m) for m in messages)]
        else:
            db().commit()
            flash(_("Note saved. Only staff see it."), "success")
            return redirect(url_for("support.customer", customer_id=customer_id) + "#history")
    return _customer_page(customer_id, form=form, status=400)


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
