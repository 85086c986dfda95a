"""Pieces every API resource uses: bounded field types, pagination and page envelopes.

Every number, date and string a client sends goes through one of the bounded fields below
(bounds in app/web/bounds.py), so nothing out of range reaches the database.

Their messages, and those of the validators below, are marshmallow's own wording made
translatable: a problem document's ``errors`` speak the caller's Accept-Language.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import marshmallow as ma
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from app.web import bounds
from app.web.database import db


class Translated(ma.fields.Field[Any]):
    """Mixin: ``default_error_messages`` are lazy strings with ``%(name)s`` placeholders,
    rendered in the request's language when the error is raised (marshmallow's ``make_error``
    would pass a lazy string on unrendered)."""

    default_error_messages = {  # noqa: RUF012
        "required": _l("Missing data for required field."),
        "null": _l("Field may not be null."),
        "validator_failed": _l("Invalid value."),
    }

    def make_error(self, key: str, **kwargs: Any) -> ma.ValidationError:
        message = self.error_messages.get(key)
        if message is None or isinstance(message, str | bytes):
            return super().make_error(key, **kwargs)  # marshmallow's own, or a custom str
        return ma.ValidationError(str(message) % kwargs if kwargs else str(message))


class String(Translated, ma.fields.String):
    default_error_messages = {  # noqa: RUF012
        "invalid": _l("Not a valid string."),
        "invalid_utf8": _l("Not a valid utf-8 string."),
    }


class Integer(Translated, ma.fields.Integer):
    default_error_messages = {  # noqa: RUF012
        "invalid": _l("Not a valid integer."),
        "too_large": _l("Number too large."),
    }


class Float(Translated, ma.fields.Float):
    default_error_messages = {  # noqa: RUF012
        "invalid": _l("Not a valid number."),
        "too_large": _l("Number too large."),
        "special": _l("Special numeric values (nan or infinity) are not permitted."),
    }


class Boolean(Translated, ma.fields.Boolean):
    default_error_messages = {"invalid": _l("Not a valid boolean.")}  # noqa: RUF012


class List(Translated, ma.fields.List[Any]):
    default_error_messages = {"invalid": _l("Not a valid list.")}  # noqa: RUF012


class Nested(Translated, ma.fields.Nested):
    default_error_messages = {"type": _l("Invalid type.")}  # noqa: RUF012


class Range(ma.validate.Range):
    """marshmallow's Range (inclusive bounds), its message in the request's language."""

    def _format_error(self, value: Any, message: str) -> str:
        if self.error or not (self.min_inclusive and self.max_inclusive):
            return super()._format_error(value, message)
        if self.max is None:
            return _("Must be greater than or equal to %(min)s.", min=self.min)
        if self.min is None:
            return _("Must be less than or equal to %(max)s.", max=self.max)
        return _(
            "Must be greater than or equal to %(min)s and less than or equal to %(max)s.",
            min=self.min,
            max=self.max,
        )


class Length(ma.validate.Length):
    """marshmallow's Length, its message in the request's language."""

    def _format_error(self, value: Any, message: str) -> str:
        if self.error:
            return super()._format_error(value, message)
        if self.equal is not None:
            return _("Length must be %(equal)s.", equal=self.equal)
        if self.max is None:
            return _("Shorter than minimum length %(min)s.", min=self.min)
        if self.min is None:
            return _("Longer than maximum length %(max)s.", max=self.max)
        return _("Length must be between %(min)s and %(max)s.", min=self.min, max=self.max)


class OneOf(ma.validate.OneOf):
    """marshmallow's OneOf, its message in the request's language."""

    def _format_error(self, value: Any) -> str:
        if self.error != self.default_message:
            return super()._format_error(value)
        return _("Must be one of: %(choices)s.", choices=self.choices_text)


class EmailAddress(ma.validate.Email):
    """marshmallow's Email validator, its message in the request's language."""

    def _format_error(self, value: str) -> str:
        if self.error != self.default_message:
            return str(super()._format_error(value))
        return _("Not a valid email address.")


class Text(String):
    """A string without NUL characters or lone surrogates, at most ``max_length`` long
    (the column's length), at least ``min_length``."""

    def __init__(self, *, max_length: int, min_length: int = 0, **kwargs: Any) -> None:
        validators = [Length(min=min_length or None, max=max_length)]
        super().__init__(
            validate=validators + list(_as_list(kwargs.pop("validate", None))), **kwargs
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if (problem := bounds.text_problem(text)) is not None:
            raise ma.ValidationError(problem)
        return text


class Email(Text):
    """An e-mail address that fits the column (254 characters)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=254, validate=EmailAddress(), **kwargs)


def _as_list(validate: Any) -> list[Any]:
    if validate is None:
        return []
    return list(validate) if isinstance(validate, list | tuple) else [validate]


def BoundedInteger(minimum: int, maximum: int, *, strict: bool = True, **kwargs: Any) -> Integer:
    """An integer within ``minimum..maximum``. In a JSON body it must be a JSON integer (1.5
    is refused, not cut to 1); query parameters are text, so pass ``strict=False`` there."""
    return Integer(strict=strict, validate=Range(minimum, maximum), **kwargs)


def Id(**kwargs: Any) -> Integer:
    """A row id: 1..2^31-1."""
    return BoundedInteger(bounds.ID_MIN, bounds.ID_MAX, **kwargs)


def Quantity(**kwargs: Any) -> Integer:
    return BoundedInteger(1, bounds.QUANTITY_MAX, **kwargs)


def MoneyMinor(**kwargs: Any) -> Integer:
    """An amount in minor units (kopecks, cents)."""
    return BoundedInteger(0, bounds.MONEY_MAX_MINOR, **kwargs)


def Points(minimum: int = 1, **kwargs: Any) -> Integer:
    return BoundedInteger(minimum, bounds.POINTS_MAX, **kwargs)


class Date(Translated, ma.fields.Date):
    """A calendar day between 2000-01-01 and 2100-12-31."""

    default_error_messages = {"invalid": _l("Not a valid date.")}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        day = super()._deserialize(value, attr, data, **kwargs)
        if (problem := bounds.date_problem(day)) is not None:
            raise ma.ValidationError(problem)
        return day


class UtcDateTime(Translated, ma.fields.AwareDateTime):
    """Accepts any offset within 2000..2100; always answers in UTC, so clients never see
    mixed offsets."""

    default_error_messages = {  # noqa: RUF012
        "invalid": _l("Not a valid datetime."),
        "invalid_awareness": _l("Not a valid aware datetime."),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not bounds.DATETIME_MIN <= moment < bounds.DATETIME_MAX:
            raise ma.ValidationError(
                _(
                    "Must be a time between %(first)s and %(last)s.",
                    first=bounds.DATE_MIN.isoformat(),
                    last=bounds.DATE_MAX.isoformat(),
                )
            )
        return moment

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def Page(**kwargs: Any) -> Integer:
    return BoundedInteger(1, bounds.PAGE_MAX, strict=False, load_default=1, **kwargs)


def PageSize(**kwargs: Any) -> Integer:
    return BoundedInteger(1, bounds.PAGE_SIZE_MAX, strict=False, load_default=50, **kwargs)


class PageArgs(ma.Schema):
    page = Page()
    page_size = PageSize()


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "page": ma.fields.Integer(required=True),
            "page_size": ma.fields.Integer(required=True),
            "total": ma.fields.Integer(required=True),
            "pages": ma.fields.Integer(required=True),
        },
        name=name,
    )


def paginate(query: Select[Any], page: int, page_size: int) -> dict[str, Any]:
    page_size = min(page_size, current_app.config.get("API_PAGE_SIZE_MAX", bounds.PAGE_SIZE_MAX))
    total = db().scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(db().scalars(query.offset((page - 1) * page_size).limit(page_size)))
    return {
        "items": items,
        "page": page,
        "page_size": page_size,
        "total": total,
        "pages": (total + page_size - 1) // page_size,
    }
