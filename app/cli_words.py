"""The language the ``roundtrip`` command speaks to its operator, and its words in it.

Like any Unix tool, the command follows the operator's locale: the first of ``LANGUAGE``
(a colon-separated list), ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` that is set decides (as
gettext reads them), if it names a language this installation offers; otherwise the
installation's default (the first of ROUNDTRIP_LANGUAGES). Words come from the pages'
catalogue (app/web/translations), so the CLI says a domain's Message as a page would.
No Flask here: ``roundtrip solve`` runs without the web application.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from app import messages

TRANSLATIONS = Path(__file__).resolve().parent / "web" / "translations"
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def choose_language(offered: Sequence[str], environ: Mapping[str, str]) -> str:
    """The language of the operator's locale if offered, else the installation's default."""
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if not value:
            continue
        for name in value.split(":"):
            # "ru_RU.UTF-8@euro" -> "ru"; "C" and "POSIX" name no language.
            language = name.split(".", 1)[0].split("@", 1)[0].split("_", 1)[0].lower()
            if language in offered:
                return language
        break  # the first variable set decides, as for gettext
    return offered[0] if offered else "en"


@lru_cache(maxsize=4)
def _catalogue(language: str) -> NullTranslations:
    # Without a compiled catalogue (before `make translations`) the words stay English.
    return Translations.load(str(TRANSLATIONS), [language])


class Voice:
    """How the command says things in one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.formats = messages.LocaleFormats(language)
        self.translations = _catalogue(language)

    def __call__(self, text: str) -> str:
        """``text`` in this language: a Message translated, plain text (machine output,
        a name) as it is."""
        return messages.render(text, self.translations, self.formats)


def voice(offered: Sequence[str], environ: Mapping[str, str]) -> Voice:
    return Voice(choose_language(offered, environ))
