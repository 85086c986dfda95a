"""How messages leave the machine: SMTP (against a real local SMTP server), SMS providers,
the log in the embedded mode, and building them from the environment."""

from __future__ import annotations

import email
import email.policy
import logging
import smtplib

import pytest

from app.notifications.senders import (
    LogMail,
    LogSms,
    SmsSender,
    SmtpSender,
    SmtpSettings,
    senders_from_env,
)
from tests.notifications.helpers import smtp_server


def test_smtp_sends_a_russian_subject_and_body_with_login():
    """The server gets the envelope, the credentials from the URL, and a UTF-8 message."""
    with smtp_server() as (port, mailbox):
        settings = SmtpSettings.from_url(f"smtp://robot:p%40ss@127.0.0.1:{port}")
        sender = SmtpSender(settings, "Roundtrip <shop@example.org>")

        sender.send("olga@example.org", "Доставка задерживается", "Курьер приедет в 12:40.")

    assert mailbox.logins == [("robot", "p@ss")]
    ((envelope_from, recipients, data),) = mailbox.envelopes
    assert (envelope_from, recipients) == ("shop@example.org", ["olga@example.org"])
    mail = email.message_from_bytes(data, policy=email.policy.default)
    assert mail["Subject"] == "Доставка задерживается"
    assert mail["From"] == "Roundtrip <shop@example.org>"
    assert mail.get_content().strip() == "Курьер приедет в 12:40."


def test_smtp_raises_when_the_server_refuses_the_recipient():
    """A refusal is an exception, so delivery retries and keeps the error."""
    with smtp_server() as (port, mailbox):
        mailbox.refuse.add("gone@example.org")
        sender = SmtpSender(SmtpSettings.from_url(f"smtp://127.0.0.1:{port}"))

        with pytest.raises(smtplib.SMTPRecipientsRefused):
            sender.send("gone@example.org", "Hello", "Text")

    assert mailbox.envelopes == []


def test_smtp_with_starttls_secures_the_connection_before_logging_in(monkeypatch):
    """smtp+starttls:// says STARTTLS before the password goes over the wire (a stand-in
    for smtplib.SMTP: the TLS server is outside this machine)."""
    calls: list[str] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            calls.append(f"connect {host}:{port}")

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *exc: object) -> None:
            calls.append("quit")

        def starttls(self, context: object) -> None:
            calls.append("starttls")

        def login(self, user: str, password: str) -> None:
            calls.append(f"login {user}")

        def send_message(self, mail: object) -> dict[str, object]:
            calls.append("send")
            return {}

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    sender = SmtpSender(SmtpSettings.from_url("smtp+starttls://robot:secret@mail.example"))

    sender.send("olga@example.org", "Hello", "Text")

    assert calls == ["connect mail.example:587", "starttls", "login robot", "send", "quit"]


@pytest.mark.parametrize(
    "url",
    ["http://mail.example", "smtp://", "mail.example:25", "smtps//mail.example"],
)
def test_a_bad_smtp_url_is_refused_at_start_up(url):
    """Said when the senders are built, not at the first message."""
    with pytest.raises(ValueError, match="ROUNDTRIP_SMTP_URL"):
        SmtpSettings.from_url(url)


def test_without_smtp_the_embedded_mode_logs_mail_and_sms():
    """No ROUNDTRIP_SMTP_URL: e-mail goes to the log; SMS goes to the log by default."""
    mail, sms = senders_from_env({})

    assert isinstance(mail, LogMail)
    assert mail.channel == "email"
    assert isinstance(sms, SmsSender)
    assert isinstance(sms.provider, LogSms)
    assert sms.channel == "sms"


def test_with_smtp_configured_mail_goes_through_the_server():
    """The URL, the port it implies, and the From address come from the environment."""
    mail, _ = senders_from_env(
        {"ROUNDTRIP_SMTP_URL": "smtps://mail.example", "ROUNDTRIP_MAIL_FROM": "a@example.org"}
    )

    assert isinstance(mail, SmtpSender)
    assert (mail.settings.host, mail.settings.port, mail.settings.security) == (
        "mail.example",
        465,
        "tls",
    )
    assert mail.from_address == "a@example.org"


def test_an_unknown_sms_provider_is_refused():
    """Only the providers Roundtrip has can be named."""
    with pytest.raises(ValueError, match="ROUNDTRIP_SMS"):
        senders_from_env({"ROUNDTRIP_SMS": "pigeon"})


def test_an_sms_is_the_body_alone(caplog):
    """An SMS has no subject: the provider gets the phone number and the body."""
    with caplog.at_level(logging.INFO, logger="app.notifications.senders"):
        SmsSender(LogSms()).send("+7 900 000-00-00", "Subject", "Курьер опаздывает")

    assert "SMS to +7 900 000-00-00: Курьер опаздывает" in caplog.text
    assert "Subject" not in caplog.text
