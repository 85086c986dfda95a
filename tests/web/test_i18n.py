"""Russian and English (O4): the language a page speaks, the switch, and a whole catalogue."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext
from jinja2 import DictLoader

from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent.parent
CATALOGUE = ROOT / "app/web/translations/ru/LC_MESSAGES/messages.po"


@pytest.fixture
def bilingual(app):  # type: ignore[no-untyped-def]
    """The app offering Russian and English, Russian first (the shop in Moscow)."""
    app.config["LANGUAGES"] = ("ru", "en")
    return app


def test_every_message_has_russian_and_none_is_fuzzy():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="ru")

    untranslated = [m.id for m in catalogue if m.id and not all(_forms(m.string))]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]

    assert (untranslated, fuzzy) == ([], [])


def _forms(string: str | tuple[str, ...]) -> tuple[str, ...]:
    return string if isinstance(string, tuple) else (string,)


def test_the_catalogue_holds_every_message_of_the_code(tmp_path):
    """Words added to a page or a view without `make i18n` fail here, naming them."""
    extracted = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "extract_messages.py"), str(extracted)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with extracted.open("rb") as handle:
        in_code = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with CATALOGUE.open("rb") as handle:
        in_catalogue = {
            m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle, locale="ru")
        }

    assert sorted(in_code - in_catalogue) == [], "run `make i18n` and translate what is new"


@pytest.mark.parametrize(
    ("count", "word"),
    [(1, "заказ"), (2, "заказа"), (5, "заказов"), (11, "заказов"), (21, "заказ"), (22, "заказа")],
)
def test_russian_plurals_follow_the_number(app, count, word):
    """Russian has three forms; the catalogue's Plural-Forms picks them (1, 2, 5, 11, 21)."""
    catalogue_plural = ngettext  # the same function templates and views use
    with app.test_request_context(), force_locale("ru"):
        said = catalogue_plural("%(num)d order", "%(num)d orders", count)

    assert said == f"{count} {word}"


def test_a_page_follows_the_browsers_language_among_those_offered(bilingual, client):
    russian = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(True)
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(True)
    neither = client.get("/", headers={"Accept-Language": "de"}).get_data(True)

    assert '<html lang="ru">' in russian
    assert "Войти" in russian
    assert '<html lang="en">' in english
    assert "Sign in" in english
    assert '<html lang="ru">' in neither  # the installation's default comes first


def test_an_installation_offering_only_english_speaks_english(app, client):
    page = client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)

    assert '<html lang="en">' in page
    assert 'data-testid="language-switch"' not in page


def test_the_switch_remembers_a_persons_choice_on_their_account(bilingual, client, login_as):
    person = login_as("dispatcher")
    page = client.get("/dispatcher/", headers={"Accept-Language": "en"}).get_data(True)
    assert 'data-testid="language-switch"' in page

    response = client.post(
        "/language",
        data={"language": "ru", "next": "/dispatcher/", "csrf_token": csrf_token(page)},
    )
    assert response.headers["Location"] == "/dispatcher/"

    other_browser = bilingual.test_client()
    from tests.conftest import Person, sign_in

    sign_in(other_browser, Person(person.id, person.email, person.password, person.role))
    again = other_browser.get("/dispatcher/", headers={"Accept-Language": "en"})
    assert '<html lang="ru">' in again.get_data(as_text=True)


def test_the_switch_goes_back_only_to_our_own_pages(bilingual, client):
    page = client.get("/").get_data(as_text=True)

    response = client.post(
        "/language",
        data={"language": "en", "next": "https://evil.example/", "csrf_token": csrf_token(page)},
    )

    assert response.headers["Location"] == "/"


class _VisibleText(HTMLParser):
    """Collects text a person would read: text nodes and the attributes browsers show."""

    SHOWN_ATTRIBUTES = frozenset({"title", "placeholder", "aria-label", "alt"})
    HIDDEN_ELEMENTS = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN_ELEMENTS:
            self._hidden += 1
        for name, value in attrs:
            if name in self.SHOWN_ATTRIBUTES and value:
                self._check(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN_ELEMENTS:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._check(data)

    def _check(self, text: str) -> None:
        words = " ".join(text.split())
        if CSS_CLASS.fullmatch(words) or PATH.fullmatch(words):
            return  # a class name given through a block (container-fluid), a path or file name
        if re.search(r"[^\W\d_]", BRAND.sub("", words)):
            self.found.append(words)


BRAND = re.compile(r"\bRoundtrip\b")  # the product's name reads the same in both languages
CSS_CLASS = re.compile(r"[a-z]+(-[a-z]+)+")
PATH = re.compile(r"[\w-]*[/.][\w./-]*")


def untranslated_text(env, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Visible words in a template's own markup (Jinja expressions masked out)."""
    source = env.loader.get_source(env, name)[0]
    # A space stands for each expression or tag, so markup around them still parses.
    masked = "".join(value if kind == "data" else " " for _, kind, value in env.lex(source))
    parser = _VisibleText()
    parser.feed(masked)
    return parser.found


def test_the_scanner_finds_words_outside_translation_calls(app):
    env = app.jinja_env.overlay(
        loader=DictLoader(
            {
                "t.html": '<p title="Hello">{{ _("Fine") }} Plain <b>{{ x }}</b></p>'
                "<script>a</script>{% block c %}container-fluid{% endblock %}<i>Roundtrip</i>"
            }
        )
    )

    assert untranslated_text(env, "t.html") == ["Hello", "Plain"]


def test_no_template_shows_words_outside_a_translation_call(app):
    env = app.jinja_env
    found = {
        name: words
        for name in env.list_templates(extensions=["html"])
        if (words := untranslated_text(env, name))
    }

    assert found == {}
