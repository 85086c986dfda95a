"""The ranges the product accepts for what people and clients type, in one place.

The API schemas (app/web/api/common.py), the page forms (app/web/forms.py) and the query
parameters pages read by hand all use these, so an out-of-range value is a 4xx naming the field
on SQLite and PostgreSQL alike, never a database overflow (PostgreSQL's integer stops at 2^31).
Their messages are in the request's language (English outside a request).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _

INT32_MAX = 2**31 - 1
"""The largest id any table can hold (PostgreSQL ``integer``)."""

ID_MIN, ID_MAX = 1, INT32_MAX
PAGE_MAX = 100_000
PAGE_SIZE_MAX = 200
QUANTITY_MAX = 999
"""Of one product in one order: more is a wholesale order, not a home delivery."""
MONEY_MAX_MINOR = 1_000_000_000
"""10,000,000.00 in minor units: far above any basket, far below the integer column."""
POINTS_MAX = 1_000_000_000
"""No points field may exceed this; the adjustment cap (configurable) is much lower."""
CAPACITY_MAX_UNITS = 100_000
SHIFT_MAX = timedelta(hours=16)
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2100, 12, 31)
DATETIME_MIN = datetime(2000, 1, 1, tzinfo=UTC)
DATETIME_MAX = datetime(2101, 1, 1, tzinfo=UTC)

ID_RULE = f"int(min={ID_MIN}, max={ID_MAX})"
"""A URL rule converter for ids: ``f"/orders/<{ID_RULE}:order_id>"`` answers 404 beyond them."""


def is_id(text: str) -> bool:
    """Whether text a person typed (a search box, a hidden field) is an id: digits, in range."""
    return text.isascii() and text.isdigit() and ID_MIN <= int(text) <= ID_MAX


_NUL_OR_LONE_SURROGATE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why this text cannot be stored (a NUL byte, a lone surrogate), or None."""
    found = _NUL_OR_LONE_SURROGATE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return _("Must not contain a NUL character.")
    return _("Must not contain invalid characters (a lone UTF-16 surrogate).")


def date_problem(value: date) -> str | None:
    """Why this date is outside what the product plans for, or None."""
    if DATE_MIN <= value <= DATE_MAX:
        return None
    return _(
        "Must be a date between %(first)s and %(last)s.",
        first=DATE_MIN.isoformat(),
        last=DATE_MAX.isoformat(),
    )


def parse_day(raw: str) -> date:
    """A ``YYYY-MM-DD`` day within the bounds; ValueError says what is wrong in plain words."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValueError(_("%(value)r is not a date like 2026-11-25", value=raw)) from None
    if (problem := date_problem(day)) is not None:
        raise ValueError(problem.rstrip("."))
    return day


def adjustment_limits(config: Mapping[str, Any]) -> tuple[int, int]:
    """(cap, confirm threshold) of staff point adjustments, from the app's config."""
    return (
        int(config.get("ADJUSTMENT_MAX_POINTS", 10_000)),
        int(config.get("ADJUSTMENT_CONFIRM_POINTS", 1_000)),
    )
