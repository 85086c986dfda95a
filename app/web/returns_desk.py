"""Support's returns desk: every case with its promised answer, and one case with its items,
photos, decision and timeline, where an agent answers, overrides or marks the item received."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from app.db import utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.media import photo_path
from app.web import bounds
from app.web.auth import area_required
from app.web.database import db
from app.web.forms import ActionForm, AnswerReturnForm, OverrideReturnForm
from app.web.i18n import explain, localize
from app.web.uploads import uploads
from app.web.words import word
from returns import review
from returns.models import ReturnPhoto
from returns.policy import Outcome

bp = Blueprint("returns_desk", __name__, url_prefix="/support/returns")

PER_PAGE = 25
STATUS_NAMES = {
    "approved": _l("approved"),
    "under_review": _l("under review"),
    "declined": _l("declined"),
    "received": _l("received"),
    "closed": _l("closed"),
}
REASON_NAMES = {
    "defective": _l("defective"),
    "damaged": _l("damaged in delivery"),
    "wrong_item": _l("wrong item"),
    "not_as_described": _l("not as described"),
    "changed_mind": _l("changed their mind"),
}
RESOLUTION_NAMES = {
    "refund": _l("refund"),
    "replacement": _l("replacement"),
    "exchange": _l("exchange"),
}
PHOTO_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def due_badge(due_in_s: int | None) -> str:
    """'due in 3 h', 'due in 40 min' or 'overdue' for a case waiting for a person."""
    if due_in_s is None:
        return ""
    if due_in_s < 0:
        return str(_("overdue"))
    if due_in_s < 3600:
        return str(_("due in %(minutes)s min", minutes=max(1, due_in_s // 60)))
    return str(_("due in %(hours)s h", hours=due_in_s // 3600))


def _words() -> dict[str, object]:
    return {
        "status_name": lambda code: word(STATUS_NAMES, code),
        "reason_name": lambda code: word(REASON_NAMES, code),
        "resolution_name": lambda code: word(RESOLUTION_NAMES, code),
        "due_badge": due_badge,
    }


@bp.get("/")
@area_required("support")
def index() -> str:
    page = request.args.get("page", "1")
    number = int(page) if bounds.is_id(page) else 1
    desk = review.desk(db(), now=utcnow(), page=number, per_page=PER_PAGE)
    return render_template("support/returns.html", desk=desk, **_words())


def _case_page(
    case_id: int,
    *,
    override: OverrideReturnForm | None = None,
    answer: AnswerReturnForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    try:
        found = review.case_page(db(), case_id=case_id, now=utcnow())
    except NotFound:
        abort(404)
    page = render_template(
        "support/returns_case.html",
        view=found,
        override_form=override or OverrideReturnForm(formdata=None),
        answer_form=answer or AnswerReturnForm(formdata=None),
        receive_form=ActionForm(formdata=None),
        **_words(),
    )
    return page, status


@bp.get(f"/<{bounds.ID_RULE}:case_id>")
@area_required("support")
def case(case_id: int) -> tuple[str, int]:
    return _case_page(case_id)


def _refused(error: Conflict | NotFound, case_id: int) -> tuple[str, int]:
    if isinstance(error, NotFound):
        abort(404)
    db().rollback()
    flash(explain(error), "danger")
    return _case_page(case_id, status=409)


@bp.post(f"/<{bounds.ID_RULE}:case_id>/override")
@area_required("support")
def override(case_id: int) -> Response | tuple[str, int]:
    form = OverrideReturnForm()
    if form.validate_on_submit():
        try:
            review.override(
                db(),
                case_id=case_id,
                outcome=Outcome(form.outcome.data),
                reason=form.reason.data,
                user_id=current_user.id,
                now=utcnow(),
            )
        except ValidationFailed as exc:
            db().rollback()
            for field, messages in exc.errors.items():
                getattr(form, field).errors.extend(localize(m) for m in messages)
        except (Conflict, NotFound) as exc:
            return _refused(exc, case_id)
        else:
            db().commit()
            flash(
                _("Approved: the customer has been told.")
                if form.outcome.data == Outcome.APPROVED
                else _("Declined: the customer has been told."),
                "success",
            )
            return redirect(url_for("returns_desk.case", case_id=case_id))
    return _case_page(case_id, override=form, status=400)


@bp.post(f"/<{bounds.ID_RULE}:case_id>/answer")
@area_required("support")
def answer(case_id: int) -> Response | tuple[str, int]:
    form = AnswerReturnForm()
    if form.validate_on_submit():
        try:
            review.answer(
                db(), case_id=case_id, text=form.text.data, user_id=current_user.id, now=utcnow()
            )
        except ValidationFailed as exc:
            db().rollback()
            for field, messages in exc.errors.items():
                getattr(form, field).errors.extend(localize(m) for m in messages)
        except (Conflict, NotFound) as exc:
            return _refused(exc, case_id)
        else:
            db().commit()
            flash(_("Answer sent to the customer."), "success")
            return redirect(url_for("returns_desk.case", case_id=case_id))
    return _case_page(case_id, answer=form, status=400)


@bp.post(f"/<{bounds.ID_RULE}:case_id>/receive")
@area_required("support")
def receive(case_id: int) -> Response | tuple[str, int]:
    form = ActionForm()
    if not form.validate_on_submit():
        flash(explain(ValidationFailed(form.errors)), "danger")
        return _case_page(case_id, status=400)
    try:
        review.receive(db(), case_id=case_id, user_id=current_user.id, now=utcnow())
    except (Conflict, NotFound) as exc:
        return _refused(exc, case_id)
    db().commit()
    flash(_("Marked received; the customer has been told."), "success")
    return redirect(url_for("returns_desk.case", case_id=case_id))


@bp.get(f"/<{bounds.ID_RULE}:case_id>/photos/<{bounds.ID_RULE}:photo_id>")
@area_required("support")
def photo(case_id: int, photo_id: int) -> Response:
    """A photo the customer sent with this case (only a case's own photos are served)."""
    found = db().get(ReturnPhoto, photo_id)
    if found is None or found.case_id != case_id:
        abort(404)
    path = photo_path(found.photo, root=uploads())
    if path is None:
        abort(404)
    return send_file(path, mimetype=PHOTO_TYPES[path.suffix.lstrip(".")], max_age=86400)
