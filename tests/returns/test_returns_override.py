"""Support overrides a return's decision (X2) with a reason the customer reads: approving
carries out what an approval means (apology bonus, refund) exactly once; declining is refused
once the money went back; and the desk's pages do it all as a support agent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, ValidationFailed
from app.notifications.models import Notification
from app.orders.models import Order
from app.planning.models import Stop
from loyalty.models import LedgerEntry
from returns import review
from returns import services as return_services
from returns.models import ReturnCase, ReturnItem
from returns.policy import Resolution, ReturnReason
from tests.conftest import csrf_token
from tests.returns.helpers import LATER, WINDOW, delivered_order

TOO_LATE = WINDOW + timedelta(days=20)  # the 14-day return period is over


@pytest.fixture
def order(session, world) -> Order:  # type: ignore[no-untyped-def]
    """A delivered order of a kettle (in stock) and two coffees."""
    return delivered_order(session, world, "RT-OVR-1")


def start(
    session: Session,
    order: Order,
    *,
    reason: ReturnReason = ReturnReason.DEFECTIVE,
    resolution: Resolution = Resolution.REFUND,
    now: datetime = LATER,
    key: str = "phone-1",
) -> ReturnCase:
    """The customer returns the kettle."""
    return return_services.start_return(
        session,
        customer_id=order.customer_id,
        order_id=order.id,
        items=[return_services.Wanted(order.items[0].id, 1)],
        reason=reason,
        resolution=resolution,
        key=key,
        now=now,
    )


def declined_with_items(session: Session, order: Order) -> ReturnCase:
    """A defective kettle returned after the return period: declined by the policy. The
    items are recorded as ``start_return`` would record them on any case."""
    case = start(session, order, now=TOO_LATE)
    assert case.status == "declined"
    if not case.items:  # start_return keeps no items on a declined case (yet)
        case.items = [ReturnItem(order_item_id=order.items[0].id, quantity=1)]
        session.flush()
    return case


def bonuses(session: Session, customer_id: int) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.customer_id == customer_id, LedgerEntry.kind == "bonus"
            )
        )
    )


def overrides_told(session: Session, case_id: int) -> list[Notification]:
    """What the customer was told of this case's overrides."""
    return list(
        session.scalars(
            select(Notification)
            .where(
                Notification.case_id == case_id,
                Notification.kind == "return_update",
                Notification.key.startswith(f"override:{case_id}:"),
            )
            .order_by(Notification.id)
        )
    )


def test_approving_a_declined_fault_case_credits_its_apology_once(session, order, make_user):
    """The apology bonus of the policy (10 % of 3,499.00 = 349 points) and the refund are
    carried out; approving again is refused and credits nothing more."""
    agent = make_user("support")
    case = declined_with_items(session, order)
    at = TOO_LATE + timedelta(hours=1)

    review.override(
        session,
        case_id=case.id,
        outcome="approved",
        reason="The kettle failed within its first week; goodwill.",
        user_id=agent.id,
        now=at,
    )
    with pytest.raises(Conflict, match="already approved"):
        review.override(
            session,
            case_id=case.id,
            outcome="approved",
            reason="Clicked twice.",
            user_id=agent.id,
            now=at,
        )

    session.refresh(case)
    assert (case.status, case.bonus_points, case.refund_minor) == ("approved", 349, 3_499_00)
    assert (case.override_reason, case.overridden_by_user_id, case.answered_at) == (
        "The kettle failed within its first week; goodwill.",
        agent.id,
        at,
    )
    assert [b.points for b in bonuses(session, case.customer_id)] == [349]
    assert case.events[-1].user_id == agent.id
    assert "approved it: The kettle failed" in case.events[-1].message
    (told,) = overrides_told(session, case.id)
    assert told.customer_id == case.customer_id
    assert told.key.startswith(f"override:{case.id}:")
    # Declined, it had no collection; approved, the kettle is collected on the next day.
    (visit,) = session.scalars(select(Stop).where(Stop.return_case_id == case.id))
    assert visit.kind == "pickup"


def test_declining_after_the_refund_was_paid_is_refused(session, order, make_user):
    """A fast-tracked refund already went back to the customer: declining now would take
    back nothing, so it is refused and the case is left as it was."""
    agent = make_user("support")
    case = start(session, order)
    assert case.refunded_at is not None

    with pytest.raises(Conflict, match="money has already gone back"):
        review.override(
            session,
            case_id=case.id,
            outcome="declined",
            reason="Photo shows the kettle was dropped.",
            user_id=agent.id,
            now=LATER + timedelta(hours=1),
        )

    session.refresh(case)
    assert (case.status, case.override_reason) == ("approved", None)


def test_a_replacement_declined_then_approved_again_is_apologised_for_once(
    session, order, make_user
):
    """Declining keeps the apology already credited; approving again does not add one."""
    agent = make_user("support")
    case = start(session, order, resolution=Resolution.REPLACEMENT)
    assert (case.status, case.delivery, case.refunded_at) == ("approved", True, None)

    review.override(
        session,
        case_id=case.id,
        outcome="declined",
        reason="Sent the photo of another kettle.",
        user_id=agent.id,
        now=LATER + timedelta(hours=1),
    )
    declined = (case.status, case.pickup, case.delivery)
    review.override(
        session,
        case_id=case.id,
        outcome="approved",
        reason="The right photo came; sorry for the mix-up.",
        user_id=agent.id,
        now=LATER + timedelta(hours=2),
    )

    assert declined == ("declined", False, False)
    assert (case.status, case.pickup, case.delivery) == ("approved", True, True)
    assert [b.points for b in bonuses(session, case.customer_id)] == [349]
    assert len(overrides_told(session, case.id)) == 2


