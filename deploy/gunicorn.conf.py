"""gunicorn settings for Roundtrip's web tier (`make prod` and the systemd unit).

Read as a Python file by gunicorn; every value can be changed from the environment.
"""

import os

bind = f"127.0.0.1:{os.environ.get('ROUNDTRIP_PORT', '8000')}"
# Sync workers: requests are short (planning runs on job workers), the database is the
# shared state. 2 x cores + 1 is gunicorn's own advice; 3 suits the 2-core demo machine.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 60
graceful_timeout = 20
accesslog = "-"
# Each stack its own control socket (gunicorn 27+; older versions ignore the setting).
control_socket = os.path.join(os.environ.get("ROUNDTRIP_INSTANCE", "instance"), "gunicorn.ctl")


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """A dead worker's live gauges leave the Prometheus totals with it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
