"""Forms (Flask-WTF gives each one its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

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
