"""Returns from the customer's phone (X1, X2): photos, then the return itself, decided at once
by the policy; and the case as it stands (X3)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import abort

from app.accounts.models import Role
from app.customers.models import Customer
from app.customers.services import customer_for_user
from app.db import utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.media import photo_path, store_photo
from app.messages import say
from app.web.api.common import Id, Length, List, Nested, OneOf, Quantity, String, Text
from app.web.api.loyalty import IDEMPOTENCY_KEY
from app.web.auth import api_roles, current_api_user
from app.web.bounds import ID_RULE
from app.web.database import db
from app.web.i18n import localize
from app.web.uploads import read_photo, uploads
from returns import services as return_services
from returns.models import ReturnCase
from returns.policy import Resolution, ReturnReason

PREFIX = "/returns"
blp = Blueprint(
    "returns",
    __name__,
    description="Returns: started by the customer, decided at once by the shop's policy, "
    "every decision with its rule and its reason",
)


class ReturnLineIn(ma.Schema):
    order_item_id = Id(required=True)
    quantity = Quantity(required=True)


class ReturnIn(ma.Schema):
    order_id = Id(required=True)
    items = List(Nested(ReturnLineIn), required=True, validate=Length(min=1, max=50))
    reason = String(required=True, validate=OneOf([r.value for r in ReturnReason]))
    resolution = String(required=True, validate=OneOf([r.value for r in Resolution]))
    description = Text(load_default=None, allow_none=True, max_length=2000)
    photos = List(Text(max_length=100), load_default=list, validate=Length(max=5))


class ReturnEventOut(ma.Schema):
    at = ma.fields.DateTime()
    message = ma.fields.Function(lambda e: localize(e.message))


class ReturnOut(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "approved, under_review, declined, ..."})
    rule = ma.fields.String(metadata={"description": "The policy rule that decided"})
    decision = ma.fields.Function(
        lambda c: localize(c.decision), metadata={"description": "Why, for the customer"}
    )
    bonus_points = ma.fields.Integer()
    refund_minor = ma.fields.Integer()
    pickup = ma.fields.Boolean()
    delivery = ma.fields.Boolean()
    respond_by = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    events = ma.fields.List(ma.fields.Nested(ReturnEventOut))


class ReturnPhotoOut(ma.Schema):
    photo = ma.fields.String()


def _me() -> Customer:
    customer = customer_for_user(db(), current_api_user().id)
    if customer is None:
        raise Conflict(say("Your account has no customer profile; write to support."))
    return customer


@blp.route("/photos", methods=["POST"])
@api_roles(Role.CUSTOMER)
@blp.response(201, ReturnPhotoOut)
def post_photo() -> dict[str, str]:
    """A photo of the problem, as multipart field ``photo``: JPEG, PNG or WebP up to 8 MB."""
    _me()
    upload = request.files.get("photo")
    if upload is None:
        raise ValidationFailed({"photo": [say("Send a photo (JPEG, PNG or WebP).")]})
    return {"photo": store_photo(read_photo(upload), root=uploads())}


@blp.route("", methods=["POST"])
@api_roles(Role.CUSTOMER)
@blp.arguments(ReturnIn)
@blp.response(201, ReturnOut)
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def start_return(args: dict[str, Any]) -> Any:
    """Return items of a delivered order; decided at once. The same Idempotency-Key answers
    with the first case (200) and changes nothing."""
    customer = _me()
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 64 or not all("!" <= c <= "~" for c in key):
        abort(
            400,
            description=_(
                "Send an Idempotency-Key header (up to 64 visible ASCII characters, e.g. a "
                "UUID) so that a form sent twice opens one return."
            ),
        )
    for n, name in enumerate(args["photos"]):
        if photo_path(name, root=uploads()) is None:
            raise ValidationFailed(
                {f"photos.{n}": [say("That photo did not arrive; send it again.")]}
            )
    session = db()
    existed = (
        session.scalar(
            select(ReturnCase.id).where(
                ReturnCase.customer_id == customer.id, ReturnCase.client_key == key
            )
        )
        is not None
    )

    def start() -> ReturnCase:
        return return_services.start_return(
            session,
            customer_id=customer.id,
            order_id=args["order_id"],
            items=[
                return_services.Wanted(i["order_item_id"], i["quantity"]) for i in args["items"]
            ],
            reason=ReturnReason(args["reason"]),
            resolution=Resolution(args["resolution"]),
            key=key,
            now=utcnow(),
            description=args["description"],
            photos=args["photos"],
        )

    try:
        case = start()
        session.commit()
    except IntegrityError:  # the same form, sent twice at once: the first one won
        session.rollback()
        case = start()
        existed = True
    if existed:
        return case, 200, {"Idempotent-Replayed": "true"}
    return case


@blp.route(f"/<{ID_RULE}:case_id>", methods=["GET"])
@api_roles(Role.CUSTOMER, Role.SUPPORT, Role.ADMIN)
@blp.response(200, ReturnOut)
def get_return(case_id: int) -> ReturnCase:
    """A return as it stands: its decision and why, what happens next, its timeline."""
    case = db().get(ReturnCase, case_id)
    user = current_api_user()
    mine = user.role != Role.CUSTOMER or (
        case is not None
        and (me := customer_for_user(db(), user.id)) is not None
        and me.id == case.customer_id
    )
    if case is None or not mine:
        raise NotFound(say("There is no return %(id)s.", id=case_id))
    return case
