"""Forms (Flask-WTF gives each one its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange

from app.accounts.models import Role


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("E-mail", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class LogoutForm(FlaskForm):  # type: ignore[misc]
    pass


class NewUserForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("E-mail", validators=[DataRequired()])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.title()) for r in Role])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8)])


class AdjustPointsForm(FlaskForm):  # type: ignore[misc]
    points = IntegerField("Points (+ to add, - to remove)", validators=[DataRequired()])
    reason = StringField(
        "Reason (the customer sees it)", validators=[DataRequired(), Length(max=300)]
    )
    # One token per rendered form: a double-clicked submit adjusts once.
    token = HiddenField()


class PlanDayForm(FlaskForm):  # type: ignore[misc]
    depot_id = HiddenField(validators=[DataRequired()])
    day = HiddenField(validators=[DataRequired()])


class PublishForm(FlaskForm):  # type: ignore[misc]
    pass


class MoveStopForm(FlaskForm):  # type: ignore[misc]
    order_id = SelectField("Stop", coerce=int)
    shift_id = SelectField("To the route of", coerce=int)
    position = IntegerField("As stop number", validators=[DataRequired(), NumberRange(min=1)])
    override_reason = TextAreaField(
        "Why save it anyway (recorded with the plan)", validators=[Length(max=500)]
    )


class ImportOrdersForm(FlaskForm):  # type: ignore[misc]
    depot_id = SelectField("Depot", coerce=int)
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")])
    import_valid_rows = BooleanField("Import the valid rows even if some rows are rejected")


class ReportVisitForm(FlaskForm):  # type: ignore[misc]
    report = HiddenField(validators=[DataRequired()])
