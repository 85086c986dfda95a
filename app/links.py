"""Signed, unguessable links a customer follows without signing in (tracking, a return).

The token names an order and is signed with the installation's secret, so it cannot be
guessed or altered; it does not expire, because a link in last week's message must still
open the order page. Changing SECRET_KEY withdraws every link at once.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

_SALT = "roundtrip.tracking"


def tracking_token(secret: str, order_id: int) -> str:
    return URLSafeSerializer(secret, salt=_SALT).dumps(order_id)


def order_from_token(secret: str, token: str) -> int | None:
    """The order a token names; None for a token this installation did not sign."""
    if len(token) > 200:
        return None
    try:
        value = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def tracking_path(secret: str, order_id: int, *, case_id: int | None = None) -> str:
    """The path of an order's tracking page (or of one of its returns), without the host."""
    path = f"/t/{tracking_token(secret, order_id)}"
    return f"{path}/returns/{case_id}" if case_id is not None else path


def tracking_url(base_url: str, secret: str, order_id: int, *, case_id: int | None = None) -> str:
    """The full link for a message: ``base_url`` is ROUNDTRIP_PUBLIC_URL."""
    return base_url.rstrip("/") + tracking_path(secret, order_id, case_id=case_id)
