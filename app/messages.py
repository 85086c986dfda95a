"""Words the domain says to people, kept translatable without the domain knowing any language.

Domain code builds a :class:`Message` with :func:`say` or :func:`say_n`: the English text
(which is also the catalogue's msgid) and its parameters. A ``Message`` *is* the English
string, so logs, the CLI in English, tests and the API's machine-readable fields read it as
before; the web layer and the CLI render it in the reader's language with :func:`render`.
Messages that are stored (a plan's reasons, a ledger entry's reason) keep their msgid and
parameters in the column (:class:`SaidText`), so a page shows each in its reader's language
long after it was written.

``pybabel extract`` finds the words through the keywords in :data:`EXTRACT_KEYWORDS`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# The translation calls `make i18n` and the catalogue test look for (babel's keyword specs).
EXTRACT_KEYWORDS = ("_l", "lazy_gettext", "lazy_ngettext:1,2", "say", "say_n:1,2")


class Message(str):
    """English text that remembers how it was made, so it can be said in another language.

    Parameters may be strings, integers, dates (shown in the reader's format) or other
    messages (a status word, say); every other value is rejected at once, so that a stored
    message always loads back.
    """

    msgid: str
    plural: str | None
    n: int | None
    params: Mapping[str, Any]

    def __new__(
        cls, msgid: str, params: Mapping[str, Any], plural: str | None = None, n: int | None = None
    ) -> Message:
        for name, value in params.items():
            if not isinstance(value, str | int | date):
                raise TypeError(f"message parameter {name!r} is a {type(value).__name__}")
        pattern = msgid if plural is None or n == 1 else plural
        english = {k: _english(v) for k, v in params.items()}
        self = super().__new__(cls, pattern % english)
        self.msgid, self.plural, self.n, self.params = msgid, plural, n, dict(params)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message, (self.msgid, self.params, self.plural, self.n))

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"msgid": self.msgid, "params": _encode(self.params)}
        if self.plural is not None:
            data |= {"plural": self.plural, "n": self.n}
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Message:
        params = {k: _decode(v) for k, v in data.get("params", {}).items()}
        return cls(data["msgid"], params, data.get("plural"), data.get("n"))


def say(msgid: str, /, **params: Any) -> Message:
    """A sentence for people; ``msgid`` is English with ``%(name)s`` placeholders."""
    return Message(msgid, params)


def say_n(singular: str, plural: str, n: int, /, **params: Any) -> Message:
    """A sentence whose grammar follows the number ``n`` (given to the text as ``%(n)s``)."""
    return Message(singular, {"n": n, **params}, plural, n)


class Translator(Protocol):
    def ugettext(self, message: str) -> str: ...
    def ungettext(self, singular: str, plural: str, n: int) -> str: ...


class Formats(Protocol):
    """How the reader's locale writes numbers and dates."""

    def number(self, value: int) -> str: ...
    def day(self, value: date) -> str: ...
    def moment(self, value: datetime) -> str: ...


class LocaleFormats:
    """Numbers and dates as ``language`` writes them (a moment in its own time zone)."""

    def __init__(self, language: str) -> None:
        self.language = language

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.language)

    def decimal(self, value: float, places: int = 2) -> str:
        """A measured value with fixed decimals and no grouping (12345.60 / 12345,60)."""
        return format_decimal(value, "0." + "0" * places, locale=self.language)

    def day(self, value: date) -> str:
        return format_date(value, "d MMMM y", locale=self.language)

    def moment(self, value: datetime) -> str:
        return format_datetime(value, "d MMMM y, HH:mm", locale=self.language)


def render(text: str, translations: Translator, formats: Formats) -> str:
    """``text`` in the reader's language: a Message is translated, plain text is kept as is."""
    if not isinstance(text, Message):
        return str(text)
    if text.plural is not None and text.n is not None:
        pattern = translations.ungettext(text.msgid, text.plural, text.n)
    else:
        pattern = translations.ugettext(text.msgid)
    values = {k: _local(v, translations, formats) for k, v in text.params.items()}
    try:
        return pattern % values
    except (KeyError, ValueError, TypeError):
        return str(text)  # a translation that lost a placeholder: English beats a crash


def _local(value: Any, translations: Translator, formats: Formats) -> str | int:
    if isinstance(value, Message):
        return render(value, translations, formats)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return formats.number(value)
    if isinstance(value, datetime):
        return formats.moment(value)
    if isinstance(value, date):
        return formats.day(value)
    return value


def _english(value: Any) -> Any:
    if isinstance(value, datetime):
        return f"{value:%d %b %Y %H:%M %Z}".strip()
    if isinstance(value, date):
        return f"{value:%d %b %Y}"
    return value


def _encode(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, Message):
            out[k] = {"message": v.as_data()}
        elif isinstance(v, datetime):
            out[k] = {"moment": v.isoformat()}
        elif isinstance(v, date):
            out[k] = {"day": v.isoformat()}
        else:
            out[k] = str(v) if isinstance(v, str) else v
    return out


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "message" in value:
            return Message.from_data(value["message"])
        if "moment" in value:
            return datetime.fromisoformat(value["moment"])
        if "day" in value:
            return date.fromisoformat(value["day"])
    return value


def dump(text: str | None) -> str | None:
    """The column form of a text: a Message as JSON with its msgid and parameters, plain
    text as it is (unless it could be mistaken for a stored message)."""
    if text is None:
        return None
    if isinstance(text, Message):
        return json.dumps(text.as_data(), ensure_ascii=False, separators=(",", ":"))
    if text.startswith("{"):
        return json.dumps({"text": text}, ensure_ascii=False)
    return text


def load(stored: str | None) -> str | None:
    """The text a column holds, a Message again where one was stored."""
    if stored is None or not stored.startswith("{"):
        return stored
    try:
        data = json.loads(stored)
    except ValueError:
        return stored
    if isinstance(data, dict) and isinstance(data.get("msgid"), str):
        try:
            return Message.from_data(data)
        except (KeyError, ValueError, TypeError):
            return str(data["msgid"])
    if isinstance(data, dict) and isinstance(data.get("text"), str):
        return data["text"]
    return stored


def dump_list(texts: list[str]) -> str:
    return json.dumps(
        [t.as_data() if isinstance(t, Message) else t for t in texts],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def load_list(stored: str | None) -> list[str]:
    items = json.loads(stored or "[]")
    return [Message.from_data(i) if isinstance(i, dict) else str(i) for i in items]


class SaidText(TypeDecorator[str]):
    """A text column that keeps a :class:`Message` whole (plain text stays plain)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return dump(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return load(value)
