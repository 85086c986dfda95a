"""Couriers (phone layout): their own shifts and published routes, nobody else's."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.db import utcnow
from app.errors import DomainError
from app.fleet import services as fleet_services
from app.planning import progress as planning_progress
from app.planning.progress import Report, report_stop
from app.web.auth import area_required
from app.web.bounds import ID_RULE
from app.web.database import db
from app.web.forms import ReportVisitForm
from app.web.i18n import explain

bp = Blueprint("courier", __name__, url_prefix="/courier")


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
    shifts = []
    routes = []
    if courier is not None:
        now = utcnow()
        shifts = (
            db()
            .scalars(
                fleet_services.shifts_query(
                    courier_id=courier.id, since=now, until=now + timedelta(days=14)
                )
            )
            .all()
        )
        routes = planning_progress.courier_routes(db(), courier_id=courier.id, now=now)
    return render_template(
        "courier/index.html",
        courier=courier,
        shifts=shifts,
        routes=routes,
        report_form=ReportVisitForm(),
    )


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
    try:
        visit = report_stop(
            db(),
            stop_id=stop_id,
            report=Report(form.report.data),
            at=utcnow(),
            courier_id=courier.id,
            margin=timedelta(hours=current_app.config.get("REPORT_MARGIN_H", 4)),
        )
    except DomainError as exc:
        flash(explain(exc), "warning")
        return redirect(url_for("courier.index"))
    db().commit()
    flash(_reported(Report(form.report.data), visit.sequence), "success")
    return redirect(url_for("courier.index") + f"#stop-{stop_id}")
