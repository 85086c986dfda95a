"""Operators can follow a request or a job through the logs, scrape Prometheus metrics, and
probe liveness and readiness."""

from __future__ import annotations

import io
import json
import logging

from app import logs
from app.web.background import QUEUE_KEY


def test_every_answer_names_its_request_and_the_process_that_served_it(client):
    answer = client.get("/api/v1/health/live")
    kept = client.get("/api/v1/health/live", headers={"X-Request-ID": "lb-1234abcd"})
    junk = client.get("/api/v1/health/live", headers={"X-Request-ID": "<script>"})

    assert len(answer.headers["X-Request-ID"]) == 32
    assert answer.headers["X-Served-By"].startswith("web-")
    assert kept.headers["X-Request-ID"] == "lb-1234abcd"
    assert junk.headers["X-Request-ID"] not in ("<script>", "")


def test_a_json_log_line_carries_the_request_and_the_job():
    stream = io.StringIO()
    logger = logging.getLogger("roundtrip.test.observability")
    logger.addHandler(logs.handler("worker", "json", stream))
    logger.propagate = False
    try:
        token = logs.REQUEST_ID.set("req-42")
        with logs.job_context("planning.solve#7"):
            logger.warning("lease lost")
        logs.REQUEST_ID.reset(token)
    finally:
        logger.handlers.clear()
        logger.propagate = True

    line = json.loads(stream.getvalue())
    assert (line["message"], line["level"], line["process_kind"]) == (
        "lease lost",
        "WARNING",
        "worker",
    )
    assert (line["request_id"], line["job_id"]) == ("req-42", "planning.solve#7")


def test_metrics_show_latency_by_route_and_the_queue_depth(client):
    client.get("/api/v1/health/live")

    scraped = client.get("/metrics")
    from_outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})

    text = scraped.get_data(as_text=True)
    assert scraped.status_code == 200
    assert (
        'roundtrip_http_request_duration_seconds_count{method="GET",route="/api/v1/health/live"'
        in text
    )
    assert "roundtrip_queue_depth " in text
    assert from_outside.status_code == 404


def test_readiness_checks_the_database_and_the_queue(app, client):
    ready = client.get("/api/v1/health/ready")

    class Broken:
        def depth(self) -> int:
            raise ConnectionError("queue tables unreachable")

    app.extensions[QUEUE_KEY] = Broken()
    not_ready = client.get("/api/v1/health/ready")

    assert (ready.status_code, ready.get_json()["status"]) == (200, "ok")
    assert not_ready.status_code == 503
    assert (not_ready.get_json()["queue"], not_ready.get_json()["database"]) == (
        "unreachable",
        "reachable",
    )


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(app, client):
    """With nginx in front (ROUNDTRIP_PROXIES=1) every request comes from 127.0.0.1; only
    X-Forwarded-For tells the outside client from the machine's own scraper."""
    from app.web import create_app

    proxied = create_app({**app.config, "PROXIES": 1}).test_client()
    outside = {"X-Forwarded-For": "203.0.113.9"}

    assert proxied.get("/metrics", headers=outside).status_code == 404
    assert proxied.get("/metrics").status_code == 200
    assert client.get("/metrics", headers=outside).status_code == 200  # no proxy trusted
