"""The API answers as its OpenAPI document says, whatever a client sends.

schemathesis generates requests from /api/v1/openapi.json (valid ones and invalid ones) for
every operation and sends them to the Flask app in-process (WSGI, no network), once with a
dispatcher's token and once with a customer's, on SQLite and on PostgreSQL. A 5xx, a body that
does not match the documented schema, an undocumented status code or content type fails the
test. Generation is deterministic (derandomized), so a failure reproduces.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_PER_OPERATION = int(os.environ.get("ROUNDTRIP_FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    status_code_conformance,
]


@dataclass(frozen=True)
class Caller:
    role: str
    headers: dict[str, str]


@pytest.fixture(params=["dispatcher", "customer"])
def caller(
    request: pytest.FixtureRequest, world: Any, make_user: Any, client: Any, session: Any
) -> Caller:
    """A dispatcher (staff) or the world's customer, with a bearer token."""
    person = make_user(request.param)
    if request.param == "customer":
        world.customer.user_id = person.id
        session.commit()
    response = client.post(
        "/api/v1/auth/tokens", json={"email": person.email, "password": person.password}
    )
    assert response.status_code == 201, response.get_json()
    return Caller(request.param, {"Authorization": f"Bearer {response.get_json()['token']}"})


@pytest.fixture
def api_schema(app: Flask, caller: Caller) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.generation.update(
        max_examples=EXAMPLES_PER_OPERATION,
        deterministic=True,
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    )
    return schema


@pytest.fixture
def sent(request: pytest.FixtureRequest, caller: Caller, backend: str) -> Iterator[Counter[str]]:
    """Counts the requests of one run and prints the figure (requests per backend and token)."""
    counter: Counter[str] = Counter()
    yield counter
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"API fuzz: {counter['requests']} requests on {backend} with a {caller.role} token"
            )


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 renames each operation's subtest through ``node._nodeid``, which
    pytest 9 no longer has; give it one (it only affects how subtests are named)."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case: Any, caller: Caller, sent: Counter[str]) -> None:
    sent["requests"] += 1
    case.call_and_validate(headers=caller.headers, checks=CHECKS)
