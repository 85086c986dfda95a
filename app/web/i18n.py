"""Russian and English (O4): which language a page speaks, and the switch in its header.

The language is the person's saved choice, else this browser's, else the best match of the
browser's Accept-Language among the languages this installation offers, else its default.
The API answers in the caller's Accept-Language (problem titles and details).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, request, session
from flask_babel import (
    Babel,
    get_locale,
    get_translations,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from app import messages
from app.accounts.models import User
from app.errors import DomainError, ValidationFailed
from app.web.database import db

# Every language Roundtrip has words for, named in itself (as the switch shows it).
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
SESSION_KEY = "language"

babel = Babel()
bp = Blueprint("i18n", __name__)


def offered() -> tuple[str, ...]:
    """The languages this installation offers (ROUNDTRIP_LANGUAGES), the default first."""
    return tuple(current_app.config.get("LANGUAGES", ("en",)))


def select_language() -> str:
    languages = offered()
    if not request.path.startswith("/api/"):
        chosen = None
        if current_user.is_authenticated:
            chosen = db().get(User, current_user.id).language if current_user.id else None
        chosen = chosen or session.get(SESSION_KEY)
        if chosen in languages:
            return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def localize(text: str) -> str:
    """A domain's words (app.messages) in the request's language; other text as it is."""
    return messages.render(text, get_translations(), messages.LocaleFormats(str(get_locale())))


def localize_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {field: [localize(m) for m in problems] for field, problems in errors.items()}


def explain(error: DomainError) -> str:
    """Why the domain refused, for a person: in their language, without field codes."""
    if isinstance(error, ValidationFailed):
        return " ".join(localize(m) for problems in error.errors.values() for m in problems)
    return localize(error.message or str(error))


@bp.post("/language")
def choose() -> Response:
    """The header's switch: remember the choice (for a signed-in person, on their account)
    and go back to the page it was made on."""
    language = request.form.get("language", "")
    back = request.form.get("next", "")
    parts = urlsplit(back)
    if parts.scheme or parts.netloc or not back.startswith("/"):
        back = "/"  # only ever back to a page of ours
    if language in offered():
        session[SESSION_KEY] = language
        if current_user.is_authenticated:
            db().get_one(User, current_user.id).language = language
            db().commit()
    return redirect(back)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_language)
    app.register_blueprint(bp)
    app.add_template_filter(localize, "said")

    @app.context_processor
    def _languages() -> dict[str, object]:
        return {
            "language": str(get_locale() or offered()[0]),
            "language_names": {code: LANGUAGE_NAMES[code] for code in offered()},
        }
