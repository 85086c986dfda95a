"""A database that cannot be reached (restarting, down) is a 503 with Retry-After that says
so, never a 500: measured by the fault benchmark while PostgreSQL restarted."""

from __future__ import annotations

import psycopg
from sqlalchemy.exc import OperationalError


def test_an_unreachable_database_is_a_503_saying_to_try_again(app):
    def outage() -> str:
        raise OperationalError(
            "SELECT 1", {}, psycopg.OperationalError("the database system is shutting down")
        )

    app.add_url_rule("/api/v1/outage-probe", "outage_probe", outage)
    answer = app.test_client().get("/api/v1/outage-probe", headers={"Accept-Language": "en"})

    assert answer.status_code == 503
    assert answer.headers["Retry-After"]
    assert "cannot be reached right now; nothing was saved" in answer.get_json()["detail"]
