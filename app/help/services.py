"""Help without a queue (P3): the FAQ support maintains, every contact channel with its hours
and its real response time, a message to support and a callback at a slot the customer picks.

Services take a Session and ``now`` and only flush; the caller commits.

Decisions, as made here:

- The FAQ is ordered by how often each question is asked: the number of support cases that
  support tagged with the entry's ``tag`` and that were opened in the last 90 days (a case
  opened exactly 90 days ago no longer counts), most asked first, then by question.
- The channels a customer chooses are the message (the contact form, e-mail) and the phone
  callback; cases we open ourselves after a low rating or NPS score are not a channel, so
  they do not count. A channel's response time is the time from a case's ``opened_at`` to
  its ``answered_at``, over the cases of that channel answered in the last 30 days (answered
  exactly 30 days ago no longer counts): the median (the mean of the two middle values when
  their number is even) and the 90th percentile (nearest rank: the smallest time that at
  least 90 % of the answers took no longer than).
- Support hours (ROUNDTRIP_SUPPORT_HOURS, default "09:00-21:00") are read in
  ROUNDTRIP_SUPPORT_TIMEZONE (default Europe/Moscow). A callback is booked in a 30-minute slot
  within those hours, today or tomorrow in that zone, starting after now, and at most
  ROUNDTRIP_CALLBACK_SLOT_CAPACITY (default 3) callbacks share a slot. Its case is due at
  the slot's start; support is reminded once when the slot started 10 minutes ago and the
  case is still unanswered.
- A customer writing or asking for a callback is the signed-in customer, else the customer
  with the e-mail typed, else the one with the phone typed, else a new customer record.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.customers.models import Customer
from app.db import serialize
from app.errors import Conflict, ErrorCollector, NotFound
from app.help.models import ANSWER_MAX, PHONE_MAX, QUESTION_MAX, CallbackRequest, FaqEntry
from app.messages import Message, say
from app.notifications import services as notifications
from app.quality import services as quality
from app.quality.models import QUESTION_TAG_MAX, CaseSource, CaseStatus, SupportCase
from app.stats import median, p90

__all__ = [
    "ASKED_WINDOW",
    "MESSAGE_MAX",
    "REMIND_AFTER",
    "RESPONSE_WINDOW",
    "SLOT",
    "CallbackTask",
    "ChannelTimes",
    "FaqItem",
    "HelpRules",
    "Requested",
    "Slot",
    "asked_counts",
    "callback_slots",
    "callback_tasks",
    "faq",
    "faq_tags",
    "missed_callbacks",
    "remind_missed",
    "request_callback",
    "response_times",
    "save_faq",
    "send_message",
    "untagged_questions",
]

ASKED_WINDOW = timedelta(days=90)  # the FAQ counts questions asked this recently
RESPONSE_WINDOW = timedelta(days=30)  # response times over answers this recent
SLOT = timedelta(minutes=30)
CALLBACK_SLOT_LOCK = 0x43424B  # the advisory-lock namespace of callback slots ("CBK")
REMIND_AFTER = timedelta(minutes=10)  # a slot this long past and unanswered: remind support
MESSAGE_MAX = 2_000
NAME_MAX = 120
EMAIL_MAX = 254
QUERY_MAX = 100
LANGUAGES = ("en", "ru")
CHANNELS = (CaseSource.CALLBACK, CaseSource.CONTACT)  # what a customer chooses to use

_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-]{5,31}$")
_TAG = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class HelpRules:
    """Support's hours (in ``timezone``) and how many callbacks a 30-minute slot takes."""

    opens: time = time(9, 0)
    closes: time = time(21, 0)
    timezone: str = "Europe/Moscow"
    slot_capacity: int = 3

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HelpRules:
        env = os.environ if env is None else env
        raw = env.get("ROUNDTRIP_SUPPORT_HOURS", "09:00-21:00").strip()
        match = _HOURS.match(raw)
        hours = [int(x) for x in match.groups()] if match else []
        if not hours or hours[0] > 23 or hours[2] > 23 or hours[1] > 59 or hours[3] > 59:
            raise ValueError(f"ROUNDTRIP_SUPPORT_HOURS must read like 09:00-21:00, not {raw!r}")
        opens = time(hours[0], hours[1])
        closes = time(hours[2], hours[3])
        if closes <= opens:
            raise ValueError("ROUNDTRIP_SUPPORT_HOURS must end after it starts (same day)")
        zone = env.get("ROUNDTRIP_SUPPORT_TIMEZONE", "Europe/Moscow").strip()
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"ROUNDTRIP_SUPPORT_TIMEZONE is not a time zone: {zone!r}") from None
        raw_capacity = env.get("ROUNDTRIP_CALLBACK_SLOT_CAPACITY", "3").strip()
        if not raw_capacity.isdigit() or not 1 <= int(raw_capacity) <= 100:
            raise ValueError("ROUNDTRIP_CALLBACK_SLOT_CAPACITY must be a whole number 1..100")
        return cls(opens=opens, closes=closes, timezone=zone, slot_capacity=int(raw_capacity))


