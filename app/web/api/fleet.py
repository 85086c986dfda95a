from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select

from app.accounts.models import Role
from app.fleet import services as fleet_services
from app.fleet.models import VEHICLE_TYPES, Courier, Shift, Vehicle
from app.web import bounds
from app.web.api.common import (
    BoundedInteger,
    Id,
    Length,
    List,
    OneOf,
    PageArgs,
    String,
    Text,
    UtcDateTime,
    page_schema,
    paginate,
)
from app.web.auth import api_roles, current_api_user
from app.web.database import db

PREFIX = ""
blp = Blueprint("fleet", __name__, description="Couriers, vehicles and shifts")

PLANNERS = (Role.ADMIN, Role.DISPATCHER)


class VehicleIn(ma.Schema):
    depot_id = Id(required=True)
    registration = Text(required=True, min_length=1, max_length=20)
    type = String(required=True, validate=OneOf(VEHICLE_TYPES))
    capacity_units = BoundedInteger(1, bounds.CAPACITY_MAX_UNITS, required=True)
    skills = List(Text(min_length=1, max_length=30), load_default=list, validate=Length(max=10))


class VehicleOut(VehicleIn):
    id = ma.fields.Integer()
    in_service = ma.fields.Boolean()
    out_of_service_reason = ma.fields.String(allow_none=True)


class CourierIn(ma.Schema):
    depot_id = Id(required=True)
    name = Text(required=True, min_length=1, max_length=120)
    phone = Text(required=True, min_length=1, max_length=32)
    skills = List(Text(min_length=1, max_length=40), load_default=list, validate=Length(max=20))


class CourierOut(CourierIn):
    id = ma.fields.Integer()
    is_active = ma.fields.Boolean()


class ShiftIn(ma.Schema):
    courier_id = Id(required=True)
    vehicle_id = Id(allow_none=True)
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)
    break_minutes = BoundedInteger(
        fleet_services.MIN_BREAK_MINUTES,
        fleet_services.MAX_BREAK_MINUTES,
        allow_none=True,
        metadata={
            "description": "The break's length. Leave the three break fields out and a shift "
            "longer than 6 hours gets 30 minutes in its middle two hours."
        },
    )
    break_from = UtcDateTime(
        allow_none=True, metadata={"description": "The break is taken after this"}
    )
    break_until = UtcDateTime(
        allow_none=True, metadata={"description": "and is over by this, inside the shift"}
    )

    @ma.validates_schema
    def _length(self, data: dict[str, Any], **kwargs: Any) -> None:
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at - starts_at > bounds.SHIFT_MAX:
            hours = bounds.SHIFT_MAX.total_seconds() / 3600
            raise ma.ValidationError(
                _("A shift lasts at most %(hours)s hours.", hours=f"{hours:g}"), "ends_at"
            )


class ShiftOut(ShiftIn):
    id = ma.fields.Integer()
    depot_id = ma.fields.Integer()
    break_from = UtcDateTime(attribute="break_from_at", allow_none=True)
    break_until = UtcDateTime(attribute="break_until_at", allow_none=True)


class ShiftListArgs(PageArgs):
    courier_id = Id(strict=False)
    since = UtcDateTime()
    until = UtcDateTime()


@blp.route("/vehicles", methods=["GET"])
@api_roles(*PLANNERS)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(VehicleOut, "VehiclePage"))
def list_vehicles(args: dict[str, Any]) -> dict[str, Any]:
    return paginate(select(Vehicle).order_by(Vehicle.id), args["page"], args["page_size"])


@blp.route("/vehicles", methods=["POST"])
@api_roles(*PLANNERS)
@blp.arguments(VehicleIn)
@blp.response(201, VehicleOut)
def create_vehicle(args: dict[str, Any]) -> Vehicle:
    vehicle = fleet_services.create_vehicle(db(), **args)
    db().commit()
    return vehicle


@blp.route("/couriers", methods=["GET"])
@api_roles(*PLANNERS)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(CourierOut, "CourierPage"))
def list_couriers(args: dict[str, Any]) -> dict[str, Any]:
    return paginate(select(Courier).order_by(Courier.name), args["page"], args["page_size"])


@blp.route("/couriers", methods=["POST"])
@api_roles(*PLANNERS)
@blp.arguments(CourierIn)
@blp.response(201, CourierOut)
def create_courier(args: dict[str, Any]) -> Courier:
    courier = fleet_services.create_courier(db(), **args)
    db().commit()
    return courier


@blp.route("/shifts", methods=["GET"])
@api_roles(*PLANNERS, Role.COURIER)
@blp.arguments(ShiftListArgs, location="query")
@blp.response(200, page_schema(ShiftOut, "ShiftPage"))
def list_shifts(args: dict[str, Any]) -> dict[str, Any]:
    """Shifts by time; a courier always gets only their own, whatever courier_id says."""
    courier_id = args.get("courier_id")
    user = current_api_user()
    if user.role == Role.COURIER:
        own = fleet_services.courier_for_user(db(), user.id)
        courier_id = own.id if own is not None else -1
    query = fleet_services.shifts_query(
        courier_id=courier_id, since=args.get("since"), until=args.get("until")
    )
    return paginate(query, args["page"], args["page_size"])


@blp.route("/shifts", methods=["POST"])
@api_roles(*PLANNERS)
@blp.arguments(ShiftIn)
@blp.response(201, ShiftOut)
def create_shift(args: dict[str, Any]) -> Shift:
    shift = fleet_services.create_shift(db(), **args)
    db().commit()
    return shift
