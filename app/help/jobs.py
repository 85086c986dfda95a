"""Scheduled help work (P3): support is reminded, once, of a callback whose slot passed 10
minutes ago unanswered. One transaction per callback, so one that fails does not hold back
the others."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope, utcnow
from app.help import services as help_services

log = logging.getLogger(__name__)


def remind_callbacks(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """Remind support of every missed callback not yet reminded about; returns how many.
    Safe to run twice or on two machines at once: the reminder is claimed by a
    compare-and-set and its message has a key per case."""
    now = now or utcnow()
    with session_scope(factory) as session:
        due = help_services.missed_callbacks(session, now=now)
    sent = failed = 0
    for callback_id in due:
        try:
            with session_scope(factory) as session:
                sent += help_services.remind_missed(session, callback_id=callback_id, now=now)
        except Exception:  # the next callback must not wait for this one; the next run retries
            log.exception("help: reminding support of callback %s failed", callback_id)
            failed += 1
    if sent:
        log.info("help: support reminded of %d missed callback(s)", sent)
    if failed:
        raise RuntimeError(f"callback reminders: {failed} callback(s) failed; see the log")
    return sent
