"""Planning's vocabulary: what a run, a stop and a stop's outcome can be.

Why a stop is left off a route has one vocabulary, routing's (``routing.plan.Reason``): the
solver, late insertion, the promise engine and the stored plan all use its names.
"""

from __future__ import annotations

from enum import StrEnum

from routing.model import StopKind
from routing.plan import Reason

__all__ = [
    "CHANGE_KINDS",
    "EVENT_KINDS",
    "FAILURE_REASONS",
    "PLAN_STATUSES",
    "REASONS",
    "STOP_KINDS",
    "STOP_OUTCOMES",
    "ChangeKind",
    "EventKind",
    "FailureReason",
    "PlanStatus",
    "Reason",
    "StopKind",
    "StopOutcome",
]


class PlanStatus(StrEnum):
    SOLVING = "solving"
    READY = "ready"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StopOutcome(StrEnum):
    """How a stop ended, as its courier reported it."""

    DELIVERED = "delivered"
    FAILED = "failed"  # with a FailureReason
    COLLECTED = "collected"  # a return pickup: the items are on board
    EXCHANGED = "exchanged"  # new goods handed over, the old ones collected


class FailureReason(StrEnum):
    """Why a courier could not complete a stop (the list the courier picks from)."""

    NOT_HOME = "not_home"
    WRONG_ADDRESS = "wrong_address"
    REFUSED = "refused"
    DAMAGED = "damaged"
    OTHER = "other"  # with the courier's own words


class EventKind(StrEnum):
    """What a courier reports of a stop from the phone."""

    ARRIVED = "arrived"
    DELIVERED = "delivered"
    FAILED = "failed"


class ChangeKind(StrEnum):
    INSERT = "insert"  # a late order placed into the plan by cheapest feasible insertion
    MOVE = "move"  # a dispatcher moved a stop by hand
    WITHDRAW = "withdraw"  # taken off the plan: its order is held (a blocked lot)


PLAN_STATUSES = tuple(s.value for s in PlanStatus)
STOP_KINDS = tuple(k.value for k in StopKind)
STOP_OUTCOMES = tuple(o.value for o in StopOutcome)
FAILURE_REASONS = tuple(r.value for r in FailureReason)
CHANGE_KINDS = tuple(k.value for k in ChangeKind)
EVENT_KINDS = tuple(k.value for k in EventKind)
REASONS = tuple(r.value for r in Reason)
