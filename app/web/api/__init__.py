"""JSON API under /api/v1: OpenAPI 3 at /api/v1/openapi.json, interactive docs at /api/v1/docs."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api


class RoundtripApi(Api):  # type: ignore[misc]
    def _register_error_handlers(self) -> None:
        # app.web.errors answers every error (problem+json under /api/, pages elsewhere);
        # flask-smorest's own handler would turn page errors into JSON too.
        return None


API_CONFIG = {
    "API_TITLE": "Roundtrip API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/vendor/swagger-ui/",
    "API_SPEC_OPTIONS": {
        "info": {
            "description": "Orders, customers and the fleet of a Roundtrip installation. "
            "Authenticate with `Authorization: Bearer <token>` (POST /api/v1/auth/tokens). "
            "Errors are RFC 9457 problem documents (application/problem+json).",
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    },
}


def init_app(app: Flask) -> None:
    from app.web.api import customers, fleet, health, loyalty, orders, tokens, windows

    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    api = RoundtripApi(app)
    for module in (health, tokens, orders, customers, loyalty, fleet, windows):
        api.register_blueprint(module.blp, url_prefix="/api/v1" + module.PREFIX)
