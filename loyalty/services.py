"""Ledger operations: lock the account, check the idempotency key, write, flush.

Every write takes the customer's account row lock (SELECT ... FOR UPDATE) before anything
else, so concurrent writes for one customer run one after another and a retried request
finds the first one's entries. Debits are allocated to grants oldest-expiring first; a
grant's unused points are its points minus its allocations, which makes expiry exact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.customers.models import Customer
from app.errors import Conflict, ErrorCollector, NotFound, ValidationFailed
from app.messages import Message, say, say_n
from loyalty.models import EntryKind, LedgerAllocation, LedgerEntry, LoyaltyAccount
from loyalty.policy import LoyaltyRules

DEFAULT_RULES = LoyaltyRules()


def _fingerprint(operation: str, **fields: object) -> str:
    payload = json.dumps([operation, fields], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def lock_account(session: Session, customer_id: int) -> LoyaltyAccount:
    """The customer's account, created if needed, locked until the transaction ends."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(say("There is no customer %(id)s.", id=str(customer_id)))
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(LoyaltyAccount)
        .values(
            customer_id=customer_id,
            balance_points=0,
            owed_points=0,
            written_off_points=0,
            updated_at=func.now(),
        )
        .on_conflict_do_nothing(index_elements=["customer_id"])
    )
    return session.scalars(
        select(LoyaltyAccount)
        .where(LoyaltyAccount.customer_id == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def applied(session: Session, *, customer_id: int, key: str) -> bool:
    """Whether a write with this idempotency key is already in the ledger.

    Takes the account lock first (as every write does), so a concurrent request with the
    same key waits until the first one commits, then sees its entries and replays them.
    """
    lock_account(session, customer_id)
    found = session.scalar(select(LedgerEntry.id).where(LedgerEntry.idempotency_key == key))
    return found is not None


def _replayed(session: Session, keys: Sequence[str], fingerprint: str) -> list[LedgerEntry] | None:
    """Entries an earlier request with this key wrote; None if it never ran."""
    found = list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.idempotency_key.in_(keys))
            .order_by(LedgerEntry.id)
        )
    )
    if not found:
        return None
    if any(e.request_fingerprint != fingerprint for e in found):
        raise Conflict(say("This idempotency key was already used for a different request."))
    return found


def _write(
    session: Session,
    account: LoyaltyAccount,
    *,
    kind: EntryKind,
    points: int,
    reason: str,
    source: str | None,
    key: str,
    fingerprint: str,
    now: datetime,
    rules: LoyaltyRules,
    user_id: int | None = None,
    shortfall: int = 0,
) -> LedgerEntry:
    grant = points > 0
    entry = LedgerEntry(
        customer_id=account.customer_id,
        kind=kind,
        points=points,
        shortfall_points=shortfall,
        reason=reason,
        source=source,
        idempotency_key=key,
        request_fingerprint=fingerprint,
        created_by_user_id=user_id,
        created_at=now,
        expires_at=now + timedelta(days=rules.grant_lifetime_days) if grant else None,
    )
    session.add(entry)
    account.balance_points += points
    account.updated_at = now
    session.flush()
    return entry


def _grants(
    session: Session,
    customer_id: int,
    *,
    expired_by: datetime | None = None,
    open_at: datetime | None = None,
) -> list[tuple[LedgerEntry, int]]:
    """Grants with unused points, oldest-expiring first, with how many are unused."""
    query = select(LedgerEntry).where(
        LedgerEntry.customer_id == customer_id, LedgerEntry.expires_at.is_not(None)
    )
    if expired_by is not None:
        query = query.where(LedgerEntry.expires_at <= expired_by)
    if open_at is not None:
        query = query.where(LedgerEntry.expires_at > open_at)
    grants = list(session.scalars(query.order_by(LedgerEntry.expires_at, LedgerEntry.id)))
    if not grants:
        return []
    used = dict(
        session.execute(
            select(LedgerAllocation.grant_entry_id, func.sum(LedgerAllocation.points))
            .where(LedgerAllocation.grant_entry_id.in_([g.id for g in grants]))
            .group_by(LedgerAllocation.grant_entry_id)
        ).all()
    )
    return [(g, g.points - int(used.get(g.id, 0))) for g in grants if g.points > used.get(g.id, 0)]


