"""After the door: ratings, the NPS question, returns, callbacks, and the people who answer
them.

Customers who got their order rate some deliveries (mostly well when it came on time, often
badly when it was late), answer the NPS question when it is put to them, now and then start a
return a day or two later, and a few ask to be called back at a slot of the help page. A
simulated support agent answers the cases low scores open, calls back (mostly within the
half hour chosen, sometimes late, sometimes not at all) and decides returns that went the
standard path, after a few hours (usually within the promise, sometimes beyond it).
Everything goes through the services, with ``now``.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.customers.models import Customer
from app.db import session_scope
from app.errors import DomainError
from app.help import services as help_services
from app.orders.models import Order
from app.planning.models import Stop
from app.quality import services as quality
from app.quality.models import SupportCase
from app.simulation.clock import Agenda
from app.simulation.world import World
from returns import review
from returns import services as return_services
from returns.models import ReturnCase
from returns.policy import Outcome, Resolution, ReturnReason, Rule

log = logging.getLogger(__name__)

ON_TIME_SCORES = ((5, 70), (4, 20), (3, 6), (2, 3), (1, 1))
LATE_SCORES = ((5, 15), (4, 20), (3, 25), (2, 20), (1, 20))
RETURN_REASONS = (
    (ReturnReason.CHANGED_MIND, 45),
    (ReturnReason.DEFECTIVE, 25),
    (ReturnReason.NOT_AS_DESCRIBED, 15),
    (ReturnReason.DAMAGED, 10),
    (ReturnReason.WRONG_ITEM, 5),
)


@dataclass(frozen=True, slots=True)
class Habits:
    """How often customers and support do what, and how soon."""

    rate: float = 0.30
    nps: float = 0.10
    nps_answer: float = 0.6
    returns: float = 0.015
    return_after_h: tuple[float, float] = (24.0, 48.0)  # a day or two after the delivery
    answer_case: float = 0.85
    # The agent decides a standard return this many hours after it was opened; the
    # promise is 48 hours, and one case in ten waits longer.
    decide_hours: tuple[float, float] = (2.0, 40.0)
    decide_late_share: float = 0.1
    # A callback asked for after a delivery; support calls within the slot, late, or never.
    callback: float = 0.03
    callback_in_slot: float = 0.8
    callback_late: float = 0.12


@dataclass
class AftercareTally:
    ratings: int = 0
    nps_answers: int = 0
    returns: int = 0
    returns_decided: int = 0
    cases_answered: int = 0
    callbacks: int = 0
    refused: int = 0


def _pick(rng: random.Random, weighted: tuple[tuple[object, int], ...]) -> object:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


@dataclass
class Aftercare:
    factory: sessionmaker[Session]
    world: World
    agenda: Agenda
    rng: random.Random
    habits: Habits
    tally: AftercareTally

    def delivered(self, stop_id: int, now: datetime) -> None:
        """What the customer of a just-delivered stop will do, put on the agenda."""
        with session_scope(self.factory) as session:
            stop = session.get_one(Stop, stop_id)
            order = session.get_one(Order, stop.order_id)
            arrived = stop.arrived_at or now
            on_time = order.window_start_at <= arrived <= order.window_end_at
            order_id, customer_id = order.id, order.customer_id
        rng = self.rng
        if rng.random() < self.habits.rate:
            score = int(_pick(rng, ON_TIME_SCORES if on_time else LATE_SCORES))  # type: ignore[call-overload]
            later = now + timedelta(minutes=rng.uniform(10, 360))
            self.agenda.at(later, lambda t: self._rate(order_id, customer_id, score, t))
        if rng.random() < self.habits.nps:
            score = rng.choice((8, 9, 9, 10, 10, 7, 6)) if on_time else rng.randrange(0, 9)
            answers = rng.random() < self.habits.nps_answer
            asked = now + timedelta(minutes=rng.uniform(60, 24 * 60))
            self.agenda.at(asked, lambda t: self._nps(order_id, customer_id, score, answers, t))
        if rng.random() < self.habits.returns:
            reason = ReturnReason(str(_pick(rng, RETURN_REASONS)))
            later = now + timedelta(hours=rng.uniform(*self.habits.return_after_h))
            self.agenda.at(later, lambda t: self._return(order_id, customer_id, reason, t))
        if rng.random() < self.habits.callback:
            later = now + timedelta(minutes=rng.uniform(20, 300))
            self.agenda.at(later, lambda t: self._callback(customer_id, t))

    def _guarded(self, what: str, work: object) -> bool:
        try:
            with session_scope(self.factory) as session:
                work(session)  # type: ignore[operator]
        except DomainError as exc:  # not due, answered already: the customer moves on
            log.info("simulated %s refused: %s", what, exc)
            self.tally.refused += 1
            return False
        return True

    def _rate(self, order_id: int, customer_id: int, score: int, now: datetime) -> None:
        opened: list[int] = []

        def work(session: Session) -> None:
            rated = quality.rate_delivery(
                session,
                order_id=order_id,
                customer_id=customer_id,
                score=score,
                comment=None if score > 2 else "The courier came late.",
                now=now,
            )
            if rated.case is not None:
                opened.append(rated.case.id)

        if self._guarded("rating", work):
            self.tally.ratings += 1
            self._support_answers(opened, now)

    def _nps(
        self, order_id: int, customer_id: int, score: int, answers: bool, now: datetime
    ) -> None:
        def ask(session: Session) -> None:
            quality.ask_nps(session, customer_id=customer_id, now=now, order_id=order_id)

        if not self._guarded("NPS question", ask) or not answers:
            return
        later = now + timedelta(minutes=self.rng.uniform(5, 180))
        self.agenda.at(later, lambda t: self._nps_answer(order_id, customer_id, score, t))

    def _nps_answer(self, order_id: int, customer_id: int, score: int, now: datetime) -> None:
        opened: list[int] = []

        def work(session: Session) -> None:
            answer = quality.answer_nps(
                session,
                customer_id=customer_id,
                score=score,
                why=None,
                now=now,
                order_id=order_id,
            )
            case = session.scalar(
                select(SupportCase.id).where(SupportCase.nps_answer_id == answer.id)
            )
            if case is not None:
                opened.append(case)

        if self._guarded("NPS answer", work):
            self.tally.nps_answers += 1
            self._support_answers(opened, now)

    def _support_answers(self, case_ids: list[int], now: datetime) -> None:
        for case_id in case_ids:
            if self.rng.random() >= self.habits.answer_case:
                continue
            later = now + timedelta(minutes=self.rng.uniform(30, 8 * 60))
            self.agenda.at(later, partial(self._answer_case, case_id))

    def _answer_case(
        self,
        case_id: int,
        now: datetime,
        text: str = "We are sorry about this delivery; we have spoken to the courier's team.",
    ) -> None:
        def work(session: Session) -> None:
            quality.answer_case(
                session,
                case_id=case_id,
                text=text,
                user_id=self.world.staff_user_id,
                now=now,
            )

        if self._guarded("support answer", work):
            self.tally.cases_answered += 1

    def _callback(self, customer_id: int, now: datetime) -> None:
        """Book one of the next free slots; support calls back as its habits say."""
        booked: list[tuple[int, datetime]] = []
        rng = self.rng

        def work(session: Session) -> None:
            free = [s for s in help_services.callback_slots(session, now=now) if s.free][:8]
            if not free:
                return
            slot = rng.choice(free)
            requested = help_services.request_callback(
                session,
                slot=slot.start_at,
                phone=session.get_one(Customer, customer_id).phone or "",
                now=now,
                customer_id=customer_id,
            )
            booked.append((requested.case.id, slot.start_at))

        if not self._guarded("callback", work) or not booked:
            return
        self.tally.callbacks += 1
        case_id, slot_start = booked[0]
        chance = rng.random()
        if chance < self.habits.callback_in_slot:
            called = slot_start + timedelta(minutes=rng.uniform(1, 28))
        elif chance < self.habits.callback_in_slot + self.habits.callback_late:
            called = slot_start + timedelta(minutes=rng.uniform(35, 180))
        else:
            return  # nobody called: the help page's reminder goes to support
        self.agenda.at(
            called,
            partial(self._answer_case, case_id, text="Called back; we agreed what happens next."),
        )

    def _return(self, order_id: int, customer_id: int, reason: ReturnReason, now: datetime) -> None:
        started: list[ReturnCase] = []

        def work(session: Session) -> None:
            order = session.get_one(Order, order_id)
            line = order.items[0]
            case = return_services.start_return(
                session,
                customer_id=customer_id,
                order_id=order_id,
                items=[return_services.Wanted(order_item_id=line.id, quantity=1)],
                reason=reason,
                resolution=Resolution.REFUND,
                key=f"sim-return-{order_id}",
                now=now,
                description="Simulated return.",
            )
            started.append(case)

        if not self._guarded("return", work):
            return
        self.tally.returns += 1
        case = started[0]
        if case.rule != Rule.STANDARD or case.status != Outcome.UNDER_REVIEW:
            return
        low, high = self.habits.decide_hours
        if self.rng.random() < self.habits.decide_late_share:
            low, high = 48.0, 72.0  # the agent was swamped: past the promise
        later = now + timedelta(hours=self.rng.uniform(low, high))
        approve = self.rng.random() < 0.9
        self.agenda.at(later, lambda t: self._decide(case.id, approve, t))

    def _decide(self, case_id: int, approve: bool, now: datetime) -> None:
        def work(session: Session) -> None:
            review.override(
                session,
                case_id=case_id,
                outcome=Outcome.APPROVED if approve else Outcome.DECLINED,
                reason=(
                    "The photos and the description match what you told us."
                    if approve
                    else "The item shows signs of use beyond trying it on."
                ),
                user_id=self.world.staff_user_id,
                now=now,
            )

        if self._guarded("return decision", work):
            self.tally.returns_decided += 1
