"""Scheduled feedback work: after a delivery, the customer is asked to rate it (Q1). The job
owns its transactions, one per stop, so one that fails does not hold back the others."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope, utcnow
from app.quality import services as quality

log = logging.getLogger(__name__)


def invite_ratings(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """Send "how was your delivery?" for every delivery of the last 48 hours not yet rated or
    invited; returns how many were sent. Safe to run twice or on two machines at once: each
    message has a key per stop, so a customer is invited once."""
    now = now or utcnow()
    with session_scope(factory) as session:
        due = quality.rating_invites_due(session, now=now)
    sent = failed = 0
    for stop_id in due:
        try:
            with session_scope(factory) as session:
                sent += quality.invite_to_rate(session, stop_id=stop_id, now=now)
        except Exception:  # the next stop must not wait for this one; the next run retries
            log.exception("quality: inviting stop %s to be rated failed", stop_id)
            failed += 1
    if sent:
        log.info("quality: %d customers asked to rate their delivery", sent)
    if failed:
        raise RuntimeError(f"rating invitations: {failed} stop(s) failed; see the log")
    return sent
