"""Couriers (phone layout): their own shifts, nobody else's."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template
from flask_login import current_user

from app.db import utcnow
from app.fleet import services as fleet_services
from app.web.auth import area_required
from app.web.database import db

bp = Blueprint("courier", __name__, url_prefix="/courier")


@bp.get("/")
@area_required("courier")
def index() -> str:
    courier = fleet_services.courier_for_user(db(), current_user.id)
    shifts = []
    if courier is not None:
        shifts = (
            db()
            .scalars(
                fleet_services.shifts_query(
                    courier_id=courier.id, since=utcnow(), until=utcnow() + timedelta(days=14)
                )
            )
            .all()
        )
    return render_template("courier/index.html", courier=courier, shifts=shifts)
