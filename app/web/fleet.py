"""Dispatchers manage the fleet (D2): couriers and who signs in as them, vehicles and whether
they are in service, and the shifts that put a courier in a vehicle, with their breaks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.accounts.models import Role, User
from app.db import utcnow
from app.errors import DomainError, ValidationFailed
from app.fleet import services as fleet_services
from app.fleet.models import Courier, Depot, Vehicle
from app.orders.windows import local_midnight
from app.web import bounds
from app.web.auth import area_required
from app.web.bounds import ID_RULE
from app.web.database import db
from app.web.forms import (
    ActionForm,
    LinkCourierForm,
    NewCourierForm,
    NewShiftForm,
    NewVehicleForm,
    OutOfServiceForm,
)
from app.web.i18n import explain

bp = Blueprint("fleet_pages", __name__, url_prefix="/dispatcher/fleet")

NOBODY = 0  # the "signs in as" choice for a courier nobody signs in as yet
NO_VEHICLE = 0


def _depots() -> list[Depot]:
    return list(db().scalars(select(Depot).order_by(Depot.code)))


def _show_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """The domain's reasons under the fields they are about (or the first field)."""
    names = list(form._fields)
    for field, problems in exc.errors.items():
        target = form._fields.get(field) or form._fields.get(names[1] if len(names) > 1 else "")
        if target is not None:
            target.errors = [*target.errors, *problems]


def _skills(raw: str | None) -> list[str]:
    return [s for s in (raw or "").split(",") if s.strip()]


def _courier_people(current: int | None = None) -> list[tuple[int, str]]:
    """People with the courier role who sign in as no courier yet (and ``current``)."""
    linked = set(db().scalars(select(Courier.user_id).where(Courier.user_id.is_not(None))))
    people = db().scalars(
        select(User).where(User.role == Role.COURIER, User.is_active).order_by(User.name)
    )
    return [(NOBODY, _("nobody yet"))] + [
        (u.id, f"{u.name} · {u.email}") for u in people if u.id not in linked or u.id == current
    ]


@bp.route("/couriers", methods=["GET", "POST"])
@area_required("dispatcher")
def couriers() -> str | Response | tuple[str, int]:
    form = NewCourierForm()
    form.depot_id.choices = [(d.id, d.name) for d in _depots()]
    form.user_id.choices = _courier_people()
    if form.validate_on_submit():
        try:
            courier = fleet_services.create_courier(
                db(),
                depot_id=form.depot_id.data,
                name=form.name.data,
                phone=form.phone.data,
                skills=_skills(form.skills.data),
                user_id=form.user_id.data or None,
            )
        except ValidationFailed as exc:
            _show_errors(form, exc)
        else:
            db().commit()
            flash(_("%(name)s is on the team.", name=courier.name), "success")
            return redirect(url_for("fleet_pages.couriers"))
    found = db().scalars(select(Courier).order_by(Courier.name)).all()
    users = {u.id: u for u in db().scalars(select(User).where(User.role == Role.COURIER))}
    links = {}
    for c in found:
        link = LinkCourierForm(prefix=f"c{c.id}", formdata=None)
        link.user_id.choices = _courier_people(c.user_id)
        link.user_id.data = c.user_id or NOBODY
        links[c.id] = link
    status = 400 if form.errors else 200
    return render_template(
        "dispatcher/fleet_couriers.html", couriers=found, users=users, links=links, form=form
    ), status


@bp.post(f"/couriers/<{ID_RULE}:courier_id>/link")
@area_required("dispatcher")
def link(courier_id: int) -> Response:
    if db().get(Courier, courier_id) is None:
        abort(404)
    form = LinkCourierForm(prefix=f"c{courier_id}")
    form.user_id.choices = _courier_people(db().get_one(Courier, courier_id).user_id)
    if not form.validate_on_submit():
        flash(_("Nothing was changed: choose one of the people in the list."), "danger")
        return redirect(url_for("fleet_pages.couriers"))
    try:
        courier = fleet_services.link_courier(
            db(), courier_id=courier_id, user_id=form.user_id.data or None
        )
    except DomainError as exc:
        flash(_("Nothing was changed: %(reason)s", reason=explain(exc)), "danger")
        return redirect(url_for("fleet_pages.couriers"))
    db().commit()
    if courier.user_id is None:
        flash(_("Nobody signs in as %(name)s now.", name=courier.name), "success")
    else:
        flash(_("%(name)s's route now shows on their phone.", name=courier.name), "success")
    return redirect(url_for("fleet_pages.couriers"))


@bp.route("/vehicles", methods=["GET", "POST"])
@area_required("dispatcher")
def vehicles() -> str | Response | tuple[str, int]:
    form = NewVehicleForm()
    form.depot_id.choices = [(d.id, d.name) for d in _depots()]
    if form.validate_on_submit():
        try:
            vehicle = fleet_services.create_vehicle(
                db(),
                depot_id=form.depot_id.data,
                registration=form.registration.data,
                type=form.type.data,
                capacity_units=form.capacity_units.data,
                skills=_skills(form.skills.data),
            )
        except ValidationFailed as exc:
            _show_errors(form, exc)
        else:
            db().commit()
            flash(
                _("Vehicle %(registration)s added.", registration=vehicle.registration), "success"
            )
            return redirect(url_for("fleet_pages.vehicles"))
    found = db().scalars(select(Vehicle).order_by(Vehicle.registration)).all()
    status = 400 if form.errors else 200
    return render_template(
        "dispatcher/fleet_vehicles.html",
        vehicles=found,
        form=form,
        out_form=OutOfServiceForm(formdata=None),
        action_form=ActionForm(formdata=None),
    ), status


