"""Administrators: people and their roles."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.accounts import services as account_services
from app.accounts.models import User
from app.db import utcnow
from app.errors import ValidationFailed
from app.web.auth import area_required
from app.web.bounds import ID_RULE
from app.web.database import db
from app.web.forms import NewUserForm
from app.web.words import ROLE_NAMES, word

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/", methods=["GET", "POST"])
@area_required("admin")
def index() -> str | Response | tuple[str, int]:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = account_services.create_user(
                db(),
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
            )
        except ValidationFailed as exc:
            for field, messages in exc.errors.items():
                getattr(form, field).errors.extend(messages)
        else:
            db().commit()
            flash(
                _(
                    "%(name)s can now sign in as %(role)s.",
                    name=user.name,
                    role=word(ROLE_NAMES, user.role),
                ),
                "success",
            )
            return redirect(url_for("admin.index"))
    users = db().scalars(select(User).order_by(User.role, User.email)).all()
    status = 400 if form.errors else 200
    return render_template("admin/index.html", users=users, form=form), status


@bp.post(f"/people/<{ID_RULE}:user_id>/deactivate")
@area_required("admin")
def deactivate(user_id: int) -> Response:
    """Stop a person at once: their browser sessions end and their API tokens are revoked.

    The form's CSRF token is checked before any view (app.web.auth)."""
    if db().get(User, user_id) is None:
        abort(404)
    if user_id == current_user.id:
        flash(_("You cannot deactivate yourself; ask another administrator."), "danger")
        return redirect(url_for("admin.index"))
    user = account_services.deactivate_user(db(), user_id=user_id, now=utcnow())
    db().commit()
    flash(
        _(
            "%(name)s can no longer sign in; their sessions and API tokens ended.",
            name=user.name,
        ),
        "success",
    )
    return redirect(url_for("admin.index"))


@bp.post(f"/people/<{ID_RULE}:user_id>/activate")
@area_required("admin")
def activate(user_id: int) -> Response:
    """Let a person sign in again (with new sessions and tokens)."""
    if db().get(User, user_id) is None:
        abort(404)
    user = account_services.activate_user(db(), user_id=user_id)
    db().commit()
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("admin.index"))
