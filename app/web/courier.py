"""Couriers (phone layout): their own shifts and published routes, nobody else's."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.db import utcnow
from app.errors import DomainError, ValidationFailed
from app.fleet import inspection
from app.fleet import services as fleet_services
from app.fleet.models import Courier, Shift
from app.media import MAX_PHOTO_BYTES, store_photo
from app.planning import progress as planning_progress
from app.planning.enums import FAILURE_REASONS, FailureReason
from app.planning.progress import Report, report_stop
from app.web.api.courier import MAX_EVENTS, DayOut, day_data
from app.web.auth import area_required
from app.web.background import queue
from app.web.bounds import ID_RULE
from app.web.database import db
from app.web.forms import InspectionForm, ReportVisitForm
from app.web.i18n import explain, localize
from app.web.uploads import read_photo, uploads
from app.web.words import FAILURE_REASON_NAMES, word

bp = Blueprint("courier", __name__, url_prefix="/courier")

UNDO_SECONDS = 5  # an action is held this long for an undo before it is sent


def _reported(report: Report, number: int) -> str:
    """What the courier sees after reporting a stop."""
    if report is Report.ARRIVED:
        return _("Stop %(number)d: arrived. Thank you.", number=number)
    if report is Report.DELIVERED:
        return _("Stop %(number)d: delivered. Thank you.", number=number)
    return _("Stop %(number)d: not delivered. Thank you.", number=number)


@bp.get("/")
@area_required("courier")
def index() -> str:
    courier = fleet_services.courier_for_user(db(), current_user.id)
    shifts: list[Shift] = []
    routes = []
    if courier is not None:
        now = utcnow()
        shifts = list(
            db().scalars(
                fleet_services.shifts_query(
                    courier_id=courier.id, since=now, until=now + timedelta(days=14)
                )
            )
        )
        routes = planning_progress.courier_routes(db(), courier_id=courier.id, now=now)
    shift_ids = [r.shift_id for r in routes] + [s.id for s in shifts]
    checks = {i: inspection.latest_for(db(), i) for i in dict.fromkeys(shift_ids)}
    page_data = _page_data(courier) if courier is not None else None
    on_routes = {r.shift_id for r in routes}
    # A vehicle that failed its check loses its route: the courier still reads why.
    lost = [c for i, c in checks.items() if i not in on_routes and c is not None and not c.passed]
    return render_template(
        "courier/index.html",
        courier=courier,
        shifts=shifts,
        routes=routes,
        checks=checks,
        lost=lost,
        checklists={r.shift_id: inspection.checklist(r.vehicle) for r in routes},
        questions=inspection.QUESTIONS,
        needs_odometer=inspection.needs_odometer,
        inspection_form=InspectionForm(formdata=None),
        report_form=ReportVisitForm(),
        failure_reasons=[(c, word(FAILURE_REASON_NAMES, c)) for c in FAILURE_REASONS],
        page_data=page_data,
    )


def _page_data(courier: Courier) -> dict[str, Any]:
    """What static/courier.js draws the day from: the day as the API gives it, the page's
    words in its language (their %(name)s places filled by the script), and where to send."""
    return {
        "day": DayOut().dump(day_data(courier, cookie=True)),
        "user": current_user.id,
        "language": str(get_locale() or "en"),
        "undo_seconds": UNDO_SECONDS,
        "max_photo_bytes": MAX_PHOTO_BYTES,
        "max_events": MAX_EVENTS,
        "reasons": [[c, word(FAILURE_REASON_NAMES, c)] for c in FAILURE_REASONS],
        "urls": {
            "day": url_for("courier_api.get_day"),
            "events": url_for("courier_api.post_events"),
            "photos": url_for("courier_api.post_photo"),
            "worker": url_for("courier.service_worker"),
            "scope": url_for("courier.index"),
        },
        "words": _words(),
    }


def _words() -> dict[str, str]:
    return {
        "stop_number": _("Stop %(n)s"),
        "window": _("%(start)s–%(end)s"),
        "eta": _("expected %(time)s"),
        "eta_late": _("expected %(time)s: late for the window"),
        "planned": _("planned %(time)s"),
        "hand_over": _("Hand over: %(items)s"),
        "collect": _("Take back: %(items)s"),
        "kind_pickup": _("Return pickup"),
        "kind_exchange": _("Exchange: new for old in one visit"),
        "collected": _("Collected"),
        "exchanged": _("Exchanged"),
        "confirm_collected": _("Confirm: collected"),
        "confirm_exchanged": _("Confirm: exchanged"),
        "collected_at": _("Collected at %(time)s"),
        "exchanged_at": _("Exchanged at %(time)s"),
        "call": _("Call"),
        "navigate": _("Navigate"),
        "map_app": _("Map app"),
        "arrived": _("Arrived"),
        "delivered": _("Delivered"),
        "failed": _("Could not deliver"),
        "recipient": _("Who took it (name)"),
        "photo": _("Photo (optional)"),
        "photo_too_big": _("This photo is too big; take a smaller one."),
        "confirm_delivered": _("Confirm: delivered"),
        "why_failed": _("Why could it not be delivered?"),
        "what_happened": _("What happened (needed for “Something else”)"),
        "choose_reason": _("Choose why first."),
        "say_what": _("Say in a few words what happened."),
        "confirm_failed": _("Confirm: not delivered"),
        "delivered_at": _("Delivered at %(time)s"),
        "not_delivered_at": _("Not delivered at %(time)s"),
        "waiting_to_send": _("Saved on the phone; it is sent when there is network."),
        "toast_arrived": _("Stop %(n)s: arrived."),
        "toast_delivered": _("Stop %(n)s: delivered."),
        "toast_failed": _("Stop %(n)s: not delivered."),
        "undo": _("Undo"),
        # Counts stand after a colon or in brackets: the script cannot inflect the noun.
        "pending_online": _("Sending the actions saved on the phone (%(n)s)…"),
        "pending_offline": _("No network. Saved on the phone, to be sent when it is back: %(n)s."),
        "all_sent": _("Everything is sent."),
        "offline": _("No network. What you do is saved on the phone."),
        "refused": _("Stop %(n)s was not recorded: %(reason)s"),
        "understood": _("Understood"),
        "not_taken": _("the server could not take it; tell your dispatcher what happened."),
        "route_today": _("Today, %(start)s–%(end)s · %(vehicle)s"),
        "route_later": _("%(day)s, %(start)s–%(end)s · %(vehicle)s"),
        "break": _("Your break: %(start)s–%(end)s"),
        "signout_pending": _(
            "Actions saved on the phone and not sent yet: %(n)s. Signing out deletes them. "
            "Sign out anyway?"
        ),
    }


@bp.get("/sw.js")
def service_worker() -> Response:
    """The page's service worker, served from here so that it may look after /courier/."""
    response = send_from_directory(current_app.static_folder or "", "courier-sw.js")
    response.headers["Cache-Control"] = "no-cache"
    response.mimetype = "text/javascript"
    return response


