"""The domain's words (app.messages): English where read as text, whole when stored."""

import re
from datetime import UTC, date, datetime

import pytest
from babel.support import NullTranslations

from app import messages
from app.messages import Message, say, say_n


class Plain:
    def number(self, value: int) -> str:
        return f"<{value}>"

    def day(self, value: date) -> str:
        return f"day {value.isoformat()}"

    def moment(self, value: datetime) -> str:
        return f"at {value.isoformat()}"


class Upper(NullTranslations):
    """A 'language' that shouts, so a test can tell translated words from English."""

    def gettext(self, message: str) -> str:
        parts = re.split(r"(%\(\w+\)[sd])", message)
        return "".join(p if p.startswith("%(") else p.upper() for p in parts)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)

    ugettext = gettext
    ungettext = ngettext


def test_a_message_is_its_english_text():
    """Code that treats a Message as a string (logs, the API's English fields) reads English."""
    m = say("Order %(number)s is %(status)s.", number="R-1", status="late")
    assert m == "Order R-1 is late."
    assert isinstance(m, str)
    assert f"{m}" == "Order R-1 is late."


def test_plurals_choose_english_forms_by_number():
    assert say_n("%(n)s stop", "%(n)s stops", 1) == "1 stop"
    assert say_n("%(n)s stop", "%(n)s stops", 5) == "5 stops"


def test_rendering_translates_the_text_and_its_message_parameters():
    inner = say("late")
    m = say("Order %(number)s is %(status)s; %(count)s left.", number="r-1", status=inner, count=7)
    assert messages.render(m, Upper(), Plain()) == "ORDER r-1 IS LATE; <7> LEFT."


def test_rendering_leaves_plain_text_alone():
    """A staff member's own words are never run through the catalogue."""
    assert messages.render("Goodwill %(x)s", Upper(), Plain()) == "Goodwill %(x)s"


@pytest.mark.parametrize(
    "text",
    [
        say(
            "Stop %(n)s: %(when)s, %(day)s",
            n=3,
            when=datetime(2030, 1, 15, 9, tzinfo=UTC),
            day=date(2030, 1, 15),
        ),
        say_n("%(n)s order waits", "%(n)s orders wait", 4, why=say("capacity")),
        "plain words",
        '{"msgid": "a staff member typed this"}',
        "{not json",
    ],
)
def test_a_stored_text_loads_back_as_it_was(text):
    loaded = messages.load(messages.dump(text))
    assert loaded == text
    assert type(loaded) is type(text)
    if isinstance(text, Message):
        assert loaded.as_data() == text.as_data()
        assert messages.render(loaded, Upper(), Plain()) == messages.render(text, Upper(), Plain())


def test_lists_of_messages_load_back():
    texts = [say("Late by %(m)s min", m=5), "typed"]
    assert messages.load_list(messages.dump_list(texts)) == texts
    assert messages.load_list(None) == []


def test_a_parameter_that_cannot_be_stored_is_refused_at_once():
    with pytest.raises(TypeError, match="'ratio' is a float"):
        say("%(ratio)s", ratio=0.5)


def test_a_translation_that_lost_a_placeholder_falls_back_to_english():
    class Broken(Upper):
        def gettext(self, message: str) -> str:
            return "%(missing)s"

        ugettext = gettext

    assert messages.render(say("Hi %(who)s", who="Ann"), Broken(), Plain()) == "Hi Ann"
