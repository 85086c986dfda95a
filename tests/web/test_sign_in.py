"""Signing in lands each role on its own page; forms carry CSRF tokens."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, sign_in

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
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/support/").status_code == 302


def test_inactive_user_cannot_sign_in(client, make_user, session):
    from app.accounts.models import User

    person = make_user("dispatcher")
    session.get(User, person.id).is_active = False
    session.commit()

    assert sign_in(client, person).status_code == 400
