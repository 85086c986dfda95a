"""Creating users, checking passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import ApiToken, Role, User
from app.db import utcnow
from app.errors import ErrorCollector

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
# Werkzeug's default (scrypt). The test suite swaps in a cheap method to stay fast.
PASSWORD_HASH_METHOD = "scrypt"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(session: Session, *, email: str, name: str, role: str, password: str) -> User:
    """Create a user with a hashed password; every problem with the input is reported at once."""
    errors = ErrorCollector()
    email = normalise_email(email)
    if not EMAIL_RE.match(email):
        errors.add("email", "Enter an e-mail address like name@example.com.")
    elif session.scalar(select(User.id).where(User.email == email)) is not None:
        errors.add("email", "A user with this e-mail address already exists.")
    if not name.strip():
        errors.add("name", "Enter the person's name.")
    if role not in {r.value for r in Role}:
        errors.add("role", f"Unknown role {role!r}; choose one of {', '.join(r for r in Role)}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add("password", f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    errors.raise_if_any()
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=generate_password_hash(password, method=PASSWORD_HASH_METHOD),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.is_active:
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, *, user: User, label: str) -> str:
    """Return a new bearer token; only its digest is stored, so it is shown once."""
    token = "rt_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_sha256=_digest(token), label=label[:120] or "api"))
    session.flush()
    return token


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> User | None:
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    if api_token is None or api_token.revoked_at is not None or not api_token.user.is_active:
        return None
    api_token.last_used_at = now or utcnow()
    return api_token.user
