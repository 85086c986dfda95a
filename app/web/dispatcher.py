"""Dispatchers: the day's orders, couriers and vehicles for each depot."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from app import messages
from app.db import utcnow
from app.errors import DomainError, ValidationFailed
from app.fleet import services as fleet_services
from app.fleet.models import Depot, Inspection, Shift, Vehicle
from app.orders import csv_import
from app.orders.models import Order
from app.orders.windows import local_midnight, windows_for_day
from app.planning import editing as planning_editing
from app.planning import flows as planning_flows
from app.planning import jobs as planning_jobs
from app.planning import services as planning_services
from app.planning.board import plan_board
from app.planning.enums import PlanStatus
from app.planning.models import Plan
from app.web import bounds
from app.web.auth import area_required
from app.web.background import start_queued_run
from app.web.bounds import ID_RULE
from app.web.database import db, session_factory
from app.web.forms import ImportOrdersForm, MoveStopForm, PlanDayForm, PublishForm
from app.web.geocoder import configured_geocoder
from app.web.i18n import explain, localize

bp = Blueprint("dispatcher", __name__, url_prefix="/dispatcher")


def _sweep_abandoned_runs() -> None:
    """Cheaply, before a board or plan is shown: one read, and a write only when some run's
    lease ran out (in its own transaction; this request's then starts afresh to see it)."""
    now = utcnow()
    try:
        found = planning_services.abandoned_runs(db(), now=now)
    except SQLAlchemyError:
        db().rollback()
        return
    if found:
        planning_jobs.sweep_abandoned(session_factory(), now=now)
        db().rollback()


def _day_arg(default: date) -> tuple[date, str | None]:
    raw = request.args.get("day")
    if not raw:
        return default, None
    try:
        return bounds.parse_day(raw), None
    except ValueError as exc:
        return default, _("%(problem)s; showing %(day)s.", problem=exc, day=default.isoformat())


@bp.get("/")
@area_required("dispatcher")
def index() -> str:
    _sweep_abandoned_runs()
    session = db()
    depots = session.scalars(select(Depot).order_by(Depot.code)).all()
    tz = ZoneInfo(depots[0].timezone) if depots else ZoneInfo("UTC")
    tomorrow = (datetime.now(tz) + timedelta(days=1)).date()
    day, day_error = _day_arg(tomorrow)
    now = utcnow()
    overview = []
    for depot in depots:
        dtz = ZoneInfo(depot.timezone)
        counts = dict(
            session.execute(
                select(Order.window_template_id, func.count())
                .where(Order.depot_id == depot.id, Order.delivery_day == day)
                .group_by(Order.window_template_id)
            ).all()
        )
        windows = [
            {"window": w, "orders": counts.get(w.template_id, 0), "open": w.is_open(now)}
            for w in windows_for_day(session, depot.id, day, dtz)
        ]
        start = local_midnight(day, dtz)
        shifts = session.scalars(
            fleet_services.shifts_query(since=start, until=start + timedelta(days=1)).where(
                Shift.depot_id == depot.id
            )
        ).all()
        vehicles = session.scalars(
            select(Vehicle).where(Vehicle.depot_id == depot.id).order_by(Vehicle.registration)
        ).all()
        plans = session.scalars(
            select(Plan)
            .where(Plan.depot_id == depot.id, Plan.delivery_day == day)
            .order_by(Plan.version.desc())
        ).all()
        failed_checks = session.scalars(
            select(Inspection)
            .join(Shift, Inspection.shift_id == Shift.id)
            .where(
                Shift.depot_id == depot.id,
                Shift.starts_at < start + timedelta(days=1),
                Shift.ends_at > start,
                Inspection.passed.is_(False),
            )
            .order_by(Inspection.inspected_at)
        ).all()
        overview.append(
            {
                "failed_checks": failed_checks,
                "plans": plans,
                "plan_form": PlanDayForm(depot_id=depot.id, day=day.isoformat()),
                "depot": depot,
                "tz": dtz,
                "windows": windows,
                "total_orders": sum(counts.values()),
                "shifts": shifts,
                "vehicles": vehicles,
            }
        )
    return render_template(
        "dispatcher/index.html",
        day=day,
        day_error=day_error,
        overview=overview,
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
    )


@bp.post("/plans")
@area_required("dispatcher")
def start_plan() -> Response:
    """Start a new plan version for a depot and day; the page shows its progress."""
    form = PlanDayForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        day = date.fromisoformat(form.day.data)
    except ValueError:
        abort(400)
    try:
        plan = start_queued_run(
            depot_id=int(form.depot_id.data),
            day=day,
            time_limit_s=current_app.config.get("PLANNING_TIME_LIMIT_S"),
            user_id=current_user.id,
            urgent=True,  # a dispatcher waits at the screen
        )
    except planning_services.RunInProgress as exc:
        db().rollback()
        return _refused(exc)
    except DomainError as exc:  # e.g. the day is over
        db().rollback()
        flash(explain(exc), "warning")
        return redirect(url_for("dispatcher.index", day=day.isoformat()))
    return redirect(url_for("dispatcher.plan", plan_id=plan.id))


@bp.post(f"/plans/<{ID_RULE}:plan_id>/cancel")
@area_required("dispatcher")
def cancel_plan(plan_id: int) -> Response:
    """Stop a run that is solving; the day can be planned again at once."""
    form = PublishForm()  # a bare CSRF-protected form
    if not form.validate_on_submit():
        abort(400)
    try:
        planning_services.cancel_run(db(), plan_id=plan_id, user_id=current_user.id, now=utcnow())
        db().commit()
    except DomainError as exc:
        db().rollback()
        flash(explain(exc), "warning")
    return redirect(url_for("dispatcher.plan", plan_id=plan_id))


def _refused(exc: planning_services.RunInProgress) -> Response:
    """A second "Plan this day" while a run solves: say so and show the run under way."""
    flash(explain(exc), "warning")
    return redirect(url_for("dispatcher.plan", plan_id=exc.plan_id))


def _plan_or_404(plan_id: int) -> Plan:
    plan = db().get(Plan, plan_id)
    if plan is None:
        abort(404)
    return plan


def _status(plan: Plan) -> dict[str, Any]:
    state = planning_services.run_state(plan, now=utcnow())
    return {**state, "error": localize(plan.error) if plan.error else None}


@bp.get(f"/plans/<{ID_RULE}:plan_id>/status")
@area_required("dispatcher")
def plan_status(plan_id: int) -> Response:
    _sweep_abandoned_runs()
    return jsonify(_status(_plan_or_404(plan_id)))


@bp.get(f"/plans/<{ID_RULE}:plan_id>")
@area_required("dispatcher")
def plan(plan_id: int) -> str:
    _sweep_abandoned_runs()
    board = plan_board(db(), _plan_or_404(plan_id).id, utcnow())
    move_form = None
    if board.ready:
        move_form = MoveStopForm()
        move_form.stop_id.choices = [
            (
                s.stop_id,
                _(
                    "%(number)s · %(courier)s, stop %(seq)s",
                    number=s.number,
                    courier=r.courier,
                    seq=s.sequence,
                ),
            )
            for r in board.routes
            for s in r.stops
        ] + [(u.stop_id, _("%(number)s · not planned", number=u.number)) for u in board.left_out]
        move_form.shift_id.choices = [
            (s.id, f"{s.courier.name} · {s.vehicle.registration if s.vehicle else '–'}")
            for s in board.shifts
        ]
    found = board.plan
    return render_template(
        "dispatcher/plan.html",
        plan=found,
        board=board,
        depot=board.depot,
        tz=board.timezone,
        map_data=board.map_data(localize),
        changes=[(c, messages.load_list(c.violations)) for c in board.changes],
        status=_status(found),
        tile_url=current_app.config.get("MAP_TILE_URL", ""),
        publish_form=PublishForm(),
        move_form=move_form,
        words=_plan_words(),
        ready=board.ready,
        # A failed or cancelled run offers to plan the day again.
        plan_form=PlanDayForm(depot_id=found.depot_id, day=found.delivery_day.isoformat())
        if found.status in (PlanStatus.FAILED, PlanStatus.CANCELLED)
        else None,
    )


@bp.get(f"/plans/<{ID_RULE}:plan_id>/moves/preview")
@area_required("dispatcher")
def preview_move(plan_id: int) -> Response | tuple[Response, int]:
    """What the checker says of a move, before anything is saved (read-only, so a GET)."""
    try:
        stop_id, shift_id, position = (
            int(request.args[name]) for name in ("stop_id", "shift_id", "position")
        )
    except (KeyError, ValueError):
        return jsonify(
            {"ok": False, "errors": [_("Choose a stop, a route and a stop number.")]}
        ), 400
    try:
        preview = planning_editing.preview_move(
            db(), plan_id=plan_id, stop_id=stop_id, shift_id=shift_id, position=position
        )
    except ValidationFailed as exc:
        return jsonify(
            {"ok": False, "errors": [localize(m) for ms in exc.errors.values() for m in ms]}
        ), 422
    except DomainError as exc:
        return jsonify({"ok": False, "errors": [explain(exc)]}), 409
    return jsonify(
        {
            "ok": preview.ok,
            "violations": [localize(v) for v in preview.violations],
            "summary": localize(preview.summary),
        }
    )


@bp.post(f"/plans/<{ID_RULE}:plan_id>/moves")
@area_required("dispatcher")
def save_move(plan_id: int) -> Response:
    form = MoveStopForm()
    # Choices are checked by the domain (the stop is in the plan, the shift on its day).
    form.stop_id.choices = [(form.stop_id.data, "")]
    form.shift_id.choices = [(form.shift_id.data, "")]
    if not form.validate_on_submit():
        flash(_("The move was not saved: %(reason)s", reason=_form_errors(form)), "danger")
        return redirect(url_for("dispatcher.plan", plan_id=plan_id))
    try:
        preview = planning_editing.apply_move(
            db(),
            plan_id=plan_id,
            stop_id=form.stop_id.data,
            shift_id=form.shift_id.data,
            position=form.position.data,
            override_reason=form.override_reason.data,
            user_id=current_user.id,
            now=utcnow(),
        )
    except ValidationFailed as exc:
        flash(_("The move was not saved. %(problems)s", problems=explain(exc)), "danger")
        return redirect(url_for("dispatcher.plan", plan_id=plan_id))
    except DomainError as exc:
        flash(_("The move was not saved: %(reason)s", reason=explain(exc)), "danger")
        return redirect(url_for("dispatcher.plan", plan_id=plan_id))
    db().commit()
    if preview.ok:
        flash(
            _(
                "Saved: %(summary)s. Every window, load and shift still holds.",
                summary=localize(preview.summary),
            ),
            "success",
        )
    else:
        flash(
            _(
                "Saved with your reason: %(summary)s. It breaks: %(problems)s.",
                summary=localize(preview.summary),
                problems="; ".join(localize(v) for v in preview.violations),
            ),
            "warning",
        )
    return redirect(url_for("dispatcher.plan", plan_id=plan_id))


def _form_errors(form: MoveStopForm) -> str:
    return " ".join(
        _(
            "%(field)s: %(problems)s",
            field=str(form[f].label.text) if f in form else f,
            problems=" ".join(str(p) for p in m),
        )
        for f, m in form.errors.items()
    )


def _plan_words() -> dict[str, str]:
    """Words static/dispatcher-plan.js shows, in the page's language; it fills each
    %(name)s itself (so these stay unformatted here) and renders them as text."""
    return {
        "elapsed": _("%(elapsed)s s of %(limit)s s"),
        "queued": _("Waiting for a free planning worker; the search starts as soon as one is."),
        "improvements": _("better plans found so far: %(count)s"),
        "gain": _("the best is %(percent)s %% better than the first"),
        "map_credit": _("© map data contributors"),
        "leaflet": _("The library that draws the map"),
        "zoom_in": _("Zoom in"),
        "zoom_out": _("Zoom out"),
        "close_popup": _("Close"),
        "depot": _("Depot"),
        "stop_times": _("ETA %(eta)s, window %(window)s"),
        "not_planned": _("not planned"),
        "checking": _("Checking…"),
        "cannot_move": _("This move cannot be made:"),
        "move_holds": _("%(summary)s: every window, load and shift still holds."),
        "move_breaks": _("%(summary)s would break:"),
        "checker_unreachable": _("Could not reach the checker; try again."),
    }


@bp.post(f"/plans/<{ID_RULE}:plan_id>/publish")
@area_required("dispatcher")
def publish(plan_id: int) -> Response:
    if not PublishForm().validate_on_submit():
        abort(400)
    try:
        published, late = planning_flows.publish(db(), plan_id=plan_id, now=utcnow())
    except DomainError as exc:
        flash(_("Not published: %(reason)s", reason=explain(exc)), "danger")
        return redirect(url_for("dispatcher.plan", plan_id=plan_id))
    db().commit()
    flash(
        _(
            "Version %(version)s is published: couriers now see their routes.",
            version=published.version,
        ),
        "success",
    )
    if late:
        placed = sum(p.placed for p in late)
        arrived = ngettext(
            "%(num)d order arrived after the day was planned",
            "%(num)d orders arrived after the day was planned",
            len(late),
        )
        added = ngettext("%(num)d was added to a route", "%(num)d were added to routes", placed)
        if placed < len(late):
            left = ngettext(
                "%(num)d is listed as not planned",
                "%(num)d are listed as not planned",
                len(late) - placed,
            )
            said = _("%(arrived)s: %(added)s, %(left)s.", arrived=arrived, added=added, left=left)
        else:
            said = _("%(arrived)s: %(added)s.", arrived=arrived, added=added)
        flash(said, "warning" if placed < len(late) else "info")
    return redirect(url_for("dispatcher.plan", plan_id=plan_id))


@bp.route("/import", methods=["GET", "POST"])
@area_required("dispatcher")
def import_orders() -> str | tuple[str, int]:
    """Upload orders as CSV; every row is judged, and the report says what happens next."""
    form = ImportOrdersForm()
    form.depot_id.choices = [
        (d.id, d.name) for d in db().scalars(select(Depot).order_by(Depot.code))
    ]
    report = None
    if form.validate_on_submit():
        raw = form.file.data.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            form.file.errors.append(_("Save the file as UTF-8 CSV and upload it again."))
        else:
            try:
                report = csv_import.import_orders(
                    db(),
                    text=text,
                    depot_id=form.depot_id.data,
                    now=utcnow(),
                    geocoder=configured_geocoder(),
                    import_valid_rows=form.import_valid_rows.data,
                )
            except ValidationFailed as exc:
                form.file.errors.extend(localize(m) for m in exc.errors.get("file", [explain(exc)]))
            else:
                db().commit()
    page = render_template("dispatcher/import.html", form=form, report=report)
    return (page, 400) if form.errors else page
