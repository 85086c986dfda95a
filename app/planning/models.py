from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow
from app.fleet.models import Courier, Shift, Vehicle
from app.messages import SaidText
from app.orders.models import Order
from app.planning.enums import (
    CHANGE_KINDS,
    EVENT_KINDS,
    FAILURE_REASONS,
    PLAN_STATUSES,
    REASONS,
    STOP_KINDS,
    STOP_OUTCOMES,
    PlanStatus,
)


class Stop(Base):
    """A piece of work at one place on one day, for the life of that work.

    Planning owns it: plan versions place it on routes (``PlanVisit``) but do not own it, so
    its id stays the same through late insertions, a dispatcher's moves and re-plans, and a
    courier's report queued offline still finds it. Where, when and how much come from its
    source (an order today, a return case later) and are refreshed from it until the courier
    starts it; what happened there (the execution facts) is recorded here once.
    """

    __tablename__ = "stops"
    __table_args__ = (
        # One delivery of an order a day; a return's stops are counted by their case.
        Index(
            "uq_stops_order_day_kind",
            "order_id",
            "delivery_day",
            "kind",
            unique=True,
            sqlite_where=text("return_case_id IS NULL"),
            postgresql_where=text("return_case_id IS NULL"),
        ),
        UniqueConstraint("return_case_id", "delivery_day"),
        CheckConstraint("return_case_id IS NULL OR order_id IS NOT NULL", name="return_has_order"),
        CheckConstraint(f"kind IN {STOP_KINDS!r}", name="kind_known"),
        CheckConstraint(f"outcome IS NULL OR outcome IN {STOP_OUTCOMES!r}", name="outcome_known"),
        CheckConstraint("(outcome IS NULL) = (completed_at IS NULL)", name="completed_has_outcome"),
        CheckConstraint(
            f"failure_reason IS NULL OR failure_reason IN {FAILURE_REASONS!r}",
            name="failure_reason_known",
        ),
        CheckConstraint(
            "(outcome = 'failed') = (failure_reason IS NOT NULL)", name="failure_has_reason"
        ),
        CheckConstraint("delivery_units >= 0 AND pickup_units >= 0", name="units_not_negative"),
        CheckConstraint(
            "(told_at IS NULL) = (told_start_at IS NULL) "
            "AND (told_at IS NULL) = (told_end_at IS NULL)",
            name="told_window_whole",
        ),
        # The dashboard's weekly figures read a depot's stops by day.
        Index("ix_stops_depot_day", "depot_id", "delivery_day"),
        # "Was it the order's first attempt?": one probe per stop (the dashboard).
        Index(
            "ix_stops_attempts",
            "order_id",
            "delivery_day",
            sqlite_where=text("kind = 'delivery' AND outcome IS NOT NULL"),
            postgresql_where=text("kind = 'delivery' AND outcome IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    delivery_day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    # The source of the work: an order, or a return case of an order (collect it, and for an
    # exchange bring the new one too). The order says who and where in both cases.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    return_case_id: Mapped[int | None] = mapped_column(ForeignKey("return_cases.id"), index=True)
    # What a return stop hands over and takes back, as the case put it: planning shows it
    # without reading the returns package. [{"name", "quantity", "collect": bool}]
    goods: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The work is no longer wanted (its return was declined): it is planned no more.
    called_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivery_units: Mapped[int]  # to hand over
    pickup_units: Mapped[int] = mapped_column(default=0, server_default="0")  # to collect
    service_s: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The window we last told the customer when we warned them it would be late: from then on
    # that is what they wait for, and what the dashboard's on-time figure measures against.
    told_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    told_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What happened, as the courier reported it; times are the courier's own.
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(10))
    failure_reason: Mapped[str | None] = mapped_column(String(20))
    failure_note: Mapped[str | None] = mapped_column(String(500))
    recipient_name: Mapped[str | None] = mapped_column(String(120))
    reported_by_courier_id: Mapped[int | None] = mapped_column(ForeignKey("couriers.id"))
    # Proof of delivery: a photo under the uploads folder (app.media).
    proof_photo: Mapped[str | None] = mapped_column(String(255))

    # Stops are read in hundreds (a day, a plan): their orders come in one query with them.
    order: Mapped[Order | None] = relationship(lazy="selectin")

    @property
    def reported(self) -> bool:
        return self.arrived_at is not None or self.completed_at is not None

    @property
    def done(self) -> bool:
        return self.completed_at is not None

    @property
    def label(self) -> str:
        """What people call the stop: its order's number (a return's carries its case)."""
        if self.order is None:
            return f"#{self.id}"
        if self.return_case_id is not None:
            return f"{self.order.number}/R{self.return_case_id}"
        return self.order.number


class Plan(Base):
    """One planning run for a depot and day; versions count up, one may be published."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("depot_id", "delivery_day", "version"),
        CheckConstraint(f"status IN {PLAN_STATUSES!r}", name="status_known"),
        # At most one run of a depot and day solves at a time: two dispatchers pressing "Plan
        # this day" together get one run (the other is refused and shown it), never two
        # searches racing for the same version number.
        Index(
            "uq_plans_one_solving_run",
            "depot_id",
            "delivery_day",
            unique=True,
            sqlite_where=text("status = 'solving'"),
            postgresql_where=text("status = 'solving'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    delivery_day: Mapped[date] = mapped_column(Date)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default=PlanStatus.SOLVING)
    engine: Mapped[str | None] = mapped_column(String(10))
    time_limit_s: Mapped[float] = mapped_column(Float)
    distance_m: Mapped[int | None]
    stops_assigned: Mapped[int | None]
    stops_unassigned: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(SaidText())
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Counts every edit after solving (late insertion, a dispatcher's move): caches of the
    # promise engine are keyed on it.
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    # The published plan a re-plan started from; its started and finished stops stay fixed.
    replanned_from_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    # The lease of a run while it solves: its worker renews it every few seconds; a run
    # whose lease ran out lost its worker (the process died) and is marked failed by the
    # next sweep (services.expire_abandoned). ``worker`` names the process and thread.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    worker: Mapped[str | None] = mapped_column(String(100))
    # How the search is doing, written by its worker about once a second so that any web
    # process shows the same progress bar ("3 better plans found, 4.2 % shorter"). Engine
    # objectives are large integers (metres times a penalty scale).
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a worker took it up
    search_improvements: Mapped[int | None]
    search_first_objective: Mapped[int | None] = mapped_column(BigInteger)
    search_best_objective: Mapped[int | None] = mapped_column(BigInteger)
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    routes: Mapped[list[PlanRoute]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanRoute.id"
    )
    unassigned: Mapped[list[PlanUnassigned]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanUnassigned.id"
    )


class PlanRoute(Base):
    __tablename__ = "plan_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"))
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"))
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    distance_m: Mapped[int]
    load_start: Mapped[list[int]] = mapped_column(JSON)
    # The shift's break as this version places it.
    break_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    break_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    plan: Mapped[Plan] = relationship(back_populates="routes")
    shift: Mapped[Shift] = relationship()
    courier: Mapped[Courier] = relationship()
    vehicle: Mapped[Vehicle] = relationship()
    # Routes are read with their visits: one query for all of them, not one per route. (A
    # plan's routes stay lazy: the promise engine looks plans up a hundred times a second.)
    visits: Mapped[list[PlanVisit]] = relationship(
        back_populates="route",
        cascade="all, delete-orphan",
        order_by="PlanVisit.sequence",
        lazy="selectin",
    )

    @property
    def under_way(self) -> bool:
        """The courier has reported a stop: the route left the depot and takes nothing new."""
        return any(v.reported for v in self.visits)


class PlanVisit(Base):
    """A stop placed on a route by one plan version, with the times that version planned."""

    __tablename__ = "plan_visits"
    __table_args__ = (
        UniqueConstraint("route_id", "sequence"),
        UniqueConstraint("route_id", "stop_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(
        ForeignKey("plan_routes.id", ondelete="CASCADE"), index=True
    )
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"), index=True)
    sequence: Mapped[int]
    arrival_at: Mapped[datetime] = mapped_column(UTCDateTime())
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    departure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    load_after: Mapped[list[int]] = mapped_column(JSON)

    route: Mapped[PlanRoute] = relationship(back_populates="visits")
    stop: Mapped[Stop] = relationship(lazy="selectin")

    @property
    def reported(self) -> bool:
        """The courier reported this stop (D5): it, and every visit before it, is fixed."""
        return self.stop.reported


class PlanUnassigned(Base):
    """A stop a plan version left off every route, and why (routing's reason names)."""

    __tablename__ = "plan_unassigned"
    __table_args__ = (CheckConstraint(f"reason_code IN {REASONS!r}", name="reason_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"), index=True)
    reason_code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(SaidText())

    plan: Mapped[Plan] = relationship(back_populates="unassigned")
    stop: Mapped[Stop] = relationship(lazy="selectin")


class PlanChange(Base):
    """Every edit of a plan after solving, with the checker's verdict and any override."""

    __tablename__ = "plan_changes"
    __table_args__ = (
        CheckConstraint(f"kind IN {CHANGE_KINDS!r}", name="kind_known"),
        CheckConstraint(
            "violations = '[]' OR override_reason IS NOT NULL", name="violations_need_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"), index=True)
    summary: Mapped[str] = mapped_column(SaidText())
    violations: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of messages
    override_reason: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    stop: Mapped[Stop] = relationship()


class StopEvent(Base):
    """What a courier's phone said of a stop, applied once: ``client_event_id`` is the
    phone's id for the action, so a retry after a lost answer finds this row and gets the
    first answer again. ``courier_at`` is when the courier acted (their clock), which is
    what the stop records; ``received_at`` is when the server heard of it."""

    __tablename__ = "stop_events"
    __table_args__ = (CheckConstraint(f"kind IN {EVENT_KINDS!r}", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"), index=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    courier_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the event as sent
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # the first answer, given again