# --- Checking what was sent --------------------------------------------------------------


def _text(
    errors: ErrorCollector,
    field: str,
    value: object,
    limit: int,
    *,
    required: Message | None = None,
) -> str:
    """The text stripped ('' when empty and optional), or a problem noted under ``field``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, say("Write it as text."))
        return ""
    words = value.strip()
    if not words:
        if required is not None:
            errors.add(field, required)
        return ""
    if len(words) > limit:
        errors.add(field, say("Keep it under %(n)s characters.", n=limit))
    elif _BAD_CHARACTERS.search(words):
        errors.add(field, say("Remove the characters that cannot be stored (such as NUL)."))
    return words


def _email(errors: ErrorCollector, value: object) -> str:
    email = _text(errors, "email", value, EMAIL_MAX).lower()
    if email and "email" not in errors and not _EMAIL.match(email):
        errors.add("email", say("Enter an e-mail address such as anna@example.org."))
    return email


def _phone(errors: ErrorCollector, value: object, *, required: bool) -> str:
    phone = _text(
        errors,
        "phone",
        value,
        PHONE_MAX,
        required=say("Enter the phone number we should call.") if required else None,
    )
    if phone and "phone" not in errors:
        digits = sum(c.isdigit() for c in phone)
        if not _PHONE.match(phone) or not 5 <= digits <= 15:
            errors.add("phone", say("Enter a phone number such as +7 912 345-67-89."))
    return phone


def _customer(
    session: Session,
    errors: ErrorCollector,
    *,
    customer_id: int | None,
    name: object,
    email: object,
    phone: str,
) -> Customer | None:
    """The customer asking: the signed-in one, else found by e-mail or phone, else new."""
    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(say("There is no customer %(id)s.", id=str(customer_id)))
        return customer
    words = _text(errors, "name", name, NAME_MAX, required=say("Enter your name."))
    address = _email(errors, email)
    if not address and not phone and "phone" not in errors:
        errors.add("email", say("Enter your e-mail or phone, so that we can answer you."))
    if errors.errors:
        return None
    found = (
        session.scalar(select(Customer).where(func.lower(Customer.email) == address))
        if address
        else None
    )
    if found is None and phone:
        found = session.scalar(
            select(Customer).where(Customer.phone == phone).order_by(Customer.id).limit(1)
        )
    if found is not None:
        return found
    customer = Customer(name=words, email=address or None, phone=phone or None)
    session.add(customer)
    session.flush()
    return customer


# --- The FAQ -------------------------------------------------------------------------------


def asked_counts(session: Session, *, now: datetime) -> dict[str, int]:
    """How many cases opened in the last 90 days carry each question tag."""
    rows = session.execute(
        select(SupportCase.question_tag, func.count(SupportCase.id))
        .where(
            SupportCase.question_tag.is_not(None),
            SupportCase.opened_at > now - ASKED_WINDOW,
            SupportCase.opened_at <= now,
        )
        .group_by(SupportCase.question_tag)
    ).all()
    return {tag: count for tag, count in rows if tag is not None}


@dataclass(frozen=True, slots=True)
class FaqItem:
    """One FAQ entry as a page shows it: in the reader's language where written."""

    id: int
    tag: str
    question: str
    answer: str
    language: str  # the language the question and answer are in
    asked: int  # cases tagged with it in the last 90 days
    published: bool


