"""Sign-in throttling: per client address and e-mail, and per address; the page and the API
token endpoint share the count. Over the limit: 429 with Retry-After, saying when to retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.web.public import plain_wait
from tests.conftest import Person, sign_in

T0 = datetime(2030, 3, 2, 9, 0, 5, tzinfo=UTC)


@pytest.fixture
def throttled(app: Flask) -> FlaskClient:
    """A client of the test app rebuilt with throttling on: 3 attempts a minute per address
    and e-mail, 5 per address."""
    from app.web import create_app

    throttled_app = create_app(
        {
            **app.config,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SIGN_IN_LIMIT": "3 per minute",
            "SIGN_IN_LIMIT_PER_IP": "5 per minute",
        }
    )
    return throttled_app.test_client()


def wrong(person: Person) -> Person:
    return Person(person.id, person.email, "not-the-password", person.role)


def token_attempt(client: FlaskClient, person: Person, **kwargs):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/tokens",
        json={"email": person.email, "password": person.password},
        **kwargs,
    )


def test_page_says_when_to_try_again_and_refuses_even_the_right_password(
    throttled, make_user, clock
):
    clock(T0)
    person = make_user("dispatcher")
    for _ in range(3):
        assert sign_in(throttled, wrong(person)).status_code == 400

    refused = sign_in(throttled, person)

    assert refused.status_code == 429
    wait_s = int(refused.headers["Retry-After"])
    assert 0 < wait_s <= 60
    page = refused.get_data(as_text=True)
    assert f"Too many sign-in attempts. Wait {plain_wait(wait_s)}, then try again." in page
    assert 'name="csrf_token"' in page  # the form is there to try again
    assert throttled.get("/dispatcher/").status_code == 302


def test_the_limit_lifts_when_the_minute_is_over(throttled, make_user, clock):
    clock(T0)
    person = make_user("dispatcher")
    for _ in range(3):
        sign_in(throttled, wrong(person))
    assert sign_in(throttled, person).status_code == 429

    clock(T0 + timedelta(seconds=61))

    assert sign_in(throttled, person).status_code == 302


def test_api_answers_429_problem_with_retry_after(throttled, make_user, clock):
    clock(T0)
    person = make_user("dispatcher")
    for _ in range(3):
        assert token_attempt(throttled, wrong(person)).status_code == 401

    refused = token_attempt(throttled, person)

    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    wait_s = int(refused.headers["Retry-After"])
    assert 0 < wait_s <= 60
    assert refused.get_json()["detail"] == (
        f"Too many sign-in attempts. Wait {wait_s} seconds, then try again."
    )


def test_page_and_api_share_the_count(throttled, make_user, clock):
    clock(T0)
    person = make_user("support")
    sign_in(throttled, wrong(person))
    sign_in(throttled, wrong(person))
    token_attempt(throttled, wrong(person))

    assert token_attempt(throttled, person).status_code == 429


def test_per_address_limit_covers_many_emails_but_not_other_addresses(throttled, make_user, clock):
    clock(T0)
    people = [make_user("customer") for _ in range(6)]
    for person in people[:5]:
        assert token_attempt(throttled, wrong(person)).status_code == 401

    assert token_attempt(throttled, people[5]).status_code == 429
    elsewhere = token_attempt(throttled, people[5], environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 201


def test_other_emails_from_the_same_address_still_sign_in(throttled, make_user, clock):
    clock(T0)
    attacked, colleague = make_user("dispatcher"), make_user("dispatcher")
    for _ in range(3):
        sign_in(throttled, wrong(attacked))

    assert sign_in(throttled, colleague).status_code == 302


def test_opening_the_form_is_not_an_attempt(throttled, make_user, clock):
    clock(T0)
    person = make_user("courier")
    for _ in range(10):
        throttled.get("/login")

    assert sign_in(throttled, person).status_code == 302


def test_throttling_is_off_in_the_default_test_app(client, make_user):
    person = make_user("courier")
    for _ in range(12):
        assert sign_in(client, wrong(person)).status_code == 400


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1, "1 second"), (45, "45 seconds"), (60, "1 minute"), (61, "2 minutes")],
)
def test_waits_are_said_in_plain_words(seconds, words):
    assert plain_wait(seconds) == words
