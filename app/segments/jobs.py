"""The month's segment offers (L4). The job owns its transactions, one per customer, so one
that fails does not hold back the others."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope, utcnow
from app.segments import services as segment_services
from app.segments.policy import SegmentRules

log = logging.getLogger(__name__)


def monthly_offers(
    factory: sessionmaker[Session],
    *,
    now: datetime | None = None,
    rules: SegmentRules | None = None,
) -> int:
    """Give this month's offers to every customer whose segment brings one and who has not
    had it yet; returns how many ledger entries were written. Safe to run every day, twice,
    or on two machines at once: each offer's ledger key names the customer and the month."""
    now = now or utcnow()
    rules = rules or SegmentRules.from_env()
    with session_scope(factory) as session:
        due = segment_services.offers_due(session, now=now, rules=rules)
    given = failed = 0
    for customer_id in due:
        try:
            with session_scope(factory) as session:
                written = segment_services.give_offers(
                    session, customer_id=customer_id, now=now, rules=rules
                )
                given += len(written)
        except Exception:  # the next customer must not wait for this one; tomorrow retries
            log.exception("segments: the offer for customer %s failed", customer_id)
            failed += 1
    if given:
        log.info("segments: %d offers given", given)
    if failed:
        raise RuntimeError(f"segment offers: {failed} customer(s) failed; see the log")
    return given