def _side(entry: FaqEntry, language: str) -> tuple[str, str, str]:
    order = [language, *(code for code in LANGUAGES if code != language)]
    for code in order:
        question, answer = getattr(entry, f"question_{code}"), getattr(entry, f"answer_{code}")
        if question and answer:
            return question, answer, code
    return entry.question_en or entry.question_ru, entry.answer_en or entry.answer_ru, "en"


def faq(
    session: Session,
    *,
    now: datetime,
    language: str = "en",
    query: str | None = None,
    published_only: bool = True,
) -> list[FaqItem]:
    """The FAQ, most asked first, in ``language`` (the other one where a side is empty);
    ``query`` keeps the entries whose question or answer contains it (any case)."""
    errors = ErrorCollector()
    words = _text(errors, "q", query, QUERY_MAX)
    if language not in LANGUAGES:
        errors.add("language", say("Choose one of the options in the list."))
    errors.raise_if_any()
    counts = asked_counts(session, now=now)
    where = [FaqEntry.published.is_(True)] if published_only else []
    items = []
    for entry in session.scalars(select(FaqEntry).where(*where)):
        question, answer, code = _side(entry, language)
        if words and words.casefold() not in f"{question}\n{answer}".casefold():
            continue
        items.append(
            FaqItem(
                id=entry.id,
                tag=entry.tag,
                question=question,
                answer=answer,
                language=code,
                asked=counts.get(entry.tag, 0),
                published=entry.published,
            )
        )
    items.sort(key=lambda item: (-item.asked, item.question.casefold(), item.id))
    return items


def faq_tags(session: Session) -> list[str]:
    """Every FAQ entry's tag, for support to pick when answering a case."""
    return list(session.scalars(select(FaqEntry.tag).order_by(FaqEntry.tag)))


def untagged_questions(session: Session, *, now: datetime) -> list[tuple[str, int]]:
    """Question tags on cases of the last 90 days that have no FAQ entry yet, most asked
    first: what the FAQ still lacks."""
    known = set(faq_tags(session))
    counts = asked_counts(session, now=now)
    missing = [(tag, n) for tag, n in counts.items() if tag not in known]
    return sorted(missing, key=lambda pair: (-pair[1], pair[0]))


def save_faq(
    session: Session,
    *,
    tag: object,
    question_en: object,
    answer_en: object,
    question_ru: object,
    answer_ru: object,
    published: bool,
    now: datetime,
    entry_id: int | None = None,
) -> FaqEntry:
    """Create (``entry_id`` None) or change a FAQ entry. The tag is a short code in lower
    case (letters, digits, - and _), unique; at least one language has both a question and
    an answer, and a language is given whole or not at all."""
    errors = ErrorCollector()
    code = _text(errors, "tag", tag, QUESTION_TAG_MAX, required=say("Enter the question tag."))
    if code and "tag" not in errors and not _TAG.match(code):
        errors.add(
            "tag",
            say(
                "Use lower-case letters, digits, - and _ only, such as %(example)s.",
                example="late-delivery",
            ),
        )
    sides = {
        "question_en": _text(errors, "question_en", question_en, QUESTION_MAX),
        "answer_en": _text(errors, "answer_en", answer_en, ANSWER_MAX),
        "question_ru": _text(errors, "question_ru", question_ru, QUESTION_MAX),
        "answer_ru": _text(errors, "answer_ru", answer_ru, ANSWER_MAX),
    }
    for code_ in LANGUAGES:
        question, answer = sides[f"question_{code_}"], sides[f"answer_{code_}"]
        if bool(question) != bool(answer):
            missing = f"answer_{code_}" if question else f"question_{code_}"
            errors.add(missing, say("Write both the question and its answer, or neither."))
    if not any(sides[f"question_{c}"] and sides[f"answer_{c}"] for c in LANGUAGES):
        errors.add(
            "question_en", say("Write the question and its answer in one language at least.")
        )
    if not isinstance(published, bool):
        errors.add("published", say("Choose one of the options in the list."))
    errors.raise_if_any()
    if entry_id is None:
        entry = FaqEntry(tag=code, created_at=now, updated_at=now, published=published, **sides)
        session.add(entry)
    else:
        found = session.get(FaqEntry, entry_id)
        if found is None:
            raise NotFound(say("There is no FAQ entry %(id)s.", id=str(entry_id)))
        entry = found
        entry.tag = code
        entry.published = published
        entry.updated_at = now
        for name, value in sides.items():
            setattr(entry, name, value)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(say("The question tag %(tag)s already has a FAQ entry.", tag=code)) from None
    return entry


