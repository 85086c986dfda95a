"""Configuration read from the environment, with safe defaults for a laptop."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def instance_path() -> Path:
    """Folder for files that belong to this installation (SQLite database, secret key)."""
    return Path(os.environ.get("ROUNDTRIP_INSTANCE", PROJECT_ROOT / "instance")).resolve()


def default_database_url() -> str:
    return f"sqlite:///{instance_path() / 'roundtrip.sqlite3'}"


def load_or_create_secret_key(folder: Path) -> str:
    """Return the installation's secret key, creating it once.

    Sessions must survive restarts, so the key is generated the first time and kept in
    ``instance/secret_key`` (readable by the owner only) instead of living in the code.
    """
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "secret_key"
    if key_file.exists():
        key = key_file.read_text().strip()
        if key:
            return key
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class Config:
    """Settings of a running installation; every value can come from the environment."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.INSTANCE_PATH = str(instance_path())
        self.DATABASE_URL = env.get("DATABASE_URL") or default_database_url()
        self.SECRET_KEY = env.get("SECRET_KEY") or load_or_create_secret_key(instance_path())
        # Photos people send (proof of delivery, a vehicle's defect); empty: instance/uploads.
        self.UPLOAD_DIR = env.get("ROUNDTRIP_UPLOAD_DIR", "")
        # The maps app a courier's "navigate" button opens ({lat}, {lon}); empty: Yandex Maps.
        self.NAVIGATOR_URL = env.get("ROUNDTRIP_NAVIGATOR_URL", "")
        # Where customers open links in their messages (the tracking page): this installation
        # as the outside world reaches it.
        self.PUBLIC_URL = env.get("ROUNDTRIP_PUBLIC_URL", "http://127.0.0.1:5000")
        # Where messages to support staff go (a return case nearing its promise). Without
        # ROUNDTRIP_SMTP_URL e-mail is only logged (app.notifications.senders).
        self.SUPPORT_EMAIL = env.get("ROUNDTRIP_SUPPORT_EMAIL", "support@localhost")
        self.GEOCODER = env.get("ROUNDTRIP_GEOCODER", "none")
        self.GEOCODER_USER_AGENT = env.get("ROUNDTRIP_GEOCODER_USER_AGENT", "roundtrip")
        self.API_PAGE_SIZE_MAX = int(env.get("ROUNDTRIP_API_PAGE_SIZE_MAX", "200"))
        # Staff point adjustments: never more than MAX points either way; above CONFIRM points
        # the page asks "Add 5,000 points to X?" and the API wants "confirm": true.
        self.ADJUSTMENT_MAX_POINTS = int(env.get("ROUNDTRIP_ADJUSTMENT_MAX_POINTS", "10000"))
        self.ADJUSTMENT_CONFIRM_POINTS = int(env.get("ROUNDTRIP_ADJUSTMENT_CONFIRM_POINTS", "1000"))
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        # Cookies only over HTTPS; off for the embedded http://127.0.0.1 mode.
        self.SESSION_COOKIE_SECURE = env.get("ROUNDTRIP_SECURE_COOKIES", "off") == "on"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.WTF_CSRF_TIME_LIMIT = None  # a dispatcher's tab stays open all evening
        # The embedded mode's in-process scheduler; `make run` turns it on for the server only
        # (CLI commands build the app too and must not start jobs).
        self.SCHEDULER_ENABLED = env.get("ROUNDTRIP_SCHEDULER", "off") == "on"
        # Where background work runs: "threads" of this process (the embedded mode), or
        # "procrastinate", PostgreSQL's job queue drained by `python -m app.worker`
        # processes (production: needs DATABASE_URL on PostgreSQL).
        self.QUEUE = env.get("ROUNDTRIP_QUEUE", "threads")
        if self.QUEUE not in ("threads", "procrastinate", "inline"):
            raise ValueError(f"ROUNDTRIP_QUEUE: {self.QUEUE!r}; use threads or procrastinate")
        # A planning run handed to the queue fails with a reason if no worker takes it up
        # within this many minutes.
        self.PLANNING_QUEUE_WAIT_S = 60 * float(env.get("ROUNDTRIP_PLANNING_QUEUE_WAIT_MIN", "30"))
        # Map tiles are fetched by the dispatcher's browser only if an installation sets this
        # (e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png); without, routes show on a
        # blank map, still useful.
        self.MAP_TILE_URL = env.get("ROUNDTRIP_MAP_TILE_URL", "")
        # Seconds of search per planning run; "auto" grows with the day's orders (see
        # app.planning.services.time_budget).
        budget = env.get("ROUNDTRIP_PLANNING_TIME_LIMIT_S", "auto")
        self.PLANNING_TIME_LIMIT_S = None if budget == "auto" else float(budget)
        # A planning run's lease: its worker renews it while solving (every lease/3, at most
        # 10 s apart); a run silent this long lost its worker and is marked failed.
        self.PLANNING_LEASE_S = float(env.get("ROUNDTRIP_PLANNING_LEASE_S", "60"))
        if not self.PLANNING_LEASE_S > 0:
            raise ValueError("ROUNDTRIP_PLANNING_LEASE_S must be a number of seconds above 0")
        # Local times (each depot's own) at which tomorrow is planned; the last one publishes.
        waves = env.get("ROUNDTRIP_PLANNING_WAVES", "18:00,23:30")
        self.PLANNING_WAVES = _times(waves)
        # Per depot, by code: "MSK-S=17:00,22:30;SPB=18:00,23:45"; others use PLANNING_WAVES.
        self.PLANNING_WAVES_BY_DEPOT = {
            code.strip(): _times(times)
            for code, _, times in (
                part.partition("=")
                for part in env.get("ROUNDTRIP_PLANNING_WAVES_BY_DEPOT", "").split(";")
                if part.strip()
            )
        }
        # Today is re-planned this often when orders arrived after the published plan; 0: never.
        self.SAME_DAY_WAVE_MINUTES = int(env.get("ROUNDTRIP_SAME_DAY_WAVE_MINUTES", "20"))
        self.SCHEDULER_TIMEZONE = env.get("ROUNDTRIP_SCHEDULER_TIMEZONE", "Europe/Moscow")
        # Languages offered, the default first (pages follow the person's choice, else their
        # browser's Accept-Language among these). Russian first: the first shops are in Moscow;
        # a browser that asks for English still gets English.
        self.LANGUAGES = languages(env)
        # WTForms' own field messages in the page's language, from its shipped catalogues.
        self.WTF_I18N_ENABLED = True
        # Sign-in throttling (page and API token endpoint): memory:// counts per process; with
        # several workers use a shared store, e.g. redis://localhost:6379.
        # Reverse proxies in front of the app (nginx: 1): their X-Forwarded-For/-Proto/-Host
        # are trusted, so client addresses (sign-in limits, /metrics) and https links are
        # right. 0 (the embedded mode): no header is trusted.
        self.PROXIES = int(env.get("ROUNDTRIP_PROXIES", "0"))
        if not 0 <= self.PROXIES <= 5:
            raise ValueError("ROUNDTRIP_PROXIES: the number of reverse proxies, 0 to 5")
        self.RATELIMIT_STORAGE_URI = env.get("ROUNDTRIP_RATELIMIT_STORAGE", "memory://")
        self.SIGN_IN_LIMIT = env.get("ROUNDTRIP_SIGN_IN_LIMIT", "10 per minute")
        self.SIGN_IN_LIMIT_PER_IP = env.get("ROUNDTRIP_SIGN_IN_LIMIT_PER_IP", "60 per minute")
        self.LOGIN_SESSION_DAYS = int(env.get("ROUNDTRIP_SESSION_DAYS", "14"))
        self.API_TOKEN_DAYS = int(env.get("ROUNDTRIP_API_TOKEN_DAYS", "30"))
        self.API_TOKEN_CAP = int(env.get("ROUNDTRIP_API_TOKEN_CAP", "10"))
        # A stop is reported on its delivery day (depot time), give or take this many hours for
        # night shifts (a day over by more than 4 hours is no longer planned or edited).
        self.REPORT_MARGIN_H = _hours(env.get("ROUNDTRIP_REPORT_MARGIN_H", "4"))

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if k.isupper()}


def _times(text: str) -> tuple[str, ...]:
    """Comma-separated HH:MM times; a bad one stops the start with a message saying which."""
    times = tuple(t.strip() for t in text.split(",") if t.strip())
    for t in times:
        hour, _, minute = t.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f"planning waves: {t!r} is not a time like 18:00")
    return times


def _hours(raw: str) -> float:
    try:
        hours = float(raw)
    except ValueError:
        hours = -1.0
    if not 0 <= hours <= 12:
        raise ValueError(f"ROUNDTRIP_REPORT_MARGIN_H must be hours from 0 to 12, not {raw!r}")
    return hours


def languages(env: Mapping[str, str]) -> tuple[str, ...]:
    """ROUNDTRIP_LANGUAGES: the languages offered, the default first (also read by
    `roundtrip solve`, which builds no app)."""
    return _languages(env.get("ROUNDTRIP_LANGUAGES", "ru,en"))


def _languages(text: str) -> tuple[str, ...]:
    languages = tuple(code.strip() for code in text.split(",") if code.strip())
    unknown = [code for code in languages if code not in ("en", "ru")]
    if not languages or unknown:
        raise ValueError(f"ROUNDTRIP_LANGUAGES: {text!r}; Roundtrip speaks en and ru")
    return languages
