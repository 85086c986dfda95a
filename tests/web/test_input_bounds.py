"""Inputs are never silently misread: out-of-range values get a 4xx or a form message naming
the field, on SQLite and PostgreSQL alike (PostgreSQL's integer overflows at 2^31)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from loyalty.models import LedgerEntry
from tests.conftest import csrf_token

PROBLEM = "application/problem+json"


@pytest.fixture
def staff(api_token):  # type: ignore[no-untyped-def]
    return api_token("dispatcher")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=100000000000000000000", "page"),
        ("page=0", "page"),
        ("page_size=201", "page_size"),
        ("page=1.5", "page"),
        ("customer_id=99999999999", "customer_id"),
        ("depot_id=-1", "depot_id"),
        ("delivery_day=9999-12-31", "delivery_day"),
        ("delivery_day=0001-01-01", "delivery_day"),
    ],
)
def test_api_query_out_of_range_is_a_problem_naming_the_field(client, world, staff, query, field):
    response = client.get(f"/api/v1/orders?{query}", headers=staff)

    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("path", ["/api/v1/orders/99999999999", "/api/v1/orders/0"])
def test_api_path_id_beyond_any_row_is_not_found(client, world, staff, path):
    response = client.get(path, headers=staff)

    assert response.status_code == 404
    assert response.mimetype == PROBLEM


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A\x00B"}, "name"),
        ({"name": "Lone \ud800 surrogate"}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Ann", "email": "a" * 250 + "@example.org"}, "email"),
    ],
)
def test_api_text_that_no_column_can_store_is_refused(client, world, staff, body, field):
    response = client.post("/api/v1/customers", json=body, headers=staff)

    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["errors"]


def test_api_json_float_is_not_cut_to_an_integer(client, world, staff):
    response = client.post(
        "/api/v1/vehicles",
        json={
            "depot_id": world.depot.id,
            "registration": "A1",
            "type": "car",
            "capacity_units": 1.5,
        },
        headers=staff,
    )

    assert response.status_code == 422
    assert "capacity_units" in response.get_json()["errors"]


def test_api_shift_longer_than_a_working_day_is_refused(client, world, staff):
    response = client.post(
        "/api/v1/shifts",
        json={
            "courier_id": 1,
            "starts_at": "2030-01-15T08:00:00+03:00",
            "ends_at": "2030-01-16T08:00:00+03:00",
        },
        headers=staff,
    )

    assert response.status_code == 422
    assert "ends_at" in response.get_json()["errors"]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-13-01", "x\x00"])
def test_dispatcher_day_out_of_range_says_so_and_shows_tomorrow(client, world, login_as, day):
    login_as("dispatcher")

    response = client.get("/dispatcher/", query_string={"day": day})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "showing" in page


@pytest.mark.parametrize("q", ["99999999999", "²", "a\x00b", "x" * 300])
def test_support_search_with_odd_input_answers(client, world, login_as, q):
    login_as("support")

    response = client.get("/support/", query_string={"q": q})

    assert response.status_code == 200


def test_support_page_id_beyond_any_row_is_not_found(client, world, login_as):
    login_as("support")

    assert client.get("/support/customers/99999999999").status_code == 404
    assert client.get("/support/customers/99999999999/points").status_code == 404


def _adjust(client, url, points, reason="Goodwill", confirmed=False):  # type: ignore[no-untyped-def]
    form = client.get(url).get_data(as_text=True)
    data = {
        "points": points,
        "reason": reason,
        "csrf_token": csrf_token(form),
        "token": form.split('name="token" type="hidden" value="')[1].split('"')[0],
    }
    if confirmed:
        data["confirmed"] = "y"
    return client.post(url, data=data)


def _entries(session, customer_id):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
    )


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ("0", "at least 1 point"),
        ("1.5", "whole number"),
        ("abc", "whole number"),
        ("", "Enter the points"),
        ("99999999999999999999", "whole number"),
        ("20000", "at most 10,000 points"),
    ],
)
def test_support_points_form_says_what_is_wrong(client, session, world, login_as, points, message):
    login_as("support")
    url = f"/support/customers/{world.customer.id}/points"

    response = _adjust(client, url, points)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _entries(session, world.customer.id) == 0


def test_support_large_adjustment_asks_for_confirmation_and_records_who(
    client, session, world, login_as
):
    agent = login_as("support")
    url = f"/support/customers/{world.customer.id}/points"

    asked = _adjust(client, url, "5000")
    assert asked.status_code == 200
    assert f"Add 5,000 points to {world.customer.name}?" in asked.get_data(as_text=True)
    assert _entries(session, world.customer.id) == 0

    saved = _adjust(client, url, "5000", confirmed=True)

    assert saved.status_code == 302
    entry = session.scalars(select(LedgerEntry)).one()
    assert (entry.points, entry.created_by_user_id) == (5000, agent.id)
    ledger = client.get(url).get_data(as_text=True)
    assert 'data-testid="actor">Test Support<' in ledger


def test_every_integer_in_a_url_has_a_bound_the_product_chose(app):
    """An id past 2^31 must be a 404, not a PostgreSQL overflow: every <int:...> in every
    rule (pages and API) carries the product's bounds."""
    from werkzeug.routing import IntegerConverter

    unbounded = [
        f"{rule.rule} ({name})"
        for rule in app.url_map.iter_rules()
        for name, converter in (rule._converters or {}).items()
        if isinstance(converter, IntegerConverter) and converter.max is None
    ]

    assert unbounded == []