# --- Response times ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelTimes:
    """One contact channel's real response time over the last 30 days."""

    channel: str  # the case source: "callback" or "contact"
    answered: int  # answers counted
    median_s: float | None  # None: no answers in the last 30 days
    p90_s: float | None


def response_times(session: Session, *, now: datetime) -> list[ChannelTimes]:
    """Per channel, the median and 90th percentile of opened → answered over the cases
    answered in the last 30 days."""
    rows = session.execute(
        select(SupportCase.source, SupportCase.opened_at, SupportCase.answered_at).where(
            SupportCase.source.in_([c.value for c in CHANNELS]),
            SupportCase.answered_at.is_not(None),
            SupportCase.answered_at > now - RESPONSE_WINDOW,
            SupportCase.answered_at <= now,
        )
    ).all()
    by_channel: dict[str, list[float]] = {c.value: [] for c in CHANNELS}
    for source, opened_at, answered_at in rows:
        assert answered_at is not None  # selected so
        by_channel[source].append(max(0.0, (answered_at - opened_at).total_seconds()))
    return [
        ChannelTimes(
            channel=channel,
            answered=len(times),
            median_s=median(times),
            p90_s=p90(times),
        )
        for channel, times in by_channel.items()
    ]


# --- Writing to support --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Requested:
    """A message or callback request kept: its case, and what the customer was told."""

    case: SupportCase
    told: Message
    callback: CallbackRequest | None = None


def send_message(
    session: Session,
    *,
    text: object,
    now: datetime,
    customer_id: int | None = None,
    name: object = None,
    email: object = None,
    phone: object = None,
    rules: quality.SupportRules | None = None,
    help_rules: HelpRules | None = None,
) -> Requested:
    """A message to support from the contact form: a case (source ``contact``) with the
    promised answer time, and the customer told when they will hear back."""
    rules = rules or quality.SupportRules.from_env()
    help_rules = help_rules or HelpRules.from_env()
    errors = ErrorCollector()
    words = _text(errors, "text", text, MESSAGE_MAX, required=say("Write your message."))
    number = _phone(errors, phone, required=False) if customer_id is None else ""
    customer = _customer(
        session, errors, customer_id=customer_id, name=name, email=email, phone=number
    )
    errors.raise_if_any()
    assert customer is not None
    case = SupportCase(
        customer_id=customer.id,
        source=CaseSource.CONTACT.value,
        summary=say("Wrote to us: %(text)s", text=words),
        opened_at=now,
        respond_by=now + rules.response,
        status=CaseStatus.OPEN.value,
    )
    session.add(case)
    session.flush()
    told = say(
        "We have your message. A person from our support team will answer you by %(time)s.",
        time=case.respond_by.astimezone(help_rules.zone),
    )
    notifications.notify(
        session,
        customer_id=customer.id,
        kind=notifications.NoticeKind.SUPPORT_OPENED,
        message=told,
        key=f"support-opened:{case.id}",
        now=now,
    )
    return Requested(case=case, told=told)


# --- Callbacks -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """A 30-minute callback slot and how many more callbacks it takes."""

    start_at: datetime  # UTC
    local_start: datetime  # in support's zone
    tomorrow: bool
    free: int


def _local_days(now: datetime, zone: ZoneInfo) -> tuple[date, date]:
    today = now.astimezone(zone).date()
    return today, today + timedelta(days=1)


def _day_slots(day: date, rules: HelpRules) -> list[datetime]:
    """The slot starts of ``day`` within support's hours, in UTC."""
    zone = rules.zone
    start = datetime.combine(day, rules.opens, tzinfo=zone)
    close = datetime.combine(day, rules.closes, tzinfo=zone)
    found = []
    while start + SLOT <= close:
        found.append(start.astimezone(UTC))
        start = start + SLOT
    return found


