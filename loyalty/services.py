"""Ledger operations: check the idempotency key, apply the rules, write, flush.

Every write updates the customer's account row (its running balance and its version), so
writes for one customer run one after another, each seeing the one before, while writes for
different customers never wait for each other. Debits are allocated to grants
oldest-expiring first; the unused points of each grant are kept in ``ledger_unused_grants``,
which makes expiry exact and lets a debit read a few index entries instead of the customer's
history.

Two paths write the same entries. On PostgreSQL the common cases (a grant; a debit that
passes its checks) are one statement each (``loyalty.postgres``). Everything else, and
everything on SQLite, takes the reference path: lock the account (SELECT ... FOR UPDATE),
look the key up, expire what is due, decide in Python, write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached

from app.customers.models import Customer
from app.errors import Conflict, ErrorCollector, NotFound, ValidationFailed
from app.messages import Message, say, say_n
from loyalty import postgres
from loyalty.models import EntryKind, LedgerAllocation, LedgerEntry, LoyaltyAccount, UnusedGrant
from loyalty.policy import LoyaltyRules

DEFAULT_RULES = LoyaltyRules()

# Table-level statements: the ORM's copy of an account is expired by hand (_forget_account).
_ACCOUNT_TABLE = cast(Table, LoyaltyAccount.__table__)
_UNUSED_TABLE = cast(Table, UnusedGrant.__table__)
_ALLOCATION_TABLE = cast(Table, LedgerAllocation.__table__)
_ACCOUNTS = _ACCOUNT_TABLE.c
_UNUSED = _UNUSED_TABLE.c
_ENTRIES = LedgerEntry.__mapper__
_SPEND = (
    update(_UNUSED_TABLE)
    .where(_UNUSED.entry_id == bindparam("grant_id"))
    .values(unused_points=_UNUSED.unused_points - bindparam("taken"))
)


# json.dumps(..., sort_keys=True, default=str) builds this encoder on every call.
_FINGERPRINT_JSON = json.JSONEncoder(sort_keys=True, default=str)


def _fingerprint(operation: str, **fields: object) -> str:
    payload = _FINGERPRINT_JSON.encode([operation, fields])
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AccountState:
    """The account as its lock found it, or as a write left it."""

    customer_id: int
    balance_points: int
    owed_points: int
    version: int


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry about to be written. A credit is a grant: it expires."""

    customer_id: int
    kind: EntryKind
    points: int
    reason: str
    source: str | None
    key: str
    fingerprint: str
    now: datetime
    rules: LoyaltyRules
    user_id: int | None = None
    shortfall: int = 0

    @property
    def expires_at(self) -> datetime | None:
        if self.points <= 0:
            return None
        return self.now + timedelta(days=self.rules.grant_lifetime_days)

    def row(self) -> dict[str, Any]:
        """The entry's columns."""
        return {
            "customer_id": self.customer_id,
            "kind": self.kind.value,
            "points": self.points,
            "shortfall_points": self.shortfall,
            "reason": self.reason,
            "source": self.source,
            "idempotency_key": self.key,
            "request_fingerprint": self.fingerprint,
            "created_by_user_id": self.user_id,
            "created_at": self.now,
            "expires_at": self.expires_at,
        }


def _fast(session: Session) -> bool:
    """Whether the one-statement writes of loyalty.postgres can be tried."""
    return session.get_bind().dialect.name == "postgresql"


def _forget_account(session: Session, customer_id: int) -> None:
    """Expire the session's copy of the account, if it holds one: the row was written with
    SQL the ORM does not follow, and a later ``balance()`` must not read the old figures."""
    # The identity key spelled out (class, primary key, token): identity_key() would build
    # it through the mapper on every write.
    account = session.identity_map.get((LoyaltyAccount, (customer_id,), None))
    if account is not None:
        session.expire(account)


def _locked(session: Session, customer_id: int) -> AccountState | None:
    row = session.execute(
        select(
            LoyaltyAccount.customer_id,
            LoyaltyAccount.balance_points,
            LoyaltyAccount.owed_points,
            LoyaltyAccount.version,
        )
        .where(LoyaltyAccount.customer_id == customer_id)
        .with_for_update()
    ).one_or_none()
    return None if row is None else AccountState(*row)


def lock_account(session: Session, customer_id: int) -> AccountState:
    """The customer's account, created if needed, locked until the transaction ends."""
    if (account := _locked(session, customer_id)) is not None:
        return account
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
            version=0,
            updated_at=func.now(),
        )
        .on_conflict_do_nothing(index_elements=["customer_id"])
    )
    account = _locked(session, customer_id)
    assert account is not None, "the account row was just inserted"
    return account


