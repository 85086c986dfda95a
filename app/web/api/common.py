"""Pieces every API resource uses: bounded field types, pagination and page envelopes.

Every number, date and string a client sends goes through one of the bounded fields below
(bounds in app/web/bounds.py), so nothing out of range reaches the database.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import Select, func, select

from app.web import bounds
from app.web.database import db


class Text(ma.fields.String):
    """A string without NUL characters or lone surrogates, at most ``max_length`` long
    (the column's length), at least ``min_length``."""

    def __init__(self, *, max_length: int, min_length: int = 0, **kwargs: Any) -> None:
        validators = [ma.validate.Length(min=min_length or None, max=max_length)]
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
        super().__init__(max_length=254, validate=ma.validate.Email(), **kwargs)


def _as_list(validate: Any) -> list[Any]:
    if validate is None:
        return []
    return list(validate) if isinstance(validate, list | tuple) else [validate]


def BoundedInteger(
    minimum: int, maximum: int, *, strict: bool = True, **kwargs: Any
) -> ma.fields.Integer:
    """An integer within ``minimum..maximum``. In a JSON body it must be a JSON integer (1.5
    is refused, not cut to 1); query parameters are text, so pass ``strict=False`` there."""
    return ma.fields.Integer(strict=strict, validate=ma.validate.Range(minimum, maximum), **kwargs)


def Id(**kwargs: Any) -> ma.fields.Integer:
    """A row id: 1..2^31-1."""
    return BoundedInteger(bounds.ID_MIN, bounds.ID_MAX, **kwargs)


def Quantity(**kwargs: Any) -> ma.fields.Integer:
    return BoundedInteger(1, bounds.QUANTITY_MAX, **kwargs)


def MoneyMinor(**kwargs: Any) -> ma.fields.Integer:
    """An amount in minor units (kopecks, cents)."""
    return BoundedInteger(0, bounds.MONEY_MAX_MINOR, **kwargs)


def Points(minimum: int = 1, **kwargs: Any) -> ma.fields.Integer:
    return BoundedInteger(minimum, bounds.POINTS_MAX, **kwargs)


class Date(ma.fields.Date):
    """A calendar day between 2000-01-01 and 2100-12-31."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        day = super()._deserialize(value, attr, data, **kwargs)
        if (problem := bounds.date_problem(day)) is not None:
            raise ma.ValidationError(problem)
        return day


class UtcDateTime(ma.fields.AwareDateTime):
    """Accepts any offset within 2000..2100; always answers in UTC, so clients never see
    mixed offsets."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not bounds.DATETIME_MIN <= moment < bounds.DATETIME_MAX:
            raise ma.ValidationError(
                f"Must be a time between {bounds.DATE_MIN.isoformat()} and "
                f"{bounds.DATE_MAX.isoformat()}."
            )
        return moment

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def Page(**kwargs: Any) -> ma.fields.Integer:
    return BoundedInteger(1, bounds.PAGE_MAX, strict=False, load_default=1, **kwargs)


def PageSize(**kwargs: Any) -> ma.fields.Integer:
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
