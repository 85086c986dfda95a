"""Time is an input: no test reads the wall clock, so the suite passes on any date.

A test that builds a fixed date and lets the code under test read the real clock passes
until the calendar reaches that date (the demo-day test did, until 25 November 2026). Tests
pin the clock with the ``clock`` fixture (time-machine) or pass ``now`` to the domain.
"""

from __future__ import annotations

import ast
from datetime import UTC
from pathlib import Path

TESTS = Path(__file__).resolve().parent
WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
}
WALL_CLOCK_FUNCTIONS = {"utcnow"}  # app.db.utcnow


def wall_clock_reads(source: str) -> list[int]:
    """Line numbers of calls that read the wall clock."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and (func.value.id, func.attr) in WALL_CLOCK_CALLS
        ) or (isinstance(func, ast.Name) and func.id in WALL_CLOCK_FUNCTIONS):
            lines.append(node.lineno)
    return lines


def test_the_scanner_finds_each_way_of_reading_the_clock():
    source = (
        "datetime.now(UTC)\ndate.today()\nutcnow()\ndatetime.utcnow()\ntime.time()\n"
        "now = NOW\nstarted = time.monotonic()\n"
    )

    assert wall_clock_reads(source) == [1, 2, 3, 4, 5]


def test_no_test_reads_the_wall_clock():
    found = {
        str(path.relative_to(TESTS.parent)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if (lines := wall_clock_reads(path.read_text(encoding="utf-8")))
    }

    assert found == {}, (
        f"these tests read the wall clock; pin it with the `clock` fixture or pass `now`: {found}"
    )


def test_a_process_a_test_starts_follows_the_moved_clock():
    """Under ``--moved-clock`` (make test-moved-clock) a server started by a test must live
    on the moved date too, or it would plan another day than the test checks: it starts at
    the moved moment plus the time elapsed since, on the monotonic clock."""
    import os
    import subprocess
    import sys
    import time
    from datetime import datetime, timedelta

    from tests.processes import clock_at

    moved = datetime(2031, 6, 1, 12, tzinfo=UTC)
    env = {**os.environ, **clock_at(moved)}
    script = "from datetime import UTC, datetime; print(datetime.now(UTC).isoformat())"
    printed = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    ).stdout
    elapsed = timedelta(seconds=time.monotonic() - float(env["ROUNDTRIP_MOVED_AT_MONOTONIC"]))

    assert moved <= datetime.fromisoformat(printed.strip()) <= moved + elapsed
