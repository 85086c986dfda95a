"""Sending the outbox: take what is due, say it in the reader's language, send, mark.

Several workers may deliver at once. Each first *claims* a batch in one short transaction
(PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so two workers never pick the same row; every
backend: a compare-and-set that moves the row's next attempt past the claim), then sends
without holding any lock, and records each row's outcome in its own transaction. A worker
that dies mid-batch leaves its rows claimed; they are due again when the claim runs out.
Delivery is at least once: a crash between a send and its record sends that message again.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import User
from app.cli_words import Voice
from app.config import Config
from app.customers.models import Customer
from app.db import session_scope, utcnow
from app.links import tracking_url
from app.messages import Message, say
from app.notifications.models import Channel, NoticeKind, NoticeStatus, Notification
from app.notifications.senders import Sender, senders_from_env

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)  # then 2, 4, ... 64 minutes: about two hours in all
# A claimed row is left alone this long. A worker starts no send after CLAIM - CLAIM_MARGIN,
# so no other worker can have taken the row over while it sends.
CLAIM = timedelta(minutes=5)
# An SMTP send may wait four timeouts (connect, STARTTLS, login, send): 4 x 30 s.
CLAIM_MARGIN = timedelta(minutes=3)
ERROR_MAX = 2000

SUBJECTS: Mapping[str, Message] = {
    NoticeKind.LATE: say("Your delivery is running late"),
    NoticeKind.RETURN_UPDATE: say("News about your return"),
    NoticeKind.RETURN_LATE: say("We are sorry: your return is taking longer than promised"),
    NoticeKind.ESCALATION: say("A return case needs an answer soon"),
    NoticeKind.HELD: say("Your order is on hold"),
    NoticeKind.RATING_INVITE: say("How was your delivery?"),
    NoticeKind.SUPPORT_OPENED: say("We have your message and will answer soon"),
    NoticeKind.SUPPORT_REPLY: say("Our answer to your message"),
    NoticeKind.CALLBACK_MISSED: say("A callback's time has passed and nobody called"),
    NoticeKind.OFFER: say("A thank-you for being with us"),
    NoticeKind.FEEDBACK: say("A customer's detailed feedback for you to look at"),
}


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """What delivery needs from the installation's configuration."""

    public_url: str  # ROUNDTRIP_PUBLIC_URL: links in messages start here
    secret: str  # SECRET_KEY: signs the tracking links
    support_email: str  # ROUNDTRIP_SUPPORT_EMAIL: where staff messages go
    languages: Sequence[str]  # ROUNDTRIP_LANGUAGES: offered, the default first

    @classmethod
    def from_config(cls, config: Config) -> DeliverySettings:
        return cls(
            public_url=config.PUBLIC_URL,
            secret=config.SECRET_KEY,
            support_email=config.SUPPORT_EMAIL,
            languages=tuple(config.LANGUAGES),
        )


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed attempt a message is tried again: the
    wait doubles each time."""
    return FIRST_RETRY * (1 << max(0, attempts - 1))


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed message, said in its reader's language, with the channels still to send."""

    notification_id: int
    language: str
    subject: str = ""
    body: str = ""
    addresses: Mapping[str, str] = field(default_factory=dict)  # channel -> address
    problem: str | None = None  # why it could not even be composed


def deliver(
    factory: sessionmaker[Session],
    *,
    now: datetime | None = None,
    senders: Iterable[Sender] | None = None,
    batch: int = 100,
    settings: DeliverySettings | None = None,
) -> int:
    """Send up to ``batch`` due messages; returns how many went out on every channel.

    ``now`` pins the clock (tests); by default each step reads the real one. ``senders``
    default to the environment's (``senders_from_env``), ``settings`` to ``Config()``.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    chosen = list(senders) if senders is not None else senders_from_env(os.environ)
    by_channel = {sender.channel: sender for sender in chosen}
    settings = settings or DeliverySettings.from_config(Config())
    started = time.monotonic()
    outgoing = _claim(factory, now=clock(), batch=batch, settings=settings)
    sent = 0
    for n, item in enumerate(outgoing):
        if time.monotonic() - started > (CLAIM - CLAIM_MARGIN).total_seconds():
            rest = [o.notification_id for o in outgoing[n:]]
            log.warning("notifications: claim running out; %s left for the next run", len(rest))
            _release(factory, rest, now=clock())
            break
        done, errors = _send(item, by_channel)
        sent += _record(factory, item, done, errors, now=clock())
    return sent


def _claim(
    factory: sessionmaker[Session], *, now: datetime, batch: int, settings: DeliverySettings
) -> list[Outgoing]:
    with session_scope(factory) as session:
        due = session.scalars(
            select(Notification)
            .where(
                Notification.status == NoticeStatus.PENDING,
                Notification.next_attempt_at <= now,
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for row in due:
            # SQLite ignores FOR UPDATE: the compare-and-set is what makes the claim one's own.
            taken = session.execute(
                update(Notification)
                .where(
                    Notification.id == row.id,
                    Notification.status == NoticeStatus.PENDING,
                    Notification.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + CLAIM, attempts=Notification.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(row)
        languages = _languages(session, {r.customer_id for r in claimed if r.customer_id})
        return [_compose(row, languages.get(row.customer_id), settings) for row in claimed]


def _languages(session: Session, customer_ids: set[int]) -> dict[int | None, str | None]:
    """Each customer's chosen language (on their account), if they have chosen one."""
    if not customer_ids:
        return {}
    found = session.execute(
        select(Customer.id, User.language)
        .join(User, User.id == Customer.user_id)
        .where(Customer.id.in_(customer_ids))
    )
    return {customer_id: language for customer_id, language in found}


