"""The API describes itself, and its docs page works without the internet."""

from __future__ import annotations

import re


def test_openapi_document_lists_the_resources(client, engine):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/customers",
        "/api/v1/couriers",
        "/api/v1/vehicles",
        "/api/v1/shifts",
        "/api/v1/health",
        "/api/v1/auth/tokens",
    ):
        assert path in spec["paths"], path
    create = spec["paths"]["/api/v1/orders"]["post"]
    assert "requestBody" in create
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/health"]["get"]["security"] == []


def test_docs_page_loads_only_local_assets(client, engine):
    page = client.get("/api/v1/docs").get_data(as_text=True)

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets, "the docs page references no assets"
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for asset in assets:
        with client.get(asset) as response:
            assert response.status_code == 200, asset


def test_pages_load_only_local_assets(client, engine):
    page = client.get("/").get_data(as_text=True)

    assets = re.findall(r'<(?:link|script)[^>]+(?:src|href)="([^"]+)"', page)
    assert any("bootstrap" in a for a in assets)
    for asset in assets:
        assert not asset.startswith(("http:", "https:", "//")), asset
        with client.get(asset) as response:
            assert response.status_code == 200, asset


def test_openapi_describes_errors_as_problems_and_the_idempotency_key(client, engine):
    spec = client.get("/api/v1/openapi.json").get_json()

    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "errors"}
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert list(default["content"]) == ["application/problem+json"]
    create = spec["paths"]["/api/v1/orders"]["post"]
    assert create["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}
    assert "422" in create["responses"]
    redeem = spec["paths"]["/api/v1/customers/{customer_id}/points/redemptions"]["post"]
    key = [p for p in redeem["parameters"] if p["name"] == "Idempotency-Key"]
    assert key
    assert key[0]["in"] == "header"
    assert key[0]["required"] is True
    order_id = spec["paths"]["/api/v1/orders/{order_id}"]["parameters"][0]["schema"]
    assert order_id == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
