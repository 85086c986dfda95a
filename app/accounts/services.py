"""Creating users, checking passwords, sign-in sessions and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import ApiToken, LoginSession, Role, User
from app.errors import ErrorCollector
from app.messages import say, say_n

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
# Werkzeug's default (scrypt). The test suite swaps in a cheap method to stay fast.
PASSWORD_HASH_METHOD = "scrypt"
DEFAULT_TOKEN_LIFETIME = timedelta(days=30)
DEFAULT_TOKEN_CAP = 10
# last_used_at is a hint for people reviewing their tokens, not an audit log: writing it on
# every request would turn every API read into a write (and make SQLite readers queue).
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)
DEFAULT_SESSION_LIFETIME = timedelta(days=14)

_dummy_hashes: dict[str, str] = {}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(session: Session, *, email: str, name: str, role: str, password: str) -> User:
    """Create a user with a hashed password; every problem with the input is reported at once."""
    errors = ErrorCollector()
    email = normalise_email(email)
    if not EMAIL_RE.match(email):
        errors.add("email", say("Enter an e-mail address like name@example.com."))
    elif session.scalar(select(User.id).where(User.email == email)) is not None:
        errors.add("email", say("A user with this e-mail address already exists."))
    if not name.strip():
        errors.add("name", say("Enter the person's name."))
    if role not in {r.value for r in Role}:
        errors.add(
            "role",
            say(
                "Unknown role '%(role)s'; choose one of %(roles)s.",
                role=role,
                roles=", ".join(r for r in Role),
            ),
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add(
            "password",
            say_n(
                "Use at least %(n)s character.",
                "Use at least %(n)s characters.",
                MIN_PASSWORD_LENGTH,
            ),
        )
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


def _dummy_hash() -> str:
    """A hash of nothing anybody knows, made with the current method (so it costs the same)."""
    method = PASSWORD_HASH_METHOD
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hashes[method]


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active person with this e-mail and password, or None.

    An unknown e-mail or an inactive person still costs one password check (against a dummy
    hash), so the answer's timing does not tell which e-mail addresses have an account.
    """
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.is_active:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def deactivate_user(session: Session, *, user_id: int, now: datetime) -> User:
    """Stop a person: their sign-in sessions end and their API tokens are revoked at once."""
    user = session.get_one(User, user_id)
    user.is_active = False
    end_all_login_sessions(session, user_id=user_id)
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.flush()
    return user


def activate_user(session: Session, *, user_id: int) -> User:
    """Let a person sign in again (old sessions and tokens stay ended)."""
    user = session.get_one(User, user_id)
    user.is_active = True
    session.flush()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- sign-in sessions -------------------------------------------------------------------------


def start_login_session(
    session: Session, *, user: User, now: datetime, lifetime: timedelta = DEFAULT_SESSION_LIFETIME
) -> str:
    """Record a sign-in and return the random key the browser's session will carry."""
    session.execute(
        delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.expires_at <= now)
    )
    key = secrets.token_urlsafe(32)
    session.add(
        LoginSession(user=user, key_sha256=_digest(key), created_at=now, expires_at=now + lifetime)
    )
    session.flush()
    return key


def user_for_login_session(session: Session, key: str, *, now: datetime) -> User | None:
    """The active person signed in with this key, unless that session ended or expired."""
    return session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.key_sha256 == _digest(key),
            LoginSession.expires_at > now,
            User.is_active.is_(True),
        )
    )


def end_login_session(session: Session, key: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.key_sha256 == _digest(key)))
    session.flush()


def end_all_login_sessions(session: Session, *, user_id: int) -> None:
    session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
    session.flush()


# --- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A new token (its secret shown once) and the tokens revoked to keep under the cap."""

    secret: str
    api_token: ApiToken
    revoked: tuple[ApiToken, ...]


def _live(user_id: int, now: datetime) -> Select[ApiToken]:
    return select(ApiToken).where(
        ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
    )


def issue_api_token(
    session: Session,
    *,
    user: User,
    label: str,
    now: datetime,
    lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
    cap: int = DEFAULT_TOKEN_CAP,
) -> IssuedToken:
    """Issue a bearer token; only its digest is stored, so the secret is shown once.

    A person holds at most ``cap`` live tokens: beyond that, the least recently used ones are
    revoked (a script that signs in on every run keeps working and its stale tokens go; a
    token in daily use is the last to be chosen).
    """
    live = list(
        session.scalars(
            _live(user.id, now).order_by(
                func.coalesce(ApiToken.last_used_at, ApiToken.created_at), ApiToken.id
            )
        )
    )
    revoked = tuple(live[: max(0, len(live) - cap + 1)])
    for old in revoked:
        old.revoked_at = now
    secret = "rt_" + secrets.token_urlsafe(32)
    api_token = ApiToken(
        user=user,
        token_sha256=_digest(secret),
        label=label[:120] or "api",
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(api_token)
    session.flush()
    return IssuedToken(secret, api_token, revoked)


def live_tokens(session: Session, *, user_id: int, now: datetime) -> list[ApiToken]:
    """A person's tokens that still work, newest first."""
    query = _live(user_id, now).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    return list(session.scalars(query))


def revoke_token(session: Session, *, token_id: int, now: datetime) -> ApiToken | None:
    """Revoke a token (again is harmless); None when there is no such token."""
    api_token = session.get(ApiToken, token_id)
    if api_token is not None and api_token.revoked_at is None:
        api_token.revoked_at = now
        session.flush()
    return api_token


def token_for_secret(session: Session, secret: str, *, now: datetime) -> ApiToken | None:
    """The live token with this secret whose owner is still active; reads only."""
    return session.scalar(
        select(ApiToken)
        .join(ApiToken.user)
        .options(contains_eager(ApiToken.user))
        .where(
            ApiToken.token_sha256 == _digest(secret),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
            User.is_active.is_(True),
        )
    )


def touch_token(session: Session, api_token: ApiToken, *, now: datetime) -> bool:
    """Note that a token was used, at most once per TOKEN_TOUCH_INTERVAL; True if it wrote.

    Most requests find last_used_at fresh and write nothing; the guarded UPDATE keeps two
    requests that both saw it stale from writing twice.
    """
    stale_before = now - TOKEN_TOUCH_INTERVAL
    if api_token.last_used_at is not None and api_token.last_used_at > stale_before:
        return False
    result = session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == api_token.id,
            (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= stale_before),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    set_committed_value(api_token, "last_used_at", now)
    return True