@bp.post(f"/shifts/<{ID_RULE}:shift_id>/inspection")
@area_required("courier")
def inspect(shift_id: int) -> Response:
    """The pre-trip check (C1): passed, the route opens; a failed safety item takes the
    vehicle out of service and its stops go to other couriers at once."""
    courier = fleet_services.courier_for_user(db(), current_user.id)
    shift = db().get(Shift, shift_id)
    if courier is None or shift is None or shift.courier_id != courier.id or not shift.vehicle:
        abort(404)
    form = InspectionForm()
    if not form.validate_on_submit():
        flash(_("The check was not saved: %(problems)s", problems=_problems(form)), "danger")
        return redirect(url_for("courier.index"))
    answers: dict[str, bool | None] = {}
    for item in inspection.checklist(shift.vehicle):
        given = request.form.get(f"item-{item.code}")
        answers[item.code] = {"ok": True, "problem": False}.get(given or "")
    now = utcnow()
    try:
        photo = None
        upload = form.photo.data
        if upload is not None and getattr(upload, "filename", ""):
            photo = store_photo(read_photo(upload), root=uploads())
        record = inspection.submit(
            db(),
            shift_id=shift_id,
            courier_id=courier.id,
            answers=answers,
            odometer_km=form.odometer_km.data,
            at=now,
            now=now,
            notes=form.notes.data,
            photo=photo,
            client_event_id=form.event_id.data or None,
        )
    except ValidationFailed as exc:
        missing = [c for c in exc.errors if c in inspection.ITEM_NAMES]
        said = [localize(m) for field, ms in exc.errors.items() if field not in missing for m in ms]
        if missing:
            said.insert(
                0, _("answer every question (%(items)s)", items=localize(inspection.names(missing)))
            )
        flash(_("The check was not saved: %(problems)s", problems="; ".join(said)), "danger")
        return redirect(url_for("courier.index"))
    except DomainError as exc:
        flash(explain(exc), "warning")
        return redirect(url_for("courier.index"))
    db().commit()
    vehicle = shift.vehicle
    if record.passed:
        noted = [c for c in record.failed_items]
        if noted:
            flash(
                _(
                    "Check passed; your route is open. Noted for %(registration)s: %(items)s. "
                    "Sort it out before you leave if you can.",
                    registration=vehicle.registration,
                    items=localize(inspection.names(noted)),
                ),
                "warning",
            )
        else:
            flash(_("Check passed; your route is open. Drive safely."), "success")
        return redirect(url_for("courier.index"))
    queue().enqueue(
        "planning.vehicle_lost",
        {"depot_id": shift.depot_id, "day": _local_day(shift).isoformat()},
        key=f"vehicle-lost:{shift.depot_id}:{_local_day(shift).isoformat()}",
        urgent=True,
    )
    return redirect(url_for("courier.index"))


def _local_day(shift: Shift) -> date:
    return shift.starts_at.astimezone(ZoneInfo(shift.depot.timezone)).date()


def _problems(form: InspectionForm) -> str:
    return " ".join(str(p) for problems in form.errors.values() for p in problems)


@bp.post(f"/stops/<{ID_RULE}:stop_id>/report")
@area_required("courier")
def report(stop_id: int) -> Response:
    """Arrived, delivered or failed: the dispatcher's board shows it at once (D5)."""
    form = ReportVisitForm()
    if not form.validate_on_submit() or form.report.data not in {r.value for r in Report}:
        abort(400)
    courier = fleet_services.courier_for_user(db(), current_user.id)
    if courier is None:
        abort(403)
    reason = form.reason.data or None
    if reason is not None and reason not in FAILURE_REASONS:
        abort(400)
    try:
        visit = report_stop(
            db(),
            stop_id=stop_id,
            report=Report(form.report.data),
            at=utcnow(),
            courier_id=courier.id,
            reason=FailureReason(reason) if reason else None,
            margin=timedelta(hours=current_app.config.get("REPORT_MARGIN_H", 4)),
        )
    except DomainError as exc:
        flash(explain(exc), "warning")
        return redirect(url_for("courier.index"))
    db().commit()
    flash(_reported(Report(form.report.data), visit.sequence), "success")
    return redirect(url_for("courier.index") + f"#stop-{stop_id}")
