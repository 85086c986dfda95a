from __future__ import annotations

from app.web import create_app


def test_health_reports_a_reachable_database(client, backend):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "reachable",
        "database_backend": backend,
    }


def test_health_reports_an_unreachable_database(tmp_path):
    """Port 1 on loopback has no server: the check answers 503 instead of crashing."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": "postgresql://nobody:nothing@127.0.0.1:1/none",
        }
    )

    response = app.test_client().get("/api/v1/health")

    assert response.status_code == 503
    body = response.get_json()
    assert (body["status"], body["database"]) == ("degraded", "unreachable")
    assert body["detail"]
