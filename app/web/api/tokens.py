from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import abort
from flask_smorest import Blueprint

from app.accounts import services as account_services
from app.web.database import db

PREFIX = "/auth"
blp = Blueprint("tokens", __name__, description="Get an API token")


class TokenRequest(ma.Schema):
    email = ma.fields.Email(required=True)
    password = ma.fields.String(required=True, load_only=True)
    label = ma.fields.String(load_default="api", validate=ma.validate.Length(max=120))


class TokenResponse(ma.Schema):
    token = ma.fields.String(metadata={"description": "Send as 'Authorization: Bearer <token>'"})
    role = ma.fields.String()
    user_id = ma.fields.Integer()


@blp.route("/tokens", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(TokenRequest)
@blp.response(201, TokenResponse)
def create_token(args: dict[str, Any]) -> dict[str, Any]:
    """Exchange an e-mail and password for a bearer token (shown once)."""
    session = db()
    user = account_services.authenticate(session, email=args["email"], password=args["password"])
    if user is None:
        abort(401, description="The e-mail or password is wrong.")
    token = account_services.issue_token(session, user=user, label=args["label"])
    session.commit()
    return {"token": token, "role": user.role, "user_id": user.id}
