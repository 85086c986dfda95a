"""The customer's order by its signed link, without signing in (P1): what comes, when, how
many stops before theirs, what changed and why; a return started from the phone (X1) and
the return's own page (X3); after delivery, the rating, a low score's promised answer and
the NPS question (Q1), as plain forms. The pages refresh themselves from ``…/live``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import abort
from werkzeug.wrappers import Response

from app.db import utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.links import order_from_token
from app.media import MAX_PHOTO_BYTES, check_photo, store_photo
from app.notifications import services as notifications
from app.orders.models import Order
from app.planning import stops as stop_service
from app.planning.enums import StopKind
from app.planning.models import Stop
from app.planning.tracking import ProjectionCache, StopView, stop_view
from app.quality import services as quality
from app.segments import services as segment_services
from app.web.bounds import ID_RULE
from app.web.database import db
from app.web.filters import day, local_time
from app.web.i18n import explain, localize
from app.web.portal import NEXT_STEP
from app.web.uploads import read_photo, uploads
from app.web.words import (
    FAILURE_REASON_NAMES,
    ORDER_STATUS_NAMES,
    RESOLUTION_NAMES,
    RETURN_REASON_NAMES,
    RETURN_STATUS_NAMES,
    word,
)
from returns import services as return_services
from returns.models import ReturnCase
from returns.policy import Resolution, ReturnReason

bp = Blueprint("tracking", __name__, url_prefix="/t")

LIVE_EVERY_S = 30  # how often an open page asks for news
MAX_PHOTOS = return_services.MAX_PHOTOS


def _projections() -> ProjectionCache:
    """This app's cache of day projections (see ProjectionCache)."""
    return current_app.extensions.setdefault("roundtrip.projections", ProjectionCache())


def _order(token: str) -> Order:
    order_id = order_from_token(current_app.config["SECRET_KEY"], token)
    order = db().get(Order, order_id) if order_id is not None else None
    if order is None:
        abort(
            404, description=_("This link does not open an order. Check the link in our message.")
        )
    return order


def _case(order: Order, case_id: int) -> ReturnCase:
    case = db().get(ReturnCase, case_id)
    if case is None or case.order_id != order.id:
        abort(404, description=_("This order has no such return."))
    return case


def _delivery_stop(order: Order) -> Stop | None:
    return db().scalar(
        select(Stop).where(
            Stop.order_id == order.id,
            Stop.kind == StopKind.DELIVERY,
            Stop.return_case_id.is_(None),
            Stop.delivery_day == order.delivery_day,
        )
    )


def _window(start: datetime, end: datetime, tz: str) -> str:
    return _(
        "%(day)s, %(start)s–%(end)s",
        day=day(start, "EEE d MMM", tz),
        start=local_time(start, tz),
        end=local_time(end, tz),
    )


def _progress(view: StopView | None, tz: str, *, collecting: bool = False) -> dict[str, str]:
    """The live lines of a stop, as words: the expected window, the stops before, the end."""
    out = {"expected": "", "before": "", "outcome": "", "late": ""}
    if view is None:
        return out
    if view.completed_at is not None:
        at = local_time(view.completed_at, tz)
        out["outcome"] = {
            "delivered": _("Delivered at %(time)s.", time=at),
            "collected": _("Collected at %(time)s. Thank you.", time=at),
            "exchanged": _("Exchanged at %(time)s. Thank you.", time=at),
        }.get(
            view.outcome or "",
            _(
                "The courier could not come to you (%(why)s) at %(time)s. We will write to you "
                "with a new time.",
                why=word(FAILURE_REASON_NAMES, view.failure_reason),
                time=at,
            ),
        )
        return out
    if view.expected_start is not None and view.expected_end is not None:
        span = {
            "start": local_time(view.expected_start, tz),
            "end": local_time(view.expected_end, tz),
        }
        out["expected"] = (
            _("The courier now expects to come %(start)s–%(end)s.", **span)
            if collecting
            else _("Expected arrival: %(start)s–%(end)s.", **span)
        )
        if view.late:
            out["late"] = _(
                "That is later than we promised. We are sorry; we have written to you about it."
            )
    elif not view.on_route:
        out["expected"] = (
            _("The courier's visit is planned the evening before; you will see its time here.")
            if collecting
            else _("Your narrower arrival time appears here once the route is planned.")
        )
    if view.stops_before is not None:
        out["before"] = (
            _("The courier is at your door next.")
            if view.stops_before == 0
            else _("Stops before yours: %(n)s.", n=view.stops_before)
        )
    return out


def _when(at: datetime, tz: str) -> str:
    """A line's moment on the customer's pages: day and time in the depot's zone."""
    return _("%(day)s %(time)s", day=day(at, "d MMM", tz), time=local_time(at, tz))


def _notices(order: Order) -> list[dict[str, str]]:
    tz = order.depot.timezone
    return [
        {
            "at": _when(n.created_at, tz),
            "text": localize(n.message),
        }
        for n in reversed(notifications.order_notices(db(), order.id))
    ]