@pytest.mark.parametrize("reason", ["", "  ", "ok", "x" * 501])
def test_an_override_needs_a_reason_of_3_to_500_characters(session, order, make_user, reason):
    """Without a reason the customer can read, nothing changes."""
    agent = make_user("support")
    case = start(session, order, reason=ReturnReason.CHANGED_MIND)

    with pytest.raises(ValidationFailed) as refused:
        review.override(
            session,
            case_id=case.id,
            outcome="approved",
            reason=reason,
            user_id=agent.id,
            now=LATER,
        )

    assert list(refused.value.errors) == ["reason"]
    assert case.status == "under_review"


def test_a_declined_case_without_items_cannot_be_approved(session, order, make_user):
    """Nothing recorded to return: support is told to ask for a new return."""
    agent = make_user("support")
    case = start(session, order, now=TOO_LATE)
    case.items = []
    session.flush()

    with pytest.raises(Conflict, match="no items recorded"):
        review.override(
            session,
            case_id=case.id,
            outcome="approved",
            reason="Goodwill.",
            user_id=agent.id,
            now=TOO_LATE,
        )


def test_receiving_a_standard_return_refunds_it_and_keeps_the_promise(session, order, make_user):
    """The item came back and was checked: the refund is paid now, once."""
    agent = make_user("support")
    case = start(session, order, reason=ReturnReason.CHANGED_MIND)
    at = LATER + timedelta(days=1)

    review.receive(session, case_id=case.id, user_id=agent.id, now=at)
    with pytest.raises(Conflict, match="already marked received"):
        review.receive(session, case_id=case.id, user_id=agent.id, now=at)

    assert (case.status, case.refund_minor, case.refunded_at, case.answered_at) == (
        "received",
        3_499_00,
        at,
        at,
    )
    assert bonuses(session, case.customer_id) == []
    assert review.watch_promises(
        session, now=case.respond_by + timedelta(hours=1), soon=timedelta(hours=4)
    ) == (0, 0)


def test_a_support_agent_answers_overrides_and_receives_from_the_desk(
    client, session, order, login_as, clock
):
    """The list shows the case with its promise; the case page answers the customer,
    refuses an override without a reason, approves with one, and marks the item received."""
    case = start(session, order, reason=ReturnReason.NOT_AS_DESCRIBED)
    session.commit()
    clock(LATER + timedelta(hours=45))  # the answer is promised by LATER + 48 h
    login_as("support")

    listed = client.get("/support/returns/")
    page = client.get(f"/support/returns/{case.id}")
    html = page.get_data(as_text=True)
    token = csrf_token(html)
    answered = client.post(
        f"/support/returns/{case.id}/answer",
        data={"csrf_token": token, "text": "A colleague is checking the photos today."},
    )
    no_reason = client.post(
        f"/support/returns/{case.id}/override",
        data={"csrf_token": token, "outcome": "approved", "reason": ""},
    )
    approved = client.post(
        f"/support/returns/{case.id}/override",
        data={"csrf_token": token, "outcome": "approved", "reason": "The colour is not as shown."},
    )
    received = client.post(f"/support/returns/{case.id}/receive", data={"csrf_token": token})
    after = client.get(f"/support/returns/{case.id}").get_data(as_text=True)

    assert listed.status_code == 200
    assert "RT-OVR-1" in listed.get_data(as_text=True)
    assert "due in 3 h" in listed.get_data(as_text=True)
    assert page.status_code == 200
    assert "X2-standard" in html
    assert answered.status_code == 302
    assert no_reason.status_code == 400
    assert approved.status_code == 302
    assert received.status_code == 302
    assert "A colleague is checking the photos today." in after
    assert "The colour is not as shown." in after
    session.expire_all()
    done = session.get_one(ReturnCase, case.id)
    assert (done.status, done.override_reason, done.refund_minor) == (
        "received",
        "The colour is not as shown.",
        3_499_00,
    )


def test_the_desk_is_for_support_only(client, session, order, login_as):
    """A customer signed in cannot open support's returns."""
    login_as("customer")

    assert client.get("/support/returns/").status_code == 403


def test_the_case_page_shows_its_own_photos_only(app, client, session, order, login_as, clock):
    """A photo the customer sent is served on its case's address, and on no other."""
    clock(LATER)  # the page reads the time (its "due in"): the same moment as the case
    from app.media import store_photo
    from app.web.uploads import uploads

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with app.app_context():
        name = store_photo(png, root=uploads())
    case = return_services.start_return(
        session,
        customer_id=order.customer_id,
        order_id=order.id,
        items=[return_services.Wanted(order.items[0].id, 1)],
        reason=ReturnReason.DAMAGED,
        resolution=Resolution.REFUND,
        key="phone-photo",
        now=LATER,
        photos=[name],
    )
    other = start(session, order, reason=ReturnReason.CHANGED_MIND, key="phone-other")
    session.commit()
    login_as("support")
    photo_id = case.photos[0].id

    page = client.get(f"/support/returns/{case.id}").get_data(as_text=True)
    served = client.get(f"/support/returns/{case.id}/photos/{photo_id}")
    served_data = served.get_data()
    served.close()  # send_file streams the file: let it go
    elsewhere = client.get(f"/support/returns/{other.id}/photos/{photo_id}")

    assert f"/support/returns/{case.id}/photos/{photo_id}" in page
    assert (served.status_code, served.mimetype, served_data) == (200, "image/png", png)
    assert elsewhere.status_code == 404
