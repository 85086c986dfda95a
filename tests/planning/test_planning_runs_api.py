"""Other systems drive planning through the API: start a run (202 and its URL), follow it,
cancel it, publish it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.background.queue import InlineQueue
from app.background.tasks import runner
from app.planning.enums import PlanStatus
from app.planning.models import Plan
from app.web.background import QUEUE_KEY
from tests.planning.conftest import DAY

EVENING_BEFORE = datetime(2030, 1, 14, 18, tzinfo=UTC)  # 21:00 in Moscow, the day before DAY


@pytest.fixture
def dispatcher(app, api_token, clock, session_factory):  # type: ignore[no-untyped-def]
    """A dispatcher's bearer header; runs are solved inline, as a worker would."""
    clock(EVENING_BEFORE)
    app.extensions[QUEUE_KEY] = InlineQueue(runner(session_factory))
    return api_token("dispatcher")


def test_a_run_is_started_followed_and_published(client, dispatcher, day, session):
    started = client.post(
        "/api/v1/planning-runs",
        json={"depot_id": day.depot.id, "day": DAY.isoformat(), "time_limit_s": 1},
        headers=dispatcher,
    )

    assert started.status_code == 202, started.get_json()
    location = started.headers["Location"]
    assert location == started.get_json()["url"]
    run = client.get(location, headers=dispatcher).get_json()
    assert (run["status"], run["stops_assigned"], run["progress_percent"]) == ("ready", 2, 100)
    assert run["published"] is False

    published = client.post(location + "/publish", headers=dispatcher)

    assert published.status_code == 200, published.get_json()
    assert published.get_json()["published"] is True
    assert session.get(Plan, run["id"]).published_at is not None


def test_a_solving_run_can_be_cancelled_once(client, dispatcher, day, session):
    from app.planning import services

    plan = services.start_plan(
        session, depot_id=day.depot.id, day=DAY, time_limit_s=30, now=EVENING_BEFORE, wait_s=600
    )
    session.commit()
    url = f"/api/v1/planning-runs/{plan.id}"

    first = client.post(url + "/cancel", headers=dispatcher)
    again = client.post(url + "/cancel", headers=dispatcher)

    assert first.status_code == 200
    assert (first.get_json()["status"], first.get_json()["queued"]) == ("cancelled", False)
    assert "nothing of this version was saved" in first.get_json()["error"]
    assert again.status_code == 409
    session.expire_all()
    assert session.get(Plan, plan.id).status == PlanStatus.CANCELLED


def test_a_second_run_of_a_day_that_is_solving_is_refused(client, dispatcher, day, session):
    from app.planning import services

    services.start_plan(
        session, depot_id=day.depot.id, day=DAY, time_limit_s=30, now=EVENING_BEFORE, wait_s=600
    )
    session.commit()

    refused = client.post(
        "/api/v1/planning-runs",
        json={"depot_id": day.depot.id, "day": DAY.isoformat()},
        headers=dispatcher,
    )

    assert refused.status_code == 409
    assert "already being planned" in refused.get_json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"day": "2030-01-15"}, "depot_id"),
        ({"depot_id": 1, "day": "2030-01-15", "time_limit_s": 601}, "time_limit_s"),
        ({"depot_id": 1, "day": "2030-01-15", "time_limit_s": 0}, "time_limit_s"),
        ({"depot_id": 1, "day": "3030-01-15"}, "day"),
    ],
)
def test_a_bad_request_names_the_field_and_starts_nothing(client, dispatcher, session, body, field):
    response = client.post("/api/v1/planning-runs", json=body, headers=dispatcher)

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert session.query(Plan).count() == 0


def test_an_unknown_run_is_404(client, dispatcher):
    assert client.get("/api/v1/planning-runs/999", headers=dispatcher).status_code == 404


def test_a_run_for_a_depot_that_does_not_exist_is_404(client, dispatcher, session):
    """Found by the API fuzzer: it was a 500."""
    response = client.post(
        "/api/v1/planning-runs", json={"depot_id": 999, "day": "2030-01-15"}, headers=dispatcher
    )

    assert response.status_code == 404
    assert "There is no depot 999" in response.get_json()["detail"]
    assert session.query(Plan).count() == 0
