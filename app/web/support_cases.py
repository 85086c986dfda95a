"""Support's cases desk (Q1): every case a low rating or NPS score opened, the open ones first
with the soonest promised answer at the top; one case with the customer, what they said and
their order, where an agent answers it (the customer gets the answer as a message)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.db import utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.help import services as help_services
from app.links import tracking_token
from app.quality import services as quality
from app.quality.models import QUESTION_TAG_MAX
from app.web import bounds
from app.web.auth import area_required
from app.web.database import db
from app.web.forms import CleanText, RoundtripForm
from app.web.i18n import explain, localize
from app.web.returns_desk import due_badge
from app.web.words import word

bp = Blueprint("support_cases", __name__, url_prefix="/support/cases")

PER_PAGE = 25
SOURCE_NAMES = {
    "rating": _l("low delivery rating"),
    "nps": _l("low recommendation score"),
    "callback": _l("callback request"),
    "contact": _l("message from the customer"),
}
STATUS_NAMES = {
    "open": _l("waiting for an answer"),
    "answered": _l("answered"),
    "closed": _l("closed"),
}


class AnswerCaseForm(RoundtripForm):
    """Support's answer to a case: the customer reads it; the question tag feeds the FAQ."""

    text = TextAreaField(
        _l("Answer (the customer reads it)"),
        validators=[DataRequired(), Length(max=quality.ANSWER_MAX), CleanText()],
    )
    question_tag = StringField(
        _l("Question asked (for the help page, optional)"),
        validators=[Optional(), Length(max=QUESTION_TAG_MAX), CleanText()],
    )


def _words() -> dict[str, object]:
    return {
        "source_name": lambda code: word(SOURCE_NAMES, code),
        "status_name": lambda code: word(STATUS_NAMES, code),
        "due_badge": due_badge,
    }


@bp.get("/")
@area_required("support")
def index() -> str:
    raw = request.args.get("page", "1")
    number = int(raw) if bounds.is_id(raw) else 1
    status = request.args.get("status") or None
    if status not in (None, *STATUS_NAMES):
        status = None
    cases = quality.cases_page(db(), now=utcnow(), page=number, per_page=PER_PAGE, status=status)
    return render_template(
        "support_cases/index.html", cases=cases, status=status, statuses=STATUS_NAMES, **_words()
    )


def _case_page(
    case_id: int, *, form: AnswerCaseForm | None = None, status: int = 200
) -> tuple[str, int]:
    try:
        view = quality.case_view(db(), case_id=case_id, now=utcnow())
    except NotFound:
        abort(404)
    # The order as the customer sees it (their tracking page).
    link = (
        url_for(
            "tracking.order_page",
            token=tracking_token(current_app.config["SECRET_KEY"], view.order_id),
        )
        if view.order_id is not None
        else None
    )
    page = render_template(
        "support_cases/case.html",
        view=view,
        order_link=link,
        form=form or AnswerCaseForm(formdata=None),
        faq_tags=help_services.faq_tags(db()),
        **_words(),
    )
    return page, status


@bp.get(f"/<{bounds.ID_RULE}:case_id>")
@area_required("support")
def case(case_id: int) -> tuple[str, int]:
    return _case_page(case_id)


@bp.post(f"/<{bounds.ID_RULE}:case_id>/answer")
@area_required("support")
def answer(case_id: int) -> Response | tuple[str, int]:
    form = AnswerCaseForm()
    if form.validate_on_submit():
        try:
            quality.answer_case(
                db(),
                case_id=case_id,
                text=form.text.data,
                question_tag=form.question_tag.data or None,
                user_id=current_user.id,
                now=utcnow(),
            )
        except ValidationFailed as exc:
            db().rollback()
            for field, messages in exc.errors.items():
                getattr(form, field).errors.extend(localize(m) for m in messages)
        except NotFound:
            abort(404)
        except Conflict as exc:
            db().rollback()
            flash(explain(exc), "danger")
            return _case_page(case_id, status=409)
        else:
            db().commit()
            flash(_("Answer sent to the customer."), "success")
            return redirect(url_for("support_cases.case", case_id=case_id))
    return _case_page(case_id, form=form, status=400)
