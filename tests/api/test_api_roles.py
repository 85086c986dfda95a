"""Every API endpoint has a decision for every role, and the API keeps to it.

The table follows the README's "Who sees what": dispatchers plan (orders, fleet), support
looks after customers and their points, a customer sees and spends only their own points, a
courier sees only their own shifts. An endpoint added without a row here fails
``test_every_api_endpoint_has_a_decision``.
"""

from __future__ import annotations

import pytest
from flask import url_for

from app.accounts.roles import Role

ANYONE = "anyone"  # no sign-in needed
ADMIN, DISPATCHER, SUPPORT = Role.ADMIN, Role.DISPATCHER, Role.SUPPORT
COURIER, CUSTOMER = Role.COURIER, Role.CUSTOMER
EVERY_ROLE = frozenset(Role)
PLANNERS = frozenset({ADMIN, DISPATCHER})
STAFF = frozenset({ADMIN, DISPATCHER, SUPPORT})
POINTS_READERS = frozenset({ADMIN, SUPPORT, CUSTOMER})

# (method, endpoint) -> who gets past the role check.
ACCESS: dict[tuple[str, str], str | frozenset[Role]] = {
    ("GET", "api-docs.openapi_json"): ANYONE,
    ("GET", "api-docs.openapi_swagger_ui"): ANYONE,
    ("GET", "health.health"): ANYONE,
    ("GET", "health.live"): ANYONE,
    ("GET", "health.ready"): ANYONE,
    ("GET", "delivery_windows.delivery_windows"): ANYONE,
    ("POST", "tokens.create_token"): ANYONE,
    ("GET", "tokens.list_tokens"): EVERY_ROLE,
    ("DELETE", "tokens.revoke_token"): EVERY_ROLE,
    ("POST", "orders.create_order"): PLANNERS,
    ("GET", "orders.list_orders"): STAFF | {CUSTOMER},
    ("GET", "orders.get_order"): STAFF | {CUSTOMER},
    ("GET", "customers.list_customers"): STAFF,
    ("POST", "customers.create_customer"): STAFF,
    ("GET", "customers.get_customer"): STAFF,
    ("GET", "loyalty.balance"): POINTS_READERS,
    ("GET", "loyalty.history"): POINTS_READERS,
    ("GET", "loyalty.quote"): POINTS_READERS,
    ("POST", "loyalty.redeem"): frozenset({CUSTOMER}),
    ("POST", "loyalty.adjust"): frozenset({ADMIN, SUPPORT}),
    ("GET", "fleet.list_vehicles"): PLANNERS,
    ("POST", "fleet.create_vehicle"): PLANNERS,
    ("GET", "fleet.list_couriers"): PLANNERS,
    ("POST", "fleet.create_courier"): PLANNERS,
    ("GET", "fleet.list_shifts"): PLANNERS | {COURIER},
    ("POST", "fleet.create_shift"): PLANNERS,
    ("POST", "planning_runs.start_run"): PLANNERS,
    ("GET", "planning_runs.get_run"): PLANNERS,
    ("POST", "planning_runs.cancel_run"): PLANNERS,
    ("POST", "planning_runs.publish_run"): PLANNERS,
    ("POST", "optimize.optimize"): PLANNERS,
    ("GET", "courier_api.get_day"): frozenset({COURIER}),
    ("POST", "courier_api.post_photo"): frozenset({COURIER}),
    ("POST", "courier_api.post_events"): frozenset({COURIER}),
    ("POST", "returns.post_photo"): frozenset({CUSTOMER}),
    ("POST", "returns.start_return"): frozenset({CUSTOMER}),
    ("GET", "returns.get_return"): frozenset({CUSTOMER, SUPPORT, ADMIN}),
}


def api_endpoints(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_api_endpoint_has_a_decision(app):
    """A new endpoint (or method) must be given a row in ACCESS, and no row may be stale."""
    endpoints = api_endpoints(app)

    assert endpoints - set(ACCESS) == set(), "decide who may call these and add them to ACCESS"
    assert set(ACCESS) - endpoints == set(), "these rows name endpoints that no longer exist"


@pytest.fixture
def callers(client, make_user, world, session):  # type: ignore[no-untyped-def]
    """A bearer header per role; the customer is the world's customer (so they call with
    their own customer id)."""
    headers: dict[Role, dict[str, str]] = {}
    for role in Role:
        person = make_user(role.value)
        if role is CUSTOMER:
            world.customer.user_id = person.id
            session.commit()
        answer = client.post(
            "/api/v1/auth/tokens", json={"email": person.email, "password": person.password}
        )
        headers[role] = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    return headers


def test_each_role_gets_exactly_what_the_table_gives_it(app, client, callers, world, subtests):
    """Allowed: past the role check (the empty request may still be 404 or 422). Denied: 403.
    Without credentials: 401 unless the endpoint is open to anyone."""
    params = {
        "customer_id": world.customer.id,
        "order_id": 1,
        "token_id": 2_000_000_000,
        "plan_id": 2_000_000_000,
        "case_id": 2_000_000_000,
    }
    for method, endpoint in sorted(ACCESS):
        with app.test_request_context():
            rule = next(r for r in app.url_map.iter_rules(endpoint))
            url = url_for(endpoint, **{k: v for k, v in params.items() if k in rule.arguments})
        allowed = ACCESS[method, endpoint]
        for role in [None, *Role]:
            with subtests.test(endpoint=endpoint, method=method, role=str(role)):
                headers = callers[role] if role is not None else {}
                status = client.open(url, method=method, headers=headers, json={}).status_code
                if allowed == ANYONE or (role is not None and role in allowed):
                    assert status not in (401, 403), f"{role} should get past {method} {url}"
                elif role is None:
                    assert status == 401, f"{method} {url} must need a sign-in"
                else:
                    assert status == 403, f"{role} must not {method} {url}"


def test_a_dispatcher_cannot_spend_a_customers_points(client, callers, world):
    response = client.post(
        f"/api/v1/customers/{world.customer.id}/points/redemptions",
        json={"order_id": 1, "points": 10},
        headers={**callers[DISPATCHER], "Idempotency-Key": "k-1"},
    )

    assert response.status_code == 403
    assert "dispatcher" in response.get_json()["detail"]
