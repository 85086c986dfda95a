"""The customer's tracking link (P1) and the return started from it (X1), on both databases:
the link opens the order without signing in, a wrong one opens nothing; the phone form
opens one case per submission, refuses a bad photo with no case, and an approved exchange
becomes a stop on the next day's routes."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.links import tracking_token
from app.planning.models import Stop
from returns.models import ReturnCase
from tests.returns.helpers import LATER, delivered_order

# The smallest PNG there is: a 1x1 pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def delivered(session, world, clock):  # type: ignore[no-untyped-def]
    """A delivered order of a kettle and two coffees."""
    clock(LATER)
    return delivered_order(session, world, "RT-TRK-1")


def link(app, order) -> str:  # type: ignore[no-untyped-def]
    return f"/t/{tracking_token(app.config['SECRET_KEY'], order.id)}"


def send(client, app, order, data, **kwargs):  # type: ignore[no-untyped-def]
    """Post the return form as the phone does: with the page's CSRF token."""
    from tests.conftest import csrf_token

    url = link(app, order) + "/return"
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(
        url, data={**data, "csrf_token": token}, headers={"Accept-Language": "en"}, **kwargs
    )


def form(order, key: str = "k-1", **changes: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    kettle, coffee = order.items
    return {
        "key": key,
        f"qty-{kettle.id}": "1",
        f"qty-{coffee.id}": "0",
        "reason": "defective",
        "resolution": "exchange",
        "description": "It does not heat.",
        **changes,
    }


def test_the_link_opens_the_order_without_signing_in(client, app, delivered):
    """Items, status and what comes next are there for whoever holds the link."""
    page = client.get(link(app, delivered), headers={"Accept-Language": "en"})

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "RT-TRK-1" in text
    assert "Kettle" in text
    assert "delivered" in text
    assert "Return an item" in text


def test_a_link_this_shop_did_not_sign_opens_nothing(client, app, delivered):
    """A changed or made-up token is 404, the same as an order that does not exist."""
    token = tracking_token(app.config["SECRET_KEY"], delivered.id)
    forged = tracking_token("another secret", delivered.id)

    assert client.get(f"/t/{token[:-2]}xx").status_code == 404
    assert client.get(f"/t/{forged}").status_code == 404
    assert client.get(f"/t/{forged}/live").status_code == 404


def test_a_defective_kettle_returned_from_the_phone_is_approved_and_becomes_an_exchange_stop(
    client, app, session, delivered
):
    """Approved at once with its bonus; tomorrow's routes get one exchange stop at the
    customer's door: collect the kettle, bring a new one."""
    answer = send(
        client,
        app,
        delivered,
        {**form(delivered), "photos": (io.BytesIO(PNG), "kettle.png")},
        content_type="multipart/form-data",
    )

    assert answer.status_code == 303
    case_url = answer.headers["Location"]
    assert re.search(r"/returns/\d+$", case_url)
    page = client.get(case_url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "approved" in page
    assert "349 bonus points are on your account" in page
    session.expire_all()
    case = session.scalars(select(ReturnCase)).one()
    assert (case.status, case.pickup, case.delivery, len(case.photos)) == (
        "approved",
        True,
        True,
        1,
    )
    stop = session.scalars(select(Stop).where(Stop.return_case_id == case.id)).one()
    assert stop.kind == "exchange"
    assert stop.delivery_day == LATER.date() + timedelta(days=1)
    assert (stop.pickup_units, stop.delivery_units) == (3, 3)
    assert stop.goods == [
        {"name": "Kettle", "quantity": 1, "collect": True},
        {"name": "Kettle", "quantity": 1, "collect": False},
    ]


def test_the_same_form_sent_twice_opens_one_case(client, app, session, delivered):
    """The form's key: a second press, or a resend after a lost answer, finds the case."""
    first = send(client, app, delivered, form(delivered, key="same"))
    again = send(client, app, delivered, form(delivered, key="same"))

    assert first.headers["Location"] == again.headers["Location"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReturnCase)) == 1
    assert (
        session.scalar(
            select(func.count()).select_from(Stop).where(Stop.return_case_id.is_not(None))
        )
        == 1
    )


@pytest.mark.parametrize(
    ("photo", "said"),
    [
        (b"%PDF-1.4 not a photo", "Send a photo (JPEG, PNG or WebP)."),
        (PNG + b"\0" * 200_000, "The photo is 0.2 MB; send one of at most"),
    ],
    ids=["not-an-image", "too-big"],
)
def test_a_bad_photo_is_refused_with_a_clear_message_and_no_case(
    client, app, session, delivered, photo, said, monkeypatch
):
    """The form comes back with the photo marked and what was typed kept; nothing saved.
    (The limit is lowered for the test: the test client spools an 8 MB body to a file it
    never closes.)"""
    monkeypatch.setattr("app.media.MAX_PHOTO_BYTES", 150_000)
    answer = send(
        client,
        app,
        delivered,
        {**form(delivered), "photos": (io.BytesIO(photo), "kettle.png")},
        content_type="multipart/form-data",
    )

    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert said in text
    assert "It does not heat." in text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReturnCase)) == 0


def test_nothing_chosen_is_asked_for_again(client, app, session, delivered):
    """No line with a quantity: the form says what is missing."""
    kettle, _ = delivered.items
    answer = send(client, app, delivered, form(delivered, **{f"qty-{kettle.id}": "0"}))

    assert answer.status_code == 422
    assert "Choose what you are sending back." in answer.get_data(as_text=True)
