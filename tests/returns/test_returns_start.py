"""Starting a return (X1) and its decision (X2) through the API, on both databases: a
defective kettle approved at once with its apology and refund in one transaction; the same
form twice opens one case; a failure in crediting keeps nothing; a bad photo is refused."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import func, select

from loyalty import services as loyalty_services
from loyalty.models import LedgerEntry
from returns.models import ReturnCase
from tests.conftest import sign_in
from tests.returns.helpers import LATER, delivered_order


@pytest.fixture
def delivered(session, world, make_user, client, clock):  # type: ignore[no-untyped-def]
    """A delivered order of a kettle and two coffees; its customer signed in on ``client``."""
    clock(LATER)
    order = delivered_order(session, world, "RT-RET-1")
    person = make_user("customer")
    world.customer.user_id = person.id
    session.commit()
    sign_in(client, person)
    return order


def send(client, order, key: str | None = None, **changes: object):  # type: ignore[no-untyped-def]
    kettle = order.items[0]
    body = {
        "order_id": order.id,
        "items": [{"order_item_id": kettle.id, "quantity": 1}],
        "reason": "defective",
        "resolution": "refund",
        "description": "It does not heat.",
        **changes,
    }
    return client.post(
        "/api/v1/returns",
        json=body,
        headers={"Idempotency-Key": key or str(uuid.uuid4()), "X-CSRFToken": csrf(client)},
    )


def csrf(client) -> str:  # type: ignore[no-untyped-def]
    from tests.conftest import csrf_token

    return csrf_token(client.get("/portal/").get_data(as_text=True))


def entries(session, kind: str) -> list[LedgerEntry]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(LedgerEntry).where(LedgerEntry.kind == kind)))


def test_a_defective_kettle_is_approved_at_once_with_its_apology_and_refund(
    client, session, delivered
):
    answer = send(client, delivered)

    assert answer.status_code == 201
    case = answer.get_json()
    assert (case["status"], case["rule"], case["bonus_points"]) == (
        "approved",
        "X2-fast-track",
        349,
    )
    assert case["refund_minor"] == 3_499_00
    assert case["decision"].startswith("Approved at once")
    session.expire_all()
    (bonus,) = entries(session, "bonus")
    assert bonus.points == 349
    assert "faulty item in order RT-RET-1" in bonus.reason
    # The refund takes back what the kettle's price had earned (5 % of 3,499.00).
    (earned,) = entries(session, "earn")
    (reversal,) = entries(session, "reversal")
    assert reversal.points == -(3_499_00 * 5 // 100 // 100)
    assert earned.points > -reversal.points


def test_the_same_form_sent_twice_opens_one_case(client, session, delivered):
    key = str(uuid.uuid4())

    first = send(client, delivered, key)
    again = send(client, delivered, key)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReturnCase)) == 1
    assert len(entries(session, "bonus")) == 1


def test_a_failure_in_crediting_the_bonus_keeps_nothing_of_the_case(
    client, session, delivered, world
):
    key = str(uuid.uuid4())
    # The ledger already holds a different entry under the key the apology will use.
    loyalty_services.credit_bonus(
        session,
        customer_id=world.customer.id,
        points=1,
        reason="Something else",
        source="test",
        now=LATER,
        key=f"return:{world.customer.id}:{key}:apology",
    )
    session.commit()

    refused = send(client, delivered, key)

    assert refused.status_code == 409
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReturnCase)) == 0
    assert [e.points for e in entries(session, "bonus")] == [1]


def test_a_non_image_upload_is_refused_and_opens_no_case(client, session, delivered):
    token = csrf(client)
    text = client.post(
        "/api/v1/returns/photos",
        data={"photo": (io.BytesIO(b"not a photo at all"), "kettle.jpg")},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    bogus = send(client, delivered, photos=["ab/" + "ab" * 32 + ".jpg"])

    assert text.status_code == 422
    assert text.get_json()["errors"] == {"photo": ["Send a photo (JPEG, PNG or WebP)."]}
    assert bogus.status_code == 422
    assert "photos.0" in bogus.get_json()["errors"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReturnCase)) == 0


def test_more_than_was_delivered_is_refused_naming_the_line(client, session, delivered):
    coffee = delivered.items[1]

    refused = send(client, delivered, items=[{"order_item_id": coffee.id, "quantity": 3}])

    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"items.0": ["You can return 1 to 2 of Coffee."]}


def test_an_order_not_yet_delivered_has_nothing_to_return(client, session, delivered):
    delivered.status = "planned"
    session.commit()

    refused = send(client, delivered)

    assert refused.status_code == 409
    assert "has not been delivered yet" in refused.get_json()["detail"]


def test_bad_food_is_refunded_without_a_pickup(client, session, delivered):
    coffee = delivered.items[1]

    case = send(
        client, delivered, items=[{"order_item_id": coffee.id, "quantity": 2}], reason="damaged"
    ).get_json()

    assert (case["rule"], case["pickup"], case["refund_minor"]) == (
        "X2-food-refund",
        False,
        1_301_00,
    )


def test_an_item_listed_twice_is_refused_naming_the_second(client, session, delivered):
    kettle = delivered.items[0]
    twice = [{"order_item_id": kettle.id, "quantity": 1}] * 2

    refused = send(client, delivered, items=twice)

    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["items.1"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReturnCase)) == 0