def applied(session: Session, *, customer_id: int, key: str) -> bool:
    """Whether a write with this idempotency key is already in the ledger.

    Takes the account lock first, so a concurrent request with the same key waits until the
    first one commits, then sees its entries and replays them.
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


class Taken(NamedTuple):
    """Points a debit takes from one grant, and how many the grant keeps."""

    grant_id: int
    points: int
    left: int


def _write(
    session: Session,
    draft: Draft,
    *,
    taken: Sequence[Taken] = (),
    owed_change: int = 0,
    written_off_change: int = 0,
) -> tuple[LedgerEntry, AccountState]:
    """Write one entry under the account lock: the entry, its unused-grant row or its
    allocations, and the account's running figures."""
    entry = LedgerEntry(**draft.row())
    session.add(entry)
    session.flush()
    if draft.expires_at is not None:
        session.execute(
            _UNUSED_TABLE.insert().values(
                entry_id=entry.id,
                customer_id=draft.customer_id,
                expires_at=draft.expires_at,
                unused_points=draft.points,
            )
        )
    if taken:
        session.execute(
            _ALLOCATION_TABLE.insert(),
            [
                {"debit_entry_id": entry.id, "grant_entry_id": t.grant_id, "points": t.points}
                for t in taken
            ],
        )
        if spent := [{"grant_id": t.grant_id, "taken": t.points} for t in taken if t.left]:
            session.execute(_SPEND, spent)
        if used_up := [t.grant_id for t in taken if not t.left]:
            session.execute(delete(_UNUSED_TABLE).where(_UNUSED.entry_id.in_(used_up)))
    row = session.execute(
        update(_ACCOUNT_TABLE)
        .where(_ACCOUNTS.customer_id == draft.customer_id)
        .values(
            balance_points=_ACCOUNTS.balance_points + draft.points,
            owed_points=_ACCOUNTS.owed_points + owed_change,
            written_off_points=_ACCOUNTS.written_off_points + written_off_change,
            version=_ACCOUNTS.version + 1,
            updated_at=draft.now,
        )
        .returning(
            _ACCOUNTS.customer_id,
            _ACCOUNTS.balance_points,
            _ACCOUNTS.owed_points,
            _ACCOUNTS.version,
        )
    ).one()
    _forget_account(session, draft.customer_id)
    return entry, AccountState(*row)


def _persisted(session: Session, row: dict[str, Any], entry_id: int) -> LedgerEntry:
    """The entry a one-statement write stored, as the session's own object, without a query.

    The values go straight into the instance's ``__dict__``, as when the ORM loads a row:
    set one by one through the instrumented attributes they cost several times as much."""
    if not _ENTRIES.configured:  # the constructor would have configured the mappers
        configure_mappers()
    entry: LedgerEntry = _ENTRIES.class_manager.new_instance()
    entry.__dict__.update(row, id=entry_id)
    make_transient_to_detached(entry)
    session.add(entry)
    return entry


def _take(amount: int, grants: Sequence[tuple[LedgerEntry, int]]) -> list[Taken]:
    """Take ``amount`` points from the grants in the order given."""
    taken = []
    for grant, unused in grants:
        if amount <= 0:
            break
        points = min(unused, amount)
        taken.append(Taken(grant.id, points, unused - points))
        amount -= points
    if amount > 0:
        raise AssertionError("debit larger than the unused grants: the ledger is inconsistent")
    return taken


def _grants(
    session: Session,
    customer_id: int,
    *,
    expired_by: datetime | None = None,
    open_at: datetime | None = None,
) -> list[tuple[LedgerEntry, int]]:
    """Grants with unused points, oldest-expiring first, with how many are unused."""
    query = (
        select(LedgerEntry, UnusedGrant.unused_points)
        .join(UnusedGrant, UnusedGrant.entry_id == LedgerEntry.id)
        .where(UnusedGrant.customer_id == customer_id)
    )
    if expired_by is not None:
        query = query.where(UnusedGrant.expires_at <= expired_by)
    if open_at is not None:
        query = query.where(UnusedGrant.expires_at > open_at)
    query = query.order_by(UnusedGrant.expires_at, UnusedGrant.entry_id)
    return [(grant, unused) for grant, unused in session.execute(query)]


def open_grants(
    session: Session, customer_id: int, *, now: datetime
) -> list[tuple[LedgerEntry, int]]:
    """Grants that can still be spent, oldest-expiring first, with their unused points."""
    return _grants(session, customer_id, open_at=now)


