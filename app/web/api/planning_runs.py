"""Planning runs for other systems: start one for a depot and day, follow it, cancel it,
publish it. A run is solved by the job queue's workers; any web process answers for it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask_babel import gettext as _
from flask_smorest import Blueprint

from app.accounts.models import Role
from app.db import utcnow
from app.errors import NotFound
from app.planning import flows as planning_flows
from app.planning import services as planning_services
from app.planning.enums import PLAN_STATUSES
from app.planning.models import Plan
from app.web.api.common import BoundedInteger, Date, Id
from app.web.auth import api_roles, current_api_user
from app.web.background import start_queued_run
from app.web.bounds import ID_RULE
from app.web.database import db
from app.web.i18n import localize

PREFIX = "/planning-runs"
blp = Blueprint(
    "planning_runs",
    __name__,
    description="Planning runs: a depot's day solved by a job worker, then published",
)

PLANNERS = (Role.ADMIN, Role.DISPATCHER)
# A run searches at most this long when a client names its budget (the default follows the
# day's size: app.planning.services.time_budget).
MAX_TIME_LIMIT_S = 600


class RunIn(ma.Schema):
    depot_id = Id(required=True)
    day = Date(required=True, metadata={"description": "The delivery day, in the depot's zone"})
    time_limit_s = BoundedInteger(
        1,
        MAX_TIME_LIMIT_S,
        load_default=None,
        allow_none=True,
        metadata={"description": "Seconds of search; default: by the day's number of orders"},
    )


class SearchOut(ma.Schema):
    improvements = ma.fields.Integer(metadata={"description": "Better plans found so far"})
    gain_percent = ma.fields.Float(metadata={"description": "How much better than the first"})


class RunOut(ma.Schema):
    id = ma.fields.Integer()
    depot_id = ma.fields.Integer()
    day = ma.fields.Date()
    version = ma.fields.Integer()
    status = ma.fields.String(
        metadata={"description": "solving, ready, failed or cancelled", "enum": PLAN_STATUSES}
    )
    queued = ma.fields.Boolean(metadata={"description": "No worker has taken the run up yet"})
    elapsed_s = ma.fields.Float(metadata={"description": "Seconds since a worker took it up"})
    time_limit_s = ma.fields.Float()
    progress_percent = ma.fields.Integer(metadata={"description": "Of the time budget"})
    search = ma.fields.Nested(SearchOut, allow_none=True)
    stops_assigned = ma.fields.Integer(allow_none=True)
    stops_unassigned = ma.fields.Integer(allow_none=True)
    published = ma.fields.Boolean()
    error = ma.fields.String(allow_none=True, metadata={"description": "Why it failed, in words"})
    url = ma.fields.String(metadata={"description": "This run"})


def _run(plan: Plan) -> dict[str, Any]:
    state = planning_services.run_state(plan, now=utcnow())
    limit = state["time_limit_s"] or 1
    done = state["status"] != "solving"
    return {
        **state,
        "id": plan.id,
        "depot_id": plan.depot_id,
        "day": plan.delivery_day,
        "progress_percent": 100 if done else min(99, round(100 * state["elapsed_s"] / limit)),
        "published": plan.published_at is not None,
        "error": localize(plan.error) if plan.error else None,
        "url": url_for("planning_runs.get_run", plan_id=plan.id),
    }


def _plan(plan_id: int) -> Plan:
    plan = db().get(Plan, plan_id)
    if plan is None:
        raise NotFound(_("There is no planning run %(id)s.", id=plan_id))
    return plan


@blp.route("", methods=["POST"])
@api_roles(*PLANNERS)
@blp.arguments(RunIn)
@blp.response(202, RunOut, headers={"Location": {"description": "The run's URL"}})
@blp.alt_response(409, description="A run of that depot and day is already solving")
def start_run(args: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Start a run; a job worker solves it. Follow it at the URL given in Location."""
    plan = start_queued_run(
        depot_id=args["depot_id"],
        day=args["day"],
        time_limit_s=args["time_limit_s"],
        user_id=current_api_user().id,
        urgent=False,
    )
    body = _run(plan)
    return body, 202, {"Location": body["url"]}


@blp.route(f"/<{ID_RULE}:plan_id>", methods=["GET"])
@api_roles(*PLANNERS)
@blp.response(200, RunOut)
def get_run(plan_id: int) -> dict[str, Any]:
    """A run's status and progress (from the database: any web worker answers the same)."""
    planning_services.expire_abandoned(db(), now=utcnow())
    db().commit()
    return _run(_plan(plan_id))


@blp.route(f"/<{ID_RULE}:plan_id>/cancel", methods=["POST"])
@api_roles(*PLANNERS)
@blp.response(200, RunOut)
@blp.alt_response(409, description="The run is no longer solving")
def cancel_run(plan_id: int) -> dict[str, Any]:
    """Cancel a run that is solving: it ends at once and stores nothing."""
    plan = planning_services.cancel_run(
        db(), plan_id=plan_id, user_id=current_api_user().id, now=utcnow()
    )
    db().commit()
    return _run(plan)


@blp.route(f"/<{ID_RULE}:plan_id>/publish", methods=["POST"])
@api_roles(*PLANNERS)
@blp.response(200, RunOut)
@blp.alt_response(409, description="The run is not ready, or publishing would lose progress")
def publish_run(plan_id: int) -> dict[str, Any]:
    """Publish a ready run to the couriers (orders that arrived since are inserted first)."""
    plan, _late = planning_flows.publish(db(), plan_id=plan_id, now=utcnow())
    db().commit()
    return _run(plan)
