"""The courier's phone (the page, or a native app later): today's route, photos, and what
the courier reports, each action applied exactly once however often it is sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask import current_app, request
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from app.accounts.models import Role
from app.db import utcnow
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.fleet import services as fleet_services
from app.fleet.models import Courier
from app.media import photo_path, store_photo
from app.messages import say
from app.planning import events
from app.planning.courier_day import DEFAULT_NAVIGATOR, courier_day
from app.planning.enums import EVENT_KINDS, FAILURE_REASONS, EventKind, FailureReason
from app.web.api.common import Id, Length, List, Nested, OneOf, String, Text, UtcDateTime
from app.web.auth import api_roles, current_api_user
from app.web.background import queue
from app.web.database import db
from app.web.i18n import explain, localize_errors
from app.web.uploads import read_photo, uploads

PREFIX = "/courier"
blp = Blueprint(
    "courier_api",
    __name__,
    description="A courier's day from the phone: the route, photos, and reports applied "
    "exactly once (send each action with its own id until an answer comes back)",
)

MAX_EVENTS = 100  # per request: a phone that was offline all morning sends them in pages


class EventIn(ma.Schema):
    id = Text(
        required=True,
        min_length=8,
        max_length=64,
        validate=ma.validate.Regexp(r"^[A-Za-z0-9_-]+$"),
        metadata={
            "description": "The phone's own id for the action (a UUID): send it again "
            "and the first answer comes back"
        },
    )
    stop_id = Id(required=True)
    kind = String(required=True, validate=OneOf(EVENT_KINDS))
    at = UtcDateTime(
        required=True, metadata={"description": "When the courier acted, by the phone's clock"}
    )
    reason = String(
        allow_none=True,
        load_default=None,
        validate=OneOf(FAILURE_REASONS),
        metadata={"description": "Why a stop failed (kind 'failed')"},
    )
    note = Text(allow_none=True, load_default=None, max_length=500)
    recipient = Text(allow_none=True, load_default=None, max_length=120)
    photo = Text(
        allow_none=True,
        load_default=None,
        max_length=100,
        metadata={"description": "A name POST /courier/photos gave"},
    )


class EventsIn(ma.Schema):
    events = List(Nested(EventIn), required=True, validate=Length(min=1, max=MAX_EVENTS))


class EventError(ma.Schema):
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))


class EventOut(ma.Schema):
    id = ma.fields.String()
    stop_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "applied or refused"})
    replayed = ma.fields.Boolean(metadata={"description": "applied by an earlier send"})
    recorded_at = ma.fields.String(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    error = ma.fields.Nested(EventError, allow_none=True)


class EventsOut(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(EventOut))


class PhotoOut(ma.Schema):
    photo = ma.fields.String(metadata={"description": "Give it as an event's photo"})


class GoodsOut(ma.Schema):
    name = ma.fields.String()
    quantity = ma.fields.Integer()


class StopOut(ma.Schema):
    stop_id = ma.fields.Integer()
    sequence = ma.fields.Integer()
    number = ma.fields.String()
    kind = ma.fields.String()
    address = ma.fields.String()
    instructions = ma.fields.String(allow_none=True)
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    window_start = ma.fields.DateTime()
    window_end = ma.fields.DateTime()
    planned_at = ma.fields.DateTime()
    eta = ma.fields.DateTime(allow_none=True)
    at_risk = ma.fields.Boolean()
    hand_over = ma.fields.List(ma.fields.Nested(GoodsOut))
    collect = ma.fields.List(ma.fields.Nested(GoodsOut))
    customer = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    arrived_at = ma.fields.DateTime(allow_none=True)
    completed_at = ma.fields.DateTime(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    failure_reason = ma.fields.String(allow_none=True)
    geo_uri = ma.fields.String()
    navigator_url = ma.fields.String()


class RouteOut(ma.Schema):
    route_id = ma.fields.Integer()
    shift_id = ma.fields.Integer()
    day = ma.fields.Date()
    today = ma.fields.Boolean()
    vehicle = ma.fields.String()
    start_at = ma.fields.DateTime()
    end_at = ma.fields.DateTime()
    break_start_at = ma.fields.DateTime(allow_none=True)
    break_end_at = ma.fields.DateTime(allow_none=True)
    inspected = ma.fields.Boolean()
    stops = ma.fields.List(ma.fields.Nested(StopOut))


class DayOut(ma.Schema):
    generated_at = ma.fields.DateTime(metadata={"description": "When the server said this"})
    routes = ma.fields.List(ma.fields.Nested(RouteOut))
    timezone = ma.fields.String()
    csrf_token = ma.fields.String(
        allow_none=True, metadata={"description": "For the signed-in page's next POST"}
    )


def _courier() -> Courier:
    user = current_api_user()
    courier = fleet_services.courier_for_user(db(), user.id)
    if courier is None:
        raise Conflict(
            say("Your account is not linked to a courier profile yet; ask your dispatcher.")
        )
    return courier


@blp.route("/day", methods=["GET"])
@api_roles(Role.COURIER)
@blp.response(200, DayOut)
def get_day() -> dict[str, Any]:
    """The courier's routes from today on; customer names and phones only for today's."""
    return day_data(_courier(), cookie=not request.headers.get("Authorization"))


def day_data(courier: Courier, *, cookie: bool) -> dict[str, Any]:
    """The courier's day as GET /courier/day answers it (the page embeds the same)."""
    navigator = current_app.config.get("NAVIGATOR_URL") or DEFAULT_NAVIGATOR
    now = utcnow()
    routes = courier_day(db(), courier=courier, now=now, navigator=navigator)
    return {
        "generated_at": now,
        "routes": routes,
        "timezone": courier.depot.timezone,
        "csrf_token": generate_csrf() if cookie else None,
    }


