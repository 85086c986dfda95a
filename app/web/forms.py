"""Forms (Flask-WTF gives each one its CSRF token).

WTForms' own messages ("This field is required.", lengths, number ranges) come in the page's
language from WTForms' shipped catalogues: Flask-WTF loads them for flask_babel's locale
(WTF_I18N_ENABLED). Where its words are a library's (the CSRF check, a choice that "could not
coerce"), the forms below give their own.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.accounts.models import Role
from app.web import bounds
from app.web.words import ROLE_NAMES, VEHICLE_TYPE_NAMES

# Said when a choice sent is not one of the form's (only a tampered or stale form does that).
NOT_A_CHOICE = _l("Choose one of the options in the list.")


class RoundtripForm(FlaskForm):  # type: ignore[misc]
    """Every form of ours: a failed CSRF check is explained in the page's language (Flask-WTF's
    own reasons are English only and name the token)."""

    def validate(self, extra_validators: object = None) -> bool:
        valid: bool = super().validate(extra_validators=extra_validators)
        token = self._fields.get(self.meta.csrf_field_name) if self.meta.csrf else None
        if token is not None and token.errors:
            token.errors = [
                _(
                    "This form has expired or came from another site, so nothing was saved. "
                    "Reload the page and send it again."
                )
            ]
        return valid


class CleanText:
    """Refuses NUL characters and lone surrogates, which no column can store."""

    def __call__(self, form: FlaskForm, field: StringField) -> None:
        if isinstance(field.data, str) and (problem := bounds.text_problem(field.data)):
            raise ValidationError(problem)


class WholeNumberField(IntegerField):  # type: ignore[misc]
    """An integer field whose parse error says what to type (not "This field is required")."""

    def __init__(self, *args: object, example: object = "250", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.example = example

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            return
        raw = valuelist[0].strip()
        digits = raw[1:] if raw[:1] in "+-" else raw
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
            self.data = None
            raise ValueError(
                _(
                    "Enter a whole number such as %(example)s, not %(value)s.",
                    example=self.example,
                    value=repr(raw[:20]),
                )
            )
        self.data = int(raw)


class LoginForm(RoundtripForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254), CleanText()])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=200), CleanText()]
    )


class LogoutForm(RoundtripForm):
    pass


class NewUserForm(RoundtripForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254), CleanText()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120), CleanText()])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(r.value, ROLE_NAMES.get(r.value, r.value)) for r in Role],
        invalid_choice_message=NOT_A_CHOICE,
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=8, max=200), CleanText()]
    )


class AdjustPointsForm(RoundtripForm):
    points = WholeNumberField(
        _l("Points (+ to add, - to remove)"),
        example=_l("250 or -40"),
        validators=[InputRequired(_l("Enter the points to add (250) or remove (-40)."))],
    )
    reason = StringField(
        _l("Reason (the customer sees it)"),
        validators=[DataRequired(), Length(max=300), CleanText()],
    )
    # One token per rendered form: a double-clicked submit adjusts once.
    token = HiddenField(validators=[Length(max=64), CleanText()])
    # Sent only by the "Add 5,000 points to X? Confirm" step (never by hidden_tag()).
    confirmed = BooleanField(default=False)


class BoundedDay:
    """A ``YYYY-MM-DD`` day between 2000-01-01 and 2100-12-31."""

    def __call__(self, form: FlaskForm, field: HiddenField) -> None:
        try:
            bounds.parse_day(field.data or "")
        except ValueError as exc:
            raise ValidationError(f"{exc}.") from None


class IdText:
    """An id sent as text (a hidden field): digits, 1..2^31-1."""

    def __call__(self, form: FlaskForm, field: HiddenField) -> None:
        raw = field.data or ""
        if not bounds.is_id(raw):
            raise ValidationError(_("%(value)s is not an id.", value=repr(raw[:20])))


class PlanDayForm(RoundtripForm):
    depot_id = HiddenField(validators=[DataRequired(), IdText()])
    day = HiddenField(validators=[DataRequired(), BoundedDay()])


class PublishForm(RoundtripForm):
    pass


class MoveStopForm(RoundtripForm):
    stop_id = SelectField(
        _l("Stop"),
        coerce=int,
        invalid_value_message=NOT_A_CHOICE,
        invalid_choice_message=NOT_A_CHOICE,
    )
    shift_id = SelectField(
        _l("To the route of"),
        coerce=int,
        invalid_value_message=NOT_A_CHOICE,
        invalid_choice_message=NOT_A_CHOICE,
    )
    position = WholeNumberField(
        _l("As stop number"),
        example="3",
        validators=[InputRequired(_l("Enter a stop number.")), NumberRange(min=1, max=1000)],
    )
    override_reason = TextAreaField(
        _l("Why save it anyway (recorded with the plan)"), validators=[Length(max=500), CleanText()]
    )


class ImportOrdersForm(RoundtripForm):
    depot_id = SelectField(
        _l("Depot"),
        coerce=int,
        invalid_value_message=NOT_A_CHOICE,
        invalid_choice_message=NOT_A_CHOICE,
    )
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])
    import_valid_rows = BooleanField(_l("Import the valid rows even if some rows are rejected"))


class ReportVisitForm(RoundtripForm):
    report = HiddenField(validators=[DataRequired()])
    reason = HiddenField(validators=[Length(max=20)])


class NewCourierForm(RoundtripForm):
    depot_id = SelectField(
        _l("Depot"),
        coerce=int,
        invalid_value_message=NOT_A_CHOICE,
        invalid_choice_message=NOT_A_CHOICE,
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120), CleanText()])
    phone = StringField(
        _l("Phone customers can call"), validators=[DataRequired(), Length(max=32), CleanText()]
    )
    skills = StringField(
        _l("Skills, separated by commas (e.g. heavy, cold_chain)"),
        validators=[Length(max=300), CleanText()],
    )
    user_id = SelectField(
        _l("Signs in as"),
        coerce=int,
        invalid_value_message=NOT_A_CHOICE,
        invalid_choice_message=NOT_A_CHOICE,
    )


class LinkCourierForm(RoundtripForm):
    user_id = SelectField(
        _l("Signs in as"),
        coerce=int,
        invalid_value_message=NOT_A_CHOICE,
        invalid_choice_message=NOT_A_CHOICE,
    )


class NewVehicleForm(RoundtripForm):
    depot_id = SelectField(
        _l("Depot"),
        coerce=int,
        invalid_value_message=NOT_A_CHOICE,
        invalid_choice_message=NOT_A_CHOICE,
    )
    registration = StringField(
        _l("Registration"), validators=[DataRequired(), Length(max=20), CleanText()]
    )
    type = SelectField(
        _l("Type"),
        choices=[SelectChoice(k, v) for k, v in VEHICLE_TYPE_NAMES.items()],
        invalid_choice_message=NOT_A_CHOICE,
    )
    capacity_units = WholeNumberField(
        _l("Capacity (load units)"),
        example="50",
        validators=[
            InputRequired(_l("Enter the capacity.")),
            NumberRange(min=1, max=bounds.CAPACITY_MAX_UNITS),
        ],
    )
    skills = StringField(
        _l("Skills, separated by commas (e.g. heavy, cold_chain)"),
        validators=[Length(max=300), CleanText()],
    )


class OutOfServiceForm(RoundtripForm):
    reason = StringField(
        _l("Why it is out of service"), validators=[DataRequired(), Length(max=255), CleanText()]
    )


class NewShiftForm(RoundtripForm):
    courier_id = SelectField(
        _l("Courier"),
        coerce=int,
        invalid_value_message=NOT_A_CHOICE,
        invalid_choice_message=NOT_A_CHOICE,
    )
    vehicle_id = SelectField(
        _l("Vehicle"),
        coerce=int,
        invalid_value_message=NOT_A_CHOICE,
        invalid_choice_message=NOT_A_CHOICE,
    )
    day = DateField(_l("Day"), validators=[InputRequired(_l("Choose the day."))])
    starts = TimeField(_l("Starts"), validators=[InputRequired(_l("Enter when it starts."))])
    ends = TimeField(_l("Ends"), validators=[InputRequired(_l("Enter when it ends."))])
    break_minutes = WholeNumberField(
        _l("Break, minutes"),
        example="30",
        validators=[Optional(), NumberRange(min=1, max=240)],
    )
    break_from = TimeField(_l("Break taken after"), validators=[Optional()])
    break_until = TimeField(_l("and over by"), validators=[Optional()])


class ActionForm(RoundtripForm):
    """A button that changes one thing: nothing but its CSRF token."""


class InspectionForm(RoundtripForm):
    """The pre-trip check: one yes/no per checklist item (added per vehicle by the view)."""

    odometer_km = WholeNumberField(
        _l("Odometer, km"),
        example="48210",
        validators=[Optional(), NumberRange(min=0, max=2_000_000)],
    )
    notes = TextAreaField(
        _l("Anything to add (optional)"), validators=[Length(max=500), CleanText()]
    )
    photo = FileField(_l("Photo of a problem (optional)"))
    event_id = HiddenField(validators=[Length(max=64), CleanText()])


class OverrideReturnForm(RoundtripForm):
    """Support approves or declines a return against the policy's decision, saying why."""

    outcome = SelectField(
        _l("New decision"),
        choices=[SelectChoice("approved", _l("Approve")), SelectChoice("declined", _l("Decline"))],
        invalid_choice_message=NOT_A_CHOICE,
    )
    reason = TextAreaField(
        _l("Why (the customer reads it)"),
        validators=[DataRequired(), Length(min=3, max=500), CleanText()],
    )


class AnswerReturnForm(RoundtripForm):
    """Support writes to the customer about a return (this keeps the promised answer)."""

    text = TextAreaField(
        _l("Answer (the customer reads it)"),
        validators=[DataRequired(), Length(max=2000), CleanText()],
    )


class StaffNoteForm(RoundtripForm):
    """Support writes a note on a customer's history (staff-only: the customer never sees it)."""

    text = TextAreaField(
        _l("Note (only staff see it)"),
        validators=[DataRequired(), Length(max=2000), CleanText()],
    )