@bp.post(f"/vehicles/<{ID_RULE}:vehicle_id>/out-of-service")
@area_required("dispatcher")
def out_of_service(vehicle_id: int) -> Response:
    if db().get(Vehicle, vehicle_id) is None:
        abort(404)
    form = OutOfServiceForm()
    if not form.validate_on_submit():
        flash(_("Nothing was changed: say why the vehicle is out of service."), "danger")
        return redirect(url_for("fleet_pages.vehicles"))
    vehicle = fleet_services.take_out_of_service(
        db(), vehicle_id=vehicle_id, reason=form.reason.data
    )
    db().commit()
    flash(
        _(
            "%(registration)s is out of service; plan the day again to move its stops.",
            registration=vehicle.registration,
        ),
        "warning",
    )
    return redirect(url_for("fleet_pages.vehicles"))


@bp.post(f"/vehicles/<{ID_RULE}:vehicle_id>/in-service")
@area_required("dispatcher")
def in_service(vehicle_id: int) -> Response:
    if db().get(Vehicle, vehicle_id) is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    vehicle = fleet_services.put_back_in_service(db(), vehicle_id=vehicle_id)
    db().commit()
    flash(_("%(registration)s is back in service.", registration=vehicle.registration), "success")
    return redirect(url_for("fleet_pages.vehicles"))


def _at(day: date, moment: time, tz: ZoneInfo) -> datetime:
    """A wall-clock time of a day in the depot's zone, as an aware moment."""
    return datetime.combine(day, moment, tzinfo=tz)


@bp.route("/shifts", methods=["GET", "POST"])
@area_required("dispatcher")
def shifts() -> str | Response | tuple[str, int]:
    depots = _depots()
    if not depots:
        flash(_("Add a depot first."), "warning")
        return redirect(url_for("dispatcher.index"))
    depot = depots[0]
    tz = ZoneInfo(depot.timezone)
    today = utcnow().astimezone(tz).date()
    try:
        shown = bounds.parse_day(request.args.get("day", "")) if request.args.get("day") else today
    except ValueError:
        shown = today
    form = NewShiftForm()
    form.courier_id.choices = [
        (c.id, c.name)
        for c in db().scalars(select(Courier).where(Courier.is_active).order_by(Courier.name))
    ]
    form.vehicle_id.choices = [(NO_VEHICLE, _("none yet"))] + [
        (v.id, f"{v.registration} · {v.capacity_units}")
        for v in db().scalars(
            select(Vehicle).where(Vehicle.in_service).order_by(Vehicle.registration)
        )
    ]
    if request.method == "GET":
        form.day.data = shown
    if form.validate_on_submit():
        day = form.day.data
        # Times are read on the clock of the courier's own depot.
        chosen = db().get(Courier, form.courier_id.data)
        tz = ZoneInfo(chosen.depot.timezone) if chosen is not None else tz
        breaks = [form.break_minutes.data, form.break_from.data, form.break_until.data]
        try:
            shift = fleet_services.create_shift(
                db(),
                courier_id=form.courier_id.data,
                vehicle_id=form.vehicle_id.data or None,
                starts_at=_at(day, form.starts.data, tz),
                ends_at=_at(day, form.ends.data, tz),
                break_minutes=breaks[0],
                break_from=_at(day, breaks[1], tz) if breaks[1] else None,
                break_until=_at(day, breaks[2], tz) if breaks[2] else None,
            )
        except ValidationFailed as exc:
            for field, target in (
                ("starts_at", "starts"),
                ("ends_at", "ends"),
                ("break_from", "break_from"),
                ("break_until", "break_until"),
                ("break_minutes", "break_minutes"),
                ("courier_id", "courier_id"),
                ("vehicle_id", "vehicle_id"),
            ):
                for problem in exc.errors.get(field, []):
                    form[target].errors = [*form[target].errors, problem]
        else:
            db().commit()
            flash(_("Shift added for %(name)s.", name=shift.courier.name), "success")
            return redirect(url_for("fleet_pages.shifts", day=day.isoformat()))
    epoch = local_midnight(shown, tz)
    found = (
        db()
        .scalars(fleet_services.shifts_query(since=epoch, until=epoch + timedelta(days=1)))
        .all()
    )
    status = 400 if form.errors else 200
    return render_template(
        "dispatcher/fleet_shifts.html",
        shifts=found,
        form=form,
        depot=depot,
        day=shown,
        prev_day=shown - timedelta(days=1),
        next_day=shown + timedelta(days=1),
        long_shift_hours=int(fleet_services.LONG_SHIFT.total_seconds() // 3600),
    ), status
