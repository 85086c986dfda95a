"""A callback slot's last place, asked for by two customers at the same instant: one gets it,
the other is told the slot is full, and the slot never holds more than it takes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.customers.models import Customer
from app.db import session_scope
from app.errors import Conflict
from app.help import services as help_services
from app.help.models import CallbackRequest

NOW = datetime(2030, 3, 1, 9, tzinfo=UTC)  # 12:00 in Moscow
RULES = help_services.HelpRules(slot_capacity=1)
SLOT = datetime(2030, 3, 1, 15, 30, tzinfo=UTC)  # 18:30 in Moscow


@pytest.mark.concurrency
def test_two_customers_take_a_slots_last_place_at_once_and_one_gets_it(
    committed_factory: sessionmaker[Session], clock: Callable[..., None]
) -> None:
    clock(NOW)
    with session_scope(committed_factory) as s:
        people = [Customer(name=f"Caller {i}", phone=f"+7 900 000-00-0{i}") for i in (1, 2)]
        s.add_all(people)
        s.flush()
        ids = [c.id for c in people]
    start = threading.Barrier(2)
    booked: list[int] = []
    refused: list[BaseException] = []

    def book(customer_id: int) -> None:
        start.wait()
        try:
            with session_scope(committed_factory) as s:
                help_services.request_callback(
                    s,
                    slot=SLOT,
                    phone="+7 900 000-00-00",
                    now=NOW,
                    customer_id=customer_id,
                    rules=RULES,
                )
            booked.append(customer_id)
        except (Conflict, OperationalError) as exc:  # SQLite: a stale read may not write
            refused.append(exc)

    threads = [threading.Thread(target=book, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    with session_scope(committed_factory) as s:
        taken = s.scalar(select(func.count(CallbackRequest.id)))
    assert taken == 1
    assert len(booked) == 1
    assert len(refused) == 1
    if committed_factory.kw["bind"].dialect.name == "postgresql":
        assert isinstance(refused[0], Conflict)  # waited for the first, then saw it full
