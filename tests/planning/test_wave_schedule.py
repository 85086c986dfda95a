"""Evening waves, same-day re-plans and the nightly expiry fire once per due time: per depot
at its own local times, for depots added while the scheduler runs, and however many
schedulers tick at once."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.background import schedule
from app.background.models import Firing
from app.background.tasks import run_task
from app.config import Config
from app.db import session_scope
from app.fleet.models import Depot

# 12:05 UTC is 15:05 in Moscow and 17:05 in Yekaterinburg.
NOON = datetime(2030, 1, 14, 12, 5, tzinfo=UTC)
TIMETABLE = schedule.Schedule(
    waves=("18:00", "23:30"), waves_by_depot={"EKB": ("17:00", "22:15")}, same_day_every_min=0
)


class RecordingQueue:
    """A queue that only notes what it was given (the work itself is tested elsewhere)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def enqueue(
        self,
        task: str,
        arguments: Mapping[str, Any],
        *,
        key: str | None = None,
        urgent: bool = False,
    ) -> None:
        with self._lock:
            self.jobs.append((task, dict(arguments)))

    def depth(self) -> int | None:
        return len(self.jobs)


def depot(code: str, timezone: str) -> Depot:
    return Depot(code=code, name=code, address="-", lat=55.7, lon=37.6, timezone=timezone)


@pytest.fixture
def two_depots(committed_factory) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with session_scope(committed_factory) as s:
        msk, ekb = depot("MSK", "Europe/Moscow"), depot("EKB", "Asia/Yekaterinburg")
        s.add_all([msk, ekb])
        s.flush()
        return {"MSK": msk.id, "EKB": ekb.id}


def due_jobs(factory, now: datetime, timetable: schedule.Schedule = TIMETABLE):  # type: ignore[no-untyped-def]
    with session_scope(factory) as s:
        return {d.job: d for d in schedule.due_now(s, now=now, schedule=timetable)}


def test_each_depot_gets_its_waves_at_its_own_local_times(committed_factory, two_depots):
    at_17_05_in_ekb = due_jobs(committed_factory, NOON)
    at_22_20_in_ekb = due_jobs(committed_factory, NOON + timedelta(hours=5, minutes=15))
    at_18_10_in_msk = due_jobs(committed_factory, NOON + timedelta(hours=3, minutes=5))

    assert set(at_17_05_in_ekb) == {"planning-wave:EKB:1700"}
    wave = at_17_05_in_ekb["planning-wave:EKB:1700"]
    assert wave.due_at == datetime(2030, 1, 14, 12, 0, tzinfo=UTC)
    assert (wave.task, wave.arguments["depot_id"]) == ("planning.wave", two_depots["EKB"])
    assert wave.arguments["final"] is False
    # The evening's last wave publishes.
    assert at_22_20_in_ekb["planning-wave:EKB:2215"].arguments["final"] is True
    assert set(at_18_10_in_msk) == {"planning-wave:MSK:1800"}
    assert at_18_10_in_msk["planning-wave:MSK:1800"].arguments["depot_id"] == two_depots["MSK"]


def test_a_wave_is_due_only_within_its_grace_period(committed_factory, two_depots):
    """A scheduler started at 18:25 still plans the 18:00 wave; at 18:31 it is too late."""
    msk_18_00 = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)

    assert "planning-wave:MSK:1800" in due_jobs(
        committed_factory, msk_18_00 + timedelta(minutes=25)
    )
    assert "planning-wave:MSK:1800" not in due_jobs(
        committed_factory, msk_18_00 + timedelta(minutes=31)
    )


