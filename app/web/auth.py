"""Who may see what (O3): session login for pages, bearer tokens for the API, CSRF on forms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, g, request
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from app.accounts import services as account_services
from app.accounts.models import Role, User
from app.web.database import db

login_manager = LoginManager()
csrf = CSRFProtect()

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# The one place that says which role enters which area. Admins run the staff areas; the
# courier and customer areas show a person's own work, so nobody else has one there.
AREA_ROLES: dict[str, frozenset[Role]] = {
    "admin": frozenset({Role.ADMIN}),
    "dispatcher": frozenset({Role.ADMIN, Role.DISPATCHER}),
    "support": frozenset({Role.ADMIN, Role.SUPPORT}),
    "courier": frozenset({Role.COURIER}),
    "portal": frozenset({Role.CUSTOMER}),
}
AREA_TITLES = {
    "admin": "administrators",
    "dispatcher": "dispatchers",
    "support": "support agents",
    "courier": "couriers",
    "portal": "customers",
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

    @property
    def is_active(self) -> bool:
        return self.active

    @classmethod
    def of(cls, user: User) -> LoginUser:
        return cls(user.id, user.email, user.name, Role(user.role), user.is_active)


@login_manager.user_loader
def _load_user(user_id: str) -> LoginUser | None:
    user = db().get(User, int(user_id)) if user_id.isdigit() else None
    return LoginUser.of(user) if user is not None and user.is_active else None


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    login_manager.init_app(app)
    login_manager.login_view = "public.login"
    login_manager.login_message = "Please sign in to open that page."
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


F = TypeVar("F", bound=Callable[..., Any])


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
        found = account_services.user_for_token(db(), header[7:].strip())
        if found is None:
            abort(401, description="This API token is unknown or revoked; create a new one.")
        db().commit()  # remember last_used_at even if the request itself fails
        user = LoginUser.of(found)
    elif current_user.is_authenticated:
        if request.method in UNSAFE_METHODS:
            csrf.protect()
        user = current_user._get_current_object()
    if user is None:
        abort(
            401,
            description="Sign in first: send 'Authorization: Bearer <token>'; "
            "get a token from POST /api/v1/auth/tokens.",
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
                    description=f"Your role ({user.role}) may not do this; it needs one of: "
                    f"{', '.join(roles)}.",
                )
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
