"""API tokens: listed without secrets, revocable, expiring, capped per person, and dead as
soon as their owner is deactivated; using one writes last_used_at only now and then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from app.accounts.models import ApiToken, User

T0 = datetime(2030, 3, 2, 9, 0, tzinfo=UTC)


def new_token(client, person, label: str = "api") -> dict:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/auth/tokens",
        json={"email": person.email, "password": person.password, "label": label},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def bearer(issued: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {"Authorization": f"Bearer {issued['token']}"}


def test_list_shows_own_live_tokens_without_secrets(client, make_user, clock):
    clock(T0)
    person = make_user("dispatcher")
    first = new_token(client, person, "laptop")
    second = new_token(client, person, "script")
    new_token(client, make_user("dispatcher"))  # someone else's

    answer = client.get("/api/v1/auth/tokens", headers=bearer(second)).get_json()

    assert [(t["id"], t["label"], t["current"]) for t in answer["items"]] == [
        (second["id"], "script", True),
        (first["id"], "laptop", False),
    ]
    assert all("token" not in t and "token_sha256" not in t for t in answer["items"])
    assert answer["items"][1]["created_at"] == "2030-03-02T09:00:00+00:00"
    assert answer["items"][1]["expires_at"] == "2030-04-01T09:00:00+00:00"  # 30 days
    assert answer["items"][1]["last_used_at"] is None


def test_lifetime_is_configurable_and_an_expired_token_is_refused(app, client, make_user, clock):
    app.config["API_TOKEN_DAYS"] = 2
    clock(T0)
    issued = new_token(client, make_user("dispatcher"))
    assert issued["expires_at"] == "2030-03-04T09:00:00+00:00"

    clock(T0 + timedelta(days=2) - timedelta(seconds=1))
    assert client.get("/api/v1/vehicles", headers=bearer(issued)).status_code == 200
    clock(T0 + timedelta(days=2))
    refused = client.get("/api/v1/vehicles", headers=bearer(issued))
    assert refused.status_code == 401
    assert "expired" in refused.get_json()["detail"]


def test_revoked_token_stops_working_at_once(client, make_user):
    person = make_user("dispatcher")
    keep, drop = new_token(client, person), new_token(client, person)

    response = client.delete(f"/api/v1/auth/tokens/{drop['id']}", headers=bearer(keep))

    assert response.status_code == 204
    assert client.get("/api/v1/vehicles", headers=bearer(drop)).status_code == 401
    assert client.get("/api/v1/vehicles", headers=bearer(keep)).status_code == 200


def test_only_admins_revoke_other_peoples_tokens(client, make_user):
    victim = new_token(client, make_user("dispatcher"))
    other = new_token(client, make_user("support"))
    admin = new_token(client, make_user("admin"))

    refused = client.delete(f"/api/v1/auth/tokens/{victim['id']}", headers=bearer(other))
    assert refused.status_code == 404  # someone else's token: as if there were none
    assert client.get("/api/v1/vehicles", headers=bearer(victim)).status_code == 200

    done = client.delete(f"/api/v1/auth/tokens/{victim['id']}", headers=bearer(admin))
    assert done.status_code == 204
    assert client.get("/api/v1/vehicles", headers=bearer(victim)).status_code == 401


def test_only_admins_list_other_peoples_tokens(client, make_user):
    person = make_user("dispatcher")
    theirs = new_token(client, person)
    other = new_token(client, make_user("support"))
    admin = new_token(client, make_user("admin"))
    url = f"/api/v1/auth/tokens?user_id={theirs['user_id']}"

    assert client.get(url, headers=bearer(other)).status_code == 403
    listed = client.get(url, headers=bearer(admin)).get_json()["items"]
    assert [t["id"] for t in listed] == [theirs["id"]]


def test_beyond_the_cap_the_least_recently_used_token_is_revoked(app, client, make_user, clock):
    """A person keeps at most API_TOKEN_CAP live tokens; the one used most recently survives
    even though it is the oldest."""
    app.config["API_TOKEN_CAP"] = 3
    person = make_user("dispatcher")
    clock(T0)
    in_use, idle, spare = (new_token(client, person) for _ in range(3))
    clock(T0 + timedelta(hours=1))
    client.get("/api/v1/vehicles", headers=bearer(in_use))

    fourth = new_token(client, person)

    assert fourth["revoked_token_ids"] == [idle["id"]]
    assert client.get("/api/v1/vehicles", headers=bearer(idle)).status_code == 401
    listed = client.get("/api/v1/auth/tokens", headers=bearer(fourth)).get_json()["items"]
    assert {t["id"] for t in listed} == {in_use["id"], spare["id"], fourth["id"]}
    assert spare["revoked_token_ids"] == []


def test_a_deactivated_persons_token_stops_working(client, make_user, session):
    """Checked on every request, not only when tokens are revoked."""
    person = make_user("dispatcher")
    issued = new_token(client, person)
    session.get(User, person.id).is_active = False
    session.commit()

    assert client.get("/api/v1/vehicles", headers=bearer(issued)).status_code == 401


@pytest.fixture
def writes(connection):  # type: ignore[no-untyped-def]
    """The INSERT/UPDATE/DELETE statements the app sends while the test runs."""
    sent: list[str] = []

    def remember(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            sent.append(statement)

    event.listen(connection, "before_cursor_execute", remember)
    yield sent
    event.remove(connection, "before_cursor_execute", remember)


def test_reads_write_last_used_at_at_most_every_five_minutes(
    client, make_user, clock, session, writes
):
    clock(T0)
    issued = new_token(client, make_user("dispatcher"))
    used_at = []

    def read_at(moment: datetime) -> None:
        clock(moment)
        writes.clear()
        assert client.get("/api/v1/vehicles", headers=bearer(issued)).status_code == 200
        session.expire_all()
        used_at.append((session.get(ApiToken, issued["id"]).last_used_at, len(writes)))

    read_at(T0)  # first use: written
    read_at(T0 + timedelta(minutes=4))  # fresh: a pure read
    read_at(T0 + timedelta(minutes=5, seconds=1))  # stale: written again

    assert used_at == [
        (T0, 1),
        (T0, 0),
        (T0 + timedelta(minutes=5, seconds=1), 1),
    ]


def test_a_user_id_beyond_any_id_is_a_problem_naming_it(client, api_token):
    """Another person's tokens are asked for by id; 2^31 and more is no id (PostgreSQL would
    overflow), so the answer is 422 naming the field, never a 500."""
    headers = api_token("admin")

    response = client.get("/api/v1/auth/tokens?user_id=99999999999", headers=headers)

    assert response.status_code == 422
    assert "user_id" in response.get_json()["errors"]
