"""Plan a routing problem given in VROOM's JSON: what routing clients already speak (R7).

The body is a VROOM problem (vehicles, jobs, matrices per profile); the answer is VROOM's
solution (summary, routes with timed steps, unassigned), each unassigned job with its
reason. The search runs in this request, so its time is bounded (``time_limit_s``), and so
is the body (``MAX_BODY_BYTES``). Anything Roundtrip cannot plan exactly is refused naming
the field (routing.io.vroom_json), never ignored.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import abort, request
from flask_babel import gettext as _
from flask_smorest import Blueprint

from app.accounts.models import Role
from app.errors import ValidationFailed
from app.web.api.common import BoundedInteger
from app.web.auth import api_roles

PREFIX = "/optimize"
blp = Blueprint(
    "optimize",
    __name__,
    description="Route planning on a problem in VROOM's JSON format, answered in VROOM's format",
)

# 1,000 jobs with a 1,100-location duration and cost matrix are about 12 MB of JSON.
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_TIME_LIMIT_S = 30  # the search runs inside the request (gunicorn's timeout is 60 s)


class OptimizeArgs(ma.Schema):
    time_limit_s = BoundedInteger(
        1,
        MAX_TIME_LIMIT_S,
        strict=False,
        load_default=5,
        metadata={"description": "Seconds of search, explanations included"},
    )


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A VROOM problem: https://github.com/VROOM-Project/vroom/blob/master/"
    "docs/API.md (jobs, vehicles with breaks, matrices per profile). Read by "
    "routing.io.vroom_json; unsupported fields are refused by name.",
    "required": ["vehicles", "matrices"],
    "properties": {
        "vehicles": {"type": "array", "items": {"type": "object"}},
        "jobs": {"type": "array", "items": {"type": "object"}},
        "matrices": {"type": "object"},
    },
}
SOLUTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A VROOM solution; each unassigned job also has `reason` (a code) and "
    "`description` (why, in English).",
    "properties": {
        "code": {"type": "integer"},
        "summary": {"type": "object"},
        "routes": {"type": "array", "items": {"type": "object"}},
        "unassigned": {"type": "array", "items": {"type": "object"}},
    },
}


@blp.route("", methods=["POST"])
@api_roles(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(OptimizeArgs, location="query")
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": PROBLEM_SCHEMA}}},
    responses={
        "200": {
            "description": "The plan, in VROOM's solution format",
            "content": {"application/json": {"schema": SOLUTION_SCHEMA}},
        }
    },
)
@blp.alt_response(413, description="The body is larger than 16 MiB")
@blp.alt_response(422, description="The problem is malformed or uses a field not supported")
def optimize(args: dict[str, Any]) -> dict[str, Any]:
    """Plan the problem in the body and answer with the plan (the search runs in the request)."""
    from routing.io import vroom_json
    from routing.solver import SolveParameters, solve

    if request.content_length is None or request.content_length > MAX_BODY_BYTES:
        if request.content_length is None:
            abort(411, description=_("Send the problem with its Content-Length."))
        abort(413, description=_("A problem may be at most 16 MiB of JSON."))
    data = request.get_json(silent=True)
    if data is None:
        abort(400, description=_("The body must be a JSON object (a VROOM problem)."))
    try:
        problem = vroom_json.read_problem(data)
    except vroom_json.VroomFormatError as exc:
        # The routing core stands alone (no catalogue): the field's problem is English.
        path, _sep, message = str(exc).partition(": ")
        raise ValidationFailed({path or "body": [message or str(exc)]}) from exc
    distances = vroom_json.read_distances(data)
    plan = solve(problem, SolveParameters(time_limit_s=args["time_limit_s"]))
    return vroom_json.write_solution(problem, plan, distances=distances)
