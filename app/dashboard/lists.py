"""What each dashboard figure counts, as a list: the rows of one figure for one depot (or
all) and one week, the misses first, so a figure is never a number nobody can check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from app.customers.models import Customer
from app.dashboard import figures as f
from app.help.models import CallbackRequest
from app.orders.models import Order
from app.planning.enums import StopOutcome
from app.planning.models import Plan, Stop
from app.quality.models import DeliveryRating, NpsAnswer, SupportCase
from loyalty.models import EntryKind, LedgerEntry
from returns.models import ReturnCase

LIMIT = 200


class Figure(StrEnum):
    ON_TIME = "on_time"
    FIRST_ATTEMPT = "first_attempt"
    RETURNS_KEPT = "returns_kept"
    RATINGS = "ratings"
    NPS = "nps"
    BONUSES = "bonuses"
    CALLBACKS_KEPT = "callbacks_kept"
    PLANS_FEASIBLE = "plans_feasible"
    STOPS_COMPLETED = "stops_completed"


# Figures counted for every depot together (they belong to the customer, not a depot).
SHOP_WIDE = frozenset({Figure.NPS, Figure.BONUSES, Figure.CALLBACKS_KEPT})


@dataclass(frozen=True, slots=True)
class Row:
    values: dict[str, Any]  # by column name; moments are aware datetimes
    ok: bool | None  # counted as good (None: neither, e.g. a rating)
    customer_id: int | None = None
    plan_id: int | None = None


@dataclass(frozen=True, slots=True)
class ListPage:
    figure: Figure
    week: date
    columns: tuple[str, ...]
    rows: list[Row]
    total: int  # rows counted (the list shows at most LIMIT)


def _stop_rows(
    session: Session,
    *,
    condition: Any,
    good: Any,
    day_first: date,
    day_last: date,
    depot_id: int | None,
) -> tuple[list[Row], int]:
    where = and_(
        condition,
        Stop.delivery_day >= day_first,
        Stop.delivery_day <= day_last,
        Stop.depot_id.in_(f.depot_ids(session, depot_id)),
    )
    ok = case((good, 1), else_=0)
    total = session.scalar(select(func.count()).select_from(Stop).where(where)) or 0
    rows = session.execute(
        select(Stop, Order.number, Order.customer_id, Customer.name, ok)
        .join(Order, Order.id == Stop.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .where(where)
        .order_by(ok, Stop.delivery_day, Stop.window_start_at, Stop.id)
        .limit(LIMIT)
    )
    out = []
    for stop, number, customer_id, name, hit in rows:
        out.append(
            Row(
                values={
                    "order": number,
                    "customer": name,
                    "day": stop.delivery_day,
                    "promised": (stop.window_start_at, stop.window_end_at),
                    "told": (stop.told_start_at, stop.told_end_at) if stop.told_at else None,
                    "arrived": stop.arrived_at or stop.completed_at,
                    "outcome": stop.failure_reason or stop.outcome,
                },
                ok=bool(hit),
                customer_id=customer_id,
            )
        )
    return out, total


def figure_list(
    session: Session,
    *,
    figure: Figure,
    week: date,
    depot_id: int | None,
    now: datetime,
    timezone: str,
) -> ListPage:
    """The rows ``figure`` counted in the week starting ``week`` (a Monday)."""
    week = f.monday(week)
    last = week + timedelta(days=6)
    tz = ZoneInfo(timezone)
    today = now.astimezone(tz).date()
    begin, end = f.day_bounds(week, last, tz)
    stop_columns = ("order", "customer", "day", "promised", "told", "arrived", "outcome")
    delivered = Stop.outcome == StopOutcome.DELIVERED
    if figure in (Figure.ON_TIME, Figure.STOPS_COMPLETED, Figure.FIRST_ATTEMPT):
        condition = f.due_stops(today)
        good = and_(delivered, f.inside_promise())
        if figure == Figure.STOPS_COMPLETED:
            good = Stop.outcome.is_not(None)
        elif figure == Figure.FIRST_ATTEMPT:
            condition, good = f.first_attempts(), delivered
        rows, total = _stop_rows(
            session,
            condition=condition,
            good=good,
            day_first=week,
            day_last=last,
            depot_id=depot_id,
        )
        return ListPage(figure, week, stop_columns, rows, total)
    if figure == Figure.RATINGS:
        where = and_(
            Stop.delivery_day >= week,
            Stop.delivery_day <= last,
            Stop.depot_id.in_(f.depot_ids(session, depot_id)),
        )
        query = (
            select(DeliveryRating, Order.number, Customer.name, Stop.delivery_day)
            .join(Stop, Stop.id == DeliveryRating.stop_id)
            .join(Order, Order.id == DeliveryRating.order_id)
            .join(Customer, Customer.id == DeliveryRating.customer_id)
            .where(where)
        )
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        out = [
            Row(
                values={
                    "order": number,
                    "customer": name,
                    "day": day,
                    "score": r.score,
                    "comment": r.comment or "",
                },
                ok=r.score > f.LOW_RATING,
                customer_id=r.customer_id,
            )
            for r, number, name, day in session.execute(
                query.order_by(DeliveryRating.score, DeliveryRating.id).limit(LIMIT)
            )
        ]
        return ListPage(figure, week, ("order", "customer", "day", "score", "comment"), out, total)
    if figure == Figure.RETURNS_KEPT:
        query = (
            select(ReturnCase, Order.number, Customer.name)
            .join(Order, Order.id == ReturnCase.order_id)
            .join(Customer, Customer.id == ReturnCase.customer_id)
            .where(ReturnCase.created_at >= begin, ReturnCase.created_at < end)
            .order_by(ReturnCase.created_at, ReturnCase.id)
        )
        if depot_id is not None:
            query = query.where(Order.depot_id == depot_id)
        out = []
        for c, number, name in session.execute(query):
            kept = f.return_kept(c.respond_by, c.answered_at, now)
            if kept is None:
                continue
            out.append(
                Row(
                    values={
                        "case": c.id,
                        "order": number,
                        "customer": name,
                        "opened": c.created_at,
                        "promised_by": c.respond_by,
                        "answered": c.answered_at or (c.decided_at if not c.respond_by else None),
                    },
                    ok=kept,
                    customer_id=c.customer_id,
                )
            )
        out.sort(key=lambda r: bool(r.ok))
        columns = ("case", "order", "customer", "opened", "promised_by", "answered")
        return ListPage(figure, week, columns, out[:LIMIT], len(out))
    if figure == Figure.NPS:
        query = (
            select(NpsAnswer, Customer.name)
            .join(Customer, Customer.id == NpsAnswer.customer_id)
            .where(
                NpsAnswer.answered_at >= begin,
                NpsAnswer.answered_at < end,
                NpsAnswer.score.is_not(None),
            )
        )
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        out = [
            Row(
                values={
                    "customer": name,
                    "answered": a.answered_at,
                    "score": a.score,
                    "group": f.nps_group(a.score or 0),
                    "comment": a.why or "",
                },
                ok=None if f.nps_group(a.score or 0) == "passive" else (a.score or 0) >= 9,
                customer_id=a.customer_id,
            )
            for a, name in session.execute(
                query.order_by(NpsAnswer.score, NpsAnswer.id).limit(LIMIT)
            )
        ]
        return ListPage(
            figure, week, ("customer", "answered", "score", "group", "comment"), out, total
        )
    if figure == Figure.BONUSES:
        query = (
            select(LedgerEntry, Customer.name)
            .join(Customer, Customer.id == LedgerEntry.customer_id)
            .where(
                LedgerEntry.kind == EntryKind.BONUS,
                LedgerEntry.created_at >= begin,
                LedgerEntry.created_at < end,
            )
            .order_by(LedgerEntry.created_at, LedgerEntry.id)
        )
        out = [
            Row(
                values={
                    "customer": name,
                    "credited": e.created_at,
                    "cause": cause,
                    "points": e.points,
                    "reason": e.reason,
                },
                ok=None,
                customer_id=e.customer_id,
            )
            for e, name in session.execute(query)
            if (cause := f.apology_cause(e.idempotency_key)) is not None
        ]
        columns = ("customer", "credited", "cause", "points", "reason")
        return ListPage(figure, week, columns, out[:LIMIT], len(out))
    if figure == Figure.CALLBACKS_KEPT:
        query = (
            select(CallbackRequest, SupportCase, Customer.name)
            .join(SupportCase, SupportCase.id == CallbackRequest.case_id)
            .join(Customer, Customer.id == SupportCase.customer_id)
            .where(
                CallbackRequest.slot_start_at >= begin,
                CallbackRequest.slot_start_at < end,
                CallbackRequest.slot_start_at <= now - f.SLOT,
            )
            .order_by(CallbackRequest.slot_start_at, CallbackRequest.id)
        )
        out = [
            Row(
                values={
                    "customer": name,
                    "slot": cb.slot_start_at,
                    "answered": case_.answered_at,
                },
                ok=f.callback_kept(cb.slot_start_at, case_.answered_at),
                customer_id=case_.customer_id,
            )
            for cb, case_, name in session.execute(query)
        ]
        out.sort(key=lambda r: bool(r.ok))
        return ListPage(figure, week, ("customer", "slot", "answered"), out[:LIMIT], len(out))
    # Plans feasible: each day's last published version.
    query = select(Plan).where(
        Plan.published_at.is_not(None), Plan.delivery_day >= week, Plan.delivery_day <= last
    )
    if depot_id is not None:
        query = query.where(Plan.depot_id == depot_id)
    latest: dict[tuple[int, date], Plan] = {}
    for plan in session.scalars(query):
        known = latest.get((plan.depot_id, plan.delivery_day))
        if known is None or plan.version > known.version:
            latest[(plan.depot_id, plan.delivery_day)] = plan
    out = [
        Row(
            values={
                "day": p.delivery_day,
                "version": p.version,
                "routed": p.stops_assigned or 0,
                "unrouted": p.stops_unassigned or 0,
            },
            ok=not p.stops_unassigned,
            plan_id=p.id,
        )
        for p in sorted(latest.values(), key=lambda p: (not p.stops_unassigned, p.delivery_day))
    ]
    return ListPage(figure, week, ("day", "version", "routed", "unrouted"), out, len(out))
