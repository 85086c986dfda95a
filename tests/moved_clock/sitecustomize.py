"""Moves the clock of the processes a test starts (a `roundtrip run` server, the CLI) as
the suite's own clock is moved by ``pytest --moved-clock``: tests/conftest.py puts this folder
on PYTHONPATH with the moved start (ROUNDTRIP_MOVED_CLOCK) and the monotonic reading taken
then (ROUNDTRIP_MOVED_AT_MONOTONIC). The child starts at that moment plus the time elapsed
since, on the monotonic clock every process shares, so it never reads the real date. Nothing
happens without those variables, and the product's code knows nothing of it."""

import os

_moved = os.environ.get("ROUNDTRIP_MOVED_CLOCK")
if _moved:
    import time
    from datetime import datetime, timedelta

    import time_machine

    _elapsed = time.monotonic() - float(os.environ["ROUNDTRIP_MOVED_AT_MONOTONIC"])
    time_machine.travel(
        datetime.fromisoformat(_moved) + timedelta(seconds=_elapsed), tick=True
    ).start()
