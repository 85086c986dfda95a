"""Moves the clock of the processes a test starts (a `roundtrip run` server, the CLI) as
the suite's own clock is moved by ``pytest --moved-clock`` (tests/conftest.py puts this
folder on PYTHONPATH and the offset in ROUNDTRIP_CLOCK_OFFSET_S). Nothing happens without
that variable, and the product's code knows nothing of it."""

import os

_offset = os.environ.get("ROUNDTRIP_CLOCK_OFFSET_S")
if _offset:
    import time
    from datetime import UTC, datetime

    import time_machine

    time_machine.travel(
        datetime.fromtimestamp(time.time() + float(_offset), UTC), tick=True
    ).start()
