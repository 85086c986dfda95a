"""Time is an input: no test reads the wall clock, so the suite passes on any date.

A test that builds a fixed date and lets the code under test read the real clock passes
until the calendar reaches that date (the demo-day test did, until 25 November 2026). Tests
pin the clock with the ``clock`` fixture (time-machine) or pass ``now`` to the domain.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}
WALL_CLOCK_FUNCTIONS = {"utcnow"}  # app.db.utcnow


# A test that drives a real server process or browser may plan relative to the real clock
# (server, browser and test all read it); it says so on the line with this comment.
ALLOWED = "# real clock:"


def wall_clock_reads(source: str) -> list[int]:
    """Line numbers of calls that read the wall clock, except those marked ALLOWED."""
    marked = {n for n, line in enumerate(source.splitlines(), start=1) if ALLOWED in line}
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
    return [n for n in lines if n not in marked]


def test_the_scanner_finds_each_way_of_reading_the_clock():
    source = (
        "datetime.now(UTC)\ndate.today()\nutcnow()\ndatetime.utcnow()\nnow = NOW\n"
        "day = date.today()  # real clock: a live server's day\n"
    )

    assert wall_clock_reads(source) == [1, 2, 3, 4]


def test_no_test_reads_the_wall_clock():
    found = {
        str(path.relative_to(TESTS.parent)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != Path(__file__).name
        and (lines := wall_clock_reads(path.read_text(encoding="utf-8")))
    }

    assert found == {}, (
        f"these tests read the wall clock; pin it with the `clock` fixture or pass `now`: {found}"
    )


def test_a_process_a_test_starts_reads_the_same_clock_as_the_test():
    """Under ``--moved-clock`` (make test-moved-clock) a server started by a test must live
    on the moved date too, or it would plan another day than the test checks."""
    import subprocess
    import sys
    from datetime import UTC, datetime

    script = "from datetime import UTC, datetime; print(datetime.now(UTC).isoformat())"
    before = datetime.now(UTC)  # real clock: compared with a child process's clock
    printed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    after = datetime.now(UTC)  # real clock: see above

    assert before <= datetime.fromisoformat(printed.strip()) <= after
