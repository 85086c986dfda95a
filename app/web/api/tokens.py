"""API tokens: exchange a password for one, list your own, revoke them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask import Response, abort, current_app
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_smorest import Blueprint

from app.accounts import services as account_services
from app.accounts.models import ApiToken, Role
from app.db import utcnow
from app.errors import NotFound
from app.web.api.common import Id, UtcDateTime
from app.web.auth import api_roles, current_api_user, retry_after_s, sign_in_throttled
from app.web.bounds import ID_RULE
from app.web.database import db
from app.web.problems import problem

PREFIX = "/auth"
blp = Blueprint("tokens", __name__, description="Get, list and revoke API tokens")


class TokenRequest(ma.Schema):
    email = ma.fields.Email(required=True)
    password = ma.fields.String(required=True, load_only=True)
    label = ma.fields.String(load_default="api", validate=ma.validate.Length(max=120))


class TokenOut(ma.Schema):
    id = ma.fields.Integer()
    label = ma.fields.String()
    created_at = UtcDateTime()
    last_used_at = UtcDateTime(
        allow_none=True, metadata={"description": "Updated at most every 5 minutes"}
    )
    expires_at = UtcDateTime()


class TokenListItem(TokenOut):
    current = ma.fields.Boolean(metadata={"description": "The token this request was sent with"})


class TokenList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TokenListItem))


class TokenListArgs(ma.Schema):
    user_id = Id(strict=False, metadata={"description": "Admins only: another person's tokens"})


class TokenResponse(TokenOut):
    token = ma.fields.String(metadata={"description": "Send as 'Authorization: Bearer <token>'"})
    role = ma.fields.String()
    user_id = ma.fields.Integer()
    revoked_token_ids = ma.fields.List(
        ma.fields.Integer(),
        metadata={
            "description": "Your least recently used tokens, revoked to stay within the "
            "limit of live tokens per person"
        },
    )


def _too_many_attempts(limit: RequestLimit) -> Response:
    wait_s = retry_after_s(limit)
    return problem(
        429,
        _("Too many sign-in attempts. Wait %(seconds)d seconds, then try again.", seconds=wait_s),
        headers={"Retry-After": str(wait_s)},
    )


@blp.route("/tokens", methods=["POST"])
@blp.doc(security=[])
@sign_in_throttled(_too_many_attempts)
@blp.arguments(TokenRequest)
@blp.response(201, TokenResponse)
@blp.alt_response(429, description="Too many sign-in attempts; see Retry-After")
def create_token(args: dict[str, Any]) -> dict[str, Any]:
    """Exchange an e-mail and password for a bearer token (shown once).

    Tokens expire (30 days unless configured otherwise). A person holds at most 10 live
    tokens: a new one beyond that revokes the least recently used, named in the answer.
    """
    session = db()
    user = account_services.authenticate(session, email=args["email"], password=args["password"])
    if user is None:
        abort(401, description=_("The e-mail or password is wrong."))
    issued = account_services.issue_api_token(
        session,
        user=user,
        label=args["label"],
        now=utcnow(),
        lifetime=timedelta(days=current_app.config["API_TOKEN_DAYS"]),
        cap=current_app.config["API_TOKEN_CAP"],
    )
    session.commit()
    return {
        **_token_fields(issued.api_token),
        "token": issued.secret,
        "role": user.role,
        "user_id": user.id,
        "revoked_token_ids": [t.id for t in issued.revoked],
    }


@blp.route("/tokens", methods=["GET"])
@api_roles(*Role)
@blp.arguments(TokenListArgs, location="query")
@blp.response(200, TokenList)
def list_tokens(args: dict[str, Any]) -> dict[str, Any]:
    """Your tokens that still work, newest first (never their secrets)."""
    user = current_api_user()
    user_id = args.get("user_id", user.id)
    if user_id != user.id and user.role != Role.ADMIN:
        abort(403, description=_("Only administrators may list another person's tokens."))
    tokens = account_services.live_tokens(db(), user_id=user_id, now=utcnow())
    return {"items": [{**_token_fields(t), "current": t.id == user.api_token_id} for t in tokens]}


@blp.route(f"/tokens/<{ID_RULE}:token_id>", methods=["DELETE"])
@api_roles(*Role)
@blp.response(204)
def revoke_token(token_id: int) -> None:
    """Revoke one of your tokens (administrators: anyone's); it stops working at once."""
    user = current_api_user()
    api_token = db().get(ApiToken, token_id)
    if api_token is None or (api_token.user_id != user.id and user.role != Role.ADMIN):
        raise NotFound(_("You have no token %(id)s.", id=token_id))
    account_services.revoke_token(db(), token_id=token_id, now=utcnow())
    db().commit()


def _token_fields(api_token: ApiToken) -> dict[str, Any]:
    return {
        "id": api_token.id,
        "label": api_token.label,
        "created_at": api_token.created_at,
        "last_used_at": api_token.last_used_at,
        "expires_at": api_token.expires_at,
    }
