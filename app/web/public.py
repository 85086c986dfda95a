"""Landing page and sign-in: the only pages open to everyone."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import demo
from app.accounts import services as account_services
from app.accounts.models import User
from app.web.auth import LANDING_ENDPOINT, LoginUser
from app.web.database import db
from app.web.forms import LoginForm, LogoutForm

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> str:
    present = set(
        db().scalars(select(User.email).where(User.email.in_([d.email for d in demo.LOGINS])))
    )
    return render_template(
        "public/index.html", demo_logins=[d for d in demo.LOGINS if d.email in present]
    )


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for(LANDING_ENDPOINT[current_user.role]))
    form = LoginForm()
    if form.validate_on_submit():
        user = account_services.authenticate(
            db(), email=form.email.data, password=form.password.data
        )
        if user is None:
            form.password.errors.append("The e-mail or password is wrong. Try again.")
        else:
            login_user(LoginUser.of(user))
            flash(f"Welcome, {user.name}.", "success")
            return redirect(
                _safe_next(request.args.get("next")) or url_for(LANDING_ENDPOINT[user.role])
            )
    return render_template("public/login.html", form=form), (400 if form.errors else 200)


@bp.post("/logout")
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("public.index"))
