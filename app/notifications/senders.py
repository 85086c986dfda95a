"""How a message leaves the machine: e-mail over SMTP, SMS through a provider, or the log.

A :class:`Sender` sends one text on one channel and raises when it could not; delivery
(``app.notifications.jobs``) retries later. The embedded mode has no mail server and no SMS
contract: its senders write to the log, and the staff page shows what was "sent".

Environment:
  ROUNDTRIP_SMTP_URL   smtp://user:password@host:587 (plain), smtp+starttls://... (STARTTLS),
                       smtps://... (TLS from the start); empty: e-mail is only logged
  ROUNDTRIP_MAIL_FROM  the From address (default roundtrip@localhost)
  ROUNDTRIP_SMS        the SMS provider: "log" (default) writes the text to the log
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

from app.notifications.models import Channel

log = logging.getLogger(__name__)

SMTP_TIMEOUT_S = 30.0
DEFAULT_FROM = "roundtrip@localhost"


class Sender(Protocol):
    """Sends one message on one channel; raises if it was not accepted."""

    channel: str

    def send(self, to: str, subject: str, body: str) -> None: ...


class SmsProvider(Protocol):
    """An SMS gateway: takes a phone number and a text; raises if it refused."""

    def send_sms(self, phone: str, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    security: str  # "none", "starttls" or "tls"

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """smtp://user:pass@host:port, smtp+starttls://..., smtps://...; refuses anything
        else at start-up rather than at the first message."""
        parts = urlsplit(url)
        schemes = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(
                "ROUNDTRIP_SMTP_URL: use smtp://user:password@host:port "
                "(or smtp+starttls://, smtps://)"
            )
        security, default_port = schemes[parts.scheme]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            security=security,
        )


class SmtpSender:
    """E-mail through an SMTP server, one connection per message (a few a minute)."""

    channel = Channel.EMAIL.value

    def __init__(self, settings: SmtpSettings, from_address: str = DEFAULT_FROM) -> None:
        self.settings = settings
        self.from_address = from_address

    def send(self, to: str, subject: str, body: str) -> None:
        mail = EmailMessage()
        mail["From"] = self.from_address
        mail["To"] = to
        mail["Subject"] = subject
        mail["Message-ID"] = make_msgid(domain=self.from_address.rpartition("@")[2] or None)
        mail.set_content(body)
        s = self.settings
        smtp_class = smtplib.SMTP_SSL if s.security == "tls" else smtplib.SMTP
        with smtp_class(s.host, s.port, timeout=SMTP_TIMEOUT_S) as smtp:
            if s.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password or "")
            refused = smtp.send_message(mail)
        if refused:  # some recipients refused, the rest accepted: for one recipient, a failure
            raise smtplib.SMTPRecipientsRefused(refused)


class LogMail:
    """E-mail without a mail server (the embedded mode): the message goes to the log."""

    channel = Channel.EMAIL.value

    def send(self, to: str, subject: str, body: str) -> None:
        log.info("e-mail to %s: %s\n%s", to, subject, body)


class LogSms:
    """SMS without a provider (the embedded mode): the text goes to the log."""

    def send_sms(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)


class SmsSender:
    """The SMS channel over any provider; an SMS has no subject, only the body."""

    channel = Channel.SMS.value

    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider

    def send(self, to: str, subject: str, body: str) -> None:
        self.provider.send_sms(to, body)


def sms_provider_from_env(env: Mapping[str, str]) -> SmsProvider:
    """ROUNDTRIP_SMS names the provider. A real one (an HTTP gateway with its key in
    ROUNDTRIP_SMS_*) is added here as another name; until then only "log" exists."""
    name = env.get("ROUNDTRIP_SMS", "log") or "log"
    if name == "log":
        return LogSms()
    raise ValueError(f"ROUNDTRIP_SMS: {name!r}; the providers available are: log")


def senders_from_env(env: Mapping[str, str]) -> list[Sender]:
    """One sender per channel, as this installation's environment configures them."""
    url = env.get("ROUNDTRIP_SMTP_URL", "").strip()
    from_address = env.get("ROUNDTRIP_MAIL_FROM", "").strip() or DEFAULT_FROM
    mail: Sender = SmtpSender(SmtpSettings.from_url(url), from_address) if url else LogMail()
    return [mail, SmsSender(sms_provider_from_env(env))]
