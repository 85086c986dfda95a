"""Errors in plain words: problem+json for the API, a friendly page for people."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from app.db import is_lock_contention, is_unreachable
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.web.auth import AREA_TITLES, LANDING_ENDPOINT
from app.web.i18n import explain, localize_errors
from app.web.problems import flatten_errors, problem

log = logging.getLogger(__name__)

PAGE_TITLES = {
    400: _l("Something is wrong with this request"),
    403: _l("You can't open this page"),
    404: _l("Page not found"),
    405: _l("This page cannot be used that way"),
    429: _l("Too many requests"),
    500: _l("Sorry, something broke"),
    503: _l("Too busy right now"),
}

PAGE_MESSAGES = {
    400: _l("The request could not be understood. Go back, reload the page and try again."),
    403: _l("This page is not part of your work in Roundtrip."),
    404: _l("There is nothing at this address. It may have moved, or the link is mistyped."),
    405: _l("This page cannot be used that way."),
    429: _l("Too many requests in a short time. Wait a little, then try again."),
    500: _l(
        "Something went wrong on our side. Nothing you sent was half-saved; try again "
        "in a minute, and tell support if it keeps happening."
    ),
    503: _l(
        "Too many people are saving at this moment. Nothing you sent was saved; "
        "try again in a few seconds."
    ),
}

# The API's detail when werkzeug only has its own (English) description of the error.
API_DETAILS = {
    400: _l("The request could not be understood."),
    401: _l("Sign in first: send 'Authorization: Bearer <token>'."),
    403: _l("You may not do this."),
    404: _l("There is nothing at this address."),
    405: _l("This address does not accept the %(method)s method."),
    413: _l("The request body is too large."),
    415: _l("This content type is not accepted; send JSON (application/json)."),
    429: _l("Too many requests in a short time. Wait a little, then try again."),
    500: _l(
        "Something went wrong on our side. Nothing you sent was half-saved; try again "
        "in a minute, and tell support if it keeps happening."
    ),
    503: _l("The service is busy; nothing was saved. Try again in a few seconds."),
}
# Seconds a client should wait after a 503 for lock contention.
RETRY_AFTER_S = 2


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _api_http_error(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    errors = None
    if messages:
        # webargs nests messages by location ("json", "query"); the field name is what matters.
        flat = flatten_errors(messages)
        errors = {k.split(".", 1)[1] if "." in k else k: v for k, v in flat.items()}
        if "_schema" in errors:  # marshmallow's name for the body as a whole
            errors["body"] = errors.pop("_schema")
    detail = data.get("message") or _api_detail(error)
    if errors == {"json": ["Invalid JSON body."]}:
        errors = {"body": [_("The request body is not valid JSON.")]}
    if errors:
        detail = " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
    headers = {"WWW-Authenticate": 'Bearer realm="roundtrip"'} if error.code == 401 else None
    return problem(error.code or 500, detail, errors=errors, headers=headers)


def _api_detail(error: HTTPException) -> str:
    """The error's own description, or ours in the caller's language when it is werkzeug's
    default English one (a route that does not exist, a method it does not take)."""
    description = error.description or ""
    if description != type(error).description or error.code not in API_DETAILS:
        return description
    if error.code == 405:
        return str(API_DETAILS[405]) % {"method": request.method}
    return str(API_DETAILS[error.code])


def _page_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    area = g.get("forbidden_area")
    landing = None
    if current_user.is_authenticated:
        landing = LANDING_ENDPOINT.get(current_user.role)
    message = str(PAGE_MESSAGES.get(code, error.description))
    if code == 400 and "CSRF" in (error.description or ""):
        message = _(
            "This form has expired or came from another site, so nothing was saved. "
            "Reload the page and send it again."
        )
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=str(PAGE_TITLES.get(code, error.name)),
            message=message,
            area_title=AREA_TITLES.get(area) if area else None,
            landing=landing,
        ),
        code,
    )


def handle_http_error(error: HTTPException) -> Response | tuple[str, int]:
    return _api_http_error(error) if _is_api() else _page_error(error)


def handle_domain_error(error: DomainError) -> Response | tuple[str, int]:
    status = 422
    if isinstance(error, NotFound):
        status = 404
    elif isinstance(error, Conflict):
        status = 409
    if _is_api():
        errors = localize_errors(error.errors) if isinstance(error, ValidationFailed) else None
        return problem(status, explain(error), errors=errors)
    return _page_error(_with_code(status, explain(error)))


def _with_code(code: int, description: str) -> HTTPException:
    exc = HTTPException(description=description)
    exc.code = code
    return exc


def handle_unexpected(error: Exception) -> Response | tuple[str, int]:
    log.exception("unhandled error on %s %s", request.method, request.path)
    wrapped = InternalServerError(original_exception=error)
    return handle_http_error(wrapped)


def handle_database_error(
    error: DBAPIError,
) -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Lock contention the database gave up on is overload, and a database that cannot be
    reached (restarting, down) is an outage: both 503 with Retry-After, never 500."""
    unreachable = is_unreachable(error)
    if not (unreachable or is_lock_contention(error)):
        return handle_unexpected(error)
    if (session := g.get("db_session")) is not None:
        try:
            session.rollback()  # release the locks now; the error page may still read the user
        except DBAPIError:  # the connection itself is gone: nothing to release
            session.invalidate()
    statement = (error.statement or "").split("\n", 1)[0][:80]
    log.warning(
        "database busy on %s %s: %s [%s]", request.method, request.path, error.orig, statement
    )
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    detail = (
        _(
            "The database cannot be reached right now; nothing was saved. "
            "Try again in %(seconds)d seconds.",
            seconds=RETRY_AFTER_S,
        )
        if unreachable
        else _(
            "The database is busy with other requests; nothing was saved. "
            "Try again in %(seconds)d seconds.",
            seconds=RETRY_AFTER_S,
        )
    )
    if _is_api():
        return problem(503, detail, headers=headers)
    page, code = _page_error(_with_code(503, str(PAGE_MESSAGES[503])))
    return page, code, headers


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)
