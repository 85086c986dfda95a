"""Courier actions sent from a phone, applied exactly once (C2, offline).

A phone on a weak network queues each action with its own id and the courier's clock, and
sends it until it hears back; an answer can be lost, so the same action may arrive twice,
ten times, or from two retries at once. The first arrival applies it and stores the answer;
every later one gets that answer again and changes nothing. The stop records when the
courier acted, not when the server heard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.messages import say
from app.planning.days import DEFAULT_REPORT_MARGIN
from app.planning.enums import EventKind, FailureReason
from app.planning.models import Stop, StopEvent
from app.planning.progress import Report, report_stop


@dataclass(frozen=True, slots=True)
class CourierEvent:
    client_event_id: str
    stop_id: int
    kind: EventKind
    courier_at: datetime
    reason: FailureReason | None = None
    note: str | None = None
    recipient: str | None = None
    photo: str | None = None  # a name app.media.store_photo gave

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.client_event_id,
            "stop_id": self.stop_id,
            "kind": self.kind.value,
            "at": self.courier_at.isoformat(),
            "reason": self.reason.value if self.reason else None,
            "note": self.note,
            "recipient": self.recipient,
            "photo": self.photo,
        }


def _replay(found: StopEvent, courier_id: int) -> dict[str, Any]:
    if found.courier_id != courier_id:
        # Ids are random per action: another courier's id is a guess, and gets nothing.
        raise NotFound(say("There is no stop %(id)s on your route.", id=found.stop_id))
    return {**found.result, "replayed": True}


def _stored(session: Session, client_event_id: str) -> StopEvent | None:
    return session.scalar(select(StopEvent).where(StopEvent.client_event_id == client_event_id))


def apply(
    session: Session,
    *,
    courier_id: int,
    event: CourierEvent,
    now: datetime,
    margin: timedelta = DEFAULT_REPORT_MARGIN,
) -> dict[str, Any]:
    """Apply one action once; returns its answer (``replayed`` when it was applied before).

    A refusal (another courier's stop, a day not yet begun, a route not inspected, a stop
    already ended) raises the domain error and stores nothing, so the phone may send it
    again once the cause is gone. Work happens in a savepoint: a refused action leaves the
    caller's other actions as they were.
    """
    found = _stored(session, event.client_event_id)
    if found is not None:
        return _replay(found, courier_id)
    # One action of a stop at a time (PostgreSQL): a retry racing the first waits here, then
    # finds the first one's row below.
    session.scalar(select(Stop.id).where(Stop.id == event.stop_id).with_for_update())
    found = _stored(session, event.client_event_id)
    if found is not None:
        return _replay(found, courier_id)
    # A phone's clock may run fast: an action is never recorded later than it was heard of.
    at = min(event.courier_at, now)
    try:
        with session.begin_nested():
            visit = report_stop(
                session,
                stop_id=event.stop_id,
                report=Report(event.kind.value),
                at=at,
                courier_id=courier_id,
                reason=event.reason,
                note=event.note,
                recipient=event.recipient,
                margin=margin,
            )
            stop = visit.stop
            if event.photo is not None:
                stop.proof_photo = event.photo
            result = {
                "id": event.client_event_id,
                "stop_id": stop.id,
                "kind": event.kind.value,
                "status": "applied",
                "recorded_at": at.isoformat(),
                "outcome": stop.outcome,
            }
            session.add(
                StopEvent(
                    client_event_id=event.client_event_id,
                    courier_id=courier_id,
                    stop_id=stop.id,
                    kind=event.kind.value,
                    courier_at=event.courier_at,
                    received_at=now,
                    payload=event.payload(),
                    result=result,
                )
            )
            session.flush()
    except IntegrityError:
        # The same action, applied by a retry that committed first (SQLite has no row lock).
        found = _stored(session, event.client_event_id)
        if found is None:
            raise
        return _replay(found, courier_id)
    return {**result, "replayed": False}
