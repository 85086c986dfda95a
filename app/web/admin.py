"""Administrators: people and their roles."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.accounts import services as account_services
from app.accounts.models import User
from app.errors import ValidationFailed
from app.web.auth import area_required
from app.web.database import db
from app.web.forms import NewUserForm

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
            flash(f"{user.name} can now sign in as {user.role}.", "success")
            return redirect(url_for("admin.index"))
    users = db().scalars(select(User).order_by(User.role, User.email)).all()
    status = 400 if form.errors else 200
    return render_template("admin/index.html", users=users, form=form), status
