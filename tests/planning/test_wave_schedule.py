"""Evening planning waves are scheduled per depot, at its own local times."""

from __future__ import annotations

import pytest

from app.config import Config
from app.db import session_scope
from app.fleet.models import Depot
from app.scheduler import build_scheduler


def depot(code: str, timezone: str) -> Depot:
    return Depot(code=code, name=code, address="-", lat=55.7, lon=37.6, timezone=timezone)


def test_each_depot_gets_its_waves_in_its_own_time_zone(committed_factory):
    with session_scope(committed_factory) as s:
        s.add_all([depot("MSK", "Europe/Moscow"), depot("EKB", "Asia/Yekaterinburg")])

    scheduler = build_scheduler(
        committed_factory,
        "Europe/Moscow",
        planning_waves=("18:00", "23:30"),
        waves_by_depot={"EKB": ("17:00", "22:15")},
    )

    waves = {j.id: j for j in scheduler.get_jobs() if j.id.startswith("planning-wave-")}
    assert sorted(waves) == [
        "planning-wave-EKB-1700",
        "planning-wave-EKB-2215",
        "planning-wave-MSK-1800",
        "planning-wave-MSK-2330",
    ]
    ekb = waves["planning-wave-EKB-2215"]
    assert str(ekb.trigger.timezone) == "Asia/Yekaterinburg"
    assert "hour='22', minute='15'" in str(ekb.trigger)
    assert ekb.kwargs["final"] is True
    assert waves["planning-wave-EKB-1700"].kwargs["final"] is False
    assert str(waves["planning-wave-MSK-1800"].trigger.timezone) == "Europe/Moscow"
    assert waves["planning-wave-MSK-1800"].kwargs["depot_ids"] != ekb.kwargs["depot_ids"]


def test_per_depot_times_come_from_the_environment():
    config = Config({"ROUNDTRIP_PLANNING_WAVES_BY_DEPOT": "EKB=17:00, 22:15; SPB=19:00"})

    assert config.PLANNING_WAVES == ("18:00", "23:30")
    assert config.PLANNING_WAVES_BY_DEPOT == {"EKB": ("17:00", "22:15"), "SPB": ("19:00",)}
    with pytest.raises(ValueError, match="'25:00' is not a time like 18:00"):
        Config({"ROUNDTRIP_PLANNING_WAVES": "18:00,25:00"})
