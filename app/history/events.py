"""The timeline's vocabulary: what kinds of event a customer's history holds, and its shapes.

Every layer uses these names: the service fills them, the pages filter by them (their words
are in app.web.words.HISTORY_KIND_NAMES), the tests check them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.messages import Message, say


class EventKind(StrEnum):
    ORDER_PLACED = "order_placed"  # an order was placed (for its delivery day)
    DELIVERY = "delivery"  # a stop ended: delivered, failed (and why), collected, exchanged
    NOTIFICATION = "notification"  # what we told the customer, and how sending went
    RETURN = "return"  # a line of a return case's own timeline
    POINTS = "points"  # a ledger entry, with its reason
    RATING = "rating"  # the customer rated a delivery
    NPS = "nps"  # the customer answered "would you recommend us"
    SUPPORT_CASE = "support_case"  # a case opened, or support answered it
    CALLBACK = "callback"  # the customer asked to be called back, or was
    STAFF_NOTE = "staff_note"  # what support wrote down (staff-only)


KINDS: tuple[str, ...] = tuple(k.value for k in EventKind)
STAFF_ONLY_KINDS = frozenset({EventKind.STAFF_NOTE.value})


class Audience(StrEnum):
    STAFF = "staff"  # support: everything, with staff-only details
    CUSTOMER = "customer"  # the customer's own version: no staff notes, no internal details


# Why a stop could not be completed (app.planning.enums.FailureReason), for the history.
FAILURE_WORDS: dict[str, Message] = {
    "not_home": say("nobody was home"),
    "wrong_address": say("the address was wrong"),
    "refused": say("the delivery was refused"),
    "damaged": say("the goods were damaged"),
    "other": say("something else went wrong"),
}


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One thing that happened, as a line of the history.

    ``title`` and ``text`` are a domain's words (a Message, rendered in the reader's
    language) or text a person wrote (shown as it is). ``staff_detail`` is for support only
    (a courier's note, how a message was sent); it is None in the customer's version.
    ``order_id``, ``return_case_id`` and ``support_case_id`` are what the line links to.
    """

    at: datetime
    kind: str
    title: str
    text: str | None = None
    staff_detail: str | None = None
    order_id: int | None = None
    order_number: str | None = None
    return_case_id: int | None = None
    support_case_id: int | None = None
    points: int | None = None
    score: int | None = None
    outcome: str | None = None
    # A support case or callback still open: when we promised to answer (staff's version).
    respond_by: datetime | None = None
    staff_only: bool = False
    # Which record the line comes from ("stop", "ledger", ...) and its id: stable and unique.
    source: str = ""
    source_id: int = 0


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """One page of a customer's history, newest first, and how much there is in all."""

    events: tuple[TimelineEvent, ...]
    total: int
    pages: int
    page: int
    per_page: int
    kinds: frozenset[str]

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages
