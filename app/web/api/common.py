"""Pieces every API resource uses: pagination and page envelopes."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import Select, func, select

from app.web.database import db


class PageArgs(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "page": ma.fields.Integer(),
            "page_size": ma.fields.Integer(),
            "total": ma.fields.Integer(),
            "pages": ma.fields.Integer(),
        },
        name=name,
    )


def paginate(query: Select[Any], page: int, page_size: int) -> dict[str, Any]:
    page_size = min(page_size, current_app.config.get("API_PAGE_SIZE_MAX", 200))
    total = db().scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(db().scalars(query.offset((page - 1) * page_size).limit(page_size)))
    return {
        "items": items,
        "page": page,
        "page_size": page_size,
        "total": total,
        "pages": (total + page_size - 1) // page_size,
    }


class UtcDateTime(ma.fields.AwareDateTime):
    """Accepts any offset; always answers in UTC, so clients never see mixed offsets."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)
