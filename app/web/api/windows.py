"""Delivery windows a checkout may offer for an address (R6, P2)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select

from app.db import utcnow
from app.errors import NotFound, ValidationFailed
from app.fleet.models import Depot
from app.planning import promise
from app.web import bounds
from app.web.api.common import BoundedInteger, Float, Id, Range, Text, UtcDateTime
from app.web.database import db
from app.web.i18n import localize

PREFIX = "/delivery-windows"
blp = Blueprint(
    "delivery_windows", __name__, description="Windows still on offer, from the current plan"
)


class BasketItems(Text):
    """``SKU:quantity`` pairs separated by commas, e.g. ``KETTLE-1:1,COFFEE-250:2``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=2000, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        pairs = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            sku, _colon, quantity = part.partition(":")
            if not sku or (quantity and not (quantity.isascii() and quantity.isdigit())):
                raise ma.ValidationError(
                    _(
                        "%(part)r is not SKU:quantity, e.g. KETTLE-1:2 (quantity defaults to 1).",
                        part=part,
                    )
                )
            if len(sku) > 40 or not 1 <= int(quantity or 1) <= bounds.QUANTITY_MAX:
                raise ma.ValidationError(
                    _(
                        "%(part)r: a SKU has at most 40 characters and a quantity is 1 to %(max)d.",
                        part=part[:60],
                        max=bounds.QUANTITY_MAX,
                    )
                )
            pairs.append((sku, int(quantity or 1)))
        return pairs


class WindowsArgs(ma.Schema):
    lat = Float(required=True, validate=Range(-90, 90))
    lon = Float(required=True, validate=Range(-180, 180))
    items = BasketItems(metadata={"description": "SKU:quantity,SKU:quantity (the basket)"})
    days = BoundedInteger(1, 14, strict=False, load_default=3)
    depot_id = Id(strict=False, metadata={"description": "Optional when there is one depot"})


class WindowOut(ma.Schema):
    day = ma.fields.Date()
    label = ma.fields.String(metadata={"description": "Local time, e.g. 18:00–20:00"})
    start_at = UtcDateTime()
    end_at = UtcDateTime()
    cutoff_at = UtcDateTime()
    available = ma.fields.Boolean()
    reason = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Why not, for machines: CUTOFF_PASSED (ordering for the window has "
            "closed) or routing's reason: NO_OPEN_ROUTE, NO_VEHICLE_WITH_SKILL, CAPACITY, "
            "WINDOW_UNREACHABLE"
        },
    )
    message = ma.fields.String(
        allow_none=True,
        metadata={"description": "Why not, for a person, in the Accept-Language's language"},
    )


class WindowsOut(ma.Schema):
    depot_id = ma.fields.Integer()
    timezone = ma.fields.String()
    load_units = ma.fields.Integer()
    windows = ma.fields.List(ma.fields.Nested(WindowOut))


@blp.route("", methods=["GET"])
@blp.doc(security=[])
@blp.arguments(WindowsArgs, location="query")
@blp.response(200, WindowsOut)
def delivery_windows(args: dict[str, Any]) -> dict[str, Any]:
    """Each window of today and the next days, available or not, and why not.

    Answered from the day's current plan by an insertion check (no solve): a window is
    offered when a courier can take the order in it without making any planned stop late,
    overloading a vehicle or running past a shift. Open to anyone, like a shop's checkout.
    """
    session = db()
    if "depot_id" in args:
        depot = session.get(Depot, args["depot_id"])
        if depot is None:
            raise NotFound(_("There is no depot %(id)s.", id=args["depot_id"]))
    else:
        depots = list(session.scalars(select(Depot).limit(2)))
        if len(depots) != 1:
            raise ValidationFailed({"depot_id": [_("Say which depot would deliver.")]})
        depot = depots[0]
    units = promise.load_units(session, args.get("items", []))
    found = promise.offers(
        session,
        depot=depot,
        lat=args["lat"],
        lon=args["lon"],
        now=utcnow(),
        days=args["days"],
        units=units,
    )
    return {
        "depot_id": depot.id,
        "timezone": depot.timezone,
        "load_units": units,
        "windows": [
            {
                "day": o.day,
                "label": o.window.label,
                "start_at": o.window.start_at,
                "end_at": o.window.end_at,
                "cutoff_at": o.window.cutoff_at,
                "available": o.available,
                "reason": str(o.reason) if o.reason else None,
                "message": localize(o.message) if o.message else None,
            }
            for o in found
        ],
    }
