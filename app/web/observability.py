"""Every request gets an id (logs and the X-Request-ID header), its duration measured by
route, and the process that served it named (X-Served-By); /metrics serves Prometheus."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator

from flask import Flask, Response, abort, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app import logs, metrics

# A client's own request id is kept if it looks like one (a proxy's, a load balancer's).
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{8,64}")


def init_app(app: Flask, queue_depth: Callable[[], int | None]) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)
    app.add_url_rule("/metrics", "metrics", _metrics_view(queue_depth))


def _start() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID_RE.fullmatch(given) else uuid.uuid4().hex
    g.request_token = logs.REQUEST_ID.set(g.request_id)
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.pop("request_started", None)
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.REQUEST_SECONDS.labels(request.method, route, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    response.headers["X-Request-ID"] = g.get("request_id", "")
    response.headers["X-Served-By"] = f"web-{os.getpid()}"
    return response


def _forget(_error: BaseException | None) -> None:
    token = g.pop("request_token", None)
    if token is not None:
        logs.REQUEST_ID.reset(token)


class QueueDepth(Collector):
    """The job queue's waiting jobs, read when Prometheus scrapes."""

    def __init__(self, depth: Callable[[], int | None]) -> None:
        self.depth = depth

    def collect(self) -> Iterator[GaugeMetricFamily]:
        value = self.depth()
        if value is not None:
            yield GaugeMetricFamily(
                "roundtrip_queue_depth", "Background jobs waiting for a worker", value=value
            )


def _metrics_view(queue_depth: Callable[[], int | None]) -> Callable[[], Response]:
    def view() -> Response:
        """Prometheus text format: every process's samples when several share the work.

        For the machine's own scraper only: answered to loopback clients (the sample nginx
        site refuses /metrics from outside)."""
        if request.remote_addr not in ("127.0.0.1", "::1"):
            abort(404)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = PROCESS_REGISTRY
        scrape = CollectorRegistry()
        scrape.register(_Merged(registry))
        scrape.register(QueueDepth(queue_depth))
        return Response(generate_latest(scrape), mimetype=CONTENT_TYPE_LATEST)

    return view


class _Merged(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        yield from self.registry.collect()
