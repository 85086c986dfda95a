"""The public help page (P3), open to everyone and laid out for a phone: the FAQ in the
reader's language with a plain text filter, every contact channel with its hours and its real
response time (from the cases of the last 30 days), a message to support, and a callback at
a 30-minute slot the customer picks."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import Length

from app.customers import services as customer_services
from app.customers.models import Customer
from app.db import utcnow
from app.errors import Conflict, ValidationFailed
from app.help import services as help_services
from app.help.models import PHONE_MAX
from app.web.auth import limiter
from app.web.database import db
from app.web.forms import CleanText, RoundtripForm
from app.web.i18n import explain, localize

bp = Blueprint("help", __name__, url_prefix="/help")

# A burst of messages from one address is someone else's robot, not a customer.
SEND_LIMIT = "20 per hour"

CHANNEL_NAMES = {
    "callback": _l("We call you back"),
    "contact": _l("Write to us"),
}
CHANNEL_HOW = {
    "callback": _l("Pick a time below and leave your number; a person calls you then."),
    "contact": _l("Send a message with the form below; we answer by e-mail or SMS."),
}


class ContactForm(RoundtripForm):
    """A message to support; name, e-mail and phone only when not signed in."""

    name = StringField(
        _l("Your name"), validators=[Length(max=help_services.NAME_MAX), CleanText()]
    )
    email = EmailField(_l("E-mail"), validators=[Length(max=help_services.EMAIL_MAX), CleanText()])
    phone = StringField(_l("Phone"), validators=[Length(max=PHONE_MAX), CleanText()])
    text = TextAreaField(
        _l("Your message"), validators=[Length(max=help_services.MESSAGE_MAX), CleanText()]
    )


class CallbackForm(RoundtripForm):
    """A callback: the slot picked from the list, the number to call."""

    slot = StringField(_l("When should we call?"), validators=[Length(max=40), CleanText()])
    phone = StringField(_l("Phone to call"), validators=[Length(max=PHONE_MAX), CleanText()])
    name = StringField(
        _l("Your name"), validators=[Length(max=help_services.NAME_MAX), CleanText()]
    )
    email = EmailField(
        _l("E-mail (optional)"), validators=[Length(max=help_services.EMAIL_MAX), CleanText()]
    )
    note = TextAreaField(
        _l("What is it about? (optional)"),
        validators=[Length(max=help_services.MESSAGE_MAX), CleanText()],
    )


def plain_duration(seconds: float) -> str:
    """'under a minute', '25 minutes', '3 h 10 min', '2 days 4 h' (rounded)."""
    if seconds < 60:
        return str(_("under a minute"))
    minutes = round(seconds / 60)
    if minutes < 60:
        return str(ngettext("%(num)d minute", "%(num)d minutes", minutes))
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        if rest == 0:
            return str(_("%(hours)s h", hours=hours))
        return str(_("%(hours)s h %(minutes)s min", hours=hours, minutes=rest))
    days, hours = divmod(hours, 24)
    in_days = str(ngettext("%(num)d day", "%(num)d days", days))
    return in_days if hours == 0 else f"{in_days} {_('%(hours)s h', hours=hours)}"


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """A contact channel as the page shows it."""

    code: str
    name: str
    how: str
    hours: str
    answered: int
    median: str | None
    p90: str | None


def _language() -> str:
    code = str(get_locale() or "en").split("_")[0]
    return code if code in help_services.LANGUAGES else "en"


def _signed_in_customer() -> int | None:
    if not current_user.is_authenticated or current_user.role != "customer":
        return None
    customer = customer_services.customer_for_user(db(), current_user.id)
    return customer.id if customer is not None else None


def _page(
    *,
    contact: ContactForm | None = None,
    callback: CallbackForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    now = utcnow()
    rules = help_services.HelpRules.from_env()
    raw = request.args.get("q", "")
    query = raw.strip()[: help_services.QUERY_MAX + 1]
    query_error = None
    try:
        entries = help_services.faq(db(), now=now, language=_language(), query=query)
    except ValidationFailed as exc:
        entries = help_services.faq(db(), now=now, language=_language())
        query_error = explain(exc)
        status = 400
    opens, closes = rules.opens.strftime("%H:%M"), rules.closes.strftime("%H:%M")
    hours = {
        "callback": _("Every day %(opens)s–%(closes)s", opens=opens, closes=closes),
        "contact": _(
            "Any time; we read messages every day %(opens)s–%(closes)s", opens=opens, closes=closes
        ),
    }
    channels = [
        ChannelRow(
            code=t.channel,
            name=str(CHANNEL_NAMES[t.channel]),
            how=str(CHANNEL_HOW[t.channel]),
            hours=hours[t.channel],
            answered=t.answered,
            median=plain_duration(t.median_s) if t.median_s is not None else None,
            p90=plain_duration(t.p90_s) if t.p90_s is not None else None,
        )
        for t in help_services.response_times(db(), now=now)
    ]
    customer_id = _signed_in_customer()
    signed_in = customer_id is not None
    if callback is None:
        # A signed-in customer's number is filled in for them (they may change it).
        known = db().get(Customer, customer_id) if customer_id is not None else None
        callback = CallbackForm(
            formdata=None, prefix="callback", data={"phone": known.phone if known else ""}
        )
    page = render_template(
        "help/index.html",
        entries=entries,
        query=query,
        query_error=query_error,
        channels=channels,
        timezone=rules.timezone,
        slots=help_services.callback_slots(db(), now=now, rules=rules),
        contact=contact or ContactForm(formdata=None, prefix="contact"),
        callback=callback,
        signed_in=signed_in,
    )
    return page, status


@bp.get("/")
def index() -> tuple[str, int]:
    return _page()


def _field_errors(form: RoundtripForm, exc: ValidationFailed) -> None:
    for field, problems in exc.errors.items():
        target = getattr(form, field, None)
        if target is None:  # a rule about the whole request: show it on the first field
            target = next(iter(form))
        target.errors = [*target.errors, *(localize(m) for m in problems)]


@bp.post("/contact")
@limiter.limit(SEND_LIMIT, methods=["POST"])
def contact() -> Response | tuple[str, int]:
    form = ContactForm(prefix="contact")
    if form.validate_on_submit():
        try:
            sent = help_services.send_message(
                db(),
                text=form.text.data,
                now=utcnow(),
                customer_id=_signed_in_customer(),
                name=form.name.data,
                email=form.email.data,
                phone=form.phone.data,
            )
        except ValidationFailed as exc:
            db().rollback()
            _field_errors(form, exc)
        else:
            db().commit()
            flash(localize(sent.told), "success")
            return redirect(url_for("help.index") + "#sent")
    return _page(contact=form, status=400)


@bp.post("/callback")
@limiter.limit(SEND_LIMIT, methods=["POST"])
def callback() -> Response | tuple[str, int]:
    form = CallbackForm(prefix="callback")
    if form.validate_on_submit():
        try:
            booked = help_services.request_callback(
                db(),
                slot=form.slot.data,
                phone=form.phone.data,
                note=form.note.data,
                now=utcnow(),
                customer_id=_signed_in_customer(),
                name=form.name.data,
                email=form.email.data,
            )
        except ValidationFailed as exc:
            db().rollback()
            _field_errors(form, exc)
        except Conflict as exc:
            db().rollback()
            form.slot.errors = [*form.slot.errors, explain(exc)]
            return _page(callback=form, status=409)
        else:
            db().commit()
            flash(localize(booked.told), "success")
            return redirect(url_for("help.index") + "#sent")
    return _page(callback=form, status=400)
