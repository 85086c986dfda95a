"""Orders from a CSV file, judged row by row with the same rules as the API.

Columns: external_ref, customer_name, customer_phone, customer_email (optional), address,
lat, lon (optional when a geocoder is configured), delivery_day (YYYY-MM-DD), window
(HH:MM-HH:MM, the depot's local time), items (SKU:quantity, separated by ";").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers import services as customer_services
from app.customers.models import Customer
from app.errors import Conflict, ValidationFailed
from app.fleet.models import Depot
from app.geocoding import Geocoder
from app.messages import Message, say, say_n
from app.orders import services as order_services

REQUIRED = ("customer_name", "address", "delivery_day", "window", "items")
MAX_ROWS = 5000

# What the report calls each column (and the depot, chosen on the page): a person's words
# in their language, in the file's order.
LABELS: dict[str, Message] = {
    "external_ref": say("Shop's order number"),
    "customer_name": say("Customer's name"),
    "customer_phone": say("Customer's phone"),
    "customer_email": say("Customer's e-mail"),
    "address": say("Address"),
    "lat": say("Latitude"),
    "lon": say("Longitude"),
    "delivery_day": say("Delivery day"),
    "window": say("Delivery window"),
    "items": say("Items"),
    "depot": say("Depot"),
    "row": say("The whole row"),
}

# The order rules name fields of the API (``items.0.sku``, ``window_start_at``); a row's
# problems are filed under the column the dispatcher has to fix instead.
_COLUMN_OF_FIELD = {
    "window_start_at": "window",
    "window_end_at": "window",
    "address.lat": "lat",
    "address.lon": "lon",
    "address_id": "address",
    "customer_id": "customer_name",
    "name": "customer_name",
    "email": "customer_email",
    "phone": "customer_phone",
    "depot_id": "depot",
}


def column_of(field_path: str) -> str:
    """The CSV column (a key of LABELS) a problem with the order's ``field_path`` is about."""
    if field_path in _COLUMN_OF_FIELD:
        return _COLUMN_OF_FIELD[field_path]
    head = field_path.split(".", 1)[0]
    if head in LABELS:
        return head
    return _COLUMN_OF_FIELD.get(head, "row")


@dataclass
class RowResult:
    line: int  # as a spreadsheet shows it: the header is line 1
    errors: dict[str, list[str]] = field(default_factory=dict)  # by column (LABELS' keys)
    order_number: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def problems(self) -> list[tuple[Message, list[str]]]:
        """Each column's label and its problems, in the file's column order."""
        return [(label, self.errors[c]) for c, label in LABELS.items() if c in self.errors]

    def add(self, errors: dict[str, list[str]]) -> None:
        """File the order rules' problems under their columns."""
        for field_path, messages in errors.items():
            self.errors.setdefault(column_of(field_path), []).extend(messages)


@dataclass
class ImportReport:
    rows: list[RowResult]
    imported: int

    @property
    def rejected(self) -> list[RowResult]:
        return [r for r in self.rows if not r.ok]


