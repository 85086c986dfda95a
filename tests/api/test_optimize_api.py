"""POST /api/v1/optimize: VROOM's JSON in and out for planners; bounded; bad input named."""

from __future__ import annotations

import json

from routing.io import vroom_recheck
from tests.routing.vroom_days import day


def test_a_dispatcher_gets_a_vroom_plan_both_judges_accept(client, api_token):
    answer = client.post(
        "/api/v1/optimize?time_limit_s=1", json=day(), headers=api_token("dispatcher")
    )

    assert answer.status_code == 200, answer.get_json()
    plan = answer.get_json()
    assert plan["code"] == 0
    assert vroom_recheck.recheck(day(), plan) == []
    assert plan["summary"]["unassigned"] == 0
    assert plan["summary"]["distance"] > 0


def test_only_planners_may_optimize(client, api_token):
    for role in ("courier", "customer", "support"):
        answer = client.post("/api/v1/optimize", json=day(), headers=api_token(role))
        assert answer.status_code == 403, role
    assert client.post("/api/v1/optimize", json=day()).status_code == 401


def test_bad_input_is_a_problem_document_naming_the_field(client, api_token):
    data = day()
    data["shipments"] = []

    answer = client.post("/api/v1/optimize", json=data, headers=api_token("dispatcher"))

    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    errors = answer.get_json()["errors"]
    assert list(errors) == ["shipments"]
    assert "not supported" in errors["shipments"][0]


def test_a_body_that_is_not_json_is_a_400(client, api_token):
    answer = client.post(
        "/api/v1/optimize",
        data="vehicles: []",
        content_type="application/json",
        headers=api_token("dispatcher"),
    )

    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"


def test_the_time_limit_is_bounded(client, api_token):
    headers = api_token("dispatcher")
    for bad in ("0", "31", "ten"):
        answer = client.post(f"/api/v1/optimize?time_limit_s={bad}", json=day(), headers=headers)
        assert answer.status_code == 422, bad
        assert "time_limit_s" in answer.get_json()["errors"]


def test_a_body_over_the_size_limit_is_refused_unread(client, api_token, monkeypatch):
    from app.web.api import optimize

    monkeypatch.setattr(optimize, "MAX_BODY_BYTES", 1000)
    body = json.dumps(day())
    assert len(body) > 1000

    answer = client.post(
        "/api/v1/optimize",
        data=body,
        content_type="application/json",
        headers=api_token("dispatcher"),
    )

    assert answer.status_code == 413
    assert answer.mimetype == "application/problem+json"


def test_the_openapi_document_describes_optimize(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/optimize"]["post"]

    assert "application/json" in operation["requestBody"]["content"]
    assert "413" in operation["responses"]
    assert "422" in operation["responses"]
    assert any(p["name"] == "time_limit_s" for p in operation["parameters"])
