"""The roles people have (kept free of SQLAlchemy so the CLI can name them cheaply)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    COURIER = "courier"
    SUPPORT = "support"
    CUSTOMER = "customer"
