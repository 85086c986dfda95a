"""Jinja filters: money from minor units, numbers grouped by the page's language, times in
the place's own time zone, and words for the codes people see (app.web.words)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_name
from flask import Flask, current_app
from flask_babel import format_date, format_decimal, get_locale

from app.fleet.inspection import ITEM_NAMES
from app.links import tracking_token
from app.web import words
from app.web.i18n import localize

CURRENCY_SIGNS = {"RUB": "₽", "EUR": "€", "USD": "$"}


def money(amount_minor: int, currency: str = "RUB") -> str:
    """123456 kopecks as '1,234.56 ₽' (English) or '1 234,56 ₽' (Russian).

    Babel's format_currency would write 'RUB1,234.56' in English: the amount is grouped by
    the page's language here and the sign stays the shop's."""
    amount = format_decimal(Decimal(amount_minor) / 100, format="#,##0.00")
    return f"{amount}\u00a0{CURRENCY_SIGNS.get(currency, currency)}"


def number(value: int | float) -> str:
    """100000000299 as '100,000,000,299' (English) or '100 000 000 299' (Russian)."""
    return format_decimal(value)


def signed_number(value: int) -> str:
    """Points with their sign: '+1,250', '-40' (the sign always shown)."""
    return ("+" if value > 0 else "-" if value < 0 else "") + format_decimal(abs(value))


def local_time(moment: datetime, tz: str | ZoneInfo, fmt: str = "%H:%M") -> str:
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return moment.astimezone(zone).strftime(fmt)


def day(value: date | datetime, fmt: str = "d MMM y", tz: str | ZoneInfo | None = None) -> str:
    """A day in the page's language (CLDR pattern): 'Tue 1 Dec' / 'вт 1 дек.'.

    A moment is first moved to ``tz`` (a place's own zone), else kept in its own."""
    if isinstance(value, datetime):
        if tz is not None:
            value = value.astimezone(tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz))
        value = value.date()
    return format_date(value, fmt)


def zone_name(tz: str | ZoneInfo) -> str:
    """The time zone's name in the page's language, e.g. 'Moscow Time' / 'Москва'."""
    key = tz.key if isinstance(tz, ZoneInfo) else tz
    try:
        return get_timezone_name(
            ZoneInfo(key), width="long", locale=get_locale(), zone_variant="generic"
        )
    except (LookupError, ValueError):
        return key


def init_app(app: Flask) -> None:
    @app.context_processor
    def _shop_timezone() -> dict[str, str]:
        # Where the shop and its depots are: times not tied to one depot are shown there.
        return {"shop_timezone": app.config.get("SCHEDULER_TIMEZONE") or "Europe/Moscow"}

    app.add_template_filter(money, "money")
    app.add_template_filter(number, "number")
    app.add_template_filter(signed_number, "signed_number")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(day, "day")
    app.add_template_filter(zone_name, "zone_name")
    for name, table in (
        ("role_word", words.ROLE_NAMES),
        ("status_word", words.ORDER_STATUS_NAMES),
        ("outcome_word", words.VISIT_OUTCOME_NAMES),
        ("entry_kind_word", words.ENTRY_KIND_NAMES),
        ("coordinate_source_word", words.COORDINATE_SOURCE_NAMES),
        ("vehicle_type_word", words.VEHICLE_TYPE_NAMES),
        ("stop_kind", words.STOP_KIND_NAMES),
        ("return_status", words.RETURN_STATUS_NAMES),
    ):
        app.add_template_filter(lambda code, table=table: words.word(table, code), name)
    # An order's signed tracking link (the customer's order page, no sign-in needed).
    app.add_template_filter(
        lambda order_id: tracking_token(current_app.config["SECRET_KEY"], order_id),
        "tracking_token",
    )
    # A checklist item by name in the page's language (the names are domain messages).
    app.add_template_filter(
        lambda code: localize(ITEM_NAMES[code]) if code in ITEM_NAMES else str(code),
        "inspection_item",
    )
