"""CSV import: every row judged like an API order; a file with bad rows imports nothing
unless the dispatcher asks for the valid rows."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.geocoding import NoGeocoder
from app.orders import csv_import
from app.orders.models import Order
from tests.conftest import csrf_token

NOW = datetime(2029, 12, 1, tzinfo=UTC)
HEADER = "external_ref,customer_name,customer_phone,customer_email,address,lat,lon,delivery_day,window,items\n"
GOOD = [
    "shop-1,Olga,+7 900 1,olga@example.org,Tverskaya 7,55.76,37.60,2030-01-15,08:00-10:00,KET-1:1\n",
    "shop-2,Olga,+7 900 1,olga@example.org,Arbat 10,55.75,37.59,2030-01-15,20:00-22:00,COF-1:2;KET-1:1\n",
]
BAD = [
    "shop-3,Ivan,+7 900 2,,Arbat 12,55.75,37.59,2030-01-15,09:00-11:00,KET-1:1\n",  # no such window
    "shop-4,Ivan,+7 900 2,,Arbat 12,north,37.59,2030-01-15,08:00-10:00,NOPE:1\n",  # lat, sku
    "shop-1,Petr,+7 900 3,,Lenina 1,55.70,37.50,15.01.2030,08:00-10:00,KET-1:x\n",  # 3 problems
]


def orders(session) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Order))


def run(session, world, lines, **kw):  # type: ignore[no-untyped-def]
    return csv_import.import_orders(
        session,
        text=HEADER + "".join(lines),
        depot_id=world.depot.id,
        now=NOW,
        geocoder=NoGeocoder(),
        **kw,
    )


def test_bad_rows_are_reported_row_by_row_and_nothing_is_saved(session, world):
    before = orders(session)

    report = run(session, world, GOOD + BAD)

    assert report.imported == 0
    assert orders(session) == before
    assert [r.line for r in report.rejected] == [4, 5, 6]
    by_line = {r.line: r.errors for r in report.rejected}
    assert "window" in by_line[4]  # the column to fix, not the order's field
    assert {"lat"} <= set(by_line[5])
    assert {"delivery_day", "items", "external_ref"} <= set(by_line[6])
    assert "Also on line 2" in by_line[6]["external_ref"][0]


def test_the_dispatcher_may_import_just_the_valid_rows(session, world):
    report = run(session, world, GOOD + BAD, import_valid_rows=True)

    assert report.imported == 2
    numbers = session.scalars(select(Order.external_ref).order_by(Order.external_ref)).all()
    assert numbers == ["shop-1", "shop-2"]
    assert len({r.order_number for r in report.rows if r.ok}) == 2


def test_a_clean_file_imports_everything_with_one_customer_per_email(session, world):
    report = run(session, world, GOOD)

    assert (report.imported, report.rejected) == (2, [])
    customers = session.scalars(
        select(Order.customer_id).where(Order.external_ref.in_(["shop-1", "shop-2"]))
    ).all()
    assert len(set(customers)) == 1


def test_the_page_shows_the_report_and_says_what_to_do(client, session, world, login_as):
    login_as("dispatcher")
    page = client.get("/dispatcher/import").get_data(as_text=True)
    before = orders(session)

    response = client.post(
        "/dispatcher/import",
        data={
            "csrf_token": csrf_token(page),
            "depot_id": str(world.depot.id),
            "file": (io.BytesIO((HEADER + "".join(GOOD + BAD)).encode()), "orders.csv"),
        },
        content_type="multipart/form-data",
    )

    text = response.get_data(as_text=True)
    assert "Nothing was imported: 3 of 5 rows have problems" in text
    assert "import the 2 valid rows" in text
    assert orders(session) == before


def test_a_file_without_the_columns_is_refused_plainly(client, world, login_as):
    login_as("dispatcher")
    page = client.get("/dispatcher/import").get_data(as_text=True)

    response = client.post(
        "/dispatcher/import",
        data={
            "csrf_token": csrf_token(page),
            "depot_id": str(world.depot.id),
            "file": (io.BytesIO(b"name;phone\nOlga;1\n"), "orders.csv"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "Missing columns" in response.get_data(as_text=True)
