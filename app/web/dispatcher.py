"""Dispatchers: the day's orders, couriers and vehicles for each depot."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from app.db import utcnow
from app.fleet import services as fleet_services
from app.fleet.models import Depot, Shift, Vehicle
from app.orders.models import Order
from app.orders.windows import local_midnight, windows_for_day
from app.web.auth import area_required
from app.web.database import db

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
        overview.append(
            {
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
