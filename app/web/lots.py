"""Support: lots and their defect returns, blocking a lot (X4), returns to suppliers."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from app.accounts.models import User
from app.catalog.models import Lot
from app.db import utcnow
from app.errors import Conflict, ValidationFailed
from app.web import bounds
from app.web.auth import area_required
from app.web.database import db
from app.web.forms import CleanText, RoundtripForm
from app.web.i18n import localize
from returns import lots as lot_services

bp = Blueprint("lots", __name__, url_prefix="/support/lots")


class BlockLotForm(RoundtripForm):
    reason = StringField(
        _l("Why is it blocked? (kept with the lot and the return to the supplier)"),
        validators=[DataRequired(), Length(max=lot_services.REASON_MAX), CleanText()],
    )
    # Sent only by the confirmation step (never by hidden_tag()).
    confirmed = BooleanField(default=False)


def _page(**extra: object) -> str:
    session = db()
    rules = lot_services.LotRules.from_env()
    returns = lot_services.supplier_returns(session)
    authors = {r.created_by_user_id for r in returns if r.created_by_user_id is not None}
    names = dict(
        session.execute(select(User.id, User.name).where(User.id.in_(authors))).all()
        if authors
        else []
    )
    return render_template(
        "support/lots.html",
        lots=lot_services.lots_overview(session, now=utcnow(), rules=rules),
        rules=rules,
        returns=returns,
        names=names,
        **extra,
    )


@bp.get("/")
@area_required("support")
def index() -> str:
    return _page()


@bp.route(f"/<{bounds.ID_RULE}:lot_id>/block", methods=["GET", "POST"])
@area_required("support")
def block(lot_id: int) -> str | Response | tuple[str, int]:
    lot = db().get(Lot, lot_id)
    if lot is None:
        abort(404)
    if lot.blocked:
        flash(_("Lot %(code)s is already blocked.", code=lot.code), "warning")
        return redirect(url_for("lots.index"))
    form = BlockLotForm()
    if form.validate_on_submit():
        if not form.confirmed.data:
            preview = lot_services.preview_block(db(), lot_id=lot.id)
            return _page(target=lot, form=form, preview=preview)
        try:
            result = lot_services.block_lot(
                db(),
                lot_id=lot.id,
                reason=form.reason.data,
                user_id=current_user.id,
                now=utcnow(),
            )
        except Conflict as exc:
            db().rollback()
            flash(localize(exc.message), "warning")
            return redirect(url_for("lots.index"))
        except ValidationFailed as exc:
            db().rollback()
            for field, messages in exc.errors.items():
                getattr(form, field).errors.extend(localize(m) for m in messages)
        else:
            db().commit()
            return _page(result=result)
    page = _page(target=lot, form=form)
    return (page, 400) if form.errors else page
