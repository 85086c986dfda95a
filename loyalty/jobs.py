"""Scheduled loyalty work. Jobs own their transactions: one per customer keeps locks short."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope, utcnow
from loyalty import services
from loyalty.policy import LoyaltyRules

log = logging.getLogger(__name__)


def expire_points(
    factory: sessionmaker[Session],
    *,
    now: datetime | None = None,
    rules: LoyaltyRules | None = None,
) -> int:
    """Expire every customer's unused points that ran out; returns entries written.

    Safe to run twice, or on two machines at once: each expiry has the idempotency key
    ``expiry:<grant>`` and is written under the customer's account lock.
    """
    now = now or utcnow()
    rules = rules or LoyaltyRules.from_env()
    with session_scope(factory) as session:
        customers = services.customers_with_expired_points(session, now=now)
    written = 0
    for customer_id in customers:
        with session_scope(factory) as session:
            written += len(services.expire(session, customer_id=customer_id, now=now, rules=rules))
    log.info("loyalty expiry: %d entries for %d customers", written, len(customers))
    return written
