"""Jinja filters: money from minor units, times in the place's own time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

CURRENCY_SIGNS = {"RUB": "₽", "EUR": "€", "USD": "$"}


def money(amount_minor: int, currency: str = "RUB") -> str:
    major, minor = divmod(abs(amount_minor), 100)
    sign = "-" if amount_minor < 0 else ""
    grouped = f"{major:,}".replace(",", "\u202f")
    return f"{sign}{grouped}.{minor:02d} {CURRENCY_SIGNS.get(currency, currency)}"


def local_time(moment: datetime, tz: str | ZoneInfo, fmt: str = "%H:%M") -> str:
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return moment.astimezone(zone).strftime(fmt)


def init_app(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(local_time, "local_time")