def _booked(session: Session, starts: Sequence[datetime]) -> dict[datetime, int]:
    if not starts:
        return {}
    rows = session.execute(
        select(CallbackRequest.slot_start_at, func.count(CallbackRequest.id))
        .where(CallbackRequest.slot_start_at.in_(starts))
        .group_by(CallbackRequest.slot_start_at)
    ).all()
    return {at.astimezone(UTC): n for at, n in rows}


def callback_slots(
    session: Session, *, now: datetime, rules: HelpRules | None = None
) -> list[Slot]:
    """Today's and tomorrow's slots that start after ``now``, each with its free places
    (full ones included, with 0)."""
    rules = rules or HelpRules.from_env()
    today, tomorrow = _local_days(now, rules.zone)
    starts = [at for day in (today, tomorrow) for at in _day_slots(day, rules) if at > now]
    booked = _booked(session, starts)
    return [
        Slot(
            start_at=at,
            local_start=at.astimezone(rules.zone),
            tomorrow=at.astimezone(rules.zone).date() == tomorrow,
            free=max(0, rules.slot_capacity - booked.get(at, 0)),
        )
        for at in starts
    ]


def _slot_start(errors: ErrorCollector, value: object) -> datetime | None:
    if isinstance(value, str):
        raw = value.strip()
        try:
            if len(raw) > 40:
                raise ValueError
            value = datetime.fromisoformat(raw)
        except ValueError:
            errors.add("slot", say("Choose a time from the list."))
            return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        errors.add("slot", say("Choose a time from the list."))
        return None
    return value.astimezone(UTC)


