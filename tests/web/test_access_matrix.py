"""O3: every role against every area, pages and API, from one table written out by hand."""

from __future__ import annotations

import pytest

AREAS = ["/admin/", "/dispatcher/", "/support/", "/courier/", "/portal/"]

# role -> the areas it may open; every other area must answer 403.
ALLOWED = {
    "admin": {"/admin/", "/dispatcher/", "/support/"},
    "dispatcher": {"/dispatcher/"},
    "support": {"/support/"},
    "courier": {"/courier/"},
    "customer": {"/portal/"},
}

MATRIX = [(role, area) for role in ALLOWED for area in AREAS]


@pytest.mark.parametrize(("role", "area"), MATRIX, ids=[f"{r}-{a.strip('/')}" for r, a in MATRIX])
def test_role_against_area(client, login_as, role, area):
    login_as(role)

    response = client.get(area)

    if area in ALLOWED[role]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        page = response.get_data(as_text=True)
        assert "This page is for" in page
        assert "Go to your page" in page


@pytest.mark.parametrize("area", AREAS)
def test_anonymous_visitor_is_sent_to_sign_in(client, area, engine):
    response = client.get(area)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# (method, path, roles allowed). Body-less POSTs still reach the role check first.
API_MATRIX = [
    ("GET", "/api/v1/orders", {"admin", "dispatcher", "support", "customer"}),
    ("POST", "/api/v1/orders", {"admin", "dispatcher"}),
    ("GET", "/api/v1/customers", {"admin", "dispatcher", "support"}),
    ("GET", "/api/v1/couriers", {"admin", "dispatcher"}),
    ("GET", "/api/v1/vehicles", {"admin", "dispatcher"}),
    ("GET", "/api/v1/shifts", {"admin", "dispatcher", "courier"}),
    ("POST", "/api/v1/shifts", {"admin", "dispatcher"}),
]
API_CASES = [(role, m, p, role in ok) for m, p, ok in API_MATRIX for role in ALLOWED]


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    API_CASES,
    ids=[f"{r}-{m}-{p.rsplit('/', 1)[1]}" for r, m, p, _ in API_CASES],
)
def test_role_against_api(client, api_token, role, method, path, allowed):
    response = client.open(path, method=method, headers=api_token(role), json={})

    if allowed:
        assert response.status_code in (200, 422)  # 422: the empty body, after the role check
    else:
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(("method", "path", "_"), API_MATRIX)
def test_anonymous_api_call_is_401_problem(client, method, path, _, engine):
    response = client.open(path, method=method, json={})

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    assert (body["status"], body["title"]) == (401, "Unauthorized")
    assert "Bearer" in body["detail"]
