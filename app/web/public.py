"""Landing page and sign-in: the only pages open to everyone."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import (
    Response as FlaskResponse,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import RequestLimit
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import demo
from app.accounts import services as account_services
from app.accounts.models import User
from app.db import utcnow
from app.web.auth import LANDING_ENDPOINT, LoginUser, retry_after_s, sign_in_throttled
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


def plain_wait(seconds: int) -> str:
    """'45 seconds', '1 minute', '3 minutes' (rounded up)."""
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    minutes = -(-seconds // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def _too_many_attempts(limit: RequestLimit) -> FlaskResponse:
    """The sign-in form again, saying when the next attempt will be let through."""
    wait_s = retry_after_s(limit)
    form = LoginForm()
    form.password.errors = [
        _("Too many sign-in attempts. Wait %(wait)s, then try again.", wait=plain_wait(wait_s))
    ]
    response = make_response(render_template("public/login.html", form=form), 429)
    response.headers["Retry-After"] = str(wait_s)
    return response


@bp.route("/login", methods=["GET", "POST"])
@sign_in_throttled(_too_many_attempts)
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for(LANDING_ENDPOINT[current_user.role]))
    form = LoginForm()
    if form.validate_on_submit():
        user = account_services.authenticate(
            db(), email=form.email.data, password=form.password.data
        )
        if user is None:
            form.password.errors.append(_("The e-mail or password is wrong. Try again."))
        else:
            key = account_services.start_login_session(
                db(),
                user=user,
                now=utcnow(),
                lifetime=timedelta(days=current_app.config["LOGIN_SESSION_DAYS"]),
            )
            db().commit()
            login_user(LoginUser.of(user, session_key=key))
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(
                _safe_next(request.args.get("next")) or url_for(LANDING_ENDPOINT[user.role])
            )
    return render_template("public/login.html", form=form), (400 if form.errors else 200)


@bp.post("/logout")
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        # End the sign-in on the server too: a copy of the cookie must not outlive it.
        key = current_user.session_key if current_user.is_authenticated else None
        if key:
            account_services.end_login_session(db(), key)
            db().commit()
        logout_user()
        flash(_("You are signed out."), "info")
    response = redirect(url_for("public.index"))
    # What this browser kept for the person (the courier's page and actions, saved for a
    # dead network) must not be there for the next person who picks up the phone.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response
