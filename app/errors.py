"""Domain exceptions; the web edge maps them to HTTP problems, the CLI to messages."""

from __future__ import annotations


class DomainError(Exception):
    """Something the caller asked for cannot be done; the message says why in plain words.

    The message is usually an ``app.messages.Message`` (English that the edge translates);
    ``str(error)`` is the English.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    pass


class ValidationFailed(DomainError):
    """Input that breaks a rule; ``errors`` maps each field (dotted path) to its problems."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(" ".join(f"{f}: {' '.join(m)}" for f, m in errors.items()))


class ErrorCollector:
    """Gathers every problem in an input so the user can fix them all in one go."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def __contains__(self, field: str) -> bool:
        return field in self.errors

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


class Conflict(DomainError):
    """The request repeats something that already exists (a unique reference, say)."""
