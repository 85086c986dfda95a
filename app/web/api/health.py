from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.web.background import queue
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


class ProbeSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok, or what is not ready"})
    database = ma.fields.String()
    queue = ma.fields.String()
    queue_depth = ma.fields.Integer(allow_none=True)


@blp.route("/live")
@blp.doc(security=[])
@blp.response(200, ProbeSchema)
def live() -> Any:
    """Liveness: this process answers (it checks nothing else, so a database outage does
    not make a supervisor restart healthy web workers)."""
    return {"status": "ok"}


@blp.route("/ready")
@blp.doc(security=[])
@blp.response(200, ProbeSchema)
@blp.alt_response(503, schema=ProbeSchema, description="The database or the queue cannot be used")
def ready() -> Any:
    """Readiness: the database answers and the job queue can be read; else 503 (a load
    balancer sends no traffic here until it is ready again)."""
    body: dict[str, Any] = {"status": "ok", "database": "reachable", "queue": "reachable"}
    try:
        db().execute(text("SELECT 1"))
    except SQLAlchemyError:
        body.update(status="degraded", database="unreachable")
    try:
        body["queue_depth"] = queue().depth()
    except Exception:  # the queue's own error types differ; any of them means not ready
        body.update(status="degraded", queue="unreachable", queue_depth=None)
    return body, 200 if body["status"] == "ok" else 503