def test_two_schedulers_ticking_at_once_fire_each_wave_once(committed_factory, two_depots):
    queue = RecordingQueue()
    # Both schedulers read the same wall clock: each beat starts together, so neither sees the
    # other's fresh firing as abandoned (which takes HANDOVER_S of one clock, not two clocks).
    beat = threading.Barrier(2)

    def scheduler(name: str) -> None:
        for minutes in (0, 1, 2):  # three beats each, all inside the wave's grace
            beat.wait()
            schedule.tick(
                committed_factory,
                queue,
                now=NOON + timedelta(minutes=minutes),
                schedule=TIMETABLE,
                by=name,
            )

    threads = [threading.Thread(target=scheduler, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [(task, args["depot_id"]) for task, args in queue.jobs] == [
        ("planning.wave", two_depots["EKB"])
    ]
    with session_scope(committed_factory) as s:
        (firing,) = s.scalars(select(Firing)).all()
        assert (firing.job, firing.enqueued_at is not None) == ("planning-wave:EKB:1700", True)
        assert queue.jobs[0][1]["firing_id"] == firing.id


def test_a_depot_added_while_the_scheduler_runs_gets_its_waves(committed_factory, two_depots):
    queue = RecordingQueue()
    schedule.tick(committed_factory, queue, now=NOON, schedule=TIMETABLE, by="one")
    with session_scope(committed_factory) as s:
        s.add(depot("NSK", "Asia/Novosibirsk"))  # UTC+7: its 18:00 is 11:00 UTC

    fired = schedule.tick(
        committed_factory, queue, now=NOON + timedelta(hours=23), schedule=TIMETABLE, by="one"
    )

    assert "planning-wave:NSK:1800" in fired


def test_a_firing_whose_scheduler_died_before_handing_it_over_is_handed_over_later(
    committed_factory, two_depots
):
    with session_scope(committed_factory) as s:
        (due,) = schedule.due_now(s, now=NOON, schedule=TIMETABLE)
        assert schedule.claim(s, due, now=NOON, by="died") is not None
    queue = RecordingQueue()

    soon = schedule.tick(committed_factory, queue, now=NOON, schedule=TIMETABLE, by="two")
    assert (soon, queue.jobs) == ([], [])
    schedule.tick(
        committed_factory, queue, now=NOON + timedelta(minutes=2), schedule=TIMETABLE, by="two"
    )

    assert [task for task, _ in queue.jobs] == ["planning.wave"]


def test_two_schedulers_finding_the_same_abandoned_firing_hand_it_over_once(
    committed_factory, two_depots
):
    with session_scope(committed_factory) as s:
        (due,) = schedule.due_now(s, now=NOON, schedule=TIMETABLE)
        assert schedule.claim(s, due, now=NOON, by="died") is not None
    queue = RecordingQueue()
    beat = threading.Barrier(2)

    def scheduler(name: str) -> None:
        beat.wait()
        later = NOON + timedelta(minutes=2)
        schedule.tick(committed_factory, queue, now=later, schedule=TIMETABLE, by=name)

    threads = [threading.Thread(target=scheduler, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [task for task, _ in queue.jobs] == ["planning.wave"]


def test_same_day_replans_fire_every_interval_per_depot(committed_factory, two_depots):
    timetable = schedule.Schedule(waves=(), same_day_every_min=20)
    queue = RecordingQueue()

    fired = [
        schedule.tick(
            committed_factory, queue, now=NOON + timedelta(minutes=m), schedule=timetable, by="a"
        )
        for m in (0, 10, 15, 16)
    ]

    # 12:05 is in the 12:00 slot, 12:15 still is, 12:20 (m=15) and 12:21 are the next one.
    assert fired[0] == ["same-day:MSK", "same-day:EKB"]
    assert fired[1] == []
    assert fired[2] == ["same-day:MSK", "same-day:EKB"]
    assert fired[3] == []


def test_the_nightly_expiry_fires_once_in_the_configured_zone(committed_factory):
    timetable = schedule.Schedule(waves=(), same_day_every_min=0, expiry_at="03:15")
    moscow_03_20 = datetime(2030, 1, 14, 0, 20, tzinfo=UTC)
    queue = RecordingQueue()

    first = schedule.tick(committed_factory, queue, now=moscow_03_20, schedule=timetable, by="a")
    again = schedule.tick(
        committed_factory, queue, now=moscow_03_20 + timedelta(hours=2), schedule=timetable, by="b"
    )

    assert (first, again) == (["loyalty-expire-points"], [])
    assert queue.jobs[0][0] == "loyalty.expire_points"


def test_a_task_whose_firing_is_done_does_nothing_the_second_time(committed_factory):
    with session_scope(committed_factory) as s:
        due = schedule.Due("loyalty-expire-points", NOON, "loyalty.expire_points", {})
        firing_id = schedule.claim(s, due, now=NOON, by="a").id  # type: ignore[union-attr]

    run_task(committed_factory, "loyalty.expire_points", {"firing_id": firing_id})
    with session_scope(committed_factory) as s:
        done_at = s.get_one(Firing, firing_id).done_at
    run_task(committed_factory, "loyalty.expire_points", {"firing_id": firing_id})

    with session_scope(committed_factory) as s:
        assert done_at is not None
        assert s.get_one(Firing, firing_id).done_at == done_at


@pytest.mark.parametrize(
    ("wall", "zone", "expected_utc"),
    [
        # Berlin springs forward at 02:00 on 28 March 2027: 02:30 does not exist that night;
        # the wave fires at the first moment after the gap (03:30 CEST = 01:30 UTC).
        ("02:30", "Europe/Berlin", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
        # 02:30 happens twice on 31 October 2027: the wave fires at the first (CEST).
        ("02:30", "Europe/Berlin", None),
    ],
)
def test_a_daily_time_on_a_clock_change_night_fires_once(wall, zone, expected_utc):
    tz = ZoneInfo(zone)
    if expected_utc is not None:
        now = datetime(2027, 3, 28, 2, 0, tzinfo=UTC)
        assert schedule.last_daily(now, schedule._hhmm(wall), tz) == expected_utc
        return
    now = datetime(2027, 10, 31, 3, 0, tzinfo=UTC)  # 04:00 CET, after both 02:30s
    first_0230 = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert schedule.last_daily(now, schedule._hhmm(wall), tz) == first_0230


def test_per_depot_times_come_from_the_environment():
    config = Config({"ROUNDTRIP_PLANNING_WAVES_BY_DEPOT": "EKB=17:00, 22:15; SPB=19:00"})

    assert config.PLANNING_WAVES == ("18:00", "23:30")
    assert config.PLANNING_WAVES_BY_DEPOT == {"EKB": ("17:00", "22:15"), "SPB": ("19:00",)}
    with pytest.raises(ValueError, match="'25:00' is not a time like 18:00"):
        Config({"ROUNDTRIP_PLANNING_WAVES": "18:00,25:00"})
