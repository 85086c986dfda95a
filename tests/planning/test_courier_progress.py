"""Couriers report stops from their phone; the dispatcher's board shows planned vs actual."""

from __future__ import annotations

import re

from app.orders.models import Order, OrderStatus
from tests import factories as f
from tests.conftest import csrf_token, sign_in
from tests.planning.test_plan_edits import published


def test_courier_reports_a_stop_and_the_board_shows_it(app, client, session, day, make_user):
    plan = published(session, day)
    (route,) = plan.routes
    person = make_user("courier")
    route.courier.user_id = person.id
    session.commit()
    sign_in(client, person)

    page = client.get("/courier/").get_data(as_text=True)
    assert page.count('data-testid="route-stop"') == 2
    first = route.visits[0]
    response = client.post(
        f"/courier/visits/{first.id}/report",
        data={"report": "delivered", "csrf_token": csrf_token(page)},
        follow_redirects=True,
    )

    assert "Stop 1: delivered" in response.get_data(as_text=True)
    session.expire_all()
    assert first.outcome == "delivered"
    assert first.completed_at is not None
    assert session.get(Order, first.order_id).status == OrderStatus.DELIVERED
    assert session.get(Order, route.visits[1].order_id).status == OrderStatus.OUT_FOR_DELIVERY

    desk = app.test_client()
    sign_in(desk, make_user("dispatcher"))
    board = desk.get(f"/dispatcher/plans/{plan.id}").get_data(as_text=True)
    assert re.search(r"delivered \d\d:\d\d", board)
    assert "on the road" in board


def test_a_courier_cannot_report_someone_elses_stop(client, session, day, make_user):
    plan = published(session, day)
    first = plan.routes[0].visits[0]
    person = make_user("courier")
    f.CourierFactory(depot=day.depot, user_id=person.id)
    session.commit()
    sign_in(client, person)
    page = client.get("/courier/").get_data(as_text=True)
    assert 'data-testid="route-stop"' not in page

    response = client.post(
        f"/courier/visits/{first.id}/report",
        data={"report": "delivered", "csrf_token": csrf_token(page)},
        follow_redirects=True,
    )

    assert "There is no stop" in response.get_data(as_text=True)
    session.expire_all()
    assert first.completed_at is None