def open_grants(
    session: Session, customer_id: int, *, now: datetime
) -> list[tuple[LedgerEntry, int]]:
    """Grants that can still be spent, oldest-expiring first, with their unused points."""
    return _grants(session, customer_id, open_at=now)


def _allocate(
    session: Session, debit: LedgerEntry, amount: int, grants: list[tuple[LedgerEntry, int]]
) -> None:
    for grant, unused in grants:
        if amount <= 0:
            break
        take = min(unused, amount)
        session.add(LedgerAllocation(debit_entry_id=debit.id, grant_entry_id=grant.id, points=take))
        amount -= take
    if amount > 0:
        raise AssertionError("debit larger than the unused grants: the ledger is inconsistent")
    session.flush()


def _expire_due(
    session: Session, account: LoyaltyAccount, now: datetime, rules: LoyaltyRules
) -> list[LedgerEntry]:
    written = []
    for grant, unused in _grants(session, account.customer_id, expired_by=now):
        key = f"expiry:{grant.id}"
        if session.scalar(select(LedgerEntry.id).where(LedgerEntry.idempotency_key == key)):
            continue
        entry = _write(
            session,
            account,
            kind=EntryKind.EXPIRY,
            points=-unused,
            reason=say_n(
                "%(n)s unused point from %(day)s expired (%(reason)s)",
                "%(n)s unused points from %(day)s expired (%(reason)s)",
                unused,
                day=grant.created_at.date(),
                reason=grant.reason,
            ),
            source=f"grant:{grant.id}",
            key=key,
            fingerprint=_fingerprint("expiry", grant=grant.id),
            now=now,
            rules=rules,
        )
        _allocate(session, entry, unused, [(grant, unused)])
        written.append(entry)
    return written


def _settle_debt(
    session: Session,
    account: LoyaltyAccount,
    grant: LedgerEntry,
    key: str,
    fingerprint: str,
    now: datetime,
    rules: LoyaltyRules,
) -> None:
    """New points first pay off what an earlier reversal could not take back."""
    if account.owed_points <= 0 or grant.points <= 0:
        return
    paid = min(account.owed_points, grant.points)
    entry = _write(
        session,
        account,
        kind=EntryKind.SETTLEMENT,
        points=-paid,
        reason=say_n(
            "%(n)s point settles what a refunded order had already earned and spent",
            "%(n)s points settle what a refunded order had already earned and spent",
            paid,
        ),
        source=grant.source,
        key=f"{key}:settle",
        fingerprint=fingerprint,
        now=now,
        rules=rules,
    )
    _allocate(session, entry, paid, [(grant, grant.points)])
    account.owed_points -= paid


def _grant(
    session: Session,
    account: LoyaltyAccount,
    *,
    kind: EntryKind,
    points: int,
    reason: str,
    source: str | None,
    key: str,
    fingerprint: str,
    now: datetime,
    rules: LoyaltyRules,
    user_id: int | None = None,
) -> LedgerEntry:
    """Credit points that expire, and let them pay off any points owed first."""
    entry = _write(
        session,
        account,
        kind=kind,
        points=points,
        reason=reason,
        source=source,
        key=key,
        fingerprint=fingerprint,
        now=now,
        rules=rules,
        user_id=user_id,
    )
    _settle_debt(session, account, entry, key, fingerprint, now, rules)
    return entry


def _sum(session: Session, customer_id: int, kind: EntryKind, source: str) -> tuple[int, int]:
    """Points and shortfall of one kind of entry for one source."""
    row = session.execute(
        select(
            func.coalesce(func.sum(LedgerEntry.points), 0),
            func.coalesce(func.sum(LedgerEntry.shortfall_points), 0),
        ).where(
            LedgerEntry.customer_id == customer_id,
            LedgerEntry.kind == kind,
            LedgerEntry.source == source,
        )
    ).one()
    return int(row[0]), int(row[1])


