"""Problem documents speak the caller's Accept-Language (O4): the human text (``title``,
``detail``, the messages in ``errors``) is Russian or English; what programs read (``type``,
``status``, the field names keying ``errors``) is the same in every language."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

PROBLEM = "application/problem+json"
RU = {"Accept-Language": "ru-RU,ru;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def bilingual(app: Flask) -> Flask:
    app.config["LANGUAGES"] = ("ru", "en")
    return app


@pytest.fixture
def dispatcher(api_token):  # type: ignore[no-untyped-def]
    return api_token("dispatcher")


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    return body


def order(world: Any, **overrides: Any) -> dict[str, Any]:
    day = "2030-01-15"
    body = {
        "customer_id": world.customer.id,
        "address_id": world.address.id,
        "delivery_day": day,
        "window_start_at": f"{day}T08:00:00+03:00",
        "window_end_at": f"{day}T10:00:00+03:00",
        "items": [{"sku": "KET-1", "quantity": 2}],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_an_unknown_order_is_not_found_in_russian(bilingual, client, dispatcher):
    russian = problem_of(client.get("/api/v1/orders/999999", headers={**dispatcher, **RU}), 404)
    english = problem_of(client.get("/api/v1/orders/999999", headers={**dispatcher, **EN}), 404)

    assert russian["title"] == "Не найдено"
    assert russian["detail"] == "Заказа 999999 нет."
    assert english["title"] == "Not Found"
    assert english["detail"] == "There is no order 999999."


def test_a_route_that_does_not_exist_answers_in_the_callers_language(bilingual, client):
    russian = problem_of(client.get("/api/v1/nowhere", headers=RU), 404)
    english = problem_of(client.get("/api/v1/nowhere", headers=EN), 404)

    assert (russian["title"], russian["detail"]) == ("Не найдено", "По этому адресу ничего нет.")
    assert (english["title"], english["detail"]) == (
        "Not Found",
        "There is nothing at this address.",
    )


def test_field_errors_are_translated_but_keyed_by_the_same_field_names(
    bilingual, client, world, dispatcher
):
    bad = order(world, customer_id=None, delivery_day="1999-12-31")

    russian = problem_of(client.post("/api/v1/orders", json=bad, headers={**dispatcher, **RU}), 422)
    english = problem_of(client.post("/api/v1/orders", json=bad, headers={**dispatcher, **EN}), 422)

    assert russian["title"] == "Данные не приняты"
    assert english["title"] == "Unprocessable Entity"
    assert set(russian["errors"]) == set(english["errors"]) == {"customer_id", "delivery_day"}
    assert russian["errors"]["delivery_day"] == ["Дата должна быть между 2000-01-01 и 2100-12-31."]
    assert english["errors"]["delivery_day"] == [
        "Must be a date between 2000-01-01 and 2100-12-31."
    ]
    assert russian["errors"]["customer_id"] == ["Обязательное поле не заполнено."]
    assert english["errors"]["customer_id"] == ["Missing data for required field."]
    assert "delivery_day: Дата должна быть между 2000-01-01 и 2100-12-31." in russian["detail"]


def test_marshmallows_own_messages_and_bounds_are_translated(bilingual, client, world, dispatcher):
    bad = order(world, items=[{"sku": "KET-1", "quantity": 1000}], notes="a\x00b")

    russian = problem_of(client.post("/api/v1/orders", json=bad, headers={**dispatcher, **RU}), 422)
    english = problem_of(client.post("/api/v1/orders", json=bad, headers={**dispatcher, **EN}), 422)

    assert russian["errors"] == {
        "items.0.quantity": ["Должно быть от 1 до 999."],
        "notes": ["Не должно содержать символ NUL."],
    }
    assert english["errors"] == {
        "items.0.quantity": ["Must be greater than or equal to 1 and less than or equal to 999."],
        "notes": ["Must not contain a NUL character."],
    }


def test_without_a_token_the_401_title_is_russian(bilingual, client):
    russian = problem_of(client.get("/api/v1/orders", headers=RU), 401)
    english = problem_of(client.get("/api/v1/orders", headers=EN), 401)

    assert russian["title"] == "Требуется вход"
    assert english["title"] == "Unauthorized"


def test_a_wrong_password_is_said_in_russian(bilingual, client, make_user):
    person = make_user("dispatcher")
    wrong = {"email": person.email, "password": "not-the-password"}

    russian = problem_of(client.post("/api/v1/auth/tokens", json=wrong, headers=RU), 401)
    english = problem_of(client.post("/api/v1/auth/tokens", json=wrong, headers=EN), 401)

    assert (russian["title"], russian["detail"]) == (
        "Требуется вход",
        "Неверный адрес электронной почты или пароль.",
    )
    assert (english["title"], english["detail"]) == (
        "Unauthorized",
        "The e-mail or password is wrong.",
    )


def test_an_installation_offering_only_english_answers_in_english(app, client):
    body = problem_of(client.get("/api/v1/nowhere", headers=RU), 404)

    assert body["title"] == "Not Found"


@pytest.mark.parametrize(
    ("body", "field", "russian", "english"),
    [
        ({"colour": "red"}, "colour", "Такого поля нет.", "Unknown field."),
        ({"items": [7]}, "items.0._schema", "Неверный тип данных.", "Invalid input type."),
        (
            {"address": "Tverskaya 1"},
            "address._schema",
            "Неверный тип данных.",
            "Invalid input type.",
        ),
    ],
)
def test_marshmallows_schema_messages_are_translated(
    bilingual, client, world, dispatcher, body, field, russian, english
):
    """What marshmallow says of a whole schema (an unknown field, an object that is not one)
    has no catalogue of its own; the caller still reads it in their language."""
    bad = order(world, **body)

    said_ru = problem_of(client.post("/api/v1/orders", json=bad, headers={**dispatcher, **RU}), 422)
    said_en = problem_of(client.post("/api/v1/orders", json=bad, headers={**dispatcher, **EN}), 422)

    assert said_ru["errors"] == {field: [russian]}
    assert said_en["errors"] == {field: [english]}
    assert russian in said_ru["detail"]
    assert english not in said_ru["detail"]


def test_a_body_that_is_not_an_object_is_refused_in_russian(bilingual, client, dispatcher):
    """marshmallow names the body as a whole `_schema`; the API calls it `body`."""
    russian = problem_of(
        client.post("/api/v1/orders", json=[1, 2], headers={**dispatcher, **RU}), 422
    )

    assert russian["errors"] == {"body": ["Неверный тип данных."]}
    assert "Invalid" not in russian["detail"]


def test_a_session_call_without_its_csrf_token_is_refused_in_russian(
    bilingual, client, world, login_as
):
    """A page's script calling the API with the session cookie must send the CSRF token;
    Flask-WTF's reason is English only, the caller reads ours."""
    login_as("dispatcher")

    russian = problem_of(client.post("/api/v1/orders", json=order(world), headers=RU), 400)
    english = problem_of(client.post("/api/v1/orders", json=order(world), headers=EN), 400)

    assert russian["title"] == "Неверный запрос"
    assert russian["detail"].startswith("Нет CSRF-токена")
    assert english["detail"] == (
        "The CSRF token is missing: send it in the X-CSRFToken header, or use a bearer token."
    )
