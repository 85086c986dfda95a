"""Tell them before they notice (principle 4), on both databases: a stop projected past its
window writes one message to its customer, with the cause, the new window and the apology
bonus; looking again writes nothing more; stops still on time are not told."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.notifications.models import Notification
from app.planning import jobs, lateness
from app.planning.progress import Report, report_stop
from app.planning.tracking import stop_view
from loyalty.models import LedgerEntry
from tests.planning.helpers import late_order, published

FINISHED = datetime(2030, 1, 15, 10, 50, tzinfo=UTC)  # 13:50 in Moscow


PAST_END = datetime(2030, 1, 15, 11, 5, tzinfo=UTC)  # 14:05 in Moscow: noon's window is over


def late_day(session, day, finished=FINISHED):  # type: ignore[no-untyped-def]
    """The small day with a noon stop; the morning stop took until 13:50 (or ``finished``)."""
    late_order(session, day, "RT-NOON", 55.73, 37.57, hour_utc=9)  # 12:00-14:00 local
    plan = published(session, day)
    morning, noon, evening = (v.stop for v in plan.routes[0].visits)
    report_stop(session, stop_id=morning.id, report=Report.DELIVERED, at=finished)
    return plan, noon, evening


def test_a_stop_leaving_its_window_tells_its_customer_once_with_cause_window_and_bonus(
    session, day, clock
):
    """One message and one bonus for the noon stop, now projected past its window; the
    evening stop is on time."""
    clock(PAST_END)
    plan, noon, _ = late_day(session, day, PAST_END)

    told = lateness.warn_late(
        session, plan, now=PAST_END, rules=lateness.LatenessRules(bonus_points=50)
    )
    again = lateness.warn_late(
        session, plan, now=PAST_END, rules=lateness.LatenessRules(bonus_points=50)
    )

    assert told == [noon.id]
    assert again == []
    (notice,) = session.scalars(select(Notification)).all()
    assert (notice.order_id, notice.kind) == (noon.order_id, "late")
    view = stop_view(session, noon, now=PAST_END)
    assert view.late
    moscow = ZoneInfo("Europe/Moscow")
    window = (
        f"{view.expected_start.astimezone(moscow):%H:%M}–"  # type: ignore[union-attr]
        f"{view.expected_end.astimezone(moscow):%H:%M}"  # type: ignore[union-attr]
    )
    assert str(notice.message) == (
        "We are running late with order RT-NOON: your courier is running behind on the stops "
        f"before yours. We now expect to be with you {window} instead of 12:00–14:00. We are "
        "sorry; 50 bonus points are on your account as our apology."
    )
    (bonus,) = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "bonus")).all()
    assert (bonus.customer_id, bonus.points) == (noon.order.customer_id, 50)
    # What they were told is now their promise: the dashboard measures against it.
    assert (noon.told_start_at, noon.told_end_at, noon.told_at) == (
        view.expected_start,
        view.expected_end,
        PAST_END,
    )
    assert noon.told_end_at > noon.window_end_at  # type: ignore[operator]


def test_the_watch_job_finds_todays_late_stops_and_a_second_run_adds_nothing(
    session_factory, session, day, clock
):
    """The scheduled look over today's published plans: once per stop, in its own
    transactions."""
    clock(FINISHED)
    _, noon, _ = late_day(session, day)
    session.commit()

    first = jobs.watch_late(session_factory, now=FINISHED)
    second = jobs.watch_late(session_factory, now=FINISHED)

    assert first == [noon.id]
    assert second == []
    session.expire_all()
    assert len(session.scalars(select(Notification)).all()) == 1


def test_a_stop_only_at_risk_is_told_in_words_and_the_bonus_waits_for_real_lateness(
    session, day, clock
):
    """At 13:50 the noon stop is projected just inside its window, too close to its end to
    promise it: the customer is told, without points (most such stops still arrive in time)."""
    clock(FINISHED)
    plan, noon, _ = late_day(session, day)

    told = lateness.warn_late(
        session, plan, now=FINISHED, rules=lateness.LatenessRules(bonus_points=50)
    )

    assert told == [noon.id]
    (notice,) = session.scalars(select(Notification)).all()
    assert str(notice.message).endswith("We are sorry.")
    assert session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "bonus")).all() == []


def test_no_bonus_when_the_shop_gives_none(session, day, clock):
    """ROUNDTRIP_LATE_BONUS_POINTS=0: the apology is in words only."""
    clock(FINISHED)
    plan, _, _ = late_day(session, day)

    lateness.warn_late(session, plan, now=FINISHED, rules=lateness.LatenessRules(bonus_points=0))

    (notice,) = session.scalars(select(Notification)).all()
    assert str(notice.message).endswith("We are sorry.")
    assert session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "bonus")).all() == []


def test_the_scheduler_looks_for_late_stops_only_on_a_day_with_a_published_plan(
    session_factory, session, day, clock
):
    """Every 5 minutes while today has a published plan; its task runs the watch."""
    from app.background import schedule, tasks

    clock(FINISHED)
    quiet = {d.job for d in schedule.due_now(session, now=FINISHED, schedule=schedule.Schedule())}
    _, noon, _ = late_day(session, day)
    session.commit()

    due = {d.job: d for d in schedule.due_now(session, now=FINISHED, schedule=schedule.Schedule())}
    tasks.run_task(
        session_factory, "planning.watch_late", due[f"late-watch:{day.depot.code}"].arguments
    )

    assert f"late-watch:{day.depot.code}" not in quiet
    watch = due[f"late-watch:{day.depot.code}"]
    assert watch.task == "planning.watch_late"
    assert watch.due_at == FINISHED  # 10:50 is on the 5-minute grid
    session.expire_all()
    (notice,) = session.scalars(select(Notification)).all()
    assert notice.order_id == noon.order_id


def test_a_couriers_late_report_tells_the_customer_at_once(
    app, client, session_factory, session, day, make_user, clock
):
    """The phone's report of a long first stop: before the answer comes back, the next
    customer has their message (the look runs on the queue, inline here)."""
    from app.background.queue import InlineQueue
    from app.background.tasks import runner
    from app.web.background import QUEUE_KEY
    from tests.conftest import sign_in
    from tests.planning.test_courier_events import action, send

    clock(FINISHED)
    late_order(session, day, "RT-NOON", 55.73, 37.57, hour_utc=9)
    plan = published(session, day)
    person = make_user("courier")
    plan.routes[0].courier.user_id = person.id
    morning, noon, _ = (v.stop for v in plan.routes[0].visits)
    session.commit()
    app.config["LATE_WATCH_AFTER_REPORTS"] = True
    app.extensions[QUEUE_KEY] = InlineQueue(runner(session_factory))
    sign_in(client, person)

    answer = send(client, action(morning.id, "delivered", FINISHED))

    assert answer.status_code == 200
    session.expire_all()
    (notice,) = session.scalars(select(Notification)).all()
    assert (notice.order_id, notice.kind) == (noon.order_id, "late")
