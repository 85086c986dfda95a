"""Who may see what (O3): session login for pages, bearer tokens for the API, CSRF on forms,
and sign-in throttling."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, abort, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter, RequestLimit
from flask_limiter.errors import RateLimitExceeded
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from app.accounts import services as account_services
from app.accounts.models import Role, User
from app.db import utcnow
from app.web.database import db

login_manager = LoginManager()
csrf = CSRFProtect()
F = TypeVar("F", bound=Callable[..., Any])


def _client_ip() -> str:
    # request.remote_addr: behind a reverse proxy, ROUNDTRIP_PROXIES makes it the client.
    return request.remote_addr or "unknown"


def _client_ip_and_email() -> str:
    """Bucket of one e-mail address tried from one address (form field or JSON body)."""
    email = request.form.get("email")
    if email is None:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return f"{_client_ip()}|{account_services.normalise_email(str(email or ''))[:254]}"


# One limiter for the process; its storage (RATELIMIT_STORAGE_URI) and whether it is on
# (RATELIMIT_ENABLED) come from each app's config in init_app.
limiter = Limiter(key_func=_client_ip)

# Config defaults; app.config (from app.config.Config or a test config) overrides them.
AUTH_DEFAULTS: dict[str, object] = {
    "RATELIMIT_STORAGE_URI": "memory://",
    "SIGN_IN_LIMIT": "10 per minute",  # per client address and e-mail
    "SIGN_IN_LIMIT_PER_IP": "60 per minute",  # per client address, whatever the e-mail
    "LOGIN_SESSION_DAYS": 14,
    "API_TOKEN_DAYS": 30,
    "API_TOKEN_CAP": 10,
}

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# The one place that says which role enters which area. Admins run the staff areas; the
# courier and customer areas show a person's own work, so nobody else has one there.
AREA_ROLES: dict[str, frozenset[Role]] = {
    "admin": frozenset({Role.ADMIN}),
    "dispatcher": frozenset({Role.ADMIN, Role.DISPATCHER}),
    "support": frozenset({Role.ADMIN, Role.SUPPORT}),
    # The service dashboard: everyone who runs the service looks at the same figures.
    "dashboard": frozenset({Role.ADMIN, Role.DISPATCHER, Role.SUPPORT}),
    "courier": frozenset({Role.COURIER}),
    "portal": frozenset({Role.CUSTOMER}),
}
# Lazy: said in the language of the page that shows them ("This page is for ...").
AREA_TITLES = {
    "admin": _l("administrators"),
    "dispatcher": _l("dispatchers"),
    "support": _l("support agents"),
    "dashboard": _l("dispatchers, support agents and administrators"),
    "courier": _l("couriers"),
    "portal": _l("customers"),
}
LANDING_ENDPOINT = {
    Role.ADMIN: "admin.index",
    Role.DISPATCHER: "dispatcher.index",
    Role.SUPPORT: "support.index",
    Role.COURIER: "courier.index",
    Role.CUSTOMER: "portal.index",
}


@dataclass(frozen=True)
class LoginUser(UserMixin):  # type: ignore[misc]
    """What the web layer keeps of a signed-in user; the domain model stays Flask-free."""

    id: int
    email: str
    name: str
    role: Role
    active: bool
    # The browser's sign-in (LoginSession key), or the API token in use; None otherwise.
    session_key: str | None = None
    api_token_id: int | None = None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # Flask-Login keeps this in the session cookie; the key ties the cookie to a
        # LoginSession row, so deleting the row (sign-out) makes a copied cookie worthless.
        return f"{self.id}:{self.session_key}" if self.session_key else str(self.id)

    @classmethod
    def of(
        cls, user: User, *, session_key: str | None = None, api_token_id: int | None = None
    ) -> LoginUser:
        return cls(
            user.id,
            user.email,
            user.name,
            Role(user.role),
            user.is_active,
            session_key=session_key,
            api_token_id=api_token_id,
        )


@login_manager.user_loader
def _load_user(user_id: str) -> LoginUser | None:
    """The signed-in person, only while their LoginSession exists and they are active."""
    id_text, _sep, key = user_id.partition(":")
    if not key or not id_text.isdigit():
        return None  # a cookie from before sign-in sessions existed: sign in again
    user = account_services.user_for_login_session(db(), key, now=utcnow())
    if user is None or user.id != int(id_text):
        return None
    return LoginUser.of(user, session_key=key)


def retry_after_s(limit: RequestLimit) -> int:
    """Whole seconds until the breached limit lets the next attempt through."""
    return max(1, math.ceil(limit.window[0] - time.time()))


def sign_in_throttled(
    on_breach: Callable[[RequestLimit], Response],
) -> Callable[[F], F]:
    """Throttle POSTs to a sign-in view (page or API): per address and e-mail, and per address.

    Every attempt counts, successful or not: counting only failures would let a burst of
    parallel guesses through before the first failure is recorded. Both sign-in views share
    the buckets, so the API is no way around the page's limit. ``on_breach`` builds the 429.
    """
    per_email = limiter.shared_limit(
        lambda: current_app.config["SIGN_IN_LIMIT"],
        scope="sign-in",
        key_func=_client_ip_and_email,
        methods=["POST"],
        on_breach=on_breach,
    )
    per_ip = limiter.shared_limit(
        lambda: current_app.config["SIGN_IN_LIMIT_PER_IP"],
        scope="sign-in-per-ip",
        key_func=_client_ip,
        methods=["POST"],
        on_breach=on_breach,
    )

    def decorate(view: F) -> F:
        return cast(F, per_ip(per_email(view)))

    return decorate


def _throttled(error: RateLimitExceeded) -> ResponseReturnValue:
    # Each throttled view's on_breach has built its own answer (form or problem document).
    if error.response is not None:
        return error.response
    return error


def init_app(app: Flask) -> None:
    for key, value in AUTH_DEFAULTS.items():
        app.config.setdefault(key, value)
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _throttled)
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    login_manager.init_app(app)
    login_manager.login_view = "public.login"
    login_manager.login_message = _l("Please sign in to open that page.")
    # Flashed as text in the language of the page asking (a lazy string cannot be stored).
    login_manager.localize_callback = str
    login_manager.login_message_category = "info"
    csrf.init_app(app)

    @app.context_processor
    def _landing() -> dict[str, str | None]:
        signed_in = current_user.is_authenticated
        return {"landing_endpoint": LANDING_ENDPOINT[current_user.role] if signed_in else None}

    @app.before_request
    def _protect_forms() -> None:
        # The API authenticates by bearer token (no cookies, no CSRF risk); a browser calling
        # the API with its session cookie is checked in api_user() instead.
        if request.method in UNSAFE_METHODS and not request.path.startswith("/api/"):
            csrf.protect()


def area_required(area: str) -> Callable[[F], F]:
    """Page decorator: sign in first (redirect), then 403 unless the role may enter ``area``."""
    allowed = AREA_ROLES[area]

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                g.forbidden_area = area
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def current_api_user() -> LoginUser:
    """The caller of an API endpoint, by bearer token or (for same-site pages) session cookie."""
    if "api_user" in g:
        return g.api_user
    header = request.headers.get("Authorization", "")
    user: LoginUser | None = None
    if header.lower().startswith("bearer "):
        now = utcnow()
        session = db()
        api_token = account_services.token_for_secret(session, header[7:].strip(), now=now)
        if api_token is None:
            abort(
                401,
                description=_(
                    "This API token is unknown or revoked, has expired, or its owner "
                    "may no longer sign in; create a new one."
                ),
            )
        # Reads stay reads: last_used_at is written at most once per few minutes per token,
        # and then committed at once (nothing else is pending yet), even if the request fails.
        if account_services.touch_token(session, api_token, now=now):
            session.commit()
        user = LoginUser.of(api_token.user, api_token_id=api_token.id)
    elif current_user.is_authenticated:
        if request.method in UNSAFE_METHODS:
            csrf.protect()
        user = current_user._get_current_object()
    if user is None:
        abort(
            401,
            description=_(
                "Sign in first: send 'Authorization: Bearer <token>'; "
                "get a token from POST /api/v1/auth/tokens."
            ),
        )
    g.api_user = user
    return user


def api_roles(*roles: Role) -> Callable[[F], F]:
    """API decorator: 401 without credentials, 403 when the caller's role is not listed."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_api_user()
            if user.role not in roles:
                abort(
                    403,
                    description=_(
                        "Your role (%(role)s) may not do this; it needs one of: %(roles)s.",
                        role=user.role,
                        roles=", ".join(roles),
                    ),
                )
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
