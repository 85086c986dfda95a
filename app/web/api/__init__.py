"""JSON API under /api/v1: OpenAPI 3 at /api/v1/openapi.json, interactive docs at /api/v1/docs."""

from __future__ import annotations

import http

import marshmallow as ma
from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from app.web.problems import PROBLEM_MIMETYPE


class Problem(ma.Schema):
    """An RFC 9457 problem document, as app.web.problems.problem writes it."""

    type = ma.fields.String(required=True, metadata={"example": "about:blank"})
    title = ma.fields.String(required=True, metadata={"example": "Unprocessable Content"})
    status = ma.fields.Integer(required=True, metadata={"example": 422})
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Each bad field (dotted path) with its problems"},
    )


class RoundtripApi(Api):  # type: ignore[misc]
    ERROR_SCHEMA = Problem

    def _register_error_handlers(self) -> None:
        # app.web.errors answers every error (problem+json under /api/, pages elsewhere);
        # flask-smorest's own handler would turn page errors into JSON too.
        return None

    def _register_responses(self) -> None:
        """Every error response (each operation's ``default`` and 422) is a Problem in
        application/problem+json, which is what app.web.errors answers."""
        for status in http.HTTPStatus:
            response: dict[str, object] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = Problem
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "A problem document (RFC 9457)", "schema": Problem}
        prepare_response(default, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


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
            "Errors are RFC 9457 problem documents (application/problem+json) with `type`, "
            "`title`, `status`, `detail` and, for bad input, `errors` naming each field.",
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    },
}


def init_app(app: Flask) -> None:
    from app.web.api import (
        courier,
        customers,
        fleet,
        health,
        loyalty,
        optimize,
        orders,
        planning_runs,
        returns,
        tokens,
        windows,
    )

    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    api = RoundtripApi(app)
    for module in (
        health,
        tokens,
        orders,
        customers,
        loyalty,
        fleet,
        windows,
        planning_runs,
        optimize,
        courier,
        returns,
    ):
        api.register_blueprint(module.blp, url_prefix="/api/v1" + module.PREFIX)