def earn_for_delivery(
    session: Session,
    *,
    customer_id: int,
    order_id: int,
    order_ref: str,
    order_total_minor: int,
    now: datetime,
    key: str,
    rules: LoyaltyRules = DEFAULT_RULES,
) -> LedgerEntry | None:
    """Points for a delivered order, on the part paid in money (not in points)."""
    account = lock_account(session, customer_id)
    fingerprint = _fingerprint(
        "earn", customer=customer_id, order=order_id, total=order_total_minor
    )
    if (done := _replayed(session, [key], fingerprint)) is not None:
        return done[0]
    source = f"order:{order_id}"
    redeemed = -_sum(session, customer_id, EntryKind.REDEEM, source)[0]
    returned = _sum(session, customer_id, EntryKind.RETURN, source)[0]
    paid = order_total_minor - (redeemed - returned) * rules.point_value_minor
    points = rules.points_earned(paid)
    if points <= 0:
        return None
    return _grant(
        session,
        account,
        kind=EntryKind.EARN,
        points=points,
        reason=say_n(
            "%(n)s point for order %(order)s, delivered",
            "%(n)s points for order %(order)s, delivered",
            points,
            order=order_ref,
        ),
        source=source,
        key=key,
        fingerprint=fingerprint,
        now=now,
        rules=rules,
    )


def credit_bonus(
    session: Session,
    *,
    customer_id: int,
    points: int,
    reason: str,
    source: str,
    now: datetime,
    key: str,
    rules: LoyaltyRules = DEFAULT_RULES,
) -> LedgerEntry:
    """An apology or goodwill bonus; the reason is shown to the customer as written (a
    Message the system wrote, in the customer's language)."""
    errors = ErrorCollector()
    if points <= 0:
        errors.add("points", say("A bonus must be at least 1 point."))
    if not reason.strip():
        errors.add("reason", say("Say why the customer gets this bonus."))
    errors.raise_if_any()
    account = lock_account(session, customer_id)
    fingerprint = _fingerprint("bonus", customer=customer_id, points=points, source=source)
    if (done := _replayed(session, [key], fingerprint)) is not None:
        return done[0]
    return _grant(
        session,
        account,
        kind=EntryKind.BONUS,
        points=points,
        # A reason the system wrote stays a Message (stripping it would make it plain text).
        reason=reason if isinstance(reason, Message) else reason.strip(),
        source=source,
        key=key,
        fingerprint=fingerprint,
        now=now,
        rules=rules,
    )


@dataclass(frozen=True, slots=True)
class RedeemQuote:
    balance_points: int
    available_points: int  # not expired
    cap_points: int  # the most this order may take
    usable_points: int
    usable_minor: int


def quote(
    session: Session,
    *,
    customer_id: int,
    order_total_minor: int,
    now: datetime,
    rules: LoyaltyRules = DEFAULT_RULES,
) -> RedeemQuote:
    account = session.get(LoyaltyAccount, customer_id)
    balance = account.balance_points if account else 0
    available = sum(unused for _, unused in _grants(session, customer_id, open_at=now))
    cap = rules.redeem_cap(order_total_minor)
    usable = min(available, cap)
    return RedeemQuote(balance, available, cap, usable, usable * rules.point_value_minor)


