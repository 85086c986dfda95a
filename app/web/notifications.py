"""Support: the outbox of messages to customers and to support, and how sending went."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from app.notifications import services as notification_services
from app.notifications.models import NOTICE_STATUSES
from app.web import bounds
from app.web.auth import area_required
from app.web.database import db

bp = Blueprint("notifications", __name__, url_prefix="/support/notifications")

PER_PAGE = 50

STATUS_NAMES = {
    "pending": _l("waiting"),
    "sent": _l("sent"),
    "failed": _l("failed"),
    "unreachable": _l("no e-mail or phone"),
}

KIND_NAMES = {
    "late": _l("running late"),
    "return_update": _l("return update"),
    "return_late": _l("return late: apology"),
    "escalation": _l("escalation to support"),
    "held": _l("order held"),
}

CHANNEL_NAMES = {"email": _l("e-mail"), "sms": _l("SMS")}


@bp.get("/")
@area_required("support")
def index() -> str:
    status = request.args.get("status", "")
    if status not in NOTICE_STATUSES:
        status = ""
    page = request.args.get("page", 1, type=int) or 1
    view = notification_services.outbox_page(
        db(),
        status=status or None,
        page=min(max(1, page), bounds.PAGE_MAX),
        per_page=PER_PAGE,
    )
    return render_template(
        "support/notifications.html",
        view=view,
        status=status,
        status_names=STATUS_NAMES,
        kind_names=KIND_NAMES,
        channel_names=CHANNEL_NAMES,
    )
