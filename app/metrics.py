"""What Roundtrip measures for Prometheus (prometheus_client), from every process.

Under gunicorn and with separate job workers, each process writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` (set by `make prod` and the systemd units) and the web tier's
/metrics adds them up; without it (the embedded mode) they live in this process's registry.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUEST_SECONDS = Histogram(
    "roundtrip_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (the URL rule, not the URL) and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOB_SECONDS = Histogram(
    "roundtrip_job_duration_seconds",
    "Time a background job ran, by task and outcome (ok or failed)",
    ["task", "outcome"],
    buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600),
)
JOB_FAILURES = Counter(
    "roundtrip_job_failures_total", "Background jobs that ended with an error", ["task"]
)
SOLVE_GAIN_PERCENT = Histogram(
    "roundtrip_solve_gain_percent",
    "How much shorter a planning run's best plan is than its first one, in per cent",
    buckets=(0, 1, 2, 5, 10, 15, 20, 30, 50),
)
