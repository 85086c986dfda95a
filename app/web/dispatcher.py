"""Dispatchers: the day's orders, couriers and vehicles for each depot."""

from __future__ import annotations

import threading
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
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from app.db import utcnow
from app.errors import ValidationFailed
from app.fleet import services as fleet_services
from app.fleet.models import Depot, Shift, Vehicle
from app.orders import csv_import
from app.orders.models import Order
from app.orders.windows import local_midnight, windows_for_day
from app.planning import jobs as planning_jobs
from app.planning import services as planning_services
from app.planning.models import Plan, PlanStatus
from app.web.auth import area_required
from app.web.database import db, session_factory
from app.web.forms import ImportOrdersForm, PlanDayForm, PublishForm
from app.web.geocoder import configured_geocoder

bp = Blueprint("dispatcher", __name__, url_prefix="/dispatcher")


def _day_arg(default: date) -> tuple[date, str | None]:
    raw = request.args.get("day")
    if not raw:
        return default, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return default, f"{raw!r} is not a date like 2026-11-25; showing {default.isoformat()}."


@bp.get("/")
@area_required("dispatcher")
def index() -> str:
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
        overview.append(
            {
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
    limit = float(current_app.config.get("PLANNING_TIME_LIMIT_S", 10))
    plan = planning_services.start_plan(
        db(), depot_id=int(form.depot_id.data), day=day, time_limit_s=limit, user_id=current_user.id
    )
    db().commit()
    factory = session_factory()
    if current_app.config.get("PLANNING_INLINE"):
        planning_jobs.solve_started(factory, plan_id=plan.id)
    else:
        # Solving takes seconds: never inside the request. One thread per run is enough for
        # the embedded mode; production hands this to the job queue (O2).
        threading.Thread(
            target=planning_jobs.solve_started,
            kwargs={"factory": factory, "plan_id": plan.id},
            daemon=True,
            name=f"plan-{plan.id}",
        ).start()
    return redirect(url_for("dispatcher.plan", plan_id=plan.id))


def _plan_or_404(plan_id: int) -> Plan:
    plan = db().get(Plan, plan_id)
    if plan is None:
        abort(404)
    return plan


def _status(plan: Plan) -> dict[str, Any]:
    elapsed = (utcnow() - plan.created_at).total_seconds()
    return {
        "status": plan.status,
        "version": plan.version,
        "elapsed_s": round(elapsed, 1),
        "time_limit_s": plan.time_limit_s,
        "stops_assigned": plan.stops_assigned,
        "stops_unassigned": plan.stops_unassigned,
        "error": plan.error,
    }


@bp.get("/plans/<int:plan_id>/status")
@area_required("dispatcher")
def plan_status(plan_id: int) -> Response:
    return jsonify(_status(_plan_or_404(plan_id)))


ROUTE_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#393b79",
    "#637939",
)


@bp.get("/plans/<int:plan_id>")
@area_required("dispatcher")
def plan(plan_id: int) -> str:
    found = _plan_or_404(plan_id)
    depot = db().get_one(Depot, found.depot_id)
    tz = ZoneInfo(depot.timezone)
    orders = {
        o.id: o
        for o in db().scalars(
            select(Order).where(
                Order.depot_id == depot.id, Order.delivery_day == found.delivery_day
            )
        )
    }
    routes = []
    for n, route in enumerate(found.routes):
        shift = db().get_one(Shift, route.shift_id)
        stops = []
        for visit in route.visits:
            o = orders[visit.order_id]
            stops.append(
                {
                    "seq": visit.sequence,
                    "number": o.number,
                    "lat": o.address.lat,
                    "lon": o.address.lon,
                    "address": o.address.line,
                    "eta": visit.start_at.astimezone(tz).strftime("%H:%M"),
                    "window": f"{o.window_start_at.astimezone(tz):%H:%M}–"
                    f"{o.window_end_at.astimezone(tz):%H:%M}",
                }
            )
        capacity = shift.vehicle.capacity_units if shift.vehicle else 0
        routes.append(
            {
                "colour": ROUTE_COLOURS[n % len(ROUTE_COLOURS)],
                "courier": shift.courier.name,
                "vehicle": shift.vehicle.registration if shift.vehicle else "–",
                "start": route.start_at.astimezone(tz).strftime("%H:%M"),
                "end": route.end_at.astimezone(tz).strftime("%H:%M"),
                "km": round(route.distance_m / 1000, 1),
                "load": route.load_start[0],
                "capacity": capacity,
                "stops": stops,
            }
        )
    unassigned = [
        {
            "number": orders[u.order_id].number,
            "reason": u.reason_code,
            "message": u.message,
            "lat": orders[u.order_id].address.lat,
            "lon": orders[u.order_id].address.lon,
            "address": orders[u.order_id].address.line,
        }
        for u in found.unassigned
    ]
    return render_template(
        "dispatcher/plan.html",
        plan=found,
        depot=depot,
        routes=routes,
        unassigned=unassigned,
        status=_status(found),
        tile_url=current_app.config.get("MAP_TILE_URL", ""),
        publish_form=PublishForm(),
        ready=found.status == PlanStatus.READY,
    )


@bp.post("/plans/<int:plan_id>/publish")
@area_required("dispatcher")
def publish(plan_id: int) -> Response:
    if not PublishForm().validate_on_submit():
        abort(400)
    published = planning_services.publish(db(), plan_id=plan_id, now=utcnow())
    db().commit()
    flash(f"Version {published.version} is published: couriers now see their routes.", "success")
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
            form.file.errors.append("Save the file as UTF-8 CSV and upload it again.")
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
                form.file.errors.extend(exc.errors.get("file", [str(exc)]))
            else:
                db().commit()
    page = render_template("dispatcher/import.html", form=form, report=report)
    return (page, 400) if form.errors else page
