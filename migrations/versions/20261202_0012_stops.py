"""stops: planning owns the stop; plan versions place it; what happened is recorded on it

Every order a plan mentions gets its delivery stop (where, window and load from the order);
what couriers reported moves from the visit rows onto the stop (the latest completed report,
else the latest arrival); visits, not-planned rows and changes point at stops instead of
orders. A failure reported before couriers gave reasons is recorded as 'other'. Reason codes
outside routing's vocabulary (there should be none) become WINDOW_UNREACHABLE, keeping their
message.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = (
    "NO_OPEN_ROUTE",
    "NO_VEHICLE_WITH_SKILL",
    "CAPACITY",
    "WINDOW_UNREACHABLE",
    "SHIFT_TOO_SHORT",
    "BREAK_CONFLICT",
    "NOT_PLANNED_IN_TIME",
)
LOAD = (
    "COALESCE((SELECT SUM(oi.quantity * p.load_units) FROM order_items oi "
    "JOIN products p ON p.id = oi.product_id WHERE oi.order_id = o.id), 0)"
)
# The visit whose report the stop keeps: a completed one first, then the newest.
BEST_VISIT = (
    "(SELECT v.id FROM plan_visits v WHERE v.order_id = stops.order_id "
    "AND (v.arrived_at IS NOT NULL OR v.completed_at IS NOT NULL) "
    "ORDER BY CASE WHEN v.completed_at IS NULL THEN 0 ELSE 1 END DESC, v.id DESC LIMIT 1)"
)


def upgrade() -> None:
    op.create_table(
        "stops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("delivery_day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("window_start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery_units", sa.Integer(), nullable=False),
        sa.Column("pickup_units", sa.Integer(), server_default="0", nullable=False),
        sa.Column("service_s", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("failure_reason", sa.String(length=20), nullable=True),
        sa.Column("failure_note", sa.String(length=500), nullable=True),
        sa.Column("recipient_name", sa.String(length=120), nullable=True),
        sa.Column("reported_by_courier_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(outcome = 'failed') = (failure_reason IS NOT NULL)",
            name=op.f("ck_stops_failure_has_reason"),
        ),
        sa.CheckConstraint(
            "(outcome IS NULL) = (completed_at IS NULL)",
            name=op.f("ck_stops_completed_has_outcome"),
        ),
        sa.CheckConstraint(
            "delivery_units >= 0 AND pickup_units >= 0", name=op.f("ck_stops_units_not_negative")
        ),
        sa.CheckConstraint(
            "failure_reason IS NULL OR failure_reason IN "
            "('not_home', 'wrong_address', 'refused', 'damaged', 'other')",
            name=op.f("ck_stops_failure_reason_known"),
        ),
        sa.CheckConstraint(
            "kind IN ('delivery', 'pickup', 'exchange')", name=op.f("ck_stops_kind_known")
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('delivered', 'failed', 'collected', 'exchanged')",
            name=op.f("ck_stops_outcome_known"),
        ),
        sa.ForeignKeyConstraint(["depot_id"], ["depots.id"], name=op.f("fk_stops_depot_id_depots")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_stops_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["reported_by_courier_id"],
            ["couriers.id"],
            name=op.f("fk_stops_reported_by_courier_id_couriers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stops")),
        sa.UniqueConstraint(
            "order_id", "delivery_day", "kind", name=op.f("uq_stops_order_id_delivery_day_kind")
        ),
    )
    with op.batch_alter_table("stops", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stops_depot_id"), ["depot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stops_order_id"), ["order_id"], unique=False)

    # Each order a plan mentions, as its delivery stop; then the courier's report on it.
    op.execute(
        "INSERT INTO stops (depot_id, delivery_day, kind, order_id, lat, lon, window_start_at, "
        "window_end_at, delivery_units, pickup_units, service_s, created_at) "
        f"SELECT o.depot_id, o.delivery_day, 'delivery', o.id, a.lat, a.lon, o.window_start_at, "
        f"o.window_end_at, {LOAD}, 0, 240 + 20 * {LOAD}, o.created_at "
        "FROM orders o JOIN addresses a ON a.id = o.address_id WHERE o.id IN ("
        "SELECT order_id FROM plan_visits UNION SELECT order_id FROM plan_unassigned "
        "UNION SELECT order_id FROM plan_changes)"
    )
    # One statement, so each row's checks see its report whole.
    picked = {
        column: f"(SELECT {column} FROM plan_visits WHERE id = {BEST_VISIT})"
        for column in ("arrived_at", "completed_at", "outcome")
    }
    op.execute(
        f"UPDATE stops SET arrived_at = {picked['arrived_at']}, "
        f"completed_at = {picked['completed_at']}, outcome = {picked['outcome']}, "
        f"failure_reason = CASE WHEN {picked['outcome']} = 'failed' THEN 'other' END"
    )
    op.execute(
        "UPDATE plan_unassigned SET reason_code = 'WINDOW_UNREACHABLE' "
        f"WHERE reason_code NOT IN {REASONS!r}"
    )

    for table in ("plan_visits", "plan_unassigned", "plan_changes"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("stop_id", sa.Integer(), nullable=True))
        op.execute(
            f"UPDATE {table} SET stop_id = (SELECT s.id FROM stops s WHERE "
            f"s.order_id = {table}.order_id AND s.kind = 'delivery')"
        )

    with op.batch_alter_table("plan_visits", schema=None) as batch_op:
        batch_op.alter_column("stop_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(op.f("ck_plan_visits_completed_has_outcome"), type_="check")
        batch_op.drop_constraint(op.f("ck_plan_visits_outcome_known"), type_="check")
        batch_op.drop_index(batch_op.f("ix_plan_visits_order_id"))
        batch_op.drop_constraint(batch_op.f("fk_plan_visits_order_id_orders"), type_="foreignkey")
        batch_op.drop_column("order_id")
        batch_op.drop_column("arrived_at")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("outcome")
        batch_op.create_index(batch_op.f("ix_plan_visits_stop_id"), ["stop_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_plan_visits_route_id_stop_id"), ["route_id", "stop_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_plan_visits_stop_id_stops"), "stops", ["stop_id"], ["id"]
        )

    with op.batch_alter_table("plan_unassigned", schema=None) as batch_op:
        batch_op.alter_column("stop_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(
            batch_op.f("fk_plan_unassigned_order_id_orders"), type_="foreignkey"
        )
        batch_op.drop_column("order_id")
        batch_op.create_index(batch_op.f("ix_plan_unassigned_stop_id"), ["stop_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_plan_unassigned_stop_id_stops"), "stops", ["stop_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_plan_unassigned_reason_known"), f"reason_code IN {REASONS!r}"
        )

    with op.batch_alter_table("plan_changes", schema=None) as batch_op:
        batch_op.alter_column("stop_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(batch_op.f("fk_plan_changes_order_id_orders"), type_="foreignkey")
        batch_op.drop_column("order_id")
        batch_op.create_index(batch_op.f("ix_plan_changes_stop_id"), ["stop_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_plan_changes_stop_id_stops"), "stops", ["stop_id"], ["id"]
        )


def downgrade() -> None:
    for table in ("plan_visits", "plan_unassigned", "plan_changes"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("order_id", sa.Integer(), nullable=True))
        op.execute(
            f"UPDATE {table} SET order_id = (SELECT s.order_id FROM stops s "
            f"WHERE s.id = {table}.stop_id)"
        )

    with op.batch_alter_table("plan_visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=10), nullable=True))
    # The report goes back onto every visit of its stop; outcomes the old schema lacks
    # (collected, exchanged) are delivered.
    for column, value in (
        ("arrived_at", "s.arrived_at"),
        ("completed_at", "s.completed_at"),
        (
            "outcome",
            "CASE WHEN s.outcome IN ('collected', 'exchanged') THEN 'delivered' ELSE s.outcome END",
        ),
    ):
        op.execute(
            f"UPDATE plan_visits SET {column} = (SELECT {value} FROM stops s "
            "WHERE s.id = plan_visits.stop_id)"
        )

    with op.batch_alter_table("plan_changes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_plan_changes_stop_id_stops"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_plan_changes_stop_id"))
        batch_op.drop_column("stop_id")
        batch_op.alter_column("order_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_plan_changes_order_id_orders"), "orders", ["order_id"], ["id"]
        )

    with op.batch_alter_table("plan_unassigned", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plan_unassigned_reason_known"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_plan_unassigned_stop_id_stops"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_plan_unassigned_stop_id"))
        batch_op.drop_column("stop_id")
        batch_op.alter_column("order_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_plan_unassigned_order_id_orders"), "orders", ["order_id"], ["id"]
        )

    with op.batch_alter_table("plan_visits", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_plan_visits_stop_id_stops"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_plan_visits_route_id_stop_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_plan_visits_stop_id"))
        batch_op.drop_column("stop_id")
        batch_op.alter_column("order_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_plan_visits_order_id_orders"), "orders", ["order_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_plan_visits_order_id"), ["order_id"], unique=False)
        batch_op.create_check_constraint(
            op.f("ck_plan_visits_outcome_known"),
            "outcome IS NULL OR outcome IN ('delivered', 'failed')",
        )
        batch_op.create_check_constraint(
            op.f("ck_plan_visits_completed_has_outcome"),
            "(outcome IS NULL) = (completed_at IS NULL)",
        )

    with op.batch_alter_table("stops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stops_order_id"))
        batch_op.drop_index(batch_op.f("ix_stops_depot_id"))
    op.drop_table("stops")
