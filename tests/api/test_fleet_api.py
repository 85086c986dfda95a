"""Couriers, vehicles and shifts over the API; a courier sees only their own shifts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.fleet.models import Shift
from tests import factories as f


@pytest.fixture
def two_couriers(session, world, make_user):  # type: ignore[no-untyped-def]
    mine_user = make_user("courier")
    mine = f.CourierFactory(depot=world.depot, user_id=mine_user.id, name="Ivan")
    other = f.CourierFactory(depot=world.depot, name="Pyotr")
    f.ShiftFactory(courier=mine)
    f.ShiftFactory(courier=other)
    f.ShiftFactory(
        courier=other,
        starts_at=datetime(2026, 11, 26, 5, tzinfo=UTC),
        ends_at=datetime(2026, 11, 26, 14, tzinfo=UTC),
    )
    session.commit()
    return mine_user, mine, other


def test_courier_gets_only_their_own_shifts_whatever_they_ask(client, two_couriers):
    person, mine, other = two_couriers
    token = client.post(
        "/api/v1/auth/tokens", json={"email": person.email, "password": person.password}
    )
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}

    own = client.get("/api/v1/shifts", headers=headers).get_json()
    sneaky = client.get(f"/api/v1/shifts?courier_id={other.id}", headers=headers).get_json()

    assert [s["courier_id"] for s in own["items"]] == [mine.id]
    assert [s["courier_id"] for s in sneaky["items"]] == [mine.id]


def test_dispatcher_sees_every_shift_and_can_filter(client, two_couriers, api_token):
    _, _, other = two_couriers
    headers = api_token("dispatcher")

    every = client.get("/api/v1/shifts", headers=headers).get_json()
    pyotr = client.get(f"/api/v1/shifts?courier_id={other.id}", headers=headers).get_json()

    assert every["total"] == 3
    assert pyotr["total"] == 2


def test_overlapping_shift_is_refused(client, two_couriers, api_token, session):
    _, mine, _ = two_couriers
    before = session.scalar(select(func.count()).select_from(Shift))

    response = client.post(
        "/api/v1/shifts",
        json={
            "courier_id": mine.id,
            "starts_at": "2026-11-25T10:00:00+03:00",
            "ends_at": "2026-11-25T20:00:00+03:00",
        },
        headers=api_token("dispatcher"),
    )

    assert response.status_code == 422
    assert "already has a shift" in response.get_json()["errors"]["starts_at"][0]
    assert session.scalar(select(func.count()).select_from(Shift)) == before


def test_shift_on_an_out_of_service_vehicle_is_refused(client, world, api_token, session):
    courier = f.CourierFactory(depot=world.depot)
    van = f.VehicleFactory(
        depot=world.depot, in_service=False, out_of_service_reason="brake pads worn"
    )
    session.commit()

    response = client.post(
        "/api/v1/shifts",
        json={
            "courier_id": courier.id,
            "vehicle_id": van.id,
            "starts_at": "2026-11-25T08:00:00+03:00",
            "ends_at": "2026-11-25T17:00:00+03:00",
        },
        headers=api_token("dispatcher"),
    )

    assert response.status_code == 422
    assert "brake pads worn" in response.get_json()["errors"]["vehicle_id"][0]


def test_shift_times_come_back_in_utc(client, world, api_token, session):
    courier = f.CourierFactory(depot=world.depot)
    session.commit()

    response = client.post(
        "/api/v1/shifts",
        json={
            "courier_id": courier.id,
            "starts_at": "2026-11-25T08:00:00+03:00",
            "ends_at": "2026-11-25T17:00:00+03:00",
        },
        headers=api_token("admin"),
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["starts_at"] == "2026-11-25T05:00:00+00:00"


def test_vehicle_and_courier_creation_validate_their_fields(client, world, api_token):
    headers = api_token("dispatcher")

    vehicle = client.post(
        "/api/v1/vehicles",
        headers=headers,
        json={
            "depot_id": world.depot.id,
            "registration": "A1",
            "type": "rocket",
            "capacity_units": 0,
        },
    )
    courier = client.post(
        "/api/v1/couriers", headers=headers, json={"depot_id": 999999, "name": "N", "phone": "+7"}
    )
    good = client.post(
        "/api/v1/vehicles",
        headers=headers,
        json={
            "depot_id": world.depot.id,
            "registration": "a 123 bc",
            "type": "van",
            "capacity_units": 90,
        },
    )

    assert vehicle.status_code == 422
    assert {"type", "capacity_units"} <= set(vehicle.get_json()["errors"])
    assert courier.status_code == 422
    assert "no depot 999999" in courier.get_json()["errors"]["depot_id"][0]
    assert good.status_code == 201
    assert good.get_json()["registration"] == "A 123 BC"


def test_revoked_or_unknown_token_is_401(client, engine):
    response = client.get("/api/v1/couriers", headers={"Authorization": "Bearer rt_nope"})

    assert response.status_code == 401
    assert "unknown or revoked" in response.get_json()["detail"]


def test_wrong_password_gets_no_token(client, make_user):
    person = make_user("dispatcher")

    response = client.post(
        "/api/v1/auth/tokens", json={"email": person.email, "password": "wrong-password"}
    )

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
