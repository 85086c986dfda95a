"""Scheduled returns work. Jobs own their transactions: one per case keeps locks short, and
a case that fails (logged, and the job then fails so the queue shows it) does not hold back
the others."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope, utcnow
from loyalty.policy import LoyaltyRules
from returns import review, visits

log = logging.getLogger(__name__)


def escalate(
    factory: sessionmaker[Session],
    *,
    now: datetime | None = None,
    soon: timedelta | None = None,
    bonus_points: int | None = None,
) -> tuple[int, int]:
    """Tell support of every case whose promised answer is due within ``soon``
    (ROUNDTRIP_RETURN_ESCALATE_HOURS, 4 h) and apologise to every customer whose promise
    broke (with ROUNDTRIP_RETURN_BREACH_BONUS_POINTS, 100); returns (escalated, apologised).

    Safe to run twice, or on two machines at once: each case is claimed by a compare-and-set
    on ``escalated_at`` / ``breach_told_at`` in its own transaction, so each happens once.
    """
    now = now or utcnow()
    rules = review.PromiseRules.from_env()
    soon = rules.soon if soon is None else soon
    bonus_points = rules.breach_bonus_points if bonus_points is None else bonus_points
    loyalty_rules = LoyaltyRules.from_env()
    with session_scope(factory) as session:
        to_escalate, broken = review.promises_due(session, now=now, soon=soon)
    escalated = told = failed = 0
    for case_id in to_escalate:
        try:
            with session_scope(factory) as session:
                escalated += review.escalate_case(session, case_id=case_id, now=now, soon=soon)
        except Exception:  # the next case must not wait for this one; the next run retries
            log.exception("returns: escalating case %s failed", case_id)
            failed += 1
    for case_id in broken:
        try:
            with session_scope(factory) as session:
                told += review.tell_breach(
                    session,
                    case_id=case_id,
                    now=now,
                    bonus_points=bonus_points,
                    loyalty_rules=loyalty_rules,
                )
        except Exception:
            log.exception("returns: apologising for case %s failed", case_id)
            failed += 1
    if escalated or told:
        log.info(
            "returns: %d escalated to support, %d customers told of a late answer", escalated, told
        )
    if failed:
        raise RuntimeError(f"returns escalation: {failed} case(s) failed; see the log")
    return escalated, told


def book_missed_visits(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """Book again each return visit that was missed (returns.visits); returns how many.

    Each case in its own transaction; two runs at once book one visit, as a case's stops are
    unique per day."""
    now = now or utcnow()
    with session_scope(factory) as session:
        cases = visits.missed_visits(session, now=now)
    booked = failed = 0
    for case_id in cases:
        try:
            with session_scope(factory) as session:
                booked += visits.book_again(session, case_id=case_id, now=now) is not None
        except Exception:  # the next case must not wait for this one; the next run retries
            log.exception("returns: booking a missed visit of case %s again failed", case_id)
            failed += 1
    if booked:
        log.info("returns: %d missed visits booked again", booked)
    if failed:
        raise RuntimeError(f"returns visits: {failed} case(s) failed; see the log")
    return booked
