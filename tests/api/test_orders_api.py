"""POST/GET /api/v1/orders: valid orders are saved whole; bad input names the problem and
leaves the database exactly as it was."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog.models import Lot
from app.customers.models import Address, Customer
from app.orders.models import Order, OrderItem

DAY = "2030-01-15"  # far enough ahead that every cut-off is still open
PROBLEM = "application/problem+json"


def payload(world: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "customer_id": world.customer.id,
        "address_id": world.address.id,
        "delivery_day": DAY,
        "window_start_at": f"{DAY}T08:00:00+03:00",
        "window_end_at": f"{DAY}T10:00:00+03:00",
        "items": [{"sku": "KET-1", "quantity": 2}, {"sku": "COF-1", "quantity": 1}],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def row_counts(session: Session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Order, OrderItem, Address, Customer)
    )


@pytest.fixture
def dispatcher(api_token):  # type: ignore[no-untyped-def]
    return api_token("dispatcher")


def test_valid_order_is_saved_with_prices_and_total(client, world, dispatcher, session):
    response = client.post("/api/v1/orders", json=payload(world), headers=dispatcher)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["number"].startswith("RT-")
    assert body["window_local"] == "08:00–10:00"
    assert body["window_start_at"] == "2030-01-15T05:00:00+00:00"
    assert body["total_minor"] == 2 * 3_499_00 + 650_50
    assert [(i["sku"], i["quantity"], i["lot_code"]) for i in body["items"]] == [
        ("KET-1", 2, "KET-OLD"),
        ("COF-1", 1, None),
    ]
    saved = session.get(Order, body["id"])
    assert saved is not None
    assert saved.total_minor == body["total_minor"]


def test_blocked_lot_is_skipped_for_the_next_one(client, world, dispatcher, session):
    """First in, first out among lots that are not blocked."""
    old = session.scalar(select(Lot).where(Lot.code == "KET-OLD"))
    old.blocked, old.blocked_reason = True, "cracked lids"
    session.add(
        Lot(
            product=world.kettle,
            code="KET-NEW",
            supplier="Volga Trade",
            received_at=old.received_at.replace(year=2027),
        )
    )
    session.commit()

    response = client.post("/api/v1/orders", json=payload(world), headers=dispatcher)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["items"][0]["lot_code"] == "KET-NEW"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"customer_id": None}, "customer_id", "Missing data"),
        ({"items": None}, "items", "Missing data"),
        ({"items": []}, "items", "Shorter than minimum"),
        (
            {
                "window_start_at": f"{DAY}T23:00:00+03:00",
                "window_end_at": "2030-01-16T01:00:00+03:00",
            },
            "window_end_at",
            "within the delivery day",
        ),
        (
            {
                "window_start_at": "2030-01-14T08:00:00+03:00",
                "window_end_at": "2030-01-14T10:00:00+03:00",
            },
            "window_start_at",
            "within the delivery day",
        ),
        (
            {"window_start_at": f"{DAY}T09:00:00+03:00", "window_end_at": f"{DAY}T11:00:00+03:00"},
            "window_start_at",
            "windows offered are: 08:00–10:00, 20:00–22:00",
        ),
        ({"window_start_at": f"{DAY}T08:00:00"}, "window_start_at", "aware"),
        ({"items": [{"sku": "NOPE", "quantity": 1}]}, "items.0.sku", "no product with SKU 'NOPE'"),
        ({"items": [{"sku": "KET-1", "quantity": 0}]}, "items.0.quantity", "greater than or equal"),
        ({"customer_id": 999999}, "customer_id", "no customer 999999"),
        ({"address_id": 999999}, "address_id", "has no address 999999"),
        ({"surprise": 1}, "surprise", "Unknown field"),
    ],
)
def test_bad_order_names_the_field_and_saves_nothing(
    client, world, dispatcher, session, overrides, field, words
):
    before = row_counts(session)

    response = client.post("/api/v1/orders", json=payload(world, **overrides), headers=dispatcher)

    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert field in body["errors"], body
    assert words in " ".join(body["errors"][field])
    assert words in body["detail"]  # a person's sentence; the field is for programs
    assert row_counts(session) == before


def test_several_problems_are_reported_together(client, world, dispatcher, session):
    before = row_counts(session)
    body = payload(
        world,
        window_start_at=f"{DAY}T23:00:00+03:00",
        window_end_at="2030-01-16T01:00:00+03:00",
        items=[{"sku": "NOPE", "quantity": 1}],
    )

    response = client.post("/api/v1/orders", json=body, headers=dispatcher)

    assert response.status_code == 422
    assert {"window_end_at", "items.0.sku"} <= set(response.get_json()["errors"])
    assert row_counts(session) == before


def test_malformed_json_is_a_400_problem(client, world, dispatcher, session):
    before = row_counts(session)

    response = client.post(
        "/api/v1/orders",
        data='{"customer_id": 1,',
        headers=dispatcher,
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.mimetype == PROBLEM
    assert "not valid JSON" in response.get_json()["detail"]
    assert row_counts(session) == before


def test_cut_off_passed_explains_when_it_closed(client, world, dispatcher, session):
    before = row_counts(session)
    body = payload(
        world,
        delivery_day="2020-01-15",
        window_start_at="2020-01-15T08:00:00+03:00",
        window_end_at="2020-01-15T10:00:00+03:00",
    )

    response = client.post("/api/v1/orders", json=body, headers=dispatcher)

    assert response.status_code == 422
    message = " ".join(response.get_json()["errors"]["window_start_at"])
    assert "closed at 14 January 2020, 23:30" in message  # depot time
    assert row_counts(session) == before


def test_every_lot_blocked_means_it_cannot_ship(client, world, dispatcher, session):
    lot = session.scalar(select(Lot).where(Lot.code == "KET-OLD"))
    lot.blocked, lot.blocked_reason = True, "supplier recall"
    session.commit()
    before = row_counts(session)

    response = client.post("/api/v1/orders", json=payload(world), headers=dispatcher)

    assert response.status_code == 422
    assert "blocked" in " ".join(response.get_json()["errors"]["items.0.sku"])
    assert row_counts(session) == before


def test_new_address_with_coordinates_is_saved_with_the_order(client, world, dispatcher, session):
    body = payload(
        world,
        address_id=None,
        address={"line": "ul. Arbat 10, Moscow", "lat": 55.7494, "lon": 37.5916},
    )

    response = client.post("/api/v1/orders", json=body, headers=dispatcher)

    assert response.status_code == 201, response.get_json()
    address = response.get_json()["address"]
    assert (address["line"], address["coordinate_source"]) == ("ul. Arbat 10, Moscow", "given")


def test_address_without_coordinates_and_no_geocoder_is_refused(client, world, dispatcher, session):
    before = row_counts(session)
    body = payload(world, address_id=None, address={"line": "ul. Arbat 10, Moscow"})

    response = client.post("/api/v1/orders", json=body, headers=dispatcher)

    assert response.status_code == 422
    assert "No geocoder is configured" in " ".join(response.get_json()["errors"]["address"])
    assert row_counts(session) == before


def test_address_is_geocoded_by_the_configured_provider(
    client, app, world, dispatcher, monkeypatch
):
    """The geocoding service lies outside this machine, so it is the one thing we fake."""
    from geopy.location import Location
    from geopy.point import Point

    class FakeNominatim:
        def __init__(self, user_agent: str) -> None:
            self.user_agent = user_agent

        def geocode(self, line: str, timeout: int) -> Location:
            return Location(line, Point(55.75, 37.61), {})

    monkeypatch.setattr("geopy.geocoders.Nominatim", FakeNominatim)
    app.config["GEOCODER"] = "nominatim"
    body = payload(world, address_id=None, address={"line": "Red Square 1, Moscow"})

    response = client.post("/api/v1/orders", json=body, headers=dispatcher)

    assert response.status_code == 201, response.get_json()
    address = response.get_json()["address"]
    assert (address["lat"], address["lon"], address["coordinate_source"]) == (
        55.75,
        37.61,
        "geocoded",
    )


def test_repeated_external_ref_is_a_conflict(client, world, dispatcher, session):
    first = client.post(
        "/api/v1/orders", json=payload(world, external_ref="shop-42"), headers=dispatcher
    )
    assert first.status_code == 201
    before = row_counts(session)

    again = client.post(
        "/api/v1/orders", json=payload(world, external_ref="shop-42"), headers=dispatcher
    )

    assert again.status_code == 409
    assert first.get_json()["number"] in again.get_json()["detail"]
    assert row_counts(session) == before


def test_list_filters_and_paginates(client, world, dispatcher):
    for start, end in (("08:00", "10:00"), ("20:00", "22:00"), ("20:00", "22:00")):
        created = client.post(
            "/api/v1/orders",
            json=payload(
                world,
                window_start_at=f"{DAY}T{start}:00+03:00",
                window_end_at=f"{DAY}T{end}:00+03:00",
            ),
            headers=dispatcher,
        )
        assert created.status_code == 201

    page1 = client.get(f"/api/v1/orders?delivery_day={DAY}&page_size=2", headers=dispatcher)
    page2 = client.get(f"/api/v1/orders?delivery_day={DAY}&page_size=2&page=2", headers=dispatcher)
    other_day = client.get("/api/v1/orders?delivery_day=2031-01-01", headers=dispatcher)

    assert (page1.get_json()["total"], page1.get_json()["pages"]) == (3, 2)
    windows = [o["window_local"] for o in page1.get_json()["items"] + page2.get_json()["items"]]
    assert windows == ["08:00–10:00", "20:00–22:00", "20:00–22:00"]
    assert other_day.get_json()["total"] == 0


def test_bad_filter_is_a_422_naming_it(client, dispatcher):
    response = client.get("/api/v1/orders?status=lost&page_size=0", headers=dispatcher)

    assert response.status_code == 422
    assert {"status", "page_size"} <= set(response.get_json()["errors"])


def test_customer_sees_only_their_own_orders(client, world, dispatcher, session, make_user):
    created = client.post("/api/v1/orders", json=payload(world), headers=dispatcher)
    assert created.status_code == 201
    person = make_user("customer")
    session.add(Customer(name="Other", user_id=person.id))
    session.commit()
    token = client.post(
        "/api/v1/auth/tokens", json={"email": person.email, "password": person.password}
    )
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}

    listed = client.get(f"/api/v1/orders?customer_id={world.customer.id}", headers=headers)
    fetched = client.get(f"/api/v1/orders/{created.get_json()['id']}", headers=headers)

    assert listed.status_code == 200
    assert listed.get_json()["total"] == 0
    assert fetched.status_code == 404
    assert fetched.mimetype == PROBLEM


def test_courier_may_not_create_orders(client, world, api_token, session):
    before = row_counts(session)

    response = client.post("/api/v1/orders", json=payload(world), headers=api_token("courier"))

    assert response.status_code == 403
    assert response.mimetype == PROBLEM
    assert "courier" in response.get_json()["detail"]
    assert row_counts(session) == before
