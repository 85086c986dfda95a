"""Support's side of help (P3): the FAQ support maintains (each entry with how often its
question was asked in the last 90 days, and the question tags still without an entry), and
the callbacks waiting to be made, the soonest slot first."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length

from app.db import utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.help import services as help_services
from app.help.models import ANSWER_MAX, QUESTION_MAX, FaqEntry
from app.quality.models import QUESTION_TAG_MAX
from app.web import bounds
from app.web.auth import area_required
from app.web.database import db
from app.web.forms import CleanText, RoundtripForm
from app.web.i18n import explain, localize
from app.web.returns_desk import due_badge

bp = Blueprint("help_desk", __name__, url_prefix="/support")


class FaqForm(RoundtripForm):
    """One FAQ entry: its question tag and the question and answer in each language."""

    tag = StringField(
        _l("Question tag (what you pick when answering a case)"),
        validators=[Length(max=QUESTION_TAG_MAX), CleanText()],
    )
    question_en = StringField(
        _l("Question in English"), validators=[Length(max=QUESTION_MAX), CleanText()]
    )
    answer_en = TextAreaField(
        _l("Answer in English"), validators=[Length(max=ANSWER_MAX), CleanText()]
    )
    question_ru = StringField(
        _l("Question in Russian"), validators=[Length(max=QUESTION_MAX), CleanText()]
    )
    answer_ru = TextAreaField(
        _l("Answer in Russian"), validators=[Length(max=ANSWER_MAX), CleanText()]
    )
    published = BooleanField(_l("Show it on the help page"))


def _save(form: FaqForm, entry_id: int | None) -> int | None:
    """Save the entry from the form: None, or the HTTP status with the problems on the
    form's fields (400 a field's rule, 409 a tag another entry has)."""
    try:
        help_services.save_faq(
            db(),
            entry_id=entry_id,
            tag=form.tag.data,
            question_en=form.question_en.data,
            answer_en=form.answer_en.data,
            question_ru=form.question_ru.data,
            answer_ru=form.answer_ru.data,
            published=bool(form.published.data),
            now=utcnow(),
        )
    except ValidationFailed as exc:
        db().rollback()
        for field, problems in exc.errors.items():
            target = getattr(form, field)
            target.errors = [*target.errors, *(localize(m) for m in problems)]
        return 400
    except Conflict as exc:
        db().rollback()
        form.tag.errors = [*form.tag.errors, explain(exc)]
        return 409
    db().commit()
    return None


def _faq_page(form: FaqForm | None = None, status: int = 200) -> tuple[str, int]:
    now = utcnow()
    page = render_template(
        "help_desk/faq.html",
        entries=help_services.faq(db(), now=now, published_only=False),
        missing=help_services.untagged_questions(db(), now=now),
        form=form or FaqForm(formdata=None, data={"tag": request.args.get("tag", "")[:80]}),
    )
    return page, status


@bp.get("/faq")
@area_required("support")
def faq() -> tuple[str, int]:
    return _faq_page()


@bp.post("/faq")
@area_required("support")
def new_faq() -> Response | tuple[str, int]:
    form = FaqForm()
    status = _save(form, None) if form.validate_on_submit() else 400
    if status is None:
        flash(_("The question is saved."), "success")
        return redirect(url_for("help_desk.faq"))
    return _faq_page(form, status=status)


@bp.route(f"/faq/<{bounds.ID_RULE}:entry_id>", methods=["GET", "POST"])
@area_required("support")
def edit_faq(entry_id: int) -> Response | tuple[str, int]:
    entry = db().get(FaqEntry, entry_id)
    if entry is None:
        abort(404)
    if request.method == "GET":
        form = FaqForm(obj=entry)
        status: int | None = 200
    else:
        form = FaqForm()
        try:
            status = _save(form, entry_id) if form.validate_on_submit() else 400
        except NotFound:
            abort(404)
        if status is None:
            flash(_("The question is saved."), "success")
            return redirect(url_for("help_desk.faq"))
    return render_template("help_desk/edit.html", form=form, entry_id=entry_id), status or 200


@bp.get("/cases/callbacks")
@area_required("support")
def callbacks() -> str:
    done = request.args.get("all") == "1"
    rules = help_services.HelpRules.from_env()
    return render_template(
        "help_desk/callbacks.html",
        tasks=help_services.callback_tasks(db(), now=utcnow(), open_only=not done),
        show_all=done,
        timezone=rules.timezone,
        due_badge=due_badge,
    )