def _expire_due(
    session: Session, customer_id: int, now: datetime, rules: LoyaltyRules
) -> list[LedgerEntry]:
    """Under the account lock: an expiry entry for every grant that ran out unused."""
    written = []
    for grant, unused in _grants(session, customer_id, expired_by=now):
        entry, _ = _write(
            session,
            Draft(
                customer_id=customer_id,
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
                key=f"expiry:{grant.id}",
                fingerprint=_fingerprint("expiry", grant=grant.id),
                now=now,
                rules=rules,
            ),
            taken=[Taken(grant.id, unused, 0)],
        )
        written.append(entry)
    return written


def _settle_debt(session: Session, owed_points: int, grant: LedgerEntry, draft: Draft) -> None:
    """New points first pay off what an earlier reversal could not take back."""
    if owed_points <= 0 or grant.points <= 0:
        return
    paid = min(owed_points, grant.points)
    _write(
        session,
        Draft(
            customer_id=draft.customer_id,
            kind=EntryKind.SETTLEMENT,
            points=-paid,
            reason=say_n(
                "%(n)s point settles what a refunded order had already earned and spent",
                "%(n)s points settle what a refunded order had already earned and spent",
                paid,
            ),
            source=grant.source,
            key=f"{draft.key}:settle",
            fingerprint=draft.fingerprint,
            now=draft.now,
            rules=draft.rules,
        ),
        taken=[Taken(grant.id, paid, grant.points - paid)],
        owed_change=-paid,
    )


def _grant(session: Session, draft: Draft) -> LedgerEntry:
    """Under the account lock: credit points that expire, and let them pay off any points
    owed first."""
    entry, account = _write(session, draft)
    _settle_debt(session, account.owed_points, entry, draft)
    return entry


def _grant_fast(session: Session, draft: Draft) -> LedgerEntry | None:
    """A grant in one statement (PostgreSQL); None when the reference path must decide."""
    if not _fast(session):
        return None
    row = draft.row()
    written = postgres.grant(session, row)
    if written is None:
        return None
    entry_id, owed_points = written
    _forget_account(session, draft.customer_id)
    entry = _persisted(session, row, entry_id)
    _settle_debt(session, owed_points, entry, draft)  # the statement holds the account lock
    return entry


def _debit_fast(session: Session, draft: Draft, *, cap_points: int | None) -> LedgerEntry | None:
    """A debit in one statement (PostgreSQL); None when the reference path must decide."""
    if not _fast(session):
        return None
    row = draft.row()
    entry_id = postgres.debit(session, row, cap_points=cap_points)
    if entry_id is None:
        return None
    _forget_account(session, draft.customer_id)
    return _persisted(session, row, entry_id)


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


