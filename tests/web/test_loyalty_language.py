"""What the ledger and the CSV import write for people, read in the reader's language (O4).

The system's reasons are stored whole (msgid and parameters), so one entry reads in Russian
to a Russian reader and in English to an English one; the import report names the column
to fix in words, never an order field such as ``items.0.sku``.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from loyalty import services
from tests.conftest import csrf_token, sign_in

RU = {"Accept-Language": "ru"}
EN = {"Accept-Language": "en"}
NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.fixture
def bilingual(app):  # type: ignore[no-untyped-def]
    """The app offering Russian and English, Russian first (the shop in Moscow)."""
    app.config["LANGUAGES"] = ("ru", "en")
    return app


@pytest.fixture
def member(session, world, make_user, clock):  # type: ignore[no-untyped-def]
    """A customer whose points the system wrote: 50 earned 400 days ago (expired now) and
    21 earned today."""
    clock(NOW)
    person = make_user("customer")
    world.customer.user_id = person.id
    old = NOW - timedelta(days=400)  # 16 October 2025
    for key, order, total, at in (("e1", "RT-OLD1", 1_000_00, old), ("e2", "RT-NEW2", 420_00, NOW)):
        services.earn_for_delivery(
            session,
            customer_id=world.customer.id,
            order_id=int(key[1]),
            order_ref=order,
            order_total_minor=total,
            now=at,
            key=key,
        )
    services.expire(session, customer_id=world.customer.id, now=NOW)
    session.commit()
    return person


def test_the_customer_reads_the_systems_reasons_in_russian(bilingual, client, member):
    sign_in(client, member)

    page = client.get("/portal/points", headers=RU).get_data(as_text=True)

    assert "21 балл за доставленный заказ RT-NEW2" in page
    assert (
        "50 неиспользованных баллов, начисленных 16 октября 2025, сгорели "
        "(50 баллов за доставленный заказ RT-OLD1)"
    ) in page
    assert "for order" not in page


def test_the_same_entries_read_in_english(bilingual, client, member):
    sign_in(client, member)

    page = client.get("/portal/points", headers=EN).get_data(as_text=True)

    assert "21 points for order RT-NEW2, delivered" in page
    assert (
        "50 unused points from 16 October 2025 expired (50 points for order RT-OLD1, delivered)"
    ) in page


def test_the_api_gives_the_reason_in_the_callers_language_next_to_the_kind(
    bilingual, client, member, world
):
    token = client.post(
        "/api/v1/auth/tokens", json={"email": member.email, "password": member.password}
    ).get_json()["token"]
    url = f"/api/v1/customers/{world.customer.id}/points/history"
    auth = {"Authorization": f"Bearer {token}"}

    russian = client.get(url, headers={**auth, **RU}).get_json()["items"]
    english = client.get(url, headers={**auth, **EN}).get_json()["items"]

    assert [e["kind"] for e in russian] == [e["kind"] for e in english]
    earned = next(e for e in russian if e["points"] == 21)
    assert earned["reason"] == "21 балл за доставленный заказ RT-NEW2"
    assert next(e for e in english if e["points"] == 21)["reason"] == (
        "21 points for order RT-NEW2, delivered"
    )


HEADER = (
    "external_ref,customer_name,customer_phone,customer_email,address,lat,lon,"
    "delivery_day,window,items\n"
)
ROWS = (
    "shop-1,Olga,+7 900 1,,Arbat 10,55.75,37.59,2030-01-15,09:00-11:00,KET-1:1\n"  # no window
    "shop-2,Ivan,+7 900 2,,Arbat 12,55.75,37.59,2030-01-15,08:00-10:00,NOPE:1\n"  # no product
)


def post_import(client, world, headers):  # type: ignore[no-untyped-def]
    form = client.get("/dispatcher/import", headers=headers).get_data(as_text=True)
    return client.post(
        "/dispatcher/import",
        data={
            "csrf_token": csrf_token(form),
            "depot_id": str(world.depot.id),
            "file": (io.BytesIO((HEADER + ROWS).encode()), "orders.csv"),
        },
        content_type="multipart/form-data",
        headers=headers,
    ).get_data(as_text=True)


def test_import_problems_name_the_column_in_russian(bilingual, client, world, login_as, clock):
    clock(datetime(2029, 12, 1, tzinfo=UTC))
    login_as("dispatcher")

    page = post_import(client, world, RU)

    assert "<strong>Окно доставки</strong>: У этого склада нет окна 09:00–11:00" in page
    assert "<strong>Товары</strong>: Товара с артикулом «NOPE» нет." in page
    for code in ("items.0.sku", "window_start_at", "There is no product"):
        assert code not in page


def test_import_problems_name_the_column_in_english(bilingual, client, world, login_as, clock):
    clock(datetime(2029, 12, 1, tzinfo=UTC))
    login_as("dispatcher")

    page = post_import(client, world, EN)

    assert "<strong>Delivery window</strong>: This depot offers no window 09:00–11:00" in page
    assert "<strong>Items</strong>: There is no product with SKU &#39;NOPE&#39;." in page
    for code in ("items.0.sku", "window_start_at"):
        assert code not in page