def _compose(row: Notification, chosen: str | None, settings: DeliverySettings) -> Outgoing:
    offered = settings.languages
    language = chosen if chosen is not None and chosen in offered else offered[0]
    try:
        voice = Voice(language)
        subject = voice(SUBJECTS.get(row.kind, say("News about your order")))
        parts = [voice(row.message)]
        if row.order_id is not None:
            link = tracking_url(
                settings.public_url, settings.secret, row.order_id, case_id=row.case_id
            )
            line = (
                say("What the customer sees: %(link)s", link=link)
                if row.customer_id is None
                else say("Your order's page: %(link)s", link=link)
            )
            parts.append(voice(line))
    except Exception as exc:  # a message that cannot be said is this row's failure only
        log.exception("notification %s could not be composed", row.id)
        return Outgoing(row.id, language, problem=f"{type(exc).__name__}: {exc}")
    addresses: dict[str, str] = {}
    if row.customer_id is None:
        if row.email_sent_at is None:
            addresses[Channel.EMAIL] = row.email or settings.support_email
    else:
        if row.email and row.email_sent_at is None:
            addresses[Channel.EMAIL] = row.email
        if row.phone and row.sms_sent_at is None:
            addresses[Channel.SMS] = row.phone
    return Outgoing(row.id, language, subject, "\n\n".join(parts), addresses)


def _send(item: Outgoing, by_channel: Mapping[str, Sender]) -> tuple[list[str], list[str]]:
    """Try each channel still to send; returns the channels that took it, and the errors."""
    if item.problem is not None:
        return [], [item.problem]
    done: list[str] = []
    errors: list[str] = []
    for channel, to in item.addresses.items():
        sender = by_channel.get(channel)
        if sender is None:
            errors.append(f"{channel}: no sender configured")
            continue
        if not to:
            errors.append(f"{channel}: no address (ROUNDTRIP_SUPPORT_EMAIL is empty)")
            continue
        try:
            sender.send(to, item.subject, item.body)
        except Exception as exc:  # whatever a sender raises, the message is tried again later
            log.warning(
                "notification %s: %s to %s failed: %s", item.notification_id, channel, to, exc
            )
            errors.append(f"{channel}: {type(exc).__name__}: {exc}")
        else:
            done.append(channel)
    return done, errors


def _record(
    factory: sessionmaker[Session],
    item: Outgoing,
    done: list[str],
    errors: list[str],
    *,
    now: datetime,
) -> int:
    """Write what one attempt did; 1 if the message is now sent on every channel."""
    with session_scope(factory) as session:
        row = session.get_one(Notification, item.notification_id)
        if Channel.EMAIL in done:
            row.email_sent_at = now
        if Channel.SMS in done:
            row.sms_sent_at = now
        row.language = item.language
        if not errors:
            row.status, row.sent_at = NoticeStatus.SENT, now
            row.next_attempt_at, row.last_error = None, None
            return 1
        row.last_error = "; ".join(errors)[:ERROR_MAX]
        if row.attempts >= MAX_ATTEMPTS:
            row.status, row.next_attempt_at = NoticeStatus.FAILED, None
            log.error("notification %s failed for good: %s", row.id, row.last_error)
        else:
            row.next_attempt_at = now + retry_delay(row.attempts)
        return 0


def _release(factory: sessionmaker[Session], ids: list[int], *, now: datetime) -> None:
    """Give back claimed rows this run will not send: due at once, the attempt not counted."""
    with session_scope(factory) as session:
        session.execute(
            update(Notification)
            .where(Notification.id.in_(ids), Notification.status == NoticeStatus.PENDING)
            .values(next_attempt_at=now, attempts=Notification.attempts - 1)
            .execution_options(synchronize_session=False)
        )
