"""Window templates placed on calendar days (pure: no database needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.orders.models import DeliveryWindowTemplate
from app.orders.windows import window_on

BERLIN = ZoneInfo("Europe/Berlin")


def template(start: int, end: int, days_before: int, cutoff: int) -> DeliveryWindowTemplate:
    return DeliveryWindowTemplate(
        id=1,
        depot_id=1,
        start_minute=start,
        end_minute=end,
        cutoff_days_before=days_before,
        cutoff_minute=cutoff,
    )


def test_window_keeps_its_wall_clock_time_on_a_dst_day():
    """29 March 2026 is 23 hours long in Berlin; 08:00 must still be 08:00."""
    window = window_on(template(8 * 60, 10 * 60, 1, 23 * 60 + 30), date(2026, 3, 29), BERLIN)

    assert window.start_at.astimezone(BERLIN).hour == 8
    assert window.start_at.astimezone(UTC) == datetime(2026, 3, 29, 6, tzinfo=UTC)
    assert window.cutoff_at.astimezone(UTC) == datetime(2026, 3, 28, 22, 30, tzinfo=UTC)


def test_window_ending_at_midnight_ends_at_the_next_day():
    window = window_on(template(22 * 60, 24 * 60, 0, 18 * 60), date(2026, 11, 25), BERLIN)

    assert window.end_at == datetime(2026, 11, 26, 0, 0, tzinfo=BERLIN)
    assert window.label == "22:00–24:00"


def test_cut_off_is_open_until_the_minute():
    window = window_on(template(8 * 60, 10 * 60, 1, 23 * 60 + 30), date(2026, 11, 25), BERLIN)

    assert window.is_open(datetime(2026, 11, 24, 22, 29, tzinfo=UTC))
    assert not window.is_open(datetime(2026, 11, 24, 22, 30, tzinfo=UTC))