def redeem(
    session: Session,
    *,
    customer_id: int,
    order_id: int,
    order_ref: str,
    order_total_minor: int,
    points: int,
    now: datetime,
    key: str,
    rules: LoyaltyRules = DEFAULT_RULES,
    user_id: int | None = None,
) -> LedgerEntry:
    """Pay part of an order with points: never more than the cap, never more than held.

    ``user_id`` is the person who asked (the customer, or staff on their behalf)."""
    if points < 1:
        raise ValidationFailed({"points": [say("Redeem at least 1 point.")]})
    account = lock_account(session, customer_id)
    fingerprint = _fingerprint(
        "redeem", customer=customer_id, order=order_id, points=points, total=order_total_minor
    )
    if (done := _replayed(session, [key], fingerprint)) is not None:
        return done[0]
    _expire_due(session, account, now, rules)
    source = f"order:{order_id}"
    already = -_sum(session, customer_id, EntryKind.REDEEM, source)[0]
    cap = rules.redeem_cap(order_total_minor) - already
    grants = _grants(session, customer_id, open_at=now)
    available = sum(unused for _, unused in grants)
    errors = ErrorCollector()
    if points > cap:
        errors.add(
            "points",
            say_n(
                "At most %(n)s point can pay for this order (%(percent)s%% of its value).",
                "At most %(n)s points can pay for this order (%(percent)s%% of its value).",
                max(cap, 0),
                percent=rules.redeem_cap_percent,
            ),
        )
    if points > available:
        errors.add(
            "points",
            say_n("You have %(n)s point available.", "You have %(n)s points available.", available),
        )
    errors.raise_if_any()
    entry = _write(
        session,
        account,
        kind=EntryKind.REDEEM,
        points=-points,
        reason=say_n(
            "%(n)s point paid for order %(order)s",
            "%(n)s points paid for order %(order)s",
            points,
            order=order_ref,
        ),
        source=source,
        key=key,
        fingerprint=fingerprint,
        now=now,
        rules=rules,
        user_id=user_id,
    )
    _allocate(session, entry, points, grants)
    return entry


def refund_order(
    session: Session,
    *,
    customer_id: int,
    order_id: int,
    order_ref: str,
    order_total_minor: int,
    refunded_total_minor: int,
    now: datetime,
    key: str,
    rules: LoyaltyRules = DEFAULT_RULES,
) -> list[LedgerEntry]:
    """After a refund (``refunded_total_minor`` so far, of the order's value): return the
    redeemed points that paid for the refunded part, and take back what that part earned."""
    if not 0 < refunded_total_minor <= order_total_minor:
        raise ValidationFailed(
            {
                "refunded_total_minor": [
                    say(
                        "Must be more than 0 and at most the order's value (%(total)s).",
                        total=order_total_minor,
                    )
                ]
            }
        )
    account = lock_account(session, customer_id)
    fingerprint = _fingerprint(
        "refund",
        customer=customer_id,
        order=order_id,
        total=order_total_minor,
        refunded=refunded_total_minor,
    )
    keys = [f"{key}:return", f"{key}:reversal", f"{key}:return:settle"]
    if (done := _replayed(session, keys, fingerprint)) is not None:
        return done
    _expire_due(session, account, now, rules)
    source = f"order:{order_id}"
    written: list[LedgerEntry] = []
    redeemed = -_sum(session, customer_id, EntryKind.REDEEM, source)[0]
    returned = _sum(session, customer_id, EntryKind.RETURN, source)[0]
    to_return = rules.share(redeemed, refunded_total_minor, order_total_minor) - returned
    if to_return > 0:
        written.append(
            _grant(
                session,
                account,
                kind=EntryKind.RETURN,
                points=to_return,
                reason=say_n(
                    "%(n)s point back: order %(order)s was refunded",
                    "%(n)s points back: order %(order)s was refunded",
                    to_return,
                    order=order_ref,
                ),
                source=source,
                key=keys[0],
                fingerprint=fingerprint,
                now=now,
                rules=rules,
            )
        )
    earned = _sum(session, customer_id, EntryKind.EARN, source)[0]
    taken, short = _sum(session, customer_id, EntryKind.REVERSAL, source)
    to_reverse = rules.share(earned, refunded_total_minor, order_total_minor) - (-taken + short)
    if to_reverse > 0:
        grants = _grants(session, customer_id, open_at=now)
        # Take back from the order's own grant first, then oldest-expiring.
        grants.sort(key=lambda g: g[0].source != source or g[0].kind != EntryKind.EARN)
        available = sum(unused for _, unused in grants)
        take = min(to_reverse, available)
        shortfall = to_reverse - take
        what = say_n(
            "%(n)s point earned by order %(order)s is taken back (refunded)",
            "%(n)s points earned by order %(order)s are taken back (refunded)",
            to_reverse,
            order=order_ref,
        )
        if shortfall and rules.shortfall_policy == "write_off":
            what = say(
                "%(taken)s; %(rest)s",
                taken=what,
                rest=say_n(
                    "%(n)s already spent is written off",
                    "%(n)s already spent are written off",
                    shortfall,
                ),
            )
            account.written_off_points += shortfall
        elif shortfall:
            what = say(
                "%(taken)s; %(rest)s",
                taken=what,
                rest=say_n(
                    "%(n)s already spent will come out of future points",
                    "%(n)s already spent will come out of future points",
                    shortfall,
                ),
            )
            account.owed_points += shortfall
        reversal = _write(
            session,
            account,
            kind=EntryKind.REVERSAL,
            points=-take,
            reason=what,
            source=source,
            key=keys[1],
            fingerprint=fingerprint,
            now=now,
            rules=rules,
            shortfall=shortfall,
        )
        if take:
            _allocate(session, reversal, take, grants)
        written.append(reversal)
    return written


