"""Dispatchers manage couriers, vehicles and shifts (D2): each page for planners only, bad
input answered on the form with nothing saved, and no double-booked courier or vehicle."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.fleet.models import Courier, Shift, Vehicle
from tests import factories as f
from tests.conftest import csrf_token, sign_in

MORNING = datetime(2030, 1, 14, 9, tzinfo=UTC)


@pytest.fixture
def desk(client, login_as, clock, world):  # type: ignore[no-untyped-def]
    clock(MORNING)
    login_as("dispatcher")
    return client


def post(client, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={**data, "csrf_token": csrf_token(page)})


@pytest.mark.parametrize(
    ("role", "expected"), [("dispatcher", 200), ("admin", 200), ("courier", 403), ("support", 403)]
)
@pytest.mark.parametrize("page", ["couriers", "vehicles", "shifts"])
def test_fleet_pages_are_for_planners(client, login_as, world, role, expected, page):
    login_as(role)

    assert client.get(f"/dispatcher/fleet/{page}").status_code == expected


def test_a_courier_is_added_and_linked_to_the_person_who_signs_in(desk, session, world, make_user):
    person = make_user("courier")

    added = post(
        desk,
        "/dispatcher/fleet/couriers",
        {
            "depot_id": world.depot.id,
            "name": "Pavel Petrov",
            "phone": "+7 900 000 00 01",
            "skills": "Heavy, cold_chain",
            "user_id": 0,
        },
    )
    assert added.status_code == 302
    courier = session.scalar(select(Courier).where(Courier.name == "Pavel Petrov"))
    assert (courier.skills, courier.user_id) == (["cold_chain", "heavy"], None)

    page = desk.get("/dispatcher/fleet/couriers").get_data(as_text=True)
    linked = desk.post(
        f"/dispatcher/fleet/couriers/{courier.id}/link",
        data={f"c{courier.id}-user_id": person.id, f"c{courier.id}-csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "route now shows on their phone" in linked.get_data(as_text=True)
    session.expire_all()
    assert courier.user_id == person.id


def test_a_person_who_is_not_a_courier_cannot_be_linked(desk, session, world, make_user):
    courier = f.CourierFactory(depot=world.depot)
    clerk = make_user("support")
    session.commit()
    page = desk.get("/dispatcher/fleet/couriers").get_data(as_text=True)

    shown = desk.post(
        f"/dispatcher/fleet/couriers/{courier.id}/link",
        data={f"c{courier.id}-user_id": clerk.id, f"c{courier.id}-csrf_token": csrf_token(page)},
        follow_redirects=True,
    ).get_data(as_text=True)

    assert "Nothing was changed" in shown
    session.expire_all()
    assert courier.user_id is None


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("capacity_units", "lots", "Enter a whole number such as 50"),
        ("capacity_units", "0", "Number must be between 1 and 100000"),
        ("registration", "", "This field is required"),
        ("skills", "cold chain!", "Skills are short words"),
    ],
)
def test_a_bad_vehicle_is_answered_on_the_form_and_nothing_saved(
    desk, session, world, field, value, says
):
    data = {
        "depot_id": world.depot.id,
        "registration": "A123BC77",
        "type": "van",
        "capacity_units": "80",
        "skills": "",
        field: value,
    }

    refused = post(desk, "/dispatcher/fleet/vehicles", data)

    assert refused.status_code == 400
    assert says in refused.get_data(as_text=True)
    assert session.scalars(select(Vehicle)).all() == []


def test_a_vehicle_out_of_service_says_why_and_comes_back(desk, session, world):
    van = f.VehicleFactory(depot=world.depot, registration="B777OP77")
    session.commit()

    out = post(
        desk, f"/dispatcher/fleet/vehicles/{van.id}/out-of-service", {"reason": "Brakes squeal"}
    )
    assert out.status_code == 302
    session.expire_all()
    assert (van.in_service, van.out_of_service_reason) == (False, "Brakes squeal")
    page = desk.get("/dispatcher/fleet/vehicles").get_data(as_text=True)
    assert "Out of service: Brakes squeal" in page

    back = desk.post(
        f"/dispatcher/fleet/vehicles/{van.id}/in-service", data={"csrf_token": csrf_token(page)}
    )
    assert back.status_code == 302
    session.expire_all()
    assert (van.in_service, van.out_of_service_reason) == (True, None)


def shift_form(courier, vehicle, **changes: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "courier_id": courier.id,
        "vehicle_id": vehicle.id,
        "day": "2030-01-15",
        "starts": "08:00",
        "ends": "17:00",
        "break_minutes": "",
        "break_from": "",
        "break_until": "",
        **changes,
    }


def test_a_long_shift_gets_a_break_in_its_middle_unless_one_is_given(desk, session, world):
    ivan, olga = f.CourierFactory(depot=world.depot), f.CourierFactory(depot=world.depot)
    car, van = f.VehicleFactory(depot=world.depot), f.VehicleFactory(depot=world.depot)
    session.commit()

    assert post(desk, "/dispatcher/fleet/shifts", shift_form(ivan, car)).status_code == 302
    given = shift_form(olga, van, break_minutes="45", break_from="13:00", break_until="14:30")
    assert post(desk, "/dispatcher/fleet/shifts", given).status_code == 302

    by_courier = {s.courier_id: s for s in session.scalars(select(Shift))}
    # 08:00-17:00 in Moscow: the middle is 12:30, so 11:30-13:30 local, 08:30-10:30 UTC.
    default = by_courier[ivan.id]
    assert (default.break_minutes, default.break_from_at, default.break_until_at) == (
        30,
        datetime(2030, 1, 15, 8, 30, tzinfo=UTC),
        datetime(2030, 1, 15, 10, 30, tzinfo=UTC),
    )
    assert by_courier[olga.id].break_minutes == 45
    page = desk.get("/dispatcher/fleet/shifts?day=2030-01-15").get_data(as_text=True)
    assert "45 min between 13:00 and 14:30" in page


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"ends": "07:00"}, "A shift must end after it starts."),
        (
            {"break_minutes": "10", "break_from": "12:00", "break_until": "13:00"},
            "A break is from 30",
        ),
        (
            {"break_minutes": "30", "break_from": "18:00", "break_until": "19:00"},
            "inside the shift",
        ),
        (
            {"break_minutes": "60", "break_from": "12:00", "break_until": "12:30"},
            "at least as long",
        ),
        ({"break_minutes": "30"}, "leave all three empty"),
        ({"starts": "25:00"}, "Not a valid time value"),
    ],
)
def test_a_bad_shift_is_answered_on_the_form_and_nothing_saved(desk, session, world, changes, says):
    ivan, car = f.CourierFactory(depot=world.depot), f.VehicleFactory(depot=world.depot)
    session.commit()

    refused = post(desk, "/dispatcher/fleet/shifts", shift_form(ivan, car, **changes))

    assert refused.status_code == 400
    assert says in refused.get_data(as_text=True)
    assert session.scalars(select(Shift)).all() == []


def test_neither_a_courier_nor_a_vehicle_is_booked_twice(desk, session, world):
    ivan, olga = (
        f.CourierFactory(depot=world.depot, name="Ivan"),
        f.CourierFactory(depot=world.depot),
    )
    car, van = (
        f.VehicleFactory(depot=world.depot, registration="C001CC77"),
        f.VehicleFactory(depot=world.depot),
    )
    session.commit()
    assert post(desk, "/dispatcher/fleet/shifts", shift_form(ivan, car)).status_code == 302

    same_car = post(desk, "/dispatcher/fleet/shifts", shift_form(olga, car, starts="16:00"))
    same_courier = post(
        desk, "/dispatcher/fleet/shifts", shift_form(ivan, van, starts="12:00", ends="20:00")
    )

    assert same_car.status_code == 400
    assert "C001CC77 is already out with Ivan at that time" in same_car.get_data(as_text=True)
    assert same_courier.status_code == 400
    assert "Ivan already has a shift at that time" in same_courier.get_data(as_text=True)
    assert len(session.scalars(select(Shift)).all()) == 1


def test_the_fleet_pages_speak_russian(app, client, login_as, world):
    app.config["LANGUAGES"] = ("ru", "en")
    login_as("dispatcher")

    page = client.get("/dispatcher/fleet/shifts", headers={"Accept-Language": "ru"}).get_data(
        as_text=True
    )

    assert "Смены" in page
    assert "Add a shift" not in page


def test_a_courier_signed_in_sees_no_fleet_page(client, make_user, world):
    sign_in(client, make_user("courier"))

    assert client.get("/dispatcher/fleet/couriers").status_code == 403
