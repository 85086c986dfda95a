"""RFC 9457 problem details for the JSON API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, json
from flask_babel import lazy_gettext as _l
from werkzeug.http import HTTP_STATUS_CODES

from app.messages import Message
from app.web.i18n import localize

PROBLEM_MIMETYPE = "application/problem+json"

# A problem's title in the caller's Accept-Language (the English is HTTP's reason phrase).
TITLES = {
    400: _l("Bad Request"),
    401: _l("Unauthorized"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    409: _l("Conflict"),
    413: _l("Request Entity Too Large"),
    415: _l("Unsupported Media Type"),
    422: _l("Unprocessable Entity"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
    503: _l("Service Unavailable"),
}


# What marshmallow and Flask-WTF say in English of their own, said in the caller's
# language. Each key is the library's exact sentence (they have no catalogue we could load);
# app.web.api.common already translates the fields' messages that carry numbers.
LIBRARY_WORDS = {
    # marshmallow: a schema's own, and its fields'
    "Unknown field.": _l("Unknown field."),
    "Invalid input type.": _l("Invalid input type."),
    "Missing data for required field.": _l("Missing data for required field."),
    "Field may not be null.": _l("Field may not be null."),
    "Invalid value.": _l("Invalid value."),
    "Invalid type.": _l("Invalid type."),
    "Invalid input.": _l("Invalid input."),
    "Not a valid string.": _l("Not a valid string."),
    "Not a valid utf-8 string.": _l("Not a valid utf-8 string."),
    "Not a valid integer.": _l("Not a valid integer."),
    "Not a valid number.": _l("Not a valid number."),
    "Number too large.": _l("Number too large."),
    "Special numeric values (nan or infinity) are not permitted.": _l(
        "Special numeric values (nan or infinity) are not permitted."
    ),
    "Not a valid boolean.": _l("Not a valid boolean."),
    "Not a valid list.": _l("Not a valid list."),
    "Not a valid mapping type.": _l("Not a valid mapping type."),
    "Not a valid date.": _l("Not a valid date."),
    "Not a valid datetime.": _l("Not a valid datetime."),
    "Not a valid aware datetime.": _l("Not a valid aware datetime."),
    "Not a valid email address.": _l("Not a valid email address."),
    # Flask-WTF's CSRF check (the API called with a session cookie but without the token)
    "The CSRF token is missing.": _l(
        "The CSRF token is missing: send it in the X-CSRFToken header, or use a bearer token."
    ),
    "The CSRF session token is missing.": _l(
        "The session has no CSRF token: reload the page, or use a bearer token."
    ),
    "The CSRF token has expired.": _l(
        "The CSRF token has expired: reload the page, or use a bearer token."
    ),
    "The CSRF token is invalid.": _l(
        "The CSRF token is not valid: reload the page, or use a bearer token."
    ),
    "The CSRF tokens do not match.": _l(
        "The CSRF token is not this session's: reload the page, or use a bearer token."
    ),
    "The referrer header is missing.": _l(
        "The Referer header is missing; over HTTPS a request with a session cookie needs it."
    ),
    "The referrer does not match the host.": _l(
        "The Referer header names another site; send the request from this site's pages."
    ),
}


def said(text: object) -> str:
    """``text`` as the caller reads it: a domain's Message or a library's English sentence in
    their language, a lazy message rendered, anything else as it is."""
    if isinstance(text, Message):
        return localize(text)
    plain = str(text)
    words = LIBRARY_WORDS.get(plain)
    return plain if words is None else str(words)


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into ``{"items.0.sku": ["..."]}``, each message in
    the caller's language."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, name))
    elif isinstance(messages, list) and not any(isinstance(m, Mapping | list) for m in messages):
        flat[prefix or "_"] = [said(m) for m in messages]
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            flat.update(flatten_errors(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        flat[prefix or "_"] = [said(messages)]
    return flat


def problem(
    status: int,
    detail: object,
    *,
    errors: dict[str, list[str]] | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": str(title or TITLES.get(status) or HTTP_STATUS_CODES.get(status, "Error")),
        "status": status,
        "detail": said(detail),
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