def adjust(
    session: Session,
    *,
    customer_id: int,
    points: int,
    reason: str,
    user_id: int,
    now: datetime,
    key: str,
    rules: LoyaltyRules = DEFAULT_RULES,
    max_points: int | None = None,
) -> LedgerEntry:
    """A staff correction by ``user_id`` (recorded on the entry); the reason is mandatory and
    shown to the customer; never more than ``max_points`` either way when given."""
    errors = ErrorCollector()
    if points == 0:
        errors.add("points", say("An adjustment must add or remove at least 1 point."))
    elif max_points is not None and abs(points) > max_points:
        errors.add(
            "points",
            say_n(
                "An adjustment adds or removes at most %(n)s point.",
                "An adjustment adds or removes at most %(n)s points.",
                max_points,
            ),
        )
    if not reason.strip():
        errors.add("reason", say("Say why: the customer sees this reason in their history."))
    errors.raise_if_any()
    account = lock_account(session, customer_id)
    fingerprint = _fingerprint(
        "adjust", customer=customer_id, points=points, reason=reason, user=user_id
    )
    if (done := _replayed(session, [key], fingerprint)) is not None:
        return done[0]
    _expire_due(session, account, now, rules)
    grants = _grants(session, customer_id, open_at=now) if points < 0 else []
    available = sum(unused for _, unused in grants)
    if points < 0 and -points > available:
        raise ValidationFailed(
            {
                "points": [
                    say_n(
                        "The customer has only %(n)s point.",
                        "The customer has only %(n)s points.",
                        available,
                    )
                ]
            }
        )
    write = _grant if points > 0 else _write  # added points may pay off debt
    entry = write(
        session,
        account,
        kind=EntryKind.ADJUSTMENT,
        points=points,
        reason=reason.strip(),
        source=f"user:{user_id}",
        key=key,
        fingerprint=fingerprint,
        now=now,
        rules=rules,
        user_id=user_id,
    )
    if points < 0:
        _allocate(session, entry, -points, grants)
    return entry


def expire(
    session: Session, *, customer_id: int, now: datetime, rules: LoyaltyRules = DEFAULT_RULES
) -> list[LedgerEntry]:
    """Expire one customer's unused points that ran out; a second run writes nothing."""
    account = lock_account(session, customer_id)
    return _expire_due(session, account, now, rules)


def customers_with_expired_points(session: Session, *, now: datetime) -> list[int]:
    return list(
        session.scalars(
            select(LedgerEntry.customer_id)
            .where(LedgerEntry.expires_at <= now)
            .distinct()
            .order_by(LedgerEntry.customer_id)
        )
    )


def history_query(customer_id: int) -> Select[tuple[LedgerEntry]]:
    """A customer's entries, newest first."""
    return (
        select(LedgerEntry)
        .where(LedgerEntry.customer_id == customer_id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
    )


def balance(session: Session, *, customer_id: int) -> int:
    account = session.get(LoyaltyAccount, customer_id)
    return account.balance_points if account else 0