def _parse_row(raw: dict[str, str], depot: Depot) -> tuple[dict[str, object], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    for name in REQUIRED:
        if not (raw.get(name) or "").strip():
            errors.setdefault(name, []).append(say("This column is empty."))
    parsed: dict[str, object] = {}
    try:
        day = date.fromisoformat((raw.get("delivery_day") or "").strip())
        parsed["delivery_day"] = day
    except ValueError:
        errors.setdefault("delivery_day", []).append(
            say("Write the day as YYYY-MM-DD, e.g. 2026-11-25.")
        )
        day = None
    try:
        start_s, end_s = (raw.get("window") or "").replace("–", "-").split("-")
        tz = ZoneInfo(depot.timezone)
        if day is not None:
            parsed["window_start_at"] = datetime.combine(
                day, time.fromisoformat(start_s.strip()), tz
            )
            parsed["window_end_at"] = datetime.combine(day, time.fromisoformat(end_s.strip()), tz)
    except ValueError:
        errors.setdefault("window", []).append(
            say("Write the window as HH:MM-HH:MM, e.g. 18:00-20:00.")
        )
    items = []
    for part in filter(None, (p.strip() for p in (raw.get("items") or "").split(";"))):
        sku, _, qty = part.partition(":")
        if not qty.strip().isdigit():
            errors.setdefault("items", []).append(
                say("'%(part)s': write items as SKU:quantity, e.g. KET-200:1.", part=part)
            )
            continue
        items.append(order_services.ItemRequest(sku=sku.strip(), quantity=int(qty)))
    parsed["items"] = items
    coords: list[float | None] = []
    for name in ("lat", "lon"):
        value = (raw.get(name) or "").strip()
        try:
            coords.append(float(value) if value else None)
        except ValueError:
            errors.setdefault(name, []).append(
                say("'%(value)s' is not a number; write it like 55.75.", value=value)
            )
            coords.append(None)
    parsed["address"] = order_services.AddressRequest(
        line=(raw.get("address") or "").strip(), lat=coords[0], lon=coords[1]
    )
    return parsed, errors


def _customer(session: Session, raw: dict[str, str]) -> Customer:
    email = (raw.get("customer_email") or "").strip().lower() or None
    if email:
        found = session.scalar(select(Customer).where(Customer.email == email))
        if found is not None:
            return found
    return customer_services.create_customer(
        session,
        name=(raw.get("customer_name") or "").strip(),
        email=email,
        phone=(raw.get("customer_phone") or "").strip() or None,
    )


def _apply_row(
    session: Session,
    raw: dict[str, str],
    parsed: dict[str, object],
    depot: Depot,
    now: datetime,
    geocoder: Geocoder,
) -> str:
    customer = _customer(session, raw)
    order = order_services.create_order(
        session,
        customer_id=customer.id,
        depot_id=depot.id,
        now=now,
        geocoder=geocoder,
        external_ref=(raw.get("external_ref") or "").strip() or None,
        **parsed,  # type: ignore[arg-type]
    )
    return order.number


def import_orders(
    session: Session,
    *,
    text: str,
    depot_id: int,
    now: datetime,
    geocoder: Geocoder,
    import_valid_rows: bool = False,
) -> ImportReport:
    """Judge every row; import all of them only if all are valid, or the valid ones if asked.

    Each row is tried inside a SAVEPOINT and rolled back, so the report is complete before
    anything is kept; then the rows to keep are written for real (the caller commits).
    """
    depot = session.get_one(Depot, depot_id)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(
            {
                "file": [
                    say_n(
                        "Missing column: %(columns)s. The first line must name the columns.",
                        "Missing columns: %(columns)s. The first line must name the columns.",
                        len(missing),
                        columns=", ".join(missing),
                    )
                ]
            }
        )
    rows = list(reader)
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(
            {
                "file": [
                    say_n(
                        "At most %(n)s row per file; split it.",
                        "At most %(n)s rows per file; split it.",
                        MAX_ROWS,
                    )
                ]
            }
        )
    results: list[RowResult] = []
    parsed_rows = []
    seen_refs: dict[str, int] = {}
    for n, raw in enumerate(rows, start=2):
        result = RowResult(line=n)
        parsed, errors = _parse_row(raw, depot)
        result.add(errors)
        ref = (raw.get("external_ref") or "").strip()
        if ref and ref in seen_refs:
            result.errors.setdefault("external_ref", []).append(
                say("Also on line %(line)s of this file.", line=str(seen_refs[ref]))
            )
        elif ref:
            seen_refs[ref] = n
        if result.ok:
            savepoint = session.begin_nested()
            try:
                _apply_row(session, raw, parsed, depot, now, geocoder)
            except ValidationFailed as exc:
                result.add(exc.errors)
            except Conflict as exc:
                result.errors.setdefault("external_ref", []).append(exc.message)
            finally:
                savepoint.rollback()
        results.append(result)
        parsed_rows.append((raw, parsed))
    if any(not r.ok for r in results) and not import_valid_rows:
        return ImportReport(results, 0)
    imported = 0
    for result, (raw, parsed) in zip(results, parsed_rows, strict=True):
        if result.ok:
            result.order_number = _apply_row(session, raw, parsed, depot, now, geocoder)
            imported += 1
    session.flush()
    return ImportReport(results, imported)
