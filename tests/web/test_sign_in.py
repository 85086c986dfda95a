"""Signing in lands each role on its own page; forms carry CSRF tokens."""

from __future__ import annotations

import pytest

from tests.conftest import Person, csrf_token, sign_in

LANDING = {
    "admin": "/admin/",
    "dispatcher": "/dispatcher/",
    "support": "/support/",
    "courier": "/courier/",
    "customer": "/portal/",
}


@pytest.mark.parametrize("role", list(LANDING))
def test_sign_in_lands_on_the_roles_page(client, make_user, role):
    person = make_user(role)

    response = sign_in(client, person)

    assert response.status_code == 302
    assert response.headers["Location"] == LANDING[role]
    page = client.get(LANDING[role])
    assert page.status_code == 200
    assert f"Test {role.title()} · {role}" in page.get_data(as_text=True)


def test_wrong_password_says_so_and_keeps_you_on_the_form(client, make_user):
    person = make_user("dispatcher")
    person.password = "not-the-password"

    response = sign_in(client, person)

    assert response.status_code == 400
    assert "The e-mail or password is wrong" in response.get_data(as_text=True)
    assert client.get("/dispatcher/").status_code == 302


def test_sign_in_without_csrf_token_is_refused(client, make_user):
    person = make_user("dispatcher")

    response = client.post("/login", data={"email": person.email, "password": person.password})

    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)
    assert client.get("/dispatcher/").status_code == 302


def test_next_goes_back_to_the_page_asked_for_but_never_off_site(client, make_user):
    person = make_user("admin")
    form = client.get("/login?next=/support/").get_data(as_text=True)
    data = {"email": person.email, "password": person.password, "csrf_token": csrf_token(form)}

    assert client.post("/login?next=/support/", data=data).headers["Location"] == "/support/"
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    form = client.get("/login").get_data(as_text=True)
    data["csrf_token"] = csrf_token(form)
    response = client.post("/login?next=https://evil.example/", data=data)
    assert response.headers["Location"] == "/admin/"


def test_sign_out_needs_the_form_token(client, login_as):
    login_as("support")

    refused = client.post("/logout")
    assert refused.status_code == 400
    assert client.get("/support/").status_code == 200

    token = csrf_token(client.get("/support/").get_data(as_text=True))
    signed_out = client.post("/logout", data={"csrf_token": token})
    assert client.get("/support/").status_code == 302
    # What the browser kept for this person (a courier's saved page) goes with them.
    assert signed_out.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_inactive_user_cannot_sign_in(client, make_user, session):
    from app.accounts.models import User

    person = make_user("dispatcher")
    session.get(User, person.id).is_active = False
    session.commit()

    assert sign_in(client, person).status_code == 400


def sign_out(client) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})


def test_a_copied_session_cookie_stops_working_after_sign_out(app, client, login_as):
    """Sign-out ends the session on the server, not only in the browser that signed out."""
    login_as("support")
    stolen = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/support/").status_code == 200

    sign_out(client)

    page = thief.get("/support/")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login")
    assert thief.get("/api/v1/auth/tokens").status_code == 401


def test_signing_out_ends_only_that_sign_in(app, client, make_user):
    person = make_user("dispatcher")
    phone = app.test_client()
    sign_in(client, person)
    sign_in(phone, person)

    sign_out(client)

    assert client.get("/dispatcher/").status_code == 302
    assert phone.get("/dispatcher/").status_code == 200


@pytest.fixture
def password_checks(monkeypatch):  # type: ignore[no-untyped-def]
    """Every password hash the sign-in checks against (the real check still runs)."""
    from app.accounts import services

    checked: list[str] = []
    real = services.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", spy)
    return checked


def test_unknown_email_costs_a_password_check_too(client, make_user, password_checks):
    """Known and unknown e-mails take the same work, so timing does not tell them apart."""
    known = make_user("dispatcher")
    sign_in(client, Person(0, "nobody@example.org", "password-123", "dispatcher"))
    sign_in(client, Person(known.id, known.email, "wrong-password", "dispatcher"))

    assert len(password_checks) == 2
    assert password_checks[0] != password_checks[1]  # a dummy hash for the unknown one


def test_inactive_person_costs_a_password_check_too(client, make_user, session, password_checks):
    from app.accounts.models import User

    person = make_user("dispatcher")
    session.get(User, person.id).is_active = False
    session.commit()

    assert sign_in(client, person).status_code == 400
    assert len(password_checks) == 1
    assert password_checks[0] != session.get(User, person.id).password_hash


def test_deactivating_a_person_ends_their_sessions_and_tokens(app, client, make_user, login_as):
    person = make_user("courier")
    their_browser = app.test_client()
    assert sign_in(their_browser, person).status_code == 302
    token = their_browser.post(
        "/api/v1/auth/tokens", json={"email": person.email, "password": person.password}
    ).get_json()["token"]
    login_as("admin")

    page = client.get("/admin/")
    response = client.post(
        f"/admin/people/{person.id}/deactivate",
        data={"csrf_token": csrf_token(page.get_data(as_text=True))},
    )

    assert response.status_code == 302
    assert their_browser.get("/courier/").status_code == 302
    bearer = {"Authorization": f"Bearer {token}"}
    assert their_browser.get("/api/v1/shifts", headers=bearer).status_code == 401
    assert sign_in(their_browser, person).status_code == 400


def test_an_admin_cannot_deactivate_themselves(client, login_as):
    admin = login_as("admin")
    page = client.get("/admin/")

    client.post(
        f"/admin/people/{admin.id}/deactivate",
        data={"csrf_token": csrf_token(page.get_data(as_text=True))},
    )

    assert client.get("/admin/").status_code == 200


def test_only_admins_deactivate_people(client, make_user, login_as):
    person = make_user("courier")
    login_as("dispatcher")
    token = csrf_token(client.get("/dispatcher/").get_data(as_text=True))

    response = client.post(f"/admin/people/{person.id}/deactivate", data={"csrf_token": token})

    assert response.status_code == 403


def test_the_admin_page_offers_deactivation_for_others_and_reactivation(
    client, session, make_user, login_as
):
    person = make_user("courier")
    admin = login_as("admin")

    page = client.get("/admin/").get_data(as_text=True)
    assert f"/admin/people/{person.id}/deactivate" in page
    assert f"/admin/people/{admin.id}/deactivate" not in page  # never yourself

    client.post(f"/admin/people/{person.id}/deactivate", data={"csrf_token": csrf_token(page)})
    page = client.get("/admin/").get_data(as_text=True)
    assert f"/admin/people/{person.id}/activate" in page
    client.post(f"/admin/people/{person.id}/activate", data={"csrf_token": csrf_token(page)})

    assert sign_in(client.application.test_client(), person).status_code == 302
