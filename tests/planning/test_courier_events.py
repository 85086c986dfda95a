"""What a courier's phone sends is applied exactly once, with the courier's own time (C2):
the same action ten times changes the stop once; a stop of another day or another courier
is refused; a late delivery moves the rest of the day and flags what leaves its window."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.planning.models import Stop, StopEvent
from loyalty.models import LedgerEntry
from tests.conftest import sign_in
from tests.planning.helpers import late_order, published, second_courier

ON_THE_DAY = datetime(2030, 1, 15, 5, 30, tzinfo=UTC)  # 08:30 in Moscow


@pytest.fixture
def phone(app, client, session, day, make_user, clock):  # type: ignore[no-untyped-def]
    """The small day published and inspected; its courier signed in on ``client``."""
    clock(ON_THE_DAY)
    plan = published(session, day)
    person = make_user("courier")
    plan.routes[0].courier.user_id = person.id
    session.commit()
    sign_in(client, person)
    return plan


def send(client, *events: dict[str, object]):  # type: ignore[no-untyped-def]
    token = client.get("/api/v1/courier/day").get_json()["csrf_token"]
    return client.post(
        "/api/v1/courier/events", json={"events": list(events)}, headers={"X-CSRFToken": token}
    )


def action(stop_id: int, kind: str, at: datetime, **more: object) -> dict[str, object]:
    return {"id": str(uuid.uuid4()), "stop_id": stop_id, "kind": kind, "at": at.isoformat(), **more}


def test_one_action_sent_ten_times_changes_the_stop_once(client, session, phone):
    stop = phone.routes[0].visits[0].stop
    delivered = action(stop.id, "delivered", ON_THE_DAY - timedelta(minutes=3), recipient="Olga")

    answers = [send(client, delivered).get_json()["results"][0] for _ in range(10)]

    assert [a["status"] for a in answers] == ["applied"] * 10
    assert [a["replayed"] for a in answers] == [False] + [True] * 9
    assert len({a["recorded_at"] for a in answers}) == 1
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(StopEvent)) == 1
    assert (stop.outcome, stop.completed_at, stop.recipient_name) == (
        "delivered",
        ON_THE_DAY - timedelta(minutes=3),  # when the courier acted, not when it arrived
        "Olga",
    )
    # Points for the delivery were credited once too.
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def test_a_phone_clock_running_fast_is_recorded_at_the_servers_time(client, session, phone):
    stop = phone.routes[0].visits[0].stop

    send(client, action(stop.id, "arrived", ON_THE_DAY + timedelta(hours=2)))

    session.expire_all()
    assert stop.arrived_at == ON_THE_DAY


def test_a_report_for_tomorrows_route_is_refused(client, session, day, make_user, clock):
    the_day_before = ON_THE_DAY - timedelta(days=1)
    clock(the_day_before)
    plan = published(session, day)
    person = make_user("courier")
    plan.routes[0].courier.user_id = person.id
    session.commit()
    sign_in(client, person)
    stop = plan.routes[0].visits[0].stop

    (answer,) = send(client, action(stop.id, "delivered", the_day_before)).get_json()["results"]

    assert answer["status"] == "refused"
    assert answer["error"]["status"] == 409
    assert "cannot be reported yet" in answer["error"]["detail"]
    session.expire_all()
    assert stop.completed_at is None
    assert session.scalar(select(func.count()).select_from(StopEvent)) == 0


def test_another_couriers_stop_is_not_found_and_the_rest_still_apply(client, session, day, phone):
    other = second_courier(session, day)
    late = late_order(session, day, "RT-OTHER", 55.73, 37.57, hour_utc=9)
    stranger = Stop(
        depot_id=day.depot.id,
        delivery_day=late.delivery_day,
        kind="delivery",
        order=late,
        lat=55.73,
        lon=37.57,
        window_start_at=late.window_start_at,
        window_end_at=late.window_end_at,
        delivery_units=0,
        service_s=240,
    )
    session.add(stranger)
    session.commit()
    assert other.id
    mine = phone.routes[0].visits[0].stop

    results = send(
        client,
        action(stranger.id, "delivered", ON_THE_DAY),
        action(mine.id, "arrived", ON_THE_DAY),
    ).get_json()["results"]

    assert [(r["status"], (r.get("error") or {}).get("status")) for r in results] == [
        ("refused", 404),
        ("applied", None),
    ]


def test_a_failure_needs_a_reason_and_other_needs_words(client, session, phone):
    stop = phone.routes[0].visits[0].stop

    no_reason, other_silent = send(
        client,
        action(stop.id, "failed", ON_THE_DAY),
        action(stop.id, "failed", ON_THE_DAY, reason="other"),
    ).get_json()["results"]

    assert no_reason["error"]["errors"] == {
        "reason": ["Choose why the stop could not be delivered."]
    }
    assert other_silent["error"]["errors"] == {"note": ["Say in a few words what happened."]}
    session.expire_all()
    assert stop.completed_at is None


def test_a_late_delivery_moves_later_etas_and_flags_the_stop_leaving_its_window(
    app, client, session, day, make_user, clock
):
    clock(ON_THE_DAY)
    late_order(session, day, "RT-NOON", 55.73, 37.57, hour_utc=9)  # 12:00-14:00 local
    plan = published(session, day)
    person = make_user("courier")
    plan.routes[0].courier.user_id = person.id
    session.commit()
    sign_in(client, person)
    morning, noon, evening = (v.stop for v in plan.routes[0].visits)
    planned = {v.stop.id: v.start_at for v in plan.routes[0].visits}

    # The morning stop took until 13:50 local: noon can only be served after that.
    finished = datetime(2030, 1, 15, 10, 50, tzinfo=UTC)
    clock(finished)
    send(client, action(morning.id, "delivered", finished))
    stops = {
        s["stop_id"]: s for s in client.get("/api/v1/courier/day").get_json()["routes"][0]["stops"]
    }

    noon_eta = datetime.fromisoformat(stops[noon.id]["eta"])
    assert noon_eta > finished
    assert noon_eta - planned[noon.id] > timedelta(hours=1)
    assert stops[noon.id]["at_risk"]
    assert not stops[evening.id]["at_risk"]
    assert stops[morning.id]["eta"] is None  # reported: no projection


def test_the_page_embeds_the_day_and_the_actions(client, phone):
    page = client.get("/courier/").get_data(as_text=True)

    assert 'id="page-data"' in page
    assert "courier.js" in page
    worker = client.get("/courier/sw.js")
    assert (worker.status_code, worker.mimetype) == (200, "text/javascript")
    assert "serviceWorker" not in worker.get_data(as_text=True)  # the worker, not the page
    worker.close()
