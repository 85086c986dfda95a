from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.web.database import db

PREFIX = "/health"
blp = Blueprint("health", __name__, description="Is the service able to work?")


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok or degraded"})
    database = ma.fields.String(metadata={"description": "reachable or unreachable"})
    database_backend = ma.fields.String()
    detail = ma.fields.String()


@blp.route("")
@blp.doc(security=[])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="The database cannot be reached")
def health() -> Any:
    """Report whether the database is reachable (no sign-in needed)."""
    session = db()
    backend = session.get_bind().dialect.name
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        body = {
            "status": "degraded",
            "database": "unreachable",
            "database_backend": backend,
            "detail": str(exc.__cause__ or exc).splitlines()[0],
        }
        return body, 503
    return {"status": "ok", "database": "reachable", "database_backend": backend}