@blp.route("/photos", methods=["POST"])
@api_roles(Role.COURIER)
@blp.response(201, PhotoOut)
def post_photo() -> dict[str, str]:
    """A photo (proof of delivery), as multipart field ``photo``: JPEG, PNG or WebP up to
    8 MB. The same photo sent again gets the same name."""
    _courier()
    upload = request.files.get("photo")
    if upload is None:
        raise ValidationFailed({"photo": [say("Send a photo (JPEG, PNG or WebP).")]})
    return {"photo": store_photo(read_photo(upload), root=uploads())}


def _status(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    return 422


@blp.route("/events", methods=["POST"])
@api_roles(Role.COURIER)
@blp.arguments(EventsIn)
@blp.response(200, EventsOut)
def post_events(args: dict[str, Any]) -> dict[str, Any]:
    """Apply the phone's queued actions in order. Each is applied once: sent again (its
    answer was lost), it answers as the first time. A refused action (not this courier's
    stop, not its day, route not inspected) changes nothing; the others still apply."""
    courier = _courier()
    now = utcnow()
    margin = timedelta(hours=current_app.config.get("REPORT_MARGIN_H", 4))
    results = []
    for raw in args["events"]:
        try:
            event = _event(raw)
            results.append(
                events.apply(db(), courier_id=courier.id, event=event, now=now, margin=margin)
            )
        except DomainError as exc:
            error: dict[str, Any] = {"status": _status(exc), "detail": explain(exc)}
            if isinstance(exc, ValidationFailed):
                error["errors"] = localize_errors(exc.errors)
            results.append(
                {"id": raw["id"], "stop_id": raw["stop_id"], "status": "refused", "error": error}
            )
    db().commit()
    applied = any(r.get("status") == "applied" and not r.get("replayed") for r in results)
    if applied and current_app.config.get("LATE_WATCH_AFTER_REPORTS", True):
        # The day has moved: customers whose stop now misses its window are told at once
        # (off the courier's request; one waiting look per depot is enough).
        queue().enqueue(
            "planning.watch_late",
            {"depot_id": courier.depot_id},
            key=f"late-watch:{courier.depot_id}",
        )
    return {"results": results}


def _event(raw: dict[str, Any]) -> events.CourierEvent:
    kind = EventKind(raw["kind"])
    reason = FailureReason(raw["reason"]) if raw.get("reason") else None
    problems: dict[str, list[str]] = {}
    if kind is EventKind.FAILED and reason is None:
        problems["reason"] = [say("Choose why the stop could not be delivered.")]
    if reason is FailureReason.OTHER and not (raw.get("note") or "").strip():
        problems["note"] = [say("Say in a few words what happened.")]
    photo = raw.get("photo")
    if photo and photo_path(photo, root=uploads()) is None:
        problems["photo"] = [say("That photo did not arrive; send it again.")]
    if problems:
        raise ValidationFailed(problems)
    return events.CourierEvent(
        client_event_id=raw["id"],
        stop_id=raw["stop_id"],
        kind=kind,
        courier_at=raw["at"],
        reason=reason,
        note=(raw.get("note") or "").strip() or None,
        recipient=(raw.get("recipient") or "").strip() or None,
        photo=photo or None,
    )
