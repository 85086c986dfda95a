"""Helpers for tests that start real `roundtrip` processes (a server, the CLI)."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

ROUNDTRIP = str(Path(sys.executable).with_name("roundtrip"))
MOVED_CLOCK_SITE = Path(__file__).resolve().parent / "moved_clock"


def clock_at(moment: datetime) -> dict[str, str]:
    """Environment that starts a child process's clock at ``moment`` and lets it tick
    (tests/moved_clock/sitecustomize.py), counted from now on the monotonic clock that every
    process shares: a server a test starts lives on the test's day, not the real one."""
    return {
        "ROUNDTRIP_MOVED_CLOCK": moment.isoformat(),
        "ROUNDTRIP_MOVED_AT_MONOTONIC": repr(time.monotonic()),
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(MOVED_CLOCK_SITE), os.environ.get("PYTHONPATH", "")) if p
        ),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], object], *, timeout_s: float, what: str) -> object:
    """Poll ``condition`` until it is truthy; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)
