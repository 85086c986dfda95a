"""Form messages speak the page's language (O4): WTForms' own ("This field is required.",
lengths), through its shipped catalogues, and ours where a library's words would leak."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.web.forms import LoginForm, MoveStopForm
from tests.conftest import csrf_token

RU = {"Accept-Language": "ru-RU,ru;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}
FEEDBACK = re.compile(r'class="invalid-feedback">([^<]*)<')


@pytest.fixture
def bilingual(app: Flask) -> Flask:
    app.config["LANGUAGES"] = ("ru", "en")
    return app


def _sign_in_with_no_email(client: FlaskClient, headers: dict[str, str]) -> list[str]:
    page = client.get("/login", headers=headers).get_data(as_text=True)
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(page), "email": "", "password": "something"},
        headers=headers,
    )
    assert response.status_code == 400
    return FEEDBACK.findall(response.get_data(as_text=True))


def test_an_empty_required_field_is_explained_in_the_pages_language(bilingual, client):
    assert _sign_in_with_no_email(client, RU) == ["Обязательное поле."]
    assert _sign_in_with_no_email(client, EN) == ["This field is required."]


def test_a_length_rule_is_explained_in_russian_with_its_numbers(bilingual, client, login_as):
    login_as("admin")
    page = client.get("/admin/", headers=RU).get_data(as_text=True)
    form = {"email": "new@example.org", "name": "Новый", "role": "support", "password": "short"}

    response = client.post("/admin/", data={**form, "csrf_token": csrf_token(page)}, headers=RU)

    assert response.status_code == 400
    assert FEEDBACK.findall(response.get_data(as_text=True)) == [
        "Значение должно содержать от 8 до 200 символов."
    ]


def test_a_page_sent_without_its_token_says_so_in_russian(bilingual, client):
    response = client.post("/login", data={"email": "a@b.c", "password": "x"}, headers=RU)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Эта форма устарела или пришла с другого сайта" in page
    assert "CSRF" not in page


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (RU, "Эта форма устарела или пришла с другого сайта, поэтому ничего не сохранено."),
        (EN, "This form has expired or came from another site, so nothing was saved."),
    ],
)
def test_a_forms_own_token_check_speaks_the_pages_language(bilingual, headers, expected):
    """The form checks its token too (when nothing checked it before the view); its reason is
    ours, not Flask-WTF's English about tokens."""
    data = {"email": "a@b.c", "password": "x", "csrf_token": "not-a-token"}
    with bilingual.test_request_context("/login", method="POST", data=data, headers=headers):
        form = LoginForm()
        assert not form.validate()

    (reason,) = form.csrf_token.errors
    assert reason.startswith(expected)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [(RU, "Выберите вариант из списка."), (EN, "Choose one of the options in the list.")],
)
def test_a_choice_that_is_not_a_number_is_said_in_words(bilingual, headers, expected):
    data = {"stop_id": "abc", "shift_id": "1", "position": "2"}
    with bilingual.test_request_context("/", method="POST", data=data, headers=headers):
        form = MoveStopForm(meta={"csrf": False})
        form.shift_id.choices = [(1, "")]
        assert not form.validate()
        errors = [str(e) for e in form.stop_id.errors]

    assert errors == [expected]
