"""Which day an action belongs to: a delivery day in the depot's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.errors import Conflict
from app.planning import editing, flows
from app.planning.days import day_span
from tests.conftest import csrf_token
from tests.planning.conftest import DAY
from tests.planning.helpers import published


def test_a_spring_forward_day_has_23_hours_and_an_autumn_one_25():
    """Europe/Berlin moves its clocks on 28 March and 31 October 2027."""
    berlin = ZoneInfo("Europe/Berlin")
    spring = day_span(berlin, date(2027, 3, 28), margin=timedelta(0))
    autumn = day_span(berlin, date(2027, 10, 31), margin=timedelta(0))
    plain = day_span(berlin, date(2027, 3, 27), margin=timedelta(0))

    assert spring.closes_at - spring.opens_at == timedelta(hours=23)
    assert autumn.closes_at - autumn.opens_at == timedelta(hours=25)
    assert plain.closes_at - plain.opens_at == timedelta(hours=24)
    assert spring.opens_at == datetime(2027, 3, 27, 23, tzinfo=UTC)  # 00:00 CET
    assert spring.closes_at == datetime(2027, 3, 28, 22, tzinfo=UTC)  # 00:00 CEST


def test_the_span_says_when_reports_are_taken_in_the_depots_words():
    span = day_span(ZoneInfo("Europe/Moscow"), DAY)

    said = span.describe()

    assert said == "from 14 Jan 2030 20:00 MSK until 16 Jan 2030 04:00 MSK (Europe/Moscow time)"
    # The moments stay whole (in the depot's zone) for the reader's own date format.
    assert said.params["opens"] == datetime(2030, 1, 14, 20, tzinfo=ZoneInfo("Europe/Moscow"))


def test_a_day_that_is_over_is_no_longer_published_or_edited(session, day):
    plan = published(session, day)
    after = datetime(2030, 1, 16, 1, 0, tzinfo=UTC)  # 04:00 Moscow the morning after
    morning = plan.routes[0].visits[0]

    with pytest.raises(Conflict, match="is over"):
        flows.publish(session, plan_id=plan.id, now=after)
    with pytest.raises(Conflict, match="is over"):
        editing.insert_order(session, plan_id=plan.id, order_id=morning.stop.order_id, now=after)
    with pytest.raises(Conflict, match="is over"):
        editing.apply_move(
            session,
            plan_id=plan.id,
            stop_id=morning.stop.id,
            shift_id=plan.routes[0].shift_id,
            position=1,
            now=after,
        )


def test_the_board_will_not_plan_a_day_that_is_over(app, client, login_as, day, clock):
    clock(datetime(2030, 1, 16, 2, tzinfo=UTC))  # 05:00 Moscow, the morning after DAY
    login_as("dispatcher")
    page = client.get(f"/dispatcher/?day={DAY.isoformat()}").get_data(as_text=True)

    response = client.post(
        "/dispatcher/plans",
        data={"depot_id": day.depot.id, "day": DAY.isoformat(), "csrf_token": csrf_token(page)},
        follow_redirects=True,
    )

    assert "is over, so its plan can no longer be changed" in response.get_data(as_text=True)
    assert session_plans(client) == 0


def session_plans(client) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from app.planning.models import Plan
    from app.web.database import db

    with client.application.app_context():
        return db().scalar(select(func.count()).select_from(Plan))
