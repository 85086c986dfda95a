"""The dispatcher plans a day from the board, sees routes with reasons, and publishes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.background.queue import InlineQueue
from app.background.tasks import runner
from app.orders.models import Order, OrderStatus
from app.planning.models import Plan, PlanChange
from app.web.background import QUEUE_KEY
from tests.conftest import csrf_token
from tests.planning.conftest import DAY

EVENING_BEFORE = datetime(2030, 1, 14, 18, tzinfo=UTC)  # 21:00 in Moscow, the day before DAY


@pytest.fixture
def board(app, client, login_as, clock, session_factory):  # type: ignore[no-untyped-def]
    """A dispatcher signed in the evening before DAY, planning inline in one second."""
    clock(EVENING_BEFORE)
    app.config.update(PLANNING_TIME_LIMIT_S=1)
    app.extensions[QUEUE_KEY] = InlineQueue(runner(session_factory))
    login_as("dispatcher")
    return client


def plan_the_day(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get(f"/dispatcher/?day={DAY.isoformat()}").get_data(as_text=True)
    depot_id = re.search(r'name="depot_id" type="hidden" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/dispatcher/plans",
        data={"depot_id": depot_id, "day": DAY.isoformat(), "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302
    return response.headers["Location"]


def test_plan_the_day_shows_routes_on_a_map_and_publishes(board, session, day):
    location = plan_the_day(board)

    page = board.get(location).get_data(as_text=True)

    assert 'data-testid="map"' in page
    totals = re.sub(r"<[^>]+>|\s+", " ", page.split('data-testid="totals">')[1].split("</p>")[0])
    assert "2 orders on 1 route (couriers used)" in re.sub(r"\s+", " ", totals)
    assert "no stop at risk" in totals
    # The route runs from the shift's start (07:00) to past the 20:00 stop: most of 16 h.
    (use,) = (int(x) for x in re.findall(r"<td>(\d+) %</td>", page))
    assert 80 <= use <= 95
    data = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', page, re.S)
    routes = json.loads(data.group(1))["routes"]  # type: ignore[union-attr]
    assert [s["number"] for s in routes[0]["stops"]] == ["RT-MORNING", "RT-EVENING"]
    assert routes[0]["stops"][0]["window"] == "08:00–10:00"
    assert "/vendor/leaflet/leaflet.js" in page

    published = board.post(location + "/publish", data={"csrf_token": csrf_token(page)})
    assert published.status_code == 302
    assert "couriers now see their routes" in board.get(location).get_data(as_text=True)
    statuses = session.scalars(select(Order.status).where(Order.delivery_day == DAY)).all()
    assert set(statuses) == {OrderStatus.PLANNED}


def test_status_endpoint_reports_progress_fields(board, session, day):
    location = plan_the_day(board)

    status = board.get(location + "/status").get_json()

    assert status["status"] == "ready"
    assert (status["stops_assigned"], status["stops_unassigned"]) == (2, 0)
    assert status["time_limit_s"] == 1


def test_a_day_without_shifts_shows_why_it_could_not_be_planned(board, session, world):
    location = plan_the_day(board)

    page = board.get(location).get_data(as_text=True)

    assert 'data-testid="failed"' in page
    assert "No courier has a shift" in page
    assert session.scalar(select(Plan.status)) == "failed"


def test_courier_cannot_plan(client, login_as, world):
    login_as("courier")

    response = client.post(
        "/dispatcher/plans", data={"depot_id": world.depot.id, "day": DAY.isoformat()}
    )

    assert response.status_code in (400, 403)
    assert client.get("/dispatcher/plans/1").status_code == 403


def test_a_move_is_checked_before_saving_and_an_override_needs_a_reason(board, session, day):
    location = plan_the_day(board)
    page = board.get(location).get_data(as_text=True)
    plan = session.scalar(select(Plan))
    (route,) = plan.routes
    morning = route.visits[0].stop.id
    move = {"stop_id": morning, "shift_id": route.shift_id, "position": 2}

    preview = board.get(location + "/moves/preview", query_string=move)

    assert preview.status_code == 200
    body = preview.get_json()
    assert body["ok"] is False
    (violation,) = body["violations"]
    assert "late by" in violation
    assert violation.endswith("at stop 2 (RT-MORNING)")
    bad = board.get(location + "/moves/preview", query_string={**move, "position": 9})
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == ["Choose a position from 1 to 2."]

    refused = board.post(
        location + "/moves", data={**move, "csrf_token": csrf_token(page)}, follow_redirects=True
    )
    assert "The move was not saved. This move breaks the plan" in refused.get_data(as_text=True)
    session.expire_all()
    assert plan.routes[0].visits[0].stop.id == morning

    saved = board.post(
        location + "/moves",
        data={
            **move,
            "override_reason": "Customer is out until evening",
            "csrf_token": csrf_token(page),
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Saved with your reason" in saved
    assert "Reason given:</span> Customer is out until evening" in saved
    session.expire_all()
    assert plan.routes[0].visits[1].stop.id == morning


def test_progress_says_how_the_search_is_going(board, session, day):
    """The worker's renewals carry the search's progress into the plan's row, so any web
    process shows it (not only the one that runs the search)."""
    from app.planning import services
    from routing.solver import Progress

    plan = services.start_plan(
        session, depot_id=day.depot.id, day=DAY, time_limit_s=30, now=EVENING_BEFORE
    )
    services.claim_run(session, plan_id=plan.id, worker="w1", now=EVENING_BEFORE, lease_s=60)
    held = services.renew_lease(
        session,
        plan_id=plan.id,
        worker="w1",
        now=EVENING_BEFORE,
        lease_s=60,
        progress=Progress(elapsed_s=3.0, objective=900, first_objective=1000, improvements=5),
    )
    session.commit()

    status = board.get(f"/dispatcher/plans/{plan.id}/status").get_json()

    assert held
    assert status["status"] == "solving"
    assert status["search"] == {"improvements": 5, "gain_percent": 10.0}


def test_a_run_nobody_has_taken_up_says_it_waits_for_a_worker(board, session, day):
    from app.planning import services

    plan = services.start_plan(
        session, depot_id=day.depot.id, day=DAY, time_limit_s=30, now=EVENING_BEFORE, wait_s=600
    )
    session.commit()

    status = board.get(f"/dispatcher/plans/{plan.id}/status").get_json()

    assert (status["status"], status["queued"], status["search"]) == ("solving", True, None)


def test_a_finished_search_shows_no_progress_bar(board, session, day):
    location = plan_the_day(board)

    status = board.get(location + "/status").get_json()
    assert (status["status"], status["search"], status["queued"]) == ("ready", None, False)


def test_a_move_form_with_a_bad_stop_number_names_the_field_and_saves_nothing(board, session, day):
    location = plan_the_day(board)
    page = board.get(location).get_data(as_text=True)
    (route,) = session.scalar(select(Plan)).routes
    move = {"stop_id": route.visits[0].stop.id, "shift_id": route.shift_id, "position": "x"}

    shown = board.post(
        location + "/moves", data={**move, "csrf_token": csrf_token(page)}, follow_redirects=True
    ).get_data(as_text=True)

    assert "The move was not saved: As stop number:" in shown
    assert not session.scalars(select(PlanChange)).all()


def test_the_dispatcher_cancels_a_run_and_can_plan_the_day_again(board, session, day):
    from app.planning import services

    plan = services.start_plan(
        session, depot_id=day.depot.id, day=DAY, time_limit_s=30, now=EVENING_BEFORE, wait_s=600
    )
    session.commit()
    page = board.get(f"/dispatcher/plans/{plan.id}").get_data(as_text=True)
    assert 'data-testid="cancel-run"' in page

    cancelled = board.post(
        f"/dispatcher/plans/{plan.id}/cancel", data={"csrf_token": csrf_token(page)}
    )
    shown = board.get(cancelled.headers["Location"]).get_data(as_text=True)

    assert cancelled.status_code == 302
    assert "This run was cancelled." in shown
    assert 'data-testid="plan-again"' in shown
    session.expire_all()
    assert session.get(Plan, plan.id).status == "cancelled"
