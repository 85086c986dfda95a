"""The roundtrip command, run in-process against the test database."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts import services
from app.accounts.models import User


def test_users_create_adds_a_person_who_can_sign_in(app, session):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "Olga@Example.org",
            "--name",
            "Olga",
            "--role",
            "support",
            "--password",
            "long-enough-1",
        ]
    )

    assert result.exit_code == 0, result.output
    assert "Created olga@example.org (support)" in result.output
    assert services.authenticate(session, email="olga@example.org", password="long-enough-1")


def test_users_create_explains_what_is_wrong(app, session, make_user):
    make_user("support", email="taken@example.org")

    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "taken@example.org",
            "--name",
            "X",
            "--role",
            "support",
            "--password",
            "short",
        ]
    )

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "at least 8 characters" in result.output
    assert len(session.scalars(select(User).where(User.email == "taken@example.org")).all()) == 1


def test_users_token_prints_a_working_token(app, client, make_user):
    person = make_user("dispatcher")

    result = app.test_cli_runner().invoke(args=["users", "token", person.email])

    assert result.exit_code == 0, result.output
    token = result.output.strip()
    response = client.get("/api/v1/couriers", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_a_wave_can_be_run_by_hand(app, session, clock):
    from datetime import UTC, datetime

    from app import demo
    from app.planning.models import Plan

    evening = datetime(2026, 11, 24, 19, tzinfo=UTC)  # 22:00 in Moscow, the demo's depot
    clock(evening)
    summary = demo.load(session, now=evening)
    session.commit()

    result = app.test_cli_runner().invoke(args=["wave", "--kind", "final", "--time-limit", "1"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Plans changed or made: ")
    plan = session.scalars(select(Plan)).one()
    assert plan.delivery_day == summary.delivery_day
    assert plan.published_at is not None
