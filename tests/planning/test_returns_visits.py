"""A return's visit that did not happen is booked again (on both databases): nobody at home,
or a day that ended with the visit unreported, gives a visit on the next day and one message
saying when; a visit reported late is not booked twice; after three visits support calls the
customer instead; the scheduler fires the job only while a visit waits to be booked."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.background import schedule
from app.notifications.models import Notification
from app.planning import flows, services
from app.planning.enums import FailureReason
from app.planning.models import Stop
from app.planning.progress import Report, report_stop
from returns import jobs, visits
from tests.planning.conftest import DAY
from tests.planning.helpers import NOW, QUICK, inspected
from tests.planning.test_return_stops import a_return


def _published_day(session, day):  # type: ignore[no-untyped-def]
    plan = services.start_plan(session, depot_id=day.depot.id, day=DAY, time_limit_s=2, now=NOW)
    services.solve_plan(session, plan_id=plan.id, now=NOW, params=QUICK)
    flows.publish(session, plan_id=plan.id, now=NOW)
    inspected(session, plan)
    return plan


def test_nobody_at_home_books_the_next_days_visit_and_says_when(session, day, clock):
    clock(NOW)
    case, stop = a_return(session, day)
    plan = _published_day(session, day)
    visit = next(v for r in plan.routes for v in r.visits if v.stop.id == stop.id)
    report_stop(
        session,
        stop_id=stop.id,
        report=Report.FAILED,
        at=visit.start_at,
        reason=FailureReason.NOT_HOME,
    )
    after = visit.start_at + timedelta(minutes=5)

    assert visits.missed_visits(session, now=after) == [case.id]
    again = visits.book_again(session, case_id=case.id, now=after)
    twice = visits.book_again(session, case_id=case.id, now=after)

    assert again is not None
    assert twice is None  # booked already: nothing more
    assert again.delivery_day == DAY + timedelta(days=1)
    assert (again.kind, again.pickup_units, again.delivery_units) == ("exchange", 3, 3)
    assert visits.missed_visits(session, now=after) == []
    (told,) = session.scalars(
        select(Notification).where(Notification.key.like(f"return-visit:{case.id}:%"))
    ).all()
    assert str(told.message).startswith(
        "The courier could not collect your return: nobody was at home. We come again on"
    )
    assert str(case.events[-1].message) == str(told.message)


def test_an_unreported_visit_waits_two_hours_after_its_window_for_a_late_report(
    session, day, clock
):
    clock(NOW)
    case, stop = a_return(session, day)
    end = stop.window_end_at

    assert visits.missed_visits(session, now=end + timedelta(hours=1, minutes=59)) == []
    assert visits.missed_visits(session, now=end + timedelta(hours=2, minutes=1)) == [case.id]
    again = visits.book_again(session, case_id=case.id, now=end + timedelta(hours=2, minutes=1))
    assert again is not None
    assert str(case.events[-1].message).startswith(
        "The courier could not come for your return as planned."
    )


def test_after_three_missed_visits_support_calls_the_customer(session, day, clock):
    clock(NOW)
    case, stop = a_return(session, day)
    for _ in range(2):  # each day ends with the visit unreported
        stop = visits.book_again(
            session, case_id=case.id, now=stop.window_end_at + timedelta(hours=3)
        )
        assert stop is not None
    moment = stop.window_end_at + timedelta(hours=3)

    assert visits.book_again(session, case_id=case.id, now=moment) is None

    assert len(session.scalars(select(Stop).where(Stop.return_case_id == case.id)).all()) == 3
    (staff,) = session.scalars(
        select(Notification).where(Notification.key == f"return-visits:{case.id}")
    ).all()
    assert staff.customer_id is None
    assert "the courier missed 3 visits" in str(staff.message)
    # Support has it now: the scheduler stops looking for it every 15 minutes.
    assert visits.missed_visits(session, now=moment) == []


def test_the_scheduler_books_missed_visits_only_while_one_waits(
    session, session_factory, day, clock
):
    clock(NOW)
    _, stop = a_return(session, day)
    session.commit()
    late = stop.window_end_at + timedelta(hours=3)
    timetable = schedule.Schedule()

    due = {d.job: d for d in schedule.due_now(session, now=late, schedule=timetable)}
    assert due["returns-visits"].task == "returns.book_missed_visits"
    assert jobs.book_missed_visits(session_factory, now=late) == 1
    quiet = {d.job for d in schedule.due_now(session, now=late, schedule=timetable)}
    assert "returns-visits" not in quiet
    before = {d.job for d in schedule.due_now(session, now=NOW, schedule=timetable)}
    assert "returns-visits" not in before