def request_callback(
    session: Session,
    *,
    slot: object,
    phone: object,
    now: datetime,
    note: object = None,
    customer_id: int | None = None,
    name: object = None,
    email: object = None,
    rules: HelpRules | None = None,
) -> Requested:
    """Book a callback: a case (source ``callback``) due at the slot's start, the number to
    call, and the customer told when we call. Refused (field ``slot``): a slot not on the
    30-minute grid of support's hours today or tomorrow, one that started already, and a
    full one (Conflict)."""
    rules = rules or HelpRules.from_env()
    errors = ErrorCollector()
    start = _slot_start(errors, slot)
    number = _phone(errors, phone, required=True)
    words = _text(errors, "note", note, MESSAGE_MAX)
    if start is not None:
        today, tomorrow = _local_days(now, rules.zone)
        local = start.astimezone(rules.zone)
        if local.date() not in (today, tomorrow):
            errors.add("slot", say("Choose a time today or tomorrow."))
        elif start not in _day_slots(local.date(), rules):
            errors.add(
                "slot",
                say(
                    "We call back between %(opens)s and %(closes)s, in 30-minute slots. "
                    "Choose a time from the list.",
                    opens=rules.opens.strftime("%H:%M"),
                    closes=rules.closes.strftime("%H:%M"),
                ),
            )
        elif start <= now:
            errors.add("slot", say("That time has passed. Choose a later one."))
    customer = _customer(
        session, errors, customer_id=customer_id, name=name, email=email, phone=number
    )
    errors.raise_if_any()
    assert customer is not None
    assert start is not None
    local = start.astimezone(rules.zone)
    # Two customers taking a slot's last place at the same instant: one gets it.
    serialize(session, CALLBACK_SLOT_LOCK, int(start.timestamp()) // int(SLOT.total_seconds()))
    if _booked(session, [start]).get(start, 0) >= rules.slot_capacity:
        raise Conflict(
            say("The %(time)s slot is full. Choose another time.", time=local.strftime("%H:%M"))
        )
    summary = (
        say(
            "Asked to be called back on %(phone)s at %(time)s: %(text)s",
            phone=number,
            time=local,
            text=words,
        )
        if words
        else say("Asked to be called back on %(phone)s at %(time)s.", phone=number, time=local)
    )
    case = SupportCase(
        customer_id=customer.id,
        source=CaseSource.CALLBACK.value,
        summary=summary,
        opened_at=now,
        respond_by=start,  # the task is due at the slot
        status=CaseStatus.OPEN.value,
    )
    session.add(case)
    session.flush()
    callback = CallbackRequest(case_id=case.id, slot_start_at=start, phone=number)
    session.add(callback)
    session.flush()
    told = say(
        "We will call you on %(phone)s between %(start)s and %(end)s.",
        phone=number,
        start=local,
        end=(local + SLOT).strftime("%H:%M"),
    )
    notifications.notify(
        session,
        customer_id=customer.id,
        kind=notifications.NoticeKind.SUPPORT_OPENED,
        message=told,
        key=f"support-opened:{case.id}",
        now=now,
    )
    return Requested(case=case, told=told, callback=callback)


@dataclass(frozen=True, slots=True)
class CallbackTask:
    """A callback as support's task: whom to call, on which number, when."""

    case_id: int
    customer_id: int
    customer_name: str
    phone: str
    slot_start_at: datetime
    status: str
    due_in_s: int | None  # open: seconds to the slot (negative: it started)
    reminded_at: datetime | None


def callback_tasks(
    session: Session, *, now: datetime, open_only: bool = True, limit: int = 200
) -> list[CallbackTask]:
    """Callbacks, the soonest slot first (``open_only``: those not answered yet)."""
    where = [SupportCase.status == CaseStatus.OPEN.value] if open_only else []
    rows = session.execute(
        select(CallbackRequest, SupportCase.status, SupportCase.customer_id, Customer.name)
        .join(SupportCase, SupportCase.id == CallbackRequest.case_id)
        .join(Customer, Customer.id == SupportCase.customer_id)
        .where(*where)
        .order_by(CallbackRequest.slot_start_at, CallbackRequest.id)
        .limit(limit)
    ).all()
    return [
        CallbackTask(
            case_id=callback.case_id,
            customer_id=customer_id,
            customer_name=name,
            phone=callback.phone,
            slot_start_at=callback.slot_start_at,
            status=status,
            due_in_s=(
                int((callback.slot_start_at - now).total_seconds())
                if status == CaseStatus.OPEN.value
                else None
            ),
            reminded_at=callback.reminded_at,
        )
        for callback, status, customer_id, name in rows
    ]


def missed_callbacks(session: Session, *, now: datetime) -> list[int]:
    """Callbacks whose slot started 10 minutes ago or more, still unanswered and not yet
    reminded about (their ids)."""
    return list(
        session.scalars(
            select(CallbackRequest.id)
            .join(SupportCase, SupportCase.id == CallbackRequest.case_id)
            .where(
                CallbackRequest.reminded_at.is_(None),
                CallbackRequest.slot_start_at <= now - REMIND_AFTER,
                SupportCase.status == CaseStatus.OPEN.value,
            )
            .order_by(CallbackRequest.slot_start_at, CallbackRequest.id)
        )
    )


def remind_missed(
    session: Session, *, callback_id: int, now: datetime, rules: HelpRules | None = None
) -> bool:
    """Remind support, once, of a callback whose slot passed unanswered; False when it was
    reminded already, answered meanwhile, or is not due yet."""
    rules = rules or HelpRules.from_env()
    claimed = session.execute(
        update(CallbackRequest)
        .where(
            CallbackRequest.id == callback_id,
            CallbackRequest.reminded_at.is_(None),
            CallbackRequest.slot_start_at <= now - REMIND_AFTER,
        )
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    callback = session.get_one(CallbackRequest, callback_id)
    session.refresh(callback)
    case = session.get_one(SupportCase, callback.case_id)
    if case.status != CaseStatus.OPEN.value:
        callback.reminded_at = None
        session.flush()
        return False
    notifications.notify_staff(
        session,
        kind=notifications.NoticeKind.CALLBACK_MISSED,
        message=say(
            "Callback request %(case)s: the customer waited for a call on %(phone)s at "
            "%(time)s, and nobody has called back yet.",
            case=f"#{case.id}",
            phone=callback.phone,
            time=callback.slot_start_at.astimezone(rules.zone),
        ),
        key=f"callback-missed:{case.id}",
        now=now,
    )
    session.flush()
    return True