def _paid_in_points(session: Session, customer_id: int, source: str) -> int:
    """Points that paid for an order and did not come back with a refund (redemptions are
    negative, returns positive)."""
    points = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.customer_id == customer_id,
            LedgerEntry.source == source,
            LedgerEntry.kind.in_([EntryKind.REDEEM, EntryKind.RETURN]),
        )
    )
    return -int(points or 0)


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
    lock_account(session, customer_id)
    fingerprint = _fingerprint(
        "earn", customer=customer_id, order=order_id, total=order_total_minor
    )
    if (done := _replayed(session, [key], fingerprint)) is not None:
        return done[0]
    source = f"order:{order_id}"
    paid = (
        order_total_minor - _paid_in_points(session, customer_id, source) * rules.point_value_minor
    )
    points = rules.points_earned(paid)
    if points <= 0:
        return None
    return _grant(
        session,
        Draft(
            customer_id=customer_id,
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
        ),
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
    draft = Draft(
        customer_id=customer_id,
        kind=EntryKind.BONUS,
        points=points,
        # A reason the system wrote stays a Message (stripping it would make it plain text).
        reason=reason if isinstance(reason, Message) else reason.strip(),
        source=source,
        key=key,
        fingerprint=_fingerprint("bonus", customer=customer_id, points=points, source=source),
        now=now,
        rules=rules,
    )
    if (entry := _grant_fast(session, draft)) is not None:
        return entry
    lock_account(session, customer_id)
    if (done := _replayed(session, [key], draft.fingerprint)) is not None:
        return done[0]
    return _grant(session, draft)


@dataclass(frozen=True, slots=True)
class RedeemQuote:
    balance_points: int
    available_points: int  # not expired
    cap_points: int  # the most this order may take
    usable_points: int
    usable_minor: int


def _available(session: Session, customer_id: int, now: datetime) -> int:
    """Unused points of grants that have not expired at ``now``."""
    points = session.scalar(
        select(func.coalesce(func.sum(UnusedGrant.unused_points), 0)).where(
            UnusedGrant.customer_id == customer_id, UnusedGrant.expires_at > now
        )
    )
    return int(points or 0)


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
    available = _available(session, customer_id, now)
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
    source = f"order:{order_id}"
    draft = Draft(
        customer_id=customer_id,
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
        fingerprint=_fingerprint(
            "redeem", customer=customer_id, order=order_id, points=points, total=order_total_minor
        ),
        now=now,
        rules=rules,
        user_id=user_id,
    )
    order_cap = rules.redeem_cap(order_total_minor)
    if (entry := _debit_fast(session, draft, cap_points=order_cap)) is not None:
        return entry
    lock_account(session, customer_id)
    if (done := _replayed(session, [key], draft.fingerprint)) is not None:
        return done[0]
    _expire_due(session, customer_id, now, rules)
    cap = order_cap + _sum(session, customer_id, EntryKind.REDEEM, source)[0]
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
    entry, _ = _write(session, draft, taken=_take(points, grants))
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
    lock_account(session, customer_id)
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
    _expire_due(session, customer_id, now, rules)
    source = f"order:{order_id}"
    written: list[LedgerEntry] = []
    redeemed = -_sum(session, customer_id, EntryKind.REDEEM, source)[0]
    returned = _sum(session, customer_id, EntryKind.RETURN, source)[0]
    to_return = rules.share(redeemed, refunded_total_minor, order_total_minor) - returned
    if to_return > 0:
        written.append(
            _grant(
                session,
                Draft(
                    customer_id=customer_id,
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
                ),
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
        owed = written_off = 0
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
            written_off = shortfall
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
            owed = shortfall
        reversal, _ = _write(
            session,
            Draft(
                customer_id=customer_id,
                kind=EntryKind.REVERSAL,
                points=-take,
                reason=what,
                source=source,
                key=keys[1],
                fingerprint=fingerprint,
                now=now,
                rules=rules,
                shortfall=shortfall,
            ),
            taken=_take(take, grants),
            owed_change=owed,
            written_off_change=written_off,
        )
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
    draft = Draft(
        customer_id=customer_id,
        kind=EntryKind.ADJUSTMENT,
        points=points,
        reason=reason.strip(),
        source=f"user:{user_id}",
        key=key,
        fingerprint=_fingerprint(
            "adjust", customer=customer_id, points=points, reason=reason, user=user_id
        ),
        now=now,
        rules=rules,
        user_id=user_id,
    )
    if points > 0:  # added points are a grant, and may pay off debt
        if (entry := _grant_fast(session, draft)) is not None:
            return entry
        lock_account(session, customer_id)
        if (done := _replayed(session, [key], draft.fingerprint)) is not None:
            return done[0]
        return _grant(session, draft)
    if (entry := _debit_fast(session, draft, cap_points=None)) is not None:
        return entry
    lock_account(session, customer_id)
    if (done := _replayed(session, [key], draft.fingerprint)) is not None:
        return done[0]
    _expire_due(session, customer_id, now, rules)
    grants = _grants(session, customer_id, open_at=now)
    available = sum(unused for _, unused in grants)
    if -points > available:
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
    entry, _ = _write(session, draft, taken=_take(-points, grants))
    return entry


def expire(
    session: Session, *, customer_id: int, now: datetime, rules: LoyaltyRules = DEFAULT_RULES
) -> list[LedgerEntry]:
    """Expire one customer's unused points that ran out; a second run writes nothing."""
    lock_account(session, customer_id)
    return _expire_due(session, customer_id, now, rules)


def customers_with_expired_points(session: Session, *, now: datetime) -> list[int]:
    """Customers holding unused points that ran out by ``now``."""
    return list(
        session.scalars(
            select(UnusedGrant.customer_id)
            .where(UnusedGrant.expires_at <= now)
            .distinct()
            .order_by(UnusedGrant.customer_id)
        )
    )


def history_query(customer_id: int) -> Select[LedgerEntry]:
    """A customer's entries, newest first."""
    return (
        select(LedgerEntry)
        .where(LedgerEntry.customer_id == customer_id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
    )


def balance(session: Session, *, customer_id: int) -> int:
    account = session.get(LoyaltyAccount, customer_id)
    return account.balance_points if account else 0