def _order_live(order: Order, now: datetime) -> dict[str, Any]:
    stop = _delivery_stop(order)
    view = stop_view(db(), stop, now=now, cache=_projections()) if stop is not None else None
    return {
        "status": word(ORDER_STATUS_NAMES, order.status),
        "next": str(NEXT_STEP.get(order.status, "")),
        **_progress(view, order.depot.timezone),
        "notices": _notices(order),
    }


def _order_page(
    order: Order,
    token: str,
    *,
    errors: dict[str, list[str]] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    now = utcnow()
    cases = (
        db()
        .scalars(select(ReturnCase).where(ReturnCase.order_id == order.id).order_by(ReturnCase.id))
        .all()
    )
    page = render_template(
        "tracking/order.html",
        order=order,
        token=token,
        tz=order.depot.timezone,
        promised=_window(order.window_start_at, order.window_end_at, order.depot.timezone),
        live=_order_live(order, now),
        cases=cases,
        returnable=order.status == "delivered",
        live_every_s=LIVE_EVERY_S,
        feedback=quality.order_feedback(
            db(), order_id=order.id, customer_id=order.customer_id, now=now
        ),
        errors=errors or {},
        form=form or {},
    )
    return page, status


@bp.get("/<token>")
def order_page(token: str) -> tuple[str, int]:
    """The order; a notification's "rate your delivery" link opens this page too."""
    return _order_page(_order(token), token)


def _score(raw: str) -> int:
    """The score a form sent, or -1 (which the service refuses, naming the field)."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else -1


def _feedback_sent(
    order: Order, token: str, send: Callable[[], object], fields: dict[str, str]
) -> Response | tuple[str, int]:
    """Run ``send`` and commit; the page with the problems (422), or back to the page.
    ``fields`` names the form's field for each of the service's."""
    session = db()
    try:
        send()
        session.commit()
    except ValidationFailed as exc:
        session.rollback()
        errors = {fields.get(k, k): [localize(m) for m in v] for k, v in exc.errors.items()}
        form = {k: request.form.get(k, "") for k in fields.values()}
        return _order_page(order, token, errors=errors, form=form, status=422)
    except (Conflict, NotFound) as exc:  # sent twice, or the order is not delivered yet
        session.rollback()
        flash(explain(exc), "info")
    return redirect(url_for("tracking.order_page", token=token, _anchor="feedback"), 303)


@bp.post("/<token>/rating")
def rate(token: str) -> Response | tuple[str, int]:
    """The customer rates the delivery (1..5, a comment); the NPS question is put now if due."""
    order = _order(token)

    def send() -> None:
        now = utcnow()
        rated = quality.rate_delivery(
            db(),
            order_id=order.id,
            customer_id=order.customer_id,
            score=_score(request.form.get("score", "")),
            comment=request.form.get("comment", ""),
            now=now,
        )
        try:  # a demanding customer's detailed words go to who can fix their cause
            segment_services.route_feedback(db(), rating_id=rated.rating.id, now=now)
        except ValueError:  # a bad ROUNDTRIP_SEGMENT_* setting must not lose the rating
            current_app.logger.exception("feedback not routed: a segment setting is wrong")
        quality.ask_nps(db(), customer_id=order.customer_id, order_id=order.id, now=now)
        # A low score's promised answer is on the page itself (and in a message).
        flash(_("Thank you for rating your delivery."), "success")

    return _feedback_sent(order, token, send, {"score": "score", "comment": "comment"})


@bp.post("/<token>/nps")
def answer_nps(token: str) -> Response | tuple[str, int]:
    """The customer answers the NPS question (0..10, why)."""
    order = _order(token)

    def send() -> None:
        quality.answer_nps(
            db(),
            customer_id=order.customer_id,
            order_id=order.id,
            score=_score(request.form.get("nps_score", "")),
            why=request.form.get("why", ""),
            now=utcnow(),
        )
        flash(_("Thank you for your answer."), "success")

    return _feedback_sent(order, token, send, {"score": "nps_score", "why": "why"})


@bp.get("/<token>/live")
def order_live(token: str) -> Response:
    order = _order(token)
    response = jsonify(_order_live(order, utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


def _lines(order: Order) -> list[dict[str, Any]]:
    """Each line of the order and how many of it can still be sent back."""
    already = return_services.returned_quantities(db(), [i.id for i in order.items])
    return [{"item": i, "left": i.quantity - already.get(i.id, 0)} for i in order.items]


def _form_errors(
    errors: dict[str, list[str]], lines: Sequence[dict[str, Any]]
) -> dict[str, list[str]]:
    """The service's field names as the form's: items.0 is the first line chosen."""
    return {k: [localize(m) for m in v] for k, v in errors.items()}


@bp.route("/<token>/return", methods=["GET", "POST"])
def start_return(token: str) -> Any:
    order = _order(token)
    lines = _lines(order)
    if order.status != "delivered":
        return redirect(url_for("tracking.order_page", token=token))
    errors: dict[str, list[str]] = {}
    chosen: dict[int, int] = {}
    if request.method == "POST":
        form = request.form
        key = form.get("key", "")
        if not key or len(key) > 64 or not all(c.isalnum() or c in "-_" for c in key):
            key = uuid.uuid4().hex  # a page from before this form had keys: still one case
        sent = db().scalar(
            select(ReturnCase.id).where(
                ReturnCase.customer_id == order.customer_id, ReturnCase.client_key == key
            )
        )
        if sent is not None:  # pressed twice, or sent again after a lost answer
            return redirect(url_for("tracking.case_page", token=token, case_id=sent), 303)
        for line in lines:
            raw = form.get(f"qty-{line['item'].id}", "0")
            if raw not in {str(n) for n in range(0, max(line["left"], 0) + 1)}:
                errors.setdefault("items", []).append(_("Choose how many from the list."))
                continue
            if int(raw) > 0:
                chosen[line["item"].id] = int(raw)
        reason, resolution = form.get("reason", ""), form.get("resolution", "")
        if reason not in {r.value for r in ReturnReason}:
            errors.setdefault("reason", []).append(_("Choose what is wrong."))
        if resolution not in {r.value for r in Resolution}:
            errors.setdefault("resolution", []).append(_("Choose what you would like instead."))
        description = form.get("description", "").strip()
        if len(description) > return_services.MAX_DESCRIPTION:
            errors.setdefault("description", []).append(
                _("Keep it under %(n)s characters.", n=return_services.MAX_DESCRIPTION)
            )
        sent_photos: list[bytes] = []
        files = [f for f in request.files.getlist("photos") if f and f.filename]
        if len(files) > MAX_PHOTOS:
            errors.setdefault("photos", []).append(_("Send at most %(n)s photos.", n=MAX_PHOTOS))
        for upload in files[:MAX_PHOTOS]:
            data = read_photo(upload)
            try:
                check_photo(data, field="photos")
            except ValidationFailed as exc:
                for m in exc.errors.get("photos", []):
                    errors.setdefault("photos", []).append(f"{upload.filename}: {localize(m)}")
            else:
                sent_photos.append(data)
        if not chosen and "items" not in errors:
            errors.setdefault("items", []).append(_("Choose what you are sending back."))
        if not errors:
            # Kept only now that the whole form is right: a refused form leaves no files.
            photos = [store_photo(data, root=uploads(), field="photos") for data in sent_photos]
            session = db()

            def start() -> ReturnCase:
                return return_services.start_return(
                    session,
                    customer_id=order.customer_id,
                    order_id=order.id,
                    items=[return_services.Wanted(i, q) for i, q in chosen.items()],
                    reason=ReturnReason(reason),
                    resolution=Resolution(resolution),
                    key=key,
                    now=utcnow(),
                    description=description or None,
                    photos=photos,
                )

            try:
                try:
                    case = start()
                    session.commit()
                except IntegrityError:  # the same form sent twice at once: the first won
                    session.rollback()
                    case = start()
            except ValidationFailed as exc:
                session.rollback()
                errors = _form_errors(exc.errors, lines)
            else:
                return redirect(url_for("tracking.case_page", token=token, case_id=case.id), 303)
    key = request.form.get("key") if request.method == "POST" else None
    return (
        render_template(
            "tracking/return.html",
            order=order,
            token=token,
            lines=lines,
            chosen=chosen,
            errors=errors,
            form=request.form if request.method == "POST" else {},
            key=key or uuid.uuid4().hex,
            reasons=list(RETURN_REASON_NAMES.items()),
            resolutions=list(RESOLUTION_NAMES.items()),
            max_photos=MAX_PHOTOS,
            max_photo_mb=MAX_PHOTO_BYTES // 2**20,
        ),
        422 if errors else 200,
    )


def _case_live(order: Order, case: ReturnCase, now: datetime) -> dict[str, Any]:
    tz = order.depot.timezone
    stops = stop_service.stops_of_return(db(), case.id)
    stop = stops[-1] if stops else None
    view = stop_view(db(), stop, now=now, cache=_projections()) if stop is not None else None
    live = _progress(view, tz, collecting=True)
    return {
        "status": word(RETURN_STATUS_NAMES, case.status),
        "decision": localize(case.decision),
        "visit": _window(stop.window_start_at, stop.window_end_at, tz) if stop else "",
        **live,
        "events": [
            {
                "at": _when(e.at, tz),
                "text": localize(e.message),
            }
            for e in reversed(case.events)
        ],
    }


@bp.get(f"/<token>/returns/<{ID_RULE}:case_id>")
def case_page(token: str, case_id: int) -> str:
    order = _order(token)
    case = _case(order, case_id)
    return render_template(
        "tracking/case.html",
        order=order,
        case=case,
        token=token,
        tz=order.depot.timezone,
        live=_case_live(order, case, utcnow()),
        live_every_s=LIVE_EVERY_S,
        reason_word=word(RETURN_REASON_NAMES, case.reason),
        resolution_word=word(RESOLUTION_NAMES, case.resolution),
    )


@bp.get(f"/<token>/returns/<{ID_RULE}:case_id>/live")
def case_live(token: str, case_id: int) -> Response:
    order = _order(token)
    case = _case(order, case_id)
    response = jsonify(_case_live(order, case, utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response
